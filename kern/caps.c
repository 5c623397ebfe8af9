// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pure decoding of VMX capability MSRs.  No MSR is read here: callers pass
 * the values, so this file is unit-tested on the host with real and made-up
 * MSR images.
 */
#include "caps.h"

int vmx_ctl_adjust(u64 msr, u32 required, u32 optional, u32 *out)
{
	u32 must_be_one = (u32)msr;
	u32 may_be_one = (u32)(msr >> 32);

	if ((required & may_be_one) != required)
		return -EIO;
	*out = (required | (optional & may_be_one) | must_be_one);
	return 0;
}

struct cap_rule {
	u32 flag;
	bool needed;
	const char *name;
};

/* Order matters only for the message: most fundamental first. */
static const struct cap_rule cap_rules[] = {
	{ DUNE_CAP_EPT, true, "EPT" },
	{ DUNE_CAP_VPID, true, "VPID" },
	{ DUNE_CAP_EPT_4LEVEL, true, "4-level EPT" },
	{ DUNE_CAP_EPT_WB, true, "write-back EPT memory type" },
	{ DUNE_CAP_INVEPT, true, "INVEPT" },
	{ DUNE_CAP_INVVPID, true, "INVVPID" },
};

static void why_append(char *why, size_t len, const char *what)
{
	size_t used = strnlen(why, len);

	if (used + 1 >= len)
		return;
	snprintf(why + used, len - used, "%s%s", used ? ", " : "", what);
}

static u32 decode_ept_vpid(u64 cap)
{
	u32 vpid_cap = (u32)(cap >> 32);
	u32 f = 0;

	if (cap & VMX_EPT_PAGE_WALK_4_BIT)
		f |= DUNE_CAP_EPT_4LEVEL;
	if (cap & VMX_EPTP_WB_BIT)
		f |= DUNE_CAP_EPT_WB;
	if (cap & VMX_EPTP_UC_BIT)
		f |= DUNE_CAP_EPT_UC;
	if (cap & VMX_EPT_EXECUTE_ONLY_BIT)
		f |= DUNE_CAP_EPT_EXEC_ONLY;
	if (cap & VMX_EPT_2MB_PAGE_BIT)
		f |= DUNE_CAP_EPT_2M;
	if (cap & VMX_EPT_1GB_PAGE_BIT)
		f |= DUNE_CAP_EPT_1G;
	if (cap & VMX_EPT_AD_BIT)
		f |= DUNE_CAP_EPT_AD;
	if (cap & VMX_EPT_INVEPT_BIT)
		f |= DUNE_CAP_INVEPT;
	if (cap & VMX_EPT_EXTENT_CONTEXT_BIT)
		f |= DUNE_CAP_INVEPT_SINGLE;
	if (cap & VMX_EPT_EXTENT_GLOBAL_BIT)
		f |= DUNE_CAP_INVEPT_GLOBAL;
	/* asm/vmx.h numbers the INVVPID bits relative to bit 32. */
	if (vpid_cap & VMX_VPID_INVVPID_BIT)
		f |= DUNE_CAP_INVVPID;
	if (vpid_cap & VMX_VPID_EXTENT_INDIVIDUAL_ADDR_BIT)
		f |= DUNE_CAP_INVVPID_ADDR;
	if (vpid_cap & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT)
		f |= DUNE_CAP_INVVPID_SINGLE;
	if (vpid_cap & VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT)
		f |= DUNE_CAP_INVVPID_ALL;
	return f;
}

