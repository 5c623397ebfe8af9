// SPDX-License-Identifier: MIT
/*
 * Signals handled inside the guest (dune_register_signal_handler).
 *
 * Linux delivers signals only to native code: for a thread in Dune mode
 * that is the host loop, on the way out of DUNE_RUN or of a forwarded
 * system call.  Our native handler then only marks the signal pending in
 * the thread; the host loop passes DUNE_SIGNAL_VECTOR(signum) to the next
 * DUNE_RUN, and dune.ko delivers it as an external interrupt through the
 * guest's IDT once the guest has interrupts on, i.e. outside handlers.
 * dune_trap then calls the program's callback with the interrupted frame.
 *
 * A thread that is not in Dune mode gets the callback right away, in the
 * native handler, with a frame made from the signal context.
 */
#include <errno.h>
#include <signal.h>
#include <ucontext.h>

#include "internal.h"
#include "raw.h"

#define NSIG_DUNE 64

static dune_intr_cb sig_cbs[NSIG_DUNE + 1];

dune_intr_cb dune_signal_cb(unsigned int vec)
{
	if (vec < DUNE_SIGNAL_VECTOR(1) || vec > DUNE_SIGNAL_VECTOR(NSIG_DUNE))
		return NULL;
	return __atomic_load_n(&sig_cbs[vec - DUNE_SIGNAL_VECTOR(0)],
			       __ATOMIC_ACQUIRE);
}

unsigned int dune_signal_next(struct dune_thread *t)
{
	uint64_t p = __atomic_load_n(&t->sig_pending, __ATOMIC_RELAXED);
	int bit;

	if (!p)
		return 0;
	bit = __builtin_ctzll(p);
	/* The native handler may set other bits meanwhile: one atomic op. */
	__atomic_fetch_and(&t->sig_pending, ~(1ull << bit), __ATOMIC_RELAXED);
	return DUNE_SIGNAL_VECTOR(bit + 1);
}

static void tf_from_uc(struct dune_tf *tf, const mcontext_t *m, int sig)
{
	tf->rax = m->gregs[REG_RAX];
	tf->rbx = m->gregs[REG_RBX];
	tf->rcx = m->gregs[REG_RCX];
	tf->rdx = m->gregs[REG_RDX];
	tf->rsi = m->gregs[REG_RSI];
	tf->rdi = m->gregs[REG_RDI];
	tf->rbp = m->gregs[REG_RBP];
	tf->r8 = m->gregs[REG_R8];
	tf->r9 = m->gregs[REG_R9];
	tf->r10 = m->gregs[REG_R10];
	tf->r11 = m->gregs[REG_R11];
	tf->r12 = m->gregs[REG_R12];
	tf->r13 = m->gregs[REG_R13];
	tf->r14 = m->gregs[REG_R14];
	tf->r15 = m->gregs[REG_R15];
	tf->vector = DUNE_SIGNAL_VECTOR(sig);
	tf->err = 0;
	tf->rip = m->gregs[REG_RIP];
	tf->rflags = m->gregs[REG_EFL];
	tf->rsp = m->gregs[REG_RSP];
	/* sigcontext: cs, gs, fs, ss in 16-bit parts of this word */
	tf->cs = m->gregs[REG_CSGSFS] & 0xffff;
	tf->ss = (m->gregs[REG_CSGSFS] >> 48) & 0xffff;
}

/* The callback may edit the frame; sigreturn then resumes from it. */
static void tf_to_uc(const struct dune_tf *tf, mcontext_t *m)
{
	m->gregs[REG_RAX] = tf->rax;
	m->gregs[REG_RBX] = tf->rbx;
	m->gregs[REG_RCX] = tf->rcx;
	m->gregs[REG_RDX] = tf->rdx;
	m->gregs[REG_RSI] = tf->rsi;
	m->gregs[REG_RDI] = tf->rdi;
	m->gregs[REG_RBP] = tf->rbp;
	m->gregs[REG_R8] = tf->r8;
	m->gregs[REG_R9] = tf->r9;
	m->gregs[REG_R10] = tf->r10;
	m->gregs[REG_R11] = tf->r11;
	m->gregs[REG_R12] = tf->r12;
	m->gregs[REG_R13] = tf->r13;
	m->gregs[REG_R14] = tf->r14;
	m->gregs[REG_R15] = tf->r15;
	m->gregs[REG_RIP] = tf->rip;
	m->gregs[REG_EFL] = tf->rflags;
	m->gregs[REG_RSP] = tf->rsp;
}

