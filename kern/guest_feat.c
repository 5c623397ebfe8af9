// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CPU as the process sees it natively.  The guest runs at CPL 0, where
 * some of what Linux does to a user thread has no effect by itself, and
 * in VMX non-root mode, where CPUID always exits.  So:
 *
 *  - the CR4 bits whose effect user space sees (OSXSAVE: XGETBV and AVX;
 *    FSGSBASE: RDFSBASE and friends; PKE: RDPKRU/WRPKRU) are the host's;
 *  - CPUID answers what the host answers a user program, with VMX hidden,
 *    OSXSAVE and OSPKE as the guest's CR4 has them, and #GP while the
 *    thread has CPUID faulting on (arch_prctl ARCH_SET_CPUID);
 *  - RDTSC and RDTSCP fault (#GP) while the thread has PR_SET_TSC's
 *    PR_TSC_SIGSEGV, as CR4.TSD makes them fault at CPL 3;
 *  - with DUNE_VCPU_THREAD_BASES, the FS/GS bases are the guest's own
 *    across VM exits (the guest may write them with WRFSBASE/WRGSBASE or
 *    WRMSR, no exit), and the thread takes them at each system call (see
 *    guest_bases_to_thread).
 *
 * IA32_TSC_AUX (RDTSCP, RDPID) and XCR0 are not switched by VMX: the guest
 * reads the values Linux put there for the CPU and the thread.
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/thread_info.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include "vcpu.h"
#include "vmx_ops.h"

/* SDM 2.5: CR4 bits that change what user-mode instructions do. */
#define GUEST_CR4_FROM_HOST (X86_CR4_OSXSAVE | X86_CR4_FSGSBASE | X86_CR4_PKE)

static bool rdtsc_exiting;

/* Optional processor-based controls (vcpu_init): RDTSC exiting. */
void guest_feat_init(const struct vmx_msrs *m)
{
	rdtsc_exiting = vmx_ctl_allows(m->procbased, CPU_BASED_RDTSC_EXITING);
}

/* The CR4 feature bits the guest gets: the host kernel's. */
u64 guest_feat_cr4(void)
{
	return cr4_read_shadow() & GUEST_CR4_FROM_HOST;
}

/* At vCPU creation, in the owner thread: the thread's bases are the guest's. */
void guest_bases_init(struct dune_vcpu *vcpu)
{
	u64 fs, gs;

	preempt_disable();
	rdmsrl(MSR_FS_BASE, fs);
	rdmsrl(MSR_KERNEL_GS_BASE, gs);	/* the user GS base, in the kernel */
	preempt_enable();
	vcpu->guest_fs_base = vcpu->thread_fs_base = fs;
	vcpu->guest_gs_base = vcpu->thread_gs_base = gs;
}

/*
 * Right before an entry, IRQs off: @fs, @gs are the thread's bases now.
 * With DUNE_VCPU_THREAD_BASES, if they are not what the last exit left,
 * Linux changed them meanwhile (a forwarded arch_prctl, ptrace): the
 * guest takes them; otherwise it keeps its own.  Without it the guest
 * always starts from the thread's.  RDTSC exiting follows the thread's
 * TIF_NOTSC (set by prctl, a forwarded system call).
 */
void guest_feat_enter(struct dune_vcpu *vcpu, u64 fs, u64 gs)
{
	u32 ctl = vcpu->ctl_cpu & ~CPU_BASED_RDTSC_EXITING;

	if (fs != vcpu->thread_fs_base || !vcpu->thread_bases)
		vcpu->guest_fs_base = vcpu->thread_fs_base = fs;
	if (gs != vcpu->thread_gs_base || !vcpu->thread_bases)
		vcpu->guest_gs_base = vcpu->thread_gs_base = gs;
	vmcs_writel(GUEST_FS_BASE, vcpu->guest_fs_base);
	vmcs_writel(GUEST_GS_BASE, vcpu->guest_gs_base);

	if (rdtsc_exiting && test_thread_flag(TIF_NOTSC))
		ctl |= CPU_BASED_RDTSC_EXITING;
	if (ctl != vcpu->ctl_cpu) {
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, ctl);
		vcpu->ctl_cpu = ctl;
	}
}

/* Right after an exit (SDM 28.3.2 saved the bases in the VMCS). */
void guest_feat_exit(struct dune_vcpu *vcpu)
{
	vcpu->guest_fs_base = vmcs_readl(GUEST_FS_BASE);
	vcpu->guest_gs_base = vmcs_readl(GUEST_GS_BASE);
}

