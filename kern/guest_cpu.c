// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPU state of the guest that VMX does not switch by itself and that must
 * never reach the host: the task-priority register (CR8) and the debug
 * registers.  And the VMX-preemption timer, which keeps a vCPU preemptible
 * whatever the guest does with RFLAGS.IF.
 *
 * CR8: with the TPR shadow (SDM 29.3) the guest's MOV to/from CR8 reads
 * and writes the VTPR in a virtual-APIC page of its own and never the
 * local APIC; without it, CR8-load/store exiting (SDM 25.6.2) brings every
 * access here and vcpu->cr8 holds the value.
 *
 * Debug registers: every MOV DR exits (SDM 25.6.2) and works on the copy
 * in struct dune_vcpu; DR7 and IA32_DEBUGCTL are in the VMCS, loaded at
 * entry and saved at exit (SDM 25.7.1, 25.8.1).  DR0-DR3 and DR6 have no
 * VMCS field: the guest's go into the registers for the time of the entry
 * when it may use them, and the host's come back right after the exit.
 */
#include <linux/kernel.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <asm/apicdef.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/trapnr.h>
#include <asm/tsc.h>

#include "vcpu.h"
#include "vmx_ops.h"

/* SDM 17.2.3 / 17.2.4: DR6.BD and DR7.GD (the kernel names them for KVM). */
#define GUEST_DR6_BD (1ul << 13)
#define GUEST_DR7_GD (1ul << 13)
/*
 * The DR6 bits a guest can set: B0-B3, BD, BS, BT.  The others read as
 * DR6_RESERVED has them: RTM (bit 16) and bus-lock (bit 11) report only
 * with IA32_DEBUGCTL bits the guest cannot set.
 */
#define GUEST_DR6_BITS (DR_TRAP_BITS | GUEST_DR6_BD | DR_STEP | DR_SWITCH)
/* The DR7 bits a guest can set: enables, GD, R/W and LEN of DR0-DR3. */
#define GUEST_DR7_BITS                                                   \
	(DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK | DR_LOCAL_SLOWDOWN | \
	 DR_GLOBAL_SLOWDOWN | GUEST_DR7_GD | GENMASK(31, DR_CONTROL_SHIFT))

/* Preemption-timer value for each VM entry; 0 when there is no timer. */
static u32 preempt_timer_value;
static bool tpr_shadow;

/* What a CPU without these features gets, on any CPU (for tests). */
static bool no_tpr_shadow;
module_param(no_tpr_shadow, bool, 0444);
MODULE_PARM_DESC(no_tpr_shadow, "Give guests their CR8 through CR8 exits, not the TPR shadow (default off)");
static bool no_preemption_timer;
module_param(no_preemption_timer, bool, 0444);
MODULE_PARM_DESC(no_preemption_timer, "Do not use the VMX-preemption timer (default off)");

/*
 * Required processor-based controls for vcpu_init().  The TPR shadow
 * needs no CR8 exits (they would take priority over it, SDM 29.3); the
 * fallback needs them.
 */
u32 guest_cpu_procbased_controls(const struct vmx_msrs *m)
{
	u64 procbased = m->procbased;
	u32 ctl;

	if (no_tpr_shadow)	/* as if the CPU did not allow it */
		procbased &= ~((u64)CPU_BASED_TPR_SHADOW << 32);
	ctl = vmx_cr8_controls(procbased);

	tpr_shadow = ctl & CPU_BASED_TPR_SHADOW;
	if (!tpr_shadow)
		pr_info("dune: no TPR shadow: guest CR8 accesses exit\n");
	return ctl | CPU_BASED_MOV_DR_EXITING;
}

/*
 * Optional pin-based controls for vcpu_init(): the VMX-preemption timer
 * (SDM 25.6.1), armed for about one scheduler tick at every entry.
 * Real CPUs also exit for an external interrupt while the guest runs
 * with RFLAGS.IF = 0, but not every implementation does (Bochs waits
 * for the guest to set IF), and nothing may keep the host from
 * preempting or killing the thread.
 */
