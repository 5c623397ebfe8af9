// SPDX-License-Identifier: MIT
/*
 * Instructions a process may not execute or addresses it may not use,
 * where the CPU raises #GP, #SS or #PF (never a page a process could
 * map): port I/O, an MSR read, INVD, `int $n` through a gate of DPL 0,
 * non-canonical data, stack and jump addresses, kernel-half addresses.  Each prints what its handler saw,
 * then dies without a handler.
 */
#include "fid-exc.h"

#define NONCANON "0x8000000000000000"
#define KERNEL_ADDR 0xffff888000001000ull
#define KERNEL_STR "0xffff888000001000"

FID_CASE(in_port, "", "inb $0x80, %al");
FID_CASE(out_port, "movl $0x80, %edx", "outb %al, %dx");
FID_CASE(rdmsr_tsc, "movl $0x10, %ecx", "rdmsr");
FID_CASE(invd, "", "invd");
/* a software interrupt on a vector whose gate user mode may not use */
FID_CASE(int_0x21, "", "int $0x21");
FID_CASE(int_0xf0, "", "int $0xf0");
FID_CASE(noncanon_read, "movabsq $" NONCANON ", %rax", "movq (%rax), %rax");
FID_CASE(noncanon_write, "movabsq $" NONCANON ", %rax", "movq %rax, (%rax)");
FID_CASE(noncanon_jump, "movabsq $" NONCANON ", %rax", "jmpq *%rax");
FID_CASE(noncanon_stack, "movabsq $" NONCANON ", %rsp", "pushq $0");
FID_CASE(kernel_read, "movabsq $" KERNEL_STR ", %rax", "movq (%rax), %rax");
FID_CASE(kernel_write, "movabsq $" KERNEL_STR ", %rax", "movq %rax, (%rax)");
FID_CASE(kernel_jump, "movabsq $" KERNEL_STR ", %rax", "jmpq *%rax");

static const struct fid_case cases[] = {
	FID_ENTRY(in_port), FID_ENTRY(out_port), FID_ENTRY(rdmsr_tsc),
	FID_ENTRY(invd), FID_ENTRY(int_0x21), FID_ENTRY(int_0xf0),
	FID_ENTRY(noncanon_read), FID_ENTRY(noncanon_write),
	FID_ENTRY(noncanon_jump), FID_ENTRY(noncanon_stack),
	FID_ENTRY_T(kernel_read, KERNEL_ADDR),
	FID_ENTRY_T(kernel_write, KERNEL_ADDR),
	FID_ENTRY_T(kernel_jump, KERNEL_ADDR),
};

int main(void)
{
	fid_run_handled(cases, FID_N(cases));
	fid_run_unhandled(cases, FID_N(cases), 0);
	return 0;
}
