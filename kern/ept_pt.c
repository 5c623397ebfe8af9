// SPDX-License-Identifier: GPL-2.0-only
/* EPT paging-structure manipulation; see ept_pt.h. */
#include "ept_pt.h"

#define EPT_ENTRIES 512

static inline unsigned int ept_index(u64 gpa, int level)
{
	/* level 3 = PML4 ... level 0 = PT */
	return (gpa >> (12 + 9 * level)) & (EPT_ENTRIES - 1);
}

static inline bool ept_present(u64 e)
{
	/* SDM 29.3.2: an entry with R, W and X all clear is not present. */
	return e & EPT_RWX;
}

int ept_pt_init(struct ept_pt *pt, const struct ept_pt_ops *ops,
		unsigned int maxphyaddr)
{
	pt->ops = ops;
	pt->max_gpa = 1ull << maxphyaddr;
	pt->root = ops->alloc(ops->opaque, &pt->root_pa);
	return pt->root ? 0 : -ENOMEM;
}

static void ept_free_level(struct ept_pt *pt, u64 *table, int level)
{
	int i;

	if (level > 0) {
		for (i = 0; i < EPT_ENTRIES; i++) {
			u64 e = table[i];

			if (ept_present(e) && !(e & EPT_LARGE))
				ept_free_level(pt,
					       pt->ops->pa_to_table(pt->ops->opaque,
								    e & EPT_ADDR_MASK),
					       level - 1);
		}
	}
	pt->ops->free(pt->ops->opaque, table);
}

void ept_pt_destroy(struct ept_pt *pt)
{
	if (pt->root)
		ept_free_level(pt, pt->root, EPT_LEVELS - 1);
	pt->root = NULL;
	pt->root_pa = 0;
}

/* The table at @level below @e, or NULL if @e holds none. */
static u64 *ept_next(const struct ept_pt *pt, u64 e)
{
	if (!ept_present(e) || (e & EPT_LARGE))
		return NULL;
	return pt->ops->pa_to_table(pt->ops->opaque, e & EPT_ADDR_MASK);
}

int ept_pt_map(struct ept_pt *pt, u64 gpa, u64 hpa, u64 flags, bool large)
{
	u64 mask = large ? (1ull << 21) - 1 : (1ull << 12) - 1;
	int leaf_level = large ? 1 : 0;
	u64 *table = pt->root;
	int level;

	if ((gpa & mask) || (hpa & mask) || gpa >= pt->max_gpa ||
	    (hpa & ~EPT_ADDR_MASK) || !(flags & EPT_RWX))
		return -EINVAL;

	for (level = EPT_LEVELS - 1; level > leaf_level; level--) {
		u64 *e = &table[ept_index(gpa, level)];
		u64 *next = ept_next(pt, *e);

		if (!next) {
			u64 pa;

			/* A large page in the way is dropped; it refaults. */
			next = pt->ops->alloc(pt->ops->opaque, &pa);
			if (!next)
				return -ENOMEM;
			/* Non-leaf entries grant everything; leaves decide. */
			*e = pa | EPT_RWX;
		}
		table = next;
	}

	table += ept_index(gpa, leaf_level);
	/*
	 * A 2 MiB mapping where a page table is: the CPU may still cache
	 * that table, so it cannot be freed without a flush; the caller maps
	 * 4 KiB instead.
	 */
	if (large && ept_next(pt, *table))
		return -EEXIST;
	*table = hpa | (flags & (EPT_RWX | (7ull << VMX_EPT_MT_EPTE_SHIFT))) |
		 (large ? EPT_LARGE : 0);
	return 0;
}

u64 ept_pt_lookup(const struct ept_pt *pt, u64 gpa, bool *large)
{
	const u64 *table = pt->root;
	int level;

	if (gpa >= pt->max_gpa)
		return 0;
	for (level = EPT_LEVELS - 1; level >= 0; level--) {
		u64 e = table[ept_index(gpa, level)];

		if (!ept_present(e))
			return 0;
		if (level == 0 || (e & EPT_LARGE)) {
			if (large)
				*large = level == 1;
			return e;
		}
		table = ept_next(pt, e);
	}
	return 0;
}

static bool ept_table_empty(const u64 *table)
{
	int i;

	for (i = 0; i < EPT_ENTRIES; i++)
		if (ept_present(table[i]))
			return false;
	return true;
}

static unsigned long ept_zap_level(struct ept_pt *pt, u64 *table, int level,
				   u64 base, u64 start, u64 end)
{
	u64 span = 1ull << (12 + 9 * level);
	unsigned long n = 0;
	int i;

	for (i = 0; i < EPT_ENTRIES; i++) {
		u64 lo = base + i * span, hi = lo + span;
		u64 *next;

		if (hi <= start || lo >= end || !ept_present(table[i]))
			continue;
		next = level ? ept_next(pt, table[i]) : NULL;
		if (!next) {
			table[i] = 0;
			n++;
		} else {
			n += ept_zap_level(pt, next, level - 1, lo, start, end);
			/* Unlinked first: the caller frees it after its flush. */
			if (ept_table_empty(next)) {
				table[i] = 0;
				pt->ops->retire(pt->ops->opaque, next);
				n++;
			}
		}
	}
	return n;
}

unsigned long ept_pt_zap(struct ept_pt *pt, u64 start, u64 end)
{
	if (!pt->root || start >= end)
		return 0;
	return ept_zap_level(pt, pt->root, EPT_LEVELS - 1, 0, start, end);
}

bool ept_pt_slot_2m(const struct dune_slot *slots, unsigned int nr, u64 gpa,
		    u64 *hva)
{
	u64 base = gpa & ~(EPT_2M - 1), h;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		const struct dune_slot *s = &slots[i];

		if (!s->size || gpa < s->gpa || gpa - s->gpa >= s->size)
			continue;
		/* gpa + size does not wrap: DUNE_SET_SLOT checked it. */
		if (base < s->gpa || base + EPT_2M > s->gpa + s->size)
			return false;
		h = s->hva + (base - s->gpa);
		if (h & (EPT_2M - 1))
			return false;
		*hva = h;
		return true;
	}
	return false;
}

bool ept_pt_host_2m(u64 gpa, u64 page_hpa, u64 leaf_hpa, bool leaf_writable,
		    bool write)
{
	if (leaf_hpa & (EPT_2M - 1) || (write && !leaf_writable))
		return false;
	return page_hpa == leaf_hpa + (gpa & (EPT_2M - 1) & ~0xfffull);
}
