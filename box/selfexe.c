// SPDX-License-Identifier: MIT
/*
 * dune-box: what the program sees of itself in /proc beyond readlink and
 * open of its exe link (proc.c): stat and access of the link, and its
 * thread name.
 *
 * stat, newfstatat and statx that follow the link, and access,
 * faccessat and faccessat2 (which follow it unless told not to), are
 * given the program's path instead: natively they describe the
 * program's file, here the link leads to dune-box.  lstat and
 * AT_SYMLINK_NOFOLLOW describe the link itself, which is what Linux
 * answers anyway (the same kind of link in the same /proc directory).
 *
 * The thread name (/proc/self/comm, ps): execve sets it to the last
 * component of the path the program was started with, truncated to 15
 * bytes; here it is dune-box's until the monitor sets it the same way
 * before the program starts.  Threads made later inherit it, as
 * natively.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "monitor-int.h"
#include "proc.h"

/* Index of the path argument, if this call follows a link there. */
static int follows(const struct box_ctx *c)
{
	switch (c->nr) {
	case SYS_stat:
	case SYS_access:
		return 0;
	case SYS_faccessat:
		return 1;
	case SYS_newfstatat:
	case SYS_faccessat2:
		return c->a[3] & AT_SYMLINK_NOFOLLOW ? -1 : 1;
	case SYS_statx:
		return c->a[2] & AT_SYMLINK_NOFOLLOW ? -1 : 1;
	}
	return -1;
}

void box_proc_self_path_arg(struct box_ctx *c)
{
	int i = follows(c);

	if (i < 0 || !box_proc_exe[0])
		return;
	/* the copied path (check_args), absolute or from the cwd */
	if (i == 1 && (int)c->a[0] != AT_FDCWD && c->path[0][0] != '/')
		return;
	if (box_proc_is_self_exe(c->path[0]))
		c->x[i] = (uint64_t)box_proc_exe;
}

void box_proc_set_comm(const char *execfn)
{
	const char *base = strrchr(execfn, '/');
	char name[16];

	base = base ? base + 1 : execfn;
	/* PR_SET_NAME copies 16 bytes: a shorter name is padded here */
	memset(name, 0, sizeof(name));
	strncpy(name, base, sizeof(name) - 1);
	prctl(PR_SET_NAME, name, 0, 0, 0);
}
