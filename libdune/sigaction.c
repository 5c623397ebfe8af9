// SPDX-License-Identifier: MIT
/*
 * The program's signal actions, and the native trampoline that takes
 * every signal the program handles.
 *
 * libdune owns a process-wide table of the program's actions.  A guest
 * rt_sigaction with a real handler installs, at the kernel, our
 * trampoline with all signals blocked and the program's SA_RESTART (so
 * the kernel decides restarts as it would natively); SIG_DFL and SIG_IGN
 * go to the kernel as they are.  The kernel keeps owning the mask, the
 * pending sets and queueing.
 *
 * The trampoline runs natively.  In a thread in Dune mode that is the
 * host loop: it queues the signal with a snapshot of the action and the
 * masks (sigdeliver.c builds the guest's frame before the next DUNE_RUN)
 * and turns a restart the kernel decided into "re-issue in the guest
 * after the handler".  In any other thread it calls the program's handler
 * right there, with the mask the handler would natively have.
 */
#include <errno.h>
#include <signal.h>
#include <sys/uio.h>
#include <ucontext.h>

#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

#define NSIG_K 64
#define SIGBIT(s) (1ull << ((s) - 1))

/*
 * One action per signal, read by trampolines on any thread: a sequence
 * count per entry (odd while written); writers take the lock with all
 * their signals blocked, so a trampoline never waits for its own thread.
 */
struct sigtab_entry {
	unsigned int seq;
	struct dune_ksigaction act;
};

static struct sigtab_entry sigtab[NSIG_K + 1];
static int sigtab_lock;

static void tab_lock(void)
{
	while (__atomic_exchange_n(&sigtab_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void tab_unlock(void)
{
	__atomic_store_n(&sigtab_lock, 0, __ATOMIC_RELEASE);
}

static void tab_write(int sig, const struct dune_ksigaction *a)
{
	struct sigtab_entry *e = &sigtab[sig];

	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	dune_copy(&e->act, a, sizeof(*a));
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELEASE);
}

static void tab_read(int sig, struct dune_ksigaction *a)
{
	struct sigtab_entry *e = &sigtab[sig];
	unsigned int s;

	for (;;) {
		s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (s & 1) {
			__builtin_ia32_pause();
			continue;
		}
		dune_copy(a, &e->act, sizeof(*a));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s)
			return;
	}
}

static const struct dune_ksigaction dfl_action = { .handler = SIG_DFL };

static bool real_handler(const void *h)
{
	return h != SIG_DFL && h != SIG_IGN;
}

static void trampoline(int sig, siginfo_t *si, void *ucv);

static void kact_for(struct dune_ksigaction *k,
		     const struct dune_ksigaction *prog)
{
	k->handler = (void *)trampoline;
	k->flags = dune_sig_kflags(prog->flags);
	k->restorer = (void *)dune_sig_restorer;
	k->mask = ~0ull;
}

static uint64_t block_all(void)
{
	uint64_t all = ~0ull, old = 0;

	dune_sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&old,
		  sizeof(all));
	return old;
}

static void set_mask(uint64_t m)
{
	dune_sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&m, 0, sizeof(m));
}

/*
 * process_vm_readv/writev name this thread (gettid), never the process
 * (getpid): the pid is looked up as a task, and once the thread group
 * leader has exited (the main thread's pthread_exit) it has no mm, so
 * the call would fail with ESRCH for every other thread.  The same in
 * clone.c, rseq.c and vsyscall.c.
 */
long dune_vm_read(void *dst, uint64_t src, size_t n)
{
	struct iovec l = { dst, n }, r = { (void *)src, n };
	long got = dune_sys6(SYS_process_vm_readv, dune_sys0(SYS_gettid),
			     (long)&l, 1, (long)&r, 1, 0);

	return got == (long)n ? 0 : -EFAULT;
}

long dune_vm_write(uint64_t dst, const void *src, size_t n)
{
	struct iovec l = { (void *)src, n }, r = { (void *)dst, n };
	long put = dune_sys6(SYS_process_vm_writev, dune_sys0(SYS_gettid),
			     (long)&l, 1, (long)&r, 1, 0);

	return put == (long)n ? 0 : -EFAULT;
}