static void native_handler(int sig, siginfo_t *si, void *ucv)
{
	struct dune_thread *t = dune_self;
	ucontext_t *uc = ucv;
	struct dune_tf tf;
	dune_intr_cb cb;

	/* In Dune mode: this runs in the host loop; the guest takes it. */
	if (t && t->vcpu_fd >= 0) {
		__atomic_fetch_or(&t->sig_pending, 1ull << (sig - 1),
				  __ATOMIC_RELAXED);
		return;
	}
	cb = __atomic_load_n(&sig_cbs[sig], __ATOMIC_ACQUIRE);
	if (!cb)
		return;
	tf_from_uc(&tf, &uc->uc_mcontext, sig);
	cb(&tf);
	tf_to_uc(&tf, &uc->uc_mcontext);
}

bool dune_signal_is_registered(const void *h)
{
	return h == (const void *)native_handler;
}

int dune_set_signal_handler(int signum, dune_intr_cb cb)
{
	struct sigaction sa;

	/* 32 and 33 are glibc's own (thread cancellation, setxid). */
	if (signum < 1 || signum > NSIG_DUNE || signum == SIGKILL ||
	    signum == SIGSTOP || signum == 32 || signum == 33)
		return -EINVAL;
	sigemptyset(&sa.sa_mask);
	if (cb) {
		/*
		 * No SA_RESTART: a forwarded system call blocked when the
		 * signal came must return (-EINTR) so that the host loop
		 * gets to inject it; restarted, it would keep the callback
		 * waiting for as long as it blocks.
		 */
		sa.sa_sigaction = native_handler;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	} else {
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = 0;
	}
	__atomic_store_n(&sig_cbs[signum], cb, __ATOMIC_RELEASE);
	if (sigaction(signum, &sa, NULL))
		return -errno;
	return 0;
}

int dune_register_signal_handler(int signum, dune_intr_cb cb)
{
	int ret = dune_set_signal_handler(signum, cb);

	if (ret) {
		errno = -ret;
		return ret;
	}
	/* The original libdune's vector for this signal (dune.h). */
	if (signum < DUNE_IDT_ENTRIES - DUNE_SIGNAL_INTR_BASE)
		dune_set_intr_handler(DUNE_SIGNAL_INTR_BASE + signum, cb);
	return 0;
}

/* dune_signal's callbacks, called with the signal number. */
static sighandler_t plain_cbs[NSIG_DUNE + 1];

static void plain_trampoline(struct dune_tf *tf)
{
	/*
	 * A signal comes with its own vector; `int DUNE_SIGNAL_INTR_BASE
	 * + s` (the original's vector) with that one.
	 */
	int sig = tf->vector >= DUNE_SIGNAL_INTR_BASE ?
		  (int)tf->vector - DUNE_SIGNAL_INTR_BASE :
		  (int)tf->vector - DUNE_SIGNAL_VECTOR(0);
	sighandler_t cb;

	if (sig < 1 || sig > NSIG_DUNE)
		return;
	cb = __atomic_load_n(&plain_cbs[sig], __ATOMIC_ACQUIRE);
	if (cb && cb != SIG_IGN && cb != SIG_DFL)
		cb(sig);
}

sighandler_t dune_signal(int sig, sighandler_t cb)
{
	int ret;

	if (sig < 1 || sig > NSIG_DUNE) {
		errno = EINVAL;
		return SIG_ERR;
	}
	if (cb == SIG_DFL || cb == SIG_IGN) {
		ret = dune_register_signal_handler(sig, NULL);
		__atomic_store_n(&plain_cbs[sig], NULL, __ATOMIC_RELEASE);
		if (ret || signal(sig, cb) == SIG_ERR)
			return SIG_ERR;
		return NULL;
	}
	__atomic_store_n(&plain_cbs[sig], cb, __ATOMIC_RELEASE);
	if (dune_register_signal_handler(sig, plain_trampoline))
		return SIG_ERR;
	return NULL;
}

/* Ring-3 handlers (dune.h): the owner's callback for DUNE_VEC_USER_SIGNAL. */
static dune_intr_cb user_sig_cb;

void dune_register_user_signal_handler(dune_intr_cb cb)
{
	__atomic_store_n(&user_sig_cb, cb, __ATOMIC_RELEASE);
}

dune_intr_cb dune_user_signal_cb(void)
{
	return __atomic_load_n(&user_sig_cb, __ATOMIC_ACQUIRE);
}
