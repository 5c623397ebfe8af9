// SPDX-License-Identifier: MIT
/*
 * libdune's own fds (/dev/dune, the vCPUs, dune-run's stats copy of
 * stderr) are in the program's fd table, but natively they do not exist:
 * a program that probes its fds (fstat or fcntl over 0 .. OPEN_MAX, as
 * Python's subprocess tests and many daemons do) must find them closed.
 * So a call that names one of them as an fd argument fails with EBADF
 * here, before it reaches Linux, exactly as for a closed fd.  /proc/self/fd
 * still lists them (docs/design.md, known limits).
 *
 * Host-loop code: raw system calls and general registers only (raw.h).
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "internal.h"
#include "raw.h"

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

DUNE_NOFPU_BEGIN

/*
 * A child with its own copy of the fd table (CLONE_VM without
 * CLONE_FILES) only needs its vCPU fd; the rest of the guarded set
 * describes the parent's table.
 */
bool dune_fd_protected(const struct dune_thread *t, long fd)
{
	if (fd < 0)
		return false;
	if (fd == t->vcpu_fd)
		return true;
	return !(t->flags & DUNE_THREAD_OWN_FILES) &&
	       (fd == dune_proc.dev_fd || dune_fdguard_has(fd));
}

/* Arguments as the kernel numbers them. */
static uint64_t arg(const struct dune_regs *r, int i)
{
	switch (i) {
	case 0: return r->rdi;
	case 1: return r->rsi;
	case 2: return r->rdx;
	case 3: return r->r10;
	case 4: return r->r8;
	default: return r->r9;
	}
}

#define FD(i) (1u << (i))

/* Which arguments of call @nr are plain fds (a bit per argument). */
static unsigned int fd_args(long nr, const struct dune_regs *r)
{
	switch (nr) {
	case SYS_read: case SYS_write: case SYS_pread64: case SYS_pwrite64:
	case SYS_readv: case SYS_writev: case SYS_preadv: case SYS_pwritev:
	case SYS_preadv2: case SYS_pwritev2: case SYS_lseek: case SYS_fstat:
	case SYS_fcntl: case SYS_ioctl: case SYS_flock: case SYS_fsync:
	case SYS_fdatasync: case SYS_ftruncate: case SYS_getdents:
	case SYS_getdents64: case SYS_fchdir: case SYS_fchmod:
	case SYS_fchown: case SYS_fstatfs: case SYS_fgetxattr:
	case SYS_fsetxattr: case SYS_flistxattr: case SYS_fremovexattr:
	case SYS_fadvise64: case SYS_fallocate: case SYS_sync_file_range:
	case SYS_syncfs: case SYS_readahead: case SYS_dup: case SYS_vmsplice:
	case SYS_accept: case SYS_accept4: case SYS_bind: case SYS_connect:
	case SYS_listen: case SYS_getsockname: case SYS_getpeername:
	case SYS_sendto: case SYS_recvfrom: case SYS_sendmsg:
	case SYS_recvmsg: case SYS_sendmmsg: case SYS_recvmmsg:
	case SYS_shutdown: case SYS_setsockopt: case SYS_getsockopt:
	case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2:
	case SYS_inotify_add_watch: case SYS_inotify_rm_watch:
	case SYS_fanotify_mark: case SYS_timerfd_settime:
	case SYS_timerfd_gettime: case SYS_signalfd: case SYS_signalfd4:
	case SYS_io_uring_enter: case SYS_io_uring_register:
	case SYS_process_madvise:
		return FD(0);
	case SYS_mmap:
		return (arg(r, 3) & MAP_ANONYMOUS) ? 0 : FD(4);
	case SYS_sendfile: case SYS_tee:
		return FD(0) | FD(1);
	case SYS_splice: case SYS_copy_file_range: case SYS_epoll_ctl:
		return FD(0) | FD(2);
	default:
		return 0;
	}
}

/*
 * Calls that take a directory fd with a path: (dirfd, path) argument
 * pairs.  The dirfd only matters for a relative path; utimensat with a
 * NULL path and the AT_EMPTY_PATH calls with "" act on the fd itself.
 */
static int dirfd_args(long nr, int pair[2][2])
{
	switch (nr) {
	case SYS_openat: case SYS_mkdirat: case SYS_mknodat:
	case SYS_fchownat: case SYS_futimesat: case SYS_newfstatat:
	case SYS_unlinkat: case SYS_readlinkat: case SYS_fchmodat:
	case SYS_faccessat: case SYS_faccessat2: case SYS_utimensat:
	case SYS_name_to_handle_at: case SYS_openat2: case SYS_statx:
	case SYS_execveat:
		pair[0][0] = 0, pair[0][1] = 1;
		return 1;
	case SYS_renameat: case SYS_renameat2: case SYS_linkat:
		pair[0][0] = 0, pair[0][1] = 1;
		pair[1][0] = 2, pair[1][1] = 3;
		return 2;
	case SYS_symlinkat:
		pair[0][0] = 1, pair[0][1] = 2;
		return 1;
	default:
		return 0;
	}
}

/* Does the path at @p make the kernel look at its dirfd? */
static bool path_uses_dirfd(uint64_t p)
{
	char c;

	if (!p)
		return true;	/* utimensat(fd, NULL, ...) */
	if (dune_ucopy(&c, (const void *)p, 1))
		return false;	/* the kernel fails with EFAULT first */
	return c != '/';
}

long dune_fd_hidden(struct dune_thread *t, const struct dune_regs *r)
{
	long nr = (long)r->rax;
	unsigned int fds = fd_args(nr, r);
	int pair[2][2], n, i;

	/* The guest's syscall left its return address in rcx. */
	if (r->rcx == (uint64_t)dune_own_syscall_ret)
		return 0;
	for (i = 0; fds; i++, fds >>= 1)
		if ((fds & 1) && dune_fd_protected(t, (int)arg(r, i)))
			return -EBADF;
	n = dirfd_args(nr, pair);
	for (i = 0; i < n; i++)
		if (dune_fd_protected(t, (int)arg(r, pair[i][0])) &&
		    path_uses_dirfd(arg(r, pair[i][1])))
			return -EBADF;
	return 0;
}

DUNE_NOFPU_END
