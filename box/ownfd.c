// SPDX-License-Identifier: MIT
/*
 * dune-box: the monitor's own file descriptors (ownfd.h).  The --log
 * file and an exec's state memfd are the monitor's; /dev/dune and the
 * vCPUs are libdune's.  All sit in the program's fd table, where
 * natively nothing of them exists, so a ring-3 call that names one gets
 * the closed fd's answer before it reaches Linux:
 *
 *  - fd arguments (the table's F entries; a dirfd only when the path is
 *    relative or empty, as the kernel looks at it only then; mmap's fd
 *    only without MAP_ANONYMOUS): EBADF, close included;
 *  - dup2/dup3 onto one (natively a free number): the monitor's fd moves
 *    to another high number first, then the call goes through (libdune
 *    does the same for its own in the host loop, libdune/hostsys.c);
 *  - close_range: the ranges between ours;
 *  - poll/ppoll: a copy of the array where ours read INT_MAX, a number
 *    never open, so the entry comes back POLLNVAL as for a closed fd;
 *    select/pselect6 with one in a set: EBADF; sendmsg passing one with
 *    SCM_RIGHTS: EBADF (the control data is copied first);
 *  - /proc/self/fd/N, /proc/PID/fd/N, /proc/thread-self/fd/N, their
 *    fdinfo and /dev/fd/N paths: ENOENT; an open that reached a monitor
 *    file through a magic link anyway (a symlink to /proc/self/fd/N) is
 *    closed again and gets ENOENT too;
 *  - getdents of a /proc fd directory of this process: our entries are
 *    taken out of the listing.
 *
 * The monitor keeps its fds at high numbers (libdune's dune_fd_move_high)
 * so that the program's fds are numbered as natively.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "monitor-int.h"
#include "ownfd.h"
#include "thread.h"
#include "../libdune/internal.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define MAX_OWN 8

/* fd + 1 (0: a free slot, -1: being filled); the file, to know it
 * when reopened. */
static struct own {
	int fd1;
	int *owner;
	uint64_t dev, ino;
} own[MAX_OWN];

static long sys(long nr, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
		uint64_t e)
{
	return dune_sys6(nr, a, b, c, d, e, 0);
}

static int slot_of(long fd)
{
	int i;

	if (fd < 0 || fd > INT_MAX)
		return -1;
	for (i = 0; i < MAX_OWN; i++)
		if (__atomic_load_n(&own[i].fd1, __ATOMIC_ACQUIRE) == fd + 1)
			return i;
	return -1;
}

int box_fd_high(int fd)
{
	return fd < 0 ? fd : (int)dune_fd_move_high(fd);
}

