// SPDX-License-Identifier: MIT
/*
 * Signal frames in the guest: the host loop builds Linux's x86-64
 * rt_sigframe on the guest's stack for each signal the trampoline queued
 * (sigaction.c) and enters the handler; the guest's rt_sigreturn and
 * sigaltstack come here too.  The guest runs in our address space, so a
 * frame is written at the guest's own virtual addresses, with a copy
 * that survives a fault (dune_ucopy: a bad stack means SIGSEGV, as
 * natively, never a crashed host loop).
 *
 * Host-loop code: raw system calls and general registers only (raw.h);
 * the explicit XSAVE/XRSTOR below move the guest's FPU state, which is
 * the thread's, to and from the frame as Linux does.
 */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>

#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

/* XSAVE feature numbers (SDM 13.1) */
#define XFEATURE_PKRU		9	/* kept for handlers */
#define XFEATURE_XTILE_DATA	18	/* AMX: on demand (XFD) */
/* The values FNINIT and a reset give FCW and MXCSR (SDM 8.1.5, 10.2.3) */
#define FCW_INIT		0x37f
#define MXCSR_INIT		0x1f80
/* FXSAVE layout (SDM table 10-2): MXCSR and MXCSR_MASK */
#define FX_MXCSR		24
#define FX_MXCSR_MASK		28
#define FX_SIZE			512
#define XSAVE_HDR_SIZE		64
#define MAGIC2_SIZE		4
/* XSTATE_BV bits 0 and 1: x87 and SSE state (SDM 13.4.2) */
#define XFEATURES_FP_SSE	3ull

/* What FXSAVE's MXCSR_MASK 0 stands for (SDM 11.6.6) */
static uint32_t mxcsr_mask = 0xffbf;
static uint8_t fpu_init_img[FX_SIZE + XSAVE_HDR_SIZE]
	__attribute__((aligned(64)));

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
		  uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(sub));
}

/*
 * Linux's user xstate for signal frames: every XCR0 feature except the
 * ones enabled per process on demand, in the standard (non-compacted)
 * format, sized like fpu_user_cfg.default_size.
 */
void dune_sig_fpu_init(void)
{
	uint8_t fx[FX_SIZE] __attribute__((aligned(16)));
	uint32_t a, b, c, d, m, size = FX_SIZE + XSAVE_HDR_SIZE;
	uint64_t mask;
	int i;

	dune_bzero(fx, sizeof(fx));
	__asm__ volatile("fxsave64 %0" : "=m"(fx));
	dune_copy(&m, fx + FX_MXCSR_MASK, sizeof(m));
	if (m)
		mxcsr_mask = m;
	dune_bzero(fpu_init_img, sizeof(fpu_init_img));
	*(uint16_t *)fpu_init_img = FCW_INIT;
	m = MXCSR_INIT;
	dune_copy(fpu_init_img + FX_MXCSR, &m, sizeof(m));

	dune_proc.sig_xmask = 0;
	dune_proc.sig_xsize = FX_SIZE;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 27)))	/* CPUID.1:ECX.OSXSAVE */
		return;
	mask = xgetbv0() & ~(1ull << XFEATURE_XTILE_DATA);
	for (i = 2; i < 63; i++) {
		if (!(mask & (1ull << i)))
			continue;
		cpuid(0xd, i, &a, &b, &c, &d);
		if (a + b > size)
			size = a + b;
	}
	dune_proc.sig_xmask = mask;
	dune_proc.sig_xsize = size;
	if (dune_proc.fpu_size < size + MAGIC2_SIZE)
		dune_proc.fpu_size = size + MAGIC2_SIZE;
}

static void fpu_save(uint8_t *buf)
{
	uint64_t m = dune_proc.sig_xmask;

	dune_bzero(buf, dune_proc.sig_xsize + (m ? MAGIC2_SIZE : 0));
	if (m) {
		__asm__ volatile("xsave64 (%0)"
				 : : "r"(buf), "a"((uint32_t)m),
				   "d"((uint32_t)(m >> 32))
				 : "memory");
		dune_fpstate_sw_fill(buf, m, dune_proc.sig_xsize);
	} else {
		__asm__ volatile("fxsave64 (%0)" : : "r"(buf) : "memory");
	}
}

