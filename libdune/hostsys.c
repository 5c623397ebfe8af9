// SPDX-License-Identifier: MIT
/*
 * Guest system calls.  The host loop executes each one natively with a
 * raw `syscall` instruction on the guest's registers, so seccomp,
 * ptrace, audit, signals and restarts all see an ordinary system call of
 * this thread.  A few need more than that:
 *
 *  - clone with CLONE_VM (threads, posix_spawn's vfork child): the child
 *    starts on a fresh host stack and makes its own vCPU from the
 *    parent's registers, so it continues in Dune mode;
 *  - fork, vfork (done as fork) and clone without CLONE_VM: the child's
 *    /dev/dune fd belongs to the parent's mm, so it opens the device
 *    again, registers the same slots (its page tables are a copy at the
 *    same addresses) and makes a vCPU;
 *  - exit: the thread's vCPU fd and block are freed first;
 *  - exit_group: dune-run --stats prints the process's counters first;
 *  - clone3 and rt_sigreturn: ENOSYS (glibc falls back to clone; signal
 *    frames live on the host stack, never in the guest);
 *  - close, close_range, dup2, dup3: libdune's own fds are kept out of
 *    the program's way (fdguard.c).
 *
 * Host-loop code: raw system calls and general registers only (raw.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>

#include "internal.h"
#include "raw.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

DUNE_NOFPU_BEGIN

/*
 * A child with its own copy of the fd table (CLONE_VM without
 * CLONE_FILES) only needs its vCPU fd; the rest of the guarded set
 * describes the parent's table.
 */
static bool shares_files(const struct dune_thread *t)
{
	return !(t->flags & DUNE_THREAD_OWN_FILES);
}

static bool protected_fd(const struct dune_thread *t, long fd)
{
	if (fd < 0)
		return false;
	if (fd == t->vcpu_fd)
		return true;
	return shares_files(t) &&
	       (fd == dune_proc.dev_fd || dune_fdguard_has(fd));
}

/* The lowest protected fd in [lo, hi], or -1. */
static long next_protected(const struct dune_thread *t, unsigned long lo,
			   unsigned long hi)
{
	long best = shares_files(t) ? dune_fdguard_next(lo, hi) : -1;
	long own[2] = { t->vcpu_fd, shares_files(t) ? dune_proc.dev_fd : -1 };
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (own[i] >= 0 && (unsigned long)own[i] >= lo &&
		    (unsigned long)own[i] <= hi && (best < 0 || own[i] < best))
			best = own[i];
	return best;
}

/* Ours: to the program it is as if that fd were not open. */
static long sys_close(struct dune_thread *t, long fd)
{
	if (protected_fd(t, fd))
		return -EBADF;
	return dune_sys1(SYS_close, fd);
}

/* Close the program's fds in [lo, hi], stepping around ours. */
static long sys_close_range(struct dune_thread *t, unsigned long lo,
			    unsigned long hi, unsigned long flags)
{
	long p, r;

	lo &= 0xffffffffu;	/* unsigned int in the kernel ABI */
	hi &= 0xffffffffu;
	/* Close-on-exec on ours is harmless: they have it already. */
	if ((flags & CLOSE_RANGE_CLOEXEC) || lo > hi)
		return dune_sys3(SYS_close_range, lo, hi, flags);
	while (lo <= hi) {
		p = next_protected(t, lo, hi);
		if (p < 0)
			return dune_sys3(SYS_close_range, lo, hi, flags);
		if ((unsigned long)p > lo) {
			r = dune_sys3(SYS_close_range, lo, p - 1, flags);
			if (r < 0)
				return r;
		}
		lo = p + 1;
	}
	return 0;
}

/* The program wants fd number @fd: move our fd out of its way. */
static long move_own_fd(struct dune_thread *t, long fd)
{
	long nfd = dune_sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);

	if (nfd < 0)
		return nfd;
	if (fd == t->vcpu_fd)
		t->vcpu_fd = nfd;
	else if (fd == dune_run_stats_fd)
		dune_run_stats_fd = nfd;
	else
		dune_proc.dev_fd = nfd;
	if (dune_fdguard_has(fd)) {
		dune_fdguard_add(nfd);
		dune_fdguard_del(fd);
	}
	dune_sys1(SYS_close, fd);
	return 0;
}

static long sys_dup3(struct dune_thread *t, long nr, long oldfd, long newfd,
		     long flags)
{
	long r;

	if (oldfd != newfd && protected_fd(t, newfd)) {
		/* Another thread's vCPU: we cannot move it from here. */
		if (newfd != t->vcpu_fd && newfd != dune_proc.dev_fd &&
		    newfd != dune_run_stats_fd)
			return -EBUSY;
		r = move_own_fd(t, newfd);
		if (r < 0)
			return r;
	}
	return dune_sys3(nr, oldfd, newfd, flags);
}

/* A CLONE_VM child, on its new host stack: make a vCPU and go. */
static __attribute__((noreturn)) void clone_child(void *arg)
{
	struct dune_thread *c = arg;
	long fd = dune_vcpu_create(c);

	if (fd < 0)
		dune_die_errno("DUNE_CREATE_VCPU for a new thread", fd);
	c->vcpu_fd = fd;
	if (shares_files(c))
		dune_fdguard_add(fd);
	/* Without its own TLS, dune_self belongs to the parent. */
	if (c->flags & DUNE_THREAD_SETTLS)
		dune_self = c;
	dune_host_loop(c);
}

