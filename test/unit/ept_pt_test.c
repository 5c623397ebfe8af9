// SPDX-License-Identifier: MIT
/* Unit tests for kern/ept_pt.c: EPT paging structures. */
#include "unit.h"
#include <stdlib.h>

#include "ept_pt.h"

/* Tables are host heap pages; their "physical address" is a fake index. */
#define MAX_TABLES 64
static u64 *tables[MAX_TABLES];
static int live_tables, fail_alloc_after = -1;

static u64 *t_alloc(void *opaque, u64 *pa)
{
	int i;

	if (fail_alloc_after == 0)
		return NULL;
	if (fail_alloc_after > 0)
		fail_alloc_after--;
	for (i = 1; i < MAX_TABLES; i++) {
		if (!tables[i]) {
			tables[i] = aligned_alloc(4096, 4096);
			memset(tables[i], 0, 4096);
			*pa = (u64)i << 12;
			live_tables++;
			return tables[i];
		}
	}
	return NULL;
}

static void t_free(void *opaque, u64 *t)
{
	int i;

	for (i = 1; i < MAX_TABLES; i++) {
		if (tables[i] == t) {
			free(t);
			tables[i] = NULL;
			live_tables--;
			return;
		}
	}
	ck_abort_msg("freeing an unknown table");
}

static u64 *t_pa_to_table(void *opaque, u64 pa)
{
	ck_assert_uint_lt(pa >> 12, MAX_TABLES);
	ck_assert_ptr_nonnull(tables[pa >> 12]);
	return tables[pa >> 12];
}

/* Retired tables wait here for the caller's "flush". */
static u64 *retired[MAX_TABLES];
static int nr_retired;

static void t_retire(void *opaque, u64 *t)
{
	int i;

	ck_assert_int_lt(nr_retired, MAX_TABLES);
	for (i = 0; i < 512; i++)
		ck_assert_uint_eq(t[i], 0);
	retired[nr_retired++] = t;
}

/* The caller's side: after INVEPT, free what zap retired. */
static int flush_retired(void)
{
	int n = nr_retired;

	while (nr_retired)
		t_free(NULL, retired[--nr_retired]);
	return n;
}

static const struct ept_pt_ops ops = {
	.alloc = t_alloc,
	.free = t_free,
	.retire = t_retire,
	.pa_to_table = t_pa_to_table,
};

static void setup(void)
{
	live_tables = 0;
	nr_retired = 0;
	fail_alloc_after = -1;
}

START_TEST(test_map_lookup_zap)
{
	struct ept_pt pt;
	bool large;
	u64 e;

	ck_assert_int_eq(ept_pt_init(&pt, &ops, 40), 0);
	ck_assert_int_eq(ept_pt_map(&pt, 0x5000, 0x123000, EPT_R | EPT_MT_WB, false), 0);
	e = ept_pt_lookup(&pt, 0x5abc, &large);
	ck_assert_uint_eq(e & EPT_ADDR_MASK, 0x123000);
	ck_assert_uint_eq(e & EPT_RWX, EPT_R);
	ck_assert_uint_eq(e & (7 << 3), EPT_MT_WB);
	ck_assert(!large);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x6000, NULL), 0);
	/* remap with write permission replaces the entry */
	ck_assert_int_eq(ept_pt_map(&pt, 0x5000, 0x124000, EPT_R | EPT_W, false), 0);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x5000, NULL) & EPT_ADDR_MASK, 0x124000);
	/* PML4 + PDPT + PD + PT */
	ck_assert_int_eq(live_tables, 4);
	/* the leaf, then PT, PD and PDPT, now empty, are unlinked */
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x5000, 0x6000), 4);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x5000, NULL), 0);
	ck_assert_int_eq(nr_retired, 3);
	/* not freed before the caller's flush: a CPU may cache them */
	ck_assert_int_eq(live_tables, 4);
	ck_assert_int_eq(flush_retired(), 3);
	ck_assert_int_eq(live_tables, 1);
	ck_assert_uint_eq(pt.root[0], 0);
	ept_pt_destroy(&pt);
	ck_assert_int_eq(live_tables, 0);
}
END_TEST

