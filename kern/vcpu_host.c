// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host's side of a VM entry and exit: what user space hands in is
 * checked before it reaches an MSR or the VMCS, the host registers a VM
 * exit does not restore are restored, and the kernel's own
 * speculative-execution mitigations are applied around the guest, the way
 * the kernel applies them around user space and KVM around its guests.
 */
#include <linux/cpu.h>
#include <linux/kernel.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/vmx.h>
#if __has_include(<asm/gsseg.h>)
#include <asm/gsseg.h>		/* load_gs_index() from 6.2 on */
#endif

#include "vcpu.h"
#include "vmx_ops.h"

/*
 * Everything in a dune_vcpu_config that reaches an MSR or a VMCS field
 * without a further check.  WRMSR raises #GP for a non-canonical LSTAR or
 * KERNEL_GS_BASE and for the reserved bits 63:32 of IA32_FMASK (SDM vol. 4,
 * table 2-2); VM entry fails for non-canonical GDTR, IDTR and TR bases
 * (SDM 26.3.1.2, 26.3.1.3).  IA32_STAR has no reserved bits.
 */
int vcpu_check_config_values(const struct dune_vcpu_config *cfg)
{
	if (!dune_canonical(cfg->lstar) ||
	    !dune_canonical(cfg->kernel_gs_base) || cfg->sfmask >> 32)
		return -EINVAL;
	if (!dune_canonical(cfg->gdt_base) || !dune_canonical(cfg->idt_base) ||
	    !dune_canonical(cfg->tss_base))
		return -EINVAL;
	return 0;
}

/* The host's syscall MSRs: the same on every CPU, read once at load. */
static u64 host_lstar, host_star, host_sfmask;

void vcpu_host_msrs_init(void)
{
	rdmsrl(MSR_LSTAR, host_lstar);
	rdmsrl(MSR_STAR, host_star);
	rdmsrl(MSR_SYSCALL_MASK, host_sfmask);
}

/*
 * The guest's syscall MSRs, checked when they came in (vcpu_create,
 * handle_wrmsr); written with checked WRMSRs all the same, since a fault
 * would leave the host's value for the guest to read (LSTAR is not
 * intercepted): then the host's go back and the entry is refused.
 */
bool vcpu_load_guest_msrs(struct dune_vcpu *vcpu)
{
	if (!wrmsrl_safe(MSR_KERNEL_GS_BASE, vcpu->guest_kernel_gs_base) &&
	    !wrmsrl_safe(MSR_LSTAR, vcpu->guest_lstar) &&
	    !wrmsrl_safe(MSR_STAR, vcpu->guest_star) &&
	    !wrmsrl_safe(MSR_SYSCALL_MASK, vcpu->guest_sfmask))
		return true;
	wrmsrl(MSR_LSTAR, host_lstar);
	wrmsrl(MSR_STAR, host_star);
	wrmsrl(MSR_SYSCALL_MASK, host_sfmask);
	return false;
}

/*
 * Right after the exit, IRQs off: the guest's KERNEL_GS_BASE and LSTAR
 * (it may write LSTAR without an exit) are saved and the host's syscall
 * MSRs put back.  KERNEL_GS_BASE itself is the caller's to restore, last.
 */
void vcpu_put_guest_msrs(struct dune_vcpu *vcpu)
{
	rdmsrl(MSR_KERNEL_GS_BASE, vcpu->guest_kernel_gs_base);
	rdmsrl(MSR_LSTAR, vcpu->guest_lstar);
	wrmsrl(MSR_LSTAR, host_lstar);
	wrmsrl(MSR_STAR, host_star);
	wrmsrl(MSR_SYSCALL_MASK, host_sfmask);
}

/*
 * Host registers a VM exit leaves as the host-state area says, not as they
 * were (SDM 28.5): LDTR is null and DS/ES/FS/GS hold the (null) host
 * selectors.  Linux keeps user FS/GS selectors and the LDT in the
 * registers until the next context switch, so they are put back before
 * anything else can notice.  The debug registers and IA32_DEBUGCTL, which
 * the exit also changes, are guest_cpu.c's (guest_debug_exit).
 */
void vcpu_host_save(struct vcpu_host_regs *h)
{
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	store_ldt(h->ldt);
}