static void fpu_restore(const uint8_t *buf, uint64_t m)
{
	if (dune_proc.sig_xmask)
		__asm__ volatile("xrstor64 (%0)"
				 : : "r"(buf), "a"((uint32_t)m),
				   "d"((uint32_t)(m >> 32))
				 : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(buf) : "memory");
}

/* fpu__clear_user_states: a handler starts with the FPU's init state. */
static void fpu_init_state(void)
{
	fpu_restore(fpu_init_img,
		    dune_proc.sig_xmask & ~(1ull << XFEATURE_PKRU));
}

static bool canonical(uint64_t a)
{
	return (uint64_t)(((int64_t)a << 16) >> 16) == a;
}

/*
 * Frame memory.  The host loop's frames are at the guest's addresses in
 * our own address space, copied with dune_ucopy (a fault is -EFAULT).
 * Ring-3 frames (@u set) are written by ring 0 for ring 3: every range
 * is checked with the owner's u->owns first, so ring 3 can never make
 * ring 0 touch memory it does not own, and an owned range does not fault.
 */
static long frame_get(const struct dune_user_sig *u, void *dst, uint64_t src,
		      size_t n)
{
	if (!u)
		return dune_ucopy(dst, (const void *)src, n);
	if (src + n < src || !u->owns(src, n, PROT_READ))
		return -EFAULT;
	dune_copy(dst, (const void *)src, n);
	return 0;
}

static long frame_put(const struct dune_user_sig *u, uint64_t dst,
		      const void *src, size_t n)
{
	if (!u)
		return dune_ucopy((void *)dst, src, n);
	if (dst + n < dst || !u->owns(dst, n, PROT_WRITE))
		return -EFAULT;
	dune_copy((void *)dst, src, n);
	return 0;
}

/* force_sigsegv: SIGSEGV that a handler for SIGSEGV itself cannot catch. */
static void force_sigsegv(struct dune_thread *t, int sig)
{
	struct dune_ksiginfo info;

	if (sig == SIGSEGV)
		dune_sig_set_default(SIGSEGV);
	dune_bzero(&info, sizeof(info));
	info.signo = SIGSEGV;
	info.code = SI_KERNEL;
	dune_force_signal(t, &info, t->sig_trapno, t->sig_err, t->sig_cr2);
}

static void sc_from_regs(struct dune_sigcontext *sc, const struct dune_regs *r)
{
	sc->r8 = r->r8;
	sc->r9 = r->r9;
	sc->r10 = r->r10;
	sc->r11 = r->r11;
	sc->r12 = r->r12;
	sc->r13 = r->r13;
	sc->r14 = r->r14;
	sc->r15 = r->r15;
	sc->rdi = r->rdi;
	sc->rsi = r->rsi;
	sc->rbp = r->rbp;
	sc->rbx = r->rbx;
	sc->rdx = r->rdx;
	sc->rax = r->rax;
	sc->rcx = r->rcx;
	sc->rsp = r->rsp;
	sc->rip = r->rip;
	sc->eflags = r->rflags;
}

static void regs_from_sc(struct dune_regs *r, const struct dune_sigcontext *sc)
{
	r->r8 = sc->r8;
	r->r9 = sc->r9;
	r->r10 = sc->r10;
	r->r11 = sc->r11;
	r->r12 = sc->r12;
	r->r13 = sc->r13;
	r->r14 = sc->r14;
	r->r15 = sc->r15;
	r->rdi = sc->rdi;
	r->rsi = sc->rsi;
	r->rbp = sc->rbp;
	r->rbx = sc->rbx;
	r->rdx = sc->rdx;
	r->rax = sc->rax;
	r->rcx = sc->rcx;
	r->rsp = sc->rsp;
	r->rip = sc->rip;
	r->rflags = dune_sig_return_flags(r->rflags, sc->eflags);
}

