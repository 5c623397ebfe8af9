// SPDX-License-Identifier: MIT
/*
 * Processes in dune-box (issue 9): fork, vfork, clone without CLONE_VM,
 * wait4/waitid/kill on the children, execve of static and dynamic
 * programs and #! scripts, exec's errors, what exec keeps (pid, plain
 * fds, the policy) and closes (close-on-exec fds), shells running
 * pipelines, loops, subshells and command substitution.  Each run's
 * output (stdout and stderr together) and wait status must be those of
 * the native run; a fork child cannot read the monitor either.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "box-compare.h"

/* The absolute path of program @name on $PATH (execve needs one). */
static const char *bin(const char *name)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *path = strdup(getenv("PATH") ? getenv("PATH") : "/bin"), *d;
	char *out = buf[next++ % 4];

	for (d = strtok(path, ":"); d; d = strtok(NULL, ":")) {
		snprintf(out, PATH_MAX, "%s/%s", d, name);
		if (access(out, X_OK) == 0) {
			free(path);
			return out;
		}
	}
	free(path);
	IT_FAIL("%s not found on $PATH", name);
	return NULL;
}

static const char *const progs[] = { "box-proc", "box-proc-static" };

/* fork, the child writes into a pipe, the parent reads and waits. */
static void test_fork_pipe(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		char *argv[] = { (char *)progs[i], "fork", NULL };

		same(NULL, argv);
		IT_ASSERT(strstr(boxed.out, "child: exited 7"));
	}
}

static void test_fork200(void)
{
	char *argv[] = { "box-proc", "fork200", NULL };

	same(NULL, argv);
	IT_ASSERT(strstr(boxed.out, "200 reaped"));
}

/* Children dying by signals, kill and waitid from the parent. */
static void test_deaths(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		char *argv[] = { (char *)progs[i], "deaths", NULL };

		same(NULL, argv);
		IT_ASSERT(strstr(boxed.out, "segv: killed by"));
	}
}

/* vfork + _exit, vfork + exec: the parent waits for either. */
static void test_vfork(void)
{
	char *argv[] = { "box-proc", "vfork", NULL };

	same(NULL, argv);
	IT_ASSERT(strstr(boxed.out, "vfork child execs"));
}

/* Raw clone: tid words written, CLONE_SIGHAND without CLONE_VM. */
static void test_clone_flags(void)
{
	char *argv[] = { "box-proc-static", "clone-flags", NULL };

	same(NULL, argv);
	IT_ASSERT(strstr(boxed.out, "exited 5"));
}

/* execve of a static and a dynamic program, argv and AT_EXECFN. */
static void test_exec_programs(void)
{
	char *a1[] = { "box-proc", "exec", (char *)bin("box-proc-static"),
		       "show", "one", "", "three", NULL };
	char *a2[] = { "box-proc-static", "exec", (char *)bin("box-proc"),
		       "show", "dynamic", NULL };
	char *a3[] = { "box-proc", "exec", "/bin/busybox", "echo", "busybox",
		       NULL };

	same(NULL, a1);
	IT_ASSERT(strstr(boxed.out, "argv[2] = one"));
	same(NULL, a2);
	IT_ASSERT(strstr(boxed.out, "argv[2] = dynamic"));
	same(NULL, a3);
}

/*
 * Until ring-3 signal handlers exist, busybox sh's sigaction(SIGCHLD,
 * handler) is refused (ENOSYS) with a message: --quiet, the shells
 * cope without the handler.
 */
static const char *const quiet[] = { "--quiet", NULL };

