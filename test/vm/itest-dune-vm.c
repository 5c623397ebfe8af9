// SPDX-License-Identifier: MIT
/*
 * Integration tests for libdune's page tables and page pool (dune_vm_*,
 * dune_page_*) on the real tables, in Dune mode.  Each test runs in its
 * own child.  Page faults the program handles must not cause VM exits:
 * the fault loops check the exit counter (dune_get_stats, whose second
 * call is one exit of its own).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>

#include "itest.h"
#include "dune.h"
#include "internal.h"

#define PG 4096ul
#define MIB2 (2ul << 20)
#define GIB1 (1ul << 30)

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
	IT_ASSERT(dune_active());
}

/* @len bytes of fresh memory aligned to @align, every page touched. */
static char *buffer(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	IT_ASSERT(p != MAP_FAILED);
	p = (char *)(((uintptr_t)p + align - 1) & ~(align - 1));
	for (size_t i = 0; i < len; i += PG)
		p[i] = 1;
	return p;
}

static uint64_t gpa(const void *va)
{
	return dune_layout_va_to_pa(dune_get_layout(), (uint64_t)va);
}

/* A 1 GiB aligned range of @size outside every window, unmapped. */
static char *free_va(size_t size)
{
	const struct dune_layout *l = dune_get_layout();
	ptent_t *pte;

	for (uint64_t va = 0x100000000000ull; va < 0x7f0000000000ull;
	     va += GIB1) {
		if (dune_layout_va_to_pa(l, va) != DUNE_BAD_ADDR ||
		    dune_layout_va_to_pa(l, va + size - 1) != DUNE_BAD_ADDR ||
		    dune_vm_lookup(pgroot, (void *)va, 0, &pte) != -ENOENT)
			continue;
		return (char *)va;
	}
	IT_FAIL("no address range outside the windows (identity layout?)");
}

static void snap(struct dune_stats *s)
{
	IT_ASSERT_EQ(dune_get_stats(s), 0);
}

/*
 * Write both snapshots from the guest first: a stack page the test child
 * still shares with its parent is copied on its first write, and if the
 * module's DUNE_GET_STATS made that write, the next guest access to the
 * page would be an EPT violation inside the measured loop.
 */
static void begin_count(struct dune_stats *a, struct dune_stats *b)
{
	memset(b, 0, sizeof(*b));
	memset(a, 0, sizeof(*a));
	snap(a);
}

/*
 * No VM exit between two snapshots but the second snapshot's own VMCALL
 * and the host's interrupts (asynchronous: a timer tick may fall into
 * any loop, they are not caused by the code under test).
 */
static void expect_no_exits(const struct dune_stats *a,
			    const struct dune_stats *b)
{
	for (int r = 0; r < DUNE_NR_EXIT_REASONS; r++) {
		uint64_t d = b->by_reason[r] - a->by_reason[r];

		if (r == 18)	/* VMCALL */
			d--;
		if (r == 1)	/* external interrupt */
			continue;
		if (d)
			IT_FAIL("%llu VM exit(s) with basic reason %d",
				(unsigned long long)d, r);
	}
}

/* ---- basic API ---- */

static void test_lookup_map_phys(void)
{
	char *buf, *alias;
	struct page *pg;
	ptent_t *pte;

	enter();
	buf = buffer(PG, PG);
	/* pgroot maps the process's memory with 4 KiB leaves */
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, buf, 0, &pte), 0);
	IT_ASSERT(!(*pte & PTE_PS));
	IT_ASSERT(*pte & PTE_P);
	IT_ASSERT_EQ(PTE_ADDR(*pte), gpa(buf));
	IT_ASSERT(dune_vm_current() == pgroot);
	/* a pool page at an address of our choosing */
	alias = free_va(GIB1);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, alias, 0, &pte), -ENOENT);
	pg = dune_page_alloc();
	IT_ASSERT(pg);
	IT_ASSERT(dune_page_isfrompool(dune_page2pa(pg)));
	IT_ASSERT(dune_pa2page(dune_page2pa(pg)) == pg);
	IT_ASSERT_EQ(gpa(dune_page2va(pg)), dune_page2pa(pg));
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, alias, PG,
				      (void *)dune_page2pa(pg),
				      PERM_R | PERM_W), 0);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, alias, 0, &pte), 0);
	IT_ASSERT_EQ(PTE_ADDR_OF(*pte), dune_page2pa(pg));
	IT_ASSERT(*pte & PTE_POOL);
	strcpy(alias + 100, "through the alias");
	IT_ASSERT(!strcmp((char *)dune_page2va(pg) + 100, "through the alias"));
	/* lookup with create makes the tables for a 4 KiB entry */
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, alias + GIB1 / 2, 1, &pte), 0);
	IT_ASSERT_EQ(*pte, 0);
	/* unmap puts the page: the mapping owned our reference */
	IT_ASSERT_EQ(pg->ref, 1);
	IT_ASSERT_EQ(dune_vm_unmap_range(pgroot, alias, PG), 0);
	IT_ASSERT_EQ(pg->ref, 0);
	/* the emptied slot of an existing table is still found */
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, alias, 0, &pte), 0);
	IT_ASSERT_EQ(*pte, 0);
}

