// SPDX-License-Identifier: MIT
/*
 * The pure rules of Linux's x86-64 signal delivery (sigframe.h): frame
 * placement (arch/x86/kernel/signal.c get_sigframe), handler masks,
 * action flags, sigaltstack (kernel/signal.c do_sigaltstack), the FPU
 * area's software bytes (arch/x86/kernel/fpu/signal.c).  The constants
 * come from the kernel's uapi headers, so this file does not include
 * glibc's <signal.h>.
 */
#include <errno.h>
#include <stddef.h>
#include <linux/signal.h>	/* first: asm/ucontext.h needs its stack_t */
#include <asm/processor-flags.h>
#include <asm/sigcontext.h>
#include <asm/ucontext.h>

#include "raw.h"
#include "sigframe.h"

DUNE_NOFPU_BEGIN

_Static_assert(sizeof(struct dune_sigcontext) == sizeof(struct sigcontext),
	       "sigcontext layout");
_Static_assert(offsetof(struct dune_sigcontext, fpstate) ==
	       offsetof(struct sigcontext, fpstate), "sigcontext fpstate");
_Static_assert(offsetof(struct dune_sigcontext, cr2) ==
	       offsetof(struct sigcontext, cr2), "sigcontext cr2");
_Static_assert(offsetof(struct dune_sigcontext, cs) ==
	       offsetof(struct sigcontext, cs), "sigcontext cs");
_Static_assert(sizeof(struct dune_ucontext) == 304, "ucontext layout");
_Static_assert(sizeof(struct dune_rt_sigframe) == 440, "rt_sigframe layout");

/* Linux's UAPI_SA_FLAGS for x86 (include/linux/signal_types.h). */
#define UAPI_SA_FLAGS (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | \
		       SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND | \
		       SA_EXPOSE_TAGBITS | SA_RESTORER)

/* The flags an rt_sigframe may change (restore_sigcontext's FIX_EFLAGS). */
#define FIX_EFLAGS (X86_EFLAGS_AC | X86_EFLAGS_OF | X86_EFLAGS_DF | \
		    X86_EFLAGS_TF | X86_EFLAGS_SF | X86_EFLAGS_ZF | \
		    X86_EFLAGS_AF | X86_EFLAGS_PF | X86_EFLAGS_CF | \
		    X86_EFLAGS_RF)

#define SIGBIT(s) (1ull << ((s) - 1))

/* XSTATE_BV bits 0 and 1: x87 and SSE state (SDM 13.4.2). */
#define XFEATURES_FP_SSE 3ull

/* The red zone of the x86-64 ABI, which a frame must not overwrite. */
#define RED_ZONE 128

uint64_t dune_sig_kflags(uint64_t prog_flags)
{
	/*
	 * SA_RESTART: the kernel decides restarts exactly as natively.
	 * SA_RESETHAND: it resets its own copy.  SA_ONSTACK: a thread not in
	 * Dune mode runs the handler on its altstack (a Dune thread has
	 * none at the kernel).  SA_NOCLD*: the kernel's business.
	 */
	return SA_SIGINFO | SA_RESTORER |
	       (prog_flags & (SA_RESTART | SA_RESETHAND | SA_ONSTACK |
			      SA_NOCLDSTOP | SA_NOCLDWAIT));
}

uint64_t dune_sig_uapi_flags(uint64_t flags)
{
	return flags & UAPI_SA_FLAGS;
}

uint64_t dune_sig_blockable(uint64_t mask)
{
	return mask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
}

uint64_t dune_sig_handler_mask(uint64_t base, uint64_t sa_mask,
			       uint64_t flags, int sig)
{
	uint64_t m = base | sa_mask;

	if (!(flags & SA_NODEFER))
		m |= SIGBIT(sig);
	return dune_sig_blockable(m);
}

bool dune_sig_flag(uint64_t flags, int which)
{
	static const uint64_t bits[] = {
		[DUNE_SA_RESTART] = SA_RESTART,
		[DUNE_SA_RESETHAND] = SA_RESETHAND,
		[DUNE_SA_ONSTACK] = SA_ONSTACK,
		[DUNE_SA_NODEFER] = SA_NODEFER,
		[DUNE_SA_RESTORER] = SA_RESTORER,
		[DUNE_SA_SIGINFO] = SA_SIGINFO,
	};

	return flags & bits[which];
}

/* __on_sig_stack: the stack grows down, sp == top is on it. */
static bool on_stack(const struct dune_sas *s, uint64_t sp)
{
	return sp > s->sp && sp - s->sp <= s->size;
}

bool dune_sas_on(const struct dune_sas *s, uint64_t sp)
{
	/* With SS_AUTODISARM a handler may use the altstack again. */
	if (s->flags & SS_AUTODISARM)
		return false;
	return on_stack(s, sp);
}

int dune_sas_flags(const struct dune_sas *s, uint64_t sp)
{
	if (!s->size)
		return SS_DISABLE;
	return dune_sas_on(s, sp) ? SS_ONSTACK : 0;
}

