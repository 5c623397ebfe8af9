/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VM entry and exit.  dune_vmx_enter(regs, launched) loads the guest's
 * general-purpose registers from @regs (struct dune_regs layout; RSP, RIP
 * and RFLAGS live in the VMCS), runs the guest with VMLAUNCH or VMRESUME,
 * and on VM exit stores them back.  Returns 0 after a VM exit, 1 if the
 * VM entry itself failed (SDM 31.2: CF or ZF set, no exit happened).
 *
 * Hardware loads RSP and RIP from HOST_RSP and HOST_RIP on VM exit
 * (SDM 28.5.3); every other register holds guest values at that point, so
 * the only way back to @regs is through the stack.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "dune-asm-offsets.h"

.text
SYM_FUNC_START(dune_vmx_enter)
	push %rbp
	mov %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	/* The regs pointer, found again after VM exit at 0(%rsp). */
	push %rdi

	/* HOST_RSP is the stack as it is now; HOST_RIP was set at setup. */
	mov $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lfail_early

	/*
	 * CF from this test survives the register loads (MOV keeps flags)
	 * and VERW below (which changes only ZF).
	 */
	bt $0, %esi

	mov REGS_RAX(%rdi), %rax
	mov REGS_RBX(%rdi), %rbx
	mov REGS_RCX(%rdi), %rcx
	mov REGS_RDX(%rdi), %rdx
	mov REGS_RSI(%rdi), %rsi
	mov REGS_RBP(%rdi), %rbp
	mov REGS_R8(%rdi), %r8
	mov REGS_R9(%rdi), %r9
	mov REGS_R10(%rdi), %r10
	mov REGS_R11(%rdi), %r11
	mov REGS_R12(%rdi), %r12
	mov REGS_R13(%rdi), %r13
	mov REGS_R14(%rdi), %r14
	mov REGS_R15(%rdi), %r15
	mov REGS_RDI(%rdi), %rdi

	/*
	 * MDS, TAA, MMIO stale data, RFDS: VERW clears the CPU buffers
	 * that the guest could otherwise sample, when the kernel's
	 * mitigation state asks for it (X86_FEATURE_CLEAR_CPU_BUF_VM, as
	 * for KVM); last, so no host data enters them after it.
	 */
	VM_CLEAR_CPU_BUFFERS

	jc .Lresume
	vmlaunch
	jmp dune_vmx_exit
.Lresume:
	vmresume
	/*
	 * Reached two ways: by falling through when VMLAUNCH/VMRESUME failed
	 * (CF or ZF set, SDM 31.2), or as HOST_RIP after a VM exit, which
	 * clears RFLAGS but bit 1 (SDM 28.5.3).  Either way RSP = HOST_RSP.
	 */
SYM_INNER_LABEL(dune_vmx_exit, SYM_L_GLOBAL)
	ENDBR
	jbe .Lfail
	/* Swap the guest's RDI with the saved regs pointer. */
	xchg %rdi, (%rsp)
	mov %rax, REGS_RAX(%rdi)
	mov %rbx, REGS_RBX(%rdi)
	mov %rcx, REGS_RCX(%rdi)
	mov %rdx, REGS_RDX(%rdi)
	mov %rsi, REGS_RSI(%rdi)
	mov %rbp, REGS_RBP(%rdi)
	mov %r8, REGS_R8(%rdi)
	mov %r9, REGS_R9(%rdi)
	mov %r10, REGS_R10(%rdi)
	mov %r11, REGS_R11(%rdi)
	mov %r12, REGS_R12(%rdi)
	mov %r13, REGS_R13(%rdi)
	mov %r14, REGS_R14(%rdi)
	mov %r15, REGS_R15(%rdi)
	pop REGS_RDI(%rdi)
	/* The result goes in EBX (popped at the end): see .Lout. */
	xor %ebx, %ebx
	jmp .Lout

.Lfail:
	pop %rdi
	mov $1, %ebx
	jmp .Lout
.Lfail_early:
	pop %rdi
	mov $1, %ebx
.Lout:
	/*
	 * Spectre v2 / RSB underflow: the guest's return predictions must
	 * not steer the host's RETs (from dune_vmx_enter's own on): stuff
	 * the RSB before the first one, as the kernel's mitigation state
	 * asks (X86_FEATURE_RSB_VMEXIT, or one entry with eIBRS: _LITE).
	 * FILL_RETURN_BUFFER needs a scratch register (RCX, zeroed
	 * below); clear_bhb_loop clobbers RAX and RCX.
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE
	/* BHI: the guest's branch history must not steer host branches. */
	CLEAR_BRANCH_HISTORY_VMEXIT
	mov %ebx, %eax
	/* No guest value may leak into speculation on the host side. */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET
SYM_FUNC_END(dune_vmx_enter)