static int count_cb(const void *arg, ptent_t *pte, void *va)
{
	(*(int *)arg)++;
	return 0;
}

static void test_map_pages_walk(void)
{
	char *buf, *alias;
	ptent_t *pte;
	int n = 0;

	enter();
	buf = buffer(8 * PG, PG);
	/* remap our own memory with 4 KiB pages: unmap, then map_pages */
	IT_ASSERT_EQ(dune_vm_unmap_range(pgroot, buf, 8 * PG), 0);
	IT_ASSERT_EQ(dune_vm_page_walk(pgroot, buf, buf + 8 * PG - 1, count_cb,
				       &n), 0);
	IT_ASSERT_EQ(n, 0);
	IT_ASSERT_EQ(dune_vm_map_mem(pgroot, buf, 8 * PG, PERM_R | PERM_W),
		     0);
	IT_ASSERT_EQ(dune_vm_page_walk(pgroot, buf, buf + 8 * PG - 1, count_cb,
				       &n), 0);
	IT_ASSERT_EQ(n, 8);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, buf + PG, 0, &pte), 0);
	IT_ASSERT(!(*pte & PTE_PS));
	IT_ASSERT(!(*pte & PTE_POOL));
	IT_ASSERT_EQ(PTE_ADDR_OF(*pte), gpa(buf + PG));
	buf[5 * PG] = 7;
	IT_ASSERT_EQ(buf[5 * PG], 7);
	/* the same memory at a second address */
	alias = free_va(GIB1);
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, alias, 8 * PG, (void *)gpa(buf),
				      PERM_R), 0);
	IT_ASSERT_EQ(alias[5 * PG], 7);
	buf[5 * PG] = 8;
	IT_ASSERT_EQ(alias[5 * PG], 8);
}

/* ---- Appel & Li ---- */

static volatile int faults;
static volatile char *prot_base;
static size_t prot_len;

/* Unprotect the faulting page and retry. */
static void unprot_handler(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	faults++;
	if (addr < (uintptr_t)prot_base ||
	    addr >= (uintptr_t)prot_base + prot_len ||
	    dune_vm_mprotect(pgroot, (void *)(addr & ~(PG - 1)), PG,
			     PERM_R | PERM_W))
		dune_dump_trap_frame(tf), _exit(60);
}

static void test_prot1(void)
{
	struct dune_stats e0, e1;
	int i;

	enter();
	prot_base = buffer(PG, PG);
	prot_len = PG;
	dune_register_pgflt_handler(unprot_handler);
	/* the first mprotect splits pgroot's large page (pool pages) */
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)prot_base, PG, PERM_R),
		     0);
	/* the first fault also touches the trap stack and handler code */
	prot_base[0] = 1;
	IT_ASSERT_EQ(faults, 1);
	begin_count(&e0, &e1);
	for (i = 0; i < 100; i++) {
		IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)prot_base, PG,
					      PERM_R), 0);
		prot_base[i] = (char)i;
	}
	snap(&e1);
	IT_ASSERT_EQ(faults, 101);
	for (i = 0; i < 100; i++)
		IT_ASSERT_EQ(prot_base[i], (char)i);
	expect_no_exits(&e0, &e1);
}