int vmx_caps_decode(const struct vmx_msrs *m, struct vmx_caps *caps,
		    char *why, size_t whylen)
{
	struct dune_caps *u = &caps->uapi;
	bool secondary;
	size_t i;

	memset(caps, 0, sizeof(*caps));
	caps->msrs = *m;
	if (whylen)
		why[0] = '\0';

	u->api_version = DUNE_API_VERSION;
	u->maxphyaddr = m->maxphyaddr;
	u->msr_vmx_basic = m->basic;
	u->msr_procbased2 = m->procbased2;
	u->msr_ept_vpid_cap = m->ept_vpid_cap;
	u->msr_feature_control = m->feature_control;

	if (!(m->cpuid1_ecx & CPUID_BIT(X86_FEATURE_VMX))) {
		why_append(why, whylen, "VMX (CPUID.1:ECX.VMX is 0)");
		return -ENODEV;
	}
	/* SDM 24.7: VMXON outside SMX needs FEATURE_CONTROL locked + bit 2. */
	if (!(m->feature_control & FEAT_CTL_LOCKED) ||
	    !(m->feature_control & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		why_append(why, whylen,
			   "VMX enabled in firmware (IA32_FEATURE_CONTROL)");
		return -ENODEV;
	}

	u->vmcs_revision = vmx_basic_vmcs_revision_id(m->basic);
	u->vmcs_size = vmx_basic_vmcs_size(m->basic);
	if (m->basic & VMX_BASIC_TRUE_CTLS)
		u->flags |= DUNE_CAP_TRUE_CTLS;

	/* SDM A.2: write-back VMCS memory type is the only one we support. */
	if (vmx_basic_mem_type(m->basic) != MTRR_TYPE_WRBACK)
		why_append(why, whylen, "write-back VMCS memory type");

	secondary = vmx_ctl_allows(m->procbased,
				   CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
	if (secondary) {
		if (vmx_ctl_allows(m->procbased2, SECONDARY_EXEC_ENABLE_EPT))
			u->flags |= DUNE_CAP_EPT |
				    decode_ept_vpid(m->ept_vpid_cap);
		if (vmx_ctl_allows(m->procbased2, SECONDARY_EXEC_ENABLE_VPID))
			u->flags |= DUNE_CAP_VPID;
		if (vmx_ctl_allows(m->procbased2,
				   SECONDARY_EXEC_UNRESTRICTED_GUEST))
			u->flags |= DUNE_CAP_UNRESTRICTED;
	} else {
		why_append(why, whylen, "secondary processor-based controls");
	}
	if (vmx_ctl_allows(m->pinbased, PIN_BASED_VIRTUAL_NMIS))
		u->flags |= DUNE_CAP_VNMI;
	/* SDM 4.10.1: PCIDs need the CPU's PCID and CR4.PCIDE allowed (A.8). */
	if (m->cpuid1_ecx & CPUID_BIT(X86_FEATURE_PCID) &&
	    m->cr4_fixed1 & X86_CR4_PCIDE)
		u->flags |= DUNE_CAP_PCID;
	/* SDM 25.6.2: without "enable INVPCID", INVPCID is #UD in the guest. */
	if (secondary && m->cpuid7_ebx & CPUID_BIT(X86_FEATURE_INVPCID) &&
	    vmx_ctl_allows(m->procbased2, SECONDARY_EXEC_ENABLE_INVPCID))
		u->flags |= DUNE_CAP_INVPCID;

	/* The VPID INVVPID bits mean nothing without VPID itself. */
	if (!(u->flags & DUNE_CAP_VPID))
		u->flags &= ~(DUNE_CAP_INVVPID | DUNE_CAP_INVVPID_ADDR |
			      DUNE_CAP_INVVPID_SINGLE | DUNE_CAP_INVVPID_ALL);

	for (i = 0; i < ARRAY_SIZE(cap_rules); i++)
		if (cap_rules[i].needed && !(u->flags & cap_rules[i].flag))
			why_append(why, whylen, cap_rules[i].name);
	if (u->flags & DUNE_CAP_INVEPT &&
	    !(u->flags & (DUNE_CAP_INVEPT_SINGLE | DUNE_CAP_INVEPT_GLOBAL)))
		why_append(why, whylen, "an INVEPT type (single or global)");
	if (u->flags & DUNE_CAP_INVVPID &&
	    !(u->flags & (DUNE_CAP_INVVPID_SINGLE | DUNE_CAP_INVVPID_ALL)))
		why_append(why, whylen, "an INVVPID type (single or all)");
	/* SDM 4.1.4: MAXPHYADDR is at least 36 on any CPU with 64-bit mode. */
	if (m->maxphyaddr < 36 || m->maxphyaddr > 52)
		why_append(why, whylen, "a sane MAXPHYADDR (36..52)");

	return (whylen && why[0]) ? -ENODEV : 0;
}
