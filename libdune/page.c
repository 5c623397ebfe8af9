// SPDX-License-Identifier: MIT
/*
 * The page pool (dune.h, "Pages"): 4 KiB pages for page tables and for
 * pages the program maps itself.
 *
 * dune_init reserves one range of anonymous memory at PAGEBASE before
 * it computes the layout, and asks for the low window (mapped VA == GPA)
 * to reach past it: a pool page's address is its GPA, as in the original
 * libdune, so programs follow page-table entries with PTE_ADDR() and
 * load roots with load_cr3((uintptr_t)root).  Page <-> GPA is index
 * arithmetic on the exported pages[] array.  Linux backs the range
 * lazily (MAP_NORESERVE), so only pages handed out cost memory.
 * Private: a fork child gets its own copy of the pool and of the page
 * tables in it, at the same addresses.
 *
 * Pages never handed out are [fresh, nr) (still zero); pages given back
 * go on a free list and are zeroed when handed out again.  A spinlock
 * guards both; in the guest it is taken with interrupts off, so a signal
 * handler that allocates cannot spin on a lock its own thread holds.
 * Allocation and freeing run in trap handlers: general registers only.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "fmt.h"
#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

/* What one pool holds; the functions on it are pure (unit-tested). */
struct dune_pool {
	char *base;		/* page i is at base + i * 4096 */
	struct page *pages;	/* page i's struct page */
	size_t nr;		/* capacity in pages */
	size_t fresh;		/* pages from here on were never handed out */
	size_t used;		/* pages handed out and not given back */
	struct page *free;	/* given back, to be zeroed before reuse */
	physaddr_t base_pa;
	int lock;
};

static struct dune_pool pool;

/* The original's names for the pool (dune.h). */
struct page *pages;
int num_pages;

static size_t pool_index(const struct dune_pool *p, const struct page *pg)
{
	return pg - p->pages;
}

static struct page *pool_take(struct dune_pool *p, bool *dirty)
{
	struct page *pg = p->free;

	if (pg) {
		p->free = pg->next;
		*dirty = true;
	} else if (p->fresh < p->nr) {
		pg = &p->pages[p->fresh++];
		*dirty = false;
	} else {
		return NULL;
	}
	pg->next = NULL;
	pg->ref = 1;
	p->used++;
	return pg;
}

static void pool_give(struct dune_pool *p, struct page *pg)
{
	pg->ref = 0;
	pg->next = p->free;
	p->free = pg;
	p->used--;
}

static struct page *pool_pa2page(const struct dune_pool *p, physaddr_t pa)
{
	if (!p->nr || pa < p->base_pa || pa - p->base_pa >= p->nr * DUNE_PAGE)
		return NULL;
	return &p->pages[(pa - p->base_pa) / DUNE_PAGE];
}

static bool in_guest(void)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs == DUNE_SEL_KCODE;
}

static uint64_t pool_lock(struct dune_pool *p)
{
	uint64_t flags = 0;

	if (in_guest())
		__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : :
				 "memory");
	while (__atomic_exchange_n(&p->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&p->lock, __ATOMIC_RELAXED))
			__asm__ volatile("pause");
	return flags;
}

static void pool_unlock(struct dune_pool *p, uint64_t flags)
{
	__atomic_store_n(&p->lock, 0, __ATOMIC_RELEASE);
	if (flags & (1ull << 9))	/* IF */
		__asm__ volatile("sti" : : : "memory");
}

struct page *dune_page_alloc(void)
{
	struct page *pg;
	uint64_t flags;
	bool dirty = false;

	flags = pool_lock(&pool);
	pg = pool_take(&pool, &dirty);
	pool_unlock(&pool, flags);
	if (pg && dirty)
		dune_bzero(dune_page2va(pg), DUNE_PAGE);
	return pg;
}

void dune_page_free(struct page *pg)
{
	uint64_t flags = pool_lock(&pool);

	pool_give(&pool, pg);
	pool_unlock(&pool, flags);
}

struct page *dune_page_get(struct page *pg)
{
	__atomic_add_fetch(&pg->ref, 1, __ATOMIC_RELAXED);
	return pg;
}

