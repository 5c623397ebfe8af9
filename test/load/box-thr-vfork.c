// SPDX-License-Identifier: MIT
/*
 * CLONE_VM children that are not threads (itest-box-thread):
 *   box-thr-vfork vfork: clone(CLONE_VM | CLONE_VFORK | SIGCHLD) with a
 *     stack of its own: the child stores into the shared memory and
 *     exits; the parent resumes after it, sees the store, reaps it.
 *   box-thr-vfork spawn: posix_spawn (glibc's clone(CLONE_VM |
 *     CLONE_VFORK)) of /bin/true.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile int shared;

static int child(void *arg)
{
	shared = 42;
	_exit(7);
}

static int t_vfork(void)
{
	size_t sz = 64 << 10;
	char *stack = malloc(sz);
	int st, i;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		shared = 0;
		pid = clone(child, stack + sz, CLONE_VM | CLONE_VFORK | SIGCHLD,
			    NULL);
		printf("clone gave a pid: %s\n", pid > 0 ? "yes" : "no");
		printf("the child's store seen at once: %d\n", shared);
		if (waitpid(pid, &st, 0) != pid)
			return 1;
		printf("child exited: %d, status %d\n", WIFEXITED(st),
		       WEXITSTATUS(st));
	}
	return 0;
}

static int t_spawn(void)
{
	static const char mark[] = "/tmp/box-thr-spawned";
	char *argv[] = { "true", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r, st;

	/* the child's file action leaves a mark, whether execve works or not */
	unlink(mark);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 9, mark, O_WRONLY | O_CREAT,
					 0644);
	r = posix_spawn(&pid, "/bin/true", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	printf("posix_spawn: %s\n", r ? strerror(r) : "0");
	if (!r) {
		waitpid(pid, &st, 0);
		printf("child status %d\n", WEXITSTATUS(st));
	}
	printf("the child ran: %s\n", access(mark, F_OK) ? "no" : "yes");
	unlink(mark);
	printf("no child left: %s\n",
	       waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD ? "yes" : "no");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "vfork"))
		return t_vfork();
	if (argc == 2 && !strcmp(argv[1], "spawn"))
		return t_spawn();
	fprintf(stderr, "usage: box-thr-vfork vfork | spawn\n");
	return 64;
}