static long clone_vm(struct dune_thread *t, unsigned long flags,
		     uint64_t stack, long ptid, long ctid, long tls)
{
	struct dune_thread *c = dune_thread_alloc();
	long r;

	if (!c)
		return -ENOMEM;
	/* The child resumes where the parent does, with rax = 0. */
	dune_copy(&c->run.regs, &t->run.regs, sizeof(c->run.regs));
	c->run.regs.rax = 0;
	if (stack)
		c->run.regs.rsp = stack;
	if (flags & CLONE_VFORK)
		c->flags |= DUNE_THREAD_VFORK;
	if (flags & CLONE_SETTLS)
		c->flags |= DUNE_THREAD_SETTLS;
	if (!(flags & CLONE_FILES))
		c->flags |= DUNE_THREAD_OWN_FILES;
	r = dune_raw_clone(flags, c->host_stack_top, (int *)ptid, (int *)ctid,
			   tls, clone_child, c);
	/*
	 * After a vfork the child has exec'd or exited: its host stack in
	 * our address space is unused now.  A thread frees its own block.
	 */
	if (r < 0 || (flags & CLONE_VFORK))
		dune_thread_free(c);
	return r;
}

/* The new process of a fork: get our own /dev/dune and vCPU. */
static void fork_child(struct dune_thread *t, uint64_t stack)
{
	bool guarded_vcpu = dune_fdguard_has(t->vcpu_fd);
	bool guarded_dev = dune_fdguard_has(dune_proc.dev_fd);
	long fd, r;

	dune_close_inherited_fds(-1);
	if (!guarded_vcpu)
		dune_sys1(SYS_close, t->vcpu_fd);
	if (!guarded_dev)
		dune_sys1(SYS_close, dune_proc.dev_fd);
	t->vcpu_fd = -1;
	t->flags &= ~(DUNE_THREAD_VFORK | DUNE_THREAD_OWN_FILES);
	dune_stats_fork_child();

	fd = dune_sys3(SYS_open, (long)DUNE_DEVICE_PATH, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		dune_die_errno("opening " DUNE_DEVICE_PATH " in a fork child",
			       fd);
	dune_proc.dev_fd = fd;
	dune_proc.pid = dune_sys0(SYS_getpid);
	dune_fdguard_add(fd);
	r = dune_slots_set(fd, NULL);
	if (r < 0)
		dune_die_errno("DUNE_SET_SLOT in a fork child", r);

	t->run.regs.rax = 0;
	if (stack)
		t->run.regs.rsp = stack;
	fd = dune_vcpu_create(t);
	if (fd < 0)
		dune_die_errno("DUNE_CREATE_VCPU in a fork child", fd);
	t->vcpu_fd = fd;
	dune_fdguard_add(fd);
	t->fault_repeats = 0;
}

static long fork_like(struct dune_thread *t, unsigned long flags,
		      uint64_t stack, long ptid, long ctid, long tls)
{
	/* The child runs on its copy of this host stack, like fork(). */
	long r = dune_raw_clone(flags, NULL, (int *)ptid, (int *)ctid, tls,
				NULL, NULL);

	if (r == 0)
		fork_child(t, stack);
	return r;
}

static __attribute__((noreturn)) void thread_exit(struct dune_thread *t,
						  int code)
{
	uint64_t all = ~0ull;

	/* No signal handler may run on the stack we are about to free. */
	dune_sys4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, sizeof(all));
	dune_stats_thread_exit(t);
	if (shares_files(t))
		dune_fdguard_del(t->vcpu_fd);
	dune_sys1(SYS_close, t->vcpu_fd);
	if (t->flags & DUNE_THREAD_VFORK) {
		/* The parent frees our block once we are gone. */
		for (;;)
			dune_sys1(SYS_exit, code);
	}
	dune_unmap_and_exit(t->block, t->block_size, code);
}

void dune_host_syscall(struct dune_thread *t)
{
	struct dune_regs *r = &t->run.regs;
	long ret;

	switch ((long)r->rax) {
	case SYS_clone:
		if (r->rdi & CLONE_VM)
			ret = clone_vm(t, r->rdi, r->rsi, r->rdx, r->r10, r->r8);
		else
			ret = fork_like(t, r->rdi, r->rsi, r->rdx, r->r10,
					r->r8);
		break;
	case SYS_fork:
	case SYS_vfork:
		ret = fork_like(t, SIGCHLD, 0, 0, 0, 0);
		break;
	case SYS_clone3:
	case SYS_rt_sigreturn:
		ret = -ENOSYS;
		break;
	case SYS_exit:
		thread_exit(t, r->rdi);
	case SYS_exit_group:
		dune_stats_exit_group(t);
		ret = dune_sys1(SYS_exit_group, r->rdi);
		break;
	case SYS_close:
		ret = sys_close(t, r->rdi);
		break;
	case SYS_close_range:
		ret = sys_close_range(t, r->rdi, r->rsi, r->rdx);
		break;
	case SYS_dup2:
		ret = sys_dup3(t, SYS_dup2, r->rdi, r->rsi, 0);
		break;
	case SYS_dup3:
		ret = sys_dup3(t, SYS_dup3, r->rdi, r->rsi, r->rdx);
		break;
	default:
		ret = dune_sys6(r->rax, r->rdi, r->rsi, r->rdx, r->r10, r->r8,
				r->r9);
		break;
	}
	r->rax = ret;
}

DUNE_NOFPU_END
