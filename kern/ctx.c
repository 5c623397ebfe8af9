// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dune contexts: one per /dev/dune open, bound to the opener's address
 * space.  A context owns the guest-physical memory map (slots, KVM
 * memslots simplified), the EPT tables and the cache of table pages the
 * fault path (ept.c) maps with, and keeps them coherent with the process:
 * nothing is pinned, an mmu notifier removes entries before Linux changes
 * or frees the page (munmap, mprotect, reclaim, THP split, migration,
 * KSM, fork COW), bumps a flush generation and interrupts every CPU
 * running the guest; each CPU flushes before it runs the guest again
 * (ctx_enter_cpu).  Tables left empty by a zap are freed only after that
 * flush.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <asm/io.h>

#include "dune.h"
#include "vmx_ops.h"

static u64 *ctx_ept_alloc(void *opaque, u64 *pa)
{
	struct dune_ctx *ctx = opaque;
	u64 *t;

	/*
	 * Called under ctx->lock: only pages set aside beforehand.  Another
	 * vCPU may have used them up since; ept_handle_violation then sets
	 * more aside and tries again.
	 */
	if (!ctx->nr_cache)
		return NULL;
	t = ctx->cache[--ctx->nr_cache];
	atomic_dec(&dune_stats.ept_cache_pages);
	atomic_inc(&dune_stats.ept_tables);
	*pa = __pa(t);
	return t;
}

static void ctx_ept_free(void *opaque, u64 *table)
{
	free_page((unsigned long)table);
	atomic_dec(&dune_stats.ept_tables);
}

/* Under ctx->lock; the page itself is unused now, so its lru links it. */
static void ctx_ept_retire(void *opaque, u64 *table)
{
	struct dune_ctx *ctx = opaque;

	list_add(&virt_to_page(table)->lru, &ctx->retired);
}

/*
 * Take the tables the zap just retired, still under ctx->lock: only those
 * may be freed after this caller's flush (a concurrent zap's tables wait
 * for that zap's own flush).
 */
static void ctx_take_retired(struct dune_ctx *ctx, struct list_head *list)
{
	list_splice_init(&ctx->retired, list);
}

/* After the flush that made them unreachable (ctx_flush_remote). */
static void ctx_free_retired(struct list_head *list)
{
	struct page *pg, *tmp;

	list_for_each_entry_safe(pg, tmp, list, lru) {
		list_del(&pg->lru);
		ctx_ept_free(NULL, page_address(pg));
	}
}

static u64 *ctx_ept_pa_to_table(void *opaque, u64 pa)
{
	return __va(pa);
}


/* Fill the table cache so one mapping can be made under the lock. */
int ctx_topup_cache(struct dune_ctx *ctx)
{
	u64 *t;

	spin_lock(&ctx->lock);
	while (ctx->nr_cache < EPT_CACHE_PAGES) {
		spin_unlock(&ctx->lock);
		t = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!t)
			return -ENOMEM;
		spin_lock(&ctx->lock);
		if (ctx->nr_cache < EPT_CACHE_PAGES) {
			ctx->cache[ctx->nr_cache++] = t;
			atomic_inc(&dune_stats.ept_cache_pages);
		} else {
			free_page((unsigned long)t);
		}
	}
	spin_unlock(&ctx->lock);
	return 0;
}

static void ctx_flush_ipi(void *unused)
{
	/* Nothing: receiving it forced the guest on that CPU to exit. */
}

/*
 * Called with entries already removed and flush_gen bumped: make sure no
 * CPU keeps running the guest with translations from before.
 */
static void ctx_flush_remote(struct dune_ctx *ctx)
{
	preempt_disable();
	smp_mb();
	smp_call_function_many(ctx->in_guest, ctx_flush_ipi, NULL, true);
	preempt_enable();
}

static void ctx_free_cache(struct dune_ctx *ctx)
{
	while (ctx->nr_cache) {
		free_page((unsigned long)ctx->cache[--ctx->nr_cache]);
		atomic_dec(&dune_stats.ept_cache_pages);
	}
}

