/* SPDX-License-Identifier: MIT */
/*
 * Instructions the signal trampoline (sigaction.c) must recognise by
 * address, like the kernel's exception tables: the one `syscall` that
 * forwards the guest's system calls (a restart rewinds to it), the
 * native touches of the fault path and the copies to and from the
 * guest's signal frames (a fault there resumes at a fix-up label).
 */
#include <asm/errno.h>
#include <asm/unistd.h>

	.text

/*
 * long dune_fwd_syscall(long nr, long a1, long a2, long a3, long a4,
 *			 long a5, long a6)
 */
	.globl dune_fwd_syscall
	.hidden dune_fwd_syscall
	.type dune_fwd_syscall, @function
dune_fwd_syscall:
	movq	%rdi, %rax
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	movq	%r8, %r10
	movq	%r9, %r8
	movq	8(%rsp), %r9
	.globl dune_fwd_insn
	.hidden dune_fwd_insn
dune_fwd_insn:
	syscall
	.globl dune_fwd_done
	.hidden dune_fwd_done
dune_fwd_done:
	ret
	.size dune_fwd_syscall, . - dune_fwd_syscall

/* The kernel action's sa_restorer for the trampoline. */
	.globl dune_sig_restorer
	.hidden dune_sig_restorer
	.type dune_sig_restorer, @function
	.p2align 4
dune_sig_restorer:
	movl	$__NR_rt_sigreturn, %eax
	syscall
	ud2
	.size dune_sig_restorer, . - dune_sig_restorer

/* void dune_touch_read(uint64_t addr): a read of one byte. */
	.globl dune_touch_read
	.hidden dune_touch_read
	.type dune_touch_read, @function
dune_touch_read:
	.globl dune_touch_read_insn
	.hidden dune_touch_read_insn
dune_touch_read_insn:
	movb	(%rdi), %al
	.globl dune_touch_done
	.hidden dune_touch_done
dune_touch_done:
	ret
	.size dune_touch_read, . - dune_touch_read

/* void dune_touch_write(uint64_t addr): an atomic no-op write. */
	.globl dune_touch_write
	.hidden dune_touch_write
	.type dune_touch_write, @function
dune_touch_write:
	.globl dune_touch_write_insn
	.hidden dune_touch_write_insn
dune_touch_write_insn:
	lock orb $0, (%rdi)
	jmp	dune_touch_done
	.size dune_touch_write, . - dune_touch_write

/*
 * long dune_ucopy(void *dst, const void *src, size_t n)
 * 0, or -EFAULT if a fault stopped it.
 */
	.globl dune_ucopy
	.hidden dune_ucopy
	.type dune_ucopy, @function
dune_ucopy:
	movq	%rdx, %rcx
	.globl dune_ucopy_insn
	.hidden dune_ucopy_insn
dune_ucopy_insn:
	rep movsb
	xorl	%eax, %eax
	ret
	.globl dune_ucopy_fixup
	.hidden dune_ucopy_fixup
dune_ucopy_fixup:
	movq	$-EFAULT, %rax
	ret
	.size dune_ucopy, . - dune_ucopy

	.section .note.GNU-stack, "", @progbits
