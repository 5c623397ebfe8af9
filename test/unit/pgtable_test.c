// SPDX-License-Identifier: MIT
/*
 * Unit tests for libdune/pgtable.c over a simulated physical memory:
 * table pages come from an arena with made-up GPAs (allocation can be
 * made to fail at the Nth call), "pool pages" are a GPA range whose
 * references the test counts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../libdune/pgtable.c"

#define KIB4 0x1000ull
#define MIB2 0x200000ull
#define GIB1 0x40000000ull
#define FAKE_PA_BASE 0xabc00000000ull	/* table pages */
#define POOL_PA 0x100000000ull		/* simulated pool: 64 pages */
#define POOL_PAGES 64
#define SIM_PAGES 4096

struct mem {
	ptent_t *page[SIM_PAGES];
	bool live[SIM_PAGES];
	unsigned int used, live_count;
	unsigned int calls, fail_at;	/* fail the fail_at-th alloc (1-based) */
	int ref[POOL_PAGES];
};

static void *m_alloc(void *ctx)
{
	struct mem *m = ctx;
	ptent_t *p;

	if (++m->calls == m->fail_at || m->used == SIM_PAGES)
		return NULL;
	p = aligned_alloc(4096, 4096);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, 4096);
	m->live[m->used] = true;
	m->page[m->used++] = p;
	m->live_count++;
	return p;
}

static unsigned int m_index(struct mem *m, const void *page)
{
	unsigned int i;

	for (i = 0; i < m->used; i++)
		if (m->page[i] == page)
			return i;
	ck_abort_msg("not an arena page");
	return 0;
}

static void m_free(void *ctx, void *page)
{
	struct mem *m = ctx;
	unsigned int i = m_index(m, page);

	ck_assert(m->live[i]);
	m->live[i] = false;
	m->live_count--;
	memset(page, 0x5a, 4096);	/* catch use after free */
}

static physaddr_t m_pa(void *ctx, const void *page)
{
	return FAKE_PA_BASE + (physaddr_t)m_index(ctx, page) * 4096;
}

static void *m_ptr(void *ctx, physaddr_t pa)
{
	struct mem *m = ctx;
	uint64_t i = (pa - FAKE_PA_BASE) / 4096;

	ck_assert_uint_eq(pa % 4096, 0);
	ck_assert_uint_lt(i, m->used);
	ck_assert(m->live[i]);
	return m->page[i];
}

static bool m_is_pool(void *ctx, physaddr_t pa)
{
	return pa >= POOL_PA && pa < POOL_PA + POOL_PAGES * 4096;
}

static void m_get(void *ctx, physaddr_t pa)
{
	struct mem *m = ctx;

	ck_assert(m_is_pool(ctx, pa));
	m->ref[(pa - POOL_PA) / 4096]++;
}

static void m_put(void *ctx, physaddr_t pa)
{
	struct mem *m = ctx;

	ck_assert(m_is_pool(ctx, pa));
	m->ref[(pa - POOL_PA) / 4096]--;
}

static struct mem *M;
static struct pt_ops OPS;
static ptent_t *root;

static void setup(void)
{
	M = calloc(1, sizeof(*M));
	OPS = (struct pt_ops){ m_alloc, m_free, m_pa, m_ptr, m_is_pool,
			       m_get, m_put, M };
	root = m_alloc(M);
}

static void teardown(void)
{
	unsigned int i;

	for (i = 0; i < M->used; i++)
		free(M->page[i]);
	free(M);
}

/* Every live table page is reachable: nothing leaked. */
static void check_no_leak(void)
{
	ck_assert_uint_eq(M->live_count, pt_count_tables(&OPS, root));
}

/* Translate like the CPU (also through not-present PERM_NONE leaves). */
static bool xlate(ptent_t *r, uint64_t va, uint64_t *pa, ptent_t *leaf)
{
	ptent_t *e;
	int level;

	if (pt_lookup(&OPS, r, va, false, &e, &level) ||
	    !(*e & (PTE_P | PTE_NONE)))
		return false;
	*pa = leaf_pa(*e, level) | (va & (pt_level_size(level) - 1));
	if (leaf)
		*leaf = *e;
	return true;
}

static int count_cb(const void *arg, ptent_t *e, void *va)
{
	(*(int *)arg)++;
	return 0;
}

static int count_leaves(ptent_t *r)
{
	int n = 0;

	ck_assert_int_eq(pt_walk(&OPS, r, 0, PT_USER_END - 1, count_cb, &n), 0);
	return n;
}

