// SPDX-License-Identifier: MIT
/*
 * dune-box: the ring-3 system call path.  For each call: its table entry
 * (systab.c), every pointer argument checked against the memory the
 * sandbox owns (mem.c) with the access Linux will make, paths and
 * structures holding pointers copied into monitor memory (the copy is
 * what Linux gets: another sandbox thread may change the original
 * meanwhile), the policy's decision, then emulation or one system call
 * to Linux, and the log.
 *
 * A failed check is the errno Linux gives for an address the program
 * cannot touch (EFAULT), decided before the policy is asked: a program
 * gets the same answer as natively for a bad pointer.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <asm/termbits.h>
#include <fcntl.h>

#include "calls.h"
#include "ipc.h"
#include "monitor-int.h"
#include "ownfd.h"
#include "monmem.h"
#include "proc.h"
#include "sig.h"
#include "thread.h"
#include "timer.h"

struct box_mon box_mon;
struct box_thread box_main_thread;
__thread struct box_thread *box_cur;

static bool owns(uint64_t p, uint64_t len, int prot)
{
	return box_mem_owns(box_mon.mem, p, len, prot);
}

/*
 * Copy the NUL-terminated string at @p (at most @max bytes with the NUL)
 * into @buf, a page at a time so that every byte read is owned readable.
 */
static int copy_str(uint64_t p, char *buf, size_t max)
{
	size_t n = 0;

	while (n < max) {
		uint64_t chunk = BOX_PG - ((p + n) & (BOX_PG - 1));
		const char *src = (const char *)(p + n);
		size_t i;

		if (!owns(p + n, 1, PROT_READ))
			return -EFAULT;
		if (chunk > max - n)
			chunk = max - n;
		for (i = 0; i < chunk; i++) {
			buf[n + i] = src[i];
			if (!src[i])
				return 0;
		}
		n += chunk;
	}
	return -ENAMETOOLONG;
}

static int check_buf(uint64_t p, uint64_t len, int prot, bool opt)
{
	if (opt && !p)
		return 0;
	return owns(p, len, prot) ? 0 : -EFAULT;
}

/* A checked copy of the iovec array at @p with @n entries. */
static int copy_iov(uint64_t p, uint64_t n, struct iovec *iov, int prot)
{
	uint64_t i;

	if (n > IOV_MAX)
		return -EINVAL;
	if (!owns(p, n * sizeof(*iov), PROT_READ))
		return -EFAULT;
	memcpy(iov, (const void *)p, n * sizeof(*iov));
	for (i = 0; i < n; i++)
		if (!owns((uint64_t)iov[i].iov_base, iov[i].iov_len, prot))
			return -EFAULT;
	return 0;
}

static int check_msg(struct box_ctx *c, uint64_t p, bool out)
{
	struct msghdr *m = &c->msg;
	int prot = out ? PROT_WRITE : PROT_READ;
	int r;

	if (!owns(p, sizeof(*m), out ? PROT_READ | PROT_WRITE : PROT_READ))
		return -EFAULT;
	memcpy(m, (const void *)p, sizeof(*m));
	c->msg_user = p;
	if (m->msg_name && !owns((uint64_t)m->msg_name, m->msg_namelen, prot))
		return -EFAULT;
	r = copy_iov((uint64_t)m->msg_iov, m->msg_iovlen, c->iov, prot);
	if (r)
		return r;
	m->msg_iov = c->iov;
	if (m->msg_controllen &&
	    !owns((uint64_t)m->msg_control, m->msg_controllen, prot))
		return -EFAULT;
	return 0;
}

/* A sockaddr (or option value) Linux writes, its length at @lenp. */
static int check_sa_out(uint64_t p, uint64_t lenp, bool opt)
{
	int len;

	if (opt && !p)
		return 0;
	if (!owns(lenp, sizeof(int), PROT_READ | PROT_WRITE))
		return -EFAULT;
	len = *(const volatile int *)lenp;
	if (len < 0)
		return -EINVAL;
	return owns(p, len, PROT_WRITE) ? 0 : -EFAULT;
}

