// SPDX-License-Identifier: MIT
/*
 * dune-box: signal handlers at ring 3 (docs/sandbox.md, "Signals").  Each
 * case of test/load/box-sig-*.c, static and dynamic, runs natively and
 * under dune-box: stdout and stderr together and the wait status must be
 * identical.  The frame attacks must also leave the monitor working.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "box-compare.h"

static void test_handlers(void)
{
	static const char *const list[] = {
		"kill", "raise", "sigqueue", "tgkill", "mask", "resethand",
		"nodefer", "defer", "altstack", "autodisarm", "longjmp", "fpu",
		NULL };

	same_cases(NULL, "box-sig-handlers", list);
}

static void test_faults(void)
{
	static const char *const list[] = {
		"segv", "accerr", "ud2", "div", "int3", "rerun", "blocked",
		"badfpu", NULL };

	same_cases(NULL, "box-sig-faults", list);
}

/*
 * Frames that claim ring 0's code segment, IOPL 3 with interrupts off, or
 * a rip or rsp in the monitor's memory: as natively (SIGSEGV, flags
 * ignored), and a program that catches the SIGSEGV goes on under a
 * working monitor.
 */
static void test_frame_attacks(void)
{
	static const char *const list[] = { "cs", "iopl", "rip", "rsp", NULL };

	same_cases(NULL, "box-sig-faults", list);
	IT_ASSERT(same_case(NULL, "box-sig-faults", "rip"));
	IT_ASSERT(strstr(boxed.out, "monitor is intact"));
	IT_ASSERT(same_case(NULL, "box-sig-faults", "iopl"));
	IT_ASSERT(strstr(boxed.out, "iopl 0 if 1"));
}

static void test_interrupts(void)
{
	static const char *const list[] = {
		"loop", "read-eintr", "read-restart", "pause", "sigsuspend",
		"nanosleep", NULL };

	same_cases(NULL, "box-sig-intr", list);
}

/* The fidelity harness's plain signal programs (no threads, no fork). */
static void test_fid_programs(void)
{
	static const char *const progs[] = { "fid-sig-flags", "fid-sig-term",
					      "fid-sig-wait",
					      NULL };
	int i, bad = 0;

	for (i = 0; progs[i]; i++)
		bad += !same_case(NULL, progs[i], NULL);
	if (bad)
		IT_FAIL("%d runs differ from the native ones", bad);
}

/* busybox installs handlers before anything else. */
static void test_busybox_sh(void)
{
	char *argv[] = { "busybox", "sh", "-c", "echo hi", NULL };
	char *bargv[] = { box_prog(), "--", "busybox", "sh", "-c", "echo hi",
			  NULL };

	run(argv, &native);
	run(bargv, &boxed);
	if (native.status != boxed.status || strcmp(native.out, boxed.out))
		IT_FAIL("native status 0x%x, output:\n%s\n"
			"dune-box status 0x%x, output:\n%s", native.status,
			native.out, boxed.status, boxed.out);
}

static const struct itest tests[] = {
	{ "handlers", test_handlers },
	{ "faults", test_faults },
	{ "frame_attacks", test_frame_attacks },
	{ "interrupts", test_interrupts },
	{ "fid_programs", test_fid_programs },
	{ "busybox_sh", test_busybox_sh },
};

ITEST_MAIN(tests)