START_TEST(test_perm_bits)
{
	uint64_t b;
	int level;

	ck_assert_int_eq(pt_perm(PERM_R, &b, &level), 0);
	ck_assert_uint_eq(b, PTE_P | PTE_NX);
	ck_assert_int_eq(level, 0);
	ck_assert_int_eq(pt_perm(PERM_R | PERM_W | PERM_X | PERM_U, &b, &level),
			 0);
	ck_assert_uint_eq(b, PTE_P | PTE_W | PTE_U);
	ck_assert_int_eq(pt_perm(PERM_R | PERM_UC | PERM_BIG, &b, &level), 0);
	ck_assert_uint_eq(b, PTE_P | PTE_NX | PTE_PCD | PTE_PWT);
	ck_assert_int_eq(level, 1);
	ck_assert_int_eq(pt_perm(PERM_R | PERM_COW | PERM_BIG_1GB, &b, &level),
			 0);
	ck_assert_uint_eq(b, PTE_P | PTE_NX | PTE_COW);
	ck_assert_int_eq(level, 2);
	ck_assert_int_eq(pt_perm(PERM_R | PERM_USR1 | PERM_USR2 | PERM_USR3, &b,
				 &level), 0);
	ck_assert_uint_eq(b, PTE_P | PTE_NX | PTE_USR1 | PTE_USR2 | PTE_USR3);
	ck_assert_int_eq(pt_perm(PERM_NONE, &b, &level), 0);
	ck_assert_uint_eq(b, PTE_NONE);
	/* bad mixes */
	ck_assert_int_eq(pt_perm(PERM_R | PERM_BIG | PERM_BIG_1GB, &b, &level),
			 -EINVAL);
	ck_assert_int_eq(pt_perm(PERM_R | PERM_W | PERM_COW, &b, &level),
			 -EINVAL);
	ck_assert_int_eq(pt_perm(PERM_W, &b, &level), -EINVAL);
	ck_assert_int_eq(pt_perm(PERM_U | PERM_X, &b, &level), -EINVAL);
	ck_assert_int_eq(pt_perm(PERM_R | 0x40, &b, &level), -EINVAL);
	ck_assert_int_eq(pt_perm(PERM_R | 0x10000, &b, &level), -EINVAL);
}
END_TEST

START_TEST(test_map_4k_lookup)
{
	uint64_t va = 0x7f0012345000ull, pa;
	ptent_t *e, leaf;
	int level;

	ck_assert_int_eq(pt_lookup(&OPS, root, va, false, &e, &level),
			 -ENOENT);
	ck_assert_int_eq(pt_map(&OPS, root, va, 3 * KIB4, 0x5000,
				PERM_R | PERM_W, false, NULL), 0);
	ck_assert(xlate(root, va + 0x123, &pa, &leaf));
	ck_assert_uint_eq(pa, 0x5123);
	ck_assert_uint_eq(leaf, 0x5000 | PTE_P | PTE_W | PTE_NX);
	ck_assert(xlate(root, va + 2 * KIB4, &pa, NULL));
	ck_assert_uint_eq(pa, 0x7000);
	ck_assert(!xlate(root, va + 3 * KIB4, &pa, NULL));
	ck_assert(!xlate(root, va - KIB4, &pa, NULL));
	/* the tables on the way grant everything: the leaf decides */
	ck_assert_uint_eq(root[pt_idx(va, 3)] & ~PTE_ADDR_MASK, PT_TABLE_FLAGS);
	ck_assert_int_eq(pt_lookup(&OPS, root, va, false, &e, &level), 0);
	ck_assert_int_eq(level, 0);
	/* create: an empty 4 KiB entry next to them, tables made */
	ck_assert_int_eq(pt_lookup(&OPS, root, 0x1000, true, &e, &level), 0);
	ck_assert_uint_eq(*e, 0);
	ck_assert_int_eq(level, 0);
	ck_assert_uint_eq(M->live_count, 7);
	ck_assert_int_eq(pt_lookup(&OPS, root, 1ull << 47, true, &e, &level),
			 -EINVAL);
	check_no_leak();
	ck_assert_int_eq(count_leaves(root), 3);
}
END_TEST

START_TEST(test_map_large)
{
	uint64_t pa;
	ptent_t *e, leaf;
	int level;

	ck_assert_int_eq(pt_map(&OPS, root, 4 * GIB1, 2 * GIB1, 8 * GIB1,
				PERM_R | PERM_X | PERM_BIG_1GB, false, NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, 0x40000000000ull, 2 * MIB2,
				0x600000, PERM_R | PERM_W | PERM_BIG, false,
				NULL), 0);
	ck_assert(xlate(root, 5 * GIB1 + 0x1234567, &pa, &leaf));
	ck_assert_uint_eq(pa, 9 * GIB1 + 0x1234567);
	ck_assert_uint_eq(leaf, 9 * GIB1 | PTE_P | PTE_PS);
	ck_assert(xlate(root, 0x40000000000ull + MIB2 + 5, &pa, &leaf));
	ck_assert_uint_eq(pa, 0x800005);
	ck_assert_uint_eq(leaf, 0x800000 | PTE_P | PTE_W | PTE_PS | PTE_NX);
	/* lookup with create stops at a large page */
	ck_assert_int_eq(pt_lookup(&OPS, root, 4 * GIB1 + KIB4, true, &e,
				   &level), 0);
	ck_assert_int_eq(level, 2);
	ck_assert_uint_eq(*e, 8 * GIB1 | PTE_P | PTE_PS);
	ck_assert_int_eq(count_leaves(root), 4);
	/* PML4, PDPT (1G); PDPT, PD (2M) */
	ck_assert_uint_eq(M->live_count, 4);
	check_no_leak();
}
END_TEST