/* ioctl: only requests whose argument layout is known. */
static int check_ioctl(struct box_ctx *c)
{
	uint64_t arg = c->a[2];

	switch ((unsigned int)c->a[1]) {
	case TCGETS:
		return check_buf(arg, sizeof(struct termios), PROT_WRITE, 0);
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		return check_buf(arg, sizeof(struct termios), PROT_READ, 0);
	case TIOCGWINSZ:
		return check_buf(arg, sizeof(struct winsize), PROT_WRITE, 0);
	case TIOCSWINSZ:
		return check_buf(arg, sizeof(struct winsize), PROT_READ, 0);
	case FIONREAD:
	case TIOCGPGRP:
		return check_buf(arg, sizeof(int), PROT_WRITE, 0);
	case TIOCSPGRP:
	case FIONBIO:
		return check_buf(arg, sizeof(int), PROT_READ, 0);
	case FIOCLEX:
	case FIONCLEX:
	case FICLONE:	/* arg: the source fd (cp --reflink=auto) */
		return 0;
	}
	c->refusal = "ioctl request with an unknown argument layout";
	return -ENOTTY;
}

static int check_fcntl(struct box_ctx *c)
{
	uint64_t arg = c->a[2];

	switch ((int)c->a[1]) {
	case F_DUPFD: case F_DUPFD_CLOEXEC: case F_GETFD: case F_SETFD:
	case F_GETFL: case F_SETFL: case F_GETOWN: case F_SETOWN:
	case F_GETSIG: case F_SETSIG: case F_GETLEASE: case F_SETLEASE:
	case F_NOTIFY: case F_GETPIPE_SZ: case F_SETPIPE_SZ:
	case F_ADD_SEALS: case F_GET_SEALS:
		return 0;
	case F_GETLK: case F_SETLK: case F_SETLKW:
	case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
		return check_buf(arg, sizeof(struct flock),
				 PROT_READ | PROT_WRITE, 0);
	case F_GETOWN_EX:
		return check_buf(arg, sizeof(struct f_owner_ex), PROT_WRITE, 0);
	case F_SETOWN_EX:
		return check_buf(arg, sizeof(struct f_owner_ex), PROT_READ, 0);
	}
	c->refusal = "fcntl command with an unknown argument layout";
	return -EINVAL;
}

static int check_futex(struct box_ctx *c)
{
	int cmd = c->a[1] & FUTEX_CMD_MASK;
	const int rw = PROT_READ | PROT_WRITE;
	int r;

	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		r = check_buf(c->a[0], 4, PROT_READ, 0);
		break;
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_CMP_REQUEUE_PI:
	case FUTEX_WAKE_OP:
	case FUTEX_WAIT_REQUEUE_PI:
		r = check_buf(c->a[0], 4, rw, 0);
		if (!r)
			r = check_buf(c->a[4], 4, rw, 0);
		break;
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_TRYLOCK_PI:
	case FUTEX_UNLOCK_PI:
		r = check_buf(c->a[0], 4, rw, 0);
		break;
	default:
		c->refusal = "futex operation with an unknown layout";
		return -ENOSYS;
	}
	/* these take a timeout; the others use the slot for a number */
	if (!r && (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET ||
		   cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 ||
		   cmd == FUTEX_WAIT_REQUEUE_PI))
		r = check_buf(c->a[3], sizeof(struct timespec), PROT_READ, 1);
	return r;
}

