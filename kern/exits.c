// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM exit handlers, one per basic exit reason (SDM appendix C), each with
 * a one-line contract.  A handler returns 1 to re-enter the guest, 0 to
 * return to user space with the dune_run filled in, or a negative errno.
 * What a process could not do natively (I/O, MSRs, CR writes, VMX
 * instructions) gets the exception a CPU would raise, through the guest's
 * own IDT; what the module cannot make sense of is fatal for the vCPU,
 * never for the host.
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/fpu/xcr.h>
#include <asm/processor.h>
#include <asm/trapnr.h>

#include "vcpu.h"
#include "vmx_ops.h"

void vcpu_inject_exception(struct dune_vcpu *vcpu, int vector, bool has_error,
			   u32 error)
{
	vcpu->pending_event = vector | INTR_TYPE_HARD_EXCEPTION |
			      INTR_INFO_VALID_MASK |
			      (has_error ? INTR_INFO_DELIVER_CODE_MASK : 0);
	vcpu->pending_error = error;
	vcpu->pending_len = 0;
}

void vcpu_skip_instruction(struct dune_vcpu *vcpu)
{
	vcpu->regs.rip += vcpu->exit_instr_len;
	vcpu->regs_dirty = true;
	/*
	 * The instruction was carried out here, not by the guest, so the
	 * single-step trap that follows it with RFLAGS.TF set is ours to
	 * raise (SDM 17.3.1.4: #DB, DR6.BS).
	 */
	if (vcpu->regs.rflags & X86_EFLAGS_TF) {
		vcpu->dr6 = (vcpu->dr6 & ~DR_TRAP_BITS) | DR_STEP;
		vcpu_inject_exception(vcpu, X86_TRAP_DB, false, 0);
	}
}

static int inject_gp(struct dune_vcpu *vcpu, struct dune_run *run)
{
	vcpu_inject_exception(vcpu, X86_TRAP_GP, true, 0);
	return 1;
}

static int inject_ud(struct dune_vcpu *vcpu, struct dune_run *run)
{
	vcpu_inject_exception(vcpu, X86_TRAP_UD, false, 0);
	return 1;
}

int vcpu_fatal(struct dune_vcpu *vcpu, struct dune_run *run, const char *why)
{
	vcpu->dead = true;
	run->exit_reason = DUNE_EXIT_FATAL;
	run->vmx_exit_reason = vcpu->exit_reason;
	run->exit_qual = vcpu->exit_qual;
	pr_warn_ratelimited("dune: pid %d: %s: exit reason 0x%x, qualification 0x%llx, rip 0x%llx, rsp 0x%llx, VM-instruction error %u\n",
			    task_pid_nr(current), why, vcpu->exit_reason,
			    vcpu->exit_qual, vcpu->regs.rip, vcpu->regs.rsp,
			    vcpu->instr_error);
	vcpu_vmcs_begin(vcpu);
	vmcs_dump();
	vcpu_vmcs_end(vcpu);
	return 0;
}

/* Host NMIs and machine checks: the host's handlers already ran. */
static int handle_exception_nmi(struct dune_vcpu *vcpu, struct dune_run *run)
{
	u32 info = vcpu->exit_intr_info;
	u32 type = info & INTR_INFO_INTR_TYPE_MASK;
	u32 vector = info & INTR_INFO_VECTOR_MASK;

	/* The NMI itself was handed to the host right after the exit. */
	if (type == INTR_TYPE_NMI_INTR)
		return 1;
	if (vector == X86_TRAP_MC)
		return 1;	/* handled like the NMI, in vcpu_enter */
	return vcpu_fatal(vcpu, run, "unexpected exception exit");
}

/* The interrupt is handled by the host once interrupts are back on. */
static int handle_external_interrupt(struct dune_vcpu *vcpu,
				     struct dune_run *run)
{
	return 1;
}

/*
 * The guest can take an interrupt now: vcpu_set_events() injects the one
 * user space asked for and turns this exit off again.
 */
static int handle_interrupt_window(struct dune_vcpu *vcpu,
				   struct dune_run *run)
{
	return 1;
}

static int handle_triple_fault(struct dune_vcpu *vcpu, struct dune_run *run)
{
	return vcpu_fatal(vcpu, run, "triple fault in the guest");
}

/* HLT: nothing to wait for; give the CPU away and go on. */
static int handle_hlt(struct dune_vcpu *vcpu, struct dune_run *run)
{
	vcpu_skip_instruction(vcpu);
	cond_resched();
	return 1;
}

/*
 * VMCALL: a system call for Linux, run by user space.  Only from CPL 0:
 * ring-3 sandbox code must go through the ring-0 program's own syscall
 * filter, so for it VMCALL is #UD, as on a CPU without VMX.
 */