static void deliver_one(struct dune_thread *t, struct dune_regs *r,
			struct dune_sas *sas, const struct dune_user_sig *u,
			const struct dune_sigq_entry *e)
{
	int sig = e->info.signo;
	uint64_t xm = dune_proc.sig_xmask;
	uint64_t math = dune_proc.sig_xsize + (xm ? MAGIC2_SIZE : 0);
	struct dune_rt_sigframe f;
	struct dune_sigcontext *sc = &f.uc.uc_mcontext;
	uint64_t frame, fp;
	bool onstack;

	/* x86-64 has no default restorer: Linux gives SIGSEGV. */
	if (!dune_sig_flag(e->act.flags, DUNE_SA_RESTORER)) {
		force_sigsegv(t, sig);
		return;
	}
	onstack = dune_sig_flag(e->act.flags, DUNE_SA_ONSTACK);
	frame = dune_sigframe_place(sas, r->rsp, onstack, math, sizeof(f), &fp);
	if (!frame) {
		force_sigsegv(t, sig);
		return;
	}
	dune_bzero(&f, sizeof(f));
	f.pretcode = (uint64_t)e->act.restorer;
	f.uc.uc_flags = dune_sig_uc_flags(xm != 0);
	f.uc.uc_stack.sp = sas->sp;
	f.uc.uc_stack.size = sas->size;
	/* __save_altstack: the flags as sigaltstack got them */
	f.uc.uc_stack.flags = sas->flags;
	sc_from_regs(sc, r);
	/* What a native program sees; rt_sigreturn keeps the real ones. */
	sc->cs = DUNE_SIG_USER_CS;
	sc->ss = DUNE_SIG_USER_SS;
	sc->err = t->sig_err;
	sc->trapno = t->sig_trapno;
	sc->cr2 = t->sig_cr2;
	sc->oldmask = e->saved_mask;
	sc->fpstate = fp;
	f.uc.uc_sigmask = e->saved_mask;
	dune_copy(f.info, &e->info, sizeof(f.info));

	fpu_save(t->fpu_area);
	if (frame_put(u, fp, t->fpu_area, math) ||
	    frame_put(u, frame, &f, sizeof(f))) {
		force_sigsegv(t, sig);
		return;
	}
	dune_sas_after_frame(sas);
	r->rdi = sig;
	r->rsi = frame + offsetof(struct dune_rt_sigframe, info);
	r->rdx = frame + offsetof(struct dune_rt_sigframe, uc);
	r->rax = 0;
	r->rsp = frame;
	r->rip = (uint64_t)e->act.handler;
	r->rflags = dune_sig_entry_flags(r->rflags);
	fpu_init_state();
}

/* Frames for every queued signal, the last one's on top. */
static void deliver_queue(struct dune_thread *t, struct dune_regs *r,
			  struct dune_sas *sas, const struct dune_user_sig *u)
{
	struct dune_sigstate *s = &t->sig;
	struct dune_sigq_entry e;

	while (s->head != s->tail) {
		__atomic_signal_fence(__ATOMIC_ACQUIRE);
		dune_copy(&e, &s->q[s->head % DUNE_SIGQ_LEN], sizeof(e));
		s->head++;
		deliver_one(t, r, sas, u, &e);
		if (s->head == s->tail && s->mask_deferred) {
			uint64_t m = s->deferred_mask;

			s->mask_deferred = false;
			dune_sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&m, 0,
				  sizeof(m));
		}
	}
}

void dune_sig_deliver(struct dune_thread *t)
{
	struct dune_regs *r = &t->run.regs;

	/*
	 * The program's handlers are ring 3's (dune.h): never here.  In a
	 * ring-3 run, the owner's handler takes them.
	 */
	if (dune_user_signal_cb()) {
		if (t->user.active && !t->run.inject_vector)
			t->run.inject_vector = DUNE_VEC_USER_SIGNAL;
		return;
	}
	/*
	 * Only into program code at CPL 0: not a trap handler, not ring 3,
	 * not libdune's trap entry on an IST stack (those live in the
	 * thread's block).
	 */
	if (t->trap_depth || t->user.active ||
	    (r->rsp >= (uint64_t)t->block &&
	     r->rsp < (uint64_t)t->block + t->block_size))
		return;
	if (r->rip == (uint64_t)dune_syscall_stub_ret) {
		/* Back from a forwarded call: where the stub's jmp goes. */
		r->rip = r->rcx;
	} else if (r->rip == (uint64_t)dune_syscall_stub) {
		/*
		 * Stopped between the guest's `syscall` and our VMCALL: as
		 * natively, the handler runs first and the call after it.
		 */
		r->rip = r->rcx - 2;
		r->rflags = (r->rflags & ~DUNE_SFMASK) | (r->r11 & DUNE_SFMASK);
	}
	deliver_queue(t, r, &t->sig.sas, NULL);
}

