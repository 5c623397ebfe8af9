// SPDX-License-Identifier: GPL-2.0-only
/*
 * The EPT fault path: an EPT violation at a guest-physical address is
 * resolved from the process's own memory.  Entries are made lazily from
 * get_user_pages() with exactly the access asked for, so a write to a
 * copy-on-write page breaks COW the normal way, or from the process's
 * own PTE for VM_PFNMAP memory (the vDSO's vvar page); 2 MiB entries
 * only where one slot maps a whole aligned 2 MiB page of the process.
 * The context (ctx.c) keeps what is mapped coherent with the process.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/version.h>
#include <asm/io.h>

#include "dune.h"
#include "vmx_ops.h"

static bool ept_huge = true;
module_param(ept_huge, bool, 0444);
MODULE_PARM_DESC(ept_huge, "Map 2 MiB EPT pages where the process maps a 2 MiB page (default on)");

/*
 * VM_PFNMAP/VM_IO mappings (the vDSO's vvar pages, device mappings) have
 * no struct page for get_user_pages: read the process's own PTE instead.
 * Called with the mmap lock held.
 */
static int ept_pfnmap_lookup(struct vm_area_struct *vma, unsigned long hva,
			     bool write, u64 *pfn, bool *writable)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	struct follow_pfnmap_args args = { .vma = vma, .address = hva };
	int r = follow_pfnmap_start(&args);

	if (r)
		return r;
	*pfn = args.pfn;
	*writable = args.writable;
	follow_pfnmap_end(&args);
#else
	spinlock_t *ptl;
	pte_t *ptep;
	int r = follow_pte(vma->vm_mm, hva, &ptep, &ptl);

	if (r)
		return r;
	*pfn = pte_pfn(*ptep);
	*writable = pte_write(*ptep);
	pte_unmap_unlock(ptep, ptl);
#endif
	return (write && !*writable) ? -EFAULT : 0;
}

/*
 * May the fault at @gpa, which resolved to the 4 KiB page @page_hpa, be
 * mapped with one 2 MiB EPT entry?  Only if it grants no more than the
 * process has: one slot backs the whole 2 MiB guest-physical page at a
 * 2 MiB aligned address (ept_pt_slot_2m), where the process maps a 2 MiB
 * page (a PMD-mapped THP, so one VMA, one permission) holding @page_hpa at
 * the same offset (ept_pt_host_2m).  Called with the mmap lock held; a
 * split, a change or a slot update after this look is caught by the mmu
 * notifier sequence check.  *hpa gets the 2 MiB page's address.
 */
static bool ept_host_huge(struct dune_ctx *ctx, struct mm_struct *mm, u64 gpa,
			  u64 page_hpa, bool write, u64 *hpa)
{
	u64 base;
	bool ok;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t pmd;

	spin_lock(&ctx->lock);
	ok = ept_pt_slot_2m(ctx->slots, DUNE_MAX_SLOTS, gpa, &base);
	spin_unlock(&ctx->lock);
	if (!ok)
		return false;

	pgd = pgd_offset(mm, base);
	if (!pgd_present(*pgd))
		return false;
	p4d = p4d_offset(pgd, base);
	if (!p4d_present(*p4d))
		return false;
	pud = pud_offset(p4d, base);
	if (!pud_present(*pud) || pud_leaf(*pud))
		return false;
	pmd = READ_ONCE(*pmd_offset(pud, base));
	if (!pmd_present(pmd) || !pmd_trans_huge(pmd))
		return false;
	*hpa = (u64)pmd_pfn(pmd) << PAGE_SHIFT;
	return ept_pt_host_2m(gpa, page_hpa, *hpa, pmd_write(pmd), write);
}

