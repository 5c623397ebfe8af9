// SPDX-License-Identifier: MIT
/*
 * dune-box's start-up phases (phase.h).  Each stamp closes the phase
 * named by it: the report gives the ticks since the previous stamp.
 * The stamps start in main (box_phase_start), not in a dune-box
 * re-executed for the program's execve, and only the process that made
 * them reports them.  The first phase runs from box-tsc's fork
 * (bench/box-tsc.c puts its TSC in BOX_TSC_T0) to main: exec, ld.so and
 * constructors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <x86intrin.h>

#include "phase.h"

#define MAX_PHASES 16

static struct {
	const char *name;
	uint64_t tsc;
} phases[MAX_PHASES];
static unsigned int nphases;
static pid_t owner;	/* 0: not started (an exec'd dune-box, phase.h) */

void box_phase_start(const char *name)
{
	owner = getpid();
	box_phase(name);
}

void box_phase(const char *name)
{
	if (owner && nphases < MAX_PHASES) {
		phases[nphases].tsc = __rdtsc();
		phases[nphases++].name = name;
	}
}

void box_phase_report(void)
{
	const char *on = getenv("DUNE_BOX_PHASES");
	const char *t0 = getenv("BOX_TSC_T0");
	uint64_t prev;
	unsigned int i;

	/* a forked child's copy of the stamps is its parent's */
	if (!on || *on != '1' || !nphases || getpid() != owner)
		return;
	prev = t0 ? strtoull(t0, NULL, 10) : 0;
	for (i = 0; i < nphases; i++) {
		if (prev)
			fprintf(stderr, "dune-box: phase %-34s %12llu\n",
				phases[i].name,
				(unsigned long long)(phases[i].tsc - prev));
		prev = phases[i].tsc;
	}
	nphases = 0;
}
