/* SPDX-License-Identifier: MIT */
/*
 * dune-box: what the monitor knows about each x86-64 system call: the
 * layout of its arguments (which are pointers, to what, how long) and
 * how it is handled.  A call without an entry is denied (ENOSYS).
 *
 * Owner: the monitor (box/systab.c).  Pure data, unit-tested on the host.
 */
#ifndef BOX_SYSTAB_H
#define BOX_SYSTAB_H

#include <stdint.h>

enum box_kind {
	BK_UNKNOWN = 0,	/* no entry: denied with ENOSYS */
	BK_PASS,	/* checked, then passed to Linux */
	BK_EMUL,	/* emulated by the monitor (exit, arch_prctl, ...) */
	BK_MEM,		/* a memory call: checked and reflected (mem.c) */
	BK_REFUSE,	/* breaks isolation whatever the policy says */
};

enum box_argty {
	BA_VAL = 0,	/* a number */
	BA_FD,		/* a file descriptor (decoded as a number) */
	BA_PATH,	/* NUL-terminated path, copied for Linux and the policy */
	BA_STR,		/* other NUL-terminated string (name), copied */
	BA_IN,		/* buffer Linux reads: len below */
	BA_OUT,		/* buffer Linux writes */
	BA_INOUT,	/* both */
	BA_IOV_IN,	/* struct iovec[arg len]; Linux reads the buffers */
	BA_IOV_OUT,	/* ... writes the buffers */
	BA_MSG_IN,	/* struct msghdr for sendmsg */
	BA_MSG_OUT,	/* struct msghdr for recvmsg */
	BA_SA_OUT,	/* sockaddr Linux writes; arg len is a socklen_t * */
	BA_SPECIAL,	/* layout depends on another argument: monitor.c */
};

/* No length argument: the size is fixed (sz). */
#define BOX_NOLEN 0xff

struct box_arg {
	uint8_t ty;	/* enum box_argty */
	uint8_t opt;	/* NULL allowed */
	uint8_t len;	/* index of the length (or count) argument, or BOX_NOLEN */
	uint16_t sz;	/* fixed size, or element size for a count (1: bytes) */
};

struct box_sysent {
	const char *name;
	uint8_t kind;		/* enum box_kind */
	uint8_t nargs;
	uint8_t quiet;		/* a refusal here needs no message */
	struct box_arg a[6];
};

/* The entry for @nr (kind BK_UNKNOWN, name NULL if none). */
const struct box_sysent *box_systab(long nr);

/* Largest number with an entry, plus one. */
extern const unsigned int box_systab_size;

#endif
