// SPDX-License-Identifier: MIT
/*
 * The original Dune's page-table API as its programs use it (issue 10):
 * written the way those programs are (headers by the original's paths,
 * pgroot walked and edited one 4 KiB entry at a time, pool pages whose
 * address is their guest-physical address), run in Dune mode.  Each test
 * runs in its own child.
 */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "test/vm/itest.h"
#include "libdune/dune.h"
#include "libdune/mmu.h"

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
}

/* A page-aligned address far from anything the process maps. */
#define FAR_VA ((void *)0x3f0000000000ul)

/* ---- page-table walks ---- */

struct leaves {
	unsigned long n4k, nbig;
};

static int count_leaf(const void *arg, ptent_t *pte, void *va)
{
	struct leaves *l = (struct leaves *)arg;

	if (*pte & PTE_PS)
		l->nbig++;
	else
		l->n4k++;
	return 0;
}

static int stop_at_first(const void *arg, ptent_t *pte, void *va)
{
	*(void **)arg = va;
	return 1;
}

static int stack_var;

static void test_walk(void)
{
	struct leaves l = { 0 };
	ptent_t *pte;
	int local = 1;
	void *first = NULL;
	char *fresh;

	enter();
	IT_ASSERT_EQ(dune_vm_page_walk(pgroot, VA_START, VA_END, count_leaf,
				       &l), 0);
	/* the process's memory has 4 KiB leaves, the pool 2 MiB ones */
	IT_ASSERT(l.n4k >= 512);
	IT_ASSERT(l.nbig > 0);

	/* the stack, code and data: 4 KiB leaves with the right address */
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, &local, CREATE_NONE, &pte), 0);
	IT_ASSERT(!(*pte & PTE_PS));
	IT_ASSERT(*pte & PTE_P);
	IT_ASSERT_EQ(PTE_ADDR(*pte), PGADDR(dune_va_to_pa(&local)));
	IT_ASSERT_EQ(PTE_ADDR(*pte), PGADDR(dune_stack_addr_to_pa(&local)));
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, (void *)test_walk, 0, &pte), 0);
	IT_ASSERT(!(*pte & PTE_PS) && !(*pte & PTE_NX));
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, &stack_var, 0, &pte), 0);
	IT_ASSERT_EQ(PTE_ADDR(*pte), PGADDR(dune_va_to_pa(&stack_var)));

	/* memory mapped after dune_init: reachable, and 4 KiB when looked up */
	fresh = mmap(NULL, 3 * PGSIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(fresh != MAP_FAILED);
	fresh[PGSIZE] = 7;
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, fresh + PGSIZE, 0, &pte), 0);
	IT_ASSERT(!(*pte & PTE_PS));
	IT_ASSERT_EQ(PTE_ADDR(*pte), dune_va_to_pa(fresh + PGSIZE));
	IT_ASSERT_EQ(PTE_ADDR(*pte), dune_mmap_addr_to_pa(fresh + PGSIZE));
	/* editing that one entry changes that one page only */
	*pte &= ~PTE_W;
	dune_flush_tlb_one((unsigned long)(fresh + PGSIZE));
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, fresh, 0, &pte), 0);
	IT_ASSERT(*pte & PTE_W);
	fresh[0] = 1;

	/* dune_vm_map_phys over a mapped page replaces it (the original's) */
	fresh[2 * PGSIZE] = 2;
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, fresh + 2 * PGSIZE, PGSIZE,
				      (void *)dune_va_to_pa(fresh),
				      PERM_R | PERM_W), 0);
	IT_ASSERT_EQ(fresh[2 * PGSIZE], 1);

	/* a walk of one address's page finds that page first */
	IT_ASSERT_EQ(dune_vm_page_walk(pgroot, fresh, VA_END, stop_at_first,
				       &first), 1);
	IT_ASSERT(first == fresh);
	IT_ASSERT(phys_limit > 0 && !(phys_limit & (phys_limit - 1)));
	IT_ASSERT(dune_va_to_pa(&local) < phys_limit);
}

/* ---- fresh pages anywhere ---- */

static volatile uintptr_t fault_addr;
static volatile uint64_t fault_fec;
static volatile int faults;

static void map_on_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	fault_addr = addr;
	fault_fec = fec;
	faults++;
	/* the original's way: map a fresh page and retry */
	if (dune_vm_map_pages(pgroot, (void *)PGADDR(addr), PGSIZE,
			      PERM_R | PERM_W))
		_exit(9);
}