/* select and pselect6: three fd sets of nfds bits, pselect's sigset. */
static int check_select(struct box_ctx *c)
{
	uint64_t sz;
	int i, r;

	if ((int)c->a[0] < 0)
		return -EINVAL;
	sz = ((c->a[0] & 0x7fffffff) + 63) / 64 * 8;
	for (i = 1; i <= 3; i++) {
		r = check_buf(c->a[i], sz, PROT_READ | PROT_WRITE, 1);
		if (r)
			return r;
	}
	if (c->nr != SYS_pselect6 || !c->a[5])
		return 0;
	/* { const sigset_t *ss; size_t ss_len; }: copied, then checked */
	if (!owns(c->a[5], sizeof(c->pselect_arg), PROT_READ))
		return -EFAULT;
	memcpy(c->pselect_arg, (const void *)c->a[5], sizeof(c->pselect_arg));
	r = check_buf(c->pselect_arg[0], c->pselect_arg[1], PROT_READ, 1);
	c->x[5] = (uint64_t)c->pselect_arg;
	return r;
}

static int check_prctl(struct box_ctx *c)
{
	switch ((int)c->a[0]) {
	case PR_SET_NAME:
		/* Linux copies at most 16 bytes: so do we */
		if (!owns(c->a[1], 1, PROT_READ))
			return -EFAULT;
		memset(c->path[0], 0, 16);
		for (int i = 0; i < 15 && owns(c->a[1] + i, 1, PROT_READ); i++)
			if (!(c->path[0][i] = ((const char *)c->a[1])[i]))
				break;
		c->x[1] = (uint64_t)c->path[0];
		return 0;
	case PR_GET_NAME:
		return check_buf(c->a[1], 16, PROT_WRITE, 0);
	case PR_GET_PDEATHSIG:
		return check_buf(c->a[1], sizeof(int), PROT_WRITE, 0);
	case PR_SET_PDEATHSIG: case PR_GET_DUMPABLE: case PR_SET_DUMPABLE:
	case PR_SET_NO_NEW_PRIVS: case PR_GET_NO_NEW_PRIVS:
	case PR_GET_SECCOMP: case PR_CAPBSET_READ: case PR_GET_TIMERSLACK:
	case PR_SET_TIMERSLACK: case PR_SET_CHILD_SUBREAPER:
	case PR_GET_KEEPCAPS: case PR_SET_KEEPCAPS:
		return 0;
	case PR_SET_MM:
		c->refusal = "prctl(PR_SET_MM) would change the address space";
		return -EPERM;
	}
	c->refusal = "prctl option with an unknown layout";
	return -EINVAL;
}

/* Check every argument; copies go into c->x.  0 or -errno. */
static int check_args(struct box_ctx *c)
{
	const struct box_sysent *e = c->e;
	int i, r, np = 0;

	for (i = 0; i < e->nargs; i++) {
		const struct box_arg *a = &e->a[i];
		uint64_t p = c->a[i], len = a->sz;

		if (a->len != BOX_NOLEN &&
		    __builtin_mul_overflow(c->a[a->len], (uint64_t)a->sz, &len))
			return -EINVAL;
		switch (a->ty) {
		case BA_PATH:
		case BA_STR:
			if (a->opt && !p)
				break;
			r = copy_str(p, c->path[np], PATH_MAX);
			if (r)
				return r;
			c->x[i] = (uint64_t)c->path[np];
			if (a->ty == BA_PATH && np < 2) {
				c->call.path[np] = c->path[np];
				c->call.path_arg[np] = i;
			}
			np++;
			break;
		case BA_IN:
			r = check_buf(p, len, PROT_READ, a->opt);
			if (r)
				return r;
			break;
		case BA_OUT:
			r = check_buf(p, len, PROT_WRITE, a->opt);
			if (r)
				return r;
			break;
		case BA_INOUT:
			r = check_buf(p, len, PROT_READ | PROT_WRITE, a->opt);
			if (r)
				return r;
			break;
		case BA_IOV_IN:
		case BA_IOV_OUT:
			r = copy_iov(p, c->a[a->len], c->iov,
				     a->ty == BA_IOV_IN ? PROT_READ : PROT_WRITE);
			if (r)
				return r;
			c->x[i] = (uint64_t)c->iov;
			break;
		case BA_MSG_IN:
		case BA_MSG_OUT:
			r = check_msg(c, p, a->ty == BA_MSG_OUT);
			if (r)
				return r;
			c->x[i] = (uint64_t)&c->msg;
			break;
		case BA_SA_OUT:
			r = check_sa_out(p, c->a[a->len], a->opt);
			if (r)
				return r;
			break;
		}
	}
	switch (c->nr) {
	case SYS_ioctl:
		return check_ioctl(c);
	case SYS_fcntl:
		return check_fcntl(c);
	case SYS_futex:
		return check_futex(c);
	case SYS_select:
	case SYS_pselect6:
		return check_select(c);
	case SYS_prctl:
		return check_prctl(c);
	case SYS_timer_create:
		return box_timer_check(c);
	case SYS_capget:
	case SYS_capset:
	case SYS_adjtimex:
	case SYS_clock_adjtime:
		return box_calls_check(c);
	case SYS_msgsnd:
	case SYS_msgrcv:
	case SYS_msgctl:
	case SYS_semctl:
	case SYS_shmctl:
		return box_ipc_check(c);
	case SYS_set_tid_address:
		return check_buf(c->a[0], sizeof(int), PROT_READ | PROT_WRITE,
				 1);
	}
	return 0;
}

