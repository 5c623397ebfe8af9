// SPDX-License-Identifier: GPL-2.0-only
/*
 * VMX operation on the host CPUs: VMXON when the first Dune context opens,
 * VMXOFF when the last one closes or the module unloads, CPU hotplug,
 * and the emergency path for crash/kexec/reboot.
 *
 * VT-x is a single per-CPU resource.  If another hypervisor holds it
 * (CR4.VMXE already set, e.g. kvm_intel running a VM, or 6.12's kvm with
 * enable_virt_at_load), we refuse with -EBUSY and a message; we never
 * touch its state.
 */
#include <linux/module.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/reboot.h>
#include <asm/reboot.h>
#include <asm/tlbflush.h>

#include "dune.h"
#include "vmcs.h"
#include "vmx_ops.h"

struct vmx_cpu {
	void *vmxon_region;
	bool on;		/* this CPU is in VMX operation for us */
	int error;		/* last enable error on this CPU */
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);
static DEFINE_MUTEX(vmx_users_lock);
static unsigned int vmx_users;
static enum cpuhp_state vmx_hp_state;

static void vmx_cpu_enable(void *unused)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	u64 cr0 = read_cr0();

	vc->error = 0;
	if (vc->on)
		return;
	if (cr4_read_shadow() & X86_CR4_VMXE) {
		vc->error = -EBUSY;
		return;
	}
	/* SDM 24.8: CR0/CR4 must satisfy the fixed bits for VMXON. */
	if (vmx_cr_fixup(cr0, vmx_caps.msrs.cr0_fixed0,
			 vmx_caps.msrs.cr0_fixed1) != cr0) {
		vc->error = -EIO;
		return;
	}
	cr4_set_bits(X86_CR4_VMXE);
	if (!vmx_on(__pa(vc->vmxon_region))) {
		cr4_clear_bits(X86_CR4_VMXE);
		vc->error = -EIO;
		return;
	}
	/* Stale guest-physical translations from an earlier user. */
	vmx_invept(VMX_EPT_EXTENT_GLOBAL, 0);
	vc->on = true;
	vmcs_cpu_vmx_on();
}

static void vmx_cpu_disable(void *unused)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	if (!vc->on)
		return;
	vmcs_cpu_vmx_off();
	vmx_off();
	cr4_clear_bits(X86_CR4_VMXE);
	vc->on = false;
}

/*
 * Called on crash, kexec and emergency reboot, with interrupts off: leave
 * VMX operation so the next kernel (or firmware) finds the CPU usable.
 */
static void vmx_emergency_disable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	if (!vc->on)
		return;
	/*
	 * The per-CPU list of loaded VMCSs needs no lock (vmcs.c), so even
	 * a crashing CPU can VMCLEAR them: a kdump then finds the vCPUs'
	 * state in memory, as KVM arranges for its own.
	 */
	vmcs_cpu_vmx_off();
	vmx_off();
	cr4_clear_bits(X86_CR4_VMXE);
	vc->on = false;
}

static int vmx_reboot_notify(struct notifier_block *nb, unsigned long code,
			     void *unused)
{
	on_each_cpu(vmx_cpu_disable, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block vmx_reboot_nb = {
	.notifier_call = vmx_reboot_notify,
};

/*
 * The kernel keeps one emergency callback for crash/kexec/reboot and WARNs
 * on a second.  kvm.ko registers one at load, and it does VMXOFF on any
 * CPU with CR4.VMXE set, which covers us too; so we register ours only
 * while VMX is on for us and kvm is not loaded.
 */
static bool vmx_emergency_registered;

static void vmx_emergency_register(void)
{
	void *kvm_sym = __symbol_get("kvm_rebooting");

	if (kvm_sym) {
		__symbol_put("kvm_rebooting");
		return;
	}
	cpu_emergency_register_virt_callback(vmx_emergency_disable);
	vmx_emergency_registered = true;
}

static void vmx_emergency_unregister(void)
{
	if (vmx_emergency_registered)
		cpu_emergency_unregister_virt_callback(vmx_emergency_disable);
	vmx_emergency_registered = false;
}

/* Take VMX into use on every online CPU; the first caller turns it on. */
int vmx_get(void)
{
	int cpu, r = 0;

	mutex_lock(&vmx_users_lock);
	cpus_read_lock();
	if (vmx_users++ == 0) {
		on_each_cpu(vmx_cpu_enable, NULL, 1);
		for_each_online_cpu(cpu) {
			int e = per_cpu_ptr(&vmx_cpu, cpu)->error;

			if (!e)
				continue;
			r = e;
			if (e == -EBUSY)
				pr_err("dune: VT-x is in use by another hypervisor on CPU %d (CR4.VMXE is set): unload kvm_intel (on 6.12 also set kvm.enable_virt_at_load=0) and try again\n",
				       cpu);
			else
				pr_err("dune: VMXON failed on CPU %d\n", cpu);
			break;
		}
		if (r) {
			on_each_cpu(vmx_cpu_disable, NULL, 1);
			vmx_users = 0;
		} else {
			vmx_emergency_register();
		}
	}
	cpus_read_unlock();
	mutex_unlock(&vmx_users_lock);
	return r;
}

void vmx_put(void)
{
	mutex_lock(&vmx_users_lock);
	cpus_read_lock();
	if (!WARN_ON(vmx_users == 0) && --vmx_users == 0) {
		vmx_emergency_unregister();
		on_each_cpu(vmx_cpu_disable, NULL, 1);
	}
	cpus_read_unlock();
	mutex_unlock(&vmx_users_lock);
}

/* Hotplug: a CPU that comes online joins VMX operation while in use. */
static int vmx_cpu_online(unsigned int cpu)
{
	int r = 0;

	mutex_lock(&vmx_users_lock);
	if (vmx_users) {
		vmx_cpu_enable(NULL);
		r = this_cpu_ptr(&vmx_cpu)->error;
		if (r)
			pr_err("dune: cannot enable VMX on CPU %u being onlined (%d)\n",
			       cpu, r);
	}
	mutex_unlock(&vmx_users_lock);
	return r;
}

static int vmx_cpu_offline(unsigned int cpu)
{
	vmx_cpu_disable(NULL);
	return 0;
}

int vmx_init(void)
{
	int cpu, r;

	vmcs_layer_init();

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		vc->vmxon_region = vmx_alloc_vmcs_page(cpu_to_node(cpu));
		if (!vc->vmxon_region) {
			r = -ENOMEM;
			goto free_regions;
		}
	}
	/* Called on a CPU being onlined / offlined, in its own context. */
	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "dune:online",
			      vmx_cpu_online, vmx_cpu_offline);
	if (r < 0)
		goto free_regions;
	vmx_hp_state = r;
	r = register_reboot_notifier(&vmx_reboot_nb);
	if (r)
		goto remove_hp;
	return 0;

remove_hp:
	cpuhp_remove_state(vmx_hp_state);
free_regions:
	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		if (vc->vmxon_region)
			free_page((unsigned long)vc->vmxon_region);
		vc->vmxon_region = NULL;
	}
	return r;
}

void vmx_exit(void)
{
	int cpu;

	unregister_reboot_notifier(&vmx_reboot_nb);
	/* No user is left (the module cannot unload while a fd is open). */
	cpuhp_remove_state(vmx_hp_state);
	for_each_possible_cpu(cpu)
		free_page((unsigned long)per_cpu_ptr(&vmx_cpu, cpu)->vmxon_region);
	vmcs_layer_exit();
}
