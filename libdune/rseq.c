// SPDX-License-Identifier: MIT
/*
 * rseq (restartable sequences) for a thread in Dune mode.
 *
 * Linux keeps a thread's rseq area up to date and aborts its critical
 * section on the way back to user space after a preemption, a migration
 * or a signal (kernel/rseq.c: rseq_handle_notify_resume, rseq_ip_fixup),
 * judging by the instruction pointer it returns to.  For a Dune thread
 * that is the host loop's, never the guest's: the kernel would never
 * abort a guest critical section, and would clear the area's rseq_cs
 * behind the guest's back.
 *
 * So the kernel gets an area of libdune's (t->host_rseq) whose rseq_cs,
 * set before every DUNE_RUN, covers the instruction after the DUNE_RUN
 * ioctl (dune_rseq_run_ioctl in entry.S): any of those events makes the
 * kernel "abort" to a libdune label, which tells the host loop the event
 * happened.  The host loop then does rseq_ip_fixup for the guest, on the
 * program's area and the guest's registers, and copies the CPU and node
 * numbers the kernel wrote into the program's area.  The program's own
 * registration (glibc's, or its rseq calls) is kept here, with the
 * kernel's checks and errors for the rseq system call.
 *
 * Host-loop code: raw system calls and general registers only (raw.h).
 */
#include <errno.h>
#include <linux/rseq.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/rseq.h>
#include <sys/uio.h>

#include "internal.h"
#include "raw.h"

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#endif

/* struct rseq: rseq_cs, flags; then node_id, mm_cid (Linux 6.3+) */
#define RSEQ_OFF_CS	8
#define RSEQ_OFF_NODE	20
#define RSEQ_ORIG_SIZE	32	/* the registration length before 6.3 */
/* The lowest TASK_SIZE_MAX (4-level paging): Linux's bound for rseq_cs. */
#define USER_VA_END	((1ul << 47) - DUNE_PAGE)

/* The kernel's view of libdune's own critical section: see above. */
extern char dune_rseq_run_ret[], dune_rseq_run_abort[];
static struct rseq_cs run_cs;
/* How much of struct rseq the kernel fills (AT_RSEQ_FEATURE_SIZE). */
static unsigned int feature_size;

/* Natively, at dune_init. */
void dune_rseq_init(void)
{
	run_cs.version = 0;
	run_cs.flags = 0;
	run_cs.start_ip = (uint64_t)dune_rseq_run_ret;
	run_cs.post_commit_offset = 1;
	run_cs.abort_ip = (uint64_t)dune_rseq_run_abort;
	feature_size = getauxval(AT_RSEQ_FEATURE_SIZE);
	if (feature_size < RSEQ_OFF_NODE)
		feature_size = RSEQ_OFF_NODE;
}

DUNE_NOFPU_BEGIN

static bool guest_rw(uint64_t addr, void *buf, size_t n, bool write)
{
	struct iovec local = { buf, n }, remote = { (void *)addr, n };

	/*
	 * Our tid, not the pid: once the main thread has exited, the pid
	 * names a task without mm and the call fails (ESRCH), which the
	 * fixup would take for a bad area and kill the process with
	 * SIGSEGV (dune_vm_read).
	 */
	return dune_sys6(write ? SYS_process_vm_writev : SYS_process_vm_readv,
			 dune_sys0(SYS_gettid), (long)&local, 1, (long)&remote,
			 1, 0) == (long)n;
}

static long sys_rseq(void *area, uint32_t len, int flags, uint32_t sig)
{
	return dune_sys4(SYS_rseq, (long)area, len, flags, sig);
}

/* The kernel's cpu and node fields of our area into the program's. */
static bool mirror(struct dune_thread *t)
{
	const char *h = (const char *)&t->host_rseq;
	uint32_t end = t->rseq_len < feature_size ? t->rseq_len : feature_size;

	t->rseq_cpu = t->host_rseq.cpu_id;
	if (!guest_rw(t->rseq_area, (void *)h, RSEQ_OFF_CS, true))
		return false;
	return end <= RSEQ_OFF_NODE ||
	       guest_rw(t->rseq_area + RSEQ_OFF_NODE,
			(void *)(h + RSEQ_OFF_NODE), end - RSEQ_OFF_NODE, true);
}

static long take_over(struct dune_thread *t, uint64_t area, uint32_t len,
		      uint32_t sig)
{
	long r = sys_rseq(&t->host_rseq, sizeof(t->host_rseq), 0,
			  DUNE_RSEQ_SIG);

	if (r < 0)
		return r;
	t->rseq_area = area;
	t->rseq_len = len;
	t->rseq_sig = sig;
	return mirror(t) ? 0 : -EFAULT;
}

/*
 * A thread entering Dune mode with glibc's registration: it becomes the
 * program's (libdune's area goes to the kernel).  glibc registered the
 * whole area; newer ones use __rseq_size.
 */
void dune_rseq_enter(struct dune_thread *t)
{
	uint64_t area = (uint64_t)__builtin_thread_pointer() + __rseq_offset;
	uint32_t len = RSEQ_ORIG_SIZE;

	if (!__rseq_size || (int)((struct rseq *)area)->cpu_id < 0)
		return;
	if (sys_rseq((void *)area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)) {
		len = __rseq_size;
		if (sys_rseq((void *)area, len, RSEQ_FLAG_UNREGISTER,
			     RSEQ_SIG))
			return;	/* not glibc's: leave it to the kernel */
	}
	if (take_over(t, area, len, RSEQ_SIG) < 0)
		dune_die_errno("registering libdune's rseq area", -EFAULT);
}

