/* SPDX-License-Identifier: MIT */
/*
 * A tiny integration-test harness for programs that run inside the
 * emulated machine.  Like xv6's usertests, every test runs in its own
 * child, so a crash, a signal or a hang fails that test alone.
 *
 * Output, one line per test:  "PASS <prog>/<test>"  or
 * "FAIL <prog>/<test>: <why>", then "itest: N passed, N failed".
 */
#ifndef DUNE_ITEST_H
#define DUNE_ITEST_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct itest {
	const char *name;
	void (*fn)(void);
};

/* Guest time is emulated instructions, so this is generous on purpose. */
#define ITEST_TIMEOUT_SEC 300

static inline void __attribute__((noreturn, format(printf, 3, 4)))
itest_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(NULL);
	_exit(1);
}

#define IT_FAIL(...) itest_fail(__FILE__, __LINE__, __VA_ARGS__)
#define IT_ASSERT(c)                                                      \
	do {                                                              \
		if (!(c))                                                 \
			IT_FAIL("assertion failed: %s (errno %d: %s)", #c, \
				errno, strerror(errno));                  \
	} while (0)
#define IT_ASSERT_EQ(a, b)                                                  \
	do {                                                                \
		long long _a = (long long)(a), _b = (long long)(b);         \
		if (_a != _b)                                               \
			IT_FAIL("%s == %lld, expected %s == %lld", #a, _a, #b, \
				_b);                                        \
	} while (0)

/* Run a shell command; returns its exit status (or -1 if it died). */
static inline int itest_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Run @fn in a child of its own; its wait status. */
static inline int itest_in_child(void (*fn)(void))
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		IT_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		fn();
		fflush(NULL);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		IT_FAIL("waitpid: %s", strerror(errno));
	return st;
}

/*
 * Run @fn in a child with stderr going to a file: its wait status, and
 * what it wrote to stderr in @err (for tests of error reports).
 */
static inline int itest_run_capture(void (*fn)(void), char *err,
				    size_t errlen)
{
	char path[] = "/tmp/itest-capture-XXXXXX";
	int fd = mkstemp(path), st;
	ssize_t n;
	pid_t pid;

	IT_ASSERT(fd >= 0);
	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		dup2(fd, 2);
		fn();
		fflush(NULL);
		_exit(0);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	n = pread(fd, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return st;
}


/*
 * Checks of what itest_run_capture returned; on failure they show the
 * child's stderr, from the caller's buffer named `err`.
 */
#define EXPECT_EXIT(st, code)                                             \
	do {                                                              \
		int _st = (st);                                           \
		if (!WIFEXITED(_st) || WEXITSTATUS(_st) != (code))        \
			IT_FAIL("wait status 0x%x, expected exit %d; stderr: %s", \
				_st, (code), err);                        \
	} while (0)

#define EXPECT_SIGNAL(st, sig)                                            \
	do {                                                              \
		int _st = (st);                                           \
		if (!WIFSIGNALED(_st) || WTERMSIG(_st) != (sig))          \
			IT_FAIL("wait status 0x%x, expected signal %d; stderr: %s", \
				_st, (sig), err);                         \
	} while (0)

#define EXPECT_TEXT(s)                                                   \
	do {                                                             \
		if (!strstr(err, (s)))                                   \
			IT_FAIL("no \"%s\" in stderr: %s", (s), err);    \
	} while (0)

static inline int itest_run_one(const char *prog, const struct itest *t)
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		printf("FAIL %s/%s: fork: %s\n", prog, t->name, strerror(errno));
		return 0;
	}
	if (pid == 0) {
		alarm(ITEST_TIMEOUT_SEC);
		t->fn();
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("PASS %s/%s\n", prog, t->name);
		return 1;
	}
	if (WIFSIGNALED(st))
		printf("FAIL %s/%s: killed by signal %d (%s)%s\n", prog, t->name,
		       WTERMSIG(st), strsignal(WTERMSIG(st)),
		       WTERMSIG(st) == SIGALRM ? ": timed out" : "");
	else
		printf("FAIL %s/%s: exit status %d\n", prog, t->name,
		       WEXITSTATUS(st));
	return 0;
}

/*
 * Usage: PROG [-t NAME] [-l]: run all tests in order, or only NAME;
 * -l lists the names.  Exit status 0 only if every test run passed and
 * at least one ran.
 */
static inline int itest_main(int argc, char **argv, const struct itest *tests,
			     size_t n)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1
						 : argv[0];
	const char *only = NULL;
	int passed = 0, failed = 0, opt;
	size_t i;

	while ((opt = getopt(argc, argv, "t:l")) != -1) {
		switch (opt) {
		case 't':
			only = optarg;
			break;
		case 'l':
			for (i = 0; i < n; i++)
				printf("%s\n", tests[i].name);
			return 0;
		default:
			fprintf(stderr, "usage: %s [-t NAME] [-l]\n", prog);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		if (only && strcmp(only, tests[i].name))
			continue;
		if (itest_run_one(prog, &tests[i]))
			passed++;
		else
			failed++;
	}
	printf("itest: %d passed, %d failed\n", passed, failed);
	return (failed || !passed) ? 1 : 0;
}

#define ITEST_MAIN(tests)                                              \
	int main(int argc, char **argv)                                \
	{                                                              \
		return itest_main(argc, argv, tests,                   \
				  sizeof(tests) / sizeof(tests[0]));   \
	}

#endif
