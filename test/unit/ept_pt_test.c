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

static const struct ept_pt_ops ops = { t_alloc, t_free, t_pa_to_table, NULL };

static void setup(void)
{
	live_tables = 0;
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
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x5000, 0x6000), 1);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x5000, NULL), 0);
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
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x201000, 0x202000), 1);
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x600000, 0x800000), 1);
	ck_assert_int_eq(ept_pt_map(&pt, 0x200000, 0x400000, EPT_RWX, true), -EEXIST);
	ck_assert_int_eq(ept_pt_map(&pt, 0x400000, 0x400000, EPT_RWX, true), 0);
	/* zapping one byte of a large page drops all of it */
	ck_assert_uint_eq(ept_pt_zap(&pt, 0x5ff000, 0x600000), 1);
	ck_assert_uint_eq(ept_pt_lookup(&pt, 0x400000, NULL), 0);
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
	ck_assert_uint_eq(ept_pt_zap(&pt, 0, 1ull << 40), 598);
	ck_assert_uint_eq(ept_pt_zap(&pt, 0, 1ull << 40), 0);
	ck_assert_uint_eq(ept_pt_zap(&pt, 5, 5), 0);
	ept_pt_destroy(&pt);
	ck_assert_int_eq(live_tables, 0);
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
	tcase_add_test(tc, test_out_of_memory);
	tcase_add_test(tc, test_eptp);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