START_TEST(test_map_errors)
{
	unsigned int live;

	/* misaligned va, pa, len for each size */
	ck_assert_int_eq(pt_map(&OPS, root, 0x1001, KIB4, 0, PERM_R, false,
				NULL), -EINVAL);
	ck_assert_int_eq(pt_map(&OPS, root, 0x1000, KIB4, 0x10, PERM_R, false,
				NULL), -EINVAL);
	ck_assert_int_eq(pt_map(&OPS, root, 0x1000, 100, 0, PERM_R, false,
				NULL), -EINVAL);
	ck_assert_int_eq(pt_map(&OPS, root, KIB4, MIB2, 0,
				PERM_R | PERM_BIG, false, NULL), -EINVAL);
	ck_assert_int_eq(pt_map(&OPS, root, MIB2, MIB2, KIB4,
				PERM_R | PERM_BIG, false, NULL), -EINVAL);
	ck_assert_int_eq(pt_map(&OPS, root, GIB1, MIB2, 0,
				PERM_R | PERM_BIG_1GB, false, NULL), -EINVAL);
	/* non-canonical, wrapping, GPA too big, bad perm */
	ck_assert_int_eq(pt_map(&OPS, root, PT_USER_END - KIB4, 2 * KIB4, 0,
				PERM_R, false, NULL), -EINVAL);
	ck_assert_int_eq(pt_map(&OPS, root, 0xffff800000000000ull, KIB4, 0,
				PERM_R, false, NULL), -EINVAL);
	ck_assert_int_eq(pt_map(&OPS, root, 0, KIB4, 1ull << 52, PERM_R,
				false, NULL), -EINVAL);
	ck_assert_int_eq(pt_map(&OPS, root, 0, KIB4, 0, PERM_W, false, NULL),
			 -EINVAL);
	ck_assert_uint_eq(M->live_count, 1);
	/* overlaps: exact, partial, large over small, small under large */
	ck_assert_int_eq(pt_map(&OPS, root, 0x200000, 2 * KIB4, 0x1000,
				PERM_R, false, NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, GIB1, GIB1, 0,
				PERM_R | PERM_BIG_1GB, false, NULL), 0);
	live = M->live_count;
	ck_assert_int_eq(pt_map(&OPS, root, 0x1fe000, 4 * KIB4, 0x9000,
				PERM_R, false, NULL), -EEXIST);
	ck_assert_int_eq(pt_map(&OPS, root, 0x200000, MIB2, 0,
				PERM_R | PERM_BIG, false, NULL), -EEXIST);
	ck_assert_int_eq(pt_map(&OPS, root, GIB1 + MIB2, KIB4, 0, PERM_R,
				false, NULL), -EEXIST);
	ck_assert_int_eq(pt_map(&OPS, root, 0, GIB1 + KIB4, 0, PERM_R, false,
				NULL), -EEXIST);
	/* nothing changed */
	ck_assert_uint_eq(M->live_count, live);
	ck_assert_int_eq(count_leaves(root), 3);
	/* a PERM_NONE leaf still counts as a mapping */
	ck_assert_int_eq(pt_mprotect(&OPS, root, 0x200000, KIB4, PERM_NONE,
				     NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, 0x200000, KIB4, 0, PERM_R, false,
				NULL), -EEXIST);
	check_no_leak();
}
END_TEST

/* Every 4 KiB page of [va, va + len) translates to pa + offset. */
static void check_linear(uint64_t va, uint64_t len, uint64_t pa,
			 uint64_t step)
{
	uint64_t off, got;

	for (off = 0; off < len; off += step) {
		ck_assert(xlate(root, va + off, &got, NULL));
		ck_assert_uint_eq(got, pa + off);
	}
}

START_TEST(test_split_1g_to_4k)
{
	uint64_t va = 2 * GIB1, pa = 7 * GIB1, mid = va + 5 * MIB2 + 3 * KIB4;
	struct pt_flush fl;
	ptent_t leaf;
	uint64_t got;

	ck_assert_int_eq(pt_map(&OPS, root, va, GIB1, pa,
				PERM_R | PERM_W | PERM_USR1 | PERM_BIG_1GB,
				false, NULL), 0);
	pt_flush_init(&fl);
	ck_assert_int_eq(pt_mprotect(&OPS, root, mid, KIB4, PERM_R, &fl), 0);
	ck_assert_uint_eq(fl.n, 1);
	ck_assert_uint_eq(fl.va[0], mid);
	/* PD and PT made */
	ck_assert_uint_eq(M->live_count, 4);
	check_linear(va, GIB1, pa, 0x3ff000);
	check_linear(va + 5 * MIB2, MIB2, pa + 5 * MIB2, KIB4);
	ck_assert(xlate(root, mid, &got, &leaf));
	ck_assert_uint_eq(leaf, (pa + (mid - va)) | PTE_P | PTE_NX);
	/* neighbours keep flags: 4 KiB, then 2 MiB */
	ck_assert(xlate(root, mid + KIB4, &got, &leaf));
	ck_assert_uint_eq(leaf, (pa + (mid - va) + KIB4) | PTE_P | PTE_W |
					PTE_USR1 | PTE_NX);
	ck_assert(xlate(root, va + MIB2, &got, &leaf));
	ck_assert_uint_eq(leaf, (pa + MIB2) | PTE_P | PTE_W | PTE_USR1 |
					PTE_PS | PTE_NX);
	ck_assert_int_eq(count_leaves(root), 511 + 512);
	check_no_leak();
}
END_TEST

