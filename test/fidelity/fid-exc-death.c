// SPDX-License-Identifier: MIT
/*
 * How an exception without a handler ends the process: the wait status
 * with the core-dump bit when RLIMIT_CORE allows a core, and death even
 * when the signal is blocked or ignored (Linux forces a signal raised by
 * the faulting instruction).  One case per signal kind.
 */
#include "fid-exc.h"

FID_CASE(div_zero, "xorl %ecx, %ecx; movl $1, %eax; xorl %edx, %edx",
	 "divl %ecx");
FID_CASE(ud2, "", "ud2");
FID_CASE(int3, "", "int3");
FID_CASE(single_step, "pushfq; orq $0x100, (%rsp); popfq", "nop");
FID_CASE(in_port, "", "inb $0x80, %al");
FID_CASE(noncanon_stack, "movabsq $0x8000000000000000, %rsp", "pushq $0");
FID_CASE(sse_div_zero,
	 "subq $8, %rsp; movl $0x1d80, (%rsp); ldmxcsr (%rsp); "
	 "movl $0x3f800000, %eax; movd %eax, %xmm0; xorps %xmm1, %xmm1",
	 "divss %xmm1, %xmm0");

static const struct fid_case cases[] = {
	FID_ENTRY(div_zero), FID_ENTRY(ud2), FID_ENTRY(int3),
	FID_ENTRY(single_step), FID_ENTRY(in_port), FID_ENTRY(noncanon_stack),
	FID_ENTRY(sse_div_zero),
};

int main(void)
{
	fid_run_unhandled(cases, FID_N(cases), FID_CORE);
	fid_run_unhandled(cases, FID_N(cases), FID_BLOCK);
	fid_run_unhandled(cases, FID_N(cases), FID_IGNORE);
	fid_run_unhandled(cases, FID_N(cases), FID_CORE | FID_BLOCK);
	return 0;
}
