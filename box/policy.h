/* SPDX-License-Identifier: MIT */
/*
 * dune-box: the policy (what a sandboxed program may do) and how it is
 * decided per system call.  Grammar: docs/sandbox.md.
 *
 * Owner: the policy (box/policy*.c, box/profiles.c, box/enforce.c).
 * The monitor calls box_policy_decide for every ring-3 system call after
 * copying its path arguments into monitor memory.
 */
#ifndef BOX_POLICY_H
#define BOX_POLICY_H

#include <stddef.h>
#include <stdint.h>

struct box_policy;

enum box_verdict {
	BOX_ALLOW,		/* pass to Linux (or emulate) */
	BOX_DENY,		/* fail with -decision.err */
	BOX_KILL,		/* end the sandbox (SIGSYS, as seccomp would) */
};

struct box_decision {
	enum box_verdict verdict;
	int err;		/* errno for BOX_DENY */
	int line;		/* policy line that decided, 0 for a built-in rule */
	const char *file;	/* policy file (or "profile NAME") of that line */
	const char *why;	/* short reason: "path not readable", ... */
};

/* One system call as the monitor saw it. */
struct box_call {
	int nr;			/* x86-64 system call number */
	uint64_t arg[6];
	/*
	 * Path arguments, copied into monitor memory (NUL-terminated), in
	 * argument order; NULL where the call has none.  path_arg[i] says
	 * which argument each came from.
	 */
	const char *path[2];
	int path_arg[2];
};

void box_policy_decide(const struct box_policy *p, const struct box_call *c,
		       struct box_decision *d);

#endif
