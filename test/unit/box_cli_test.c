// SPDX-License-Identifier: MIT
/* Unit tests for dune-box's command line (box/cli.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "../../box/err.c"
#include "../../box/policy.c"
#include "../../box/policy-names.c"
#include "../../box/policy-decide.c"
#include "../../box/profiles.c"
#include "../../box/cli.c"

static char err[512];
static struct box_opts o;

#define ARGV(...) ((char *[]){ "dune-box", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "dune-box", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) box_cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), &o, err, sizeof(err))

START_TEST(all_options)
{
	char **argv = ARGV("--policy", "p.txt", "--profile=strict", "--ro",
			   "/data", "--rw=/out", "--no-net", "--memory", "512M",
			   "--max-procs", "16", "--cpu=30", "--log", "-",
			   "--kill-on-deny", "--stats", "--quiet", "--", "prog",
			   "-x", "--policy");

	int argc = 0;

	while (argv[argc])
		argc++;
	ck_assert_int_eq(argc, 22);
	ck_assert_int_eq(box_cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.policy_file, "p.txt");
	ck_assert_str_eq(o.profile, "strict");
	ck_assert_int_eq(o.npaths, 2);
	ck_assert_int_eq(o.paths[0].acc, BOX_RO);
	ck_assert_str_eq(o.paths[0].path, "/data");
	ck_assert_int_eq(o.paths[0].argi, 5);
	ck_assert_int_eq(o.paths[1].acc, BOX_RW);
	ck_assert_str_eq(o.paths[1].path, "/out");
	ck_assert(o.no_net);
	ck_assert_uint_eq(o.memory, 512ULL << 20);
	ck_assert_uint_eq(o.max_procs, 16);
	ck_assert_uint_eq(o.cpu, 30);
	ck_assert_str_eq(o.log, "-");
	ck_assert(o.kill_on_deny && o.stats && o.quiet);
	ck_assert(!o.help && !o.version);
	ck_assert_int_eq(o.argc, 3);
	ck_assert_str_eq(o.argv[0], "prog");
	ck_assert_str_eq(o.argv[2], "--policy");
	ck_assert_ptr_null(o.argv[3]);
}
END_TEST

START_TEST(defaults_and_prog)
{
	ck_assert_int_eq(PARSE("ls", "-l"), 0);
	ck_assert_ptr_null(o.policy_file);
	ck_assert_ptr_null(o.profile);
	ck_assert_uint_eq(o.memory, BOX_UNLIMITED);
	ck_assert_uint_eq(o.max_procs, BOX_UNLIMITED);
	ck_assert_uint_eq(o.cpu, BOX_UNLIMITED);
	ck_assert(!o.no_net && !o.quiet && !o.stats && !o.kill_on_deny);
	ck_assert_int_eq(o.argc, 2);
	ck_assert_str_eq(o.argv[1], "-l");
	ck_assert_int_eq(PARSE("--memory", "1G", "--", "--odd-name"), 0);
	ck_assert_str_eq(o.argv[0], "--odd-name");
	ck_assert_uint_eq(o.memory, 1ULL << 30);
	ck_assert_int_eq(PARSE("--memory=64k", "x"), 0);
	ck_assert_uint_eq(o.memory, 64 << 10);
	ck_assert_int_eq(PARSE("--memory=4096", "x"), 0);
	ck_assert_uint_eq(o.memory, 4096);
}
END_TEST

START_TEST(help_version)
{
	ck_assert_int_eq(PARSE("--help"), 0);
	ck_assert(o.help);
	ck_assert_int_eq(PARSE("-h"), 0);
	ck_assert(o.help);
	ck_assert_int_eq(PARSE("--version"), 0);
	ck_assert(o.version);
	ck_assert_ptr_nonnull(strstr(box_cli_usage, "--max-procs N"));
}
END_TEST

static const struct {
	char *argv[6];
	const char *msg;
} bad[] = {
	{ { "--frob", "x" }, "dune-box: unknown option '--frob' (try --help)" },
	{ { "-x", "x" }, "dune-box: unknown option '-x' (try --help)" },
	{ { "--memory", "lots", "x" }, "dune-box: bad size 'lots' for --memory (e.g. 512M)" },
	{ { "--memory", "12Q", "x" }, "dune-box: bad size '12Q' for --memory (e.g. 512M)" },
	{ { "--memory", "0", "x" }, "dune-box: bad size '0' for --memory (e.g. 512M)" },
	{ { "--max-procs", "-3", "x" }, "dune-box: bad number '-3' for --max-procs" },
	{ { "--max-procs", "2K", "x" }, "dune-box: bad number '2K' for --max-procs" },
	{ { "--cpu", "1.5", "x" }, "dune-box: bad number '1.5' for --cpu" },
	{ { "--cpu", "99999999999999999999999", "x" },
	  "dune-box: bad number '99999999999999999999999' for --cpu" },
	{ { "--profile", "lax", "x" },
	  "dune-box: unknown profile 'lax' (strict, default, permissive)" },
	{ { "--policy" }, "dune-box: option '--policy' needs a value" },
	{ { "--no-net=1", "x" }, "dune-box: option '--no-net' takes no value" },
	{ { "--ro", "", "x" }, "dune-box: option '--ro' needs a path" },
	{ { "--log=", "x" }, "dune-box: option '--log' needs a file or -" },
	{ { "--quiet" },
	  "dune-box: no program to run (usage: dune-box [OPTIONS] -- PROG [ARGS...])" },
	{ { "--quiet", "--" },
	  "dune-box: no program to run (usage: dune-box [OPTIONS] -- PROG [ARGS...])" },
};

START_TEST(errors)
{
	char *argv[8] = { "dune-box" };
	int argc = 1;

	while (argc < 7 && bad[_i].argv[argc - 1]) {
		argv[argc] = bad[_i].argv[argc - 1];
		argc++;
	}
	ck_assert_int_eq(box_cli_parse(argc, argv, &o, err, sizeof(err)), -1);
	ck_assert_str_eq(err, bad[_i].msg);
}
END_TEST

START_TEST(policy_merge)
{
	struct box_policy *p;
	struct box_decision d;
	struct box_call c = { .nr = SYS_openat, .arg = { 0, 0, O_WRONLY },
			      .path = { "/data/x" }, .path_arg = { 1 } };
	char path[] = "/tmp/box-cli-XXXXXX";
	int fd;

	/* No option: the default profile. */
	ck_assert_int_eq(PARSE("prog"), 0);
	p = box_opts_policy(&o, "/w", err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(box_policy_net(p), BOX_NET_LOOPBACK);
	box_policy_decide(p, &c, &d);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	box_policy_free(p);

	/* Shortcuts override the profile. */
	ck_assert_int_eq(PARSE("--profile", "permissive", "--ro", "/data",
			       "--no-net", "--memory", "1M", "--max-procs", "5",
			       "--cpu", "7", "--kill-on-deny", "prog"), 0);
	p = box_opts_policy(&o, "/w", err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(box_policy_net(p), BOX_NET_OFF);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_MEMORY), 1 << 20);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_PROCS), 5);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_CPU), 7);
	box_policy_decide(p, &c, &d);
	ck_assert_int_eq(d.verdict, BOX_KILL);
	ck_assert_str_eq(d.file, "command line");
	ck_assert_int_eq(d.line, 4);
	box_policy_free(p);

	/* --policy alone: the file only; with --profile: on top of it. */
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "allow read\nrw /data\n", 20), 20);
	close(fd);
	ck_assert_int_eq(PARSE("--policy", path, "prog"), 0);
	p = box_opts_policy(&o, "/w", err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	box_policy_decide(p, &c, &d);
	ck_assert_int_eq(d.verdict, BOX_DENY);	/* openat not named */
	ck_assert_int_eq(box_policy_net(p), BOX_NET_ON);
	box_policy_free(p);
	ck_assert_int_eq(PARSE("--profile", "default", "--policy", path, "prog"), 0);
	p = box_opts_policy(&o, "/w", err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	box_policy_decide(p, &c, &d);
	ck_assert_int_eq(d.verdict, BOX_ALLOW);
	box_policy_free(p);

	/* A bad file: NULL and the file's message. */
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "allow opn\n", 10), 10);
	close(fd);
	ck_assert_int_eq(PARSE("--policy", path, "prog"), 0);
	ck_assert_ptr_null(box_opts_policy(&o, "/w", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, ":1: unknown system call 'opn'"));
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("box_cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, all_options);
	tcase_add_test(tc, defaults_and_prog);
	tcase_add_test(tc, help_version);
	tcase_add_loop_test(tc, errors, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, policy_merge);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