/* Read and check the FPU area of a frame into @buf; the XRSTOR mask. */
static int fpstate_read(const struct dune_user_sig *u, uint8_t *buf,
			uint64_t fp, uint64_t *rfbm)
{
	uint64_t xm = dune_proc.sig_xmask;
	uint32_t size, at = 0, magic2 = 0, mx;

	if (frame_get(u, buf, fp, FX_SIZE))
		return -1;
	size = xm ? dune_fpstate_kind(buf, dune_proc.sig_xsize, &at) : FX_SIZE;
	if (size > FX_SIZE &&
	    (frame_get(u, &magic2, fp + at, sizeof(magic2)) ||
	     !dune_fpstate_magic2_ok(magic2)))
		size = FX_SIZE;
	dune_copy(&mx, buf + FX_MXCSR, sizeof(mx));
	if (size > FX_SIZE) {
		if (frame_get(u, buf, fp, size) ||
		    dune_xsave_header_check(buf + FX_SIZE, xm) ||
		    (mx & ~mxcsr_mask))
			return -1;
	} else {
		/* Legacy state only: the rest of the features start clean. */
		uint64_t bv = XFEATURES_FP_SSE;

		mx &= mxcsr_mask;
		dune_copy(buf + FX_MXCSR, &mx, sizeof(mx));
		dune_bzero(buf + FX_SIZE, XSAVE_HDR_SIZE);
		dune_copy(buf + FX_SIZE, &bv, sizeof(bv));
	}
	*rfbm = xm;
	return 0;
}

/*
 * rt_sigreturn for the thread at @r: 0, or -1 for a bad frame (nothing
 * changed then).  Ring 3 (@u) must come back with its own selectors.
 */
static int sigreturn_regs(struct dune_thread *t, struct dune_regs *r,
			  struct dune_sas *sas, const struct dune_user_sig *u)
{
	struct dune_rt_sigframe f;
	uint64_t rfbm = 0;

	/* The handler's `ret` popped pretcode: the frame is 8 bytes below. */
	if (frame_get(u, &f, r->rsp - 8, sizeof(f)))
		return -1;
	if (!canonical(f.uc.uc_mcontext.rip))
		return -1;
	/*
	 * Linux returns with cs | 3 and ss | 3, and an IRET to anything but
	 * the user selectors fails (SIGSEGV): a frame never gives ring 0.
	 */
	if (u && !dune_sig_user_sel_ok(f.uc.uc_flags, f.uc.uc_mcontext.cs,
				       f.uc.uc_mcontext.ss))
		return -1;
	if (f.uc.uc_mcontext.fpstate &&
	    fpstate_read(u, t->fpu_area, f.uc.uc_mcontext.fpstate, &rfbm))
		return -1;
	regs_from_sc(r, &f.uc.uc_mcontext);
	if (f.uc.uc_mcontext.fpstate)
		fpu_restore(t->fpu_area, rfbm);
	else
		fpu_init_state();
	/* The kernel drops SIGKILL and SIGSTOP from it. */
	dune_sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&f.uc.uc_sigmask, 0,
		  sizeof(uint64_t));
	/* restore_altstack: do_sigaltstack, its errors ignored */
	dune_sas_set(sas, &f.uc.uc_stack, r->rsp);
	return 0;
}

static void send_bad_frame(struct dune_thread *t)
{
	struct dune_ksiginfo info;

	dune_bzero(&info, sizeof(info));
	info.signo = SIGSEGV;
	info.code = SI_KERNEL;
	dune_force_signal(t, &info, t->sig_trapno, t->sig_err, t->sig_cr2);
}

void dune_sys_rt_sigreturn(struct dune_thread *t)
{
	struct dune_regs *r = &t->run.regs;

	if (!sigreturn_regs(t, r, &t->sig.sas, NULL))
		return;
	r->rax = 0;
	send_bad_frame(t);
}