START_TEST(test_split_2m_unmap)
{
	uint64_t va = 0x600000, pa = 0x2000000, got;
	struct pt_flush fl;

	ck_assert_int_eq(pt_map(&OPS, root, va, 2 * MIB2, pa,
				PERM_R | PERM_BIG, false, NULL), 0);
	pt_flush_init(&fl);
	/* across the boundary of the two 2 MiB pages */
	ck_assert_int_eq(pt_unmap(&OPS, root, va + MIB2 - KIB4, 2 * KIB4, &fl),
			 0);
	ck_assert_uint_eq(fl.n, 2);
	ck_assert(!xlate(root, va + MIB2 - KIB4, &got, NULL));
	ck_assert(!xlate(root, va + MIB2, &got, NULL));
	check_linear(va, MIB2 - KIB4, pa, KIB4);
	check_linear(va + MIB2 + KIB4, MIB2 - KIB4, pa + MIB2 + KIB4, KIB4);
	ck_assert_int_eq(count_leaves(root), 2 * 511);
	/* unmapping nothing is fine */
	ck_assert_int_eq(pt_unmap(&OPS, root, 0x10000000, GIB1, NULL), 0);
	ck_assert_int_eq(pt_unmap(&OPS, root, 0x1001, KIB4, NULL), -EINVAL);
	check_no_leak();
}
END_TEST

START_TEST(test_mprotect_none_keeps)
{
	uint64_t va = 0x10000, got;
	ptent_t *e, leaf;
	int level;
	struct pt_flush fl;

	ck_assert_int_eq(pt_map(&OPS, root, va, 4 * KIB4, 0x77000,
				PERM_R | PERM_W, false, NULL), 0);
	pt_flush_init(&fl);
	ck_assert_int_eq(pt_mprotect(&OPS, root, va + KIB4, 2 * KIB4,
				     PERM_NONE, &fl), 0);
	ck_assert_uint_eq(fl.n, 2);
	ck_assert_int_eq(pt_lookup(&OPS, root, va + KIB4, false, &e, &level),
			 0);
	ck_assert(!(*e & PTE_P));
	ck_assert_uint_eq(*e, 0x78000 | PTE_NONE);
	/* walks still see it, and it comes back as it was */
	ck_assert_int_eq(count_leaves(root), 4);
	pt_flush_init(&fl);
	ck_assert_int_eq(pt_mprotect(&OPS, root, va, 4 * KIB4,
				     PERM_R | PERM_W | PERM_X, &fl), 0);
	/* only the two present pages needed a flush */
	ck_assert_uint_eq(fl.n, 2);
	ck_assert_uint_eq(fl.va[0], va);
	ck_assert_uint_eq(fl.va[1], va + 3 * KIB4);
	ck_assert(xlate(root, va + 2 * KIB4, &got, &leaf));
	ck_assert_uint_eq(leaf, 0x79000 | PTE_P | PTE_W);
	/* A and D survive mprotect; same perm twice changes nothing */
	*e |= PTE_A | PTE_D;
	pt_flush_init(&fl);
	ck_assert_int_eq(pt_mprotect(&OPS, root, va, 4 * KIB4,
				     PERM_R | PERM_W | PERM_X, &fl), 0);
	ck_assert_uint_eq(fl.n, 0);
	ck_assert_uint_eq(*e, 0x78000 | PTE_P | PTE_W | PTE_A | PTE_D);
	/* bad perms and ranges */
	ck_assert_int_eq(pt_mprotect(&OPS, root, va, KIB4, PERM_W, NULL),
			 -EINVAL);
	ck_assert_int_eq(pt_mprotect(&OPS, root, va + 1, KIB4, PERM_R, NULL),
			 -EINVAL);
	ck_assert_int_eq(pt_mprotect(&OPS, root, va, 5, PERM_R, NULL),
			 -EINVAL);
	ck_assert_uint_eq(*e, 0x78000 | PTE_P | PTE_W | PTE_A | PTE_D);
	/* a large PERM_NONE leaf stays large and keeps its address */
	ck_assert_int_eq(pt_map(&OPS, root, GIB1, MIB2, 0x400000,
				PERM_R | PERM_BIG, false, NULL), 0);
	ck_assert_int_eq(pt_mprotect(&OPS, root, GIB1, MIB2, PERM_NONE, NULL),
			 0);
	ck_assert_int_eq(pt_lookup(&OPS, root, GIB1, false, &e, &level), 0);
	ck_assert_int_eq(level, 1);
	ck_assert_uint_eq(*e, 0x400000 | PTE_NONE | PTE_PS);
	/* and splits into PERM_NONE leaves */
	ck_assert_int_eq(pt_mprotect(&OPS, root, GIB1, KIB4, PERM_R, NULL), 0);
	ck_assert_int_eq(pt_lookup(&OPS, root, GIB1 + KIB4, false, &e, &level),
			 0);
	ck_assert_int_eq(level, 0);
	ck_assert_uint_eq(*e, 0x401000 | PTE_NONE);
	check_no_leak();
}
END_TEST

