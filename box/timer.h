/* SPDX-License-Identifier: MIT */
/*
 * dune-box: the argument checks of the POSIX timer calls (box/timer.c).
 */
#ifndef BOX_TIMER_H
#define BOX_TIMER_H

struct box_ctx;

/*
 * timer_create: copy and check its struct sigevent (c->sev, given to
 * Linux instead).  0 or -errno; 0 for the other calls.
 */
int box_timer_check(struct box_ctx *c);

#endif
