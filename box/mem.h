/* SPDX-License-Identifier: MIT */
/*
 * dune-box: the memory the sandbox owns.
 *
 * The monitor and the sandboxed program share one Linux address space.
 * The monitor keeps the set of ranges the sandbox owns (its ELF
 * segments, stack, brk, vDSO and every mapping it made with mmap); only
 * those are user-accessible in the sandbox's page-table root, and every
 * pointer a ring-3 system call passes to Linux must lie wholly inside
 * them.  A range, once the sandbox's, never goes back to the free pool
 * while the sandbox lives (munmap leaves a PROT_NONE reservation behind),
 * so the monitor's own allocations can never land where a check made
 * earlier by another sandbox thread said "sandbox memory".
 *
 * Owner: the monitor (box/mem.c).  The loader (load.h) calls
 * box_mem_add for what it maps.
 */
#ifndef BOX_MEM_H
#define BOX_MEM_H

#include <stdbool.h>
#include <stdint.h>

struct box_mem;

/* PROT_* of the range as mapped for ring 3 (PROT_READ|WRITE|EXEC). */
int box_mem_add(struct box_mem *m, uint64_t lo, uint64_t hi, int prot);

/* Is [p, p + len) wholly sandbox memory, mapped with at least @prot? */
bool box_mem_owns(const struct box_mem *m, uint64_t p, uint64_t len,
		  int prot);

/*
 * The rest belongs to the monitor (box/mem.c).  Ranges are whole pages:
 * box_mem_add rounds lo down and hi up.  box_mem_add sets the prot of
 * [lo, hi) (merging with what is there); PROT_NONE keeps it owned, as a
 * reservation.  0 or -EINVAL (empty, non-canonical or kernel-half range),
 * -ENOMEM.  Once box_mem_build_root made the sandbox's root, every change
 * is reflected there too.
 */
#define BOX_MEM_RESERVED 0x100	/* prot of what munmap left: owned, unmapped */

struct box_mem *box_mem_new(void);
void box_mem_free(struct box_mem *m);

/* Does [lo, hi) overlap any owned range? */
bool box_mem_any(const struct box_mem *m, uint64_t lo, uint64_t hi);

/* The prot of the owned page at @p, or -1 if not owned. */
int box_mem_prot_at(const struct box_mem *m, uint64_t p);

/*
 * The owned range holding @p: its prot, *@end its end; or -1 with *@end
 * the start of the next owned range (UINT64_MAX if none).
 */
int box_mem_span(const struct box_mem *m, uint64_t p, uint64_t *end);

/* Number of ranges and the i-th (for --log, tests). */
unsigned int box_mem_count(const struct box_mem *m);
void box_mem_range(const struct box_mem *m, unsigned int i, uint64_t *lo,
		   uint64_t *hi, int *prot);

/*
 * The sandbox's page-table root: a clone of pgroot (every window
 * supervisor-only) in which exactly the owned ranges are user-accessible
 * with their prot (PROT_NONE: not present).  Needs Dune mode (dune_init).
 * 0, or a negative errno.  box_mem_root: that root, or NULL before.
 */
int box_mem_build_root(struct box_mem *m);
void *box_mem_root(const struct box_mem *m);

#endif