START_TEST(test_high_addresses_and_bounds)
{
	struct ept_pt pt;
	u64 top = (1ull << 39) - 0x1000;

	ck_assert_int_eq(ept_pt_init(&pt, &ops, 39), 0);
	ck_assert_int_eq(ept_pt_map(&pt, top, 0x7000, EPT_RWX, false), 0);
	ck_assert_uint_eq(ept_pt_lookup(&pt, top, NULL) & EPT_ADDR_MASK, 0x7000);
	ck_assert_int_eq(ept_pt_map(&pt, 1ull << 39, 0x7000, EPT_R, false), -EINVAL);
	ck_assert_int_eq(ept_pt_map(&pt, 0x1001, 0x7000, EPT_R, false), -EINVAL);
	ck_assert_int_eq(ept_pt_map(&pt, 0x1000, 0x7001, EPT_R, false), -EINVAL);
	ck_assert_int_eq(ept_pt_map(&pt, 0x1000, 1ull << 52, EPT_R, false), -EINVAL);
	ck_assert_int_eq(ept_pt_map(&pt, 0x1000, 0x7000, 0, false), -EINVAL);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 1ull << 39, NULL), 0);
	ept_pt_destroy(&pt);
	ck_assert_int_eq(live_tables, 0);
}
END_TEST

START_TEST(test_large_pages)
{
	struct ept_pt pt;
	bool large = false;

	ck_assert_int_eq(ept_pt_init(&pt, &ops, 40), 0);
	ck_assert_int_eq(ept_pt_map(&pt, 0x200000, 0x400000, EPT_RWX, true), 0);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x3fffff, &large) & EPT_ADDR_MASK, 0x400000);
	ck_assert(large);
	ck_assert_int_eq(ept_pt_map(&pt, 0x201000, 0x400000, EPT_RWX, true), -EINVAL);
	/* a 4 KiB mapping inside splits nothing: the 2 MiB one goes away */
	ck_assert_int_eq(ept_pt_map(&pt, 0x201000, 0x9000, EPT_R, false), 0);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x200000, NULL), 0);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x201000, &large) & EPT_ADDR_MASK, 0x9000);
	ck_assert(!large);
	/* a 2 MiB mapping over a page table is refused (no flush here) */
	ck_assert_int_eq(live_tables, 4);
	ck_assert_int_eq(ept_pt_map(&pt, 0x200000, 0x400000, EPT_RWX, true), -EEXIST);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x201000, NULL) & EPT_ADDR_MASK, 0x9000);
	ck_assert_int_eq(ept_pt_map(&pt, 0x600000, 0x400000, EPT_RWX, true), 0);
	/* the leaf and its emptied page table go; the PD still holds 0x600000 */
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x201000, 0x202000), 2);
	ck_assert_int_eq(flush_retired(), 1);
	ck_assert_int_eq(live_tables, 3);
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x600000, 0x800000), 3);
	ck_assert_int_eq(flush_retired(), 2);
	ck_assert_int_eq(live_tables, 1);
	/* with the page table gone, a 2 MiB mapping fits again */
	ck_assert_int_eq(ept_pt_map(&pt, 0x200000, 0x400000, EPT_RWX, true), 0);
	ck_assert_int_eq(ept_pt_map(&pt, 0x400000, 0x400000, EPT_RWX, true), 0);
	/* zapping one byte of a large page drops all of it */
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x5ff000, 0x600000), 1);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x400000, NULL), 0);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x200000, NULL) & EPT_ADDR_MASK, 0x400000);
	ck_assert_int_eq(nr_retired, 0);
	ept_pt_destroy(&pt);
	ck_assert_int_eq(live_tables, 0);
}
END_TEST