/* ---- Ring 3 (dune.h: dune_user_sig_*) ---- */

/*
 * The trap entry saved ring 3's FPU state in t->fpu_area (libdune's
 * format) and restores it from there on the way out: the frame code works
 * on the live state, so load it first and save it back after.
 */
static void user_fpu_load(struct dune_thread *t)
{
	uint64_t m = dune_proc.xsave_mask;

	if (m)
		__asm__ volatile("xrstor64 (%0)"
				 : : "r"(t->fpu_area), "a"((uint32_t)m),
				   "d"((uint32_t)(m >> 32))
				 : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(t->fpu_area)
				 : "memory");
}

static void user_fpu_store(struct dune_thread *t)
{
	uint64_t m = dune_proc.xsave_mask;

	if (m)
		__asm__ volatile("xsave64 (%0)"
				 : : "r"(t->fpu_area), "a"((uint32_t)m),
				   "d"((uint32_t)(m >> 32))
				 : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(t->fpu_area)
				 : "memory");
}

static void sas_from_stack(struct dune_sas *s, const stack_t *ss)
{
	s->sp = (uint64_t)ss->ss_sp;
	s->size = ss->ss_size;
	s->flags = ss->ss_flags;
	if (!s->size)
		s->flags |= SS_DISABLE;
}

static void sas_to_stack(stack_t *ss, const struct dune_sas *s)
{
	ss->ss_sp = (void *)s->sp;
	ss->ss_size = s->size;
	ss->ss_flags = s->flags;
}

static void regs_to_tf(const struct dune_regs *r, struct dune_tf *tf)
{
	tf->rax = r->rax;
	tf->rbx = r->rbx;
	tf->rcx = r->rcx;
	tf->rdx = r->rdx;
	tf->rsi = r->rsi;
	tf->rdi = r->rdi;
	tf->rbp = r->rbp;
	tf->rsp = r->rsp;
	tf->r8 = r->r8;
	tf->r9 = r->r9;
	tf->r10 = r->r10;
	tf->r11 = r->r11;
	tf->r12 = r->r12;
	tf->r13 = r->r13;
	tf->r14 = r->r14;
	tf->r15 = r->r15;
	tf->rip = r->rip;
	tf->rflags = r->rflags;
}

/* In a ring-3 run's handler, on ring 3's frame?  Then the thread. */
static struct dune_thread *user_thread(const struct dune_tf *tf)
{
	struct dune_thread *t;

	if (!dune_active())
		return NULL;
	t = dune_cur_thread();
	if (!t->user.active || !t->trap_depth || !(tf->cs & 3))
		return NULL;
	return t;
}

/*
 * A system call handler: ring 3 resumes from every register of @tf
 * from now on; make the view sysret would have given (dune_user_syscall
 * skips it then).
 */
static void user_full_return(struct dune_thread *t, struct dune_tf *tf)
{
	if (tf->vector != DUNE_VEC_USER_SYSCALL || t->sig.user_full)
		return;
	tf->r10 = tf->rcx;
	tf->rcx = tf->rip;
	tf->r11 = tf->rflags;
	t->sig.user_full = true;
}

bool dune_user_sig_deliver(struct dune_tf *tf, const struct dune_user_sig *u)
{
	struct dune_thread *t = user_thread(tf);
	struct dune_regs r;
	struct dune_sas sas;
	bool restart;

	if (!t)
		return false;
	restart = t->sig.user_restart && tf->vector == DUNE_VEC_USER_SYSCALL;
	t->sig.user_restart = false;
	if (!restart && t->sig.head == t->sig.tail)
		return false;
	user_full_return(t, tf);
	if (restart) {
		/* The kernel restarted it: ring 3 issues it again. */
		tf->rip -= 2;	/* the `syscall` instruction (0f 05) */
		tf->rax = t->sig.user_nr;
	}
	if (t->sig.head == t->sig.tail)
		return true;
	dune_tf_to_regs(tf, &r);
	sas_from_stack(&sas, u->altstack);
	user_fpu_load(t);
	deliver_queue(t, &r, &sas, u);
	user_fpu_store(t);
	sas_to_stack(u->altstack, &sas);
	regs_to_tf(&r, tf);
	return true;
}

