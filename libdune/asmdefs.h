/* SPDX-License-Identifier: MIT */
/*
 * Constants shared by the assembly and the C code.  Plain #defines so .S
 * files can include this.  Structure offsets are not here: the .S files
 * take them from asm-offsets.h, generated from the C layout
 * (libdune/asm-offsets.c).
 */
#ifndef LIBDUNE_ASMDEFS_H
#define LIBDUNE_ASMDEFS_H

/*
 * The guest's LSTAR while ring 3 runs points to a stub that raises this
 * vector (a DPL 0 gate: ring 3 cannot raise it itself).
 */
#define DUNE_VEC_USER_SYSCALL	0xf0

/*
 * libdune's private hypercall: the trap handler hands an exception to the
 * host loop (dune_exc_hypercall).  The host loop takes it only from that
 * one VMCALL; through the system call stub it is a number Linux has no
 * system call for (ENOSYS), bit 30 (x32) clear.
 */
#define DUNE_HC_EXCEPTION	0x0dce0001

#define MSR_LSTAR_NR	0xc0000082
#define MSR_FS_BASE_NR	0xc0000100
#define MSR_GS_BASE_NR	0xc0000101

/*
 * The signature before libdune's own rseq abort label (rseq.c, entry.S);
 * any value works, this is the one glibc uses on x86.
 */
#define DUNE_RSEQ_SIG	0x53053053

/* Each IDT entry stub is padded to this many bytes. */
#define TRAP_STUB_SIZE	16

#ifdef __ASSEMBLER__
#include "asm-offsets.h"

/*
 * Load every general register from the struct dune_tf at %rdi, %rdi
 * last.  The callers then enter the context with
 * iretq or run one instruction in it.
 */
.macro TF_LOAD_GPRS
	movq	TF_RAX(%rdi), %rax
	movq	TF_RBX(%rdi), %rbx
	movq	TF_RCX(%rdi), %rcx
	movq	TF_RDX(%rdi), %rdx
	movq	TF_RSI(%rdi), %rsi
	movq	TF_RBP(%rdi), %rbp
	movq	TF_R8(%rdi), %r8
	movq	TF_R9(%rdi), %r9
	movq	TF_R10(%rdi), %r10
	movq	TF_R11(%rdi), %r11
	movq	TF_R12(%rdi), %r12
	movq	TF_R13(%rdi), %r13
	movq	TF_R14(%rdi), %r14
	movq	TF_R15(%rdi), %r15
	movq	TF_RDI(%rdi), %rdi
.endm

/*
 * Ring 3's own FS or GS base (dune_set_user_fs, dune_set_user_gs) into
 * MSR \msr from the struct dune_user_ctx at \ctx, if it was given one
 * (\set non-zero); clobbers rax, rcx and rdx.
 */
.macro UCTX_LOAD_USER_BASE ctx:req, set:req, base:req, msr:req
	cmpw	$0, \set(\ctx)
	je	.Lno_user_base\@
	movl	$\msr, %ecx
	movl	\base(\ctx), %eax
	movl	\base + 4(\ctx), %edx
	wrmsr
.Lno_user_base\@:
.endm
#endif

#endif