static int handle_vmcall(struct dune_vcpu *vcpu, struct dune_run *run)
{
	if (vcpu->exit_cpl)
		return inject_ud(vcpu, run);
	guest_bases_to_thread(vcpu);
	vcpu_skip_instruction(vcpu);
	run->exit_reason = DUNE_EXIT_VMCALL;
	run->vmx_exit_reason = vcpu->exit_reason;
	return 0;
}

/*
 * CR access: only a CR3 load is honoured (if the CPU forces CR3-load
 * exiting); CR0/CR4 belong to the module; CR8 is the guest's own, here
 * only without TPR shadow (guest_cpu.c).  SDM table 28-3.
 */
static int handle_cr(struct dune_vcpu *vcpu, struct dune_run *run)
{
	u64 q = vcpu->exit_qual, *gpr = dune_regs_gpr(&vcpu->regs, q >> 8);
	int cr = q & 15, type = (q >> 4) & 3;
	bool flush;
	u64 cr3;

	if (cr == 3 && type == 0) {
		if (!vmx_guest_cr3_load(*gpr, vcpu->pcide,
					vmx_caps.uapi.maxphyaddr, &cr3, &flush))
			return inject_gp(vcpu, run);
		vcpu_vmcs_begin(vcpu);
		vmcs_writel(GUEST_CR3, cr3);
		vcpu_vmcs_end(vcpu);
		/* SDM 4.10.4.1: a CR3 load flushes this VPID's TLB (more than
		 * the one PCID it must), everywhere the vCPU may have run.
		 */
		if (flush)
			vpid_flush_everywhere(vcpu->vpid);
		vcpu_skip_instruction(vcpu);
		return 1;
	}
	if (cr == 8 && type <= 1)
		return guest_cr8_access(vcpu, type == 0, gpr);
	if (cr == 3 && type == 1) {
		vcpu_vmcs_begin(vcpu);
		*gpr = vmcs_readl(GUEST_CR3);
		vcpu_vmcs_end(vcpu);
		vcpu_skip_instruction(vcpu);
		return 1;
	}
	return inject_gp(vcpu, run);
}

static u64 *vcpu_msr_slot(struct dune_vcpu *vcpu, u32 msr)
{
	switch (msr) {
	case MSR_KERNEL_GS_BASE:
		return &vcpu->guest_kernel_gs_base;
	case MSR_LSTAR:
		return &vcpu->guest_lstar;
	case MSR_STAR:
		return &vcpu->guest_star;
	case MSR_SYSCALL_MASK:
		return &vcpu->guest_sfmask;
	default:
		return NULL;
	}
}

/*
 * RDMSR: libdune's own syscall MSRs; else #GP.  LSTAR, FS_BASE and
 * GS_BASE do not exit (see vcpu_init); LSTAR's slot serves vcpu_enter.
 */
static int handle_rdmsr(struct dune_vcpu *vcpu, struct dune_run *run)
{
	u64 *slot = vcpu_msr_slot(vcpu, vcpu->regs.rcx), val;

	if (!slot)
		return inject_gp(vcpu, run);
	val = *slot;
	vcpu->regs.rax = (u32)val;
	vcpu->regs.rdx = val >> 32;
	vcpu_skip_instruction(vcpu);
	return 1;
}

/* WRMSR: only libdune's own syscall MSRs, with values they take; else #GP. */
static int handle_wrmsr(struct dune_vcpu *vcpu, struct dune_run *run)
{
	u64 *slot = vcpu_msr_slot(vcpu, vcpu->regs.rcx);
	u64 val = (u32)vcpu->regs.rax | (vcpu->regs.rdx << 32);

	if (!slot)
		return inject_gp(vcpu, run);
	/*
	 * What the CPU would refuse (SDM vol. 4 table 2-2): vcpu_enter
	 * writes the value to the real MSR, which must not fault there.
	 */
	if (slot == &vcpu->guest_sfmask ? val >> 32 :
	    slot != &vcpu->guest_star && !dune_canonical(val))
		return inject_gp(vcpu, run);
	*slot = val;
	vcpu_skip_instruction(vcpu);
	return 1;
}

static int handle_invalid_state(struct dune_vcpu *vcpu, struct dune_run *run)
{
	return vcpu_fatal(vcpu, run, "VM entry failed: invalid guest state");
}