struct walk_rec {
	int n, stop_at;
	uint64_t va[8];
};

static int rec_cb(const void *arg, ptent_t *e, void *va)
{
	struct walk_rec *w = (struct walk_rec *)arg;

	if (w->n < 8)
		w->va[w->n] = (uint64_t)va;
	w->n++;
	return w->n == w->stop_at ? 42 : 0;
}

START_TEST(test_walk)
{
	struct walk_rec w = { 0 };
	int n;

	ck_assert_int_eq(pt_map(&OPS, root, 0x5000, 2 * KIB4, 0, PERM_R, false,
				NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, MIB2 * 3, MIB2, 0,
				PERM_R | PERM_BIG, false, NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, 0x7f0000000000ull, GIB1, 0,
				PERM_R | PERM_BIG_1GB, false, NULL), 0);
	/* inclusive end: the last byte of the first page */
	ck_assert_int_eq(pt_walk(&OPS, root, 0, 0x5fff, rec_cb, &w), 0);
	ck_assert_int_eq(w.n, 1);
	ck_assert_uint_eq(w.va[0], 0x5000);
	/* in order, large leaves by their start, partly covered ones too */
	w = (struct walk_rec){ 0 };
	ck_assert_int_eq(pt_walk(&OPS, root, 0x6000, 0x7f0000000000ull, rec_cb,
				 &w), 0);
	ck_assert_int_eq(w.n, 3);
	ck_assert_uint_eq(w.va[0], 0x6000);
	ck_assert_uint_eq(w.va[1], MIB2 * 3);
	ck_assert_uint_eq(w.va[2], 0x7f0000000000ull);
	w = (struct walk_rec){ 0 };
	ck_assert_int_eq(pt_walk(&OPS, root, MIB2 * 3 + 5, MIB2 * 3 + 6,
				 rec_cb, &w), 0);
	ck_assert_int_eq(w.n, 1);
	/* a nonzero return stops the walk */
	w = (struct walk_rec){ .stop_at = 2 };
	ck_assert_int_eq(pt_walk(&OPS, root, 0, PT_USER_END - 1, rec_cb, &w),
			 42);
	ck_assert_int_eq(w.n, 2);
	ck_assert_int_eq(pt_walk(&OPS, root, 0x6000, 0x5000, rec_cb, &w),
			 -EINVAL);
	/* the original's VA_START, VA_END: the whole lower half */
	w = (struct walk_rec){ .stop_at = 0 };
	ck_assert_int_eq(pt_walk(&OPS, root, 0, ~0ull, rec_cb, &w), 0);
	n = w.n;
	w = (struct walk_rec){ .stop_at = 0 };
	ck_assert_int_eq(pt_walk(&OPS, root, 0, PT_USER_END - 1, rec_cb, &w),
			 0);
	ck_assert_int_eq(w.n, n);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(pt_walk(&OPS, root, PT_USER_END, ~0ull, rec_cb, &w),
			 0);
}
END_TEST

START_TEST(test_pool_refs_unmap)
{
	/* map_phys of pool pages: the leaves own the references */
	ck_assert_int_eq(pt_map(&OPS, root, 0x10000, 4 * KIB4, POOL_PA,
				PERM_R | PERM_W, true, NULL), 0);
	/* pool=false (map_pages) and large leaves never own one */
	ck_assert_int_eq(pt_map(&OPS, root, 0x20000, KIB4, POOL_PA + 5 * KIB4,
				PERM_R, false, NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, 0x40000000, MIB2, 0,
				PERM_R | PERM_BIG, true, NULL), 0);
	ck_assert_int_eq(pt_unmap(&OPS, root, 0x10000, 2 * KIB4, NULL), 0);
	ck_assert_int_eq(M->ref[0], -1);
	ck_assert_int_eq(M->ref[1], -1);
	ck_assert_int_eq(M->ref[2], 0);
	ck_assert_int_eq(pt_unmap(&OPS, root, 0x20000, KIB4, NULL), 0);
	ck_assert_int_eq(M->ref[5], 0);
	ck_assert_int_eq(pt_unmap(&OPS, root, 0x40000000, MIB2, NULL), 0);
	pt_free(&OPS, root);
	ck_assert_int_eq(M->ref[2], -1);
	ck_assert_int_eq(M->ref[3], -1);
	ck_assert_uint_eq(M->live_count, 0);
}
END_TEST

