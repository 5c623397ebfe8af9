// SPDX-License-Identifier: MIT
/*
 * Unit tests for libdune/page.c: the free list, reference counts and
 * index math on a small pool in heap memory, then the real pool (one
 * mmap'ed range) under an identity layout, from several threads.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../libdune/fmt.c"
#include "../../libdune/layout.c"
#include "../../libdune/page.c"

struct dune_proc dune_proc;

#define NP 8

static struct dune_pool small(struct page *meta, char *mem)
{
	struct dune_pool p = { .base = mem, .pages = meta, .nr = NP,
			       .base_pa = 0x40000000 };

	memset(meta, 0, NP * sizeof(*meta));
	return p;
}

START_TEST(test_take_give)
{
	struct page meta[NP], *a, *b, *c;
	struct dune_pool p = small(meta, NULL);
	bool dirty = true;
	unsigned int i;

	a = pool_take(&p, &dirty);
	ck_assert_ptr_eq(a, &meta[0]);
	ck_assert(!dirty);
	ck_assert_uint_eq(a->ref, 1);
	b = pool_take(&p, &dirty);
	ck_assert_ptr_eq(b, &meta[1]);
	ck_assert_uint_eq(p.used, 2);
	/* given back pages come first, most recent first, and are dirty */
	pool_give(&p, a);
	pool_give(&p, b);
	ck_assert_uint_eq(p.used, 0);
	ck_assert_uint_eq(b->ref, 0);
	c = pool_take(&p, &dirty);
	ck_assert_ptr_eq(c, b);
	ck_assert(dirty);
	ck_assert_ptr_null(c->next);
	ck_assert_ptr_eq(pool_take(&p, &dirty), a);
	/* then the fresh ones, until none is left */
	for (i = 2; i < NP; i++) {
		ck_assert_ptr_eq(pool_take(&p, &dirty), &meta[i]);
		ck_assert(!dirty);
	}
	ck_assert_ptr_null(pool_take(&p, &dirty));
	ck_assert_uint_eq(p.used, NP);
}
END_TEST

START_TEST(test_index_math)
{
	struct page meta[NP];
	struct dune_pool p = small(meta, NULL);

	ck_assert_ptr_eq(pool_pa2page(&p, 0x40000000), &meta[0]);
	ck_assert_ptr_eq(pool_pa2page(&p, 0x40003fff), &meta[3]);
	ck_assert_ptr_eq(pool_pa2page(&p, 0x40007000), &meta[7]);
	ck_assert_ptr_null(pool_pa2page(&p, 0x40008000));
	ck_assert_ptr_null(pool_pa2page(&p, 0x3ffff000));
	ck_assert_uint_eq(pool_index(&p, &meta[5]), 5);
	p.nr = 0;
	ck_assert_ptr_null(pool_pa2page(&p, 0x40000000));
}
END_TEST

static void identity_layout(void)
{
	memset(&dune_proc, 0, sizeof(dune_proc));
	dune_proc.layout.maxphyaddr = 48;
	dune_proc.layout.nr = 1;
	dune_proc.layout.w[0] = (struct dune_window){ 0, 0, DUNE_USER_TOP };
	dune_proc.layout.gpa_end = 1ull << 47;
}

START_TEST(test_real_pool)
{
	struct dune_page_stats st;
	struct page *pg, *pg2;
	char *va;

	identity_layout();
	ck_assert_int_eq(dune_page_init(), 0);
	ck_assert_int_eq(dune_page_init_pa(), 0);
	dune_page_get_stats(&st);
	ck_assert_uint_eq(st.used, 0);
	ck_assert_uint_ge(st.total, DUNE_POOL_MIN / 4096);

	pg = dune_page_alloc();
	ck_assert_ptr_nonnull(pg);
	va = dune_page2va(pg);
	ck_assert_uint_eq((uint64_t)va % 4096, 0);
	ck_assert_uint_eq(dune_page2pa(pg), (uint64_t)va);	/* identity */
	/* the original's pool: at PAGEBASE, pages[] indexed by PPN */
	ck_assert_uint_ge((uint64_t)va, PAGEBASE);
	ck_assert_ptr_eq(pg, &pages[PPN(dune_page2pa(pg) - PAGEBASE)]);
	ck_assert_int_eq(num_pages, pool.nr);
	ck_assert_ptr_eq(dune_pa2page(dune_page2pa(pg) + 123), pg);
	ck_assert(dune_page_isfrompool(dune_page2pa(pg)));
	ck_assert(!dune_page_isfrompool((uint64_t)&st));
	ck_assert_ptr_null(dune_pa2page((uint64_t)&st));
	ck_assert_uint_eq(va[0] | va[4095], 0);
	memset(va, 0xaa, 4096);

	/* references: the last put frees; the page comes back zeroed */
	ck_assert_ptr_eq(dune_page_get(pg), pg);
	ck_assert_uint_eq(pg->ref, 2);
	dune_page_put(pg);
	dune_page_get_stats(&st);
	ck_assert_uint_eq(st.used, 1);
	dune_page_put(pg);
	dune_page_get_stats(&st);
	ck_assert_uint_eq(st.used, 0);
	pg2 = dune_page_alloc();
	ck_assert_ptr_eq(pg2, pg);
	ck_assert_uint_eq(va[0] | va[2048] | va[4095], 0);
	/* dune_page_free ignores references */
	dune_page_get(pg2);
	dune_page_free(pg2);
	dune_page_get_stats(&st);
	ck_assert_uint_eq(st.used, 0);
	ck_assert_uint_eq(pg2->ref, 0);
}
END_TEST

START_TEST(test_outside_windows)
{
	identity_layout();
	ck_assert_int_eq(dune_page_init(), 0);
	/* a window that misses the pool */
	dune_proc.layout.w[0].size = 1ull << 30;
	errno = 0;
	ck_assert_int_eq(dune_page_init_pa(), -1);
	ck_assert_int_eq(errno, ENOMEM);
}
END_TEST

#define NTHREADS 4
#define ROUNDS 20000

static void *churn(void *arg)
{
	struct page *held[16];
	unsigned int i, k;

	for (i = 0; i < ROUNDS; i++) {
		k = i % 16;
		if (i >= 16)
			dune_page_put(held[k]);
		held[k] = dune_page_alloc();
		if (!held[k])
			return (void *)1;
		/* a page is ours alone: mark it, check nobody else did */
		*(unsigned long *)dune_page2va(held[k]) = (unsigned long)arg;
	}
	for (k = 0; k < 16; k++) {
		if (*(unsigned long *)dune_page2va(held[k]) !=
		    (unsigned long)arg)
			return (void *)2;
		dune_page_put(held[k]);
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t t[NTHREADS];
	struct dune_page_stats st;
	void *ret;
	unsigned long i;

	identity_layout();
	ck_assert_int_eq(dune_page_init(), 0);
	ck_assert_int_eq(dune_page_init_pa(), 0);
	for (i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn,
						(void *)(i + 1)), 0);
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &ret), 0);
		ck_assert_ptr_null(ret);
	}
	dune_page_get_stats(&st);
	ck_assert_uint_eq(st.used, 0);
	/* at most the pages ever held at once were used */
	ck_assert_uint_le(pool.fresh, NTHREADS * 17);
}
END_TEST

static Suite *page_suite(void)
{
	Suite *s = suite_create("page");
	TCase *tc = tcase_create("pool");

	tcase_add_test(tc, test_take_give);
	tcase_add_test(tc, test_index_math);
	tcase_add_test(tc, test_real_pool);
	tcase_add_test(tc, test_outside_windows);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(page_suite());
}
