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

#include <stdbool.h>
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
	/*
	 * A path outside the sandbox's view: it fails with ENOENT as if it
	 * did not exist, logged (--log) but neither reported on stderr nor
	 * killed for (--kill-on-deny), since natively a program probing
	 * for an optional file gets exactly this.
	 */
	bool absent;
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
	/*
	 * Directory a relative path[i] is resolved against (the cwd for
	 * AT_FDCWD, the dirfd's path otherwise); NULL when unknown, and then
	 * the path rules are left to Landlock for that path.
	 */
	const char *base[2];
};

void box_policy_decide(const struct box_policy *p, const struct box_call *c,
		       struct box_decision *d);

/* What a path rule grants (docs/sandbox.md "Paths"). */
enum box_access {
	BOX_HIDDEN,		/* no access at all */
	BOX_RO,			/* read, list, execute */
	BOX_RW,			/* everything */
};

enum box_net {
	BOX_NET_ON,		/* the host's network */
	BOX_NET_LOOPBACK,	/* own network namespace, lo up */
	BOX_NET_OFF,		/* own network namespace, lo down */
};

enum box_limit {
	BOX_LIMIT_MEMORY,	/* bytes: RLIMIT_DATA */
	BOX_LIMIT_PROCS,	/* RLIMIT_NPROC */
	BOX_LIMIT_FILES,	/* RLIMIT_NOFILE */
	BOX_LIMIT_CPU,		/* seconds: RLIMIT_CPU */
	BOX_LIMIT_FSIZE,	/* bytes: RLIMIT_FSIZE */
	BOX_LIMIT_N,
};

#define BOX_UNLIMITED UINT64_MAX

/*
 * A new, empty policy.  @cwd: the directory relative paths in the policy
 * (and ".") name; it is copied.  NULL on allocation failure.
 */
struct box_policy *box_policy_new(const char *cwd);
void box_policy_free(struct box_policy *p);

/*
 * Parse policy text (one statement a line) on top of what @p has:
 * later statements override earlier ones.  @file names the text in
 * messages and decisions.  0, or -1 with "FILE:LINE: what is wrong" in
 * @err.
 */
int box_policy_parse(struct box_policy *p, const char *file,
		     const char *text, char *err, size_t errlen);
/* The same for a file read from disk ("FILE: reason" if unreadable). */
int box_policy_parse_file(struct box_policy *p, const char *path,
			  char *err, size_t errlen);
/* Add built-in profile @name (strict, default, permissive). */
int box_policy_include(struct box_policy *p, const char *name,
		       char *err, size_t errlen);
/* The text of built-in profile @name, NULL if there is none. */
const char *box_profile_text(const char *name);
extern const char *const box_profile_names[];	/* NULL-terminated */

/*
 * Statements made outside a file (the command line's shortcuts); @file
 * and @line say where they came from in decisions.
 */
int box_policy_add_path(struct box_policy *p, enum box_access acc,
			const char *path, const char *file, int line,
			char *err, size_t errlen);
void box_policy_set_net(struct box_policy *p, enum box_net net);
void box_policy_set_limit(struct box_policy *p, enum box_limit l,
			  uint64_t value);
/* Turn every BOX_DENY into BOX_KILL (--kill-on-deny). */
void box_policy_set_kill_on_deny(struct box_policy *p, int on);

/* What box_enforce applies. */
enum box_net box_policy_net(const struct box_policy *p);
uint64_t box_policy_limit(const struct box_policy *p, enum box_limit l);
/* Number of path rules; rule @i's absolute, normalised path and access. */
int box_policy_npaths(const struct box_policy *p);
const char *box_policy_path(const struct box_policy *p, int i,
			    enum box_access *acc);

/* Number of a system call by name, -1 if unknown; and back (NULL). */
int box_syscall_nr(const char *name);
const char *box_syscall_name(int nr);

/*
 * Which arguments of system call @nr are paths the policy looks at
 * (up to two, in @argidx, -1 for none); the number of them.
 */
int box_policy_path_args(int nr, int argidx[2]);

/*
 * Apply what Linux enforces itself (box/enforce.c): the network
 * namespace, the rlimits, then Landlock for the path rules, to the
 * calling process, before the program runs.  @exec: NULL-terminated
 * files that must stay readable and executable (the program, its
 * interpreter); may be NULL.  0, or -1 with the reason in @err.
 */
int box_enforce(const struct box_policy *p, const char *const exec[],
		char *err, size_t errlen);
/* The running kernel's Landlock ABI version, 0 if it has none. */
int box_landlock_abi(void);

#endif
