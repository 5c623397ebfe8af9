// SPDX-License-Identifier: MIT
/*
 * The signal Linux sends a process for each exception its instructions
 * raise in user mode (arch/x86/kernel/traps.c, mm/fault.c and the FPU
 * code): a pure function of the vector and the state the trap handler
 * read, unit-tested on the host (test/unit/excsig_test.c) and checked
 * against native runs by the fid-exc-* programs.
 *
 * trapno and err are what Linux keeps in thread.trap_nr and error_code
 * and shows in every later signal frame; cr2 changes only for a page
 * fault.  Signals Linux raises with force_sig (SI_KERNEL) carry no
 * address; force_sig_fault ones carry the instruction's (or, for a trap,
 * the next instruction's) address.
 *
 * Runs in the guest (trap handler) and in the host loop: general
 * registers only.
 */
#include <asm/debugreg.h>
#include <signal.h>

#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

/*
 * x87 status and control word exception bits (SDM vol. 1 8.1.3, 8.1.5);
 * MXCSR has the flags in the same order at bit 0 and the masks at bit 7
 * (SDM vol. 1 10.2.3).
 */
#define FPX_IE		0x01	/* invalid operation */
#define FPX_DE		0x02	/* denormal operand */
#define FPX_ZE		0x04	/* divide by zero */
#define FPX_OE		0x08	/* overflow */
#define FPX_UE		0x10	/* underflow */
#define FPX_PE		0x20	/* precision */
#define MXCSR_MASK_SHIFT 7

/* The lowest address Linux treats as the kernel's (4-level paging). */
#define DUNE_TASK_SIZE_MAX ((1ull << 47) - 4096)

/*
 * Which unmasked exception to report when several flags are set: the
 * order of Linux's fpu__exception_code.  0: none (a spurious trap, which
 * Linux answers by just returning).
 */
static int fp_code(unsigned int unmasked)
{
	if (unmasked & FPX_IE)
		return FPE_FLTINV;
	if (unmasked & FPX_ZE)
		return FPE_FLTDIV;
	if (unmasked & FPX_OE)
		return FPE_FLTOVF;
	if (unmasked & (FPX_DE | FPX_UE))
		return FPE_FLTUND;
	if (unmasked & FPX_PE)
		return FPE_FLTRES;
	return 0;
}

/* SIGTRAP's si_code for a #DB from the DR6 bits (positive polarity). */
static int db_code(uint64_t dr6)
{
	if (dr6 & DR_STEP)
		return TRAP_TRACE;
	if (dr6 & DR_TRAP_BITS)
		return TRAP_HWBKPT;
	return TRAP_BRKPT;
}

static void set(struct dune_excsig *s, int signo, int code, uint64_t addr,
		unsigned int trapno, uint64_t err)
{
	dune_bzero(s, sizeof(*s));
	s->info.signo = signo;
	s->info.code = code;
	s->info.addr = addr;
	s->trapno = trapno;
	s->err = err;
}

int dune_exc_signal(const struct dune_exc *e, struct dune_excsig *s)
{
	uint64_t dr6;
	int code;

	switch (e->vector) {
	case DUNE_TRAP_DE:
		/* Overflow of a signed division too: FPE_INTDIV. */
		set(s, SIGFPE, FPE_INTDIV, e->rip, e->vector, 0);
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_DB:
		/*
		 * No reason in DR6 at all: icebp (int1), which Linux turns
		 * into TRAP_BRKPT.  Other causes (DR6.BD, BT) are not the
		 * program's: Linux sends nothing.
		 */
		dr6 = e->dr6 ^ DR6_RESERVED;
		if (!(dr6 & (DR_STEP | DR_TRAP_BITS)) && dr6)
			return DUNE_EXC_RETRY;
		set(s, SIGTRAP, db_code(dr6), e->rip, e->vector, 0);
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_BP:
		set(s, SIGTRAP, SI_KERNEL, 0, e->vector, 0);
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_OF:	/* only `int $4` reaches it in 64-bit mode */
	case DUNE_TRAP_BR:	/* bound is #UD in 64-bit mode */
		set(s, SIGSEGV, SI_KERNEL, 0, e->vector, 0);
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_UD:
		set(s, SIGILL, ILL_ILLOPN, e->rip, e->vector, 0);
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_TS:
	case DUNE_TRAP_GP:
		set(s, SIGSEGV, SI_KERNEL, 0, e->vector, e->err);
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_NP:
	case DUNE_TRAP_SS:
		set(s, SIGBUS, SI_KERNEL, 0, e->vector, e->err);
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_PF:
		/*
		 * Only the kernel half is Linux's to refuse here; any other
		 * guest page fault is about Dune's windows or the program's
		 * own page tables.  Linux reports a user access to a kernel
		 * address as a protection fault, whatever the page tables
		 * say, from user mode.
		 */
		if (e->cr2 < DUNE_TASK_SIZE_MAX)
			return DUNE_EXC_REPORT;
		set(s, SIGSEGV, SEGV_MAPERR, e->cr2, e->vector,
		    (e->err & (FEC_W | FEC_I)) | FEC_U | FEC_P);
		s->cr2 = e->cr2;
		s->has_cr2 = true;
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_MF:
		code = fp_code(e->fsw & ~e->fcw);
		if (!code)
			return DUNE_EXC_RETRY;
		set(s, SIGFPE, code, e->rip, e->vector, 0);
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_AC:
		set(s, SIGBUS, BUS_ADRALN, 0, e->vector, e->err);
		return DUNE_EXC_SIGNAL;
	case DUNE_TRAP_XF:
		code = fp_code(e->mxcsr & ~(e->mxcsr >> MXCSR_MASK_SHIFT));
		if (!code)
			return DUNE_EXC_RETRY;
		set(s, SIGFPE, code, e->rip, e->vector, 0);
		return DUNE_EXC_SIGNAL;
	default:
		/* #NM, #DF, NMI, #MC, #VE, #CP, reserved, interrupts */
		return DUNE_EXC_REPORT;
	}
}

DUNE_NOFPU_END
