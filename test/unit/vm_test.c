// SPDX-License-Identifier: MIT
/*
 * Unit tests for libdune/vm.c: build guest page tables for realistic
 * layouts in ordinary memory, then walk them like the CPU would.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <errno.h>
#include <stdlib.h>

#include "../../libdune/layout.c"
#include "../../libdune/vm.c"

#define GIB DUNE_GIB

/*
 * Table pages live in a heap array; their "guest-physical" addresses are
 * made up (far from anything the windows use) to catch confusion of
 * pointers and GPAs.
 */
#define FAKE_PA_BASE 0xabc00000000ull
#define SIM_PAGES 2048

struct arena {
	uint64_t *pages[SIM_PAGES];
	unsigned int used, limit;
};

static void *arena_alloc(void *ctx)
{
	struct arena *a = ctx;
	uint64_t *p;

	if (a->used >= a->limit)
		return NULL;
	p = aligned_alloc(4096, 4096);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, 4096);
	a->pages[a->used++] = p;
	return p;
}

static uint64_t arena_pa(void *ctx, const void *page)
{
	struct arena *a = ctx;
	unsigned int i;

	for (i = 0; i < a->used; i++)
		if (a->pages[i] == page)
			return FAKE_PA_BASE + (uint64_t)i * 4096;
	ck_abort_msg("pa of a page not from the arena");
	return 0;
}

static void *arena_ptr(void *ctx, uint64_t pa)
{
	struct arena *a = ctx;
	uint64_t i = (pa - FAKE_PA_BASE) / 4096;

	ck_assert_uint_eq(pa % 4096, 0);
	ck_assert_uint_lt(i, a->used);
	return a->pages[i];
}

static struct arena *arena_new(unsigned int limit)
{
	struct arena *a = calloc(1, sizeof(*a));

	a->limit = limit;
	return a;
}

static void arena_free(struct arena *a)
{
	unsigned int i;

	for (i = 0; i < a->used; i++)
		free(a->pages[i]);
	free(a);
}

static struct dune_pt_ops ops_for(struct arena *a)
{
	return (struct dune_pt_ops){ arena_alloc, arena_pa, arena_ptr, a };
}

/* The PIE layout from layout_test at @bits. */
static struct dune_layout pie_layout(unsigned int bits)
{
	struct dune_layout_hints h;
	struct dune_layout l;

	memset(&h, 0, sizeof(h));
	h.nr_areas = 5;
	h.area[0] = (struct dune_area){ 0x5581c6a0b000ull, 0x5581c6a17000ull,
					DUNE_AREA_EXE };
	h.area[1] = (struct dune_area){ 0x5581c7d2f000ull, 0x5581c7d50000ull,
					DUNE_AREA_HEAP };
	h.area[2] = (struct dune_area){ 0x7fa117ab6000ull, 0x7fa117d65000ull,
					DUNE_AREA_MMAP };
	h.area[3] = (struct dune_area){ 0x7ffd6d263000ull, 0x7ffd6d284000ull,
					DUNE_AREA_STACK };
	h.area[4] = (struct dune_area){ 0x7ffd6d3b9000ull, 0x7ffd6d3bf000ull,
					DUNE_AREA_MMAP };
	ck_assert_int_eq(dune_layout_compute(&l, bits, &h), 0);
	return l;
}

/* Probe every window at its ends, middle and a pseudo-random spread. */
static void check_translations(const struct dune_layout *l,
			       const uint64_t *pml4,
			       const struct dune_pt_ops *ops,
			       uint64_t want_page_size)
{
	unsigned int i, k;

	for (i = 0; i < l->nr; i++) {
		const struct dune_window *w = &l->w[i];
		uint64_t probes[20];
		unsigned int n = 0;

		probes[n++] = w->va;
		probes[n++] = w->va + w->size - 1;
		probes[n++] = w->va + w->size / 2;
		for (k = 0; k < 17; k++)
			probes[n++] = w->va + (w->size / 17) * k + k * 4097;
		for (k = 0; k < n; k++) {
			uint64_t pa = 0, leaf = 0, psz = 0;

			ck_assert_int_eq(dune_pt_walk(pml4, probes[k], ops, &pa,
						      &leaf, &psz), 0);
			ck_assert_uint_eq(pa, dune_layout_va_to_pa(l, probes[k]));
			ck_assert_uint_eq(psz, want_page_size);
			/* present, writable, supervisor, executable, A/D */
			ck_assert(leaf & PTE_P);
			ck_assert(leaf & PTE_W);
			ck_assert(!(leaf & PTE_U));
			ck_assert(!(leaf & PTE_NX));
			ck_assert(leaf & PTE_PS);
			ck_assert(leaf & PTE_A);
			ck_assert(leaf & PTE_D);
			ck_assert(!(leaf & (PTE_PWT | PTE_PCD)));	/* WB */
		}
	}
}

static void build_and_check(unsigned int bits, uint64_t page_size)
{
	struct dune_layout l = pie_layout(bits);
	struct arena *a = arena_new(SIM_PAGES);
	struct dune_pt_ops ops = ops_for(a);
	uint64_t *pml4, pa;

	ck_assert_int_eq(dune_pt_build(&l, page_size, &ops, &pml4), 0);
	ck_assert_uint_le(a->used, dune_pt_pages_needed(&l, page_size));
	check_translations(&l, pml4, &ops, page_size);
	/* between windows and above user space: not present */
	ck_assert_int_eq(dune_pt_walk(pml4, 0x300000000000ull, &ops, &pa, NULL,
				      NULL), -ENOENT);
	ck_assert_int_eq(dune_pt_walk(pml4, 0xffff800000000000ull, &ops, &pa,
				      NULL, NULL), -ENOENT);
	arena_free(a);
}