static int handle_ept_violation(struct dune_vcpu *vcpu, struct dune_run *run)
{
	u64 q = vcpu->exit_qual;
	/* SDM table 28-7: bit 1 write, bit 2 fetch, bit 7 linear valid */
	bool write = q & EPT_VIOLATION_ACC_WRITE;
	bool exec = q & EPT_VIOLATION_ACC_INSTR;
	u64 gpa = vcpu->guest_phys;
	int r;

	r = ept_handle_violation(vcpu->ctx, gpa, write, exec,
				 &vcpu->stats.ept_maps);
	if (r != -EFAULT)
		return r ?: 1;

	/* The process may not do this either: let user space reproduce it. */
	run->exit_reason = DUNE_EXIT_FAULT;
	run->vmx_exit_reason = vcpu->exit_reason;
	run->exit_qual = q;
	run->fault_gpa = gpa;
	run->fault_flags = write ? DUNE_FAULT_WRITE :
			   exec	 ? DUNE_FAULT_EXEC :
				   DUNE_FAULT_READ;
	if (q & EPT_VIOLATION_GVA_IS_VALID) {
		run->fault_addr = vcpu->guest_linear;
		run->fault_flags |= DUNE_FAULT_LINEAR;
	}
	/* Whatever event was being delivered is redone after the retry. */
	return 0;
}

static int handle_ept_misconfig(struct dune_vcpu *vcpu, struct dune_run *run)
{
	vcpu->exit_qual = vcpu->guest_phys;
	return vcpu_fatal(vcpu, run, "EPT misconfiguration (dune.ko bug)");
}

/* XSETBV: the thread's XCR0 is the guest's; only that value is accepted. */
static int handle_xsetbv(struct dune_vcpu *vcpu, struct dune_run *run)
{
	u64 val = (u32)vcpu->regs.rax | (vcpu->regs.rdx << 32);

	if ((u32)vcpu->regs.rcx != 0 || val != xgetbv(XCR_XFEATURE_ENABLED_MASK))
		return inject_gp(vcpu, run);
	vcpu_skip_instruction(vcpu);
	return 1;
}

/* WBINVD: harmless to skip; a process has no business flushing caches. */
static int handle_wbinvd(struct dune_vcpu *vcpu, struct dune_run *run)
{
	vcpu_skip_instruction(vcpu);
	return 1;
}

typedef int (*exit_handler_t)(struct dune_vcpu *, struct dune_run *);

static const exit_handler_t exit_handlers[] = {
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW] = handle_interrupt_window,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_RDTSC] = handle_rdtsc,
	[EXIT_REASON_INVD] = inject_gp,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[EXIT_REASON_VMCLEAR] = inject_ud,
	[EXIT_REASON_VMLAUNCH] = inject_ud,
	[EXIT_REASON_VMPTRLD] = inject_ud,
	[EXIT_REASON_VMPTRST] = inject_ud,
	[EXIT_REASON_VMREAD] = inject_ud,
	[EXIT_REASON_VMRESUME] = inject_ud,
	[EXIT_REASON_VMWRITE] = inject_ud,
	[EXIT_REASON_VMOFF] = inject_ud,
	[EXIT_REASON_VMON] = inject_ud,
	[EXIT_REASON_CR_ACCESS] = handle_cr,
	[EXIT_REASON_DR_ACCESS] = handle_dr,
	[EXIT_REASON_IO_INSTRUCTION] = inject_gp,
	[EXIT_REASON_MSR_READ] = handle_rdmsr,
	[EXIT_REASON_MSR_WRITE] = handle_wrmsr,
	[EXIT_REASON_INVALID_STATE] = handle_invalid_state,
	[EXIT_REASON_MWAIT_INSTRUCTION] = inject_ud,
	[EXIT_REASON_MONITOR_INSTRUCTION] = inject_ud,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_REASON_INVEPT] = inject_ud,
	[EXIT_REASON_PREEMPTION_TIMER] = handle_preemption_timer,
	[EXIT_REASON_INVVPID] = inject_ud,
	[EXIT_REASON_RDTSCP] = handle_rdtsc,
	[EXIT_REASON_WBINVD] = handle_wbinvd,
	[EXIT_REASON_XSETBV] = handle_xsetbv,
	[EXIT_REASON_VMFUNC] = inject_ud,
};

int vcpu_handle_exit(struct dune_vcpu *vcpu, struct dune_run *run)
{
	u16 basic = vcpu->exit_reason;

	if (vcpu->exit_reason & VMX_EXIT_REASONS_FAILED_VMENTRY)
		return vcpu_fatal(vcpu, run, "VM entry failed");
	if (basic < ARRAY_SIZE(exit_handlers) && exit_handlers[basic])
		return exit_handlers[basic](vcpu, run);
	return vcpu_fatal(vcpu, run, "unexpected VM exit");
}