u32 guest_cpu_pin_controls(const struct vmx_msrs *m)
{
	if (vmx_ctl_allows(m->pinbased, PIN_BASED_VMX_PREEMPTION_TIMER) &&
	    !no_preemption_timer)
		preempt_timer_value = vmx_preempt_timer_value(
			(u64)tsc_khz * 1000, HZ,
			vmx_misc_preemption_timer_rate(m->misc));
	if (!preempt_timer_value) {
		pr_info("dune: no VMX-preemption timer: a guest with interrupts off is preempted only if the CPU exits for the interrupt\n");
		return 0;
	}
	return PIN_BASED_VMX_PREEMPTION_TIMER;
}

int guest_cpu_alloc(struct dune_vcpu *vcpu)
{
	if (!tpr_shadow)
		return 0;
	vcpu->vapic = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return vcpu->vapic ? 0 : -ENOMEM;
}

void guest_cpu_free(struct dune_vcpu *vcpu)
{
	free_page((unsigned long)vcpu->vapic);
}

/* VMCS fields of this file, the VMCS being current (vcpu_setup_vmcs). */
void guest_cpu_setup_vmcs(struct dune_vcpu *vcpu)
{
	vcpu->dr6 = DR6_RESERVED;
	if (vcpu->vapic) {
		/*
		 * SDM 26.2.1.1: a page-aligned virtual-APIC page; a TPR
		 * threshold of 0 is never above the VTPR, so no
		 * TPR-below-threshold exit ever happens.
		 */
		vmcs_write64(VIRTUAL_APIC_PAGE_ADDR, __pa(vcpu->vapic));
		vmcs_write32(TPR_THRESHOLD, 0);
	}
	/*
	 * SDM 26.7.4: without "save VMX-preemption timer value" every entry
	 * starts the count from this field again.
	 */
	if (preempt_timer_value)
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, preempt_timer_value);
}

/*
 * MOV to/from CR8 (fallback without TPR shadow, or a CPU that forces
 * the CR8 exits).  SDM 10.8.6.1: CR8 is TPR bits 7:4; a 1 in bits 63:4
 * of the source is #GP.  @to_cr: MOV to CR8.
 */
int guest_cr8_access(struct dune_vcpu *vcpu, bool to_cr, u64 *gpr)
{
	u8 *vtpr = vcpu->vapic ? (u8 *)vcpu->vapic + APIC_TASKPRI : NULL;

	if (to_cr) {
		if (*gpr >> 4) {
			vcpu_inject_exception(vcpu, X86_TRAP_GP, true, 0);
			return 1;
		}
		vcpu->cr8 = *gpr;
		if (vtpr)
			WRITE_ONCE(*vtpr, *gpr << 4);
	} else {
		*gpr = vtpr ? READ_ONCE(*vtpr) >> 4 : vcpu->cr8;
	}
	vcpu_skip_instruction(vcpu);
	return 1;
}

static void guest_dr_update_loaded(struct dune_vcpu *vcpu, unsigned long dr7)
{
	vcpu->dr_loaded = (dr7 & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK)) ||
			  vcpu->dr[0] || vcpu->dr[1] || vcpu->dr[2] || vcpu->dr[3];
}

/*
 * MOV to/from DR0-DR7 (SDM 17.2; exit qualification: SDM table 28-4).
 * CPL > 0 (#GP) and DR4/DR5 with CR4.DE (#UD) fault before the exit
 * (SDM 25.1.1); with CR4.DE = 0 (always, for us) DR4/DR5 are DR6/DR7.
 * DR7.GD makes the access a #DB fault with DR6.BD, GD cleared (17.2.4).
 */
