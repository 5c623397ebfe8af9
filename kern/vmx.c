// SPDX-License-Identifier: GPL-2.0-only
/*
 * VMX operation on the host CPUs: VMXON when the first Dune context opens,
 * VMXOFF when the last one closes or the module unloads, CPU hotplug,
 * and the emergency path for crash/kexec/reboot.
 *
 * VT-x is a single per-CPU resource.  If another hypervisor holds it
 * (CR4.VMXE already set, e.g. kvm_intel running a VM, or 6.12's kvm with
 * enable_virt_at_load), we refuse with -EBUSY and a message; we never
 * touch its state.  KVM finds CR4.VMXE set while we hold VT-x and refuses
 * in the same way; the one thing we must share with it is the kernel's
 * emergency callback (see vmx_emergency_update).
 */
#include <linux/module.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/gfp.h>
#include <linux/kobject.h>
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
 * The kernel keeps one emergency callback for crash/kexec/reboot: a second
 * cpu_emergency_register_virt_callback(), or unregistering a callback that
 * is not the current one, is refused with a WARN (arch/x86/kernel/reboot.c,
 * the same in 6.1 and 6.12).  KVM wants it too, at different times:
 *
 *  - 6.1: kvm_intel registers its callback at module load and unregisters
 *    it at unload.  That callback VMXOFFs every CPU with CR4.VMXE set,
 *    which covers our VMX operation too.
 *  - 6.12: kvm registers it when it enables virtualization (at kvm_intel
 *    load with kvm.enable_virt_at_load=1, else on the first VM) and
 *    unregisters it when it disables virtualization or fails to enable it,
 *    which it does while we hold VT-x.
 *
 * So ours is registered only while VMX is on for us and kvm_intel is not
 * loaded; a module notifier hands the slot to kvm_intel before its init
 * runs (MODULE_STATE_COMING) and takes it back after its exit or failed
 * init (MODULE_STATE_GOING).  With kvm_intel loaded and idle (6.1, or 6.12
 * with enable_virt_at_load=0) a 6.12 kernel has no callback for our VMX
 * operation: documented in docs/design.md.
 *
 * Both flags are under vmx_users_lock.
 */
static bool vmx_emergency_registered;
static bool kvm_intel_loaded;
#define KVM_INTEL_NAME "kvm_intel"

static void vmx_emergency_update(void)
{
	bool want = vmx_users && !kvm_intel_loaded;

	lockdep_assert_held(&vmx_users_lock);
	if (want && !vmx_emergency_registered)
		cpu_emergency_register_virt_callback(vmx_emergency_disable);
	else if (!want && vmx_emergency_registered)
		cpu_emergency_unregister_virt_callback(vmx_emergency_disable);
	vmx_emergency_registered = want;
}

static int vmx_module_notify(struct notifier_block *nb, unsigned long state,
			     void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, KVM_INTEL_NAME))
		return NOTIFY_DONE;
	if (state != MODULE_STATE_COMING && state != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	mutex_lock(&vmx_users_lock);
	kvm_intel_loaded = state == MODULE_STATE_COMING;
	if (kvm_intel_loaded && vmx_users)
		pr_info("dune: kvm_intel is loading while Dune holds VT-x: KVM cannot enable virtualization until every Dune process has exited\n");
	vmx_emergency_update();
	mutex_unlock(&vmx_users_lock);
	return NOTIFY_OK;
}

static struct notifier_block vmx_module_nb = {
	.notifier_call = vmx_module_notify,
};

/*
 * kvm_intel loaded before us: its /sys/module kobject is in the same kset
 * as ours.  (A kvm_intel load racing with our own load, between its
 * COMING and its sysfs setup, would go unnoticed: not worth a lock.)
 */
static bool kvm_intel_in_sysfs(void)
{
	struct kobject *k = kset_find_obj(THIS_MODULE->mkobj.kobj.kset,
					  KVM_INTEL_NAME);

	if (!k)
		return false;
	kobject_put(k);
	return true;
}

/*
 * Take VMX into use on every online CPU; the first caller turns it on.
 * Lock order: cpu_hotplug_lock, then vmx_users_lock, as in the hotplug
 * callbacks (which run with cpu_hotplug_lock held).
 */
int vmx_get(void)
{
	int cpu, r = 0;

	cpus_read_lock();
	mutex_lock(&vmx_users_lock);
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
			vmx_emergency_update();
		}
	}
	mutex_unlock(&vmx_users_lock);
	cpus_read_unlock();
	return r;
}

void vmx_put(void)
{
	cpus_read_lock();
	mutex_lock(&vmx_users_lock);
	if (!WARN_ON(vmx_users == 0) && --vmx_users == 0) {
		vmx_emergency_update();
		on_each_cpu(vmx_cpu_disable, NULL, 1);
	}
	mutex_unlock(&vmx_users_lock);
	cpus_read_unlock();
}

/*
 * Hotplug callbacks run on the CPU itself, in its hotplug thread, with
 * cpu_hotplug_lock held for write by whoever started the hotplug: so
 * vmx_get/vmx_put (which hold it for read) cannot run meanwhile, and a
 * CPU is either online with the VMX state of every other CPU or not
 * online at all.  A CPU that comes online joins VMX operation while in use.
 */
static int vmx_cpu_online(unsigned int cpu)
{
	int r = 0;

	mutex_lock(&vmx_users_lock);
	if (vmx_users) {
		/* as in on_each_cpu(): no IPI sees vc->on disagree with VMX */
		local_irq_disable();
		vmx_cpu_enable(NULL);
		local_irq_enable();
		r = this_cpu_ptr(&vmx_cpu)->error;
		if (r)
			pr_err("dune: cannot enable VMX on CPU %u being onlined (%d)\n",
			       cpu, r);
	}
	mutex_unlock(&vmx_users_lock);
	return r;
}

/*
 * By now the scheduler has moved every user thread off this CPU (it is
 * no longer active), and a vCPU is loaded only with preemption off by its
 * thread on that thread's CPU: no VMCS can become current here again, so
 * VMCLEAR what is and leave VMX operation.
 */
static int vmx_cpu_offline(unsigned int cpu)
{
	/*
	 * Interrupts off, as when vmx_put() does this by IPI, so nothing
	 * runs between leaving the per-CPU layer (vmcs_cpu_vmx_off(), after
	 * which its IPIs such as a VPID flush do nothing here) and VMXOFF.
	 */
	local_irq_disable();
	vmx_cpu_disable(NULL);
	local_irq_enable();
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
	r = register_module_notifier(&vmx_module_nb);
	if (r)
		goto unregister_reboot;
	mutex_lock(&vmx_users_lock);
	kvm_intel_loaded = kvm_intel_in_sysfs();
	mutex_unlock(&vmx_users_lock);
	return 0;

unregister_reboot:
	unregister_reboot_notifier(&vmx_reboot_nb);
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

	unregister_module_notifier(&vmx_module_nb);
	unregister_reboot_notifier(&vmx_reboot_nb);
	/* No user is left (the module cannot unload while a fd is open). */
	cpuhp_remove_state(vmx_hp_state);
	for_each_possible_cpu(cpu)
		free_page((unsigned long)per_cpu_ptr(&vmx_cpu, cpu)->vmxon_region);
	vmcs_layer_exit();
}