/*
 * Zap the guest-physical ranges backed by [start, end) of the mm; the
 * tables it empties go to @retired, to be freed after the flush.
 */
static unsigned long ctx_zap_hva(struct dune_ctx *ctx, unsigned long start,
				 unsigned long end, struct list_head *retired)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < DUNE_MAX_SLOTS; i++) {
		const struct dune_slot *s = &ctx->slots[i];
		u64 lo, hi;

		if (!s->size || end <= s->hva || start >= s->hva + s->size)
			continue;
		lo = max_t(u64, start, s->hva) - s->hva + s->gpa;
		hi = min_t(u64, end, s->hva + s->size) - s->hva + s->gpa;
		n += ept_pt_zap(&ctx->ept, lo, hi);
	}
	if (n)
		ctx->flush_gen++;
	ctx_take_retired(ctx, retired);
	return n;
}

static int ctx_mn_invalidate_range_start(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct dune_ctx *ctx = container_of(mn, struct dune_ctx, mn);
	LIST_HEAD(retired);
	unsigned long n;

	spin_lock(&ctx->lock);
	ctx->mn_active++;
	n = ctx_zap_hva(ctx, range->start, range->end, &retired);
	spin_unlock(&ctx->lock);
	if (n)
		ctx_flush_remote(ctx);
	ctx_free_retired(&retired);
	return 0;
}

static void ctx_mn_invalidate_range_end(struct mmu_notifier *mn,
					const struct mmu_notifier_range *range)
{
	struct dune_ctx *ctx = container_of(mn, struct dune_ctx, mn);

	spin_lock(&ctx->lock);
	ctx->mn_seq++;
	ctx->mn_active--;
	spin_unlock(&ctx->lock);
}

/* The address space is going away (exit_mmap): drop every entry. */
static void ctx_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct dune_ctx *ctx = container_of(mn, struct dune_ctx, mn);
	LIST_HEAD(retired);
	unsigned long n;

	spin_lock(&ctx->lock);
	n = ctx_zap_hva(ctx, 0, TASK_SIZE_MAX, &retired);
	ctx->mn_seq++;
	spin_unlock(&ctx->lock);
	if (n)
		ctx_flush_remote(ctx);
	ctx_free_retired(&retired);
}

static const struct mmu_notifier_ops ctx_mn_ops = {
	.invalidate_range_start = ctx_mn_invalidate_range_start,
	.invalidate_range_end = ctx_mn_invalidate_range_end,
	.release = ctx_mn_release,
};

struct dune_ctx *ctx_create(void)
{
	struct dune_ctx *ctx;
	int r = -ENOMEM;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&ctx->lock);
	INIT_LIST_HEAD(&ctx->retired);
	ctx->mm = current->mm;
	r = acct_ctx_charge(ctx);
	if (r)
		goto free_ctx;
	r = -ENOMEM;
	ctx->cpu_flushed_gen = kcalloc(nr_cpu_ids, sizeof(u64),
				       GFP_KERNEL_ACCOUNT);
	if (!ctx->cpu_flushed_gen)
		goto uncharge;
	if (!zalloc_cpumask_var(&ctx->in_guest, GFP_KERNEL_ACCOUNT))
		goto free_gens;
	/* Generation 0 is "never flushed": every CPU flushes once at first. */
	ctx->flush_gen = 1;
	if (ctx_topup_cache(ctx))
		goto free_cache;
	ctx->ept_ops = (struct ept_pt_ops){
		.alloc = ctx_ept_alloc,
		.free = ctx_ept_free,
		.retire = ctx_ept_retire,
		.pa_to_table = ctx_ept_pa_to_table,
		.opaque = ctx,
	};
	r = ept_pt_init(&ctx->ept, &ctx->ept_ops, vmx_caps.uapi.maxphyaddr);
	if (r)
		goto free_cache;
	ctx->eptp = ept_pt_eptp(&ctx->ept, cpu_has_ept_ad());
	mmgrab(ctx->mm);
	ctx->mn.ops = &ctx_mn_ops;
	r = mmu_notifier_register(&ctx->mn, ctx->mm);
	if (r)
		goto drop_mm;
	return ctx;

