// SPDX-License-Identifier: MIT
/*
 * dune-box: memory calls reflected in the sandbox's root (docs/sandbox.md,
 * "The monitor"): System V shared memory, mremap's DONTUNMAP, old_size 0
 * and growth over pages the program unmapped, SIGSEGV's MAPERR and
 * ACCERR, and ring 3's own GS base.  Each case of test/load/box-mem.c,
 * static and dynamic, runs natively and under dune-box --quiet: stdout
 * and stderr together and the wait status must be identical.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "box-compare.h"

/* --quiet: the refusals the cases provoke are expected */
static const char *const quiet[] = { "--quiet", NULL };

static void test_shm(void)
{
	static const char *const list[] = { "shm", "shm-addr", "shm-rdonly",
					    "shmctl", NULL };

	same_cases(quiet, "box-mem", list);
}

/* The monitor's own mapping is "in use"; the monitor goes on working. */
static void test_shm_inuse(void)
{
	static const char *const list[] = { "shm-inuse", NULL };

	same_cases(quiet, "box-mem", list);
	IT_ASSERT(strstr(boxed.out, "then: still works"));
}

static void test_segv_codes(void)
{
	static const char *const list[] = { "segv", NULL };

	same_cases(quiet, "box-mem", list);
}

static void test_mremap(void)
{
	static const char *const list[] = { "mremap-grow", "mremap-dontunmap",
					    "mremap-dup", NULL };

	same_cases(quiet, "box-mem", list);
}

/* Ring 3's own GS base: arch_prctl, WRGSBASE, threads, signals, fork. */
static void test_gs(void)
{
	static const char *const list[] = { "gs", "gs-threads", "gs-fsgsbase",
					    NULL };

	same_cases(quiet, "box-mem", list);
}

static const struct itest tests[] = {
	{ "shm", test_shm },
	{ "shm_inuse", test_shm_inuse },
	{ "segv_codes", test_segv_codes },
	{ "mremap", test_mremap },
	{ "gs", test_gs },
};

ITEST_MAIN(tests)