/* #! scripts: an argument, a script as the interpreter (nested). */
static void test_exec_scripts(void)
{
	char text[PATH_MAX + 64];
	char *a1[] = { "box-proc", "exec", "/tmp/box-proc-script", "x", "y z",
		       NULL };
	char *a2[] = { "box-proc", "exec", "/tmp/box-proc-nested", "last",
		       NULL };

	write_file("/tmp/box-proc-script",
		   "#!/bin/busybox sh\necho \"script: $0 [$1] [$2]\"\n", 0755);
	same(quiet, a1);
	IT_ASSERT(strstr(boxed.out, "script: /tmp/box-proc-script [x] [y z]"));
	snprintf(text, sizeof(text), "#! %s show  \n", bin("box-proc"));
	write_file("/tmp/box-proc-interp", text, 0755);
	write_file("/tmp/box-proc-nested", "#!/tmp/box-proc-interp -o  pt\n",
		   0755);
	same(NULL, a2);
	IT_ASSERT(strstr(boxed.out, "argv[3] = -o  pt"));
}

/* ENOENT, EACCES, ENOEXEC, EFAULT: the program goes on. */
static void test_exec_errors(void)
{
	char *argv[] = { "box-proc", "exec-errors", NULL };

	same(NULL, argv);
	IT_ASSERT(strstr(boxed.out, "still running"));
}

/* Same pid, plain fd kept, close-on-exec fd closed, SIG_IGN kept. */
static void test_exec_keeps(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		char *argv[] = { (char *)bin(progs[i]), "exec-keeps", NULL };

		same(NULL, argv);
		IT_ASSERT(strstr(boxed.out, "pid unchanged: yes"));
		IT_ASSERT(strstr(boxed.out, "close-on-exec fd open: no"));
	}
}

/*
 * The exec'd program runs under the same policy: its denied call, and
 * the exec of a path the policy hides, name the original policy line.
 */
static void test_exec_policy(void)
{
	char *a1[] = { "dune-box", "--policy", "/tmp/box-proc.policy", "--",
		       "box-proc", "exec", "/bin/busybox", "cat",
		       "/tmp/box-proc-secret/key", NULL };
	char *a2[] = { "dune-box", "--policy", "/tmp/box-proc.policy", "--",
		       "box-proc", "exec", "/tmp/box-proc-secret/run", NULL };
	char *a3[] = { "dune-box", "--policy", "/tmp/box-proc.policy", "--",
		       "box-proc", "exec", "/tmp/box-proc-via-hidden", NULL };

	mkdir("/tmp/box-proc-secret", 0755);
	write_file("/tmp/box-proc-secret/key", "secret\n", 0644);
	write_file("/tmp/box-proc-secret/run", "#!/bin/busybox sh\necho ran\n",
		   0755);
	write_file("/tmp/box-proc.policy",
		   "include default\n"
		   "# the key and the script are hidden\n"
		   "hide /tmp/box-proc-secret\n", 0644);
	run(a1, &boxed);
	if (!WIFEXITED(boxed.status) || WEXITSTATUS(boxed.status) != 1 ||
	    !strstr(boxed.out, "dune-box: denied openat(") ||
	    !strstr(boxed.out, "(policy line 3)") ||
	    strstr(boxed.out, "secret\n"))
		IT_FAIL("exec'd cat: status 0x%x, output: %s", boxed.status,
			boxed.out);
	run(a2, &boxed);
	if (!WIFEXITED(boxed.status) || WEXITSTATUS(boxed.status) != 1 ||
	    !strstr(boxed.out, "dune-box: denied execve(") ||
	    !strstr(boxed.out, "(policy line 3)") ||
	    !strstr(boxed.out, "execv /tmp/box-proc-secret/run: ") ||
	    strstr(boxed.out, "ran\n"))
		IT_FAIL("hidden exec: status 0x%x, output: %s", boxed.status,
			boxed.out);
	/* a visible script whose interpreter is hidden */
	write_file("/tmp/box-proc-via-hidden", "#!/tmp/box-proc-secret/run\n",
		   0755);
	run(a3, &boxed);
	if (!WIFEXITED(boxed.status) || WEXITSTATUS(boxed.status) != 1 ||
	    !strstr(boxed.out, "interpreter /tmp/box-proc-secret/run: ") ||
	    !strstr(boxed.out, "(policy line 3)") ||
	    !strstr(boxed.out, "execv /tmp/box-proc-via-hidden: ") ||
	    strstr(boxed.out, "ran\n"))
		IT_FAIL("hidden interpreter: status 0x%x, output: %s",
			boxed.status, boxed.out);
}

