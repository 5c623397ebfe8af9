// SPDX-License-Identifier: MIT
/*
 * The file descriptors libdune lives on (/dev/dune, each thread's vCPU)
 * sit in the program's fd table, where the program can close them by
 * accident: a child closing "all other fds" before exec, close_range(),
 * dup2() onto an fd it believes free.  The host loop consults this set to
 * refuse or work around that (hostsys.c).  A bitmap, atomically updated:
 * threads create and drop vCPU fds concurrently.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

#define BITS 64
static unsigned long guard[DUNE_FDGUARD_MAX / BITS];

void dune_fdguard_add(int fd)
{
	if (fd >= 0 && fd < DUNE_FDGUARD_MAX)
		__atomic_fetch_or(&guard[fd / BITS], 1ul << (fd % BITS),
				  __ATOMIC_RELAXED);
}

void dune_fdguard_del(int fd)
{
	if (fd >= 0 && fd < DUNE_FDGUARD_MAX)
		__atomic_fetch_and(&guard[fd / BITS], ~(1ul << (fd % BITS)),
				   __ATOMIC_RELAXED);
}

bool dune_fdguard_has(int fd)
{
	if (fd < 0 || fd >= DUNE_FDGUARD_MAX)
		return false;
	return __atomic_load_n(&guard[fd / BITS], __ATOMIC_RELAXED) &
	       (1ul << (fd % BITS));
}

void dune_fdguard_clear(void)
{
	unsigned int i;

	for (i = 0; i < DUNE_FDGUARD_MAX / BITS; i++)
		__atomic_store_n(&guard[i], 0, __ATOMIC_RELAXED);
}

long dune_fdguard_next(unsigned long lo, unsigned long hi)
{
	unsigned long fd = lo;

	if (hi >= DUNE_FDGUARD_MAX)
		hi = DUNE_FDGUARD_MAX - 1;
	while (fd <= hi) {
		unsigned long w = __atomic_load_n(&guard[fd / BITS],
						  __ATOMIC_RELAXED);

		w &= ~0ul << (fd % BITS);
		if (w) {
			fd = fd / BITS * BITS + __builtin_ctzl(w);
			return fd <= hi ? (long)fd : -1;
		}
		fd = (fd / BITS + 1) * BITS;
	}
	return -1;
}

/*
 * Below this many fds, the ones a program opens are numbered as natively
 * (the kernel hands out the lowest free number, and ours are not among
 * the low ones); a program with more skips ours.  Capped so that a huge
 * RLIMIT_NOFILE does not make the kernel grow every fd table that far.
 */
#define OWN_FD_TOP 1024
#define OWN_FD_SPAN 128

long dune_fd_own_floor(void)
{
	struct { uint64_t cur, max; } rl;
	uint64_t top = OWN_FD_TOP;

	if (dune_sys4(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&rl) == 0 &&
	    rl.cur < top)
		top = rl.cur;
	return top > OWN_FD_SPAN + 3 ? (long)(top - OWN_FD_SPAN) : 3;
}

long dune_fd_move_high(long fd)
{
	long floor = dune_fd_own_floor(), nfd;

	if (fd < 0 || fd >= floor)
		return fd;
	nfd = dune_sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, floor);
	/* No room up there (EMFILE): ours stays low, still hidden. */
	if (nfd < 0)
		return fd;
	dune_sys1(SYS_close, fd);
	return nfd;
}

long dune_fd_own(long fd)
{
	fd = dune_fd_move_high(fd);
	dune_fdguard_add(fd);
	return fd;
}

DUNE_NOFPU_END