long dune_sys_rt_sigaction(struct dune_thread *t, long sig, uint64_t uact,
			   uint64_t uoact, long size)
{
	struct dune_ksigaction act, kact, kold, prev;
	bool shared = !(t->flags & DUNE_THREAD_OWN_SIGHAND);
	bool real = false, tab = false;
	uint64_t old_mask = 0;
	long r;

	/* The kernel's checks, in its order: size, act, then the signal. */
	if (size != sizeof(uint64_t))
		return -EINVAL;
	if (uact) {
		if (dune_vm_read(&act, uact, sizeof(act)))
			return -EFAULT;
		act.flags = dune_sig_uapi_flags(act.flags);
		act.mask = dune_sig_blockable(act.mask);
		/*
		 * dune_register_signal_handler's own handler keeps its
		 * vector path: it goes to the kernel as it is.
		 */
		real = real_handler(act.handler) &&
		       !dune_signal_is_registered(act.handler);
	}
	/*
	 * A vfork child without CLONE_SIGHAND has its own kernel actions
	 * but shares our memory: it must not touch the shared table.
	 */
	tab = shared && sig >= 1 && sig <= NSIG_K;
	if (tab) {
		old_mask = block_all();
		tab_lock();
		tab_read(sig, &prev);
		/* Table first: the kernel may deliver to us at once. */
		if (real)
			tab_write(sig, &act);
	}
	kact = act;
	if (real && tab)
		kact_for(&kact, &act);
	r = dune_sys4(SYS_rt_sigaction, sig, uact ? (long)&kact : 0,
		      (long)&kold, size);
	if (tab) {
		if (r < 0 && real)
			tab_write(sig, &prev);
		else if (r == 0 && uact && !real)
			tab_write(sig, real_handler(act.handler) ?
				  &dfl_action : &act);
		tab_unlock();
		set_mask(old_mask);
	}
	if (r < 0)
		return r;
	/* The program sees its own handler, flags, mask and restorer. */
	if (kold.handler == (void *)trampoline) {
		if (tab)
			kold = prev;
		else
			tab_read(sig, &kold);
	}
	if (uoact && dune_vm_write(uoact, &kold, sizeof(kold)))
		return -EFAULT;
	return 0;
}

bool dune_sig_has_handler(int sig)
{
	struct dune_ksigaction a;

	if (sig < 1 || sig > NSIG_K)
		return false;
	tab_read(sig, &a);
	return real_handler(a.handler);
}

long dune_user_sigaction(int sig, const void *act, void *oact, size_t size)
{
	/*
	 * From the guest, the host loop takes every rt_sigaction as the
	 * program's (dune_sys_rt_sigaction); natively it is the kernel's.
	 */
	if (!dune_active())
		return -EPERM;
	return dune_sys4(SYS_rt_sigaction, sig, (long)act, (long)oact, size);
}

void dune_sig_set_default(int sig)
{
	struct dune_ksigaction a = { .handler = SIG_DFL };
	uint64_t old;

	if (sig < 1 || sig > NSIG_K)
		return;
	/*
	 * In the guest (a ring-3 run's handler), rt_sigaction goes to the
	 * host loop, which updates the table itself under the lock.
	 */
	if (dune_active()) {
		dune_sys4(SYS_rt_sigaction, sig, (long)&a, 0, sizeof(uint64_t));
		return;
	}
	old = block_all();
	tab_lock();
	tab_write(sig, &a);
	tab_unlock();
	dune_sys4(SYS_rt_sigaction, sig, (long)&a, 0, sizeof(uint64_t));
	set_mask(old);
}

/*
 * Handlers installed natively before Dune mode (by the program or by
 * glibc) move into the table, so they too run in the guest.
 */
void dune_sig_init(void)
{
	struct dune_ksigaction k, kact;
	int sig;

	dune_sig_fpu_init();
	for (sig = 1; sig <= NSIG_K; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (dune_sys4(SYS_rt_sigaction, sig, 0, (long)&k,
			      sizeof(uint64_t)))
			continue;
		if (!real_handler(k.handler) ||
		    k.handler == (void *)trampoline ||
		    dune_signal_is_registered(k.handler))
			continue;
		k.flags = dune_sig_uapi_flags(k.flags);
		tab_write(sig, &k);
		kact_for(&kact, &k);
		dune_sys4(SYS_rt_sigaction, sig, (long)&kact, 0,
			  sizeof(uint64_t));
	}
}

/*
 * A thread entering Dune mode: its altstack becomes the program's (the
 * guest's), and the kernel's is dropped so the trampoline always runs on
 * the host stack.
 */
void dune_sig_thread_enter(struct dune_thread *t)
{
	struct dune_kstack ks, off = { .flags = SS_DISABLE };

	t->sig.sas.flags = SS_DISABLE;	/* sas_ss_reset */
	if (dune_sys2(SYS_sigaltstack, 0, (long)&ks) || (ks.flags & SS_DISABLE))
		return;
	t->sig.sas.sp = ks.sp;
	t->sig.sas.size = ks.size;
	t->sig.sas.flags = ks.flags & ~SS_ONSTACK;
	dune_sys2(SYS_sigaltstack, (long)&off, 0);
}

/* The thread whose host loop this trampoline interrupted, or NULL. */
static struct dune_thread *dune_thread_here(void)
{
	struct dune_thread *t = dune_self;
	char *sp = __builtin_frame_address(0);

