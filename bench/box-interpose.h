/* SPDX-License-Identifier: MIT */
/*
 * What the benchmark's interposers (box-ptrace.c, box-unotify.c) share:
 * which argument of a system call is a path, which they read from the
 * traced process before deciding, as a policy interposer must (strace
 * reads them too, to print them).
 */
#ifndef BOX_INTERPOSE_H
#define BOX_INTERPOSE_H

#include <sys/syscall.h>

/* The index of @nr's path argument, or -1. */
static inline int box_path_arg(long nr)
{
	switch (nr) {
	case SYS_open: case SYS_stat: case SYS_lstat: case SYS_access:
	case SYS_execve: case SYS_readlink: case SYS_unlink: case SYS_mkdir:
	case SYS_rmdir: case SYS_chdir: case SYS_creat: case SYS_truncate:
	case SYS_chmod: case SYS_chown: case SYS_lchown: case SYS_statfs:
	case SYS_rename: case SYS_link: case SYS_symlink: case SYS_utimes:
		return 0;
	case SYS_openat: case SYS_newfstatat: case SYS_faccessat:
	case SYS_faccessat2: case SYS_readlinkat: case SYS_unlinkat:
	case SYS_mkdirat: case SYS_statx: case SYS_fchmodat:
	case SYS_fchownat: case SYS_execveat: case SYS_renameat:
	case SYS_renameat2: case SYS_utimensat: case SYS_openat2:
	case SYS_linkat:
		return 1;
	}
	return -1;
}

#endif