static void test_protN(void)
{
	const int n = 64;
	struct dune_stats e0, e1;
	int i;

	enter();
	prot_base = buffer(n * PG, PG);
	prot_len = n * PG;
	dune_register_pgflt_handler(unprot_handler);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)prot_base, n * PG,
				      PERM_R), 0);
	for (i = 0; i < n; i++)	/* reads do not fault */
		IT_ASSERT_EQ(prot_base[i * PG], 1);
	IT_ASSERT_EQ(faults, 0);
	/* a first fault outside the count: trap stack and code get mapped */
	prot_base[(n - 1) * PG] = 3;
	IT_ASSERT_EQ(faults, 1);
	faults = 0;
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)prot_base, n * PG,
				      PERM_R), 0);
	begin_count(&e0, &e1);
	for (i = 0; i < n; i++)
		prot_base[i * PG + i] = (char)(i + 10);
	snap(&e1);
	IT_ASSERT_EQ(faults, n);
	expect_no_exits(&e0, &e1);
	for (i = 0; i < n; i++) {
		IT_ASSERT_EQ(prot_base[i * PG + i], (char)(i + 10));
		prot_base[i * PG] = 2;	/* no more faults */
	}
	IT_ASSERT_EQ(faults, n);
}

/* Appel & Li "trap": the handler only counts and lets the access through. */
static void count_handler(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	faults++;
	if (fec & FEC_P)	/* a PERM_NONE page reads as not present */
		_exit(61);
	dune_vm_mprotect(pgroot, (void *)(addr & ~(PG - 1)), PG, PERM_R);
}

static void test_trap_unprot(void)
{
	volatile char *p;
	struct dune_stats e0, e1;
	int i;

	enter();
	p = buffer(PG, PG);
	p[0] = 42;
	dune_register_pgflt_handler(count_handler);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)p, PG, PERM_NONE), 0);
	IT_ASSERT_EQ(p[0], 42);	/* warm-up fault */
	IT_ASSERT_EQ(faults, 1);
	faults = 0;
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)p, PG, PERM_NONE), 0);
	begin_count(&e0, &e1);
	for (i = 0; i < 50; i++) {
		IT_ASSERT_EQ(p[0], 42);
		/* unprot: the next protect must really take effect */
		IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)p, PG,
					      PERM_NONE), 0);
	}
	snap(&e1);
	IT_ASSERT_EQ(faults, 50);
	expect_no_exits(&e0, &e1);
}

/* ---- accessed and dirty bits ---- */

static void test_ad_4k(void)
{
	const int n = 16;
	volatile char *p;
	uint64_t bitmap[1];
	int i;

	enter();
	p = buffer(n * PG, PG);
	IT_ASSERT_EQ(dune_vm_clear_ad(pgroot, (void *)p, n * PG,
				      DUNE_AD_ACCESSED | DUNE_AD_DIRTY), 0);
	for (i = 0; i < n; i++)
		IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (char *)p + i * PG), 0);
	(void)p[1 * PG];
	p[2 * PG] = 1;
	p[5 * PG + 77] = 1;
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (char *)p + PG), DUNE_AD_ACCESSED);
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (char *)p + 2 * PG),
		     DUNE_AD_ACCESSED | DUNE_AD_DIRTY);
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (char *)p + 3 * PG), 0);
	bitmap[0] = 0;
	IT_ASSERT_EQ(dune_vm_scan_ad(pgroot, (void *)p, n * PG, DUNE_AD_DIRTY,
				     true, bitmap), 2);
	IT_ASSERT_EQ(bitmap[0], 0x24);
	/* cleared and flushed: the next write sets D again */
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (char *)p + 5 * PG),
		     DUNE_AD_ACCESSED);
	p[5 * PG] = 2;
	p[9 * PG] = 2;
	bitmap[0] = 0;
	IT_ASSERT_EQ(dune_vm_scan_ad(pgroot, (void *)p, n * PG, DUNE_AD_DIRTY,
				     true, bitmap), 2);
	IT_ASSERT_EQ(bitmap[0], 0x220);
	bitmap[0] = 0;
	IT_ASSERT_EQ(dune_vm_scan_ad(pgroot, (void *)p, n * PG, DUNE_AD_DIRTY,
				     false, bitmap), 0);
}

