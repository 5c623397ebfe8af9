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

#endif