void box_fd_own(int fd, int *owner)
{
	struct stat st;
	int i;

	if (fd < 0)
		return;
	i = slot_of(fd);
	if (i >= 0) {		/* ours already */
		own[i].owner = owner;
		return;
	}
	if (sys(SYS_fstat, fd, (uint64_t)&st, 0, 0, 0))
		memset(&st, 0, sizeof(st));
	for (i = 0; i < MAX_OWN; i++) {
		int zero = 0;

		/* claimed (-1) while it is filled: threads exec at once */
		if (!__atomic_compare_exchange_n(&own[i].fd1, &zero, -1, false,
						 __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		own[i].owner = owner;
		own[i].dev = st.st_dev;
		own[i].ino = st.st_ino;
		__atomic_store_n(&own[i].fd1, fd + 1, __ATOMIC_RELEASE);
		return;
	}
	/* not expected: a log and an exec per thread at most */
}

void box_fd_disown(int fd)
{
	int i = slot_of(fd);

	if (i >= 0)
		__atomic_store_n(&own[i].fd1, 0, __ATOMIC_RELEASE);
}

bool box_fd_hidden(long fd)
{
	if (fd < 0 || fd > INT_MAX)
		return false;
	return slot_of(fd) >= 0 || fd == dune_proc.dev_fd ||
	       dune_fdguard_has((int)fd);
}

/* The lowest hidden fd at or above @lo, or -1. */
static long next_hidden(long lo)
{
	long best = dune_fdguard_next(lo, DUNE_FDGUARD_MAX - 1), p;
	int i;

	if (dune_proc.dev_fd >= lo && (best < 0 || dune_proc.dev_fd < best))
		best = dune_proc.dev_fd;
	for (i = 0; i < MAX_OWN; i++) {
		p = __atomic_load_n(&own[i].fd1, __ATOMIC_ACQUIRE) - 1;
		if (p >= lo && (best < 0 || p < best))
			best = p;
	}
	return best;
}

/* ---- before the call ---- */

/* The program dup2s onto one of ours: move ours out of the way. */
static long move_away(int fd)
{
	int i = slot_of(fd);
	struct rlimit rl;
	long nfd;

	if (i < 0)
		return 0;	/* libdune's: the host loop moves it */
	/*
	 * At or above RLIMIT_NOFILE (a policy's `limit files` below ours):
	 * not a number the program can dup2 onto, Linux says EBADF.
	 */
	if (sys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (uint64_t)&rl, 0) == 0 &&
	    (uint64_t)fd >= rl.rlim_cur)
		return 0;
	if (!own[i].owner)
		return -EBUSY;
	nfd = sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, dune_fd_own_floor(), 0, 0);
	if (nfd == -EMFILE || nfd == -EINVAL)
		nfd = sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3, 0, 0);
	if (nfd < 0)
		return nfd;
	__atomic_store_n(own[i].owner, (int)nfd, __ATOMIC_RELEASE);
	__atomic_store_n(&own[i].fd1, (int)nfd + 1, __ATOMIC_RELEASE);
	/* the program's dup2 replaces the old number */
	return 0;
}

/* close_range(lo, hi, flags) on the program's fds between ours. */
static long close_range_around(uint64_t lo, uint64_t hi, uint64_t flags)
{
	long p, best, r;
	int i;

	lo &= 0xffffffffu;	/* unsigned int in the kernel ABI */
	hi &= 0xffffffffu;
	if (lo > hi)
		return sys(SYS_close_range, lo, hi, flags, 0, 0);
	for (;;) {
		best = -1;
		for (i = 0; i < MAX_OWN; i++) {
			p = __atomic_load_n(&own[i].fd1, __ATOMIC_ACQUIRE) - 1;
			if (p >= (long)lo && p <= (long)hi &&
			    (best < 0 || p < best))
				best = p;
		}
		if (best < 0)
			return sys(SYS_close_range, lo, hi, flags, 0, 0);
		if (best > (long)lo) {
			r = sys(SYS_close_range, lo, best - 1, flags, 0, 0);
			if (r < 0)
				return r;
		}
		if ((uint64_t)best >= hi)
			return 0;
		lo = best + 1;
	}
}

/* Does the kernel look at the dirfd of arg @i (the path follows it)? */
static bool dirfd_used(const struct box_ctx *c, int i)
{
	const char *path;

	/* inotify_add_watch's fd is no dirfd */
	if (i + 1 >= c->e->nargs || c->e->a[i + 1].ty != BA_PATH ||
	    c->nr == SYS_inotify_add_watch)
		return true;
	path = (const char *)c->x[i + 1];
	return !path || path[0] != '/';
}

/*
 * @path names an fd of this process through /proc or /dev/fd: its
 * number, else -1.
 */
static long proc_fd_number(const char *path)
{
	static const char *const pre[] = { "/proc/self/", "/proc/thread-self/",
					   NULL };
	const char *p = NULL, *end;
	char pid[24];
	long n;
	int i;

	if (!strncmp(path, "/dev/fd/", 8)) {
		p = path + 8;
		goto number;
	}
	for (i = 0; pre[i] && !p; i++)
		if (!strncmp(path, pre[i], strlen(pre[i])))
			p = path + strlen(pre[i]);
	if (!p) {
		snprintf(pid, sizeof(pid), "/proc/%ld/",
			 sys(SYS_getpid, 0, 0, 0, 0, 0));
		if (strncmp(path, pid, strlen(pid)))
			return -1;
		p = path + strlen(pid);
	}
	if (!strncmp(p, "task/", 5)) {
		p += 5;
		strtol(p, (char **)&end, 10);
		if (end == p || *end != '/')
			return -1;
		p = end + 1;
	}
	if (!strncmp(p, "fd/", 3))
		p += 3;
	else if (!strncmp(p, "fdinfo/", 7))
		p += 7;
	else
		return -1;
number:
	if (*p < '0' || *p > '9')
		return -1;
	n = strtol(p, (char **)&end, 10);
	return *end == 0 || *end == '/' ? n : -1;
}

