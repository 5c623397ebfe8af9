/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VMX capabilities: raw MSR values read once at load, decoded into
 * struct dune_caps by pure functions (unit-tested on the host).
 */
#ifndef DUNE_CAPS_H
#define DUNE_CAPS_H

#include "kdefs.h"
#include <dune/uapi.h>

/* Raw inputs to the decoder: everything comes from CPUID and VMX MSRs. */
struct vmx_msrs {
	u32 cpuid1_ecx;		/* CPUID.1:ECX (VMX, PCID) */
	u32 cpuid7_ebx;		/* CPUID.(EAX=7,ECX=0):EBX (INVPCID) */
	u32 maxphyaddr;		/* CPUID.80000008H:EAX[7:0] */
	u64 feature_control;	/* IA32_FEATURE_CONTROL */
	u64 basic;		/* IA32_VMX_BASIC */
	u64 pinbased;		/* IA32_VMX_(TRUE_)PINBASED_CTLS */
	u64 procbased;		/* IA32_VMX_(TRUE_)PROCBASED_CTLS */
	u64 procbased2;		/* IA32_VMX_PROCBASED_CTLS2, 0 if absent */
	u64 exit;		/* IA32_VMX_(TRUE_)EXIT_CTLS */
	u64 entry;		/* IA32_VMX_(TRUE_)ENTRY_CTLS */
	u64 ept_vpid_cap;	/* IA32_VMX_EPT_VPID_CAP, 0 if absent */
	u64 misc;		/* IA32_VMX_MISC */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* Capabilities: the uapi view plus what the module needs internally. */
struct vmx_caps {
	struct dune_caps uapi;
	struct vmx_msrs msrs;
};

/*
 * Decode @m into @caps.  Returns 0 when everything Dune needs is present;
 * otherwise -ENODEV and a human-readable list of what is missing in @why.
 */
int vmx_caps_decode(const struct vmx_msrs *m, struct vmx_caps *caps,
		    char *why, size_t whylen);

/*
 * SDM 31.5.1 / A.3: a VMX control MSR holds the allowed-0 settings in bits
 * 31:0 (a 1 there means the control must be 1) and the allowed-1 settings
 * in bits 63:32 (a 0 there means the control must be 0).  Compute the
 * control word from @required and @optional bits; -EIO if a required bit
 * cannot be set.
 */
int vmx_ctl_adjust(u64 msr, u32 required, u32 optional, u32 *out);

static inline bool vmx_ctl_allows(u64 msr, u32 bits)
{
	return ((msr >> 32) & bits) == bits;
}

/*
 * How a guest gets a CR8 of its own: the TPR shadow if the CPU has it
 * (SDM 29.3: MOV CR8 then works on the virtual-APIC page), else
 * CR8-load and CR8-store exiting (SDM 25.6.2), which every VMX CPU has.
 */
static inline u32 vmx_cr8_controls(u64 procbased)
{
	if (vmx_ctl_allows(procbased, CPU_BASED_TPR_SHADOW))
		return CPU_BASED_TPR_SHADOW;
	return CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING;
}

/*
 * SDM 25.5.1: the VMX-preemption timer counts down by 1 every 2^@rate
 * TSC cycles (@rate: IA32_VMX_MISC bits 4:0).  The count for one tick of
 * a @hz scheduler clock at @tsc_hz, at least 1 and at most what the
 * 32-bit field holds; 0 (no timer) if the TSC rate is unknown, as a
 * count of 0 would exit before every guest instruction (SDM 26.7.4).
 */
static inline u32 vmx_preempt_timer_value(u64 tsc_hz, u32 hz, u32 rate)
{
	u64 v;

	if (!tsc_hz || !hz || rate > 31)
		return 0;
	v = (tsc_hz / hz) >> rate;
	if (!v)
		return 1;
	return v > 0xffffffffull ? 0xffffffffu : (u32)v;
}

/*
 * SDM A.7/A.8: a CR0/CR4 bit that is 1 in FIXED0 must be 1, and a bit that
 * is 0 in FIXED1 must be 0 while in VMX operation (also for the guest).
 */
static inline u64 vmx_cr_fixup(u64 cr, u64 fixed0, u64 fixed1)
{
	return (cr | fixed0) & fixed1;
}

/*
 * A guest MOV to CR3 (SDM 4.10.4.1, "MOV to CR3"): with CR4.PCIDE set,
 * bits 11:0 are the PCID and bit 63 set asks the CPU to keep the PCID's
 * cached translations; bit 63 itself is never part of CR3.  Without
 * PCIDE, bit 63 is reserved.  Returns false where the CPU raises #GP;
 * else the value for GUEST_CR3 in @cr3 and whether to flush in @flush.
 */
static inline bool vmx_guest_cr3_load(u64 val, bool pcide, u32 maxphyaddr,
				      u64 *cr3, bool *flush)
{
	*flush = true;
	if (pcide && (val >> 63)) {
		val &= ~(1ull << 63);
		*flush = false;
	}
	if (val >> maxphyaddr)
		return false;
	*cr3 = val;
	return true;
}

/*
 * The general-purpose register numbered @n in an exit qualification (SDM
 * table 28-3: RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15), which
 * struct dune_regs keeps in another order.
 */
static inline __u64 *dune_regs_gpr(struct dune_regs *r, unsigned int n)
{
	static const u8 index[16] = { 0, 2, 3, 1, 7, 6, 4, 5,
				      8, 9, 10, 11, 12, 13, 14, 15 };

	BUILD_BUG_ON(offsetof(struct dune_regs, rsp) != 7 * 8);
	BUILD_BUG_ON(offsetof(struct dune_regs, r8) != 8 * 8);
	return (__u64 *)r + index[n & 15];
}

static inline bool caps_has(const struct vmx_caps *c, u32 flag)
{
	return (c->uapi.flags & flag) == flag;
}

#endif