static void test_map_pages_fresh(void)
{
	volatile char *p = FAR_VA;
	ptent_t *pte;
	struct page *pg;
	int i;

	enter();
	/* nothing of the process there, not even a window (unless one
	 * window covers all of user space: MAXPHYADDR >= 48) */
	if (dune_va_to_pa(FAR_VA) == DUNE_BAD_ADDR)
		IT_ASSERT_EQ(dune_vm_lookup(pgroot, FAR_VA, 0, &pte), -ENOENT);
	IT_ASSERT_EQ(dune_vm_map_pages(pgroot, FAR_VA, 3 * PGSIZE,
				       PERM_R | PERM_W), 0);
	for (i = 0; i < 3 * PGSIZE; i++)
		IT_ASSERT_EQ(p[i], 0);
	p[0] = 'a';
	p[2 * PGSIZE + 5] = 'c';
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, FAR_VA, 0, &pte), 0);
	IT_ASSERT(!(*pte & PTE_PS));
	IT_ASSERT(dune_page_isfrompool(PTE_ADDR(*pte)));
	pg = dune_vm_lookup_page(pgroot, FAR_VA);
	IT_ASSERT(pg == dune_pa2page(PTE_ADDR(*pte)));
	/* the original's inline arithmetic on pages[] and PAGEBASE */
	IT_ASSERT(pg == &pages[PPN(PTE_ADDR(*pte) - PAGEBASE)]);
	IT_ASSERT(pg->ref == 1);
	/* a pool page's address is its guest-physical address */
	IT_ASSERT_EQ(*(volatile char *)PTE_ADDR(*pte), 'a');
	IT_ASSERT_EQ(dune_va_to_pa((void *)PTE_ADDR(*pte)), PTE_ADDR(*pte));

	/* mapping again replaces: fresh zeroed pages */
	IT_ASSERT_EQ(dune_vm_map_pages(pgroot, FAR_VA, PGSIZE, PERM_R), 0);
	IT_ASSERT_EQ(p[0], 0);
	IT_ASSERT_EQ(p[2 * PGSIZE + 5], 'c');

	/* dune_vm_insert_page: the same page at a second address */
	IT_ASSERT_EQ(dune_vm_insert_page(pgroot, (char *)FAR_VA + 5 * PGSIZE,
					 dune_vm_lookup_page(pgroot,
						(char *)FAR_VA + 2 * PGSIZE),
					 PERM_R), 0);
	IT_ASSERT_EQ(p[5 * PGSIZE + 5], 'c');
	IT_ASSERT(dune_vm_lookup_page(pgroot, (char *)FAR_VA + 5 * PGSIZE)
		  ->ref == 2);

	/* unmapped: the slot stays (the table exists) and is empty */
	dune_vm_unmap(pgroot, FAR_VA, PGSIZE);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, FAR_VA, 0, &pte), 0);
	IT_ASSERT_EQ(*pte, 0);
	/* an access faults to our handler, which maps a fresh page */
	dune_register_pgflt_handler(map_on_fault);
	p[100] = 'z';
	IT_ASSERT_EQ(faults, 1);
	IT_ASSERT_EQ(fault_addr, (uintptr_t)FAR_VA + 100);
	IT_ASSERT(!(fault_fec & FEC_P) && (fault_fec & FEC_W));
	IT_ASSERT_EQ(p[100], 'z');
	IT_ASSERT_EQ(p[0], 0);
}

/* ---- Appel-Li: protect, fault, unprotect one entry ---- */

#define AL_PAGES 16

static void unprotect(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	ptent_t *pte;

	fault_addr = addr;
	faults++;
	if (dune_vm_lookup(pgroot, (void *)addr, CREATE_NONE, &pte))
		_exit(9);
	*pte |= PTE_W;
}