/*
 * A system call (VMCALL at CPL 0) of a vCPU made with
 * DUNE_VCPU_THREAD_BASES (libdune's): the thread takes the guest's bases, so
 * arch_prctl(ARCH_GET_FS), a fork or a new thread see what the program
 * set with WRFSBASE/WRGSBASE.  Only here: ring 3 (libdune's sandbox) may
 * load other bases, and at other exits they may still be its; its
 * VMCALL never gets here (#UD), and ring 0 restores its own bases before
 * making system calls.  Only with host FSGSBASE, where Linux takes a
 * thread's bases from the registers at a context switch; without it,
 * the kernel keeps its own copy and a direct write would be lost (and
 * the guest can then change its bases only with WRMSR, a ring-0 act).
 * Process context: the thread's user bases are in the MSRs while it
 * runs (FS_BASE, and KERNEL_GS_BASE for the inactive user GS).
 */
void guest_bases_to_thread(struct dune_vcpu *vcpu)
{
	if (!vcpu->thread_bases || !cpu_feature_enabled(X86_FEATURE_FSGSBASE))
		return;
	/* Both canonical: the VM entry checked them (SDM 26.3.1.2). */
	preempt_disable();
	wrmsrl(MSR_FS_BASE, vcpu->guest_fs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, vcpu->guest_gs_base);
	preempt_enable();
	vcpu->thread_fs_base = vcpu->guest_fs_base;
	vcpu->thread_gs_base = vcpu->guest_gs_base;
}

/*
 * CPUID: the host's answer (executed here, on the host, at CPL 0, which
 * CPUID faulting does not affect), VMX hidden (the guest cannot use it),
 * PCID shown only to a vCPU running with CR4.PCIDE (it cannot set CR4
 * itself), INVPCID only if it does not raise #UD (DUNE_CAP_INVPCID),
 * OSXSAVE and OSPKE from the guest's CR4 (CPUID leaf 1 ECX bit 27, leaf 7
 * ECX bit 4 reflect CR4).  With CPUID faulting on for the thread (which
 * faults at CPL > 0 natively, SDM vol. 4, MSR_MISC_FEATURES_ENABLES) the
 * guest gets the #GP the process would get.
 */
int handle_cpuid(struct dune_vcpu *vcpu, struct dune_run *run)
{
	u32 leaf = vcpu->regs.rax, sub = vcpu->regs.rcx;
	u32 eax, ebx, ecx, edx;

	if (test_thread_flag(TIF_NOCPUID)) {
		vcpu_inject_exception(vcpu, X86_TRAP_GP, true, 0);
		return 1;
	}
	cpuid_count(leaf, sub, &eax, &ebx, &ecx, &edx);
	if (leaf == 1) {
		ecx &= ~(CPUID_BIT(X86_FEATURE_VMX) |
			 CPUID_BIT(X86_FEATURE_OSXSAVE));
		if (!vcpu->pcide)
			ecx &= ~CPUID_BIT(X86_FEATURE_PCID);
		if (vcpu->cr4 & X86_CR4_OSXSAVE)
			ecx |= CPUID_BIT(X86_FEATURE_OSXSAVE);
	}
	if (leaf == 7 && sub == 0) {
		if (!caps_has(&vmx_caps, DUNE_CAP_INVPCID))
			ebx &= ~CPUID_BIT(X86_FEATURE_INVPCID);
		ecx &= ~CPUID_BIT(X86_FEATURE_OSPKE);
		if (vcpu->cr4 & X86_CR4_PKE)
			ecx |= CPUID_BIT(X86_FEATURE_OSPKE);
	}
	vcpu->regs.rax = eax;
	vcpu->regs.rbx = ebx;
	vcpu->regs.rcx = ecx;
	vcpu->regs.rdx = edx;
	vcpu_skip_instruction(vcpu);
	return 1;
}

/*
 * RDTSC, RDTSCP: they exit only while the thread has PR_TSC_SIGSEGV
 * (guest_feat_enter); natively CR4.TSD makes them #GP at CPL 3 (SDM
 * vol. 2, RDTSC, RDTSCP).
 */
int handle_rdtsc(struct dune_vcpu *vcpu, struct dune_run *run)
{
	vcpu_inject_exception(vcpu, X86_TRAP_GP, true, 0);
	return 1;
}
