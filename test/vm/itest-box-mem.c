// SPDX-License-Identifier: MIT
/*
 * dune-box: memory calls reflected in the sandbox's root (docs/sandbox.md,
 * "The monitor"): System V shared memory, mremap's DONTUNMAP, old_size 0
 * and growth over pages the program unmapped, SIGSEGV's MAPERR and
 * ACCERR, and ring 3's own GS base.  Each case of test/load/box-mem.c, static and dynamic, runs
 * natively and under dune-box --quiet: stdout and stderr together and the
 * wait status must be identical.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "box-compare.h"

static bool same_case(const char *prog, const char *c)
{
	static const char *const opts[] = { "--quiet", NULL };
	char *argv[] = { (char *)prog, (char *)c, NULL };

	run(argv, &native);
	run_boxed(opts, argv);
	if (same_as_native())
		return true;
	fprintf(stderr, "    %s %s: native status 0x%x, output:\n%s\n"
		"    dune-box status 0x%x, output:\n%s\n", prog, c,
		native.status, native.out, boxed.status, boxed.out);
	return false;
}

static void cases(const char *const list[])
{
	int i, bad = 0;

	for (i = 0; list[i]; i++) {
		bad += !same_case("box-mem", list[i]);
		bad += !same_case("box-mem-static", list[i]);
	}
	if (bad)
		IT_FAIL("%d runs differ from the native ones", bad);
}

static void test_shm(void)
{
	static const char *const list[] = { "shm", "shm-addr", "shm-rdonly",
					    "shmctl", NULL };

	cases(list);
}

/* The monitor's own mapping is "in use"; the monitor goes on working. */
static void test_shm_inuse(void)
{
	static const char *const list[] = { "shm-inuse", NULL };

	cases(list);
	IT_ASSERT(strstr(boxed.out, "then: still works"));
}

static void test_segv_codes(void)
{
	static const char *const list[] = { "segv", NULL };

	cases(list);
}

static void test_mremap(void)
{
	static const char *const list[] = { "mremap-grow", "mremap-dontunmap",
					    "mremap-dup", NULL };

	cases(list);
}

/* Ring 3's own GS base: arch_prctl, WRGSBASE, threads, signals, fork. */
static void test_gs(void)
{
	static const char *const list[] = { "gs", "gs-threads", "gs-fsgsbase",
					    NULL };

	cases(list);
}

static const struct itest tests[] = {
	{ "shm", test_shm },
	{ "shm_inuse", test_shm_inuse },
	{ "segv_codes", test_segv_codes },
	{ "mremap", test_mremap },
	{ "gs", test_gs },
};

ITEST_MAIN(tests)
