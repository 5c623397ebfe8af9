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

#define CR3_NOFLUSH	(1ull << 63)
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
	return dune_va_to_pa(&dune_proc.layout, (uint64_t)page);
}

static void *ops_ptr(void *ctx, physaddr_t pa)
{
	struct page *pg = dune_pa2page(pa);

	if (pg)
		return dune_page2va(pg);
	return (void *)dune_pa_to_va(&dune_proc.layout, pa);
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

	return ops_ptr(NULL, cr3 & PTE_ADDR);
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
	return 0;
}

int dune_vm_lookup(ptent_t *root, void *va, int create, ptent_t **pte_out)
{
	return pt_lookup(&vm_ops, root, (uint64_t)va, create, pte_out, NULL);
}

int dune_vm_map_phys(ptent_t *root, void *va, size_t len, void *pa, int perm)
{
	struct pt_flush fl;
	int r;

	pt_flush_init(&fl);
	r = pt_map(&vm_ops, root, (uint64_t)va, len, (uint64_t)pa, perm, true,
		   &fl);
	flush(root, &fl);
	return r;
}

int dune_vm_map_pages(ptent_t *root, void *va, size_t len, int perm)
{
	const struct dune_layout *l = &dune_proc.layout;
	uint64_t v = (uint64_t)va, pa = dune_va_to_pa(l, v);
	struct pt_flush fl;
	int r;

	if (!len)
		return 0;
	/* One window: GPAs follow the addresses without a break. */
	if (pa == DUNE_BAD_ADDR || v + len < v ||
	    dune_va_to_pa(l, v + len - 1) != pa + len - 1)
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

int dune_vm_unmap(ptent_t *root, void *va, size_t len)
{
	struct pt_flush fl;
	int r;

	pt_flush_init(&fl);
	r = pt_unmap(&vm_ops, root, (uint64_t)va, len, &fl);
	flush(root, &fl);
	return r;
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
	struct page *oldpg = (old & PTE_POOL) ? dune_pa2page(old & PTE_ADDR)
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
	*e = dune_page2pa(pg) | ((old & ~PTE_ADDR & ~PTE_COW) | PTE_W |
				 PTE_POOL);
	dune_flush_tlb_one(page);
	if (oldpg)
		dune_page_put(oldpg);
	return true;
}

static __attribute__((noreturn)) void pgflt_die(uintptr_t addr, uint64_t fec,
						struct dune_tf *tf,
						const char *why)
{
	struct dune_out o;

	dune_out_init(&o, 2);
	dune_out_str(&o, "dune: page fault at rip ");
	dune_out_hex(&o, tf->rip);
	dune_out_str(&o, ", address ");
	dune_out_hex(&o, addr);
	dune_out_str(&o, ", error code ");
	dune_out_hex(&o, fec);
	dune_out_str(&o, ": ");
	dune_out_str(&o, why);
	dune_out_str(&o, "\n");
	dune_out_flush(&o);
	dune_dump_trap_frame(tf);
	dune_die_signal(SIGSEGV);
}

void dune_vm_default_pgflt_handler(uintptr_t addr, uint64_t fec,
				   struct dune_tf *tf)
{
	ptent_t *root = dune_vm_current(), *e = NULL;
	int level = 0;

	if ((fec & (FEC_P | FEC_W)) != (FEC_P | FEC_W) ||
	    pt_lookup(&vm_ops, root, addr, false, &e, &level) ||
	    (*e & (PTE_P | PTE_COW)) != (PTE_P | PTE_COW))
		pgflt_die(addr, fec, tf,
			  "not a write to a copy-on-write page (dune_vm_default_pgflt_handler handles only those; register your own handler for the rest)");
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

DUNE_NOFPU_END

int dune_vm_init(void)
{
	struct dune_pt_ops ops = {
		.alloc = build_alloc, .pa = build_pa, .ptr = build_ptr,
	};
	uint64_t pgsize = dune_proc.pdpe1gb ? DUNE_PGSIZE_1G : DUNE_PGSIZE_2M;
	uint64_t *pml4;
	struct page *pg;
	int r;

	r = dune_pt_build(&dune_proc.layout, pgsize, &ops, &pml4);
	if (r) {
		fprintf(stderr, "libdune: building the page tables failed: %s\n",
			strerror(-r));
		errno = -r;
		return -1;
	}
	pgroot = pml4;
	dune_proc.cr3 = ops_pa(NULL, pml4);
	/* CR3 as dune_enter loads it: PCID 0, flushed on entry. */
	pg = root_page(pgroot);
	pg->flags = ROOT_HAS_PCID;
	return 0;
}
