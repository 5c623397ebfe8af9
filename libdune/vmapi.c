// SPDX-License-Identifier: MIT
/*
 * dune_vm_*: the page-table core (pgtable.c) on the program's real
 * tables, whose pages come from the pool (page.c), plus the TLB.
 *
 * TLB rules (SDM 4.10.4): a changed leaf of the loaded root is dropped
 * with invlpg, a long list of them with one CR3 reload.  Without PCIDs a
 * CR3 load flushes everything (no global pages here), so a root edited
 * while not loaded needs nothing.  With PCIDs (CR4.PCIDE, set by the
 * module when the CPU has them) every root gets its own PCID, assigned
 * on first switch and never reused, and a switch keeps the TLB entries
 * unless the root was edited since this vCPU last flushed its PCID.
 *
 * That needs care with several threads: each has its own vCPU (VPID),
 * so its own TLB, and INVPCID or a CR3 load flushes only the caller's.
 * So every edit bumps the root's generation (in its struct page), and
 * each thread remembers, per PCID, the generation its TLB reflects
 * (dune_thread.pcid_gen); a switch flushes when they differ.
 *
 * Runs inside page-fault handlers: general registers only.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "fmt.h"
#include "internal.h"
#include "pgtable.h"
#include "raw.h"
#include "vm.h"

DUNE_NOFPU_BEGIN

ptent_t *pgroot;

/* struct page flags of a root page */
#define ROOT_PCID_MASK	0xfffu
#define ROOT_HAS_PCID	(1u << 12)
/* bits 13-31: edit generation, compared for equality only (wraps) */
#define ROOT_GEN_SHIFT	13
#define ROOT_GEN_ONE	(1u << ROOT_GEN_SHIFT)

#define CR4_PCIDE	(1ull << 17)
/* Roots past the 4094 first share this PCID and are flushed on every switch. */
#define PCID_SHARED	0xfffu

static unsigned int next_pcid = 1;	/* 0 is pgroot's */
static int pcid_state = -1;		/* -1: not read yet */

static bool in_guest(void)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs == DUNE_SEL_KCODE;
}

static void *ops_alloc(void *ctx)
{
	struct page *pg = dune_page_alloc();

	return pg ? dune_page2va(pg) : NULL;
}

static physaddr_t ops_pa(void *ctx, const void *page)
{
	return dune_layout_va_to_pa(&dune_proc.layout, (uint64_t)page);
}

/* ---- The original's address translation (dune.h) ---- */

uintptr_t phys_limit;
uintptr_t mmap_base;
uintptr_t stack_base;
/* GPAs of mmap_base and stack_base */
static uintptr_t mmap_gpa, stack_gpa;

uintptr_t dune_va_to_pa(void *va)
{
	return dune_layout_va_to_pa(&dune_proc.layout, (uint64_t)va);
}

uintptr_t dune_mmap_addr_to_pa(void *ptr)
{
	return (uintptr_t)ptr - mmap_base + mmap_gpa;
}

uintptr_t dune_stack_addr_to_pa(void *ptr)
{
	return (uintptr_t)ptr - stack_base + stack_gpa;
}

static void *ops_ptr(void *ctx, physaddr_t pa)
{
	struct page *pg = dune_pa2page(pa);

	if (pg)
		return dune_page2va(pg);
	return (void *)dune_layout_pa_to_va(&dune_proc.layout, pa);
}

static void ops_free(void *ctx, void *page)
{
	dune_page_put(dune_pa2page(ops_pa(ctx, page)));
}

static bool ops_is_pool(void *ctx, physaddr_t pa)
{
	return dune_page_isfrompool(pa);
}

static void ops_get(void *ctx, physaddr_t pa)
{
	dune_page_get(dune_pa2page(pa));
}

static void ops_put(void *ctx, physaddr_t pa)
{
	dune_page_put(dune_pa2page(pa));
}

static const struct pt_ops vm_ops = {
	.alloc = ops_alloc, .free = ops_free, .pa = ops_pa, .ptr = ops_ptr,
	.is_pool = ops_is_pool, .get = ops_get, .put = ops_put,
};

bool dune_has_pcid(void)
{
	int s = __atomic_load_n(&pcid_state, __ATOMIC_RELAXED);
	uint64_t cr4;

	if (s >= 0)
		return s;
	if (!in_guest())
		return false;
	/* CR4 reads see the read shadow: no VM exit. */
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	s = !!(cr4 & CR4_PCIDE);
	__atomic_store_n(&pcid_state, s, __ATOMIC_RELAXED);
	return s;
}