START_TEST(test_zap_range_counts)
{
	struct ept_pt pt;
	u64 gpa;

	ck_assert_int_eq(ept_pt_init(&pt, &ops, 40), 0);
	/* 600 pages across a page-table boundary */
	for (gpa = 0x100000; gpa < 0x100000 + 600 * 0x1000; gpa += 0x1000)
		ck_assert_int_eq(ept_pt_map(&pt, gpa, gpa, EPT_R, false), 0);
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x101000, 0x103000), 2);
	ck_assert_int_eq(nr_retired, 0);
	/* 598 leaves, two page tables, the PD and the PDPT */
	ck_assert_uint_eq(ept_pt_zap(&pt, 0, 1ull << 40), 602);
	ck_assert_int_eq(flush_retired(), 4);
	ck_assert_uint_eq(ept_pt_zap(&pt, 0, 1ull << 40), 0);
	ck_assert_uint_eq(ept_pt_zap(&pt, 5, 5), 0);
	ck_assert_int_eq(live_tables, 1);
	ept_pt_destroy(&pt);
	ck_assert_int_eq(live_tables, 0);
}
END_TEST

/*
 * munmap of many 2 MiB regions, one page touched in each: every table is
 * given back, the last zap of a region frees its page table, and tables
 * that still map something stay.
 */
START_TEST(test_zap_frees_tables)
{
	struct ept_pt pt;
	u64 gpa;

	ck_assert_int_eq(ept_pt_init(&pt, &ops, 40), 0);
	for (gpa = 1ull << 30; gpa < (1ull << 30) + 16 * EPT_2M; gpa += EPT_2M)
		ck_assert_int_eq(ept_pt_map(&pt, gpa + 0x3000, 0x9000, EPT_R, false), 0);
	ck_assert_int_eq(ept_pt_map(&pt, 0x7000, 0x9000, EPT_R, false), 0);
	/* root, PDPT, PD and 16 PTs; PD and PT for 0x7000 */
	ck_assert_int_eq(live_tables, 21);
	/* a zap that leaves something in a table keeps it */
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x6000, 0x7000), 0);
	ck_assert_uint_eq(ept_pt_zap(&pt, (1ull << 30) + 0x4000, (1ull << 30) + EPT_2M), 0);
	ck_assert_int_eq(nr_retired, 0);
	/* the 1 GiB region: 16 leaves, 16 PTs and its PD; the PDPT stays */
	ck_assert_uint_eq(ept_pt_zap(&pt, 1ull << 30, 2ull << 30), 33);
	ck_assert_int_eq(flush_retired(), 17);
	ck_assert_int_eq(live_tables, 4);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x7000, NULL) & EPT_ADDR_MASK, 0x9000);
	/* a table left empty by a failed map goes on the next zap over it */
	fail_alloc_after = 1;
	ck_assert_int_eq(ept_pt_map(&pt, 5ull << 30, 0x9000, EPT_R, false), -ENOMEM);
	fail_alloc_after = -1;
	ck_assert_int_eq(live_tables, 5);
	ck_assert_uint_eq(ept_pt_zap(&pt, 5ull << 30, (5ull << 30) + 0x1000), 1);
	ck_assert_int_eq(flush_retired(), 1);
	ck_assert_uint_eq(ept_pt_zap(&pt, 0, 1ull << 40), 4);
	ck_assert_int_eq(flush_retired(), 3);
	ck_assert_int_eq(live_tables, 1);
	ept_pt_destroy(&pt);
	ck_assert_int_eq(live_tables, 0);
}
END_TEST