void dune_page_put(struct page *pg)
{
	if (!__atomic_sub_fetch(&pg->ref, 1, __ATOMIC_ACQ_REL))
		dune_page_free(pg);
}

physaddr_t dune_page2pa(struct page *pg)
{
	return pool.base_pa + pool_index(&pool, pg) * DUNE_PAGE;
}

struct page *dune_pa2page(physaddr_t pa)
{
	return pool_pa2page(&pool, pa);
}

bool dune_page_isfrompool(physaddr_t pa)
{
	return pool_pa2page(&pool, pa) != NULL;
}

void *dune_page2va(struct page *pg)
{
	return pool.base + pool_index(&pool, pg) * DUNE_PAGE;
}

void dune_page_get_stats(struct dune_page_stats *s)
{
	uint64_t flags = pool_lock(&pool);

	s->used = pool.used;
	s->total = pool.nr;
	pool_unlock(&pool, flags);
}

void dune_page_stats(void)
{
	struct dune_page_stats s;
	struct dune_out o;

	dune_page_get_stats(&s);
	dune_out_init(&o, 2);
	dune_out_str(&o, "dune: page pool: ");
	dune_out_dec(&o, s.used);
	dune_out_str(&o, " allocated, ");
	dune_out_dec(&o, s.total - s.used);
	dune_out_str(&o, " free, ");
	dune_out_dec(&o, s.total);
	dune_out_str(&o, " total\n");
	dune_out_flush(&o);
}

DUNE_NOFPU_END

/* Native, in dune_init, before the layout is computed. */
int dune_page_init(void)
{
	size_t size = DUNE_POOL_SIZE, nr;
	void *mem, *meta;

	if (pool.nr)
		return 0;
	/* Under a strict overcommit policy a smaller pool may still fit. */
	for (;; size /= 2) {
		nr = size / DUNE_PAGE;
		mem = mmap((void *)PAGEBASE, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			   MAP_FIXED_NOREPLACE, -1, 0);
		/* Kernels before 4.17 take the flag as a mere hint. */
		if (mem != MAP_FAILED && mem != (void *)PAGEBASE) {
			munmap(mem, size);
			mem = MAP_FAILED;
			errno = EEXIST;
		}
		if (mem == MAP_FAILED && errno == EEXIST) {
			fprintf(stderr,
				"libdune: cannot place the page pool at 0x%lx: the program already maps memory there\n",
				PAGEBASE);
			return -1;
		}
		meta = mmap(NULL, nr * sizeof(struct page),
			    PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem != MAP_FAILED && meta != MAP_FAILED)
			break;
		if (mem != MAP_FAILED)
			munmap(mem, size);
		if (meta != MAP_FAILED)
			munmap(meta, nr * sizeof(struct page));
		if (size <= DUNE_POOL_MIN) {
			fprintf(stderr,
				"libdune: cannot reserve %zu MiB for the page pool: %s (check vm.overcommit_memory and ulimit -v)\n",
				size >> 20, strerror(errno));
			return -1;
		}
	}
	pool.base = mem;
	pool.pages = meta;
	pool.nr = nr;
	pages = meta;
	num_pages = nr;
	return 0;
}

/* Native, once the layout is known: the pool must be one GPA range. */
int dune_page_init_pa(void)
{
	const struct dune_layout *l = &dune_proc.layout;
	uint64_t lo = (uint64_t)pool.base, hi = lo + pool.nr * DUNE_PAGE;
	uint64_t pa = dune_layout_va_to_pa(l, lo);

	/* dune.h promises VA == GPA for pool pages. */
	if (pa != lo || dune_layout_va_to_pa(l, hi - 1) != hi - 1) {
		fprintf(stderr,
			"libdune: the page pool at 0x%llx-0x%llx is not mapped at equal guest-physical addresses (DUNE_DEBUG=1 shows the windows); this is a libdune bug, please report it\n",
			(unsigned long long)lo, (unsigned long long)hi);
		errno = ENOMEM;
		return -1;
	}
	pool.base_pa = pa;
	return 0;
}