static void test_ad_2m(void)
{
	volatile char *p;
	uint64_t bitmap[8];
	ptent_t *pte;

	enter();
	p = buffer(MIB2, MIB2);
	IT_ASSERT_EQ(dune_vm_unmap_range(pgroot, (void *)p, MIB2), 0);
	IT_ASSERT_EQ(dune_vm_map_mem(pgroot, (void *)p, MIB2,
				       PERM_R | PERM_W | PERM_BIG), 0);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, (void *)p, 0, &pte), 0);
	IT_ASSERT(*pte & PTE_PS);
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (void *)p), 0);
	(void)p[12345];
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (char *)p + MIB2 - 1),
		     DUNE_AD_ACCESSED);
	p[MIB2 - 1] = 1;
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (void *)p),
		     DUNE_AD_ACCESSED | DUNE_AD_DIRTY);
	memset(bitmap, 0, sizeof(bitmap));
	IT_ASSERT_EQ(dune_vm_scan_ad(pgroot, (void *)p, MIB2, DUNE_AD_DIRTY,
				     false, bitmap), 512);
	IT_ASSERT(bitmap[0] == ~0ull && bitmap[7] == ~0ull);
	IT_ASSERT_EQ(dune_vm_clear_ad(pgroot, (void *)p, MIB2, DUNE_AD_DIRTY),
		     0);
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (void *)p), DUNE_AD_ACCESSED);
	p[7] = 1;
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, (void *)p),
		     DUNE_AD_ACCESSED | DUNE_AD_DIRTY);
	/* still one 2 MiB leaf */
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, (void *)p, 0, &pte), 0);
	IT_ASSERT(*pte & PTE_PS);
}

/* ---- large pages ---- */

static void test_big_pages(void)
{
	char *buf, *alias2m, *alias1g;
	uint64_t pa1g;
	ptent_t *pte;

	enter();
	buf = buffer(MIB2, MIB2);
	alias2m = free_va(GIB1);
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, alias2m, MIB2, (void *)gpa(buf),
				      PERM_R | PERM_W | PERM_BIG), 0);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, alias2m + 5000, 0, &pte), 0);
	IT_ASSERT(*pte & PTE_PS);
	for (size_t off = 0; off < MIB2; off += 64 * PG + 8)
		buf[off] = (char)(off >> 12);
	for (size_t off = 0; off < MIB2; off += 64 * PG + 8)
		IT_ASSERT_EQ(alias2m[off], (char)(off >> 12));
	alias2m[MIB2 - 1] = 99;
	IT_ASSERT_EQ(buf[MIB2 - 1], 99);

	/* the whole GiB around buf, at a second address */
	pa1g = gpa(buf) & ~(GIB1 - 1);
	alias1g = free_va(2 * GIB1) + GIB1;
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, alias1g, GIB1, (void *)pa1g,
				      PERM_R | PERM_W | PERM_BIG_1GB), 0);
	alias1g += gpa(buf) - pa1g;
	IT_ASSERT_EQ(alias1g[64 * PG + 8], buf[64 * PG + 8]);
	alias1g[100] = 55;
	IT_ASSERT_EQ(buf[100], 55);
	IT_ASSERT_EQ(alias2m[100], 55);
	/* a 4 KiB mprotect inside the 1 GiB page splits it */
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, alias1g, PG, PERM_R), 0);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, alias1g, 0, &pte), 0);
	IT_ASSERT(!(*pte & PTE_PS) && !(*pte & PTE_W));
	IT_ASSERT_EQ(alias1g[100], 55);
	alias1g[PG + 1] = 66;
	IT_ASSERT_EQ(buf[PG + 1], 66);
}

/* ---- two roots ---- */

static void test_two_roots(void)
{
	volatile char *x;
	struct page *pg[2];
	ptent_t *r2;
	int i;

	enter();
	x = buffer(PG, PG);
	x[0] = 'A';
	for (i = 0; i < 2; i++) {
		pg[i] = dune_page_alloc();
		IT_ASSERT(pg[i]);
		*(char *)dune_page2va(pg[i]) = (char)('B' + i);
	}
	r2 = dune_vm_clone(pgroot);
	IT_ASSERT(r2);
	IT_ASSERT_EQ(dune_vm_unmap_range(r2, (void *)x, PG), 0);
	for (i = 0; i < 20; i++) {
		/* edit r2 while pgroot is loaded: seen after the switch */
		if (i)
			IT_ASSERT_EQ(dune_vm_unmap_range(r2, (void *)x, PG), 0);
		dune_page_get(pg[i & 1]);
		IT_ASSERT_EQ(dune_vm_map_phys(r2, (void *)x, PG,
					      (void *)dune_page2pa(pg[i & 1]),
					      PERM_R | PERM_W), 0);
		IT_ASSERT_EQ(x[0], 'A');
		IT_ASSERT_EQ(dune_vm_switch(r2), 0);
		IT_ASSERT(dune_vm_current() == r2);
		/* with PCIDs, r2 has its own (pgroot has 0) */
		IT_ASSERT_EQ((dune_read_cr3() & 0xfff) != 0, dune_has_pcid());
		IT_ASSERT_EQ(x[0], 'B' + (i & 1));
		x[1] = (char)i;
		IT_ASSERT_EQ(dune_vm_switch(pgroot), 0);
		IT_ASSERT(dune_vm_current() == pgroot);
		IT_ASSERT_EQ(dune_read_cr3() & 0xfff, 0);
		IT_ASSERT_EQ(((char *)dune_page2va(pg[i & 1]))[1], (char)i);
		IT_ASSERT_EQ(x[1], 0);
	}
	printf("    PCID %s\n", dune_has_pcid() ? "used" : "not available");
	dune_vm_free(r2);
	IT_ASSERT_EQ(pg[0]->ref, 1);
	IT_ASSERT_EQ(pg[1]->ref, 1);
}

