/* SPDX-License-Identifier: MIT */
/*
 * int $0x80 from 64-bit code (int80.c).  The guest side asks the host
 * loop with a VMCALL from one known address; the host side executes the
 * real instruction on the trap frame's registers.
 */
#include "asmdefs.h"
#include "asm-offsets.h"

	.text
/*
 * void dune_int80_vmcall(struct dune_tf *tf), in the guest: the host
 * loop recognises this VMCALL by its address (dune_int80_vmcall_ret)
 * and works on *tf; every register comes back as it was.
 */
	.globl dune_int80_vmcall
	.hidden dune_int80_vmcall
	.type dune_int80_vmcall, @function
dune_int80_vmcall:
	vmcall
	.globl dune_int80_vmcall_ret
	.hidden dune_int80_vmcall_ret
dune_int80_vmcall_ret:
	ret
	.size dune_int80_vmcall, . - dune_int80_vmcall

/*
 * void dune_native_int80(struct dune_tf *tf), in the host loop: load
 * the general registers from *tf, execute int $0x80 (Linux's 32-bit
 * system call ABI, with seccomp's AUDIT_ARCH_I386, restart and all) and
 * store them all back, whatever the kernel left in them.
 */
	.globl dune_native_int80
	.hidden dune_native_int80
	.type dune_native_int80, @function
dune_native_int80:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi
	TF_LOAD_GPRS
	int	$0x80
	xchgq	%rdi, (%rsp)	/* the result's rdi for tf */
	movq	%rax, TF_RAX(%rdi)
	movq	%rbx, TF_RBX(%rdi)
	movq	%rcx, TF_RCX(%rdi)
	movq	%rdx, TF_RDX(%rdi)
	movq	%rsi, TF_RSI(%rdi)
	movq	%rbp, TF_RBP(%rdi)
	movq	%r8, TF_R8(%rdi)
	movq	%r9, TF_R9(%rdi)
	movq	%r10, TF_R10(%rdi)
	movq	%r11, TF_R11(%rdi)
	movq	%r12, TF_R12(%rdi)
	movq	%r13, TF_R13(%rdi)
	movq	%r14, TF_R14(%rdi)
	movq	%r15, TF_R15(%rdi)
	popq	%rax
	movq	%rax, TF_RDI(%rdi)
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret
	.size dune_native_int80, . - dune_native_int80

	.section .note.GNU-stack, "", @progbits