/* ---- emulated calls ---- */

/* The sandbox ends, whichever thread asks (thread.c). */
static __attribute__((noreturn)) void end_run(int status)
{
	box_thread_end(status);
}

static long emul(struct box_ctx *c)
{
	switch (c->nr) {
	case SYS_exit:
		box_log_call(c);
		box_thread_exit(c);
	case SYS_exit_group:
		box_log_call(c);
		end_run((c->a[0] & 0xff) << 8);
	case SYS_fork:
	case SYS_vfork:
		return box_fork(c);
	case SYS_clone:
	case SYS_clone3:
		if (!(box_clone_flags(c) & CLONE_VM))
			return box_fork(c);
		return box_clone(c);
	case SYS_execve:
	case SYS_execveat:
		return box_exec(c);
	case SYS_rt_sigaction:
		return box_sig_action(c);
	case SYS_sigaltstack:
		return box_sig_altstack(c);
	case SYS_rt_sigreturn:
		return box_sig_return(c);
	case SYS_set_tid_address:
		/*
		 * Kept: given to Linux it would replace the monitor thread's
		 * own (the C library's) clear-child-tid address.
		 */
		box_self()->clear_child_tid = c->a[0];
		return dune_sys6(SYS_gettid, 0, 0, 0, 0, 0, 0);
	case SYS_set_robust_list:
		/*
		 * Kept, not given to Linux: at thread exit the kernel would
		 * write to every futex the list names, wherever it is.
		 */
		return box_set_robust_list(c);
	case SYS_get_robust_list:
		return box_get_robust_list(c);
	case SYS_personality:
		if ((uint32_t)c->a[0] == 0xffffffffu || c->a[0] == 0)
			return dune_sys6(SYS_personality, c->a[0], 0, 0, 0, 0,
					 0);
		c->refusal = "personality flags would change the address space";
		return -EINVAL;
	case SYS_arch_prctl:
		switch (c->a[0]) {
		case ARCH_SET_FS:
			if (c->a[1] >= BOX_USER_END)
				return -EPERM;
			dune_set_user_fs(c->a[1]);
			return 0;
		case ARCH_GET_FS:
			if (!owns(c->a[1], 8, PROT_WRITE))
				return -EFAULT;
			*(uint64_t *)c->a[1] = dune_get_user_fs();
			return 0;
		case ARCH_SET_GS:
			if (c->a[1] >= BOX_USER_END)
				return -EPERM;
			dune_set_user_gs(c->a[1]);
			return 0;
		case ARCH_GET_GS:
			if (!owns(c->a[1], 8, PROT_WRITE))
				return -EFAULT;
			*(uint64_t *)c->a[1] = dune_get_user_gs();
			return 0;
		}
		c->refusal = "arch_prctl code not supported";
		return -EINVAL;
	}
	return -ENOSYS;
}