int handle_dr(struct dune_vcpu *vcpu, struct dune_run *run)
{
	u64 q = vcpu->exit_qual;
	u64 *gpr = dune_regs_gpr(&vcpu->regs, DEBUG_REG_ACCESS_REG(q));
	int dr = q & DEBUG_REG_ACCESS_NUM;
	unsigned long dr7;

	if (dr == 4 || dr == 5)
		dr += 2;
	vcpu_vmcs_begin(vcpu);
	dr7 = vmcs_readl(GUEST_DR7);
	if (dr7 & GUEST_DR7_GD) {
		vmcs_writel(GUEST_DR7, dr7 & ~GUEST_DR7_GD);
		vcpu_vmcs_end(vcpu);
		vcpu->dr6 |= GUEST_DR6_BD;
		vcpu_inject_exception(vcpu, X86_TRAP_DB, false, 0);
		return 1;
	}
	if (q & DEBUG_REG_ACCESS_TYPE) {
		*gpr = dr < 4 ? vcpu->dr[dr] : dr == 6 ? vcpu->dr6 : dr7;
	} else if (dr >= 6 && *gpr >> 32) {
		/* SDM: MOV to DR6/DR7 with a 1 in bits 63:32 is #GP(0). */
		vcpu_vmcs_end(vcpu);
		vcpu_inject_exception(vcpu, X86_TRAP_GP, true, 0);
		return 1;
	} else if (dr < 4) {
		vcpu->dr[dr] = *gpr;
	} else if (dr == 6) {
		vcpu->dr6 = (*gpr & GUEST_DR6_BITS) | DR6_RESERVED;
	} else {
		dr7 = (*gpr & GUEST_DR7_BITS) | DR7_FIXED_1;
		vmcs_writel(GUEST_DR7, dr7);
	}
	vcpu_vmcs_end(vcpu);
	guest_dr_update_loaded(vcpu, dr7);
	vcpu_skip_instruction(vcpu);
	return 1;
}

/*
 * Right before VM entry, interrupts off.  The host's DR6 is DR6_RESERVED
 * here (Linux's #DB handler puts it back after every #DB).  A VM exit
 * clears IA32_DEBUGCTL and sets DR7 to 0x400 (SDM 28.5.1): remember
 * whether the thread had anything there to restore.
 */
void guest_debug_enter(struct dune_vcpu *vcpu)
{
	vcpu->host_debugctl = get_debugctlmsr();
	vcpu->host_bp = hw_breakpoint_active();
	if (vcpu->dr_loaded) {
		/* The host's breakpoints must not fire on guest addresses. */
		if (vcpu->host_bp)
			set_debugreg(0ul, 7);
		set_debugreg(vcpu->dr[0], 0);
		set_debugreg(vcpu->dr[1], 1);
		set_debugreg(vcpu->dr[2], 2);
		set_debugreg(vcpu->dr[3], 3);
	}
	if (vcpu->dr6 != DR6_RESERVED)
		set_debugreg(vcpu->dr6, 6);
}

/*
 * Right after VM exit, interrupts off.  A #DB the guest took through its
 * own IDT left its bits in DR6; the host's DR0-DR3 (the per-CPU copies
 * Linux keeps for its hardware breakpoints), DR6 and DR7 go back before
 * anything on the host can take a #DB.
 */
void guest_debug_exit(struct dune_vcpu *vcpu)
{
	unsigned long dr6;

	get_debugreg(dr6, 6);
	vcpu->dr6 = (dr6 & GUEST_DR6_BITS) | DR6_RESERVED;
	if (vcpu->dr_loaded || vcpu->host_bp)
		hw_breakpoint_restore();
	else if (dr6 != DR6_RESERVED)
		set_debugreg(DR6_RESERVED, 6);
	if (vcpu->host_debugctl)
		update_debugctlmsr(vcpu->host_debugctl);
}

/*
 * The timer ran out: nothing to do but go round vcpu_run()'s loop, which
 * takes the pending interrupts and checks for rescheduling and signals.
 */
int handle_preemption_timer(struct dune_vcpu *vcpu, struct dune_run *run)
{
	return 1;
}
