/* SPDX-License-Identifier: MIT */
/*
 * Differential runs for the dune-box tests: a program natively and under
 * dune-box, stdout and stderr together, must give the same bytes and the
 * same wait status.
 */
#ifndef BOX_COMPARE_H
#define BOX_COMPARE_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

#define OUT_MAX 65536

struct result {
	int status;
	size_t len;
	char out[OUT_MAX];
};

/* Run @argv with stdout and stderr into one pipe; stdin /dev/null. */
static inline void run(char *const argv[], struct result *r)
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
		if (fd > 2)
			close(fd);	/* the program gets 0, 1, 2 and no more */
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

/* $ITEST_DUNE_BOX: another dune-box to compare (an older one, to see a
 * test fail without a change); dune-box on $PATH by default. */
static inline char *box_prog(void)
{
	char *b = getenv("ITEST_DUNE_BOX");

	return b && *b ? b : "dune-box";
}

/* `dune-box [OPTS] -- ARGV` into boxed. */
static inline void run_boxed(const char *const opts[], char *const argv[])
{
	char *bargv[64];
	int i = 0, j;

	bargv[i++] = box_prog();
	for (j = 0; opts && opts[j]; j++)
		bargv[i++] = (char *)opts[j];
	bargv[i++] = "--";
	for (j = 0; argv[j]; j++)
		bargv[i++] = argv[j];
	bargv[i] = NULL;
	run(bargv, &boxed);
}

static inline bool same_as_native(void)
{
	return native.status == boxed.status && native.len == boxed.len &&
	       !memcmp(native.out, boxed.out, native.len);
}

/* PROG ARGS natively and as `dune-box [OPTS] -- PROG ARGS`: identical. */
static inline void same(const char *const opts[], char *const argv[])
{
	run(argv, &native);
	run_boxed(opts, argv);
	if (!same_as_native())
		IT_FAIL("%s %s: native status 0x%x, output:\n%s\n"
			"dune-box status 0x%x, output:\n%s", argv[0],
			argv[1] ? argv[1] : "", native.status, native.out,
			boxed.status, boxed.out);
}

/*
 * PROG CASE natively and as `dune-box [OPTS] -- PROG CASE`: true if
 * alike, else false and both runs reported (the caller counts them).
 */
static inline bool same_case(const char *const opts[], const char *prog,
			     const char *c)
{
	char *argv[] = { (char *)prog, (char *)c, NULL };

	run(argv, &native);
	run_boxed(opts, argv);
	if (same_as_native())
		return true;
	fprintf(stderr, "    %s %s: native status 0x%x, output:\n%s\n"
		"    dune-box status 0x%x, output:\n%s\n", prog, c ? c : "",
		native.status, native.out, boxed.status, boxed.out);
	return false;
}

/* Every case of @list, PROG and PROG-static alike (same_case). */
static inline void same_cases(const char *const opts[], const char *prog,
			      const char *const list[])
{
	char stat[64];
	int i, bad = 0;

	snprintf(stat, sizeof(stat), "%s-static", prog);
	for (i = 0; list[i]; i++) {
		bad += !same_case(opts, prog, list[i]);
		bad += !same_case(opts, stat, list[i]);
	}
	if (bad)
		IT_FAIL("%d runs differ from the native ones", bad);
}

/* @path holds @text, with @mode whatever the umask. */
static inline void write_file(const char *path, const char *text,
			      mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(write(fd, text, strlen(text)), (long)strlen(text));
	close(fd);
	IT_ASSERT_EQ(chmod(path, mode), 0);
}

#endif
