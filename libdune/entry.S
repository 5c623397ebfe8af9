/* SPDX-License-Identifier: MIT */
/*
 * Entering Dune mode and the host-side stack tricks that C cannot do.
 */
#include <asm/unistd.h>

#include "asmdefs.h"
#include "asm-offsets.h"

	.text

/*
 * int dune_enter(void)
 *
 * Snapshot what the caller expects to find when dune_enter returns: the
 * callee-saved registers, the stack pointer after the return, the return
 * address and the flags, as a struct dune_regs with rax = 0 and the other
 * call-clobbered registers 0.  dune_enter_c makes a vCPU that starts from
 * this snapshot and moves this thread onto its host stack, so the guest
 * "returns" 0 from here in VMX non-root mode while the host loop runs
 * elsewhere.  dune_enter_c returns only on failure (or when the thread
 * already is in Dune mode), and then we return its value natively.
 */
	.globl dune_enter
	.type dune_enter, @function
dune_enter:
	.cfi_startproc
	/* At entry rsp = 8 mod 16: this keeps the snapshot and call aligned. */
	subq	$(REGS_SIZE + 8), %rsp
	.cfi_adjust_cfa_offset REGS_SIZE + 8
	movq	%rbx, REGS_RBX(%rsp)
	movq	%rbp, REGS_RBP(%rsp)
	movq	%r12, REGS_R12(%rsp)
	movq	%r13, REGS_R13(%rsp)
	movq	%r14, REGS_R14(%rsp)
	movq	%r15, REGS_R15(%rsp)
	leaq	(REGS_SIZE + 16)(%rsp), %rax	/* the caller's rsp after ret */
	movq	%rax, REGS_RSP(%rsp)
	movq	(REGS_SIZE + 8)(%rsp), %rax	/* our return address */
	movq	%rax, REGS_RIP(%rsp)
	pushfq
	popq	%rax
	movq	%rax, REGS_RFLAGS(%rsp)
	xorl	%eax, %eax
	movq	%rax, REGS_RAX(%rsp)
	movq	%rax, REGS_RCX(%rsp)
	movq	%rax, REGS_RDX(%rsp)
	movq	%rax, REGS_RSI(%rsp)
	movq	%rax, REGS_RDI(%rsp)
	movq	%rax, REGS_R8(%rsp)
	movq	%rax, REGS_R9(%rsp)
	movq	%rax, REGS_R10(%rsp)
	movq	%rax, REGS_R11(%rsp)
	movq	%rsp, %rdi
	call	dune_enter_c
	addq	$(REGS_SIZE + 8), %rsp
	.cfi_adjust_cfa_offset -(REGS_SIZE + 8)
	ret
	.cfi_endproc
	.size dune_enter, . - dune_enter

/*
 * The guest's MSR_LSTAR: `syscall` in the guest lands here at CPL 0 with
 * the return address in rcx (rflags in r11).  VMCALL hands the request to
 * the host loop, which puts the result in rax and resumes us past the
 * VMCALL.  No stack use: the program may keep live data in its red zone.
 */
	.globl dune_syscall_stub
	.hidden dune_syscall_stub
	.type dune_syscall_stub, @function
	.p2align 4
dune_syscall_stub:
	vmcall
	.globl dune_syscall_stub_ret
	.hidden dune_syscall_stub_ret
dune_syscall_stub_ret:
	jmp	*%rcx
	.size dune_syscall_stub, . - dune_syscall_stub

/*
 * void dune_exc_hypercall(void)
 *
 * The other VMCALL of libdune: the guest trap handler (trap.c), on the
 * trap stack, hands the exception it armed in the thread to the host
 * loop, which resumes the guest at the faulting instruction's context
 * and sends the signal (exchost.c).  Never returns here.
 */
	.globl dune_exc_hypercall
	.hidden dune_exc_hypercall
	.type dune_exc_hypercall, @function
	.p2align 4
dune_exc_hypercall:
	movl	$DUNE_HC_EXCEPTION, %eax
	vmcall
	.globl dune_exc_hypercall_ret
	.hidden dune_exc_hypercall_ret
dune_exc_hypercall_ret:
	ud2
	.size dune_exc_hypercall, . - dune_exc_hypercall

/*
 * void dune_switch_stack(void *top, void (*fn)(void *), void *arg)
 * Run fn(arg) on the stack ending at top; fn never returns.
 */
	.globl dune_switch_stack
	.hidden dune_switch_stack
	.type dune_switch_stack, @function
dune_switch_stack:
	movq	%rdi, %rsp
	movq	%rdx, %rdi
	xorl	%ebp, %ebp	/* end of the frame chain for debuggers */
	call	*%rsi
	ud2
	.size dune_switch_stack, . - dune_switch_stack