/*
 * A second thread (its own vCPU, so its own TLB) caches r2's view of x,
 * leaves r2, and this thread edits r2: when the other thread switches
 * back, it must see the edit, although each vCPU can only flush itself.
 */
struct roots_arg {
	ptent_t *r2;
	volatile char *x;
	volatile int step;	/* 1: thread cached; 2: edited; 3: done */
	char seen[2];
};

static void *roots_thread(void *p)
{
	struct roots_arg *a = p;

	if (!dune_active() || dune_vm_switch(a->r2))
		return (void *)1;
	a->seen[0] = a->x[0];
	if (dune_vm_switch(pgroot))
		return (void *)2;
	__atomic_store_n(&a->step, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&a->step, __ATOMIC_SEQ_CST) != 2)
		sched_yield();
	if (dune_vm_switch(a->r2))
		return (void *)3;
	a->seen[1] = a->x[0];
	dune_vm_switch(pgroot);
	return NULL;
}

static void test_roots_threads(void)
{
	struct roots_arg a = { 0 };
	struct page *pg[2];
	pthread_t th;
	void *ret;
	int i;

	enter();
	a.x = buffer(PG, PG);
	a.x[0] = 'A';
	for (i = 0; i < 2; i++) {
		pg[i] = dune_page_alloc();
		IT_ASSERT(pg[i]);
		*(char *)dune_page2va(pg[i]) = (char)('B' + i);
	}
	a.r2 = dune_vm_clone(pgroot);
	IT_ASSERT(a.r2);
	IT_ASSERT_EQ(dune_vm_unmap_range(a.r2, (void *)a.x, PG), 0);
	IT_ASSERT_EQ(dune_vm_map_phys(a.r2, (void *)a.x, PG,
				      (void *)dune_page2pa(pg[0]),
				      PERM_R | PERM_W), 0);
	IT_ASSERT_EQ(pthread_create(&th, NULL, roots_thread, &a), 0);
	while (__atomic_load_n(&a.step, __ATOMIC_SEQ_CST) != 1)
		sched_yield();
	IT_ASSERT_EQ(dune_vm_unmap_range(a.r2, (void *)a.x, PG), 0);
	IT_ASSERT_EQ(dune_vm_map_phys(a.r2, (void *)a.x, PG,
				      (void *)dune_page2pa(pg[1]),
				      PERM_R | PERM_W), 0);
	__atomic_store_n(&a.step, 2, __ATOMIC_SEQ_CST);
	IT_ASSERT_EQ(pthread_join(th, &ret), 0);
	IT_ASSERT(ret == NULL);
	IT_ASSERT_EQ(a.seen[0], 'B');
	IT_ASSERT_EQ(a.seen[1], 'C');
	IT_ASSERT_EQ(a.x[0], 'A');
	dune_vm_free(a.r2);
}

/* ---- copy on write ---- */

