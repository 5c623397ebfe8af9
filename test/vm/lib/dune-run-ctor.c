// SPDX-License-Identifier: MIT
/*
 * For itest-dune-run: a shared library (build/bin/dune-run-ctor.so) to
 * preload next to libdune.so.  Its constructor says whether it runs in
 * Dune mode (CPL 0), i.e. whether libdune.so's constructor ran first.
 */
#include <stdio.h>

static void __attribute__((constructor)) ctor(void)
{
	unsigned short cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	fprintf(stderr, "dune-run-ctor.so: cpl %d\n", cs & 3);
}
