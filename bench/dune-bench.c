// SPDX-License-Identifier: MIT
/*
 * dune-bench: cost of operations natively and in Dune mode, in TSC ticks
 * (inside the emulated machine these count emulated work, so they are
 * repeatable), and VM exits per operation.
 *
 *   dune-bench [N]      N iterations per operation (default 1000)
 *
 * Output: one table row per operation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#include "dune.h"

struct op {
	const char *name;
	/* Runs the operation @n times; returns TSC ticks taken. */
	uint64_t (*run)(long n);
};

static uint64_t op_getppid(long n)
{
	uint64_t t0 = __rdtsc();

	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return __rdtsc() - t0;
}

/* First touch of a fresh anonymous page: a page fault natively, an EPT
 * violation (and the same page fault, inside the kernel) in Dune mode.
 */
static uint64_t op_touch_page(long n)
{
	char *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t0, t;

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	t0 = __rdtsc();
	for (long i = 0; i < n; i++)
		p[i * 4096] = 1;
	t = __rdtsc() - t0;
	munmap(p, n * 4096);
	return t;
}

static const struct op ops[] = {
	{ "getppid", op_getppid },
	{ "touch_new_page", op_touch_page },
};
#define NR_OPS (sizeof(ops) / sizeof(ops[0]))

static uint64_t exits_of(const struct dune_stats *s)
{
	return s->exits;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	double native[NR_OPS], dune[NR_OPS], exits[NR_OPS];
	struct dune_stats s0, s1;
	size_t i;

	if (n <= 0) {
		fprintf(stderr, "usage: %s [ITERATIONS]\n", argv[0]);
		return 2;
	}
	for (i = 0; i < NR_OPS; i++) {
		ops[i].run(n / 10 + 1); /* warm up */
		native[i] = (double)ops[i].run(n) / n;
	}
	if (dune_init_and_enter())
		return 1;
	for (i = 0; i < NR_OPS; i++) {
		ops[i].run(n / 10 + 1);
		if (dune_get_stats(&s0))
			return 1;
		dune[i] = (double)ops[i].run(n) / n;
		if (dune_get_stats(&s1))
			return 1;
		/* the second dune_get_stats is one VMCALL exit of its own */
		exits[i] = (double)(exits_of(&s1) - exits_of(&s0) - 1) / n;
	}
	printf("%-16s %14s %14s %10s\n", "operation", "native ticks", "dune ticks",
	       "exits/op");
	for (i = 0; i < NR_OPS; i++)
		printf("%-16s %14.0f %14.0f %10.2f\n", ops[i].name, native[i],
		       dune[i], exits[i]);
	return 0;
}
