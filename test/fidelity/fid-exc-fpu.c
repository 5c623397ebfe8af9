// SPDX-License-Identifier: MIT
/*
 * x87 and SSE floating-point exceptions, unmasked in the control word or
 * MXCSR: divide by zero, invalid operation (including x87 stack
 * underflow), overflow, underflow, denormal operand and precision.  The
 * si_code comes from the status/control words (x87, #MF, raised at the
 * next waiting instruction: the fwait) or MXCSR (SSE, #XM, raised by the
 * instruction itself); the handler also shows the exception flags it
 * finds in the saved FPU state.  Then the same without a handler.
 */
#include "fid-exc.h"

/* x87 control word: all masked (0x37f) but the one exception cleared. */
#define X87(cw, ops)                                                   \
	"fninit; subq $8, %rsp; movw $" cw ", (%rsp); fldcw (%rsp); " ops

FID_CASE(x87_div_zero, X87("0x37b", "fldz; fld1; fdiv %st(1), %st"),
	 "fwait");
FID_CASE(x87_invalid, X87("0x37e", "fldz; fldz; fdiv %st(1), %st"),
	 "fwait");
FID_CASE(x87_underflow_stack, X87("0x37e", "fadd %st(1), %st"), "fwait");
FID_CASE(x87_overflow,
	 X87("0x377", "movl $20000, (%rsp); fildl (%rsp); fld1; fscale"),
	 "fwait");

/* SSE: MXCSR with one mask bit cleared, xmm0 op xmm1 (float bits). */
#define SSE(mxcsr, a, b)                                               \
	"subq $8, %rsp; movl $" mxcsr ", (%rsp); ldmxcsr (%rsp); "      \
	"movl $" a ", %eax; movd %eax, %xmm0; "                         \
	"movl $" b ", %eax; movd %eax, %xmm1"

FID_CASE(sse_div_zero, SSE("0x1d80", "0x3f800000", "0"),
	 "divss %xmm1, %xmm0");
FID_CASE(sse_invalid, SSE("0x1f00", "0", "0"), "divss %xmm1, %xmm0");
FID_CASE(sse_overflow, SSE("0x1b80", "0x7f7fffff", "0x7f7fffff"),
	 "mulss %xmm1, %xmm0");
FID_CASE(sse_underflow, SSE("0x1780", "0x00800000", "0x00800000"),
	 "mulss %xmm1, %xmm0");
FID_CASE(sse_denormal, SSE("0x1e80", "0x3f800000", "0x00000001"),
	 "addss %xmm1, %xmm0");
FID_CASE(sse_precision, SSE("0x0f80", "0x3f800000", "0x40400000"),
	 "divss %xmm1, %xmm0");

static const struct fid_case cases[] = {
	FID_ENTRY(x87_div_zero), FID_ENTRY(x87_invalid),
	FID_ENTRY(x87_underflow_stack), FID_ENTRY(x87_overflow),
	FID_ENTRY(sse_div_zero), FID_ENTRY(sse_invalid),
	FID_ENTRY(sse_overflow), FID_ENTRY(sse_underflow),
	FID_ENTRY(sse_denormal), FID_ENTRY(sse_precision),
};

int main(void)
{
	fid_run_handled(cases, FID_N(cases));
	fid_run_unhandled(cases, FID_N(cases), 0);
	return 0;
}