int ept_handle_violation(struct dune_ctx *ctx, u64 gpa, bool write,
			 bool exec, u64 *ept_maps)
{
	struct mm_struct *mm = ctx->mm;
	struct vm_area_struct *vma;
	unsigned long hva, seq;
	struct page *page = NULL;
	u64 hpa, hpa_2m = 0, flags = EPT_R;
	bool pfnmap, writable = false, large = false;
	u64 pfn = 0;
	long got;
	int r;

	r = ctx_topup_cache(ctx);
	if (r)
		return r;

	spin_lock(&ctx->lock);
	seq = ctx->mn_seq;
	r = ctx_gpa_to_hva(ctx, gpa, &hva) ? 0 : -EFAULT;
	spin_unlock(&ctx->lock);
	if (r)
		return r;
	/* Pairs with the lock in invalidate_range_end: seq before the walk. */
	smp_rmb();

	mmap_read_lock(mm);
	vma = find_vma(mm, hva);
	if (!vma || hva < vma->vm_start ||
	    !(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) ||
	    (write && !(vma->vm_flags & VM_WRITE)) ||
	    (exec && !(vma->vm_flags & VM_EXEC))) {
		mmap_read_unlock(mm);
		return -EFAULT;
	}
	if (vma->vm_flags & VM_EXEC)
		flags |= EPT_X;
	pfnmap = vma->vm_flags & (VM_IO | VM_PFNMAP);
	if (pfnmap) {
		r = ept_pfnmap_lookup(vma, hva, write, &pfn, &writable);
		if (r) {
			bool unlocked = false;

			/* Not faulted in yet: let Linux do it, then look again. */
			r = fixup_user_fault(mm, hva, write ? FAULT_FLAG_WRITE : 0,
					     &unlocked);
			if (!r) {
				vma = find_vma(mm, hva);
				r = (vma && hva >= vma->vm_start) ?
					    ept_pfnmap_lookup(vma, hva, write,
							      &pfn, &writable) :
					    -EFAULT;
			}
		}
		mmap_read_unlock(mm);
		if (r)
			return -EFAULT;
		hpa = pfn << PAGE_SHIFT;
		flags |= writable ? EPT_W : 0;
		flags |= pfn_valid(pfn) ? EPT_MT_WB : EPT_MT_UC;
	} else {
		mmap_read_unlock(mm);
		got = get_user_pages_unlocked(hva & PAGE_MASK, 1, &page,
					      write ? FOLL_WRITE : 0);
		if (got != 1)
			return got == -ENOMEM ? -ENOMEM : -EFAULT;
		hpa = page_to_phys(page);
		/* Writable only once asked for: the write broke COW for us. */
		flags |= (write ? EPT_W : 0) | EPT_MT_WB;
		/* Now that the page is in, see whether Linux maps it huge. */
		if (ept_huge && caps_has(&vmx_caps, DUNE_CAP_EPT_2M)) {
			mmap_read_lock(mm);
			large = ept_host_huge(ctx, mm, gpa, hpa, write, &hpa_2m);
			mmap_read_unlock(mm);
		}
	}

	for (;;) {
		spin_lock(&ctx->lock);
		if (ctx->mn_active || ctx->mn_seq != seq) {
			/* The page may be stale; let the guest fault again. */
			r = 0;
		} else {
			r = large ? ept_pt_map(&ctx->ept, gpa & PMD_MASK,
					       hpa_2m, flags, true) :
				    -EEXIST;
			if (r == -EEXIST)
				r = ept_pt_map(&ctx->ept, gpa & PAGE_MASK, hpa,
					       flags, false);
			if (!r)
				(*ept_maps)++;
		}
		spin_unlock(&ctx->lock);
		/*
		 * -ENOMEM here only means the cache ran dry: other vCPUs of
		 * the context used the pages set aside at the top while this
		 * one slept (in get_user_pages, on the mmap lock).  Set more
		 * aside and try again; only the kernel having no page for the
		 * cache is a real out-of-memory for the caller.
		 */
		if (r != -ENOMEM)
			break;
		r = ctx_topup_cache(ctx);
		if (r)
			break;
	}
	if (page)
		put_page(page);
	return r;
}