drop_mm:
	mmdrop(ctx->mm);
	ept_pt_destroy(&ctx->ept);
free_cache:
	ctx_free_cache(ctx);
	free_cpumask_var(ctx->in_guest);
free_gens:
	kfree(ctx->cpu_flushed_gen);
uncharge:
	acct_ctx_uncharge(ctx);
free_ctx:
	kfree(ctx);
	return ERR_PTR(r);
}

/* The last vCPU is gone (they hold the ctx file), so no guest runs. */
void ctx_destroy(struct dune_ctx *ctx)
{
	mmu_notifier_unregister(&ctx->mn, ctx->mm);
	mmdrop(ctx->mm);
	ept_pt_destroy(&ctx->ept);
	ctx_free_cache(ctx);
	free_cpumask_var(ctx->in_guest);
	kfree(ctx->cpu_flushed_gen);
	acct_ctx_uncharge(ctx);
	kfree(ctx);
}

int ctx_set_slot(struct dune_ctx *ctx, const struct dune_slot *slot)
{
	u64 limit = 1ull << vmx_caps.uapi.maxphyaddr;
	LIST_HEAD(retired);
	int i;

	if (slot->index >= DUNE_MAX_SLOTS || slot->flags)
		return -EINVAL;
	if (slot->size) {
		if ((slot->gpa | slot->hva | slot->size) & ~PAGE_MASK)
			return -EINVAL;
		if (slot->gpa + slot->size < slot->gpa ||
		    slot->gpa + slot->size > limit)
			return -ERANGE;
		if (slot->hva + slot->size < slot->hva ||
		    slot->hva + slot->size > TASK_SIZE_MAX)
			return -EINVAL;
	}

	spin_lock(&ctx->lock);
	for (i = 0; slot->size && i < DUNE_MAX_SLOTS; i++) {
		const struct dune_slot *s = &ctx->slots[i];

		if (i == slot->index || !s->size)
			continue;
		if (slot->gpa < s->gpa + s->size && s->gpa < slot->gpa + slot->size) {
			spin_unlock(&ctx->lock);
			return -EEXIST;
		}
	}
	/* Whatever the old slot mapped is gone. */
	if (ctx->slots[slot->index].size &&
	    ept_pt_zap(&ctx->ept, ctx->slots[slot->index].gpa,
		       ctx->slots[slot->index].gpa + ctx->slots[slot->index].size))
		ctx->flush_gen++;
	ctx_take_retired(ctx, &retired);
	ctx->slots[slot->index] = *slot;
	ctx->mn_seq++;
	spin_unlock(&ctx->lock);
	ctx_flush_remote(ctx);
	ctx_free_retired(&retired);
	return 0;
}

void ctx_enter_cpu(struct dune_ctx *ctx, int cpu)
{
	u64 gen;

	/* Publish "in guest" before sampling the generation (pairs with
	 * ctx_flush_remote): either we see the new gen or the zapper IPIs us.
	 */
	cpumask_set_cpu(cpu, ctx->in_guest);
	smp_mb();
	gen = READ_ONCE(ctx->flush_gen);
	if (ctx->cpu_flushed_gen[cpu] != gen) {
		if (cpu_has_invept_single())
			vmx_invept(VMX_EPT_EXTENT_CONTEXT, ctx->eptp);
		else
			vmx_invept(VMX_EPT_EXTENT_GLOBAL, 0);
		ctx->cpu_flushed_gen[cpu] = gen;
	}
}

void ctx_leave_cpu(struct dune_ctx *ctx, int cpu)
{
	cpumask_clear_cpu(cpu, ctx->in_guest);
}

bool ctx_gpa_to_hva(struct dune_ctx *ctx, u64 gpa, unsigned long *hva)
{
	int i;

	for (i = 0; i < DUNE_MAX_SLOTS; i++) {
		const struct dune_slot *s = &ctx->slots[i];

		if (s->size && gpa >= s->gpa && gpa - s->gpa < s->size) {
			*hva = s->hva + (gpa - s->gpa);
			return true;
		}
	}
	return false;
}
