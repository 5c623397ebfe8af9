/* SPDX-License-Identifier: MIT */
/*
 * Guest page tables: 4-level x86-64 tables that map every window of the
 * layout (VA -> GPA) with large pages, present, writable, supervisor and
 * executable.  They grant everything on purpose: the EPT already enforces
 * what the process may really do with each page, and large pages keep the
 * tables tiny and never in need of updates when the process maps memory.
 *
 * The builder is pure: it gets page-table pages and their guest-physical
 * addresses from callbacks, so the unit tests build and walk tables in
 * ordinary heap memory.
 */
#ifndef LIBDUNE_VM_H
#define LIBDUNE_VM_H

#include <stddef.h>
#include <stdint.h>

#include "dune.h"	/* PTE_* */
#include "layout.h"

#define DUNE_PGSIZE_4K	(1ull << 12)
#define DUNE_PGSIZE_2M	(1ull << 21)
#define DUNE_PGSIZE_1G	(1ull << 30)

struct dune_pt_ops {
	/* A zeroed, 4 KiB aligned page for a table, or NULL. */
	void *(*alloc)(void *ctx);
	/* The guest-physical address of a page from alloc. */
	uint64_t (*pa)(void *ctx, const void *page);
	/* The table page at guest-physical @pa (to descend into it). */
	void *(*ptr)(void *ctx, uint64_t pa);
	void *ctx;
};

/*
 * Map [va, va + size) to [pa, pa + size) with pages of @page_size
 * (2 MiB or 1 GiB; everything aligned to it).  Re-mapping the same
 * translation is allowed; a different one is -EEXIST.  0, -EINVAL,
 * -ENOMEM or -EEXIST.
 */
int dune_pt_map(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t size,
		uint64_t page_size, const struct dune_pt_ops *ops);

/*
 * Build tables for every window of @l (each rounded up to whole GiB: the
 * GPAs past a window's slot belong to no slot, so the EPT refuses them).
 * *@pml4 is the root.  Returns 0 or a negative errno.
 */
int dune_pt_build(const struct dune_layout *l, uint64_t page_size,
		  const struct dune_pt_ops *ops, uint64_t **pml4);

/* Upper bound of the table pages dune_pt_build allocates. */
size_t dune_pt_pages_needed(const struct dune_layout *l, uint64_t page_size);

/*
 * Translate @va by walking the tables.  0 with *@pa (and the leaf entry
 * and its page size when the pointers are not NULL), or -ENOENT.
 */
int dune_pt_walk(const uint64_t *pml4, uint64_t va,
		 const struct dune_pt_ops *ops, uint64_t *pa, uint64_t *leaf,
		 uint64_t *page_size);

#endif
