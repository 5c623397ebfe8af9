// SPDX-License-Identifier: MIT
/*
 * dune-box with threads and CLONE_VM children (box/thread.c): each
 * program's output (stdout and stderr together) and wait status under
 * dune-box must be those of its native run, static and dynamic; the
 * race tests show that what another thread changes after the monitor's
 * check never reaches Linux.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "box-compare.h"

/* box-thr CASE, dynamic and static, default and permissive profiles. */
static void thr_case(const char *name)
{
	static const char clone_only_text[] = "include default\n"
					      "deny ENOSYS clone3\n";
	/* --quiet: the clone3 denial has a message; glibc falls back */
	static const char *const clone_only[] = {
		"--quiet", "--policy", "/tmp/box-thr-clone.policy", NULL };
	static const char *const permissive[] = { "--profile", "permissive",
						    NULL };
	char *dyn[] = { "box-thr", (char *)name, NULL };
	char *stat[] = { "box-thr-static", (char *)name, NULL };
	FILE *f = fopen("/tmp/box-thr-clone.policy", "w");

	IT_ASSERT(f && fputs(clone_only_text, f) >= 0 && !fclose(f));
	/* default and permissive: glibc makes its threads by clone3 */
	same(NULL, dyn);
	same(NULL, stat);
	same(permissive, dyn);
	/* clone3 denied (ENOSYS): glibc's fallback, clone */
	same(clone_only, dyn);
}

static void test_sum(void) { thr_case("sum"); }
static void test_pingpong(void) { thr_case("pingpong"); }
static void test_tls(void) { thr_case("tls"); }
static void test_exit_group(void) { thr_case("exitgroup"); }
static void test_main_exit(void) { thr_case("mainexit"); }
/* ... then, the main thread gone, calls libdune reads memory for */
static void test_main_exit_after(void) { thr_case("mainexit-after"); }
static void test_gettid(void) { thr_case("gettid"); }
static void test_detached(void) { thr_case("detached"); }
static void test_main_return(void) { thr_case("mainreturn"); }
static void test_errors(void) { thr_case("errors"); }

/*
 * The iovec's buffer pointer flips between sandbox memory and libdune's
 * page pool (unmapped natively) while writev runs: every call writes
 * the buffer or fails with EFAULT, the monitor stays intact.
 */
static void test_race_iov(void)
{
	static const char *const quiet[] = { "--quiet", NULL };
	char *dyn[] = { "box-thr-race", "iov", NULL };
	char *stat[] = { "box-thr-race-static", "iov", NULL };

	same(quiet, dyn);
	same(quiet, stat);
}

/*
 * The path flips between an allowed and a hidden file while open runs:
 * the hidden one is never opened (box-only: natively both open).
 */
static void test_race_path(void)
{
	static const char *const opts[] = { "--quiet", "--policy",
					    "/tmp/box-thr.policy", NULL };
	static const char expect[] = "allowed file opened: yes\n"
				     "secret read: never\n";
	char *argv[] = { "box-thr-race", "path", "/tmp/box-thr/ok",
			 "/tmp/box-thr/no", NULL };
	FILE *f;

	mkdir("/tmp/box-thr", 0755);
	f = fopen("/tmp/box-thr/ok", "w");
	IT_ASSERT(f);
	fputs("public\n", f);
	fclose(f);
	f = fopen("/tmp/box-thr/no", "w");
	IT_ASSERT(f);
	fputs("secret\n", f);
	fclose(f);
	f = fopen("/tmp/box-thr.policy", "w");
	IT_ASSERT(f);
	fputs("include default\nhide /tmp/box-thr/no\n", f);
	fclose(f);
	run_boxed(opts, argv);
	if (boxed.status != 0 || strcmp(boxed.out, expect))
		IT_FAIL("dune-box status 0x%x, output:\n%s", boxed.status,
			boxed.out);
}

/* clone(CLONE_VM | CLONE_VFORK | SIGCHLD) with a stack of its own. */
static void test_vfork_child(void)
{
	static const char *const quiet[] = { "--quiet", NULL };
	char *dyn[] = { "box-thr-vfork", "vfork", NULL };
	char *stat[] = { "box-thr-vfork-static", "vfork", NULL };

	same(quiet, dyn);
	same(quiet, stat);
}

/*
 * posix_spawn: its vfork child (CLONE_VM | CLONE_VFORK) runs in the
 * monitor on the parent's memory and execs; the parent goes on.
 */
static void test_posix_spawn(void)
{
	char *argv[] = { "box-thr-vfork", "spawn", NULL };

	same(NULL, argv);
}

static const struct itest tests[] = {
	{ "sum", test_sum },
	{ "pingpong", test_pingpong },
	{ "tls", test_tls },
	{ "exit_group", test_exit_group },
	{ "main_exit", test_main_exit },
	{ "main_exit_after", test_main_exit_after },
	{ "gettid", test_gettid },
	{ "detached", test_detached },
	{ "main_return", test_main_return },
	{ "errors", test_errors },
	{ "race_iov", test_race_iov },
	{ "race_path", test_race_path },
	{ "vfork_child", test_vfork_child },
	{ "posix_spawn", test_posix_spawn },
};

ITEST_MAIN(tests)
