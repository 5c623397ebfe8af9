/* SPDX-License-Identifier: MIT */
/*
 * dune-box's command line: dune-box [OPTIONS] -- PROG [ARGS...]
 * (docs/dune-box.1).  Pure parsing, unit-tested on the host.
 */
#ifndef BOX_CLI_H
#define BOX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define BOX_VERSION "0.1"
#define BOX_MAX_CLI_PATHS 64

struct box_cli_path {
	enum box_access acc;	/* --ro: BOX_RO, --rw: BOX_RW */
	const char *path;
	int argi;		/* its index in argv (for decisions) */
};

struct box_opts {
	const char *policy_file;	/* --policy */
	const char *profile;		/* --profile, NULL if not given */
	struct box_cli_path paths[BOX_MAX_CLI_PATHS];
	int npaths;
	bool no_net;
	uint64_t memory;		/* BOX_UNLIMITED when not given */
	uint64_t max_procs;
	uint64_t cpu;
	const char *log;		/* --log FILE, "-" for stderr */
	bool kill_on_deny, stats, quiet, help, version;
	char **argv;			/* PROG ARGS..., NULL-terminated */
	int argc;
};

/*
 * Parse @argv into @o (which points into @argv).  0 on success (check
 * o->help and o->version first: then there is no program); -1 with a
 * message in @err, for which dune-box exits 2.
 */
int box_cli_parse(int argc, char **argv, struct box_opts *o, char *err,
		  size_t errlen);

/* The --help text. */
extern const char box_cli_usage[];

/*
 * The policy the options ask for: --profile (or "default" without
 * --policy), then the --policy file on top, then the shortcuts, which
 * override both.  NULL with "FILE:LINE: ..." in @err on a bad policy.
 */
struct box_policy *box_opts_policy(const struct box_opts *o, const char *cwd,
				   char *err, size_t errlen);

#endif
