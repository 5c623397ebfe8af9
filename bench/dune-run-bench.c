// SPDX-License-Identifier: MIT
/*
 * dune-run-bench [N [PROG]]: the start-up cost of dune-run.  Runs PROG
 * (default dyn-true, the host's dynamically linked /bin/true: the
 * emulated machine's busybox is static) N times each way, from fork to
 * waitpid, and prints TSC ticks per run:
 *
 *   native      PROG
 *   preload     LD_PRELOAD=libdune.so DUNE_RUN=1 PROG (Dune mode, no
 *               dune-run: the cost of entering Dune mode from libdune.so's
 *               constructor and running in it)
 *   dune-run    dune-run -- PROG (its own start and checks on top)
 *
 * The ways take turns run by run, so a drift of the machine hits all
 * alike.  Inside the emulated machine TSC ticks count emulated work.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

enum { NATIVE, PRELOAD, DUNE_RUN, NR_WAYS };

static const char *const way_names[NR_WAYS] = { "native", "preload",
						"dune-run" };

static char bindir[4096], prog[4200], run[4200], lib[4200];

/* One run of PROG @way: its ticks, or 0 if it failed. */
static uint64_t once(int way)
{
	uint64_t t0, t1;
	pid_t pid;
	int st;

	t0 = __rdtsc();
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		switch (way) {
		case NATIVE:
			execl(prog, prog, (char *)NULL);
			break;
		case PRELOAD:
			setenv("LD_PRELOAD", lib, 1);
			setenv("DUNE_RUN", "1", 1);
			execl(prog, prog, (char *)NULL);
			break;
		case DUNE_RUN:
			execl(run, run, "--", prog, (char *)NULL);
			break;
		}
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	t1 = __rdtsc();
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s run of %s: wait status 0x%x\n",
			way_names[way], prog, st);
		return 0;
	}
	return t1 - t0;
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	const char *name = argc > 2 ? argv[2] : "dyn-true";
	uint64_t *t[NR_WAYS];
	char *slash;
	int i, w;

	if (n < 1 || !realpath("/proc/self/exe", bindir))
		return 2;
	slash = strrchr(bindir, '/');
	*slash = 0;
	snprintf(prog, sizeof(prog), "%s%s%s", strchr(name, '/') ? "" : bindir,
		 strchr(name, '/') ? "" : "/", name);
	snprintf(run, sizeof(run), "%s/dune-run", bindir);
	/* where dune-run finds it: its run path $ORIGIN/../lib */
	snprintf(lib, sizeof(lib), "%s/../lib/libdune.so.0", bindir);
	for (w = 0; w < NR_WAYS; w++) {
		t[w] = calloc(n, sizeof(uint64_t));
		if (!t[w])
			return 2;
	}
	/* one of each first: page cache, first-use costs */
	for (w = 0; w < NR_WAYS; w++)
		if (!once(w))
			return 1;
	for (i = 0; i < n; i++)
		for (w = 0; w < NR_WAYS; w++)
			if (!(t[w][i] = once(w)))
				return 1;
	printf("%s, %d runs each, TSC ticks per run (fork to waitpid):\n",
	       name, n);
	printf("%-10s %12s %12s %12s\n", "way", "median", "min", "max");
	for (w = 0; w < NR_WAYS; w++) {
		qsort(t[w], n, sizeof(uint64_t), by_value);
		printf("%-10s %12llu %12llu %12llu\n", way_names[w],
		       (unsigned long long)t[w][n / 2],
		       (unsigned long long)t[w][0],
		       (unsigned long long)t[w][n - 1]);
	}
	return 0;
}
