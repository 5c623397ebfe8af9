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

#include "itest.h"

#define OUT_MAX 16384

struct result {
	int status;
	size_t len;
	char out[OUT_MAX];
};

/* Run @argv with stdout and stderr into one pipe; stdin /dev/null. */
static void run(char *const argv[], struct result *r)
{
	int p[2], fd;
	ssize_t n;
	pid_t pid;

	IT_ASSERT_EQ(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	r->len = 0;
	while ((n = read(p[0], r->out + r->len,
			 sizeof(r->out) - 1 - r->len)) > 0)
		r->len += n;
	r->out[r->len] = 0;
	close(p[0]);
	IT_ASSERT_EQ(waitpid(pid, &r->status, 0), pid);
}

static struct result native, boxed;

/* $ITEST_DUNE_BOX: another dune-box to compare (main's, to see it fail). */
static char *box(void)
{
	char *b = getenv("ITEST_DUNE_BOX");

	return b && *b ? b : "dune-box";
}

/* PROG CASE natively and under dune-box; false (and a report) if not alike. */
static bool same(const char *prog, const char *c)
{
	char *argv[] = { (char *)prog, (char *)c, NULL };
	char *bargv[] = { box(), "--", (char *)prog, (char *)c, NULL };

	run(argv, &native);
	run(bargv, &boxed);
	if (native.status == boxed.status && native.len == boxed.len &&
	    !memcmp(native.out, boxed.out, native.len))
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
		bad += !same(prog, list[i]);
		bad += !same(stat, list[i]);
	}
	if (bad)
		IT_FAIL("%d runs differ from the native ones", bad);
}

static void test_handlers(void)
{
	static const char *const list[] = {
		"kill", "raise", "sigqueue", "tgkill", "mask", "resethand",
		"nodefer", "defer", "altstack", "autodisarm", "longjmp", "fpu",
		NULL };

	cases("box-sig-handlers", list);
}

static void test_faults(void)
{
	static const char *const list[] = {
		"segv", "accerr", "ud2", "div", "int3", "rerun", "blocked",
		"badfpu", NULL };

	cases("box-sig-faults", list);
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

	cases("box-sig-faults", list);
	IT_ASSERT(same("box-sig-faults", "rip"));
	IT_ASSERT(strstr(boxed.out, "monitor is intact"));
	IT_ASSERT(same("box-sig-faults", "iopl"));
	IT_ASSERT(strstr(boxed.out, "iopl 0 if 1"));
}

static void test_interrupts(void)
{
	static const char *const list[] = {
		"loop", "read-eintr", "read-restart", "pause", "sigsuspend",
		"nanosleep", NULL };

	cases("box-sig-intr", list);
}

/* The fidelity harness's plain signal programs (no threads, no fork). */
static void test_fid_programs(void)
{
	static const char *const progs[] = { "fid-sig-flags", "fid-sig-term",
					      NULL };
	int i, bad = 0;

	for (i = 0; progs[i]; i++)
		bad += !same(progs[i], NULL);
	if (bad)
		IT_FAIL("%d runs differ from the native ones", bad);
}

/* busybox installs handlers before anything else. */
static void test_busybox_sh(void)
{
	char *argv[] = { "busybox", "sh", "-c", "echo hi", NULL };
	char *bargv[] = { box(), "--", "busybox", "sh", "-c", "echo hi",
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