static void test_appel_li(void)
{
	volatile char *pg, *buf;
	ptent_t *pte;
	int i;

	enter();
	dune_register_pgflt_handler(unprotect);

	/* linux5's test/mprotect.c: a fresh read-only page over new memory */
	pg = mmap(NULL, PGSIZE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(pg != MAP_FAILED);
	pg[1] = 9;
	IT_ASSERT_EQ(dune_vm_map_pages(pgroot, (void *)pg, PGSIZE, PERM_R), 0);
	IT_ASSERT_EQ(pg[1], 0);
	pg[5] = 42;
	IT_ASSERT_EQ(faults, 1);
	IT_ASSERT_EQ(fault_addr, (uintptr_t)pg + 5);
	IT_ASSERT_EQ(pg[5], 42);

	/* a write barrier over many pages, one entry at a time */
	buf = mmap(NULL, AL_PAGES * PGSIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(buf != MAP_FAILED);
	for (i = 0; i < AL_PAGES; i++)
		buf[i * PGSIZE] = i;
	faults = 0;
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)buf, AL_PAGES * PGSIZE,
				      PERM_R | PERM_X), 0);
	for (i = 0; i < AL_PAGES; i++) {
		IT_ASSERT_EQ(dune_vm_lookup(pgroot, (void *)(buf + i * PGSIZE),
					    0, &pte), 0);
		IT_ASSERT(!(*pte & PTE_W));
	}
	for (int round = 0; round < 2; round++)
		for (i = 0; i < AL_PAGES; i++)
			buf[i * PGSIZE + 8] = i + round;
	IT_ASSERT_EQ(faults, AL_PAGES);
	for (i = 0; i < AL_PAGES; i++)
		IT_ASSERT_EQ(buf[i * PGSIZE] + 1, buf[i * PGSIZE + 8]);
}

/* ---- copy-on-write with the original's default handler ---- */

static void cow_handler(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	faults++;
	dune_vm_default_pgflt_handler(addr, fec);
}

static void test_default_pgflt_cow(void)
{
	volatile char *p = FAR_VA;
	ptent_t *pte;
	physaddr_t old;

	enter();
	dune_register_pgflt_handler(cow_handler);
	IT_ASSERT_EQ(dune_vm_map_pages(pgroot, FAR_VA, PGSIZE, PERM_R | PERM_W),
		     0);
	p[0] = 's';
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, FAR_VA, 0, &pte), 0);
	old = PTE_ADDR(*pte);
	/* a second mapping of the page, both copy-on-write */
	dune_page_get(dune_pa2page(old));
	IT_ASSERT_EQ(dune_vm_map_phys(pgroot, (char *)FAR_VA + PGSIZE, PGSIZE,
				      (void *)old, PERM_R | PERM_COW), 0);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, FAR_VA, PGSIZE,
				      PERM_R | PERM_COW), 0);
	p[1] = 't';
	IT_ASSERT_EQ(faults, 1);
	IT_ASSERT_EQ(dune_vm_lookup(pgroot, FAR_VA, 0, &pte), 0);
	IT_ASSERT(PTE_ADDR(*pte) != old);
	IT_ASSERT(*pte & PTE_W);
	IT_ASSERT_EQ(p[0], 's');
	IT_ASSERT_EQ(p[1], 't');
	IT_ASSERT_EQ(p[PGSIZE + 1], 0);	/* the other mapping kept the old */
	IT_ASSERT_EQ(p[PGSIZE], 's');
}

/* ---- sthreads: two roots switched with load_cr3 and PCIDs ---- */

#define MY_PCID 3000

static void test_two_roots_load_cr3(void)
{
	volatile uint64_t *x = FAR_VA;
	ptent_t *root2;
	bool pcid;
	int local = 5;

	enter();
	pcid = dune_has_pcid();
	IT_ASSERT_EQ(dune_vm_map_pages(pgroot, FAR_VA, PGSIZE,
				       PERM_R | PERM_W), 0);
	*x = 1111;
	root2 = dune_vm_clone(pgroot);
	IT_ASSERT(root2 != NULL);
	/* the root's address is its guest-physical address */
	IT_ASSERT_EQ(dune_va_to_pa(root2), (uintptr_t)root2);
	IT_ASSERT(dune_page_isfrompool((uintptr_t)root2));
	/* its own page at FAR_VA; pgroot keeps its one */
	IT_ASSERT_EQ(dune_vm_map_pages(root2, FAR_VA, PGSIZE, PERM_R | PERM_W),
		     0);

	for (int round = 0; round < 3; round++) {
		if (pcid)
			load_cr3((uintptr_t)root2 | CR3_NOFLUSH | MY_PCID);
		else
			load_cr3((uintptr_t)root2);
		IT_ASSERT(dune_vm_current() == root2);
		IT_ASSERT_EQ(*x, round ? 2222u + round - 1 : 0);
		*x = 2222 + round;
		IT_ASSERT_EQ(local, 5);	/* the stack is mapped in both */
		if (pcid)
			load_cr3((uintptr_t)pgroot | CR3_NOFLUSH);
		else
			load_cr3((uintptr_t)pgroot);
		IT_ASSERT(dune_vm_current() == pgroot);
		IT_ASSERT_EQ(*x, 1111);
	}
	printf("    (PCIDs %s)\n", pcid ? "used" : "not available");
}

