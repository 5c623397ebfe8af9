/* SPDX-License-Identifier: MIT */
/*
 * dune-box policy internals shared by the parser (policy.c), the
 * decider (policy-decide.c) and enforcement (enforce.c).
 */
#ifndef BOX_POLICY_INT_H
#define BOX_POLICY_INT_H

#include <stdbool.h>
#include "policy.h"

#define BOX_MAX_COND 6

enum box_op { BOX_EQ, BOX_NE, BOX_LT, BOX_LE, BOX_GT, BOX_GE };

/* argN [& mask] op value */
struct box_cond {
	int arg;
	enum box_op op;
	uint64_t mask;		/* ~0 when the statement has no mask */
	uint64_t value;
};

struct box_rule {
	int nr;
	enum box_verdict verdict;
	int err;
	int ncond;
	struct box_cond cond[BOX_MAX_COND];
	const char *file;
	int line;
};

struct box_prule {
	char *path;		/* absolute, normalised, no trailing '/' */
	enum box_access acc;
	const char *file;
	int line;
};

struct box_name {
	struct box_name *next;
	char s[];
};

#define BOX_NAMED_NR 512
#define BOX_NAMED_WORDS (BOX_NAMED_NR / 64)

struct box_policy {
	struct box_rule *rules;
	int nrules, rules_cap;
	/* calls some rule names (bit nr): the others skip the rule scan */
	uint64_t named[BOX_NAMED_WORDS];
	struct box_prule *paths;
	int npaths, paths_cap;
	/* for calls no rule names */
	enum box_verdict def_verdict;
	int def_err;
	const char *def_file;
	int def_line;
	enum box_net net;
	uint64_t limit[BOX_LIMIT_N];
	bool kill_on_deny;
	char *cwd;
	struct box_name *names;	/* file names the rules point into */
	int depth;		/* include nesting */
};

/*
 * Normalise @path (absolute, or relative to @base) lexically into @out:
 * no "//", ".", ".." or trailing '/'.  0, or -1 if it does not fit.
 */
int box_path_normalise(const char *base, const char *path, char *out,
		       size_t outlen);

/* The @i-th known system call: its number and @name, -1 past the end. */
int box_syscall_at(size_t i, const char **name);
/* Value of named constant @name (AF_UNIX, O_WRONLY, ...); 0, or -1. */
int box_constant(const char *name, uint64_t *v);

/* Index of the path rule deciding for absolute normalised @path, -1. */
int box_path_rule(const struct box_policy *p, const char *path);

#endif
