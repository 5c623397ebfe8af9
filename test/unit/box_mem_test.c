// SPDX-License-Identifier: MIT
/*
 * box/mem.c on the host: the set of ranges the sandbox owns, and that
 * every change reaches the sandbox's page-table root (the libdune calls
 * are stubbed here and record what they were asked).
 */
#include "unit.h"

#include "../../box/mem.c"

/* ---- libdune stubs: one root, a log of mprotect calls ---- */
ptent_t *pgroot;
static ptent_t fake_root[512];
static int clones, frees;
static struct {
	uint64_t va, len;
	int perm;
} calls[64];
static int ncalls;

ptent_t *dune_vm_clone(ptent_t *root)
{
	clones++;
	return fake_root;
}

void dune_vm_free(ptent_t *root)
{
	frees++;
}

int dune_vm_mprotect(ptent_t *root, void *va, size_t len, int perm)
{
	ck_assert_ptr_eq(root, fake_root);
	ck_assert_int_lt(ncalls, 64);
	calls[ncalls].va = (uint64_t)va;
	calls[ncalls].len = len;
	calls[ncalls++].perm = perm;
	return 0;
}

/* The clone's "leaves": fake_root's nonzero entries, before mprotect. */
static int walks;

int dune_vm_page_walk(ptent_t *root, void *start_va, void *end_va,
		      page_walk_cb cb, const void *arg)
{
	unsigned int i;

	ck_assert_ptr_eq(root, fake_root);
	ck_assert_int_eq(ncalls, 0);	/* before the owned ranges open */
	walks++;
	for (i = 0; i < 512; i++)
		if (fake_root[i])
			cb(arg, &fake_root[i], (void *)(i * 4096ul));
	return 0;
}

#define RW (PROT_READ | PROT_WRITE)
#define RX (PROT_READ | PROT_EXEC)

static void check_ranges(struct box_mem *m, const uint64_t (*want)[3],
			 unsigned int n)
{
	unsigned int i;
	uint64_t lo, hi;
	int prot;

	ck_assert_uint_eq(box_mem_count(m), n);
	for (i = 0; i < n; i++) {
		box_mem_range(m, i, &lo, &hi, &prot);
		ck_assert_uint_eq(lo, want[i][0]);
		ck_assert_uint_eq(hi, want[i][1]);
		ck_assert_int_eq(prot, (int)want[i][2]);
	}
}

START_TEST(add_split_merge)
{
	struct box_mem *m = box_mem_new();

	ck_assert_int_eq(box_mem_add(m, 0x10000, 0x20000, RW), 0);
	ck_assert_int_eq(box_mem_add(m, 0x30000, 0x40000, RX), 0);
	/* touching, same prot: merged */
	ck_assert_int_eq(box_mem_add(m, 0x20000, 0x21000, RW), 0);
	{
		static const uint64_t w[][3] = { { 0x10000, 0x21000, RW },
						 { 0x30000, 0x40000, RX } };
		check_ranges(m, w, 2);
	}
	/* a hole punched in the middle: split in three */
	ck_assert_int_eq(box_mem_add(m, 0x12000, 0x13000, PROT_NONE), 0);
	{
		static const uint64_t w[][3] = { { 0x10000, 0x12000, RW },
						 { 0x12000, 0x13000, 0 },
						 { 0x13000, 0x21000, RW },
						 { 0x30000, 0x40000, RX } };
		check_ranges(m, w, 4);
	}
	/* one range over several, unaligned ends rounded out */
	ck_assert_int_eq(box_mem_add(m, 0x11800, 0x30001, PROT_READ), 0);
	{
		static const uint64_t w[][3] = { { 0x10000, 0x11000, RW },
						 { 0x11000, 0x31000, PROT_READ },
						 { 0x31000, 0x40000, RX } };
		check_ranges(m, w, 3);
	}
	/* the same prot again over all: one range */
	ck_assert_int_eq(box_mem_add(m, 0x10000, 0x40000, RW), 0);
	{
		static const uint64_t w[][3] = { { 0x10000, 0x40000, RW } };
		check_ranges(m, w, 1);
	}
	box_mem_free(m);
}
END_TEST

START_TEST(add_rejects)
{
	struct box_mem *m = box_mem_new();

	ck_assert_int_eq(box_mem_add(m, 0x10000, 0x10000, RW), -EINVAL);
	ck_assert_int_eq(box_mem_add(m, 0x20000, 0x10000, RW), -EINVAL);
	ck_assert_int_eq(box_mem_add(m, 0x7ffffffff000ull,
				     0x800000000000ull, RW), -EINVAL);
	ck_assert_int_eq(box_mem_add(m, 0xffff800000000000ull,
				     0xffff800000001000ull, RW), -EINVAL);
	ck_assert_uint_eq(box_mem_count(m), 0);
	box_mem_free(m);
}
END_TEST