static void test_cow(void)
{
	struct page *p, *q;
	char *va;
	ptent_t *pte;

	enter();
	dune_register_pgflt_handler(dune_vm_cow_pgflt_handler);
	va = free_va(GIB1);
	p = dune_page_alloc();
	q = dune_page_alloc();
	IT_ASSERT(p && q);
	strcpy(dune_page2va(p), "original");
	strcpy(dune_page2va(q), "last one");
	/* p is also ours: the write copies it */
	dune_page_get(p);
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, va, PG, (void *)dune_page2pa(p),
				      PERM_R | PERM_COW), 0);
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, va + PG, PG,
				      (void *)dune_page2pa(q),
				      PERM_R | PERM_COW), 0);
	IT_ASSERT(!strcmp(va, "original"));
	va[0] = 'O';
	IT_ASSERT(!strcmp(va, "Original"));
	IT_ASSERT(!strcmp(dune_page2va(p), "original"));
	IT_ASSERT_EQ(p->ref, 1);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, va, 0, &pte), 0);
	IT_ASSERT(PTE_ADDR_OF(*pte) != dune_page2pa(p));
	IT_ASSERT((*pte & (PTE_W | PTE_COW | PTE_POOL)) == (PTE_W | PTE_POOL));
	/* q's only reference is the mapping: taken over, not copied */
	va[PG] = 'L';
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, va + PG, 0, &pte), 0);
	IT_ASSERT_EQ(PTE_ADDR_OF(*pte), dune_page2pa(q));
	IT_ASSERT(!strcmp(dune_page2va(q), "Last one"));
	dune_page_put(p);
}

/* ---- errors ---- */

static void test_errors(void)
{
	char *buf, *va;
	ptent_t *pte, saved;
	struct page *pg;

	enter();
	buf = buffer(4 * PG, PG);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, buf, 4 * PG, PERM_R | PERM_W),
		     0);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, buf + PG, 0, &pte), 0);
	saved = *pte;
	va = free_va(GIB1);
	pg = dune_page_alloc();
	IT_ASSERT(pg);
	/* misaligned */
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, va + 1, PG,
				      (void *)dune_page2pa(pg), PERM_R),
		     -EINVAL);
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, va, PG, (void *)4097, PERM_R),
		     -EINVAL);
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, va, MIB2,
				      (void *)dune_page2pa(pg),
				      PERM_R | PERM_BIG), -EINVAL);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, buf + 1, PG, PERM_R), -EINVAL);
	IT_ASSERT_EQ(dune_vm_unmap_range(pgroot, buf, 100), -EINVAL);
	/* non-canonical */
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, (void *)0xffff800000000000ull,
				      PG, (void *)dune_page2pa(pg), PERM_R),
		     -EINVAL);
	/* bad permissions */
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, va, PG, (void *)dune_page2pa(pg),
				      PERM_W), -EINVAL);
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, va, PG, (void *)dune_page2pa(pg),
				      PERM_R | PERM_W | PERM_COW), -EINVAL);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, buf, PG, 0x80), -EINVAL);
	/* overlapping: pgroot maps buf already */
	IT_ASSERT_EQ(dune_vm_map_mem(pgroot, buf, PG, PERM_R), -EEXIST);
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, va, PG, (void *)dune_page2pa(pg),
				      PERM_R), 0);
	/* unmapped (no table there) */
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, va + GIB1 / 2, 0, &pte), -ENOENT);
	IT_ASSERT_EQ(dune_vm_get_ad(pgroot, va - PG), -ENOENT);
	/* nothing changed */
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, va - PG, 0, &pte), -ENOENT);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, buf + PG, 0, &pte), 0);
	IT_ASSERT_EQ(*pte, saved);
	IT_ASSERT_EQ(pg->ref, 1);
	IT_ASSERT_EQ(dune_vm_switch(pgroot), 0);
}

static void test_free_clone(void)
{
	struct dune_page_stats s0, s1, s2;
	ptent_t *r;
	char *buf;

	enter();
	buf = buffer(4 * PG, PG);
	/* split pgroot so the clone has tables at every level */
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, buf, PG, PERM_R | PERM_W), 0);
	dune_page_get_stats(&s0);
	r = dune_vm_clone(pgroot);
	IT_ASSERT(r);
	dune_page_get_stats(&s1);
	IT_ASSERT(s1.used > s0.used + 3);
	/* edits that make tables, and a pool page it owns */
	IT_ASSERT_EQ(dune_vm_mprotect(r, buf + MIB2 * 3, PG, PERM_R), 0);
	IT_ASSERT_EQ(dune_vm_map_phys(r, free_va(GIB1), PG,
				      (void *)dune_page2pa(dune_page_alloc()),
				      PERM_R), 0);
	dune_vm_free(r);
	dune_page_get_stats(&s2);
	IT_ASSERT_EQ(s2.used, s0.used);
}