/*
 * long dune_raw_clone(unsigned long flags, void *stack, int *ptid,
 *		       int *ctid, unsigned long tls, void (*fn)(void *),
 *		       void *arg)
 *
 * The clone system call.  With a new stack the child cannot return into
 * C frames that live on the parent's stack, so it calls fn(arg) instead
 * (fn never returns).  With stack == 0 and fn == NULL the child returns
 * 0 like fork: it runs on its own copy of our stack.  rbx carries arg
 * into the child (the syscall preserves it); r9 carries fn.
 */
	.globl dune_raw_clone
	.hidden dune_raw_clone
	.type dune_raw_clone, @function
dune_raw_clone:
	pushq	%rbx
	movq	16(%rsp), %rbx		/* arg, the 7th argument */
	movq	%rcx, %r10
	movl	$__NR_clone, %eax
	/* fall through: dune_raw_clone3 shares the rest */
raw_clone_tail:
	syscall
	testq	%rax, %rax
	jnz	1f
	testq	%r9, %r9
	jz	1f
	/* the child, on the new stack */
	xorl	%ebp, %ebp
	movq	%rbx, %rdi
	call	*%r9
	ud2
1:	popq	%rbx
	ret
	.size dune_raw_clone, . - dune_raw_clone

/*
 * long dune_raw_clone3(struct clone_args *args, size_t size,
 *			void (*fn)(void *), void *arg)
 *
 * clone3, with dune_raw_clone's conventions: a child on a new stack
 * (args->stack) calls fn(arg); with fn == NULL the child returns 0 like
 * fork (args->stack must then be 0).
 */
	.globl dune_raw_clone3
	.hidden dune_raw_clone3
	.type dune_raw_clone3, @function
dune_raw_clone3:
	pushq	%rbx
	movq	%rcx, %rbx		/* arg: the syscall clobbers rcx */
	movq	%rdx, %r9		/* fn */
	movl	$__NR_clone3, %eax
	jmp	raw_clone_tail
	.size dune_raw_clone3, . - dune_raw_clone3

/*
 * long dune_own_syscall3(long nr, long a1, long a2, long a3)
 *
 * A system call libdune makes on its own fds from the guest (DUNE_GET_STATS
 * on the thread's vCPU): the host loop knows it by its return address and
 * does not hide our fds from it (fdhide.c).  Natively a plain system call.
 * Returns the raw result (-errno on failure).
 */
	.globl dune_own_syscall3
	.hidden dune_own_syscall3
	.type dune_own_syscall3, @function
dune_own_syscall3:
	movq	%rdi, %rax
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	syscall
	.globl dune_own_syscall_ret
	.hidden dune_own_syscall_ret
dune_own_syscall_ret:
	ret
	.size dune_own_syscall3, . - dune_own_syscall3

/*
 * long dune_rseq_run_ioctl(long fd, unsigned long cmd, void *arg,
 *			    unsigned int *event)
 *
 * The DUNE_RUN ioctl for a thread with an rseq area (rseq.c): the kernel
 * sees the instruction after the `syscall` as libdune's rseq critical
 * section, so a preemption, migration or signal during the ioctl sends it
 * to dune_rseq_run_abort, which sets *event.  The signature the kernel
 * checks precedes the abort label.  r9 keeps event (the syscall keeps r9).
 */
	.globl dune_rseq_run_ioctl
	.hidden dune_rseq_run_ioctl
	.type dune_rseq_run_ioctl, @function
dune_rseq_run_ioctl:
	movq	%rcx, %r9
	movl	$__NR_ioctl, %eax
	syscall
	.globl dune_rseq_run_ret
	.hidden dune_rseq_run_ret
dune_rseq_run_ret:
	ret
	.long	DUNE_RSEQ_SIG
	.globl dune_rseq_run_abort
	.hidden dune_rseq_run_abort
dune_rseq_run_abort:
	movl	$1, (%r9)
	ret
	.size dune_rseq_run_ioctl, . - dune_rseq_run_ioctl

/*
 * void dune_unmap_and_exit(void *addr, size_t len, int code)
 * Free the block holding our own stack, then end the thread, without
 * touching the stack in between.  Signals must be blocked: a handler
 * would need the stack we just freed.
 */
	.globl dune_unmap_and_exit
	.hidden dune_unmap_and_exit
	.type dune_unmap_and_exit, @function
dune_unmap_and_exit:
	movl	$__NR_munmap, %eax
	syscall
	movl	%edx, %edi
	movl	$__NR_exit, %eax
	syscall
	ud2
	.size dune_unmap_and_exit, . - dune_unmap_and_exit

	.section .note.GNU-stack, "", @progbits