/* The 2 MiB EPT entry decision, slot side. */
START_TEST(test_slot_2m)
{
	struct dune_slot slots[DUNE_MAX_SLOTS] = {
		/* 4 MiB, aligned alike in both spaces */
		{ .index = 0, .gpa = 0x40000000, .hva = 0x7f0000000000, .size = 0x400000 },
		/* the first MiB of a 2 MiB page; slot 2 has the rest */
		{ .index = 1, .gpa = 0x80000000, .hva = 0x7f1000000000, .size = 0x100000 },
		{ .index = 2, .gpa = 0x80100000, .hva = 0x7f2000000000, .size = 0x100000 },
		/* 2 MiB aligned in guest-physical space only */
		{ .index = 3, .gpa = 0xc0000000, .hva = 0x7f3000001000, .size = 0x400000 },
		/* an alias of slot 0's memory at another address */
		{ .index = 4, .gpa = 0x100000000, .hva = 0x7f0000000000, .size = 0x200000 },
	};
	u64 hva = 0;

	ck_assert(ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0x40000000, &hva));
	ck_assert_uint_eq(hva, 0x7f0000000000);
	ck_assert(ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0x403ff123, &hva));
	ck_assert_uint_eq(hva, 0x7f0000200000);
	ck_assert(ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0x100000000, &hva));
	ck_assert_uint_eq(hva, 0x7f0000000000);
	/* the reported bug: slot 1's THP must not cover slot 2's pages */
	ck_assert(!ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0x80000000, &hva));
	ck_assert(!ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0x80100000, &hva));
	ck_assert(!ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0xc0000000, &hva));
	ck_assert(!ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0xc0200000, &hva));
	/* no slot at all */
	ck_assert(!ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0x40400000, &hva));
	ck_assert(!ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0, &hva));
	/* a slot that starts or ends inside the 2 MiB page */
	slots[0].gpa = 0x40001000;
	slots[0].hva = 0x7f0000001000;
	ck_assert(!ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0x40001000, &hva));
	ck_assert(ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0x40200000, &hva));
	ck_assert(!ept_pt_slot_2m(slots, DUNE_MAX_SLOTS, 0x40400000, &hva));
	ck_assert(!ept_pt_slot_2m(slots, 0, 0x40200000, &hva));
}
END_TEST

/* The 2 MiB EPT entry decision, host side. */
START_TEST(test_host_2m)
{
	/* the page at the matching offset of an aligned leaf */
	ck_assert(ept_pt_host_2m(0x40005123, 0x12405000, 0x12400000, false, false));
	ck_assert(ept_pt_host_2m(0x40000000, 0x12400000, 0x12400000, true, true));
	/* a write needs a writable leaf */
	ck_assert(!ept_pt_host_2m(0x40005000, 0x12405000, 0x12400000, false, true));
	/* the page is not where the leaf would put it: not one range */
	ck_assert(!ept_pt_host_2m(0x40005000, 0x12406000, 0x12400000, true, false));
	ck_assert(!ept_pt_host_2m(0x40005000, 0x55505000, 0x12400000, true, false));
	/* a misaligned leaf */
	ck_assert(!ept_pt_host_2m(0x40005000, 0x12406000, 0x12401000, true, false));
}
END_TEST

START_TEST(test_out_of_memory)
{
	struct ept_pt pt;

	ck_assert_int_eq(ept_pt_init(&pt, &ops, 40), 0);
	fail_alloc_after = 1;
	ck_assert_int_eq(ept_pt_map(&pt, 0x5000, 0x5000, EPT_R, false), -ENOMEM);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x5000, NULL), 0);
	fail_alloc_after = -1;
	ck_assert_int_eq(ept_pt_map(&pt, 0x5000, 0x5000, EPT_R, false), 0);
	ept_pt_destroy(&pt);
	ck_assert_int_eq(live_tables, 0);
}
END_TEST

START_TEST(test_eptp)
{
	struct ept_pt pt;

	ck_assert_int_eq(ept_pt_init(&pt, &ops, 40), 0);
	ck_assert_uint_eq(ept_pt_eptp(&pt, false), pt.root_pa | 0x1e);
	ck_assert_uint_eq(ept_pt_eptp(&pt, true), pt.root_pa | 0x5e);
	ept_pt_destroy(&pt);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ept_pt");
	TCase *tc = tcase_create("tables");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_map_lookup_zap);
	tcase_add_test(tc, test_high_addresses_and_bounds);
	tcase_add_test(tc, test_large_pages);
	tcase_add_test(tc, test_zap_range_counts);
	tcase_add_test(tc, test_zap_frees_tables);
	tcase_add_test(tc, test_slot_2m);
	tcase_add_test(tc, test_host_2m);
	tcase_add_test(tc, test_out_of_memory);
	tcase_add_test(tc, test_eptp);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