static void test_flush(void)
{
	volatile char *p;
	ptent_t *pte;

	enter();
	p = buffer(PG, PG);
	p[0] = 3;
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)p, PG, PERM_R | PERM_W),
		     0);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, (void *)p, 0, &pte), 0);
	/* edit by hand, flush by hand */
	dune_register_pgflt_handler(unprot_handler);
	prot_base = p;
	prot_len = PG;
	*pte &= ~PTE_W;
	dune_flush_tlb_one((unsigned long)p);
	p[0] = 4;
	IT_ASSERT_EQ(faults, 1);
	*pte &= ~PTE_W;
	dune_flush_tlb();
	p[0] = 5;
	IT_ASSERT_EQ(faults, 2);
	IT_ASSERT_EQ(p[0], 5);
}

/* ---- the pool from several threads, and across fork ---- */

static void *pool_churn(void *arg)
{
	struct page *held[8] = { 0 };

	if (!dune_active())
		return (void *)1;
	for (int i = 0; i < 2000; i++) {
		int k = i % 8;

		if (held[k]) {
			if (*(long *)dune_page2va(held[k]) != (long)arg)
				return (void *)2;
			dune_page_put(held[k]);
		}
		held[k] = dune_page_alloc();
		if (!held[k])
			return (void *)3;
		*(long *)dune_page2va(held[k]) = (long)arg;
	}
	for (int k = 0; k < 8; k++)
		dune_page_put(held[k]);
	return NULL;
}

static void test_pool_threads(void)
{
	struct dune_page_stats s0, s1;
	pthread_t t[4];
	void *ret;

	enter();
	dune_page_get_stats(&s0);
	for (long i = 0; i < 4; i++)
		IT_ASSERT_EQ(pthread_create(&t[i], NULL, pool_churn,
					    (void *)(i + 1)), 0);
	for (int i = 0; i < 4; i++) {
		IT_ASSERT_EQ(pthread_join(t[i], &ret), 0);
		IT_ASSERT(ret == NULL);
	}
	dune_page_get_stats(&s1);
	IT_ASSERT_EQ(s1.used, s0.used);
}

static void test_fork_pool(void)
{
	struct page *pg;
	char *va;
	int st;
	pid_t pid;

	enter();
	va = free_va(GIB1);
	pg = dune_page_alloc();
	IT_ASSERT(pg);
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, va, PG,
				      (void *)dune_page2pa(pg),
				      PERM_R | PERM_W), 0);
	strcpy(va, "parent");
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		/* a private copy of the pool and of the tables in it */
		if (!dune_active() || strcmp(va, "parent"))
			_exit(1);
		strcpy(va, "child");
		_exit(strcmp(dune_page2va(pg), "child") ? 2 : 0);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	IT_ASSERT(!strcmp(va, "parent"));
}

/* ---- the examples in apps/ ---- */

static void test_app_pgflt(void)
{
	IT_ASSERT_EQ(itest_sh("dune-pgflt > /tmp/pgflt.out 2>&1"), 0);
	IT_ASSERT_EQ(itest_sh("grep -qx 'dune-pgflt: 16 page faults handled, sum of squares correct' /tmp/pgflt.out"),
		     0);
}

static void test_app_dirty(void)
{
	IT_ASSERT_EQ(itest_sh("dune-dirty > /tmp/dirty.out 2>&1"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q '^round 0: 256 dirty page(s): 0 1 2 ' /tmp/dirty.out && "
			      "grep -qx 'round 1: 4 dirty page(s): 3 17 42 200' /tmp/dirty.out && "
			      "grep -qx 'round 2: 3 dirty page(s): 0 17 255' /tmp/dirty.out"),
		     0);
}

static const struct itest tests[] = {
	{ "lookup_map_phys", test_lookup_map_phys },
	{ "map_pages_walk", test_map_pages_walk },
	{ "prot1", test_prot1 },
	{ "protN", test_protN },
	{ "trap_unprot", test_trap_unprot },
	{ "ad_4k", test_ad_4k },
	{ "ad_2m", test_ad_2m },
	{ "big_pages", test_big_pages },
	{ "two_roots", test_two_roots },
	{ "roots_threads", test_roots_threads },
	{ "cow", test_cow },
	{ "errors", test_errors },
	{ "free_clone", test_free_clone },
	{ "flush", test_flush },
	{ "pool_threads", test_pool_threads },
	{ "fork_pool", test_fork_pool },
	{ "app_pgflt", test_app_pgflt },
	{ "app_dirty", test_app_dirty },
};

ITEST_MAIN(tests)
