// SPDX-License-Identifier: MIT
/* Guest page-table builder (see vm.h).  Pure logic. */
#include <errno.h>

#include "vm.h"

/*
 * Entries of a table level: A set up front, so the CPU need not write it;
 * U and W so that the leaf alone decides what ring 3 may do.
 */
#define PT_TABLE_FLAGS (PTE_P | PTE_W | PTE_U | PTE_A)
#define PT_LEAF_FLAGS (PTE_P | PTE_W | PTE_A | PTE_D | PTE_PS)

/* Level 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT. */
static unsigned int pt_index(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

static bool is_canonical_user(uint64_t va)
{
	return va < (1ull << 47);
}

/* The table an entry points to, making it if @ops->alloc is given. */
static uint64_t *pt_next(uint64_t *entry, const struct dune_pt_ops *ops,
			 bool create)
{
	uint64_t *page;

	if (*entry & PTE_P) {
		if (*entry & PTE_PS)
			return NULL;	/* a large page is in the way */
		return ops->ptr(ops->ctx, *entry & PTE_ADDR_MASK);
	}
	if (!create)
		return NULL;
	page = ops->alloc(ops->ctx);
	if (!page)
		return NULL;
	*entry = (ops->pa(ops->ctx, page) & PTE_ADDR_MASK) | PT_TABLE_FLAGS;
	return page;
}

int dune_pt_map(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t size,
		uint64_t page_size, const struct dune_pt_ops *ops)
{
	int leaf_level;
	uint64_t off;

	if (page_size == DUNE_PGSIZE_1G)
		leaf_level = 2;
	else if (page_size == DUNE_PGSIZE_2M)
		leaf_level = 1;
	else
		return -EINVAL;
	if ((va | pa | size) & (page_size - 1) || !size ||
	    !is_canonical_user(va + size - 1) || va + size < va ||
	    (pa + size - 1) & ~PTE_ADDR_MASK & ~(page_size - 1))
		return -EINVAL;

	for (off = 0; off < size; off += page_size) {
		uint64_t *table = pml4, want;
		int level;

		for (level = 3; level > leaf_level; level--) {
			uint64_t *e = &table[pt_index(va + off, level)];
			bool was_present = *e & PTE_P;

			table = pt_next(e, ops, true);
			if (!table)
				return was_present ? -EEXIST : -ENOMEM;
		}
		want = ((pa + off) & PTE_ADDR_MASK) | PT_LEAF_FLAGS;
		table += pt_index(va + off, leaf_level);
		if (*table & PTE_P && *table != want)
			return -EEXIST;
		*table = want;
	}
	return 0;
}

static uint64_t window_map_size(const struct dune_window *w)
{
	return (w->size + DUNE_GIB - 1) & ~(DUNE_GIB - 1);
}

int dune_pt_build(const struct dune_layout *l, uint64_t page_size,
		  const struct dune_pt_ops *ops, uint64_t **pml4)
{
	unsigned int i;
	int r;

	*pml4 = ops->alloc(ops->ctx);
	if (!*pml4)
		return -ENOMEM;
	for (i = 0; i < l->nr; i++) {
		r = dune_pt_map(*pml4, l->w[i].va, l->w[i].gpa,
				window_map_size(&l->w[i]), page_size, ops);
		if (r)
			return r;
	}
	return 0;
}

/* How many aligned blocks of @unit [va, va + size) touches. */
static size_t blocks(uint64_t va, uint64_t size, uint64_t unit)
{
	return ((va + size - 1) / unit) - (va / unit) + 1;
}

size_t dune_pt_pages_needed(const struct dune_layout *l, uint64_t page_size)
{
	size_t n = 1;	/* PML4 */
	unsigned int i;

	for (i = 0; i < l->nr; i++) {
		uint64_t sz = window_map_size(&l->w[i]);

		n += blocks(l->w[i].va, sz, 1ull << 39);	/* PDPTs */
		if (page_size == DUNE_PGSIZE_2M)
			n += blocks(l->w[i].va, sz, 1ull << 30);	/* PDs */
	}
	return n;
}

int dune_pt_walk(const uint64_t *pml4, uint64_t va,
		 const struct dune_pt_ops *ops, uint64_t *pa, uint64_t *leaf,
		 uint64_t *page_size)
{
	const uint64_t *table = pml4;
	int level;

	if (!is_canonical_user(va))
		return -ENOENT;
	for (level = 3; level >= 0; level--) {
		uint64_t e = table[pt_index(va, level)];
		uint64_t size = 1ull << (12 + 9 * level);

		if (!(e & PTE_P))
			return -ENOENT;
		if (level == 0 || (level <= 2 && (e & PTE_PS))) {
			*pa = (e & PTE_ADDR_MASK & ~(size - 1)) | (va & (size - 1));
			if (leaf)
				*leaf = e;
			if (page_size)
				*page_size = size;
			return 0;
		}
		table = ops->ptr(ops->ctx, e & PTE_ADDR_MASK);
		if (!table)
			return -ENOENT;
	}
	return -ENOENT;
}