/* INVPCID is #UD in the guest unless the module enabled it. */
static bool has_invpcid(void)
{
	return dune_has_pcid() && (dune_proc.caps_flags & DUNE_CAP_INVPCID);
}

static void invpcid_single(unsigned int pcid)
{
	struct {
		uint64_t pcid, addr;
	} desc = { pcid, 0 };

	__asm__ volatile("invpcid %0, %1" : : "m"(desc), "r"(1ul) : "memory");
}

static struct page *root_page(ptent_t *root)
{
	return dune_pa2page(ops_pa(NULL, root));
}

ptent_t *dune_vm_current(void)
{
	uint64_t cr3 = in_guest() ? dune_read_cr3() : dune_proc.cr3;

	return ops_ptr(NULL, cr3 & PTE_ADDR_MASK);
}

void dune_flush_tlb(void)
{
	/* Bit 63 of a CR3 load is never read back: this flushes. */
	if (in_guest())
		load_cr3(dune_read_cr3() & ~CR3_NOFLUSH);
}

static uint32_t root_gen(uint32_t flags)
{
	return flags >> ROOT_GEN_SHIFT;
}

/*
 * After an edit of @root: bump its generation, so every vCPU flushes its
 * PCID on the next switch to it, then flush this vCPU's TLB now if the
 * root is loaded here (the edited addresses, or all of it), or if
 * INVPCID can drop its PCID; then this vCPU is up to date.  Other vCPUs
 * that have @root loaded right now must flush themselves (dune.h).
 */
static void flush(ptent_t *root, const struct pt_flush *fl)
{
	struct page *pg = root_page(root);
	struct dune_thread *t;
	uint32_t f = 0, pcid;
	bool loaded, done = false;
	unsigned int i;

	if (!fl->all && !fl->n)
		return;
	if (pg)
		f = __atomic_add_fetch(&pg->flags, ROOT_GEN_ONE,
				       __ATOMIC_SEQ_CST);
	if (!in_guest())
		return;
	loaded = dune_vm_current() == root;
	pcid = f & ROOT_PCID_MASK;
	if (loaded && fl->all) {
		dune_flush_tlb();
		done = true;
	} else if (loaded) {
		for (i = 0; i < fl->n; i++)
			dune_flush_tlb_one(fl->va[i]);
		done = true;
	} else if ((f & ROOT_HAS_PCID) && pcid != PCID_SHARED &&
		   has_invpcid()) {
		invpcid_single(pcid);
		done = true;
	}
	/* Without PCIDs a switch always flushes: nothing to remember. */
	t = dune_cur_thread();
	if (done && (f & ROOT_HAS_PCID) && dune_has_pcid())
		t->pcid_gen[pcid] = root_gen(f);
}

