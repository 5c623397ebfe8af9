/* SPDX-License-Identifier: MIT */
/*
 * Guest IDT entry code.  Every vector uses an IST stack (see trap.c):
 * the program runs at CPL 0, so without IST the CPU would push the trap
 * frame onto the program's own stack, right over its red zone.
 *
 * One 16-byte stub per vector pushes a zero error code where the CPU
 * pushes none (so all frames look alike) and stores the vector number in
 * the upper half of that slot (the CPU's error code is 32 bits wide, its
 * upper half zero: SDM vol. 3, 6.13); the common code saves the
 * registers as a struct dune_tf (the original libdune's order) and calls
 * dune_trap(tf).  If that returns, everything is restored from the
 * (possibly edited) frame.
 */
#include "asmdefs.h"
#include "asm-offsets.h"

	.text
	.p2align 4
	.globl dune_trap_stubs
	.hidden dune_trap_stubs
	.type dune_trap_stubs, @function
dune_trap_stubs:
	.set vec, 0
	.rept 256
1:
	/* #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX push an error code */
	.if !(vec == 8 || vec == 10 || vec == 11 || vec == 12 || vec == 13 || vec == 14 || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq	$0
	.endif
	movl	$vec, TF_VECTOR - TF_ERR(%rsp)
	jmp	dune_trap_common
	/* fails to assemble if the stub is longer: C indexes by vector */
	.org	1b + TRAP_STUB_SIZE, 0xcc
	.set vec, vec + 1
	.endr
	.size dune_trap_stubs, . - dune_trap_stubs

	.type dune_trap_common, @function
dune_trap_common:
	pushq	%rax
	pushq	%r15
	pushq	%r14
	pushq	%r13
	pushq	%r12
	pushq	%rbp
	pushq	%rbx
	pushq	%r11
	pushq	%r10
	pushq	%r9
	pushq	%r8
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	/*
	 * Ring 3 may have loaded FS or GS (a segment load sets the base),
	 * and C code reads TLS through them (errno, __thread, the stack
	 * protector's canary): from ring 3, and from its system call stub
	 * (CPL 0, but ring 3's segments), put ring 0's bases back before
	 * any C runs.  Both come from the thread, found through the IST
	 * top, never from anything ring 3 controls; WRMSR does not exit
	 * (dune.ko passes FS_BASE and GS_BASE through).
	 */
	movq	TF_SIZE(%rsp), %rbx
	testb	$3, TF_CS(%rsp)
	jnz	4f
	leaq	dune_user_syscall_stub(%rip), %rax
	cmpq	%rax, TF_RIP(%rsp)
	je	4f
	leaq	dune_user_syscall_stub_ret(%rip), %rax
	cmpq	%rax, TF_RIP(%rsp)
	je	4f
	cmpw	$0, UCTX_ACTIVE(%rbx)
	je	2f
	jmp	1f
4:
	/*
	 * From ring 3 or its stub: with dune_set_user_gs, the GS base is
	 * ring 3's own, which it may have changed (WRGSBASE, a segment
	 * load): keep it for the way back.  Never from ring-0 code, whose
	 * GS base is ring 0's by now.
	 */
	cmpw	$0, UCTX_UGS_SET(%rbx)
	je	1f
	movl	$MSR_GS_BASE_NR, %ecx
	rdmsr
	movl	%eax, UCTX_UGS_BASE(%rbx)
	movl	%edx, UCTX_UGS_BASE + 4(%rbx)
1:
	movl	$MSR_FS_BASE_NR, %ecx
	movl	UCTX_FS_BASE(%rbx), %eax
	movl	UCTX_FS_BASE + 4(%rbx), %edx
	wrmsr
	movl	$MSR_GS_BASE_NR, %ecx
	movl	UCTX_GS_BASE(%rbx), %eax
	movl	UCTX_GS_BASE + 4(%rbx), %edx
	wrmsr
2:
	/*
	 * 6 + 15 quadwords below a 16-aligned IST top: one more keeps the
	 * stack aligned for the call.
	 */
	cld
	movq	%rsp, %rdi
	subq	$8, %rsp
	call	dune_trap
	addq	$8, %rsp
	/*
	 * Back to ring 3 with a base set by dune_set_user_fs: load it last,
	 * when no C code will run on this side (rbx still holds the thread).
	 */
	testb	$3, TF_CS(%rsp)
	jnz	5f
	/* back into the stub's window: ring 3's GS base (it was saved) */
	leaq	dune_user_syscall_stub(%rip), %rax
	cmpq	%rax, TF_RIP(%rsp)
	je	6f
	jmp	3f
5:
	UCTX_LOAD_USER_BASE %rbx, UCTX_UFS_SET, UCTX_UFS_BASE, MSR_FS_BASE_NR
6:
	/* and one set by dune_set_user_gs (no C uses GS: any order) */
	UCTX_LOAD_USER_BASE %rbx, UCTX_UGS_SET, UCTX_UGS_BASE, MSR_GS_BASE_NR
3:
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%r8
	popq	%r9
	popq	%r10
	popq	%r11
	popq	%rbx
	popq	%rbp
	popq	%r12
	popq	%r13
	popq	%r14
	popq	%r15
	popq	%rax
	addq	$8, %rsp	/* error code and vector */
	iretq
	.size dune_trap_common, . - dune_trap_common

	.section .note.GNU-stack, "", @progbits