/* ---- pool bookkeeping ---- */

static void test_page_stats(void)
{
	struct page *pg;
	char buf[256];
	int fds[2], saved;
	ssize_t n;

	enter();
	IT_ASSERT(num_pages > 0 && num_pages <= (int)MAX_PAGES);
	pg = dune_page_alloc();
	IT_ASSERT(pg && pg->ref == 1);
	IT_ASSERT(dune_page2pa(pg) >= PAGEBASE);
	IT_ASSERT(dune_page2pa(pg) < PAGEBASE + (uint64_t)num_pages * PGSIZE);
	IT_ASSERT_EQ(dune_page2pa(pg), (uintptr_t)dune_page2va(pg));
	IT_ASSERT(pg == &pages[PPN(dune_page2pa(pg) - PAGEBASE)]);
	IT_ASSERT_EQ(pipe(fds), 0);
	saved = dup(2);
	dup2(fds[1], 2);
	dune_page_stats();
	dup2(saved, 2);
	n = read(fds[0], buf, sizeof(buf) - 1);
	IT_ASSERT(n > 0);
	buf[n] = 0;
	IT_ASSERT(strstr(buf, "allocated") && strstr(buf, "total"));
	dune_page_put(pg);
}

/* ---- what building pgroot costs (printed, not asserted) ---- */

static inline uint64_t ticks(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/* In a child: dune_init_flags(@flags), print ticks and leaves. */
static void measure(unsigned int flags, const char *name)
{
	struct leaves l = { 0 };
	uint64_t t0, t1;
	ptent_t *pte;
	int local;
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		t0 = ticks();
		if (dune_init_flags(flags))
			_exit(2);
		t1 = ticks();
		dune_vm_page_walk(pgroot, VA_START, VA_END, count_leaf, &l);
		if (dune_vm_lookup(pgroot, &local, 0, &pte))
			_exit(3);
		printf("    pgroot %s: dune_init %llu ticks, %lu 4 KiB leaves, %lu large leaves\n",
		       name, (unsigned long long)(t1 - t0), l.n4k, l.nbig);
		/* the fast tree has no 4 KiB leaves at all */
		_exit((flags & DUNE_INIT_BIG_PGROOT) ? (l.n4k != 0) :
			(l.n4k == 0 || (*pte & PTE_PS)));
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFEXITED(st));
	IT_ASSERT_EQ(WEXITSTATUS(st), 0);
}

static void test_pgroot_cost(void)
{
	for (int i = 0; i < 2; i++) {
		measure(0, "4 KiB (default)");
		measure(DUNE_INIT_BIG_PGROOT, "big (DUNE_INIT_BIG_PGROOT)");
	}
}

/*
 * dune-compat-bench (the original's table): every line, and exactly one
 * fault per page in each Appel-Li round.
 */
static void bench_fail(const char *line)
{
	itest_sh("sed 's/^/      /' /tmp/compat-bench.out >&2");
	IT_FAIL("no line \"%s\" in dune-compat-bench's output (above)",
		line);
}

static void test_bench_table(void)
{
	static const char *const lines[] = {
		"System call took [0-9]+ cycles",
		"Kernel fault took [0-9]+ cycles",
		"User fault took [0-9]+ cycles",
		"PROT1,TRAP,UNPROT took [0-9]+ cycles",
		"PROTN,TRAP,UNPROT took [0-9]+ cycles",
	};

	IT_ASSERT_EQ(itest_sh("dune-compat-bench 3 >/tmp/compat-bench.out 2>&1"),
		     0);
	for (unsigned int i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (itest_sh("grep -Eqx '%s' /tmp/compat-bench.out", lines[i]))
			bench_fail(lines[i]);
	if (itest_sh("test $(grep -cx '  (100 page faults per round)' /tmp/compat-bench.out) = 2"))
		bench_fail("  (100 page faults per round), twice");
}

static const struct itest tests[] = {
	{ "walk", test_walk },
	{ "map_pages_fresh", test_map_pages_fresh },
	{ "appel_li", test_appel_li },
	{ "default_pgflt_cow", test_default_pgflt_cow },
	{ "two_roots_load_cr3", test_two_roots_load_cr3 },
	{ "page_stats", test_page_stats },
	{ "pgroot_cost", test_pgroot_cost },
	{ "bench_table", test_bench_table },
};

ITEST_MAIN(tests)
