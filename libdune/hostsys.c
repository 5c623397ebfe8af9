// SPDX-License-Identifier: MIT
/*
 * Guest system calls.  The host loop executes each one natively with a
 * raw `syscall` instruction on the guest's registers, so seccomp,
 * ptrace, audit, signals and restarts all see an ordinary system call of
 * this thread.  A few need more than that:
 *
 *  - clone and clone3 with CLONE_VM (threads, posix_spawn's vfork
 *    child, raw CLONE_VM children): the child starts on a fresh host
 *    stack and makes its own vCPU from the parent's registers, so it
 *    continues in Dune mode (clone.c);
 *  - fork, vfork (done as fork), clone and clone3 without CLONE_VM: the
 *    child's /dev/dune fd belongs to the parent's mm, so it opens the
 *    device again, registers the same slots (its page tables are a copy
 *    at the same addresses) and makes a vCPU (clone.c);
 *  - exit: the thread's vCPU fd and block are freed first (clone.c);
 *  - rseq: against the program's registration; the kernel has
 *    libdune's area (rseq.c);
 *  - wait4, waitid: afterwards, the blocks of CLONE_VM children that
 *    ended are freed (clone.c);
 *  - exit_group: dune-run --stats prints the process's counters first;
 *  - rt_sigaction, rt_sigreturn, sigaltstack: the program's signal
 *    actions, frames and altstack are libdune's (sigaction.c,
 *    sigdeliver.c); every other call goes through dune_fwd_syscall, the
 *    one instruction the signal trampoline knows for restarts;
 *  - close, close_range, dup2, dup3: libdune's own fds are kept out of
 *    the program's way (fdguard.c), and every call that names one of
 *    them fails with EBADF, as if it were not open (fdhide.c).
 *
 * Host-loop code: raw system calls and general registers only (raw.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>

#include "internal.h"
#include "raw.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

DUNE_NOFPU_BEGIN

static bool shares_files(const struct dune_thread *t)
{
	return !(t->flags & DUNE_THREAD_OWN_FILES);
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
	if (dune_fd_protected(t, fd))
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
	long nfd = dune_sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC,
			     dune_fd_own_floor());

	/* The program has the top as well: anywhere it is not. */
	if (nfd == -EMFILE || nfd == -EINVAL)
		nfd = dune_sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
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

	if (dune_fd_protected(t, oldfd))
		return -EBADF;
	if (oldfd != newfd && dune_fd_protected(t, newfd)) {
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

/* A plain system call: natively, through the instruction the trampoline
 * recognises (sigasm.S). */
static long forward(struct dune_thread *t)
{
	struct dune_regs *r = &t->run.regs;
	long ret;

	t->sig.restart = false;
	dune_sig_note_tmpmask(t);
	ret = dune_fwd_syscall(r->rax, r->rdi, r->rsi, r->rdx, r->r10, r->r8,
			       r->r9);
	t->sig.tmpmask_valid = false;
	return ret;
}

void dune_host_syscall(struct dune_thread *t)
{
	struct dune_regs *r = &t->run.regs;
	long ret;

	switch ((long)r->rax) {
	case SYS_clone:
		ret = dune_sys_clone(t, r->rdi, r->rsi, r->rdx, r->r10, r->r8);
		break;
	case SYS_fork:
	case SYS_vfork:
		ret = dune_sys_clone(t, SIGCHLD, 0, 0, 0, 0);
		break;
	case SYS_clone3:
		ret = dune_sys_clone3(t, r->rdi, r->rsi);
		break;
	case SYS_rt_sigreturn:
		dune_sys_rt_sigreturn(t);
		return;
	case SYS_rt_sigaction:
		ret = dune_sys_rt_sigaction(t, r->rdi, r->rsi, r->rdx, r->r10);
		break;
	case SYS_sigaltstack:
		ret = dune_sys_sigaltstack(t, r->rdi, r->rsi);
		break;
	case SYS_exit:
		dune_thread_exit(t, r->rdi);
	case SYS_exit_group:
		dune_stats_exit_group(t);
		ret = dune_sys1(SYS_exit_group, r->rdi);
		break;
	case SYS_rseq:
		ret = dune_sys_rseq(t, r->rdi, r->rsi, r->rdx, r->r10);
		break;
	case SYS_wait4:
	case SYS_waitid:
		ret = forward(t);
		if (t->sig.restart)
			goto restart;
		if (ret >= 0)
			dune_reap_vm_children();
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
		ret = dune_fd_hidden(t, r);
		if (ret)
			break;
		ret = forward(t);
		if (t->sig.restart)
			goto restart;
		break;
	}
	r->rax = ret;
	return;
restart:
	/*
	 * The kernel decided to restart the call and a handler is queued:
	 * the guest issues it again after the handler, from its `syscall`
	 * (the stub's rcx - 2).
	 */
	t->sig.restart = false;
	/*
	 * A ring-3 run's handler forwarded it, and the program's handlers
	 * are ring 3's: ring 3 re-issues its own call after its handler
	 * instead (dune_user_sig_deliver), the handler sees EINTR.
	 */
	if (t->user.active && dune_user_signal_cb()) {
		t->sig.user_restart = true;
		r->rax = ret;
		return;
	}
	r->rip = r->rcx - 2;
}

DUNE_NOFPU_END
