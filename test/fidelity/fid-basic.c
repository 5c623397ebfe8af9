// SPDX-License-Identifier: MIT
/*
 * The harness's own check: output through stdio and raw write(2), the
 * arguments, a child process and an exit status that is not 0.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int st = 0;
	pid_t pid;

	printf("argc %d\n", argc);
	fflush(stdout);
	if (write(1, "raw write\n", 10) != 10)
		return 1;
	pid = fork();
	if (pid == 0) {
		printf("child\n");
		fflush(stdout);
		_exit(7);
	}
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	fprintf(stderr, "to stderr\n");
	return 3;
}
