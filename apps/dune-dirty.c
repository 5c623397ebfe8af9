// SPDX-License-Identifier: MIT
/*
 * dune-dirty: which pages of a buffer did the program write?  The CPU
 * sets the dirty bit of a page-table entry on the first write through
 * it; dune_vm_scan_ad reads and clears those bits over a range (and
 * flushes the TLB so the next write sets them again).  This is what an
 * incremental snapshot or a generational garbage collector needs, with
 * no write protection and no faults.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "dune.h"

#define PAGES 256

static uint64_t bitmap[PAGES / 64];

/* Print the dirty pages of one round; the number of them. */
static long report(int round, char *buf)
{
	long n;

	memset(bitmap, 0, sizeof(bitmap));
	n = dune_vm_scan_ad(pgroot, buf, PAGES * 4096, DUNE_AD_DIRTY, true,
			    bitmap);
	printf("round %d: %ld dirty page(s):", round, n);
	for (int i = 0; i < PAGES; i++)
		if (bitmap[i / 64] & (1ull << (i % 64)))
			printf(" %d", i);
	printf("\n");
	return n;
}

int main(void)
{
	static const int writes[][4] = { { 3, 17, 42, 200 }, { 0, 255, 17, 17 } };
	char *buf = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED || dune_init_and_enter())
		return 1;
	memset(buf, 0, PAGES * 4096);	/* every page dirty */
	if (report(0, buf) != PAGES)
		return 1;

	for (int r = 0; r < 2; r++) {
		for (int k = 0; k < 4; k++)
			buf[writes[r][k] * 4096 + 100] = 1;
		(void)*(volatile char *)(buf + 99 * 4096);	/* a read */
		report(r + 1, buf);
	}
	return 0;
}