START_TEST(test_clone_free)
{
	ptent_t *c, *e;
	uint64_t got;
	unsigned int live;
	int level, i;

	ck_assert_int_eq(pt_map(&OPS, root, 0x10000, 3 * KIB4, POOL_PA,
				PERM_R | PERM_W, true, NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, 0x7f0000000000ull, 2 * GIB1, 0,
				PERM_R | PERM_BIG_1GB, false, NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, 0x7f0080000000ull, MIB2, MIB2,
				PERM_R | PERM_BIG, false, NULL), 0);
	live = M->live_count;
	c = pt_clone(&OPS, root);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(M->live_count, 2 * live);
	ck_assert_uint_eq(pt_count_tables(&OPS, c), live);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(M->ref[i], 1);
	/* same leaves, own tables */
	ck_assert(xlate(c, 0x7f0040001234ull, &got, NULL));
	ck_assert_uint_eq(got, GIB1 + 0x1234);
	ck_assert_int_eq(pt_lookup(&OPS, c, 0x11000, false, &e, &level), 0);
	ck_assert_uint_eq(*e, (POOL_PA + KIB4) | PTE_P | PTE_W | PTE_NX |
				      PTE_POOL);
	ck_assert_int_eq(pt_unmap(&OPS, c, 0x11000, KIB4, NULL), 0);
	ck_assert_int_eq(M->ref[1], 0);
	ck_assert(xlate(root, 0x11000, &got, NULL));
	ck_assert_uint_eq(count_leaves(root), count_leaves(c) + 1);
	/* freeing the clone gives back its tables and references */
	pt_free(&OPS, c);
	ck_assert_uint_eq(M->live_count, live);
	ck_assert_int_eq(M->ref[0], 0);
	ck_assert_int_eq(M->ref[2], 0);
	check_no_leak();
}
END_TEST

START_TEST(test_ad)
{
	uint64_t va = 0x200000, bitmap[8];
	ptent_t *e;
	struct pt_flush fl;
	int level;

	ck_assert_int_eq(pt_map(&OPS, root, va, 8 * KIB4, 0x100000,
				PERM_R | PERM_W, false, NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, GIB1, MIB2, 0,
				PERM_R | PERM_W | PERM_BIG, false, NULL), 0);
	ck_assert_int_eq(pt_get_ad(&OPS, root, va), 0);
	ck_assert_int_eq(pt_get_ad(&OPS, root, 0x5000), -ENOENT);
	/* what the CPU would do: read page 1, write pages 2 and 5 */
	pt_lookup(&OPS, root, va + KIB4, false, &e, &level);
	*e |= PTE_A;
	pt_lookup(&OPS, root, va + 2 * KIB4, false, &e, &level);
	*e |= PTE_A | PTE_D;
	pt_lookup(&OPS, root, va + 5 * KIB4, false, &e, &level);
	*e |= PTE_A | PTE_D;
	pt_lookup(&OPS, root, GIB1, false, &e, &level);
	*e |= PTE_A | PTE_D;
	ck_assert_int_eq(pt_get_ad(&OPS, root, va + KIB4), DUNE_AD_ACCESSED);
	ck_assert_int_eq(pt_get_ad(&OPS, root, va + 2 * KIB4),
			 DUNE_AD_ACCESSED | DUNE_AD_DIRTY);
	memset(bitmap, 0, sizeof(bitmap));
	ck_assert_int_eq(pt_scan_ad(&OPS, root, va, 8 * KIB4, DUNE_AD_DIRTY,
				    false, bitmap, NULL), 2);
	ck_assert_uint_eq(bitmap[0], 0x24);
	memset(bitmap, 0, sizeof(bitmap));
	ck_assert_int_eq(pt_scan_ad(&OPS, root, va, 8 * KIB4,
				    DUNE_AD_ACCESSED, false, bitmap, NULL), 3);
	ck_assert_uint_eq(bitmap[0], 0x26);
	/* a large leaf sets the bits of all its pages in range */
	memset(bitmap, 0, sizeof(bitmap));
	ck_assert_int_eq(pt_scan_ad(&OPS, root, GIB1 + MIB2 - 100 * KIB4,
				    100 * KIB4 + 2 * MIB2, DUNE_AD_DIRTY, false,
				    bitmap, NULL), 100);
	ck_assert_uint_eq(bitmap[0], ~0ull);
	ck_assert_uint_eq(bitmap[1], (1ull << 36) - 1);
	ck_assert_uint_eq(bitmap[2], 0);
	/* scan with clear: flushed once per leaf, then clean */
	memset(bitmap, 0, sizeof(bitmap));
	pt_flush_init(&fl);
	ck_assert_int_eq(pt_scan_ad(&OPS, root, va, 8 * KIB4, DUNE_AD_DIRTY,
				    true, bitmap, &fl), 2);
	ck_assert_uint_eq(fl.n, 2);
	ck_assert_int_eq(pt_get_ad(&OPS, root, va + 2 * KIB4),
			 DUNE_AD_ACCESSED);
	ck_assert_int_eq(pt_scan_ad(&OPS, root, va, 8 * KIB4, DUNE_AD_DIRTY,
				    true, bitmap, &fl), 0);
	/* clear_ad on part of the large page splits it */
	pt_flush_init(&fl);
	ck_assert_int_eq(pt_clear_ad(&OPS, root, GIB1 + KIB4, KIB4,
				     DUNE_AD_ACCESSED | DUNE_AD_DIRTY, &fl), 0);
	ck_assert_uint_eq(fl.n, 1);
	ck_assert_int_eq(pt_get_ad(&OPS, root, GIB1 + KIB4), 0);
	ck_assert_int_eq(pt_get_ad(&OPS, root, GIB1),
			 DUNE_AD_ACCESSED | DUNE_AD_DIRTY);
	ck_assert_int_eq(pt_get_ad(&OPS, root, GIB1 + 2 * KIB4),
			 DUNE_AD_ACCESSED | DUNE_AD_DIRTY);
	ck_assert_int_eq(pt_clear_ad(&OPS, root, va, KIB4, 4, &fl), -EINVAL);
	ck_assert_int_eq(pt_scan_ad(&OPS, root, va + 1, KIB4, 1, false, bitmap,
				    NULL), -EINVAL);
	check_no_leak();
}
END_TEST