START_TEST(test_1g_pages_39)
{
	build_and_check(39, DUNE_PGSIZE_1G);
}
END_TEST

START_TEST(test_2m_pages_39)
{
	build_and_check(39, DUNE_PGSIZE_2M);
}
END_TEST

START_TEST(test_1g_pages_40)
{
	build_and_check(40, DUNE_PGSIZE_1G);
}
END_TEST

START_TEST(test_identity_48)
{
	struct dune_layout l = pie_layout(48);
	struct arena *a = arena_new(SIM_PAGES);
	struct dune_pt_ops ops = ops_for(a);
	uint64_t *pml4, pa;

	ck_assert_int_eq(dune_pt_build(&l, DUNE_PGSIZE_1G, &ops, &pml4), 0);
	/* one PML4 and 256 PDPTs for 128 TiB */
	ck_assert_uint_eq(a->used, 257);
	ck_assert_uint_eq(dune_pt_pages_needed(&l, DUNE_PGSIZE_1G), 257);
	ck_assert_int_eq(dune_pt_walk(pml4, 0x7fa117ab6123ull, &ops, &pa, NULL,
				      NULL), 0);
	ck_assert_uint_eq(pa, 0x7fa117ab6123ull);
	/* the top page beyond the slot is mapped too: the EPT refuses it */
	ck_assert_int_eq(dune_pt_walk(pml4, 0x7ffffffff000ull, &ops, &pa, NULL,
				      NULL), 0);
	arena_free(a);
}
END_TEST

START_TEST(test_map_errors)
{
	struct arena *a = arena_new(3);
	struct dune_pt_ops ops = ops_for(a);
	uint64_t *pml4 = arena_alloc(a);

	/* misaligned, empty, non-canonical, too high a GPA */
	ck_assert_int_eq(dune_pt_map(pml4, GIB + 4096, 0, GIB, DUNE_PGSIZE_1G,
				     &ops), -EINVAL);
	ck_assert_int_eq(dune_pt_map(pml4, GIB, 0, 0, DUNE_PGSIZE_1G, &ops),
			 -EINVAL);
	ck_assert_int_eq(dune_pt_map(pml4, 1ull << 47, 0, GIB, DUNE_PGSIZE_1G,
				     &ops), -EINVAL);
	ck_assert_int_eq(dune_pt_map(pml4, 0, 1ull << 52, GIB, DUNE_PGSIZE_1G,
				     &ops), -EINVAL);
	ck_assert_int_eq(dune_pt_map(pml4, 0, 0, GIB, 4096, &ops), -EINVAL);
	/* map, map the same again, map differently */
	ck_assert_int_eq(dune_pt_map(pml4, GIB, 5 * GIB, GIB, DUNE_PGSIZE_1G,
				     &ops), 0);
	ck_assert_int_eq(dune_pt_map(pml4, GIB, 5 * GIB, GIB, DUNE_PGSIZE_1G,
				     &ops), 0);
	ck_assert_int_eq(dune_pt_map(pml4, GIB, 6 * GIB, GIB, DUNE_PGSIZE_1G,
				     &ops), -EEXIST);
	/* 2 MiB pages under a 1 GiB page */
	ck_assert_int_eq(dune_pt_map(pml4, GIB, 5 * GIB, 2 << 20,
				     DUNE_PGSIZE_2M, &ops), -EEXIST);
	/* out of table pages (PML4 + one PDPT used; the next PDPT: last) */
	ck_assert_int_eq(dune_pt_map(pml4, 1ull << 40, 0, GIB, DUNE_PGSIZE_1G,
				     &ops), 0);
	ck_assert_int_eq(dune_pt_map(pml4, 2ull << 40, 0, 2 << 20,
				     DUNE_PGSIZE_2M, &ops), -ENOMEM);
	arena_free(a);
}
END_TEST

START_TEST(test_pages_needed_bound)
{
	/* windows straddling 512 GiB and 1 GiB boundaries */
	struct dune_layout l = {
		.maxphyaddr = 40,
		.nr = 3,
		.w = {
			{ 0, 0, 2 * GIB },
			{ 511 * GIB, 2 * GIB, 3 * GIB },
			{ 0x7fff00000000ull, 5 * GIB, 0x7ffffffff000ull - 0x7fff00000000ull },
		},
		.gpa_end = 9 * GIB,
	};
	uint64_t sizes[] = { DUNE_PGSIZE_1G, DUNE_PGSIZE_2M };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct arena *a = arena_new(SIM_PAGES);
		struct dune_pt_ops ops = ops_for(a);
		uint64_t *pml4;

		ck_assert_int_eq(dune_pt_build(&l, sizes[i], &ops, &pml4), 0);
		ck_assert_uint_le(a->used, dune_pt_pages_needed(&l, sizes[i]));
		check_translations(&l, pml4, &ops, sizes[i]);
		arena_free(a);
	}
}
END_TEST

static Suite *vm_suite(void)
{
	Suite *s = suite_create("vm");
	TCase *tc = tcase_create("pagetables");

	tcase_add_test(tc, test_1g_pages_39);
	tcase_add_test(tc, test_2m_pages_39);
	tcase_add_test(tc, test_1g_pages_40);
	tcase_add_test(tc, test_identity_48);
	tcase_add_test(tc, test_map_errors);
	tcase_add_test(tc, test_pages_needed_bound);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(vm_suite());
}
