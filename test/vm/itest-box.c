// SPDX-License-Identifier: MIT
/*
 * dune-box as a user runs it: each program's output (stdout and stderr
 * together) and wait status under dune-box must be those of its native
 * run; denials and bad input give the documented messages and statuses.
 */
#include "box-compare.h"

static void test_static_hello(void)
{
	char *argv[] = { "busybox", "echo", "hello", "from", "ring", "3",
			 NULL };

	same(NULL, argv);
}

static void test_dynamic_hello(void)
{
	char *argv[] = { "dyn-echo", "hello", "dynamic", NULL };

	same(NULL, argv);
}

static void test_dynamic_cat(void)
{
	char *argv[] = { "dyn-cat", "/proc/version", "/usr/nonexistent", NULL };

	same(NULL, argv);
}

/*
 * Under the default profile, paths no rule covers are outside the
 * sandbox's view: missing, as natively for a file that is not there,
 * and silently (the program's own message only).  Their parents can be
 * looked at (stat, readlink, chdir), so realpath() walks work.
 */
static void test_outside_view(void)
{
	char *cat[] = { "busybox", "cat", "/nonexistent", "/home/nobody/.rc",
			NULL };
	char *ls[] = { "busybox", "ls", "-d", "/", "/tmp", "/nonexistent",
		       NULL };

	same(NULL, cat);
	IT_ASSERT(WIFEXITED(boxed.status) && WEXITSTATUS(boxed.status) == 1);
	same(NULL, ls);
	IT_ASSERT(WIFEXITED(boxed.status) && WEXITSTATUS(boxed.status) == 1);
}

/* Each built-in profile runs a simple program as natively. */
static void test_profiles(void)
{
	static const char *const names[] = { "strict", "default",
					     "permissive" };
	char *argv[] = { "busybox", "echo", "under", "a", "profile", NULL };
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *opts[] = { "--profile", names[i], NULL };

		same(opts, argv);
	}
}

/* A denial decided by a built-in profile names the profile's line. */
static void test_profile_message(void)
{
	char *argv[] = { "dune-box", "--", "busybox", "chroot", "/", "true",
			 NULL };

	run(argv, &boxed);
	IT_ASSERT(WIFEXITED(boxed.status) && WEXITSTATUS(boxed.status) == 1);
	if (!strstr(boxed.out, "dune-box: denied chroot(\"/\")") ||
	    !strstr(boxed.out, "system call not allowed (profile default, line 15)"))
		IT_FAIL("unexpected output: %s", boxed.out);
}

/* What a loader must handle: the auxv probe, built four ways. */
static void test_auxv(void)
{
	static const char *const kinds[] = { "static", "static-pie", "pie",
					     "nopie" };
	char prog[64];
	unsigned int i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char *argv[] = { prog, "one", "two", NULL };

		snprintf(prog, sizeof(prog), "box-auxv-%s", kinds[i]);
		same(NULL, argv);
	}
}

/*
 * Exit statuses and deaths, each as natively: exceptions at ring 3
 * (a bad access, ud2, int3, privileged instructions, VMCALL) and
 * abort(), from a static and a dynamic program.
 */
static void test_ends(void)
{
	static const char *const progs[] = { "box-ends-static", "box-ends" };
	static const char *const hows[] = { "segv", "abort", "ud2", "cli",
					    "hlt", "vmcall", "int3" };
	unsigned int i, j;

	for (i = 0; i < 2; i++) {
		char *argv[] = { (char *)progs[i], "exit", "3", NULL };

		same(NULL, argv);
		IT_ASSERT(WIFEXITED(boxed.status) &&
			  WEXITSTATUS(boxed.status) == 3);
		for (j = 0; j < sizeof(hows) / sizeof(hows[0]); j++) {
			char *argv2[] = { (char *)progs[i], (char *)hows[j],
					  NULL };

			same(NULL, argv2);
			IT_ASSERT(WIFSIGNALED(boxed.status));
		}
	}
}

/* A path the policy hides: cat fails, stderr names the policy line. */
static void test_denied_message(void)
{
	char *argv[] = { "dune-box", "--policy", "/tmp/box-hide.policy", "--",
			 "busybox", "cat", "/tmp/box-secret/key", NULL };

	mkdir("/tmp/box-secret", 0755);
	write_file("/tmp/box-secret/key", "secret\n", 0644);
	write_file("/tmp/box-hide.policy",
		   "# everything default allows, but not the key\n"
		   "include default\n"
		   "hide /tmp/box-secret\n", 0644);
	run(argv, &boxed);
	IT_ASSERT(WIFEXITED(boxed.status) && WEXITSTATUS(boxed.status) == 1);
	if (!strstr(boxed.out, "dune-box: denied openat(") ||
	    !strstr(boxed.out, "/tmp/box-secret/key") ||
	    !strstr(boxed.out, "(policy line 3)") || strstr(boxed.out, "secret\n"))
		IT_FAIL("unexpected output: %s", boxed.out);
}

/* Bad input: status 2 and a message naming the reason, nothing run. */
static void expect_usage_error(char *const argv[], const char *text)
{
	run(argv, &boxed);
	if (!WIFEXITED(boxed.status) || WEXITSTATUS(boxed.status) != 2 ||
	    !strstr(boxed.out, text))
		IT_FAIL("%s %s: status 0x%x, output: %s (expected exit 2 and "
			"\"%s\")", argv[1], argv[2] ? argv[2] : "",
			boxed.status, boxed.out, text);
}

static void test_bad_input(void)
{
	static const unsigned char elf32[] = { 0x7f, 'E', 'L', 'F', 1, 1, 1 };
	int fd;

	{
		char *argv[] = { "dune-box", "--", "/nonexistent/prog", NULL };

		expect_usage_error(argv, "/nonexistent/prog");
	}
	{
		char *argv[] = { "dune-box", "--", "/tmp/box-script.txt", NULL };

		write_file("/tmp/box-script.txt", "just text\n", 0755);
		expect_usage_error(argv, "/tmp/box-script.txt");
	}
	{
		char *argv[] = { "dune-box", "--", "/tmp/box-elf32", NULL };

		fd = open("/tmp/box-elf32", O_WRONLY | O_CREAT | O_TRUNC, 0755);
		IT_ASSERT(fd >= 0);
		IT_ASSERT_EQ(write(fd, elf32, sizeof(elf32)), (long)sizeof(elf32));
		IT_ASSERT_EQ(ftruncate(fd, 4096), 0);
		close(fd);
		expect_usage_error(argv, "/tmp/box-elf32");
	}
	{
		char *argv[] = { "dune-box", "--policy", "/tmp/box-bad.policy",
				 "--", "busybox", "true", NULL };

		write_file("/tmp/box-bad.policy", "allow read\nallow opn\n", 0644);
		expect_usage_error(argv, "/tmp/box-bad.policy:2");
	}
	{
		char *argv[] = { "dune-box", "--no-such-option", "--", "busybox",
				 "true", NULL };

		expect_usage_error(argv, "--no-such-option");
	}
	{
		char *argv[] = { "dune-box", NULL };

		expect_usage_error(argv, "dune-box");
	}
}

static const struct itest tests[] = {
	{ "static_hello", test_static_hello },
	{ "dynamic_hello", test_dynamic_hello },
	{ "dynamic_cat", test_dynamic_cat },
	{ "outside_view", test_outside_view },
	{ "profiles", test_profiles },
	{ "profile_message", test_profile_message },
	{ "auxv", test_auxv },
	{ "ends", test_ends },
	{ "denied_message", test_denied_message },
	{ "bad_input", test_bad_input },
};

ITEST_MAIN(tests)