static __thread struct pollfd poll_copy[1024];
static __thread char ctl_copy[4096];

/* poll/ppoll: ours read INT_MAX in a copy (POLLNVAL, as closed). */
static void poll_substitute(struct box_ctx *c)
{
	const struct pollfd *u = (const struct pollfd *)c->a[0];
	uint64_t n = c->a[1], i;
	bool any = false;

	if (n > sizeof(poll_copy) / sizeof(poll_copy[0]))
		return;		/* more than RLIMIT_NOFILE allows natively */
	for (i = 0; i < n; i++) {
		poll_copy[i] = u[i];
		if (box_fd_hidden(poll_copy[i].fd)) {
			poll_copy[i].fd = INT_MAX;
			any = true;
		}
	}
	if (any)
		c->x[0] = (uint64_t)poll_copy;
}

/* select/pselect6: one of ours in a set is EBADF, as a closed fd. */
static bool select_names_ours(const struct box_ctx *c)
{
	long nfds = (int)c->a[0], fd;
	int s;

	for (s = 1; s <= 3; s++) {
		const uint64_t *set = (const uint64_t *)c->a[s];

		if (!set)
			continue;
		for (fd = next_hidden(0); fd >= 0 && fd < nfds;
		     fd = next_hidden(fd + 1))
			if (set[fd / 64] >> (fd % 64) & 1)
				return true;
	}
	return false;
}

/* sendmsg: SCM_RIGHTS naming one of ours is EBADF (scm_fp_copy). */
static bool msg_passes_ours(struct box_ctx *c)
{
	struct msghdr *m = &c->msg;
	struct cmsghdr *h;
	size_t i, n;

	if (!m->msg_control || m->msg_controllen < sizeof(struct cmsghdr))
		return false;
	/* a copy, so that what was checked is what Linux gets */
	if (m->msg_controllen <= sizeof(ctl_copy)) {
		memcpy(ctl_copy, m->msg_control, m->msg_controllen);
		m->msg_control = ctl_copy;
	}
	for (h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
		    h->cmsg_len < CMSG_LEN(0))
			continue;
		n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(fd));
			if (box_fd_hidden(fd))
				return true;
		}
	}
	return false;
}

bool box_fd_call(struct box_ctx *c)
{
	const struct box_sysent *e = c->e;
	int i;

	c->ret = -EBADF;
	switch (c->nr) {
	case SYS_dup2:
	case SYS_dup3:
		if (box_fd_hidden(c->a[0]))
			return true;
		if ((int)c->a[0] == (int)c->a[1])
			return false;
		c->ret = move_away((int)c->a[1]);
		return c->ret != 0;
	case SYS_close_range:
		c->ret = close_range_around(c->a[0], c->a[1], c->a[2]);
		return true;
	case SYS_poll:
	case SYS_ppoll:
		poll_substitute(c);
		return false;
	case SYS_select:
	case SYS_pselect6:
		return select_names_ours(c);
	case SYS_sendmsg:
		if (msg_passes_ours(c))
			return true;
		break;
	case SYS_mmap:
		return !(c->a[3] & MAP_ANONYMOUS) && box_fd_hidden((int)c->a[4]);
	}
	for (i = 0; i < e->nargs; i++) {
		if (e->a[i].ty == BA_FD && box_fd_hidden((int)c->a[i]) &&
		    dirfd_used(c, i))
			return true;
		if (e->a[i].ty == BA_PATH && c->x[i] &&
		    box_fd_hidden(proc_fd_number((const char *)c->x[i]))) {
			c->ret = -ENOENT;
			return true;
		}
	}
	return false;
}

/* ---- after the call ---- */

