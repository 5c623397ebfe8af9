// SPDX-License-Identifier: GPL-2.0-only
/*
 * Read the VMX capability MSRs once at load and check that every online
 * CPU reports the same values (we run Dune threads on any of them).
 */
#include <linux/module.h>
#include <linux/smp.h>
#include <linux/cpu.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>

#include "dune.h"

struct vmx_caps vmx_caps;

static void read_vmx_msrs(struct vmx_msrs *m)
{
	bool true_ctls;

	memset(m, 0, sizeof(*m));
	m->cpuid1_ecx = cpuid_ecx(1);
	m->maxphyaddr = cpuid_eax(0x80000008) & 0xff;
	if (cpuid_eax(0) >= 7) {
		u32 eax, ecx, edx;

		cpuid_count(7, 0, &eax, &m->cpuid7_ebx, &ecx, &edx);
	}
	if (!(m->cpuid1_ecx & CPUID_BIT(X86_FEATURE_VMX)))
		return;
	/* Every read is _safe: a hypervisor below us may refuse any of them. */
	rdmsrl_safe(MSR_IA32_FEAT_CTL, &m->feature_control);
	rdmsrl_safe(MSR_IA32_VMX_BASIC, &m->basic);
	true_ctls = m->basic & VMX_BASIC_TRUE_CTLS;
	/* SDM A.3.1: the TRUE_* MSRs also report default1 bits that may be 0. */
	rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
				MSR_IA32_VMX_PINBASED_CTLS, &m->pinbased);
	rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
				MSR_IA32_VMX_PROCBASED_CTLS, &m->procbased);
	rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
				MSR_IA32_VMX_EXIT_CTLS, &m->exit);
	rdmsrl_safe(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
				MSR_IA32_VMX_ENTRY_CTLS, &m->entry);
	rdmsrl_safe(MSR_IA32_VMX_MISC, &m->misc);
	rdmsrl_safe(MSR_IA32_VMX_CR0_FIXED0, &m->cr0_fixed0);
	rdmsrl_safe(MSR_IA32_VMX_CR0_FIXED1, &m->cr0_fixed1);
	rdmsrl_safe(MSR_IA32_VMX_CR4_FIXED0, &m->cr4_fixed0);
	rdmsrl_safe(MSR_IA32_VMX_CR4_FIXED1, &m->cr4_fixed1);
	/* SDM A.3.3 / A.10: these two exist only if the control allows them. */
	if (vmx_ctl_allows(m->procbased, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &m->procbased2);
	if (vmx_ctl_allows(m->procbased2, SECONDARY_EXEC_ENABLE_EPT) ||
	    vmx_ctl_allows(m->procbased2, SECONDARY_EXEC_ENABLE_VPID))
		rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &m->ept_vpid_cap);
}

static void read_vmx_msrs_on_cpu(void *arg)
{
	read_vmx_msrs(arg);
}

int dune_probe_caps(void)
{
	struct vmx_msrs boot, other;
	char why[256];
	int cpu, r;

	read_vmx_msrs(&boot);
	r = vmx_caps_decode(&boot, &vmx_caps, why, sizeof(why));
	if (r) {
		pr_err("dune: cannot load: this CPU lacks %s; dune needs Intel VT-x with EPT and VPID enabled (check the firmware settings, or the VM's nested-virtualization options)\n",
		       why);
		return r;
	}

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		smp_call_function_single(cpu, read_vmx_msrs_on_cpu, &other, 1);
		if (memcmp(&other, &boot, sizeof(boot))) {
			pr_err("dune: cannot load: CPU %d reports different VMX capabilities than the boot CPU\n",
			       cpu);
			cpus_read_unlock();
			return -ENODEV;
		}
	}
	vmx_caps.uapi.nr_cpus = num_online_cpus();
	cpus_read_unlock();

	pr_info("dune: VMX caps 0x%x, MAXPHYADDR %u, VMCS rev 0x%x\n",
		vmx_caps.uapi.flags, vmx_caps.uapi.maxphyaddr,
		vmx_caps.uapi.vmcs_revision);
	return 0;
}
