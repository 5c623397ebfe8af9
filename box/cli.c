// SPDX-License-Identifier: MIT
/*
 * dune-box's command line (box/cli.h).  Options in the style of
 * bubblewrap and firejail: "--name VALUE" or "--name=VALUE"; the first
 * word that is not an option, or the one after "--", is the program.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"

const char box_cli_usage[] =
	"usage: dune-box [OPTIONS] [--] PROG [ARGS...]\n"
	"Run PROG at ring 3 under a policy monitor (man dune-box).\n"
	"\n"
	"  --policy FILE        policy file (docs/sandbox.md)\n"
	"  --profile NAME       built-in profile: strict, default, permissive\n"
	"  --ro PATH            PATH read-only\n"
	"  --rw PATH            PATH read-write\n"
	"  --no-net             no network (own namespace, loopback down)\n"
	"  --memory SIZE        data memory limit, K/M/G suffixes\n"
	"  --max-procs N        processes and threads of the user\n"
	"  --cpu SECONDS        CPU time limit\n"
	"  --log FILE|-         one line per system call with its decision\n"
	"  --kill-on-deny       end the sandbox at the first denied call\n"
	"  --stats              counts of calls and decisions at exit\n"
	"  --quiet              no message for denied calls\n"
	"  --help, --version\n";

/* A whole number, with K/M/G/T (powers of 1024) if @sfx. */
static int number(const char *s, bool sfx, uint64_t *v)
{
	unsigned long long n;
	char *end;
	int sh = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (sfx && *end && !end[1]) {
		switch (*end) {
		case 'k': case 'K': sh = 10; break;
		case 'm': case 'M': sh = 20; break;
		case 'g': case 'G': sh = 30; break;
		case 't': case 'T': sh = 40; break;
		default: return -1;
		}
		end++;
	}
	if (*end || (sh && n > (UINT64_MAX >> sh)))
		return -1;
	*v = (uint64_t)n << sh;
	return 0;
}

enum opt {
	O_POLICY, O_PROFILE, O_RO, O_RW, O_NO_NET, O_MEMORY, O_MAX_PROCS,
	O_CPU, O_LOG, O_KILL, O_STATS, O_QUIET, O_HELP, O_VERSION,
};

static const struct {
	const char *name;
	enum opt opt;
	bool arg;
} opts[] = {
	{ "policy", O_POLICY, true }, { "profile", O_PROFILE, true },
	{ "ro", O_RO, true }, { "rw", O_RW, true },
	{ "no-net", O_NO_NET, false }, { "memory", O_MEMORY, true },
	{ "max-procs", O_MAX_PROCS, true }, { "cpu", O_CPU, true },
	{ "log", O_LOG, true }, { "kill-on-deny", O_KILL, false },
	{ "stats", O_STATS, false }, { "quiet", O_QUIET, false },
	{ "help", O_HELP, false }, { "version", O_VERSION, false },
};

int box_cli_parse(int argc, char **argv, struct box_opts *o, char *err,
		  size_t errlen)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->memory = o->max_procs = o->cpu = BOX_UNLIMITED;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		size_t k, nlen;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h"))
			a = "--help";
		if (a[0] != '-')
			break;
		if (a[1] != '-')
			return box_err(err, errlen, "dune-box: unknown option '%s' (try --help)", a);
		a += 2;
		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (strlen(opts[k].name) == nlen &&
			    !strncmp(opts[k].name, a, nlen))
				break;
		if (k == sizeof(opts) / sizeof(opts[0]))
			return box_err(err, errlen, "dune-box: unknown option '--%.*s' (try --help)",
				    (int)nlen, a);
		if (opts[k].arg) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return box_err(err, errlen, "dune-box: option '--%s' needs a value",
					    opts[k].name);
		} else if (eq) {
			return box_err(err, errlen, "dune-box: option '--%s' takes no value",
				    opts[k].name);
		}
		switch (opts[k].opt) {
		case O_POLICY:
			o->policy_file = val;
			break;
		case O_PROFILE:
			if (!box_profile_text(val))
				return box_err(err, errlen,
					    "dune-box: unknown profile '%s' (strict, default, permissive)",
					    val);
			o->profile = val;
			break;
		case O_RO:
		case O_RW:
			if (!*val)
				return box_err(err, errlen, "dune-box: option '--%s' needs a path",
					    opts[k].name);
			if (o->npaths == BOX_MAX_CLI_PATHS)
				return box_err(err, errlen, "dune-box: too many --ro/--rw (at most %d)",
					    BOX_MAX_CLI_PATHS);
			o->paths[o->npaths].acc = opts[k].opt == O_RO ? BOX_RO : BOX_RW;
			o->paths[o->npaths].path = val;
			o->paths[o->npaths].argi = i;
			o->npaths++;
			break;
		case O_NO_NET:
			o->no_net = true;
			break;
		case O_MEMORY:
			if (number(val, true, &o->memory) || !o->memory)
				return box_err(err, errlen, "dune-box: bad size '%s' for --memory (e.g. 512M)",
					    val);
			break;
		case O_MAX_PROCS:
			if (number(val, false, &o->max_procs) || !o->max_procs)
				return box_err(err, errlen, "dune-box: bad number '%s' for --max-procs",
					    val);
			break;
		case O_CPU:
			if (number(val, false, &o->cpu) || !o->cpu)
				return box_err(err, errlen, "dune-box: bad number '%s' for --cpu", val);
			break;
		case O_LOG:
			if (!*val)
				return box_err(err, errlen, "dune-box: option '--log' needs a file or -");
			o->log = val;
			break;
		case O_KILL:
			o->kill_on_deny = true;
			break;
		case O_STATS:
			o->stats = true;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_HELP:
			o->help = true;
			return 0;
		case O_VERSION:
			o->version = true;
			return 0;
		}
	}
	if (i >= argc)
		return box_err(err, errlen, "dune-box: no program to run (usage: dune-box [OPTIONS] -- PROG [ARGS...])");
	o->argv = argv + i;
	o->argc = argc - i;
	return 0;
}

struct box_policy *box_opts_policy(const struct box_opts *o, const char *cwd,
				   char *err, size_t errlen)
{
	struct box_policy *p = box_policy_new(cwd);
	const char *profile = o->profile;
	int i;

	if (!p) {
		box_err(err, errlen, "dune-box: out of memory");
		return NULL;
	}
	if (!profile && !o->policy_file)
		profile = "default";
	if (profile && box_policy_include(p, profile, err, errlen))
		goto fail;
	if (o->policy_file &&
	    box_policy_parse_file(p, o->policy_file, err, errlen))
		goto fail;
	for (i = 0; i < o->npaths; i++) {
		if (box_policy_add_path(p, o->paths[i].acc, o->paths[i].path,
					"command line", o->paths[i].argi, err,
					errlen))
			goto fail;
	}
	if (o->no_net)
		box_policy_set_net(p, BOX_NET_OFF);
	if (o->memory != BOX_UNLIMITED)
		box_policy_set_limit(p, BOX_LIMIT_MEMORY, o->memory);
	if (o->max_procs != BOX_UNLIMITED)
		box_policy_set_limit(p, BOX_LIMIT_PROCS, o->max_procs);
	if (o->cpu != BOX_UNLIMITED)
		box_policy_set_limit(p, BOX_LIMIT_CPU, o->cpu);
	box_policy_set_kill_on_deny(p, o->kill_on_deny);
	return p;
fail:
	box_policy_free(p);
	return NULL;
}