/* The rseq system call, against the program's registration. */
long dune_sys_rseq(struct dune_thread *t, uint64_t area, uint32_t len,
		   int flags, uint32_t sig)
{
	long r;

	if (flags & RSEQ_FLAG_UNREGISTER) {
		static const uint32_t reset[2] = { 0,
						   RSEQ_CPU_ID_UNINITIALIZED };
		static const uint32_t zero[2];

		if (flags & ~RSEQ_FLAG_UNREGISTER)
			return -EINVAL;
		if (!t->rseq_area || t->rseq_area != area ||
		    len != t->rseq_len)
			return -EINVAL;
		if (sig != t->rseq_sig)
			return -EPERM;
		/* What Linux's rseq_reset_rseq_cpu_node_id writes. */
		if (!guest_rw(area, (void *)reset, sizeof(reset), true) ||
		    (feature_size > RSEQ_OFF_NODE &&
		     !guest_rw(area + RSEQ_OFF_NODE, (void *)zero,
			       feature_size - RSEQ_OFF_NODE, true)))
			return -EFAULT;
		sys_rseq(&t->host_rseq, sizeof(t->host_rseq),
			 RSEQ_FLAG_UNREGISTER, DUNE_RSEQ_SIG);
		t->rseq_area = 0;
		return 0;
	}
	if (flags)
		return -EINVAL;
	if (t->rseq_area) {
		if (t->rseq_area != area || len != t->rseq_len)
			return -EINVAL;
		return sig != t->rseq_sig ? -EPERM : -EBUSY;
	}
	/*
	 * Not registered: the kernel checks the area (alignment, length,
	 * range) by registering it; then our area takes its place.
	 */
	r = sys_rseq((void *)area, len, 0, sig);
	if (r < 0)
		return r;
	sys_rseq((void *)area, len, RSEQ_FLAG_UNREGISTER, sig);
	return take_over(t, area, len, sig);
}

/*
 * Before a thread frees its block: the kernel must not write libdune's
 * area there on the way back from munmap (it would send SIGSEGV).
 */
void dune_rseq_exit(struct dune_thread *t)
{
	if (!t->rseq_area)
		return;
	sys_rseq(&t->host_rseq, sizeof(t->host_rseq), RSEQ_FLAG_UNREGISTER,
		 DUNE_RSEQ_SIG);
	t->rseq_area = 0;
}

/* Linux's force_sigsegv for a bad rseq area or critical section. */
static void rseq_sigsegv(struct dune_thread *t)
{
	struct dune_ksiginfo info;

	dune_bzero(&info, sizeof(info));
	info.signo = SIGSEGV;
	info.code = SI_KERNEL;
	dune_force_signal(t, &info, t->sig_trapno, t->sig_err, t->sig_cr2);
}

/* rseq_ip_fixup (kernel/rseq.c) on the guest: false for a bad area. */
static bool ip_fixup(struct dune_thread *t)
{
	struct rseq_cs cs;
	uint64_t ptr, zero = 0, ip = t->run.regs.rip;
	uint32_t sig;

	if (!guest_rw(t->rseq_area + RSEQ_OFF_CS, &ptr, sizeof(ptr), false))
		return false;
	if (!ptr)
		return true;
	if (ptr >= USER_VA_END || !guest_rw(ptr, &cs, sizeof(cs), false) ||
	    cs.version || cs.start_ip >= USER_VA_END ||
	    cs.start_ip + cs.post_commit_offset >= USER_VA_END ||
	    cs.start_ip + cs.post_commit_offset < cs.start_ip ||
	    cs.abort_ip >= USER_VA_END ||
	    cs.abort_ip - cs.start_ip < cs.post_commit_offset)
		return false;
	/* Checked for any section, as rseq_get_rseq_cs does. */
	if (!guest_rw(cs.abort_ip - sizeof(sig), &sig, sizeof(sig), false) ||
	    sig != t->rseq_sig)
		return false;
	if (ip - cs.start_ip < cs.post_commit_offset)
		t->run.regs.rip = cs.abort_ip;
	/* Outside the section or aborted: the kernel clears rseq_cs. */
	return guest_rw(t->rseq_area + RSEQ_OFF_CS, &zero, sizeof(zero), true);
}

long dune_rseq_run(struct dune_thread *t)
{
	unsigned int event = 0;
	long r;

	if (!t->rseq_area)
		return dune_sys3(SYS_ioctl, t->vcpu_fd, DUNE_RUN,
				 (long)&t->run);
	t->host_rseq.rseq_cs = (uint64_t)&run_cs;
	r = dune_rseq_run_ioctl(t->vcpu_fd, DUNE_RUN, &t->run, &event);
	if (event || t->host_rseq.cpu_id != t->rseq_cpu) {
		if (!mirror(t) || (event && !ip_fixup(t)))
			rseq_sigsegv(t);
	}
	return r;
}

DUNE_NOFPU_END
