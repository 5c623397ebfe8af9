/* SPDX-License-Identifier: GPL-2.0-only */
/* One vCPU: the VMCS and state of one Dune thread. */
#ifndef DUNE_VCPU_H
#define DUNE_VCPU_H

#include <linux/pid.h>
#include <asm/debugreg.h>
#include <asm/page.h>
#include "dune.h"
#include "vmcs.h"

/* SDM 17.2.4: DR7 bit 10 is reserved and reads as 1 (6.1 lacks the name). */
#ifndef DR7_FIXED_1
#define DR7_FIXED_1 0x400
#endif

/*
 * The one canonical-address check for values from user space and the
 * guest: the guest runs with 4-level paging (CR4.LA57 clear), so linear
 * addresses have 48 bits (SDM 3.3.7.1).
 */
static inline bool dune_canonical(u64 v)
{
	return __is_canonical_address(v, 48);
}

struct dune_vcpu {
	struct dune_ctx *ctx;
	struct file *ctx_file;		/* reference keeping ctx alive */
	struct pid *owner;		/* the only thread that may run it */
	struct mutex lock;		/* one DUNE_RUN at a time */

	struct loaded_vmcs vmcs;	/* vmcs.c's bookkeeping */
	bool dead;			/* fatal exit happened */
	int vpid;			/* 0: none, VPID control off */
	struct dune_acct *acct_user;	/* charged to (limits.c) */
	bool pcide;			/* DUNE_VCPU_PCID: CR4.PCIDE is set */
	u64 cr4;			/* GUEST_CR4 */

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

	/* Guest CPU state the host must not see (guest_cpu.c). */
	void *vapic;			/* virtual-APIC page (TPR shadow) */
	u8 cr8;				/* CR8 without TPR shadow */
	u64 dr[4];			/* DR0-DR3; DR7 is in the VMCS */
	u64 dr6;
	bool dr_loaded;			/* DR0-DR3 go into the CPU at entry */
	bool host_bp;			/* host breakpoints to restore at exit */
	u64 host_debugctl;		/* IA32_DEBUGCTL to restore at exit */

	/* The CPU as the process sees it (guest_feat.c). */
	bool thread_bases;			/* DUNE_VCPU_THREAD_BASES */
	u64 guest_fs_base, guest_gs_base;	/* the guest's, kept across exits */
	u64 thread_fs_base, thread_gs_base;	/* the thread's, as last left */

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
/* guest_cpu.c: CR8, debug registers, preemption timer. */
u32 guest_cpu_procbased_controls(const struct vmx_msrs *m);
u32 guest_cpu_pin_controls(const struct vmx_msrs *m);
int guest_cpu_alloc(struct dune_vcpu *vcpu);
void guest_cpu_free(struct dune_vcpu *vcpu);
void guest_cpu_setup_vmcs(struct dune_vcpu *vcpu);
void guest_debug_enter(struct dune_vcpu *vcpu);
void guest_debug_exit(struct dune_vcpu *vcpu);
int guest_cr8_access(struct dune_vcpu *vcpu, bool to_cr, u64 *gpr);
int handle_dr(struct dune_vcpu *vcpu, struct dune_run *run);
/* guest_feat.c: CR4 feature bits, CPUID, TSC faulting, FS/GS bases. */
void guest_feat_init(const struct vmx_msrs *m);
u64 guest_feat_cr4(void);
void guest_bases_init(struct dune_vcpu *vcpu);
void guest_feat_enter(struct dune_vcpu *vcpu, u64 fs, u64 gs);
void guest_feat_exit(struct dune_vcpu *vcpu);
void guest_bases_to_thread(struct dune_vcpu *vcpu);
int handle_cpuid(struct dune_vcpu *vcpu, struct dune_run *run);
int handle_rdtsc(struct dune_vcpu *vcpu, struct dune_run *run);
int handle_preemption_timer(struct dune_vcpu *vcpu, struct dune_run *run);

/* Host side of entry and exit (vcpu_host.c). */
struct vcpu_host_regs {
	u16 ds, es, fs, gs, ldt;
};

int vcpu_check_config_values(const struct dune_vcpu_config *cfg);
void vcpu_host_msrs_init(void);
bool vcpu_load_guest_msrs(struct dune_vcpu *vcpu);
void vcpu_put_guest_msrs(struct dune_vcpu *vcpu);
void vcpu_host_save(struct vcpu_host_regs *h);
void vcpu_host_restore(const struct vcpu_host_regs *h, u64 fs_base);
void vcpu_sanitize_blocking(u64 rip, u64 rflags);
void vcpu_spec_init(void);
void vcpu_spec_before_entry(void);
void vcpu_spec_after_exit(void);

#endif