	if (!t || t->vcpu_fd < 0)
		return NULL;
	/* A CLONE_VM child without TLS would see its parent's dune_self. */
	if (sp < t->block || sp >= t->host_stack_top)
		return NULL;
	return t;
}

/* What Linux's page fault error code says for an instruction fetch. */
#define PF_INSTR_FETCH 0x10	/* bit 4 of the #PF error code (SDM 4.7) */

/* A fault at one of the host loop's own touches (sigasm.S)? */
static bool host_fault_fixup(struct dune_thread *t, int sig,
			     mcontext_t *m)
{
	uint64_t rip = m->gregs[REG_RIP];

	if (sig != SIGSEGV && sig != SIGBUS)
		return false;
	if (rip == (uint64_t)dune_touch_read_insn ||
	    rip == (uint64_t)dune_touch_write_insn) {
		/* handle_fault: this is the guest's signal */
		t->sig_trapno = m->gregs[REG_TRAPNO];
		t->sig_err = m->gregs[REG_ERR];
		if (t->sig.exec_fault)
			t->sig_err |= PF_INSTR_FETCH;
		t->sig_cr2 = m->gregs[REG_CR2];
		m->gregs[REG_RIP] = (uint64_t)dune_touch_done;
		t->sig.touch_faulted = true;
		return false;
	}
	if (rip == (uint64_t)dune_ucopy_insn) {
		/* a frame copy: the caller sees -EFAULT, the signal is ours */
		m->gregs[REG_RIP] = (uint64_t)dune_ucopy_fixup;
		return true;
	}
	return false;
}

static void queue_signal(struct dune_thread *t, int sig, siginfo_t *si,
			 ucontext_t *uc, const struct dune_ksigaction *a)
{
	struct dune_sigstate *s = &t->sig;
	uint64_t kmask, base, rip = uc->uc_mcontext.gregs[REG_RIP];
	struct dune_sigq_entry *e;

	dune_copy(&kmask, &uc->uc_sigmask, sizeof(kmask));
	base = kmask;
	/*
	 * A forwarded rt_sigsuspend, pselect6, ppoll or epoll_pwait: the
	 * kernel put the saved mask in our frame; natively the handler's
	 * mask starts from the temporary one.
	 */
	if (s->tmpmask_valid && (rip == (uint64_t)dune_fwd_insn ||
				 rip == (uint64_t)dune_fwd_done)) {
		base = dune_sig_blockable(s->tmpmask);
		s->tmpmask_valid = false;
	}
	/* The kernel decided to restart the forwarded call: the guest will. */
	if (rip == (uint64_t)dune_fwd_insn) {
		uc->uc_mcontext.gregs[REG_RIP] = (uint64_t)dune_fwd_done;
		uc->uc_mcontext.gregs[REG_RAX] = -EINTR;
		s->restart = true;
	}
	/*
	 * Full (only forced faults get past the all-blocked mask below):
	 * never overwrite a queued frame.
	 */
	if (s->tail - s->head >= DUNE_SIGQ_LEN)
		return;
	e = &s->q[s->tail % DUNE_SIGQ_LEN];
	dune_copy(&e->info, si, sizeof(e->info));
	e->act = *a;
	e->saved_mask = kmask;
	kmask = dune_sig_handler_mask(base, a->mask, a->flags, sig);
	/*
	 * Natively the kernel would go on delivering; the last free slot
	 * stops it (all blocked) until the host loop has made the frames.
	 */
	if (s->tail - s->head >= DUNE_SIGQ_LEN - 1) {
		s->deferred_mask = kmask;
		s->mask_deferred = true;
		kmask = ~0ull;
	}
	dune_copy(&uc->uc_sigmask, &kmask, sizeof(kmask));
	__atomic_signal_fence(__ATOMIC_RELEASE);
	s->tail++;
}

static void trampoline(int sig, siginfo_t *si, void *ucv)
{
	struct dune_thread *t = dune_thread_here();
	ucontext_t *uc = ucv;
	struct dune_ksigaction a;
	uint64_t m;

	if (t && host_fault_fixup(t, sig, &uc->uc_mcontext))
		return;
	tab_read(sig, &a);
	/* Changed to SIG_DFL or SIG_IGN since the kernel chose us: gone. */
	if (!real_handler(a.handler))
		return;
	if (a.flags & SA_RESETHAND) {
		struct dune_ksigaction d = { .handler = SIG_DFL };

		tab_lock();
		tab_write(sig, &d);
		tab_unlock();
	}
	if (t) {
		queue_signal(t, sig, si, uc, &a);
		return;
	}
	/* Not in Dune mode: the handler runs here, as natively. */
	dune_copy(&m, &uc->uc_sigmask, sizeof(m));
	set_mask(dune_sig_handler_mask(m, a.mask, a.flags, sig));
	((void (*)(int, siginfo_t *, void *))a.handler)(sig, si, ucv);
}

DUNE_NOFPU_END
