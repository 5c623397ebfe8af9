/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * EPT paging structures as plain data (SDM 29.3): 4 levels of 512 64-bit
 * entries, walked by guest-physical address.  No kernel state is touched
 * here: tables come from and return to the caller through ept_pt_ops, so
 * this code is unit-tested on the host.  Locking is the caller's.
 *
 *   GPA bits: 47..39 PML4 | 38..30 PDPT | 29..21 PD | 20..12 PT | 11..0
 *   entry:    bit 0 R, 1 W, 2 X, 5:3 memory type (leaf), 6 ignore PAT,
 *             7 large page (PDPT/PD), 8 accessed, 9 dirty,
 *             51..12 physical address
 */
#ifndef DUNE_EPT_PT_H
#define DUNE_EPT_PT_H

#include "kdefs.h"
#include <dune/uapi.h>

#define EPT_R VMX_EPT_READABLE_MASK
#define EPT_W VMX_EPT_WRITABLE_MASK
#define EPT_X VMX_EPT_EXECUTABLE_MASK
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_LARGE (1ull << 7)
#define EPT_MT_WB (6ull << VMX_EPT_MT_EPTE_SHIFT)
#define EPT_MT_UC (0ull << VMX_EPT_MT_EPTE_SHIFT)
#define EPT_ADDR_MASK 0x000ffffffffff000ull
#define EPT_LEVELS 4
#define EPT_2M (1ull << 21)

struct ept_pt_ops {
	/* A zeroed 4 KiB table; *pa gets its physical address.  NULL if none. */
	u64 *(*alloc)(void *opaque, u64 *pa);
	void (*free)(void *opaque, u64 *table);
	/*
	 * A table ept_pt_zap emptied and unlinked.  A CPU may still hold it
	 * in its paging-structure caches (SDM 29.4.3) until the caller's
	 * INVEPT, so the caller frees it only after that flush.
	 */
	void (*retire)(void *opaque, u64 *table);
	u64 *(*pa_to_table)(void *opaque, u64 pa);
	void *opaque;
};

struct ept_pt {
	u64 *root;
	u64 root_pa;
	const struct ept_pt_ops *ops;
	u64 max_gpa;		/* exclusive bound: 2^MAXPHYADDR */
};

int ept_pt_init(struct ept_pt *pt, const struct ept_pt_ops *ops,
		unsigned int maxphyaddr);
/* Free every table.  Leaves pt unusable until ept_pt_init. */
void ept_pt_destroy(struct ept_pt *pt);

/*
 * Map the 4 KiB (@large false) or 2 MiB (@large true) guest-physical page
 * at @gpa to @hpa with @flags (EPT_R/W/X | EPT_MT_*).  An existing mapping
 * of that page is replaced; a 2 MiB mapping in the way of a 4 KiB one is
 * removed first.  Returns 0, -EINVAL (misaligned / out of range), -ENOMEM,
 * or -EEXIST for a 2 MiB mapping where a page table already is.
 */
int ept_pt_map(struct ept_pt *pt, u64 gpa, u64 hpa, u64 flags, bool large);

/* The leaf entry mapping @gpa (0 if none); *large says whether 2 MiB. */
u64 ept_pt_lookup(const struct ept_pt *pt, u64 gpa, bool *large);

/*
 * Remove every leaf mapping that overlaps [start, end).  A 2 MiB mapping
 * partly inside is removed whole (it is re-faulted on demand).  A table
 * below the root left with no present entry is unlinked and handed to
 * ops->retire, so memory the guest no longer maps does not keep its
 * tables.  Returns the number of entries removed (leaves and unlinked
 * tables): nonzero means the caller must flush before it frees retired
 * tables or reuses what the leaves mapped.
 */
unsigned long ept_pt_zap(struct ept_pt *pt, u64 start, u64 end);

/*
 * The 2 MiB EPT entry decision, in two steps around the caller's look at
 * the process's page tables.
 *
 * ept_pt_slot_2m: may the 2 MiB guest-physical page around @gpa be one EPT
 * entry as far as the slots go?  Only if one slot backs all of it (slots
 * do not overlap, so no other slot's page falls under the entry) and the
 * slot's host-virtual range for it is 2 MiB aligned; *hva gets its start.
 *
 * ept_pt_host_2m: the process maps that range with one 2 MiB leaf at
 * host-physical @leaf_hpa (@leaf_writable); the fault at @gpa resolved to
 * the 4 KiB page @page_hpa.  True if one entry then grants exactly what
 * the process has: the leaf is aligned, holds that page at the same
 * offset (one contiguous host range), and allows a write if one is asked.
 */
bool ept_pt_slot_2m(const struct dune_slot *slots, unsigned int nr, u64 gpa,
		    u64 *hva);
bool ept_pt_host_2m(u64 gpa, u64 page_hpa, u64 leaf_hpa, bool leaf_writable,
		    bool write);

/* EPTP for this table (SDM 25.6.11): WB, 4-level walk, optional A/D. */
static inline u64 ept_pt_eptp(const struct ept_pt *pt, bool ad)
{
	return pt->root_pa | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4 |
	       (ad ? VMX_EPTP_AD_ENABLE_BIT : 0);
}

#endif