/* The PCID of @pg, assigning the next free one on first use. */
static uint32_t root_pcid(struct page *pg, bool *fresh)
{
	uint32_t f = __atomic_load_n(&pg->flags, __ATOMIC_SEQ_CST), nf, pcid;

	*fresh = false;
	while (!(f & ROOT_HAS_PCID)) {
		pcid = __atomic_fetch_add(&next_pcid, 1, __ATOMIC_RELAXED);
		if (pcid >= PCID_SHARED)
			pcid = PCID_SHARED;
		nf = (f & ~ROOT_PCID_MASK) | pcid | ROOT_HAS_PCID;
		/* A PCID lost to a racing thread is simply never used. */
		if (__atomic_compare_exchange_n(&pg->flags, &f, nf, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			f = nf;
			*fresh = true;
		}
	}
	return f;
}

int dune_vm_switch(ptent_t *root)
{
	physaddr_t pa = ops_pa(NULL, root);
	struct page *pg = dune_pa2page(pa);
	uint64_t cr3 = pa;
	struct dune_thread *t;
	uint32_t f, pcid;
	bool fresh;

	if (!in_guest())
		return -EPERM;
	if (pa == DUNE_BAD_ADDR || (pa & (PT_PAGE - 1)))
		return -EINVAL;
	if (dune_has_pcid() && !pg) {
		/* not a pool page: no PCID of its own, never pgroot's 0 */
		cr3 |= PCID_SHARED;
	} else if (dune_has_pcid()) {
		t = dune_cur_thread();
		f = root_pcid(pg, &fresh);
		pcid = f & ROOT_PCID_MASK;
		cr3 |= pcid;
		/*
		 * Keep this vCPU's entries for the PCID only if they reflect
		 * the root's latest edit.  A fresh PCID has none here.
		 */
		if (pcid != PCID_SHARED &&
		    (fresh || t->pcid_gen[pcid] == root_gen(f)))
			cr3 |= CR3_NOFLUSH;
		t->pcid_gen[pcid] = root_gen(f);
	}
	load_cr3(cr3);
	dune_cur_thread()->cr3 = pa;
	return 0;
}

/*
 * Split the PTE_FILL leaves (large pages dune_init made instead of
 * 4 KiB ones) down to the 4 KiB slot of @va: the program then sees the
 * 4 KiB leaves the original's pgroot had.  Same translation before and
 * after, so nothing needs a flush (SDM 4.10.2.3: either may be used).
 */
static int lookup_4k(ptent_t *root, uint64_t va, bool create,
		     ptent_t **pte_out, int *level)
{
	int r, lvl;

	for (;;) {
		r = pt_lookup(&vm_ops, root, va, create, pte_out, &lvl);
		if (r || !lvl || !(**pte_out & PTE_FILL))
			break;
		r = pt_split(&vm_ops, *pte_out, lvl);
		if (r)
			return r;
	}
	if (level)
		*level = lvl;
	return r;
}

int dune_vm_lookup(ptent_t *root, void *va, int create, ptent_t **pte_out)
{
	return lookup_4k(root, (uint64_t)va, create, pte_out, NULL);
}

static int map_phys(ptent_t *root, uint64_t va, size_t len, uint64_t pa,
		    int perm)
{
	struct pt_flush fl;
	int r;

	pt_flush_init(&fl);
	r = pt_map(&vm_ops, root, va, len, pa, perm, true, &fl);
	flush(root, &fl);
	return r;
}

/*
 * The original overwrote whatever was mapped (its pgroot mapped all of
 * the process's memory, and programs map over it): unmap first, after
 * checking the arguments so a bad call changes nothing.
 */
int dune_vm_map_phys(ptent_t *root, void *va, size_t len, void *pa, int perm)
{
	uint64_t bits, sz, v = (uint64_t)va, p = (uint64_t)pa;
	int r, level;

	r = pt_perm(perm, &bits, &level);
	if (r)
		return r;
	sz = pt_level_size(level);
	if ((v | len | p) & (sz - 1) || v + len < v || v + len > PT_USER_END ||
	    p + len < p || (p + len - 1) >> 52)
		return -EINVAL;
	r = dune_vm_unmap_range(root, va, len);
	return r ?: map_phys(root, v, len, p, perm);
}

int dune_vm_map_pages(ptent_t *root, void *va, size_t len, int perm)
{
	uint64_t v = (uint64_t)va, off, bits;
	struct page *pg;
	int r, level;

	perm &= ~(PERM_BIG | PERM_BIG_1GB);
	r = pt_perm(perm, &bits, &level);
	if (r)
		return r;
	if ((v | len) & (PT_PAGE - 1) || v + len < v || v + len > PT_USER_END)
		return -EINVAL;
	/* Replace: what was mapped goes, as the original overwrote it. */
	r = dune_vm_unmap_range(root, va, len);
	if (r)
		return r;
	for (off = 0; off < len; off += PT_PAGE) {
		pg = dune_page_alloc();
		if (!pg)
			return -ENOMEM;
		r = map_phys(root, v + off, PT_PAGE, dune_page2pa(pg), perm);
		if (r) {
			dune_page_put(pg);
			return r;
		}
	}
	return 0;
}

int dune_vm_insert_page(ptent_t *root, void *va, struct page *pg, int perm)
{
	int r;

	if (!pg || perm & (PERM_BIG | PERM_BIG_1GB))
		return -EINVAL;
	r = dune_vm_unmap_range(root, va, PT_PAGE);
	if (r)
		return r;
	dune_page_get(pg);
	r = map_phys(root, (uint64_t)va, PT_PAGE, dune_page2pa(pg), perm);
	if (r)
		dune_page_put(pg);
	return r;
}

struct page *dune_vm_lookup_page(ptent_t *root, void *va)
{
	ptent_t *e;
	int level;

	if (pt_lookup(&vm_ops, root, (uint64_t)va, false, &e, &level) ||
	    level || !(*e & (PTE_P | PTE_NONE)))
		return NULL;
	return dune_pa2page(PTE_ADDR(*e));
}

int dune_vm_map_mem(ptent_t *root, void *va, size_t len, int perm)
{
	const struct dune_layout *l = &dune_proc.layout;
	uint64_t v = (uint64_t)va, pa = dune_layout_va_to_pa(l, v);
	struct pt_flush fl;
	int r;

	if (!len)
		return 0;
	/* One window: GPAs follow the addresses without a break. */
	if (pa == DUNE_BAD_ADDR || v + len < v ||
	    dune_layout_va_to_pa(l, v + len - 1) != pa + len - 1)
		return -EINVAL;
	pt_flush_init(&fl);
	r = pt_map(&vm_ops, root, v, len, pa, perm, false, &fl);
	flush(root, &fl);
	return r;
}

int dune_vm_mprotect(ptent_t *root, void *va, size_t len, int perm)
{
	struct pt_flush fl;
	int r;

	pt_flush_init(&fl);
	r = pt_mprotect(&vm_ops, root, (uint64_t)va, len, perm, &fl);
	flush(root, &fl);
	return r;
}

int dune_vm_unmap_range(ptent_t *root, void *va, size_t len)
{
	struct pt_flush fl;
	int r;

	pt_flush_init(&fl);
	r = pt_unmap(&vm_ops, root, (uint64_t)va, len, &fl);
	flush(root, &fl);
	return r;
}

void dune_vm_unmap(ptent_t *root, void *va, size_t len)
{
	dune_vm_unmap_range(root, va, len);
}

int dune_vm_page_walk(ptent_t *root, void *start_va, void *end_va,
		      page_walk_cb cb, const void *arg)
{
	return pt_walk(&vm_ops, root, (uint64_t)start_va, (uint64_t)end_va, cb,
		       arg);
}

ptent_t *dune_vm_clone(ptent_t *root)
{
	ptent_t *r = pt_clone(&vm_ops, root);
	struct page *pg;

	if (r) {
		pg = root_page(r);
		pg->flags = 0;	/* no PCID yet */
	}
	return r;
}

void dune_vm_free(ptent_t *root)
{
	if (root == pgroot)
		return;
	pt_free(&vm_ops, root);
}

int dune_vm_get_ad(ptent_t *root, void *va)
{
	return pt_get_ad(&vm_ops, root, (uint64_t)va);
}

int dune_vm_clear_ad(ptent_t *root, void *va, size_t len, int bits)
{
	struct pt_flush fl;
	int r;

	pt_flush_init(&fl);
	r = pt_clear_ad(&vm_ops, root, (uint64_t)va, len, bits, &fl);
	flush(root, &fl);
	return r;
}

long dune_vm_scan_ad(ptent_t *root, void *va, size_t len, int bits,
		     bool clear, uint64_t *bitmap)
{
	struct pt_flush fl;
	long r;

	pt_flush_init(&fl);
	r = pt_scan_ad(&vm_ops, root, (uint64_t)va, len, bits, clear, bitmap,
		       &fl);
	flush(root, &fl);
	return r;
}

/* Resolve a write to the COW leaf *@e for @addr; false if out of memory. */
static bool cow_resolve(ptent_t *e, uintptr_t addr)
{
	uintptr_t page = addr & ~(PT_PAGE - 1);
	ptent_t old = *e;
	struct page *oldpg = (old & PTE_POOL) ? dune_pa2page(old & PTE_ADDR_MASK)
					      : NULL;
	struct page *pg;

	if (oldpg && __atomic_load_n(&oldpg->ref, __ATOMIC_ACQUIRE) == 1) {
		*e = (old | PTE_W) & ~PTE_COW;	/* last mapping: take it */
		dune_flush_tlb_one(page);
		return true;
	}
	pg = dune_page_alloc();
	if (!pg)
		return false;
	dune_copy(dune_page2va(pg), (void *)page, PT_PAGE);
	*e = dune_page2pa(pg) | ((old & ~PTE_ADDR_MASK & ~PTE_COW) | PTE_W |
				 PTE_POOL);
	dune_flush_tlb_one(page);
	if (oldpg)
		dune_page_put(oldpg);
	return true;
}

/* @tf may be NULL (dune_vm_default_pgflt_handler has none). */
static __attribute__((noreturn)) void pgflt_die(uintptr_t addr, uint64_t fec,
						struct dune_tf *tf,
						const char *why)
{
	struct dune_out o;

	dune_out_init(&o, 2);
	dune_out_str(&o, "dune: page fault");
	if (tf) {
		dune_out_str(&o, " at rip ");
		dune_out_hex(&o, tf->rip);
	}
	dune_out_str(&o, ", address ");
	dune_out_hex(&o, addr);
	dune_out_str(&o, ", error code ");
	dune_out_hex(&o, fec);
	dune_out_str(&o, ": ");
	dune_out_str(&o, why);
	dune_out_str(&o, "\n");
	dune_out_flush(&o);
	if (tf)
		dune_dump_trap_frame(tf);
	dune_die_signal(SIGSEGV);
}

void dune_vm_cow_pgflt_handler(uintptr_t addr, uint64_t fec,
			       struct dune_tf *tf)
{
	ptent_t *root = dune_vm_current(), *e = NULL;
	int level = 0;

	if ((fec & (FEC_P | FEC_W)) != (FEC_P | FEC_W) ||
	    pt_lookup(&vm_ops, root, addr, false, &e, &level) ||
	    (*e & (PTE_P | PTE_COW)) != (PTE_P | PTE_COW))
		pgflt_die(addr, fec, tf,
			  "not a write to a copy-on-write page (the default page-fault handler handles only those; register your own handler for the rest)");
	/* Copy 4 KiB, not a whole large page: split it first. */
	while (level > 0) {
		if (pt_split(&vm_ops, e, level) ||
		    pt_lookup(&vm_ops, root, addr, false, &e, &level))
			pgflt_die(addr, fec, tf,
				  "out of pool pages to split a copy-on-write page");
	}
	if (!cow_resolve(e, addr))
		pgflt_die(addr, fec, tf,
			  "out of pool pages to copy a copy-on-write page");
}

void dune_vm_default_pgflt_handler(uintptr_t addr, uint64_t fec)
{
	dune_vm_cow_pgflt_handler(addr, fec, NULL);
}

/* vm.c builds pgroot with pool pages through its own small ops. */
static void *build_alloc(void *ctx)
{
	return ops_alloc(ctx);
}

static uint64_t build_pa(void *ctx, const void *page)
{
	return ops_pa(ctx, page);
}

static void *build_ptr(void *ctx, uint64_t pa)
{
	return ops_ptr(ctx, pa);
}

/* Add the bits *@arg to a leaf (PTE_FILL, PTE_U: all large, just built). */
static int add_bits(const void *arg, ptent_t *e, void *va)
{
	*e |= *(const ptent_t *)arg;
	return 0;
}

/* Replace the PTE_FILL leaves over [va, va + 2 MiB) by 4 KiB leaves. */
static int split_block(uint64_t va)
{
	ptent_t *e;

	return lookup_4k(pgroot, va, false, &e, NULL);
}

/*
 * The pool as the original mapped it: 2 MiB leaves, not PTE_FILL, and
 * supervisor-only (PERM_BIG without PERM_U) whatever dune_init's mode:
 * the page tables are in it.
 */
static int pool_big(void)
{
	uint64_t va, end = PAGEBASE + (uint64_t)num_pages * PT_PAGE;
	ptent_t *e;
	int r, level;

	for (va = PAGEBASE; va < end; va += DUNE_PGSIZE_2M) {
		r = pt_lookup(&vm_ops, pgroot, va, false, &e, &level);
		if (!r && level == 2)
			r = pt_split(&vm_ops, e, 2) ?:
			    pt_lookup(&vm_ops, pgroot, va, false, &e, &level);
		if (r)
			return r;
		if (level == 1)
			*e &= ~(PTE_FILL | PTE_U);
	}
	return 0;
}

/*
 * 4 KiB leaves where the process has memory now: every 2 MiB block an
 * area of @h touches (at most DUNE_PGROOT_4K_BLOCKS of them, so a huge
 * reservation costs no more than that; what is left stays PTE_FILL and
 * is split when looked up).
 */
static int split_areas(const struct dune_layout_hints *h)
{
	uint64_t pool_end = PAGEBASE + (uint64_t)num_pages * PT_PAGE;
	unsigned long blocks = 0;
	unsigned int i;
	uint64_t va;
	int r;

	for (i = 0; i < h->nr_areas; i++) {
		const struct dune_area *a = &h->area[i];

		for (va = a->lo & ~(DUNE_PGSIZE_2M - 1); va < a->hi;
		     va += DUNE_PGSIZE_2M) {
			if (va >= PAGEBASE && va < pool_end)
				continue;
			if (dune_layout_va_to_pa(&dune_proc.layout, va) ==
			    DUNE_BAD_ADDR)
				continue;
			if (++blocks > DUNE_PGROOT_4K_BLOCKS)
				return 0;
			r = split_block(va);
			if (r && r != -ENOENT)
				return r;
		}
	}
	return 0;
}

/* The windows holding @va: its first address and GPA. */
static void window_of(uint64_t va, uintptr_t *base, uintptr_t *gpa)
{
	const struct dune_layout *l = &dune_proc.layout;
	unsigned int i;

	for (i = 0; i < l->nr; i++) {
		if (va - l->w[i].va < l->w[i].size) {
			*base = l->w[i].va;
			*gpa = l->w[i].gpa;
			return;
		}
	}
}

DUNE_NOFPU_END

static int vdso_err;

/*
 * The original opened the vDSO (read, execute) and vvar (read) to ring 3
 * in both of dune_init's modes; under dune_init(0) that is all ring 3
 * gets of pgroot.  Not in DUNE_INIT_BIG_PGROOT's tree (ours): it would
 * split its 1 GiB leaf there.
 */
static void open_vdso(const struct dune_procmap_entry *e)
{
	int perm, r;

	if (e->type == PROCMAP_TYPE_VDSO)
		perm = PERM_R | PERM_X | PERM_U;
	else if (e->type == PROCMAP_TYPE_VVAR)
		perm = PERM_R | PERM_U;
	else
		return;
	if (!dune_layout_covers(&dune_proc.layout, e->begin, e->end))
		return;
	r = dune_vm_mprotect(pgroot, (void *)e->begin, e->end - e->begin,
			     perm);
	if (r && !vdso_err)
		vdso_err = r;
}

int dune_vm_init(const struct dune_layout_hints *h, uint64_t mmap_hint,
		 unsigned int flags)
{
	bool big = flags & DUNE_INIT_BIG_PGROOT;
	bool user = flags & DUNE_INIT_USER_PGROOT;
	ptent_t bits = (big ? 0 : PTE_FILL) | (user ? PTE_U : 0);
	struct dune_pt_ops ops = {
		.alloc = build_alloc, .pa = build_pa, .ptr = build_ptr,
	};
	uint64_t pgsize = dune_proc.pdpe1gb ? DUNE_PGSIZE_1G : DUNE_PGSIZE_2M;
	uint64_t *pml4;
	unsigned int i;
	struct page *pg;
	int r;

	r = dune_pt_build(&dune_proc.layout, pgsize, &ops, &pml4);
	if (r)
		goto fail;
	pgroot = pml4;
	/*
	 * The leaves split later (split_areas, dune_vm_lookup, mprotect)
	 * keep these bits: with PTE_U, memory the process maps after
	 * dune_init is ring 3's too, as the original's map_full had it.
	 */
	if (bits)
		pt_walk(&vm_ops, pgroot, 0, PT_USER_END - 1, add_bits, &bits);
	r = 0;
	if (!big || user)
		r = pool_big();
	if (!r && !big)
		r = split_areas(h);
	if (!r && !user && !big) {
		dune_procmap_iterate(open_vdso);
		r = vdso_err;
	}
	if (r)
		goto fail;
	dune_proc.cr3 = ops_pa(NULL, pml4);
	/* CR3 as dune_enter loads it: PCID 0, flushed on entry. */
	pg = root_page(pgroot);
	pg->flags = ROOT_HAS_PCID;

	phys_limit = 1ull << dune_proc.layout.maxphyaddr;
	for (i = 0; i < h->nr_areas; i++)
		if (h->area[i].kind == DUNE_AREA_STACK)
			window_of(h->area[i].lo, &stack_base, &stack_gpa);
	window_of(mmap_hint, &mmap_base, &mmap_gpa);
	return 0;
fail:
	fprintf(stderr, "libdune: building the page tables failed: %s\n",
		strerror(-r));
	errno = -r;
	return -1;
}