/* After the exit, IRQs off, GDT reloaded; before KERNEL_GS_BASE is. */
void vcpu_host_restore(const struct vcpu_host_regs *h, u64 fs_base)
{
	/* The selector points into this CPU's GDT, as before the entry. */
	if (h->ldt)
		asm volatile("lldt %w0" : : "q"(h->ldt));
	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->fs) {
		/* Loading the selector loads a 32-bit base: put the real one back. */
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, fs_base);
	}
	/* Changes the inactive (user) GS base: the caller writes it last. */
	if (h->gs)
		load_gs_index(h->gs);
}

/*
 * Guest state from user space, made consistent with what the VMCS holds
 * (the CPU saved it at the last exit).  SDM 26.3.1.5: STI blocking needs
 * RFLAGS.IF = 1, and with STI or MOV-SS blocking the pending-debug BS bit
 * must match RFLAGS.TF.  The blocking covers the one instruction after STI
 * or MOV SS, which is the one that exited; when the guest is not resumed
 * right there with the same flags (an instruction skipped, or new
 * registers from user space), that instruction is over and so is the
 * blocking.  Called with the VMCS current, before RIP/RFLAGS are written.
 */
void vcpu_sanitize_blocking(u64 rip, u64 rflags)
{
	const u32 shadow = GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS;
	u32 block = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	if (!(block & shadow))
		return;
	if (rip == vmcs_readl(GUEST_RIP) &&
	    rflags == vmcs_readl(GUEST_RFLAGS))
		return;
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, block & ~shadow);
}

/*
 * L1TF (Intel's L1 Terminal Fault advisory; the SDM does not cover it):
 * the guest owns its page tables, so a not-present guest PTE can
 * speculatively read any L1D line of the host.  Flush the L1D before every VM entry when the kernel's own
 * policy asks for it (l1tf_vmx_mitigation, set by kvm_intel when loaded;
 * otherwise "auto", which follows mitigations=) and the CPU can do it with
 * IA32_FLUSH_CMD.  Decided once, at module load.
 */
static bool l1d_flush_on_entry;

void vcpu_spec_init(void)
{
	u64 caps = 0;

	if (!boot_cpu_has_bug(X86_BUG_L1TF) ||
	    !boot_cpu_has(X86_FEATURE_FLUSH_L1D))
		return;
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &caps);
	if (caps & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH)
		return;
	switch (l1tf_vmx_mitigation) {
	case VMENTER_L1D_FLUSH_NEVER:
	case VMENTER_L1D_FLUSH_NOT_REQUIRED:
		return;
	case VMENTER_L1D_FLUSH_AUTO:
		if (l1tf_mitigation == L1TF_MITIGATION_OFF ||
		    cpu_mitigations_off())
			return;
		break;
	default:
		break;
	}
	l1d_flush_on_entry = true;
}

/* Right before the entry, IRQs off (VERW itself is in vmenter.S). */
void vcpu_spec_before_entry(void)
{
	/* The L1D flush also overwrites the CPU buffers VERW would clear. */
	if (l1d_flush_on_entry)
		wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
	/*
	 * MMIO stale data without MDS/TAA: the kernel clears buffers only
	 * where MMIO may be reached; a guest reaches the MMIO its process
	 * maps (VM_PFNMAP slots), so clear them before this entry too.
	 */
	else if (static_branch_unlikely(&mmio_stale_data_clear) &&
		 !cpu_feature_enabled(X86_FEATURE_CLEAR_CPU_BUF_VM))
		x86_clear_cpu_buffers();
}

/*
 * Right after the exit, before any indirect branch of C code: with legacy
 * IBRS (retbleed=ibrs, spectre_v2=ibrs) the kernel sets IBRS on each entry
 * from a less privileged mode; a VM exit is one, so write SPEC_CTRL again.
 * The guest cannot change SPEC_CTRL itself (its MSR accesses exit).
 */
void vcpu_spec_after_exit(void)
{
	if (cpu_feature_enabled(X86_FEATURE_KERNEL_IBRS))
		native_wrmsrl(MSR_IA32_SPEC_CTRL,
			      __this_cpu_read(x86_spec_ctrl_current));
}
