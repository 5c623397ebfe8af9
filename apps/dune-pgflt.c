// SPDX-License-Identifier: MIT
/*
 * dune-pgflt: a user-level page-fault handler, Appel & Li style.
 *
 * A table of squares is computed lazily: its pages start out not present
 * (PERM_NONE), and the first touch of each page faults into our handler,
 * which makes the page writable, fills it and returns; the CPU retries
 * the access.  No system call and no VM exit on that path: the program
 * owns its page tables and its page-fault handler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "dune.h"

#define PAGES 16
#define PER_PAGE (4096 / sizeof(uint64_t))

static uint64_t *table;
static int faults;

/* Runs in the guest on the trap stack: no stdio here. */
static void fill_on_fault(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	uintptr_t page = addr & ~4095ul;
	uint64_t *p = (uint64_t *)page;
	uint64_t first = p - table;

	if (page < (uintptr_t)table ||
	    page >= (uintptr_t)(table + PAGES * PER_PAGE)) {
		dune_dump_trap_frame(tf);	/* not ours: a real bug */
		abort();
	}
	dune_vm_mprotect(pgroot, p, 4096, PERM_R | PERM_W);
	for (uint64_t i = 0; i < PER_PAGE; i++)
		p[i] = (first + i) * (first + i);
	faults++;
}

int main(void)
{
	uint64_t n = PAGES * PER_PAGE, sum = 0, want;

	table = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (table == MAP_FAILED || dune_init_and_enter())
		return 1;

	dune_register_pgflt_handler(fill_on_fault);
	if (dune_vm_mprotect(pgroot, table, PAGES * 4096, PERM_NONE))
		return 1;

	for (uint64_t i = 0; i < n; i++)
		sum += table[i];	/* faults on the first entry of a page */

	want = (n - 1) * n * (2 * n - 1) / 6;
	printf("dune-pgflt: %d page faults handled, sum of squares %s\n",
	       faults, sum == want ? "correct" : "WRONG");
	return sum == want && faults == PAGES ? 0 : 1;
}
