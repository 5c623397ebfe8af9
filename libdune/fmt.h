/* SPDX-License-Identifier: MIT */
/*
 * Reports from places where stdio cannot be used: the host loop (stdio
 * uses vector registers, see raw.h) and guest trap handlers (the program
 * may hold the stdio locks when it faults).  A fixed buffer, formatted by
 * hand and written with the raw write system call.  Also the names used
 * in those reports.
 */
#ifndef LIBDUNE_FMT_H
#define LIBDUNE_FMT_H

#include <stdint.h>

#include "dune.h"

struct dune_out {
	int fd;			/* -1: keep the text in buf, write nothing */
	unsigned int len;
	char buf[2048];		/* always NUL-terminated */
};

void dune_out_init(struct dune_out *o, int fd);
void dune_out_str(struct dune_out *o, const char *s);
void dune_out_hex(struct dune_out *o, uint64_t v);	/* 0x1f */
void dune_out_hex16(struct dune_out *o, uint64_t v);	/* 0x000000000000001f */
void dune_out_dec(struct dune_out *o, int64_t v);
/* "rax 0x... rbx 0x... rcx 0x...", three to a line, each line indented. */
void dune_out_regs(struct dune_out *o, const struct dune_regs *r);
/* "0x0-0x80000000, 0x7f0000000000-0x7ffffffff000" */
void dune_out_windows(struct dune_out *o, const struct dune_layout *l);
/* Write what is buffered (retrying short writes); the buffer empties. */
void dune_out_flush(struct dune_out *o);

/* SDM appendix C basic exit reason, e.g. "EPT violation"; "unknown". */
const char *dune_exit_reason_name(unsigned int reason);
/* "#PF" and "page fault" for vector 14; "interrupt" for 32 and up. */
const char *dune_vector_mnemonic(unsigned int vector);
const char *dune_vector_desc(unsigned int vector);
/* The signal Linux sends for this exception in user mode. */
int dune_vector_signal(unsigned int vector);
/* Does the CPU push an error code for this exception vector? */
int dune_vector_has_error_code(unsigned int vector);

#endif
