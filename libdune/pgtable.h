/* SPDX-License-Identifier: MIT */
/*
 * The page-table core behind dune_vm_* (vmapi.c): x86-64 4-level tables
 * edited through callbacks, so the same code runs on the program's real
 * tables in the guest and on a simulated physical memory in the host
 * unit tests.  Pure logic: no system calls, no libc, general registers
 * only (it runs inside page-fault handlers).
 *
 * Levels: 3 = PML4, 2 = PDPT (1 GiB leaves), 1 = PD (2 MiB leaves),
 * 0 = PT (4 KiB leaves).
 *
 * An entry is one of:
 *   0                        empty
 *   PTE_P, not PTE_PS        a table (levels 3..1); carries P|W|U|A so
 *                            that the leaf alone decides the access
 *   PTE_P or PTE_NONE        a leaf (PTE_PS at levels 2 and 1); PTE_NONE
 *                            marks a leaf made not present by PERM_NONE:
 *                            its address is kept, so a later mprotect
 *                            restores it
 *
 * Every function that changes leaves records the addresses to flush in
 * a struct pt_flush (the caller flushes: the core never touches a TLB).
 */
#ifndef LIBDUNE_PGTABLE_H
#define LIBDUNE_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dune.h"

#define PT_LEVELS	4
#define PT_ENTRIES	512
#define PT_PAGE		4096ull
#define PT_USER_END	(1ull << 47)	/* canonical lower half */
#define PT_TABLE_FLAGS	(PTE_P | PTE_W | PTE_U | PTE_A)

static inline uint64_t pt_level_size(int level)
{
	return 1ull << (12 + 9 * level);
}

struct pt_ops {
	/* A zeroed 4 KiB table page, or NULL. */
	void *(*alloc)(void *ctx);
	/* Give back a table page from alloc. */
	void (*free)(void *ctx, void *page);
	/* GPA of a table page, and the table page at a GPA. */
	physaddr_t (*pa)(void *ctx, const void *page);
	void *(*ptr)(void *ctx, physaddr_t pa);
	/* Is @pa a pool page (refcounted by the leaves that own it)? */
	bool (*is_pool)(void *ctx, physaddr_t pa);
	/* Take / drop a reference on the pool page at @pa. */
	void (*get)(void *ctx, physaddr_t pa);
	void (*put)(void *ctx, physaddr_t pa);
	void *ctx;
};

/*
 * Addresses whose translations changed.  Each recorded address lies in
 * one changed leaf (invlpg of any address of a large page drops it);
 * past PT_FLUSH_MAX leaves, @all says flush everything.
 */
#define PT_FLUSH_MAX 32
struct pt_flush {
	unsigned int n;
	bool all;
	uint64_t va[PT_FLUSH_MAX];
};

static inline void pt_flush_init(struct pt_flush *f)
{
	f->n = 0;
	f->all = false;
}

/* PERM_* to leaf bits and leaf level: 0, or -EINVAL for a bad mix. */
int pt_perm(int perm, uint64_t *bits, int *level);

/* dune_vm_lookup; *@level gets the level of the returned entry. */
int pt_lookup(const struct pt_ops *ops, ptent_t *root, uint64_t va,
	      bool create, ptent_t **pte_out, int *level);

/*
 * Map [va, va + len) to [pa, pa + len).  With @pool, 4 KiB leaves that
 * map a pool page own the caller's reference on it (PTE_POOL).  All or
 * nothing: -EEXIST if anything is mapped there, -ENOMEM undoes the part
 * already mapped.
 */
int pt_map(const struct pt_ops *ops, ptent_t *root, uint64_t va, size_t len,
	   uint64_t pa, int perm, bool pool, struct pt_flush *fl);

int pt_mprotect(const struct pt_ops *ops, ptent_t *root, uint64_t va,
		size_t len, int perm, struct pt_flush *fl);
int pt_unmap(const struct pt_ops *ops, ptent_t *root, uint64_t va, size_t len,
	     struct pt_flush *fl);

/* Leaves overlapping [start, end] (inclusive), with their first address. */
int pt_walk(const struct pt_ops *ops, ptent_t *root, uint64_t start,
	    uint64_t end, page_walk_cb cb, const void *arg);

/* NULL if out of memory (nothing allocated is kept). */
ptent_t *pt_clone(const struct pt_ops *ops, ptent_t *root);
void pt_free(const struct pt_ops *ops, ptent_t *root);

int pt_get_ad(const struct pt_ops *ops, ptent_t *root, uint64_t va);
int pt_clear_ad(const struct pt_ops *ops, ptent_t *root, uint64_t va,
		size_t len, int bits, struct pt_flush *fl);
long pt_scan_ad(const struct pt_ops *ops, ptent_t *root, uint64_t va,
		size_t len, int bits, bool clear, uint64_t *bitmap,
		struct pt_flush *fl);

/*
 * Split the large leaf *@e at @level (1 or 2) into a table of leaves one
 * level down with the same translation and flags.  0 or -ENOMEM.
 */
int pt_split(const struct pt_ops *ops, ptent_t *e, int level);

/* Count the table pages of a tree (the root included). */
size_t pt_count_tables(const struct pt_ops *ops, ptent_t *root);

#endif