/* Several threads may deny at once: a slot is claimed atomically. */
static bool deny_site_new(uint64_t rip)
{
	unsigned int i, n = sizeof(box_mon.deny_sites) /
			    sizeof(box_mon.deny_sites[0]);
	uint64_t cur;

	for (i = 0; i < n; i++) {
		cur = __atomic_load_n(&box_mon.deny_sites[i], __ATOMIC_ACQUIRE);
		if (!cur &&
		    __atomic_compare_exchange_n(&box_mon.deny_sites[i], &cur,
						rip, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return true;
		if (cur == rip)
			return false;
	}
	return true;
}

static void count(long nr, int verdict)
{
	if (nr >= 0 && nr < 512)
		__atomic_add_fetch(&box_mon.calls[nr][verdict], 1,
				   __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&box_mon.unknown_calls, 1, __ATOMIC_RELAXED);
}

/* Denied: by the policy, or by the monitor itself (c->refusal). */
static void deny(struct box_ctx *c, int err)
{
	c->ret = -err;
	count(c->nr, c->d.verdict == BOX_KILL ? 2 : 1);
	box_log_call(c);
	if (c->d.absent && !c->refusal)
		return;
	if (!box_mon.o.quiet && deny_site_new(c->rip))
		box_log_deny(c);
	if (c->d.verdict == BOX_KILL || box_mon.o.kill_on_deny)
		end_run(SIGSYS);
}

/*
 * /proc/PID/mem (and a task's) lets whoever holds it write any page of
 * the process, the monitor's included, whatever the page tables say.
 * Checked on the opened file, through its /proc/self/fd link, so
 * symlinks and relative paths do not help.
 */
static bool is_proc_mem(long fd)
{
	char link[40], target[64];
	long n;
	int i = 0, slashes = 0;

	snprintf(link, sizeof(link), "/proc/self/fd/%ld", fd);
	n = dune_sys6(SYS_readlink, (uint64_t)link, (uint64_t)target,
		      sizeof(target) - 1, 0, 0, 0);
	if (n <= 0)
		return false;
	target[n] = 0;
	if (strncmp(target, "/proc/", 6) || n < 10 ||
	    strcmp(target + n - 4, "/mem"))
		return false;
	/* /proc/N/mem or /proc/N/task/M/mem */
	for (i = 6; i < n - 4; i++)
		slashes += target[i] == '/';
	return slashes == 0 || (slashes == 2 && !strncmp(strchr(target + 6, '/'),
						       "/task/", 6));
}

static long opened(struct box_ctx *c, long fd)
{
	if (fd < 0 || !is_proc_mem(fd))
		return fd;
	dune_sys6(SYS_close, fd, 0, 0, 0, 0, 0);
	c->refusal = "/proc/PID/mem would reach the monitor's memory";
	return -EACCES;
}

static const char *refusal_reason(long nr)
{
	switch (nr) {
	case SYS_memfd_secret:
		return "not supported by the monitor yet";
	}
	return "would break the sandbox's isolation";
}

static void monitor_call(struct dune_tf *tf)
{
	struct box_ctx *c;
	int r;

	box_thread_gate();
	c = &box_self()->ctx;
	memset(&c->call, 0, sizeof(c->call));
	memset(&c->d, 0, sizeof(c->d));
	c->refusal = NULL;
	c->nr = tf->rax;
	c->rip = tf->rip;
	c->tf = tf;
	c->a[0] = c->x[0] = tf->rdi;
	c->a[1] = c->x[1] = tf->rsi;
	c->a[2] = c->x[2] = tf->rdx;
	c->a[3] = c->x[3] = tf->r10;
	c->a[4] = c->x[4] = tf->r8;
	c->a[5] = c->x[5] = tf->r9;
	c->e = box_systab(c->nr);
	c->call.nr = c->nr;
	memcpy(c->call.arg, c->a, sizeof(c->a));

	if (c->e->kind == BK_UNKNOWN || c->e->kind == BK_REFUSE) {
		c->refusal = c->e->kind == BK_UNKNOWN ?
			"system call unknown to the monitor" :
			c->e->quiet ? NULL : refusal_reason(c->nr);
		c->d.verdict = BOX_DENY;
		c->d.err = ENOSYS;
		if (c->e->quiet) {
			c->ret = -ENOSYS;
			count(c->nr, 1);
			box_log_call(c);
		} else {
			deny(c, ENOSYS);
		}
		tf->rax = c->ret;
		return;
	}
	/* Checks and copies against other threads' memory calls (thread.c). */
	box_lock_read();
	r = check_args(c);
	if (r) {
		box_unlock();
		if (c->refusal) {
			c->d.verdict = BOX_DENY;
			deny(c, -r);
		} else {
			/* a bad pointer: the native answer, no message */
			c->ret = r;
			count(c->nr, 0);
			box_log_call(c);
		}
		tf->rax = c->ret;
		return;
	}
	box_policy_decide(box_mon.pol, &c->call, &c->d);
	if (c->d.verdict != BOX_ALLOW) {
		box_unlock();
		deny(c, c->d.err ? c->d.err : EPERM);
		tf->rax = c->ret;
		return;
	}
	count(c->nr, 0);
	if (box_fd_call(c)) {
		/* it named a monitor fd: the closed fd's answer (ownfd.c) */
		box_unlock();
		box_log_call(c);
		tf->rax = c->ret;
		return;
	}
	if (c->e->kind == BK_MEM) {
		box_lock_write();
		c->ret = box_mem_call(c);
	} else if (c->e->kind == BK_EMUL) {
		c->ret = emul(c);	/* with the read lock: it copies */
	} else if (box_proc_intercept(c, &c->ret)) {
		;	/* the program's /proc/self/exe */
	} else {
		/*
		 * Linux gets checked pointers (or the monitor's copies): the
		 * memory they name stays the sandbox's whatever other threads
		 * do meanwhile (munmap leaves a reservation), so a call that
		 * blocks need not hold up their memory calls.
		 */
		box_unlock();
		c->ret = dune_sys6(c->nr, c->x[0], c->x[1], c->x[2], c->x[3],
				   c->x[4], c->x[5]);
	}
	box_unlock();
	if (c->nr == SYS_open || c->nr == SYS_openat || c->nr == SYS_creat)
		c->ret = opened(c, c->ret);
	c->ret = box_fd_after(c, c->ret);
	if (c->refusal) {
		/* an emulated call the monitor refused after all */
		c->d.verdict = BOX_DENY;
		__atomic_sub_fetch(&box_mon.calls[c->nr][0], 1,
				   __ATOMIC_RELAXED);
		deny(c, -c->ret);
		tf->rax = c->ret;
		return;
	}
	box_calls_done(c);	/* capget, adjtimex: their copies back */
	/* recvmsg: what Linux wrote into our copy of the header */
	if (c->nr == SYS_recvmsg && c->ret >= 0) {
		struct msghdr *u = (struct msghdr *)c->msg_user;

		/* checked again: another thread may have unmapped it */
		box_lock_read();
		if (owns(c->msg_user, sizeof(*u), PROT_READ | PROT_WRITE)) {
			u->msg_namelen = c->msg.msg_namelen;
			u->msg_controllen = c->msg.msg_controllen;
			u->msg_flags = c->msg.msg_flags;
		}
		box_unlock();
	}
	box_log_call(c);
	tf->rax = c->ret;
}

void box_monitor_syscall(struct dune_tf *tf)
{
	monitor_call(tf);
	/* Signals that came meanwhile: their handlers run first. */
	box_sig_after_call(tf);
}