START_TEST(test_flush_overflow)
{
	struct pt_flush fl;

	ck_assert_int_eq(pt_map(&OPS, root, 0, 64 * KIB4, 0, PERM_R, false,
				NULL), 0);
	pt_flush_init(&fl);
	ck_assert_int_eq(pt_mprotect(&OPS, root, 0, PT_FLUSH_MAX * KIB4,
				     PERM_R | PERM_W, &fl), 0);
	ck_assert(!fl.all);
	ck_assert_uint_eq(fl.n, PT_FLUSH_MAX);
	ck_assert_int_eq(pt_mprotect(&OPS, root, 0, 64 * KIB4, PERM_R, &fl), 0);
	ck_assert(fl.all);
}
END_TEST

/* -ENOMEM at every allocation: no leaf changed, no table leaked. */
START_TEST(test_alloc_failure_map)
{
	uint64_t got;
	unsigned int n;

	ck_assert_int_eq(pt_map(&OPS, root, 0x1000, KIB4, 0x1000, PERM_R,
				false, NULL), 0);
	/* a range that needs new tables half way: PT for 2nd MiB etc. */
	for (n = 1;; n++) {
		int r;

		M->calls = 0;
		M->fail_at = n;
		r = pt_map(&OPS, root, 0x7fffff000ull, 0x402000, 0x1000,
			   PERM_R, false, NULL);
		check_no_leak();
		if (!r)
			break;
		ck_assert_int_eq(r, -ENOMEM);
		ck_assert_int_eq(count_leaves(root), 1);
	}
	ck_assert_uint_gt(n, 3);
	ck_assert_int_eq(count_leaves(root), 1 + 0x402);
	ck_assert(xlate(root, 0x800400000ull, &got, NULL));
	ck_assert_uint_eq(got, 0x402000);
	ck_assert(!xlate(root, 0x800401000ull, &got, NULL));
	M->fail_at = 0;
}
END_TEST

START_TEST(test_alloc_failure_split)
{
	uint64_t va = 4 * GIB1, got;
	ptent_t leaf;
	unsigned int n, live;

	ck_assert_int_eq(pt_map(&OPS, root, va, GIB1, 0,
				PERM_R | PERM_W | PERM_BIG_1GB, false, NULL),
			 0);
	live = M->live_count;
	/* mprotect: two 4 KiB edges in two 2 MiB pages: 3 allocations */
	for (n = 1;; n++) {
		int r;

		M->calls = 0;
		M->fail_at = n;
		r = pt_mprotect(&OPS, root, va + KIB4, MIB2, PERM_R, NULL);
		check_no_leak();
		if (!r)
			break;
		ck_assert_int_eq(r, -ENOMEM);
		ck_assert(xlate(root, va + KIB4, &got, &leaf));
		ck_assert(leaf & PTE_W);
		check_linear(va, 4 * MIB2, 0, KIB4);
	}
	ck_assert_uint_ge(n, 2);
	ck_assert_uint_le(M->live_count, live + 3);
	ck_assert(xlate(root, va + KIB4, &got, &leaf));
	ck_assert(!(leaf & PTE_W));
	ck_assert(xlate(root, va + MIB2 + KIB4, &got, &leaf));
	ck_assert(leaf & PTE_W);
	check_linear(va, 4 * MIB2, 0, KIB4);
	/* unmap and clear_ad fail the same way */
	M->calls = 0;
	M->fail_at = 1;
	ck_assert_int_eq(pt_unmap(&OPS, root, va + 5 * MIB2 + KIB4, KIB4,
				  NULL), -ENOMEM);
	M->calls = 0;
	ck_assert_int_eq(pt_clear_ad(&OPS, root, va + 7 * MIB2 + KIB4, KIB4,
				     1, NULL), -ENOMEM);
	check_linear(va, 8 * MIB2, 0, KIB4 * 7);
	M->fail_at = 0;
	check_no_leak();
}
END_TEST

