// SPDX-License-Identifier: MIT
/* The page-table core (see pgtable.h).  Pure logic. */
#include <errno.h>

#include "pgtable.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

#define PERM_ALL (PERM_R | PERM_W | PERM_X | PERM_U | PERM_UC | PERM_COW | \
		  PERM_BIG | PERM_BIG_1GB | PERM_USR1 | PERM_USR2 | PERM_USR3)
/* What mprotect keeps of a leaf: state, not permissions. */
#define PTE_KEEP (PTE_ADDR_MASK | PTE_A | PTE_D | PTE_PS | PTE_POOL)

static unsigned int pt_idx(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & (PT_ENTRIES - 1);
}

static bool is_table(ptent_t e, int level)
{
	return level > 0 && (e & PTE_P) && !(e & PTE_PS);
}

static bool is_leaf(ptent_t e, int level)
{
	return (e & (PTE_P | PTE_NONE)) && (level == 0 || (e & PTE_PS));
}

static ptent_t *table_of(const struct pt_ops *ops, ptent_t e)
{
	return ops->ptr(ops->ctx, e & PTE_ADDR_MASK);
}

static physaddr_t leaf_pa(ptent_t e, int level)
{
	return e & PTE_ADDR_MASK & ~(pt_level_size(level) - 1);
}

static void fl_add(struct pt_flush *f, uint64_t va)
{
	if (!f || f->all)
		return;
	if (f->n == PT_FLUSH_MAX) {
		f->all = true;
		return;
	}
	f->va[f->n++] = va;
}

int pt_perm(int perm, uint64_t *bits, int *level)
{
	uint64_t b;

	if (perm & ~PERM_ALL)
		return -EINVAL;
	if ((perm & PERM_BIG) && (perm & PERM_BIG_1GB))
		return -EINVAL;
	if ((perm & PERM_COW) && (perm & PERM_W))
		return -EINVAL;
	if (!(perm & PERM_R) &&
	    (perm & (PERM_W | PERM_X | PERM_U | PERM_UC | PERM_COW)))
		return -EINVAL;
	if (perm & PERM_R) {
		b = PTE_P;
		if (perm & PERM_W)
			b |= PTE_W;
		if (!(perm & PERM_X))
			b |= PTE_NX;
		if (perm & PERM_U)
			b |= PTE_U;
		if (perm & PERM_UC)
			b |= PTE_PCD | PTE_PWT;
		if (perm & PERM_COW)
			b |= PTE_COW;
	} else {
		b = PTE_NONE;
	}
	if (perm & PERM_USR1)
		b |= PTE_USR1;
	if (perm & PERM_USR2)
		b |= PTE_USR2;
	/* PERM_USR3 is PERM_USR1 | PERM_USR2 (the original's value) */
	if ((perm & PERM_USR3) == PERM_USR3)
		b |= PTE_USR3;
	*bits = b;
	*level = (perm & PERM_BIG_1GB) ? 2 : (perm & PERM_BIG) ? 1 : 0;
	return 0;
}

/* [va, va + len) aligned to @align and inside the canonical lower half. */
static bool range_ok(uint64_t va, size_t len, uint64_t align)
{
	return !((va | len) & (align - 1)) && va + len >= va &&
	       va + len <= PT_USER_END;
}

/*
 * The entry for @va at @target, or the leaf above it that maps @va,
 * making missing tables with @create.  NULL with *@err otherwise.
 */
static ptent_t *descend(const struct pt_ops *ops, ptent_t *root, uint64_t va,
			int target, bool create, int *lvl, int *err)
{
	ptent_t *table = root;
	int level;

	for (level = PT_LEVELS - 1;; level--) {
		ptent_t *e = &table[pt_idx(va, level)];
		void *page;

		if (level == target || is_leaf(*e, level)) {
			*lvl = level;
			return e;
		}
		if (*e) {
			table = table_of(ops, *e);
			continue;
		}
		if (!create) {
			*err = -ENOENT;
			return NULL;
		}
		page = ops->alloc(ops->ctx);
		if (!page) {
			*err = -ENOMEM;
			return NULL;
		}
		*e = ops->pa(ops->ctx, page) | PT_TABLE_FLAGS;
		table = page;
	}
}

int pt_lookup(const struct pt_ops *ops, ptent_t *root, uint64_t va,
	      bool create, ptent_t **pte_out, int *level)
{
	ptent_t *e;
	int err = 0, lvl;

	if (va >= PT_USER_END)
		return -EINVAL;
	/*
	 * Without @create, descend() stops at a missing table (-ENOENT) or
	 * returns a leaf or a 4 KiB slot of an existing table, empty or not:
	 * the original libdune returned such a slot too, and programs fill
	 * it themselves.
	 */
	e = descend(ops, root, va, 0, create, &lvl, &err);
	if (!e)
		return err;
	*pte_out = e;
	if (level)
		*level = lvl;
	return 0;
}

