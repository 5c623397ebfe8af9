/* SPDX-License-Identifier: MIT */
/*
 * Shared by the test/load/box-calls-*.c programs (system calls the
 * monitor's table gained): a pointer the program does not own, and the
 * "yes"/"no" of a relation (no addresses, pids or times are printed:
 * the native and the boxed runs must print the same bytes).
 */
#ifndef BOX_CALLS_H
#define BOX_CALLS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static inline const char *yes(int c)
{
	return c ? "yes" : "no";
}

/*
 * An address the program does not own: under dune-box one of the
 * monitor's own pages (dune-box's code, from the process's maps), natively
 * a page that was unmapped.  A call given it fails with EFAULT both ways.
 */
static inline void *foreign_address(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	uint64_t lo = 0, hi;
	void *p;

	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "dune-box") && strstr(line, " r-xp ") &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
		lo = 0;
	}
	if (f)
		fclose(f);
	if (lo)
		return (void *)(lo + 64);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, 4096);
	return (char *)p + 64;
}

/* "name: ret R errno E" for a raw call's result. */
#define SHOW(name, call)						\
	do {								\
		long r_ = (call);					\
		printf("%s: ret %ld errno %d\n", name, r_,		\
		       r_ < 0 ? errno : 0);				\
	} while (0)

#endif
