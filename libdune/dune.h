/* SPDX-License-Identifier: MIT */
/*
 * libdune: run this process in VMX non-root mode through dune.ko.
 * Names follow the original Dune's libdune so programs port easily.
 *
 *	if (dune_init_and_enter())
 *		exit(1);	// libdune said why on stderr
 *	// from here on this thread runs in VMX non-root ring 0 on libdune's
 *	// page tables, IDT and GDT; system calls are forwarded to Linux,
 *	// threads and fork children stay in Dune mode.
 *
 * A thread in Dune mode cannot leave it; it ends with the thread.
 */
#ifndef LIBDUNE_DUNE_H
#define LIBDUNE_DUNE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <dune/uapi.h>

#include "layout.h"

/*
 * Open /dev/dune and check that the module speaks our API version.
 * Returns an fd, or -1 with errno set after printing to stderr what the
 * user should do about it.
 */
int dune_dev_open(void);

/* Fill @caps from the module.  0 on success, -1 with errno and a message. */
int dune_get_caps(struct dune_caps *caps);

/* Write a human-readable description of @caps to @f. */
void dune_caps_print(const struct dune_caps *caps, FILE *f);

/*
 * Prepare the process: open /dev/dune, choose the guest-physical layout
 * (layout.h) from /proc/self/maps, register it as memory slots, build
 * the page tables and the IDT.  Once per process (later calls return 0;
 * a fork child that never entered re-opens the device by itself).
 * @map_full is accepted for compatibility with the original libdune and
 * has no effect: every window is always mapped in full, the EPT grants
 * only what the process may really access.
 * 0, or -1 with errno after a message on stderr.
 */
int dune_init(bool map_full);

/*
 * Put the calling thread into Dune mode.  Returns 0 in VMX non-root
 * mode, ring 0, with every register the C ABI preserves intact, or -1
 * with errno (still native) after a message on stderr.  0 at once if the
 * thread already is in Dune mode.
 */
int dune_enter(void);

/* dune_init(true), then dune_enter(). */
int dune_init_and_enter(void);

/* Is the calling thread in Dune mode?  (Its code segment is ring 0.) */
bool dune_active(void);

/*
 * The calling thread's vCPU counters (DUNE_GET_STATS).  0, or -1 with
 * errno (ESRCH: this thread is not in Dune mode).
 */
int dune_get_stats(struct dune_stats *stats);

/* The windows chosen by dune_init, or NULL before it. */
const struct dune_layout *dune_get_layout(void);

/*
 * Trap frame of a guest exception or interrupt, as the entry code saves
 * it on the exception stack.  Handlers may change it: every field from
 * rax to ss is restored when the handler returns.
 */
struct dune_tf {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector;	/* 0 .. 255 */
	uint64_t err;		/* error code, 0 if the vector has none */
	/* pushed by the CPU */
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Page-fault error code bits (SDM 4.7). */
#define FEC_P	0x01	/* protection violation (else: not present) */
#define FEC_W	0x02	/* write */
#define FEC_U	0x04	/* user mode */
#define FEC_RSV	0x08	/* reserved bit set in a paging entry */
#define FEC_I	0x10	/* instruction fetch */

typedef void (*dune_intr_cb)(struct dune_tf *tf);
typedef void (*dune_pgflt_cb)(uintptr_t addr, uint64_t fec,
			      struct dune_tf *tf);

/*
 * Handle guest vector @vec (0 .. 255) with @cb instead of the default
 * report-and-die; NULL restores the default.  Handlers run in the guest
 * on a per-thread exception stack with interrupts off; the vector
 * registers are saved around them.  They must not fault themselves (a
 * nested exception is reported and ends the process).  0, or -1 with
 * errno EINVAL.
 */
int dune_register_intr_handler(int vec, dune_intr_cb cb);

/*
 * Handle guest page faults (vector 14): @cb gets CR2 and the error
 * code.  Guest page faults happen only for addresses outside every
 * window (dune_va_to_pa fails); faults on memory the process has not
 * mapped or may not access become ordinary SIGSEGV signals.
 */
void dune_register_pgflt_handler(dune_pgflt_cb cb);

/* Print @tf to stderr (usable from a handler: no stdio). */
void dune_dump_trap_frame(struct dune_tf *tf);

#endif
