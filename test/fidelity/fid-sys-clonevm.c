// SPDX-License-Identifier: MIT
/*
 * Raw clone(CLONE_VM) children that are neither threads nor vfork
 * children: one ends with exit_group (only its own thread group ends),
 * one with exit, one is killed by a signal; the parent sees their
 * writes to the shared memory and their wait statuses, and goes on.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int shared;

/* Raw system calls only: the child shares our TLS. */
static int child(void *arg)
{
	long how = (long)arg;

	shared = 100 + how;
	if (how == 0)
		syscall(SYS_exit_group, 3);
	if (how == 1)
		return 4;	/* glibc's clone() makes the exit call */
	syscall(SYS_kill, syscall(SYS_getpid), SIGTERM);
	for (;;)
		syscall(SYS_pause);
}

int main(void)
{
	size_t ssize = 64 << 10;
	char *stack = mmap(NULL, ssize, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long how;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (how = 0; how < 3; how++) {
		int st, pid;

		shared = 0;
		pid = clone(child, stack + ssize, CLONE_VM | SIGCHLD,
			    (void *)how);
		if (waitpid(pid, &st, 0) != pid) {
			perror("waitpid");
			return 1;
		}
		printf("child %ld: wrote %d; ", how, shared);
		if (WIFEXITED(st))
			printf("exited %d\n", WEXITSTATUS(st));
		else
			printf("killed by signal %d\n", WTERMSIG(st));
	}
	printf("parent goes on\n");
	return 0;
}
