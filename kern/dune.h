/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal interfaces between the files of dune.ko. */
#ifndef DUNE_H
#define DUNE_H

#include <linux/types.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/cpumask.h>

#include "caps.h"
#include "ept_pt.h"

/* probe.c: capabilities, filled once at load and read-only afterwards. */
extern struct vmx_caps vmx_caps;
int dune_probe_caps(void);

static inline bool cpu_has_ept_ad(void)
{
	return caps_has(&vmx_caps, DUNE_CAP_EPT_AD);
}

static inline bool cpu_has_invept_single(void)
{
	return caps_has(&vmx_caps, DUNE_CAP_INVEPT_SINGLE);
}

static inline bool cpu_has_invvpid_single(void)
{
	return caps_has(&vmx_caps, DUNE_CAP_INVVPID_SINGLE);
}

/* vmx.c: VMX operation on the host CPUs */
int vmx_init(void);
void vmx_exit(void);
int vmx_get(void);
void vmx_put(void);

/* limits.c: per-process and per-user limits; object counters (debugfs) */
struct dune_stat_counters {
	atomic_t contexts;
	atomic_t vcpus;
	atomic_t vcpus_without_vpid;
	atomic_t vmcs_pages;		/* vCPUs' VMCS pages */
	atomic_t ept_tables;		/* EPT table pages in use, roots too */
	atomic_t ept_cache_pages;	/* set aside for use under ctx->lock */
};
extern struct dune_stat_counters dune_stats;
struct dune_acct;
struct dune_ctx;
/* Charge a new context to the caller (-EMFILE, -EAGAIN, -ENOMEM). */
int acct_ctx_charge(struct dune_ctx *ctx);
void acct_ctx_uncharge(struct dune_ctx *ctx);
/* Charge a vCPU to @ctx's process and the caller's real uid (*user). */
int acct_vcpu_charge(struct dune_ctx *ctx, struct dune_acct **user);
void acct_vcpu_uncharge(struct dune_ctx *ctx, struct dune_acct *user);
void dune_debugfs_init(void);
void dune_debugfs_exit(void);

/*
 * A Dune context: one per open /dev/dune, bound to the opener's mm.  It
 * owns the EPT (guest-physical -> host-physical) for that address space.
 */
#define EPT_CACHE_PAGES 4

struct dune_ctx {
	struct mm_struct *mm;		/* mmgrab'ed at open */
	struct mmu_notifier mn;
	spinlock_t lock;		/* ept, slots, mn_*, cache */
	struct ept_pt ept;
	struct ept_pt_ops ept_ops;	/* opaque = this ctx */
	u64 eptp;
	struct dune_slot slots[DUNE_MAX_SLOTS];
	/* Like KVM's mmu_invalidate_seq: a fault racing an invalidation retries. */
	unsigned long mn_seq;
	int mn_active;
	/* Bumped when EPT entries go away; each CPU INVEPTs before entry. */
	u64 flush_gen;
	u64 *cpu_flushed_gen;		/* [nr_cpu_ids] */
	cpumask_var_t in_guest;		/* CPUs maybe running our guest now */
	u64 *cache[EPT_CACHE_PAGES];	/* EPT tables for use under lock */
	int nr_cache;
	struct list_head retired;	/* tables zapped, not yet flushed */
	struct dune_acct *acct_proc, *acct_user;	/* charged to */
};

/* ctx.c: the context's lifecycle, slots, coherence with the mm */
struct dune_ctx *ctx_create(void);
void ctx_destroy(struct dune_ctx *ctx);
int ctx_set_slot(struct dune_ctx *ctx, const struct dune_slot *slot);
/* Before VM entry on this CPU, IRQs off: flush stale translations. */
void ctx_enter_cpu(struct dune_ctx *ctx, int cpu);
void ctx_leave_cpu(struct dune_ctx *ctx, int cpu);
/* The process address behind @gpa, from the slots (ctx->lock held). */
bool ctx_gpa_to_hva(struct dune_ctx *ctx, u64 gpa, unsigned long *hva);
/* Set aside table pages so one mapping can be made under ctx->lock. */
int ctx_topup_cache(struct dune_ctx *ctx);

/* ept.c: the EPT fault path */
/*
 * Resolve an EPT violation at @gpa.  Returns 0 when mapped (or when a
 * racing invalidation means the guest should simply retry), -EFAULT when
 * the process itself may not make this access (the caller reports a
 * DUNE_EXIT_FAULT), or another negative errno.
 */
int ept_handle_violation(struct dune_ctx *ctx, u64 gpa, bool write,
			 bool exec, u64 *ept_maps);

/* vcpu.c */
int vcpu_create(struct file *ctx_file, struct dune_ctx *ctx,
		const struct dune_vcpu_config __user *ucfg);
int vcpu_init(void);
void vcpu_exit(void);

#endif
