// SPDX-License-Identifier: MIT
/*
 * Exceptions that trap or fault on an instruction of the program itself:
 * divide error, invalid opcode (ud2, a lock prefix where none is allowed,
 * VMXOFF, which a CPU outside VMX operation refuses), the
 * breakpoint instructions (int3, int $3, icebp) and single-stepping with
 * RFLAGS.TF.  Each prints the signal, si_code, si_addr, trap number,
 * error code and RIP that its handler saw, then once more without a
 * handler (how the process dies).
 */
#include "fid-exc.h"

FID_CASE(div_zero, "xorl %ecx, %ecx; movl $1, %eax; xorl %edx, %edx",
	 "divl %ecx");
FID_CASE(idiv_overflow,
	 "movl $-1, %ecx; movl $0x80000000, %eax; movl $-1, %edx",
	 "idivl %ecx");
FID_CASE(ud2, "", "ud2");
FID_CASE(lock_nop, "", ".byte 0xf0, 0x90");
FID_CASE(vmxoff, "", "vmxoff");
FID_CASE(int3, "", "int3");
FID_CASE(int_3, "", ".byte 0xcd, 0x03");
FID_CASE(icebp, "", ".byte 0xf1");
FID_CASE(single_step, "pushfq; orq $0x100, (%rsp); popfq", "nop");

static const struct fid_case cases[] = {
	FID_ENTRY(div_zero), FID_ENTRY(idiv_overflow), FID_ENTRY(ud2),
	FID_ENTRY(lock_nop), FID_ENTRY(vmxoff),
	FID_ENTRY(int3), FID_ENTRY(int_3), FID_ENTRY(icebp),
	FID_ENTRY(single_step),
};

int main(void)
{
	fid_run_handled(cases, FID_N(cases));
	fid_run_unhandled(cases, FID_N(cases), 0);
	return 0;
}