void dune_sas_get(const struct dune_sas *s, uint64_t sp,
		  struct dune_kstack *out)
{
	out->sp = s->sp;
	out->size = s->size;
	out->flags = dune_sas_flags(s, sp) | (s->flags & SS_FLAG_BITS);
	out->pad = 0;
}

long dune_sas_set(struct dune_sas *s, const struct dune_kstack *ss,
		  uint64_t sp)
{
	uint32_t flags = ss->flags, mode = flags & ~SS_FLAG_BITS;
	uint64_t ssp = ss->sp, size = ss->size;

	if (dune_sas_on(s, sp))
		return -EPERM;
	if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
		return -EINVAL;
	if (mode == SS_DISABLE) {
		size = 0;
		ssp = 0;
	} else if (size < MINSIGSTKSZ) {
		return -ENOMEM;
	}
	s->sp = ssp;
	s->size = size;
	s->flags = flags;
	return 0;
}

void dune_sas_after_frame(struct dune_sas *s)
{
	if (s->flags & SS_AUTODISARM) {
		s->sp = 0;
		s->size = 0;
		s->flags = SS_DISABLE;
	}
}

uint64_t dune_sigframe_place(const struct dune_sas *s, uint64_t rsp,
			     bool onstack, uint64_t math_size,
			     uint64_t frame_size, uint64_t *fpstate)
{
	bool nested = dune_sas_on(s, rsp), entering = false;
	uint64_t sp = rsp - RED_ZONE;

	if (onstack && dune_sas_flags(s, sp) == 0) {
		sp = s->sp + s->size;
		entering = true;
	}
	/* fpu__alloc_mathframe: the FPU area, 64-byte aligned for XSAVE */
	sp = (sp - math_size) & ~63ull;
	*fpstate = sp;
	sp = ((sp - frame_size) & ~15ull) - 8;
	/* Overflowing the altstack: an always-bad address, SIGSEGV. */
	if ((nested || entering) && !on_stack(s, sp))
		return 0;
	return sp;
}

uint64_t dune_sig_return_flags(uint64_t cur, uint64_t frame)
{
	return (cur & ~(uint64_t)FIX_EFLAGS) | (frame & FIX_EFLAGS);
}

uint64_t dune_sig_entry_flags(uint64_t cur)
{
	return cur & ~(uint64_t)(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF);
}

bool dune_sig_user_sel_ok(uint64_t uc_flags, uint16_t cs, uint16_t ss)
{
	if ((cs | 3) != DUNE_SIG_USER_CS)
		return false;
	return !(uc_flags & UC_STRICT_RESTORE_SS) ||
	       (ss | 3) == DUNE_SIG_USER_SS;
}

uint64_t dune_sig_uc_flags(bool xsave)
{
	return (xsave ? UC_FP_XSTATE : 0) | UC_SIGCONTEXT_SS |
	       UC_STRICT_RESTORE_SS;
}

#define SW_BYTES_OFF offsetof(struct _fpstate_64, sw_reserved)

uint32_t dune_fpstate_kind(const uint8_t *fx, uint32_t user_size,
			   uint32_t *magic2_at)
{
	struct _fpx_sw_bytes sw;

	dune_copy(&sw, fx + SW_BYTES_OFF, sizeof(sw));
	/* check_xstate_in_sigframe: anything odd means legacy state only */
	if (sw.magic1 != FP_XSTATE_MAGIC1 ||
	    sw.xstate_size < sizeof(struct _fpstate_64) + 64 ||
	    sw.xstate_size > user_size ||
	    sw.xstate_size > sw.extended_size)
		return sizeof(struct _fpstate_64);
	*magic2_at = sw.xstate_size;
	return sw.xstate_size;
}

bool dune_fpstate_magic2_ok(uint32_t magic2)
{
	return magic2 == FP_XSTATE_MAGIC2;
}

void dune_fpstate_sw_fill(uint8_t *fx, uint64_t xfeatures, uint32_t size)
{
	struct _fpx_sw_bytes sw;
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	uint64_t bv;

	dune_bzero(&sw, sizeof(sw));
	sw.magic1 = FP_XSTATE_MAGIC1;
	sw.extended_size = size + FP_XSTATE_MAGIC2_SIZE;
	sw.xfeatures = xfeatures;
	sw.xstate_size = size;
	dune_copy(fx + SW_BYTES_OFF, &sw, sizeof(sw));
	dune_copy(fx + size, &magic2, sizeof(magic2));
	/* Linux always marks x87 and SSE in use in a frame (legacy tools). */
	dune_copy(&bv, fx + sizeof(struct _fpstate_64), sizeof(bv));
	bv |= XFEATURES_FP_SSE;
	dune_copy(fx + sizeof(struct _fpstate_64), &bv, sizeof(bv));
}

int dune_xsave_header_check(const uint8_t *hdr, uint64_t mask)
{
	uint64_t w[8];
	int i;

	dune_copy(w, hdr, sizeof(w));
	/* validate_user_xstate_header: known features, standard format */
	if (w[0] & ~mask)
		return -1;
	for (i = 1; i < 8; i++)
		if (w[i])
			return -1;
	return 0;
}

DUNE_NOFPU_END
