// SPDX-License-Identifier: MIT
/*
 * box-tsc: the TSC ticks a command takes, from before its fork to after
 * its wait (the whole-program benchmarks, bench/box-programs.sh).
 *
 *   box-tsc [-i IN] [-o OUT] -- CMD [ARGS...]
 *
 * CMD's standard input is IN and its standard output OUT when given.
 * Prints "TICKS STATUS" on standard output, STATUS being CMD's exit
 * status or 128 + the signal that ended it.  CMD gets the TSC before the
 * fork in BOX_TSC_T0 (dune-box's DUNE_BOX_PHASES report starts there).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	uint64_t t0, t1;
	int c, st;
	pid_t pid;

	while ((c = getopt(argc, argv, "+i:o:")) != -1) {
		if (c == 'i')
			in = optarg;
		else if (c == 'o')
			out = optarg;
		else
			goto usage;
	}
	if (optind >= argc)
		goto usage;
	fflush(NULL);
	_mm_lfence();
	t0 = __rdtsc();
	pid = fork();
	if (pid < 0) {
		perror("box-tsc: fork");
		return 125;
	}
	if (!pid) {
		char t[24];

		/* dune-box's DUNE_BOX_PHASES report counts from here */
		snprintf(t, sizeof(t), "%llu", (unsigned long long)t0);
		setenv("BOX_TSC_T0", t, 1);
		if (in && (close(0), open(in, O_RDONLY)) != 0)
			_exit(126);
		if (out && (close(1), open(out, O_WRONLY | O_CREAT | O_TRUNC,
					   0644)) != 1)
			_exit(126);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "box-tsc: %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid) {
		perror("box-tsc: waitpid");
		return 125;
	}
	_mm_lfence();
	t1 = __rdtsc();
	printf("%llu %d\n", (unsigned long long)(t1 - t0),
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
usage:
	fprintf(stderr, "usage: box-tsc [-i IN] [-o OUT] -- CMD [ARGS...]\n");
	return 2;
}
