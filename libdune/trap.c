// SPDX-License-Identifier: MIT
/*
 * Guest exceptions and interrupts.  This code runs inside the guest, at
 * CPL 0 on an IST stack with interrupts off, between two instructions of
 * the program: general registers only (raw.h), no stdio (the program may
 * hold its locks), system calls through `syscall` (forwarded as usual).
 *
 * By default an exception becomes the signal Linux sends for it, with
 * the same siginfo and context (DUNE_DEBUG=1 also reports it on stderr);
 * what Linux never signals is reported and fatal.  Programs may register
 * handlers instead.
 *
 * IST everywhere: at CPL 0 the CPU would otherwise push the frame onto
 * the program's stack, over its red zone.  IST1 serves ordinary traps,
 * #DF, NMI and #MC have their own, so they work even when IST1 is what
 * broke.  A trap while a handler runs on the same IST would overwrite the
 * first frame, so nesting is refused (reported and fatal).
 *
 * Traps from ring 3 (user.c) come here too: LSTAR is switched to the
 * ring-0 stub for the handler and back before ring 3 resumes.  Injected
 * signals (signal.c) arrive as external interrupts on their vectors.
 */
#include <asm/debugreg.h>
#include <errno.h>
#include <signal.h>

#include "fmt.h"
#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

struct dune_idt_gate dune_idt[DUNE_IDT_ENTRIES] __attribute__((aligned(4096)));

static dune_intr_cb intr_handlers[DUNE_IDT_ENTRIES];
static dune_pgflt_cb pgflt_handler;

static unsigned int vector_ist(unsigned int vec)
{
	switch (vec) {
	case 2:
		return DUNE_IST_NMI;
	case 8:
		return DUNE_IST_DF;
	case 18:
		return DUNE_IST_MC;
	default:
		return DUNE_IST_TRAP;
	}
}

void dune_idt_init(void)
{
	unsigned int v;

	for (v = 0; v < DUNE_IDT_ENTRIES; v++)
		/* DPL 3 on #BP so int3 also works from ring 3 later. */
		dune_idt_set(&dune_idt[v],
			     (uint64_t)(dune_trap_stubs + v * TRAP_STUB_SIZE),
			     vector_ist(v), v == 3 ? 3 : 0);
}

void dune_set_intr_handler(int vec, dune_intr_cb cb)
{
	__atomic_store_n(&intr_handlers[vec], cb, __ATOMIC_RELEASE);
}

int dune_register_intr_handler(int vec, dune_intr_cb cb)
{
	if (vec < 0 || vec >= DUNE_IDT_ENTRIES) {
		errno = EINVAL;
		return -EINVAL;
	}
	dune_set_intr_handler(vec, cb);
	/*
	 * The original libdune's signals were this vector; a signal that
	 * cannot have a handler (SIGKILL, glibc's) keeps just the vector,
	 * as there.
	 */
	if (vec > DUNE_SIGNAL_INTR_BASE)
		dune_set_signal_handler(vec - DUNE_SIGNAL_INTR_BASE, cb);
	return 0;
}

void dune_register_pgflt_handler(dune_pgflt_cb cb)
{
	__atomic_store_n(&pgflt_handler, cb, __ATOMIC_RELEASE);
}

void dune_set_lstar(struct dune_thread *t, bool user)
{
	uint64_t v = user ? (uint64_t)dune_user_syscall_stub :
			    (uint64_t)dune_syscall_stub;

	if (t->lstar_user == user)
		return;
	__asm__ volatile("wrmsr"
			 :
			 : "c"(MSR_LSTAR_NR), "a"((uint32_t)v),
			   "d"((uint32_t)(v >> 32))
			 : "memory");
	t->lstar_user = user;
}

/* The IST top above every frame holds the thread (thread.c). */
static struct dune_thread *tf_thread(struct dune_tf *tf)
{
	return *(struct dune_thread **)(tf + 1);
}

static uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* Handlers are ordinary C: save the vector registers they may use. */
static void fpu_save(uint8_t *area)
{
	uint64_t m = dune_proc.xsave_mask;

	if (m)
		__asm__ volatile("xsave64 (%0)"
				 :
				 : "r"(area), "a"((uint32_t)m),
				   "d"((uint32_t)(m >> 32))
				 : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static void fpu_restore(uint8_t *area)
{
	uint64_t m = dune_proc.xsave_mask;

	if (m)
		__asm__ volatile("xrstor64 (%0)"
				 :
				 : "r"(area), "a"((uint32_t)m),
				   "d"((uint32_t)(m >> 32))
				 : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

void dune_tf_to_regs(const struct dune_tf *tf, struct dune_regs *r)
{
	r->rax = tf->rax;
	r->rbx = tf->rbx;
	r->rcx = tf->rcx;
	r->rdx = tf->rdx;
	r->rsi = tf->rsi;
	r->rdi = tf->rdi;
	r->rbp = tf->rbp;
	r->rsp = tf->rsp;
	r->r8 = tf->r8;
	r->r9 = tf->r9;
	r->r10 = tf->r10;
	r->r11 = tf->r11;
	r->r12 = tf->r12;
	r->r13 = tf->r13;
	r->r14 = tf->r14;
	r->r15 = tf->r15;
	r->rip = tf->rip;
	r->rflags = tf->rflags;
}

static void out_frame(struct dune_out *o, const struct dune_tf *tf)
{
	struct dune_regs r;

	dune_tf_to_regs(tf, &r);
	dune_out_regs(o, &r);
	dune_out_str(o, "    cs ");
	dune_out_hex(o, tf->cs);
	dune_out_str(o, (tf->cs & 3) ? " (ring 3)" : " (ring 0)");
	dune_out_str(o, "  ss ");
	dune_out_hex(o, tf->ss);
	dune_out_str(o, "  vector ");
	dune_out_dec(o, tf->vector);
	dune_out_str(o, "  error code ");
	dune_out_hex(o, tf->err);
	dune_out_str(o, "\n");
}

void dune_dump_trap_frame(struct dune_tf *tf)
{
	struct dune_out o;

	dune_out_init(&o, 2);
	out_frame(&o, tf);
	dune_out_flush(&o);
}

static void out_pf_detail(struct dune_out *o, uint64_t cr2, uint64_t err)
{
	dune_out_str(o, "  ");
	dune_out_str(o, err & FEC_I ? "instruction fetch" :
			err & FEC_W ? "write" : "read");
	dune_out_str(o, err & FEC_P ? ", protection violation" :
				      ", page not present");
	if (err & FEC_RSV)
		dune_out_str(o, ", reserved bit set");
	dune_out_str(o, "\n  ");
	if (dune_layout_va_to_pa(&dune_proc.layout, cr2) == DUNE_BAD_ADDR) {
		dune_out_str(o, "address ");
		dune_out_hex(o, cr2);
		dune_out_str(o, " is outside the memory Dune can map (windows: ");
		dune_out_windows(o, &dune_proc.layout);
		dune_out_str(o, ")\n");
	} else {
		dune_out_str(o, "address ");
		dune_out_hex(o, cr2);
		dune_out_str(o, " (inside a window: the guest page tables were changed?)\n");
	}
}

/* The exception in detail on stderr, ending with "  @what @sig\n". */
static void report(struct dune_tf *tf, uint64_t cr2, const char *why,
		   const char *what, int sig)
{
	unsigned int vec = tf->vector;
	struct dune_out o;

	dune_out_init(&o, 2);
	dune_out_str(&o, "dune: ");
	if (why) {
		dune_out_str(&o, why);
		dune_out_str(&o, ": ");
	}
	dune_out_str(&o, dune_vector_desc(vec));
	dune_out_str(&o, " (");
	dune_out_str(&o, dune_vector_mnemonic(vec));
	dune_out_str(&o, ", vector ");
	dune_out_dec(&o, vec);
	dune_out_str(&o, (tf->cs & 3) ? ") in Dune mode, from ring 3, at rip " :
					") in Dune mode at rip ");
	dune_out_hex(&o, tf->rip);
	if (dune_vector_has_error_code(vec)) {
		dune_out_str(&o, ", error code ");
		dune_out_hex(&o, tf->err);
	}
	dune_out_str(&o, "\n");
	if (vec == 14) {
		dune_out_str(&o, "  cr2 ");
		dune_out_hex(&o, cr2);
		dune_out_str(&o, "\n");
		out_pf_detail(&o, cr2, tf->err);
	}
	dune_out_str(&o, "  registers:\n");
	out_frame(&o, tf);
	dune_out_str(&o, "  ");
	dune_out_str(&o, what);
	dune_out_str(&o, " ");
	dune_out_dec(&o, sig);
	dune_out_str(&o, "\n");
	dune_out_flush(&o);
}

static __attribute__((noreturn)) void report_and_die(struct dune_tf *tf,
						     uint64_t cr2,
						     const char *why)
{
	int sig = dune_vector_signal(tf->vector);

	report(tf, cr2, why, "ending the process with signal", sig);
	dune_die_signal(sig);
}

__attribute__((noreturn)) void dune_report_and_die(struct dune_tf *tf,
						   const char *why)
{
	report_and_die(tf, tf->vector == 14 ? read_cr2() : 0, why);
}

/* The ring-3 system call stub raised its vector (and nothing else did). */
static bool is_user_syscall(const struct dune_tf *tf, bool lstar_user)
{
	return tf->vector == DUNE_VEC_USER_SYSCALL && lstar_user &&
	       !(tf->cs & 3) &&
	       tf->rip == (uint64_t)dune_user_syscall_stub_ret;
}

static uint64_t read_dr6_and_reset(void)
{
	uint64_t v, reset = DR6_RESERVED;

	/* Each a VM exit (dune.ko keeps the guest's DR6); #DB is rare. */
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	/* As Linux does: the next #DB must not see this one's bits. */
	__asm__ volatile("mov %0, %%dr6" : : "r"(reset));
	return v;
}

/* `int imm8` (SDM vol. 2: CD ib) and the IDT flag of an error code */
#define INT_N_OPCODE	0xcd
#define INT_N_LEN	2
#define SEL_ERR_IDT	0x2

/*
 * A vector >= 32 without a handler: nothing raises those but an `int $n`
 * of the program (signals are injected on vectors that never get here),
 * which is right before rip.  Reading it is a guest access that could
 * fault: with trap_depth set, that is reported, not a nested frame.
 */
static bool soft_int(struct dune_thread *t, const struct dune_tf *tf)
{
	const volatile uint8_t *p = (const volatile uint8_t *)tf->rip;
	bool yes;

	t->trap_depth++;
	yes = p[-2] == INT_N_OPCODE && p[-1] == tf->vector;
	t->trap_depth--;
	return yes;
}

/*
 * No handler for this exception: the signal Linux would send for it
 * (excsig.c), which the host loop sends once it has put the guest back
 * at the faulting context (exchost.c); the FPU state stays what the
 * faulting instruction left.  A spurious #DB, #MF or #XM is resumed,
 * as Linux does.  What Linux never signals (#DF, NMI, #MC, a page fault
 * in the user half: Dune's windows or the program's page tables) and
 * any exception at ring 3 or during a ring-3 run are reported and fatal.
 * Returns only to resume.
 */
static void exc_to_signal(struct dune_thread *t, struct dune_tf *tf,
			  uint64_t cr2)
{
	struct dune_exc e;
	int r;

	if ((tf->cs & 3) || t->user.active)
		report_and_die(tf, cr2, NULL);
	if (tf->vector >= 32 && soft_int(t, tf)) {
		/*
		 * Natively the gate's DPL 0 refuses `int $n` from user mode:
		 * #GP at the instruction, error code n with the IDT flag
		 * (SDM vol. 3 6.13).  The frame is back at the instruction.
		 */
		tf->rip -= INT_N_LEN;
		tf->err = (tf->vector << 3) | SEL_ERR_IDT;
		tf->vector = DUNE_TRAP_GP;
	}
	dune_bzero(&e, sizeof(e));
	e.vector = tf->vector;
	e.err = tf->err;
	e.rip = tf->rip;
	e.cr2 = cr2;
	if (e.vector == DUNE_TRAP_DB)
		e.dr6 = read_dr6_and_reset();
	/* None of these waits for or raises a pending FP exception. */
	if (e.vector == DUNE_TRAP_MF)
		__asm__ volatile("fnstsw %0\n\tfnstcw %1"
				 : "=m"(e.fsw), "=m"(e.fcw));
	if (e.vector == DUNE_TRAP_XF)
		__asm__ volatile("stmxcsr %0" : "=m"(e.mxcsr));
	r = dune_exc_signal(&e, &t->exc);
	if (r == DUNE_EXC_RETRY)
		return;
	if (r == DUNE_EXC_REPORT)
		report_and_die(tf, cr2, NULL);
	if (dune_proc.debug)
		report(tf, cr2, NULL, "sending the program signal",
		       t->exc.info.signo);
	t->exc_armed = true;
	dune_exc_hypercall();
}

/* Called by trap.S on the IST stack, for every vector. */
void dune_trap(struct dune_tf *tf)
{
	struct dune_thread *t = tf_thread(tf);
	unsigned int vec = tf->vector;
	uint64_t cr2 = vec == 14 ? read_cr2() : 0;
	bool lstar_user = t->lstar_user;
	dune_pgflt_cb pf = NULL;
	dune_intr_cb cb;

	/* Handlers (and the reports below) make system calls. */
	dune_set_lstar(t, false);
	if (t->trap_depth)
		report_and_die(tf, cr2, "trap inside a trap handler");
	if (vec == 14 && dune_vsyscall_fault(t, tf, cr2))
		goto out;
	if (is_user_syscall(tf, lstar_user)) {
		cb = dune_user_syscall;
	} else if (vec == DUNE_VEC_USER_SIGNAL && dune_user_signal_cb()) {
		/* Injected for a ring-3 run, which may have ended since. */
		if (!(tf->cs & 3))
			goto out;
		cb = dune_user_signal_cb();
	} else {
		if (vec == 14)
			pf = __atomic_load_n(&pgflt_handler, __ATOMIC_ACQUIRE);
		cb = __atomic_load_n(&intr_handlers[vec], __ATOMIC_ACQUIRE);
		if (!cb)
			cb = dune_signal_cb(vec);
		if (!pf && !cb && dune_int80_trap(tf))
			cb = dune_int80;
		/* A signal whose handler was removed since: ignore it. */
		if (!pf && !cb && vec >= DUNE_SIGNAL_VECTOR(1) &&
		    vec <= DUNE_SIGNAL_VECTOR(64))
			goto out;
		if (!pf && !cb) {
			exc_to_signal(t, tf, cr2);
			goto out;
		}
	}

	t->trap_depth++;
	fpu_save(t->fpu_area);
	if (pf)
		pf(cr2, tf->err, tf);
	else
		cb(tf);
	fpu_restore(t->fpu_area);
	t->trap_depth--;
out:
	/* trap.S gives the next trap from ring 3 the bases ring 0 has now */
	if (t->user.active)
		dune_user_save_bases(t);
	if (tf->cs & 3) {
		dune_user_sanitize(tf);
		dune_set_lstar(t, true);
	} else {
		/* Back into the ring-3 stub's window: ring 3 is still on. */
		dune_set_lstar(t, tf->rip == (uint64_t)dune_user_syscall_stub);
	}
}

DUNE_NOFPU_END
