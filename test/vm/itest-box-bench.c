// SPDX-License-Identifier: MIT
/*
 * Smoke runs of dune-box's per-call benchmark (bench/box-bench-call.c and
 * its interposers, docs/benchmarks.md "dune-box") with a small N, so the
 * benchmark keeps working; no timing is checked.  What is checked: every
 * way runs and prints every operation, the benchmark refuses a wrong
 * result, and the VM exits dune-box counts per call are those of its
 * design (none for a call the monitor emulates or denies, one VMCALL for
 * a call passed to Linux), from --stats runs of N and 2N calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "itest.h"

#define OPS_ALL { "getppid", "getfs", "fstatat", "read1", "deny" }
#define DENY "135"	/* personality, box-bench-call's "deny" */
#define BOX "dune-box --profile permissive --quiet -- "

/*
 * Run @cmd with sh; its output in @out; the exit status (-1: died).  A
 * hung interposer would keep the output pipe open past the test's own
 * alarm (its processes outlive the test's child), so commands run under
 * timeout: a hang is a failure, not a stuck run.
 */
static int run(const char *cmd, char *out, size_t len)
{
	char line[512];
	FILE *f;
	size_t n;
	int st;

	snprintf(line, sizeof(line), "timeout -s KILL 200 %s", cmd);
	fflush(NULL);
	f = popen(line, "r");
	IT_ASSERT(f);
	n = fread(out, 1, len - 1, f);
	out[n] = 0;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* @cmd exits 0 and prints "OP NUMBER" for every operation. */
static void expect_all_ops(const char *cmd)
{
	static const char *const ops[] = OPS_ALL;
	char out[1024], line[64];
	unsigned int i;
	int st = run(cmd, out, sizeof(out));

	if (st)
		IT_FAIL("'%s' exited %d; output: %s", cmd, st, out);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const char *p = strstr(out, ops[i]);
		unsigned long v;

		snprintf(line, sizeof(line), "%s %%lu", ops[i]);
		if (!p || sscanf(p, line, &v) != 1)
			IT_FAIL("'%s': no number for %s in: %s", cmd, ops[i],
				out);
	}
}

static void test_native(void)
{
	expect_all_ops("box-bench-call -n 20");
}

static void test_dune_box(void)
{
	char out[1024];

	expect_all_ops(BOX "box-bench-call -d -n 20");
	/* the denied call fails with EPERM: without -d that is an error */
	IT_ASSERT_EQ(run(BOX "box-bench-call -n 20 deny 2>&1", out,
			 sizeof(out)), 1);
	if (!strstr(out, "expected success"))
		IT_FAIL("no error message for a wrong result: %s", out);
}

static void test_interposers(void)
{
	expect_all_ops("box-ptrace -d " DENY " -- box-bench-call -d -n 20");
	expect_all_ops("box-unotify -d " DENY " -- box-bench-call -d -n 20");
	expect_all_ops("box-unotify -f -d " DENY " -- box-bench-call -d -n 20");
	/* and each really denies */
	expect_all_ops("box-ptrace -- box-bench-call -n 20");
	{
		char out[1024];

		IT_ASSERT_EQ(run("box-ptrace -- box-bench-call -d -n 5 deny 2>&1",
				 out, sizeof(out)), 1);
		IT_ASSERT_EQ(run("box-unotify -- box-bench-call -d -n 5 deny 2>&1",
				 out, sizeof(out)), 1);
	}
}

/* VM exits of a dune-box --stats run of @n calls of @op. */
static long exits(const char *op, int n)
{
	char cmd[256], out[8192];
	const char *p;
	long e;

	snprintf(cmd, sizeof(cmd),
		 "dune-box --stats --profile permissive -- box-bench-call -d -n %d %s 2>&1 >/dev/null",
		 n, op);
	IT_ASSERT_EQ(run(cmd, out, sizeof(out)), 0);
	p = strstr(out, "VM exits ");
	if (!p || sscanf(p, "VM exits %ld", &e) != 1)
		IT_FAIL("no VM exits line in: %s", out);
	return e;
}

/*
 * N more calls cost N more exits when passed to Linux, none when the
 * monitor emulates or denies them.  The margins (N/4) are for host timer
 * interrupts, a few per run, which exit too.
 */
static void test_exits_per_call(void)
{
	const int n = 100;
	long d;

	d = exits("getppid", 2 * n) - exits("getppid", n);
	if (d < n - n / 4 || d > n + n / 4)
		IT_FAIL("getppid (passed to Linux): %ld exits for %d calls", d,
			n);
	d = exits("getfs", 2 * n) - exits("getfs", n);
	if (d > n / 4)
		IT_FAIL("arch_prctl (emulated): %ld exits for %d calls", d, n);
	d = exits("deny", 2 * n) - exits("deny", n);
	if (d > n / 4)
		IT_FAIL("personality (denied): %ld exits for %d calls", d, n);
}

/*
 * DUNE_BOX_PHASES=1 (box/phase.c): at the end, one stderr line per
 * start-up phase with its ticks (docs/benchmarks.md); none without it.
 */
static void test_phases(void)
{
	static const char *const want[] = {
		"options, program found, policy", "program loaded", "dune_init",
		"enforce (netns, rlimits, Landlock)", "dune_enter",
		"sandbox root built", "ring 3 to its first system call",
		"the program, to its exit",
	};
	char out[4096], pat[96];
	unsigned long long v;
	unsigned int i;
	const char *p;

	IT_ASSERT_EQ(run("env DUNE_BOX_PHASES=1 dune-box -- /bin/busybox true 2>&1",
			 out, sizeof(out)), 0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(pat, sizeof(pat), "dune-box: phase %s ", want[i]);
		p = strstr(out, pat);
		if (!p || sscanf(p + strlen(pat), "%llu", &v) != 1 || !v)
			IT_FAIL("no ticks for phase '%s' in: %s", want[i], out);
	}
	IT_ASSERT_EQ(run("dune-box -- /bin/busybox true 2>&1", out, sizeof(out)),
		     0);
	if (strstr(out, "phase"))
		IT_FAIL("phases reported without DUNE_BOX_PHASES: %s", out);
}

static const struct itest tests[] = {
	{ "native", test_native },
	{ "dune_box", test_dune_box },
	{ "interposers", test_interposers },
	{ "exits_per_call", test_exits_per_call },
	{ "phases", test_phases },
};

ITEST_MAIN(tests)