START_TEST(owns)
{
	struct box_mem *m = box_mem_new();

	box_mem_add(m, 0x10000, 0x20000, RW);
	box_mem_add(m, 0x20000, 0x30000, PROT_READ);
	box_mem_add(m, 0x30000, 0x31000, PROT_NONE);
	box_mem_add(m, 0x40000, 0x50000, RW);

	ck_assert(box_mem_owns(m, 0x10000, 0x10000, RW));
	/* across two ranges: the weaker prot counts */
	ck_assert(box_mem_owns(m, 0x1f000, 0x2000, PROT_READ));
	ck_assert(!box_mem_owns(m, 0x1f000, 0x2000, PROT_WRITE));
	/* last byte of a range, first byte after it */
	ck_assert(box_mem_owns(m, 0x2ffff, 1, PROT_READ));
	ck_assert(!box_mem_owns(m, 0x2ffff, 2, PROT_READ));
	/* a PROT_NONE reservation is owned but never accessible */
	ck_assert(box_mem_owns(m, 0x30000, 0x1000, 0));
	ck_assert(!box_mem_owns(m, 0x30000, 1, PROT_READ));
	/* the gap between ranges */
	ck_assert(!box_mem_owns(m, 0x31000, 1, 0));
	ck_assert(!box_mem_owns(m, 0x3f000, 0x2000, 0));
	ck_assert(!box_mem_owns(m, 0x8000, 0x9000, 0));
	/* wrap-around and the kernel half */
	ck_assert(!box_mem_owns(m, 0x10000, ~0ull, 0));
	ck_assert(!box_mem_owns(m, ~0ull - 10, 20, 0));
	/* nothing to touch: fine anywhere, as natively */
	ck_assert(box_mem_owns(m, 0xdead0000, 0, RW));

	ck_assert(box_mem_any(m, 0x0, 0x10001));
	ck_assert(!box_mem_any(m, 0x0, 0x10000));
	ck_assert(!box_mem_any(m, 0x31000, 0x40000));
	ck_assert(box_mem_any(m, 0x31000, 0x40001));
	ck_assert_int_eq(box_mem_prot_at(m, 0x20fff), PROT_READ);
	ck_assert_int_eq(box_mem_prot_at(m, 0x30000), PROT_NONE);
	ck_assert_int_eq(box_mem_prot_at(m, 0x31000), -1);
	box_mem_free(m);
}
END_TEST

START_TEST(root_reflects)
{
	struct box_mem *m = box_mem_new();

	ncalls = clones = frees = 0;
	box_mem_add(m, 0x10000, 0x20000, RW);
	box_mem_add(m, 0x30000, 0x31000, RX);
	ck_assert_int_eq(ncalls, 0);	/* no root yet */
	/* a user-accessible pgroot (dune_init(true)): the clone is not */
	fake_root[3] = PTE_P | PTE_W | PTE_U;
	fake_root[9] = PTE_P | PTE_U | PTE_PS;
	ck_assert_int_eq(box_mem_build_root(m), 0);
	ck_assert_int_eq(walks, 1);
	ck_assert_uint_eq(fake_root[3], PTE_P | PTE_W);
	ck_assert_uint_eq(fake_root[9], PTE_P | PTE_PS);
	ck_assert_ptr_eq(box_mem_root(m), fake_root);
	ck_assert_int_eq(clones, 1);
	ck_assert_int_eq(ncalls, 2);
	ck_assert_uint_eq(calls[0].va, 0x10000);
	ck_assert_uint_eq(calls[0].len, 0x10000);
	ck_assert_int_eq(calls[0].perm, PERM_R | PERM_W | PERM_U);
	ck_assert_uint_eq(calls[1].va, 0x30000);
	ck_assert_int_eq(calls[1].perm, PERM_R | PERM_X | PERM_U);
	/* later changes reach the root: munmap's reservation, not present */
	box_mem_add(m, 0x11000, 0x12000, PROT_NONE);
	ck_assert_int_eq(ncalls, 3);
	ck_assert_uint_eq(calls[2].va, 0x11000);
	ck_assert_uint_eq(calls[2].len, 0x1000);
	ck_assert_int_eq(calls[2].perm, PERM_NONE);
	box_mem_add(m, 0x50000, 0x51000, PROT_READ);
	ck_assert_int_eq(calls[3].perm, PERM_R | PERM_U);
	box_mem_free(m);
	ck_assert_int_eq(frees, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("box_mem");
	TCase *tc = tcase_create("mem");

	tcase_add_test(tc, add_split_merge);
	tcase_add_test(tc, add_rejects);
	tcase_add_test(tc, owns);
	tcase_add_test(tc, root_reflects);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