long dune_user_sigreturn(struct dune_tf *tf, const struct dune_user_sig *u)
{
	struct dune_thread *t = user_thread(tf);
	struct dune_regs r;
	struct dune_sas sas;
	int bad;

	if (!t)
		return -ENOSYS;
	dune_tf_to_regs(tf, &r);
	sas_from_stack(&sas, u->altstack);
	user_fpu_load(t);
	bad = sigreturn_regs(t, &r, &sas, u);
	user_fpu_store(t);
	if (bad) {
		send_bad_frame(t);
		return 0;
	}
	sas_to_stack(u->altstack, &sas);
	user_full_return(t, tf);
	regs_to_tf(&r, tf);
	return tf->rax;
}

int dune_user_sig_fault(struct dune_tf *tf, const siginfo_t *info,
			uint64_t trapno, uint64_t err, const uint64_t *cr2,
			const struct dune_user_sig *u)
{
	struct dune_thread *t = user_thread(tf);
	int sig = info->si_signo;
	uint64_t blocked = 0;

	if (!t || sig < 1 || sig > 64)
		return sig;
	dune_sys4(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&blocked,
		  sizeof(blocked));
	/* force_sig: blocked or ignored, the default action (death). */
	if (!dune_sig_has_handler(sig) || (blocked & (1ull << (sig - 1))))
		return sig;
	dune_force_signal(t, (const struct dune_ksiginfo *)info, trapno, err,
			  cr2 ? *cr2 : t->sig_cr2);
	dune_user_sig_deliver(tf, u);
	return 0;
}

long dune_user_sigaltstack(const struct dune_user_sig *u, uint64_t rsp,
			   const stack_t *ss, stack_t *old)
{
	struct dune_kstack k, o;
	struct dune_sas sas;
	long r = 0;

	sas_from_stack(&sas, u->altstack);
	dune_sas_get(&sas, rsp, &o);
	if (ss) {
		k.sp = (uint64_t)ss->ss_sp;
		k.flags = ss->ss_flags;
		k.pad = 0;
		k.size = ss->ss_size;
		r = dune_sas_set(&sas, &k, rsp);
		if (r)
			return r;
		sas_to_stack(u->altstack, &sas);
	}
	if (old) {
		old->ss_sp = (void *)o.sp;
		old->ss_flags = o.flags;
		old->ss_size = o.size;
	}
	return 0;
}

long dune_sys_sigaltstack(struct dune_thread *t, uint64_t uss, uint64_t uoss)
{
	struct dune_kstack ss, old;
	uint64_t sp = t->run.regs.rsp;
	long r;

	if (uss && dune_vm_read(&ss, uss, sizeof(ss)))
		return -EFAULT;
	dune_sas_get(&t->sig.sas, sp, &old);
	if (uss) {
		r = dune_sas_set(&t->sig.sas, &ss, sp);
		if (r)
			return r;
	}
	if (uoss && dune_vm_write(uoss, &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

void dune_sig_note_tmpmask(struct dune_thread *t)
{
	const struct dune_regs *r = &t->run.regs;
	uint64_t ptr, size, m, d[2];

	switch ((long)r->rax) {
	case SYS_rt_sigsuspend:
		ptr = r->rdi;
		size = r->rsi;
		break;
	case SYS_ppoll:
		ptr = r->r10;
		size = r->r8;
		break;
	case SYS_pselect6:
		/* its 6th argument: { const sigset_t *ss; size_t ss_len; } */
		if (!r->r9 || dune_vm_read(d, r->r9, sizeof(d)))
			return;
		ptr = d[0];
		size = d[1];
		break;
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
		ptr = r->r8;
		size = r->r9;
		break;
	default:
		return;
	}
	/* The kernel refuses the call itself for a bad one: no mask then. */
	if (!ptr || size != sizeof(m) || dune_vm_read(&m, ptr, sizeof(m)))
		return;
	t->sig.tmpmask = m;
	t->sig.tmpmask_valid = true;
}

DUNE_NOFPU_END