START_TEST(test_alloc_failure_clone)
{
	unsigned int n, live;
	ptent_t *c;

	ck_assert_int_eq(pt_map(&OPS, root, 0x10000, 2 * KIB4, POOL_PA,
				PERM_R, true, NULL), 0);
	ck_assert_int_eq(pt_map(&OPS, root, 0x7f0000000000ull, 2 * KIB4,
				POOL_PA + 2 * KIB4, PERM_R, true, NULL), 0);
	live = M->live_count;
	for (n = 1;; n++) {
		M->calls = 0;
		M->fail_at = n;
		c = pt_clone(&OPS, root);
		if (c)
			break;
		ck_assert_uint_eq(M->live_count, live);
		ck_assert_int_eq(M->ref[0] + M->ref[1] + M->ref[2] + M->ref[3],
				 0);
	}
	ck_assert_uint_eq(n, live + 1);
	ck_assert_int_eq(M->ref[3], 1);
	pt_free(&OPS, c);
	ck_assert_uint_eq(M->live_count, live);
	M->fail_at = 0;
}
END_TEST

START_TEST(test_lookup_create_enomem)
{
	ptent_t *e;
	int level;

	M->calls = 0;
	M->fail_at = 2;
	ck_assert_int_eq(pt_lookup(&OPS, root, 0x1000, true, &e, &level),
			 -ENOMEM);
	check_no_leak();
	M->fail_at = 0;
}
END_TEST

/* The original's dune_vm_lookup: an emptied 4 KiB slot is still found. */
START_TEST(test_lookup_empty_slot)
{
	uint64_t va = 0x7f1234560000ull;
	ptent_t *e, *e2;
	int level;

	/* no table: -ENOENT */
	ck_assert_int_eq(pt_lookup(&OPS, root, va, false, &e, &level),
			 -ENOENT);
	ck_assert_int_eq(pt_map(&OPS, root, va, 2 * KIB4, 0x5000, PERM_R,
				false, NULL), 0);
	ck_assert_int_eq(pt_unmap(&OPS, root, va, KIB4, NULL), 0);
	/* the emptied slot, and an untouched one of the same table */
	ck_assert_int_eq(pt_lookup(&OPS, root, va, false, &e, &level), 0);
	ck_assert_int_eq(level, 0);
	ck_assert_uint_eq(*e, 0);
	ck_assert_int_eq(pt_lookup(&OPS, root, va + 8 * KIB4, false, &e2,
				   &level), 0);
	ck_assert_ptr_eq(e2, e + 8);
	ck_assert_int_eq(pt_get_ad(&OPS, root, va), -ENOENT);
	/* the program fills it itself */
	*e = 0x9000 | PTE_P;
	ck_assert(xlate(root, va + 12, &(uint64_t){ 0 }, NULL));
}
END_TEST

/* PERM_USR3 (0x3000, as the original) sets all three bits; USR1 one. */
START_TEST(test_perm_usr)
{
	uint64_t bits;
	int level;

	ck_assert_int_eq(PERM_USR3, PERM_USR1 | PERM_USR2);
	ck_assert_int_eq(pt_perm(PERM_R | PERM_USR1, &bits, &level), 0);
	ck_assert_uint_eq(bits & (PTE_USR1 | PTE_USR2 | PTE_USR3), PTE_USR1);
	ck_assert_int_eq(pt_perm(PERM_R | PERM_USR3, &bits, &level), 0);
	ck_assert_uint_eq(bits & (PTE_USR1 | PTE_USR2 | PTE_USR3),
			  PTE_USR1 | PTE_USR2 | PTE_USR3);
	ck_assert_uint_eq(PTE_USR1, 1ull << 62);
	ck_assert_uint_eq(PTE_USR3, 1ull << 60);
	ck_assert_uint_eq(PTE_ADDR(0x8000000012345fffull), 0x12345000ull);
	ck_assert_uint_eq(PTE_FLAGS(0x8000000012345fffull),
			  0x8000000000000fffull);
	ck_assert_uint_eq(PDX(3, 0x7f8000000000ull), 255);
	ck_assert_uint_eq(PGADDR(0x12345678), 0x12345000);
	ck_assert_uint_eq(BIG_PGSIZE, 2 << 20);
}
END_TEST

static Suite *pgtable_suite(void)
{
	Suite *s = suite_create("pgtable");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_perm_bits);
	tcase_add_test(tc, test_map_4k_lookup);
	tcase_add_test(tc, test_map_large);
	tcase_add_test(tc, test_map_errors);
	tcase_add_test(tc, test_split_1g_to_4k);
	tcase_add_test(tc, test_split_2m_unmap);
	tcase_add_test(tc, test_mprotect_none_keeps);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_lookup_empty_slot);
	tcase_add_test(tc, test_perm_usr);
	tcase_add_test(tc, test_pool_refs_unmap);
	tcase_add_test(tc, test_clone_free);
	tcase_add_test(tc, test_ad);
	tcase_add_test(tc, test_flush_overflow);
	tcase_add_test(tc, test_alloc_failure_map);
	tcase_add_test(tc, test_alloc_failure_split);
	tcase_add_test(tc, test_alloc_failure_clone);
	tcase_add_test(tc, test_lookup_create_enomem);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(pgtable_suite());
}
