/* SPDX-License-Identifier: MIT */
/*
 * Ring 3: the system call entry while ring-3 code runs, and the context
 * switches into and out of a ring-3 run (user.c has the rules).
 */
#include "asmdefs.h"
#include "asm-offsets.h"

	.text

/*
 * The guest's LSTAR while ring-3 code runs.  `syscall` lands here at CPL
 * 0 with the ring-3 rsp still loaded, rip in rcx and rflags in r11
 * (SFMASK cleared TF, DF, AC and NT).  Neither the stack nor FS/GS can be
 * trusted, so the only thing done is raising a vector whose gate switches
 * to an IST stack; dune_trap turns that frame into the ring-3 system
 * call.  The gate has DPL 0, so ring 3 cannot raise it with `int`.
 */
	.globl dune_user_syscall_stub
	.hidden dune_user_syscall_stub
	.type dune_user_syscall_stub, @function
	.p2align 4
dune_user_syscall_stub:
	int	$DUNE_VEC_USER_SYSCALL
	.globl dune_user_syscall_stub_ret
	.hidden dune_user_syscall_stub_ret
dune_user_syscall_stub_ret:
	ud2	/* dune_trap never returns here */
	.size dune_user_syscall_stub, . - dune_user_syscall_stub

/*
 * int dune_user_enter(struct dune_user_ctx *ctx, const struct dune_tf *tf,
 *		       uint64_t rflags)
 *
 * Save what the caller expects back (as setjmp does; @rflags are its
 * flags from before it turned interrupts off), then iretq to the frame
 * in tf, already made safe by the caller.  "Returns" only when
 * dune_user_resume(ctx, ret) is called.
 */
	.globl dune_user_enter
	.hidden dune_user_enter
	.type dune_user_enter, @function
dune_user_enter:
	movq	%rbx, UCTX_RBX(%rdi)
	movq	%rbp, UCTX_RBP(%rdi)
	movq	%r12, UCTX_R12(%rdi)
	movq	%r13, UCTX_R13(%rdi)
	movq	%r14, UCTX_R14(%rdi)
	movq	%r15, UCTX_R15(%rdi)
	leaq	8(%rsp), %rax
	movq	%rax, UCTX_RSP(%rdi)
	movq	(%rsp), %rax
	movq	%rax, UCTX_RIP(%rdi)
	movq	%rdx, UCTX_RFLAGS(%rdi)
	stmxcsr	UCTX_MXCSR(%rdi)
	fnstcw	UCTX_FCW(%rdi)
	/* ring 3's own FS and GS bases, if dune_set_user_fs/gs gave them */
	UCTX_LOAD_USER_BASE %rdi, UCTX_UFS_SET, UCTX_UFS_BASE, MSR_FS_BASE_NR
	UCTX_LOAD_USER_BASE %rdi, UCTX_UGS_SET, UCTX_UGS_BASE, MSR_GS_BASE_NR
	movq	%rsi, %rdi
	jmp	tf_iret
	.size dune_user_enter, . - dune_user_enter

/*
 * void dune_tf_pop(const struct dune_tf *tf)
 * Load every register from tf and iretq there.
 */
	.globl dune_tf_pop
	.hidden dune_tf_pop
	.type dune_tf_pop, @function
dune_tf_pop:
	/* fall through */
tf_iret:
	/* below our own frame: tf is above it or elsewhere */
	pushq	TF_SS(%rdi)
	pushq	TF_RSP(%rdi)
	pushq	TF_RFLAGS(%rdi)
	pushq	TF_CS(%rdi)
	pushq	TF_RIP(%rdi)
	TF_LOAD_GPRS
	iretq
	.size dune_tf_pop, . - dune_tf_pop

/*
 * void dune_user_resume(const struct dune_user_ctx *ctx, int ret)
 * Return @ret from the dune_user_enter that saved ctx.
 */
	.globl dune_user_resume
	.hidden dune_user_resume
	.type dune_user_resume, @function
dune_user_resume:
	ldmxcsr	UCTX_MXCSR(%rdi)
	fldcw	UCTX_FCW(%rdi)
	movq	UCTX_RBX(%rdi), %rbx
	movq	UCTX_RBP(%rdi), %rbp
	movq	UCTX_R12(%rdi), %r12
	movq	UCTX_R13(%rdi), %r13
	movq	UCTX_R14(%rdi), %r14
	movq	UCTX_R15(%rdi), %r15
	movq	UCTX_RSP(%rdi), %rsp
	/* below the caller's rsp: free, it made a call */
	pushq	UCTX_RFLAGS(%rdi)
	popfq
	movl	%esi, %eax
	jmp	*UCTX_RIP(%rdi)
	.size dune_user_resume, . - dune_user_resume

	.section .note.GNU-stack, "", @progbits
