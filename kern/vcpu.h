/* SPDX-License-Identifier: GPL-2.0-only */
/* One vCPU: the VMCS and state of one Dune thread. */
#ifndef DUNE_VCPU_H
#define DUNE_VCPU_H

#include <linux/pid.h>
#include "dune.h"

struct dune_vcpu {
	struct dune_ctx *ctx;
	struct file *ctx_file;		/* reference keeping ctx alive */
	struct pid *owner;		/* the only thread that may run it */
	struct mutex lock;		/* one DUNE_RUN at a time */
	struct list_head node;		/* in vcpu_list */

	void *vmcs;
	int cpu;			/* where the VMCS is active, or -1 */
	bool launched;			/* VMLAUNCH done since last VMCLEAR */
	bool dead;			/* fatal exit happened */
	int vpid;			/* 0: none, VPID control off */
	struct dune_acct *acct_user;	/* charged to (limits.c) */
	bool pcide;			/* DUNE_VCPU_PCID: CR4.PCIDE is set */

	struct dune_regs regs;		/* GPRs; RSP/RIP/RFLAGS in the VMCS */
	bool regs_dirty;		/* RSP/RIP/RFLAGS to write to the VMCS */
	u64 cr2;
	u64 guest_kernel_gs_base, guest_lstar, guest_star, guest_sfmask;
	u32 pending_event;		/* VM-entry interruption info to inject */
	u32 pending_error;
	u32 pending_len;
	u32 inject_vector;		/* dune_run.inject_vector, not yet in */
	bool injecting;			/* ... being injected by this entry */
	u32 ctl_cpu;			/* CPU_BASED_VM_EXEC_CONTROL as set */

	/* Exit information, read right after each VM exit. */
	u32 exit_reason;
	u64 exit_qual;
	u32 exit_intr_info;
	u32 exit_instr_len;
	u8 exit_cpl;			/* VMCALL exits only */
	u64 guest_linear;		/* EPT violations only */
	u64 guest_phys;			/* EPT violations and misconfigurations */
	u32 instr_error;		/* VM-instruction error of a failed entry */

	struct dune_stats stats;
};

/*
 * Exit handlers (exits.c).  Each returns 1 to re-enter the guest, 0 to
 * return to user space with @run filled in, or a negative errno.  They run
 * with preemption on, so the VMCS may not be current: what they need from
 * it was read right after the exit; vcpu_vmcs_begin()/end() bracket the
 * rare handler that must touch the VMCS itself.
 */
int vcpu_handle_exit(struct dune_vcpu *vcpu, struct dune_run *run);
int vcpu_fatal(struct dune_vcpu *vcpu, struct dune_run *run, const char *why);

/* Queue a hardware exception for the next VM entry (SDM 26.6). */
void vcpu_inject_exception(struct dune_vcpu *vcpu, int vector, bool has_error,
			   u32 error);
void vcpu_skip_instruction(struct dune_vcpu *vcpu);
void vcpu_vmcs_begin(struct dune_vcpu *vcpu);
void vcpu_vmcs_end(struct dune_vcpu *vcpu);
/* on_each_cpu callback: forget translations tagged with VPID @arg. */
void vcpu_flush_vpid(void *arg);

#endif
