// SPDX-License-Identifier: MIT
/*
 * System calls dune-box's table gained (box/systab.c, box/timer.c, ...):
 * each test/load/box-calls-* program, dynamic and static, prints the
 * same bytes and ends the same way under dune-box as natively, bad
 * pointers (the monitor's own pages under dune-box, an unmapped page
 * natively) included.
 */
#include "box-compare.h"

static bool same_case(const char *prog, const char *c)
{
	char *argv[] = { (char *)prog, (char *)c, NULL };

	run(argv, &native);
	run_boxed(NULL, argv);
	if (same_as_native())
		return true;
	fprintf(stderr, "    %s %s: native status 0x%x, output:\n%s\n"
		"    dune-box status 0x%x, output:\n%s\n", prog, c,
		native.status, native.out, boxed.status, boxed.out);
	return false;
}

/* Every case of @prog, dynamic and static. */
static void cases(const char *prog, const char *const list[])
{
	char stat[64];
	int i, bad = 0;

	snprintf(stat, sizeof(stat), "%s-static", prog);
	for (i = 0; list[i]; i++) {
		bad += !same_case(prog, list[i]);
		bad += !same_case(stat, list[i]);
	}
	if (bad)
		IT_FAIL("%d runs differ from the native ones", bad);
}

/* POSIX timers: SIGEV_THREAD_ID, glibc's SIGEV_THREAD, SIGEV_NONE. */
static void test_timers(void)
{
	static const char *const list[] = { "tid", "thread", "none", "fault",
					     NULL };

	cases("box-calls-timer", list);
}

/* /proc/self/exe's stat and access, /proc/self/comm (box/selfexe.c). */
static void test_self(void)
{
	static const char *const list[] = { "stat", "comm", NULL };

	cases("box-calls-self", list);
}

/* capget/capset, adjtimex, epoll_pwait2, pidfd_*, ioprio_*, xattrs. */
static void test_misc(void)
{
	static const char *const list[] = { "ioprio", "caps", "timex",
					     "epoll", "pidfd", "xattr", NULL };

	cases("box-calls-misc", list);
}

/* SysV IPC (ipc.c): msg*, sem*, shmctl. */
static void test_ipc(void)
{
	static const char *const list[] = { "msg", "sem", "shm", NULL };

	cases("box-calls-ipc", list);
}

static const struct itest tests[] = {
	{ "timers", test_timers },
	{ "self", test_self },
	{ "misc", test_misc },
	{ "ipc", test_ipc },
};

ITEST_MAIN(tests)
