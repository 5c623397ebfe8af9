// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-CPU VMX layer (vmcs.h): VMCSs loaded per CPU, VMCLEAR on
 * migration and before VMXOFF, VPIDs and their flushes.
 *
 * SDM 25.11.1: a VMCS may be active on one CPU at a time and must be
 * VMCLEARed there (its cached state written back to memory) before
 * another CPU loads it or VMX operation ends on that CPU.  Each CPU keeps
 * the list of VMCSs active on it; entries are added and removed only on
 * that CPU with interrupts off (the load path, or an IPI from the CPU
 * that wants the VMCS next), so the list needs no lock, and the crash
 * path, which may interrupt anything, can still walk it.
 */
#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <asm/nospec-branch.h>

#include "dune.h"
#include "vmcs.h"
#include "vmx_ops.h"

static DEFINE_PER_CPU(struct list_head, loaded_vmcss_on_cpu);
static DEFINE_PER_CPU(void *, current_vmcs);
/* VMX instructions may run here: set by vmx.c around VMXON/VMXOFF. */
static DEFINE_PER_CPU(bool, vmx_operation);
static DEFINE_IDA(vpid_ida);

static void *vmcs_alloc_page(int node, gfp_t gfp)
{
	struct page *pg = alloc_pages_node(node, gfp | __GFP_ZERO, 0);
	u32 *p;

	if (!pg)
		return NULL;
	p = page_address(pg);
	*p = vmx_caps.uapi.vmcs_revision;
	return p;
}

/* The module's own VMXON regions, one per CPU, made at load. */
void *vmx_alloc_vmcs_page(int node)
{
	return vmcs_alloc_page(node, GFP_KERNEL);
}

/* On lv->cpu, interrupts off. */
static void __loaded_vmcs_clear(void *arg)
{
	struct loaded_vmcs *lv = arg;

	if (lv->cpu != smp_processor_id())
		return;	/* cleared meanwhile (VMXOFF on that CPU) */
	vmcs_clear(__pa(lv->vmcs));
	if (this_cpu_read(current_vmcs) == lv->vmcs)
		this_cpu_write(current_vmcs, NULL);
	list_del(&lv->on_cpu);
	/* Off the list before another CPU may take the VMCS and add it. */
	smp_wmb();
	WRITE_ONCE(lv->cpu, -1);
	lv->launched = false;
}

static void loaded_vmcs_clear(struct loaded_vmcs *lv)
{
	int cpu = READ_ONCE(lv->cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, __loaded_vmcs_clear, lv, 1);
}

int loaded_vmcs_alloc(struct loaded_vmcs *lv)
{
	/* Memory a user makes the kernel allocate: charged to its memcg. */
	lv->vmcs = vmcs_alloc_page(numa_node_id(), GFP_KERNEL_ACCOUNT);
	if (!lv->vmcs)
		return -ENOMEM;
	atomic_inc(&dune_stats.vmcs_pages);
	lv->cpu = -1;
	lv->launched = false;
	INIT_LIST_HEAD(&lv->on_cpu);
	/* SDM 25.11.3: VMCLEAR puts a new VMCS in the "clear" state. */
	vmcs_clear(__pa(lv->vmcs));
	return 0;
}

void loaded_vmcs_free(struct loaded_vmcs *lv)
{
	if (!lv->vmcs)
		return;
	loaded_vmcs_clear(lv);
	free_page((unsigned long)lv->vmcs);
	atomic_dec(&dune_stats.vmcs_pages);
	lv->vmcs = NULL;
}

bool loaded_vmcs_load(struct loaded_vmcs *lv)
{
	int cpu = smp_processor_id();
	bool moved = false;

	if (lv->cpu != cpu) {
		loaded_vmcs_clear(lv);
		/* Pairs with the smp_wmb() in __loaded_vmcs_clear(). */
		smp_rmb();
		local_irq_disable();
		list_add(&lv->on_cpu, this_cpu_ptr(&loaded_vmcss_on_cpu));
		lv->cpu = cpu;
		local_irq_enable();
		moved = true;
	}
	if (this_cpu_read(current_vmcs) != lv->vmcs) {
		vmcs_load(__pa(lv->vmcs));
		this_cpu_write(current_vmcs, lv->vmcs);
		/*
		 * Another vCPU (maybe another process's) ran here last: its
		 * branch predictions must not steer this one, as KVM does on
		 * a VMCS switch (a no-op unless the kernel's Spectre v2
		 * mitigation asks for IBPB).
		 */
		indirect_branch_prediction_barrier();
	}
	return moved;
}

void vmcs_cpu_vmx_on(void)
{
	this_cpu_write(vmx_operation, true);
}

void vmcs_cpu_vmx_off(void)
{
	struct loaded_vmcs *lv, *tmp;
	unsigned long flags;

	local_irq_save(flags);
	list_for_each_entry_safe(lv, tmp, this_cpu_ptr(&loaded_vmcss_on_cpu),
				 on_cpu)
		__loaded_vmcs_clear(lv);
	this_cpu_write(vmx_operation, false);
	local_irq_restore(flags);
}

/*
 * How many VPIDs vCPUs may take (at most 65535: VPID 0 is the host's,
 * SDM 29.1).  Lower values let a test exhaust the space quickly.
 */
static unsigned int max_vpids = VMX_NR_VPIDS - 1;
module_param(max_vpids, uint, 0644);
MODULE_PARM_DESC(max_vpids, "VPIDs for vCPUs (1..65535); vCPUs beyond run without one, flushing their TLB on every VM entry and exit");

/*
 * A free VPID; 0 when none is left, so that one user holding every VPID
 * does not lock others out.  A negative errno if out of memory.
 */
int vpid_alloc(void)
{
	unsigned int max = min_t(unsigned int, READ_ONCE(max_vpids),
				 VMX_NR_VPIDS - 1);
	int r = max ? ida_alloc_range(&vpid_ida, 1, max, GFP_KERNEL) : -ENOSPC;

	if (r == -ENOSPC) {
		atomic_inc(&dune_stats.vcpus_without_vpid);
		r = 0;
	}
	return r;
}

void vpid_free(int vpid)
{
	if (vpid > 0)
		ida_free(&vpid_ida, vpid);
	else
		atomic_dec(&dune_stats.vcpus_without_vpid);
}

static void vpid_flush_here(void *arg)
{
	int vpid = (long)arg;

	/* A CPU coming online may not have joined VMX operation yet. */
	if (!this_cpu_read(vmx_operation))
		return;
	if (cpu_has_invvpid_single())
		vmx_invvpid(VMX_VPID_EXTENT_SINGLE_CONTEXT, vpid, 0);
	else
		vmx_invvpid(VMX_VPID_EXTENT_ALL_CONTEXT, 0, 0);
}

void vpid_flush_everywhere(int vpid)
{
	/* No VPID: entries and exits flush by themselves (SDM 29.4.3.1). */
	if (vpid)
		on_each_cpu(vpid_flush_here, (void *)(long)vpid, 1);
}

void vmcs_layer_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		INIT_LIST_HEAD(per_cpu_ptr(&loaded_vmcss_on_cpu, cpu));
}

void vmcs_layer_exit(void)
{
	ida_destroy(&vpid_ida);
}