/* poll: the copy's revents back into the program's array. */
static void poll_copy_back(struct box_ctx *c)
{
	struct pollfd *u = (struct pollfd *)c->a[0];
	uint64_t i, n = c->a[1];

	box_lock_read();
	if (box_mem_owns(box_mon.mem, c->a[0], n * sizeof(*u),
			 PROT_READ | PROT_WRITE))
		for (i = 0; i < n; i++)
			u[i].revents = poll_copy[i].revents;
	box_unlock();
}

/*
 * The file @fd is one of the monitor's, reached through a magic link
 * (/proc/self/fd/N behind a symlink, say).  A file of ours opened by its
 * plain path is the program's right, as natively: only the log has one.
 */
static bool reopened_ours(struct box_ctx *c, long fd)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_NO_MAGICLINKS };
	long dirfd = c->nr == SYS_openat ? (int)c->a[0] : AT_FDCWD;
	const char *path = (const char *)c->x[c->nr == SYS_openat ? 1 : 0];
	struct stat st;
	long r;
	int i;

	if (sys(SYS_fstat, fd, (uint64_t)&st, 0, 0, 0))
		return false;
	for (i = 0; i < MAX_OWN; i++)
		if (__atomic_load_n(&own[i].fd1, __ATOMIC_ACQUIRE) > 0 &&
		    own[i].dev == st.st_dev && own[i].ino == st.st_ino)
			break;
	if (i == MAX_OWN)
		return false;
	r = sys(SYS_openat2, dirfd, (uint64_t)path, (uint64_t)&how,
		sizeof(how), 0);
	if (r >= 0)
		sys(SYS_close, r, 0, 0, 0, 0);
	return r == -ELOOP;
}

/* Is the directory @fd a /proc fd listing of this process? */
static bool lists_our_fds(long fd)
{
	char link[40], target[80];
	long n;

	snprintf(link, sizeof(link), "/proc/self/fd/%ld", fd);
	n = sys(SYS_readlink, (uint64_t)link, (uint64_t)target,
		sizeof(target) - 3, 0, 0);
	if (n <= 0)
		return false;
	target[n] = 0;
	return proc_fd_number(strcat(target, "/0")) == 0;
}

/* Our entries out of a getdents(64) buffer of @len bytes; the new length. */
static long filter_dents(struct box_ctx *c, long len)
{
	char *buf = (char *)c->a[1];
	size_t name_off = c->nr == SYS_getdents64 ? 19 : 18;
	long in = 0, out = 0;

	box_lock_read();
	if (!box_mem_owns(box_mon.mem, c->a[1], len, PROT_READ | PROT_WRITE)) {
		box_unlock();
		return len;
	}
	while (in < len) {
		unsigned short reclen;
		char *end;
		long n;

		memcpy(&reclen, buf + in + 16, sizeof(reclen));
		if (reclen < name_off || reclen > len - in)
			break;
		n = strtol(buf + in + name_off, &end, 10);
		if (end == buf + in + name_off || *end || !box_fd_hidden(n)) {
			if (out != in)
				memmove(buf + out, buf + in, reclen);
			out += reclen;
		}
		in += reclen;
	}
	box_unlock();
	return out;
}

long box_fd_after(struct box_ctx *c, long ret)
{
	switch (c->nr) {
	case SYS_poll:
	case SYS_ppoll:
		if (c->x[0] == (uint64_t)poll_copy && ret >= 0)
			poll_copy_back(c);
		break;
	case SYS_open:
	case SYS_openat:
	case SYS_creat:
		if (ret >= 0 && reopened_ours(c, ret)) {
			sys(SYS_close, ret, 0, 0, 0, 0);
			return -ENOENT;
		}
		break;
	case SYS_getdents:
	case SYS_getdents64:
		if (ret <= 0 || !lists_our_fds((int)c->a[0]))
			break;
		/* all of a batch ours: the next, not an early end */
		while ((ret = filter_dents(c, ret)) == 0)
			if ((ret = sys(c->nr, c->a[0], c->a[1], c->a[2], 0,
				       0)) <= 0)
				break;
		break;
	}
	return ret;
}
