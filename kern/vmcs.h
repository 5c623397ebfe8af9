/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The per-CPU VMX layer: which VMCS is loaded where, VMCLEAR on migration
 * and before VMXOFF, and VPIDs with their flushes.  Everything that must
 * know "what is active on this CPU" lives in vmcs.c, as KVM keeps its
 * loaded_vmcss_on_cpu in vmx.c; vmx.c (VMXON/VMXOFF, hotplug) and vcpu.c
 * (the run loop) both call it and never each other.
 */
#ifndef DUNE_VMCS_H
#define DUNE_VMCS_H

#include <linux/list.h>
#include <linux/types.h>

/*
 * A VMCS and its launch state (SDM 25.1, 25.11.3).  @cpu and @on_cpu
 * change only on @cpu itself with interrupts off, so the per-CPU list
 * needs no lock and the crash path can walk it.
 */
struct loaded_vmcs {
	void *vmcs;
	int cpu;			/* where it is active, or -1 */
	bool launched;			/* VMLAUNCH done since the VMCLEAR */
	struct list_head on_cpu;	/* in that CPU's loaded list */
};

void vmcs_layer_init(void);
void vmcs_layer_exit(void);

/* A page with the VMCS revision id (SDM 25.11.5), for a VMXON region. */
void *vmx_alloc_vmcs_page(int node);

/* A vCPU's VMCS, charged to the caller's memcg and counted. */
int loaded_vmcs_alloc(struct loaded_vmcs *lv);
/* VMCLEAR wherever it is active, then free it. */
void loaded_vmcs_free(struct loaded_vmcs *lv);
/*
 * Make @lv current on this CPU (preemption off).  A VMCS active on
 * another CPU is VMCLEARed there first (SDM 25.11.1).  Returns true when
 * it arrived from elsewhere: the caller must then write the host state
 * that differs per CPU.
 */
bool loaded_vmcs_load(struct loaded_vmcs *lv);
/*
 * vmx.c tells the layer when this CPU enters VMX operation (after VMXON)
 * and leaves it: vmcs_cpu_vmx_off() VMCLEARs every VMCS active here and
 * must come before VMXOFF (CPU offline, last user gone, crash).
 */
void vmcs_cpu_vmx_on(void);
void vmcs_cpu_vmx_off(void);

/*
 * VPIDs (SDM 29.1).  vpid_alloc() returns 0 when max_vpids are in use:
 * such a vCPU runs with the VPID control off (every VM entry and exit
 * flushes its translations) rather than being refused.
 */
int vpid_alloc(void);
void vpid_free(int vpid);
/* Forget translations tagged with @vpid on every CPU in VMX operation. */
void vpid_flush_everywhere(int vpid);

#endif