int pt_split(const struct pt_ops *ops, ptent_t *e, int level)
{
	uint64_t sz = pt_level_size(level - 1);
	ptent_t old = *e, flags = old & ~PTE_ADDR_MASK;
	physaddr_t base = leaf_pa(old, level);
	ptent_t *t;
	unsigned int i;

	t = ops->alloc(ops->ctx);
	if (!t)
		return -ENOMEM;
	/* 4 KiB leaves: bit 7 is PAT there; PTE_FILL marks large leaves. */
	if (level == 1)
		flags &= ~(PTE_PS | PTE_FILL);
	for (i = 0; i < PT_ENTRIES; i++)
		t[i] = (base + i * sz) | flags;
	*e = ops->pa(ops->ctx, t) | PT_TABLE_FLAGS;
	return 0;
}

/* Make @va the start of a leaf, splitting the large leaf around it. */
static int split_at(const struct pt_ops *ops, ptent_t *root, uint64_t va)
{
	ptent_t *table = root;
	int level, r;

	if (va >= PT_USER_END)
		return 0;
	for (level = PT_LEVELS - 1; level > 0; level--) {
		ptent_t *e = &table[pt_idx(va, level)];

		if (!*e)
			return 0;
		if (is_leaf(*e, level)) {
			if (!(va & (pt_level_size(level) - 1)))
				return 0;
			r = pt_split(ops, e, level);
			if (r)
				return r;
		}
		table = table_of(ops, *e);
	}
	return 0;
}

static int split_edges(const struct pt_ops *ops, ptent_t *root, uint64_t va,
		       size_t len)
{
	return split_at(ops, root, va) ?: split_at(ops, root, va + len);
}

/* One pass over the leaves overlapping [start, end). */
struct iter {
	const struct pt_ops *ops;
	int (*fn)(struct iter *it, ptent_t *e, uint64_t va, int level);
	uint64_t start, end;
	uint64_t bits;
	struct pt_flush *fl;
	page_walk_cb cb;
	const void *arg;
	uint64_t *bitmap;
	long count;
	bool clear;
};

static int iter_table(struct iter *it, ptent_t *table, int level,
		      uint64_t base)
{
	uint64_t sz = pt_level_size(level);
	unsigned int i = it->start > base ? (it->start - base) / sz : 0;
	int r;

	for (; i < PT_ENTRIES; i++) {
		uint64_t va = base + i * sz;
		ptent_t *e = &table[i];

		if (va >= it->end)
			break;
		if (is_table(*e, level))
			r = iter_table(it, table_of(it->ops, *e), level - 1, va);
		else if (is_leaf(*e, level))
			r = it->fn(it, e, va, level);
		else
			continue;
		if (r)
			return r;
	}
	return 0;
}

static int iter_run(struct iter *it, ptent_t *root)
{
	return iter_table(it, root, PT_LEVELS - 1, 0);
}

/*
 * Run @it over [va, va + len), with @split first splitting the large
 * pages that straddle either end (the only allocations an edit makes, so
 * a failure changes nothing).
 */
static int iter_range(struct iter *it, ptent_t *root, uint64_t va,
		      size_t len, bool split)
{
	int r;

	if (split) {
		r = split_edges(it->ops, root, va, len);
		if (r)
			return r;
	}
	it->start = va;
	it->end = va + len;
	return iter_run(it, root);
}

static int fn_exists(struct iter *it, ptent_t *e, uint64_t va, int level)
{
	return -EEXIST;
}

/* Clear the leaves [va, va + done) that pt_map set. */
static void unmap_new(const struct pt_ops *ops, ptent_t *root, uint64_t va,
		      uint64_t done, int level)
{
	uint64_t off;
	int err, lvl;

	for (off = 0; off < done; off += pt_level_size(level)) {
		ptent_t *e = descend(ops, root, va + off, level, false, &lvl,
				     &err);

		if (e)
			*e = 0;
	}
}

