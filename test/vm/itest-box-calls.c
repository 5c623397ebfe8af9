// SPDX-License-Identifier: MIT
/*
 * System calls dune-box's table gained (box/systab.c, box/timer.c, ...):
 * each test/load/box-calls-* program, dynamic and static, prints the
 * same bytes and ends the same way under dune-box as natively, bad
 * pointers (the monitor's own pages under dune-box, an unmapped page
 * natively) included.
 */
#include "box-compare.h"

/* POSIX timers: SIGEV_THREAD_ID, glibc's SIGEV_THREAD, SIGEV_NONE. */
static void test_timers(void)
{
	static const char *const list[] = { "tid", "thread", "none", "fault",
					     NULL };

	same_cases(NULL, "box-calls-timer", list);
}

/* /proc/self/exe's stat and access, /proc/self/comm (box/selfexe.c). */
static void test_self(void)
{
	static const char *const list[] = { "stat", "comm", NULL };

	same_cases(NULL, "box-calls-self", list);
}

/* capget/capset, adjtimex, epoll_pwait2, pidfd_*, ioprio_*, xattrs. */
static void test_misc(void)
{
	static const char *const list[] = { "ioprio", "caps", "timex",
					     "epoll", "pidfd", "xattr", NULL };

	same_cases(NULL, "box-calls-misc", list);
}

/* SysV IPC (ipc.c): msg*, sem*, shmctl. */
static void test_ipc(void)
{
	static const char *const list[] = { "msg", "sem", "shm", NULL };

	same_cases(NULL, "box-calls-ipc", list);
}

static const struct itest tests[] = {
	{ "timers", test_timers },
	{ "self", test_self },
	{ "misc", test_misc },
	{ "ipc", test_ipc },
};

ITEST_MAIN(tests)
