/* SPDX-License-Identifier: MIT */
/*
 * dune-box: argument checks of capget/capset and clock_adjtime/adjtimex
 * (box/calls.c), called from monitor.c's check_args and after the call.
 */
#ifndef BOX_CALLS_H
#define BOX_CALLS_H

struct box_ctx;

/* Copies and checks; 0 or -errno (c->refusal set for a refusal). */
int box_calls_check(struct box_ctx *c);

/* After Linux answered: its writes into the copies, back to the program. */
void box_calls_done(struct box_ctx *c);

#endif