int pt_map(const struct pt_ops *ops, ptent_t *root, uint64_t va, size_t len,
	   uint64_t pa, int perm, bool pool, struct pt_flush *fl)
{
	struct iter it = { .ops = ops, .fn = fn_exists };
	uint64_t bits, sz, off;
	int level, r, lvl, err;

	r = pt_perm(perm, &bits, &level);
	if (r)
		return r;
	sz = pt_level_size(level);
	if (!range_ok(va, len, sz) || (pa & (sz - 1)) ||
	    ((pa + len - 1) >> 52) || pa + len < pa)
		return -EINVAL;
	if (!len)
		return 0;
	r = iter_range(&it, root, va, len, false);
	if (r)
		return r;
	if (level)
		bits |= PTE_PS;
	for (off = 0; off < len; off += sz) {
		ptent_t *e = descend(ops, root, va + off, level, true, &lvl,
				     &err);
		uint64_t extra = 0;

		if (e && lvl != level)
			err = -EEXIST;	/* cannot happen after the check */
		if (!e || lvl != level) {
			unmap_new(ops, root, va, off, level);
			return err;
		}
		if (pool && !level && ops->is_pool(ops->ctx, pa + off))
			extra = PTE_POOL;
		*e = (pa + off) | bits | extra;
	}
	/* Nothing was mapped here: no TLB entry to flush. */
	(void)fl;
	return 0;
}

static int fn_protect(struct iter *it, ptent_t *e, uint64_t va, int level)
{
	ptent_t old = *e, new = (old & PTE_KEEP) | it->bits;

	if (new != old) {
		*e = new;
		if (old & PTE_P)
			fl_add(it->fl, va);
	}
	return 0;
}

int pt_mprotect(const struct pt_ops *ops, ptent_t *root, uint64_t va,
		size_t len, int perm, struct pt_flush *fl)
{
	struct iter it = { .ops = ops, .fn = fn_protect, .fl = fl };
	int level, r;

	r = pt_perm(perm & ~(PERM_BIG | PERM_BIG_1GB), &it.bits, &level);
	if (r)
		return r;
	if (!range_ok(va, len, PT_PAGE))
		return -EINVAL;
	if (!len)
		return 0;
	return iter_range(&it, root, va, len, true);
}

static int fn_unmap(struct iter *it, ptent_t *e, uint64_t va, int level)
{
	ptent_t old = *e;

	*e = 0;
	if (old & PTE_P)
		fl_add(it->fl, va);
	if (old & PTE_POOL)
		it->ops->put(it->ops->ctx, leaf_pa(old, level));
	return 0;
}

int pt_unmap(const struct pt_ops *ops, ptent_t *root, uint64_t va, size_t len,
	     struct pt_flush *fl)
{
	struct iter it = { .ops = ops, .fn = fn_unmap, .fl = fl };

	if (!range_ok(va, len, PT_PAGE))
		return -EINVAL;
	if (!len)
		return 0;
	return iter_range(&it, root, va, len, true);
}

static int fn_walk(struct iter *it, ptent_t *e, uint64_t va, int level)
{
	return it->cb(it->arg, e, (void *)va);
}

int pt_walk(const struct pt_ops *ops, ptent_t *root, uint64_t start,
	    uint64_t end, page_walk_cb cb, const void *arg)
{
	struct iter it = { .ops = ops, .fn = fn_walk, .cb = cb, .arg = arg };

	/* VA_END and the like: nothing is mapped in the upper half. */
	if (end >= PT_USER_END)
		end = PT_USER_END - 1;
	if (start >= PT_USER_END)
		return 0;
	if (start > end)
		return -EINVAL;
	it.start = start;
	it.end = end + 1;
	return iter_run(&it, root);
}

/* Free @table at @level and everything under it, putting pool leaves. */
static void free_table(const struct pt_ops *ops, ptent_t *table, int level)
{
	unsigned int i;

	for (i = 0; i < PT_ENTRIES; i++) {
		ptent_t e = table[i];

		if (is_table(e, level))
			free_table(ops, table_of(ops, e), level - 1);
		else if (is_leaf(e, level) && (e & PTE_POOL))
			ops->put(ops->ctx, leaf_pa(e, level));
	}
	ops->free(ops->ctx, table);
}

static ptent_t *clone_table(const struct pt_ops *ops, ptent_t *src, int level)
{
	ptent_t *dst = ops->alloc(ops->ctx);
	unsigned int i;

	if (!dst)
		return NULL;
	for (i = 0; i < PT_ENTRIES; i++) {
		ptent_t e = src[i];
		ptent_t *child;

		if (is_table(e, level)) {
			child = clone_table(ops, table_of(ops, e), level - 1);
			if (!child) {
				free_table(ops, dst, level);
				return NULL;
			}
			dst[i] = ops->pa(ops->ctx, child) | (e & ~PTE_ADDR_MASK);
			continue;
		}
		if (is_leaf(e, level) && (e & PTE_POOL))
			ops->get(ops->ctx, leaf_pa(e, level));
		dst[i] = e;
	}
	return dst;
}

