/* SPDX-License-Identifier: MIT */
/* dune-box: ring-3 signal handlers (signal.c, docs/sandbox.md).  Not
 * "signal.h": -Ibox would put it in front of <signal.h>. */
#ifndef BOX_SIGNAL_H
#define BOX_SIGNAL_H

#include <stdint.h>

struct box_ctx;
struct dune_tf;
struct dune_excsig;

/* The emulated calls: rt_sigaction, sigaltstack, rt_sigreturn. */
long box_sig_action(struct box_ctx *c);
long box_sig_altstack(struct box_ctx *c);
long box_sig_return(struct box_ctx *c);
/* Before ring 3 resumes from a system call: frames for queued signals. */
void box_sig_after_call(struct dune_tf *tf);
/* Before the run: the handler of DUNE_VEC_USER_SIGNAL. */
void box_sig_start(void);
/*
 * A ring-3 exception (@s from dune_exc_signal) or page fault: 0 when the
 * program's handler takes it, else the signal the program dies of.
 */
int box_sig_exception(struct dune_tf *tf, const struct dune_excsig *s);
int box_sig_page_fault(struct dune_tf *tf, uint64_t addr, uint64_t fec);

#endif