/*
 * envp reaches the new program exactly, and only the new program:
 * LD_PRELOAD is run by its loader, not by the re-executed dune-box's.
 */
static void test_exec_env(void)
{
	char pre[PATH_MAX + 16];
	char *argv[] = { "box-proc", "exec-env", pre, (char *)bin("box-proc"),
			 "show", NULL };

	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", bin("box-proc-preload.so"));
	same(NULL, argv);
	IT_ASSERT(strstr(boxed.out, "constructor ran\n"));
}

/* --log's fd goes on across exec: both programs' calls are logged. */
static void test_exec_log(void)
{
	char *argv[] = { "dune-box", "--log", "/tmp/box-proc.log", "--",
			 "box-proc", "exec", "/bin/busybox", "echo", "logged",
			 NULL };
	char log[OUT_MAX];
	ssize_t n;
	int fd;

	run(argv, &boxed);
	IT_ASSERT(WIFEXITED(boxed.status) && !WEXITSTATUS(boxed.status));
	IT_ASSERT(strstr(boxed.out, "logged\n"));
	fd = open("/tmp/box-proc.log", O_RDONLY);
	IT_ASSERT(fd >= 0);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	IT_ASSERT(n > 0);
	log[n] = 0;
	/* the exec itself, then busybox's write and its exit */
	if (!strstr(log, "execve(\"/bin/busybox\"") ||
	    !strstr(strstr(log, "execve("), "write(1, ") ||
	    !strstr(strstr(log, "execve("), "exit_group(0)"))
		IT_FAIL("log: %s", log);
}

static const char shell_script[] =
	"for i in 1 2 3; do echo line $i; done | busybox wc -l\n"
	"x=$(echo substituted | busybox tr a-z A-Z); echo \"$x\"\n"
	"(echo subshell; exit 3); echo \"subshell status $?\"\n"
	"i=0; while [ $i -lt 200 ]; do (:); i=$((i + 1)); done; echo \"$i subshells\"\n"
	"busybox true && echo and || echo or\n"
	"echo piped | busybox cat | busybox cat\n";

/* busybox sh, dash, bash: pipelines, loops, subshells, $(...). */
static void test_shells(void)
{
	char *a1[] = { "busybox", "sh", "-c", (char *)shell_script, NULL };
	char *a2[] = { "dyn-sh", "-c", (char *)shell_script, NULL };
	char *a3[] = { "dyn-bash", "-c", (char *)shell_script, NULL };

	same(quiet, a1);
	IT_ASSERT(strstr(boxed.out, "200 subshells"));
	same(quiet, a2);
	IT_ASSERT(strstr(boxed.out, "200 subshells"));
	same(quiet, a3);
	IT_ASSERT(strstr(boxed.out, "200 subshells"));
}

/* A fork child reading dune-box's own mapping dies of SIGSEGV. */
static void test_child_isolated(void)
{
	char *argv[] = { "dune-box", "--", "box-proc", "peek-monitor", NULL };

	run(argv, &boxed);
	if (!WIFEXITED(boxed.status) || WEXITSTATUS(boxed.status) ||
	    !strstr(boxed.out,
		    "child reading the monitor: killed by Segmentation fault"))
		IT_FAIL("status 0x%x, output: %s", boxed.status, boxed.out);
}

static const struct itest tests[] = {
	{ "fork_pipe", test_fork_pipe },
	{ "fork200", test_fork200 },
	{ "deaths", test_deaths },
	{ "vfork", test_vfork },
	{ "clone_flags", test_clone_flags },
	{ "exec_programs", test_exec_programs },
	{ "exec_scripts", test_exec_scripts },
	{ "exec_errors", test_exec_errors },
	{ "exec_keeps", test_exec_keeps },
	{ "exec_policy", test_exec_policy },
	{ "exec_log", test_exec_log },
	{ "exec_env", test_exec_env },
	{ "shells", test_shells },
	{ "child_isolated", test_child_isolated },
};

ITEST_MAIN(tests)