ptent_t *pt_clone(const struct pt_ops *ops, ptent_t *root)
{
	return clone_table(ops, root, PT_LEVELS - 1);
}

void pt_free(const struct pt_ops *ops, ptent_t *root)
{
	free_table(ops, root, PT_LEVELS - 1);
}

static uint64_t ad_mask(int bits)
{
	return ((bits & DUNE_AD_ACCESSED) ? PTE_A : 0) |
	       ((bits & DUNE_AD_DIRTY) ? PTE_D : 0);
}

int pt_get_ad(const struct pt_ops *ops, ptent_t *root, uint64_t va)
{
	ptent_t *e = NULL;
	int r, level;

	r = pt_lookup(ops, root, va, false, &e, &level);
	if (r)
		return r;
	if (!is_leaf(*e, level))
		return -ENOENT;
	return ((*e & PTE_A) ? DUNE_AD_ACCESSED : 0) |
	       ((*e & PTE_D) ? DUNE_AD_DIRTY : 0);
}

/* The CPU sets A and D with locked writes: clear them the same way. */
static void clear_bits(ptent_t *e, uint64_t mask)
{
	__atomic_fetch_and(e, ~mask, __ATOMIC_RELAXED);
}

static int fn_clear_ad(struct iter *it, ptent_t *e, uint64_t va, int level)
{
	if (*e & it->bits) {
		clear_bits(e, it->bits);
		if (*e & PTE_P)
			fl_add(it->fl, va);
	}
	return 0;
}

int pt_clear_ad(const struct pt_ops *ops, ptent_t *root, uint64_t va,
		size_t len, int bits, struct pt_flush *fl)
{
	struct iter it = { .ops = ops, .fn = fn_clear_ad, .fl = fl };

	if (bits & ~(DUNE_AD_ACCESSED | DUNE_AD_DIRTY) ||
	    !range_ok(va, len, PT_PAGE))
		return -EINVAL;
	if (!len || !bits)
		return 0;
	it.bits = ad_mask(bits);
	return iter_range(&it, root, va, len, true);
}

/* Set bits [lo, hi) of @map. */
static void set_bit_range(uint64_t *map, uint64_t lo, uint64_t hi)
{
	while (lo < hi && (lo & 63))
		map[lo / 64] |= 1ull << (lo & 63), lo++;
	while (lo + 64 <= hi)
		map[lo / 64] = ~0ull, lo += 64;
	while (lo < hi)
		map[lo / 64] |= 1ull << (lo & 63), lo++;
}

static int fn_scan_ad(struct iter *it, ptent_t *e, uint64_t va, int level)
{
	uint64_t lo = va, hi = va + pt_level_size(level);

	if (!(*e & it->bits))
		return 0;
	if (lo < it->start)
		lo = it->start;
	if (hi > it->end)
		hi = it->end;
	set_bit_range(it->bitmap, (lo - it->start) >> 12,
		      (hi - it->start) >> 12);
	it->count += (hi - lo) >> 12;
	if (it->clear) {
		clear_bits(e, it->bits);
		if (*e & PTE_P)
			fl_add(it->fl, va);
	}
	return 0;
}

long pt_scan_ad(const struct pt_ops *ops, ptent_t *root, uint64_t va,
		size_t len, int bits, bool clear, uint64_t *bitmap,
		struct pt_flush *fl)
{
	struct iter it = { .ops = ops, .fn = fn_scan_ad, .bitmap = bitmap };
	int r;

	if (bits & ~(DUNE_AD_ACCESSED | DUNE_AD_DIRTY) ||
	    !range_ok(va, len, PT_PAGE))
		return -EINVAL;
	if (!len || !bits)
		return 0;
	if (clear) {
		it.fl = fl;
		it.clear = true;
	}
	it.bits = ad_mask(bits);
	r = iter_range(&it, root, va, len, clear);
	return r ? r : it.count;
}

static size_t count_table(const struct pt_ops *ops, ptent_t *table, int level)
{
	size_t n = 1;
	unsigned int i;

	for (i = 0; i < PT_ENTRIES; i++)
		if (is_table(table[i], level))
			n += count_table(ops, table_of(ops, table[i]),
					 level - 1);
	return n;
}

size_t pt_count_tables(const struct pt_ops *ops, ptent_t *root)
{
	return count_table(ops, root, PT_LEVELS - 1);
}

DUNE_NOFPU_END
