// SPDX-License-Identifier: MIT
/*
 * dune-box and robust futexes (box/robust.c): a thread or a process that
 * dies holding a robust mutex leaves it FUTEX_OWNER_DIED and wakes a
 * waiter, as Linux's exit_robust_list does; get_robust_list reads the
 * caller's own list.  Each box-robust case's output (stdout and stderr
 * together) and wait status under dune-box must be those of its native
 * run, static and dynamic.
 */
#include "box-compare.h"

static void robust_case(const char *name)
{
	char *dyn[] = { "box-robust", (char *)name, NULL };
	char *stat[] = { "box-robust-static", (char *)name, NULL };

	same(NULL, dyn);
	same(NULL, stat);
}

/* A thread ends holding the mutex; main locks it afterwards. */
static void test_thread(void) { robust_case("thread"); }
/* ... while main sleeps on it: the death wakes main. */
static void test_waiter(void) { robust_case("waiter"); }
/* Process-shared, in shared memory: a fork child exits holding it. */
static void test_pshared(void) { robust_case("pshared"); }
static void test_pshared_waiter(void) { robust_case("pshared-waiter"); }
/* another thread than exit_group's caller holds it */
static void test_pshared_other(void) { robust_case("pshared-other"); }
/* A hand-made list: a loop (the walk's limit), a pending entry. */
static void test_raw(void) { robust_case("raw"); }
/* ... ending in an unmapped pointer: the walk stops, pending untouched. */
static void test_raw_badend(void) { robust_case("raw-badend"); }
/* get_robust_list by pid 0 and by the own tid; EFAULT, EINVAL. */
static void test_getlist(void) { robust_case("getlist"); }

static const struct itest tests[] = {
	{ "thread", test_thread },
	{ "waiter", test_waiter },
	{ "pshared", test_pshared },
	{ "pshared_waiter", test_pshared_waiter },
	{ "pshared_other", test_pshared_other },
	{ "raw", test_raw },
	{ "raw_badend", test_raw_badend },
	{ "getlist", test_getlist },
};

ITEST_MAIN(tests)
