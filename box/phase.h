/* SPDX-License-Identifier: MIT */
/*
 * dune-box's start-up phases in TSC ticks (docs/benchmarks.md, "Where
 * dune-box's start-up goes"): with DUNE_BOX_PHASES=1 in dune-box's
 * environment, one stderr line per phase when the program ends.  Off by
 * default; a stamp is one rdtsc and a store.
 */
#ifndef BOX_PHASE_H
#define BOX_PHASE_H

void box_phase_start(const char *name);
void box_phase(const char *name);
void box_phase_report(void);

#endif
