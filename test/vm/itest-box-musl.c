// SPDX-License-Identifier: MIT
/*
 * dune-box runs musl programs as it runs glibc's (issue 9: "glibc, musl
 * and busybox"): each case of test/load/box-musl.c, built with musl-gcc,
 * dynamic (musl's loader as PT_INTERP) and static, prints the same bytes
 * and ends the same way under dune-box as natively.
 */
#include "box-compare.h"

static void test_start(void)
{
	static const char *const list[] = { "hello", "time", NULL };

	same_cases(NULL, "box-musl", list);
}

/* musl's clone-based threads, TLS, mutex and condition variable */
static void test_threads(void)
{
	static const char *const list[] = { "thread", NULL };

	same_cases(NULL, "box-musl", list);
}

static void test_processes(void)
{
	static const char *const list[] = { "fork", "exec", NULL };

	same_cases(NULL, "box-musl", list);
}

/* a handler at ring 3, a caught SIGSEGV, then death by one */
static void test_signals(void)
{
	static const char *const list[] = { "signal", NULL };

	same_cases(NULL, "box-musl", list);
}

static const struct itest tests[] = {
	{ "start", test_start },
	{ "threads", test_threads },
	{ "processes", test_processes },
	{ "signals", test_signals },
};

ITEST_MAIN(tests)
