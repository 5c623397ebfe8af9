// SPDX-License-Identifier: MIT
/*
 * Unit tests for the state dune-box's exec hands the new dune-box
 * (box/proc-wr.c writes it, box/proc-state.c reads it): the policy
 * comes back deciding the same, with the same FILE:LINE; the strings
 * come back exactly; an unsealed or truncated state is refused.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../box/err.c"
#include "../../box/policy.c"
#include "../../box/policy-names.c"
#include "../../box/policy-decide.c"
#include "../../box/profiles.c"
#include "../../box/proc-wr.c"
#include "../../box/proc-state.c"

static char err[512];

static const char policy_text[] =
	"include default\n"
	"# a comment\n"
	"deny EACCES socket if arg0 == AF_INET6\n"
	"kill reboot\n"
	"hide /srv/secret\n"
	"ro /srv\n"
	"limit memory 2G\n"
	"net off\n";

static struct box_policy *parse(void)
{
	struct box_policy *p = box_policy_new("/home/u/work");

	ck_assert_ptr_nonnull(p);
	if (box_policy_parse(p, "my.pol", policy_text, err, sizeof(err)))
		ck_abort_msg("parse failed: %s", err);
	return p;
}

static struct box_decision decide(const struct box_policy *p, int nr,
				  uint64_t a0, const char *path)
{
	struct box_call c = { .nr = nr, .arg = { a0 } };
	struct box_decision d;

	if (path) {
		c.path[0] = path;
		c.path_arg[0] = 1;
		c.path_arg[1] = -1;
		c.nr = SYS_openat;
	}
	box_policy_decide(p, &c, &d);
	return d;
}

static void same_decision(const struct box_policy *a,
			  const struct box_policy *b, int nr, uint64_t a0,
			  const char *path)
{
	struct box_decision x = decide(a, nr, a0, path);
	struct box_decision y = decide(b, nr, a0, path);

	ck_assert_int_eq(x.verdict, y.verdict);
	ck_assert_int_eq(x.err, y.err);
	ck_assert_int_eq(x.line, y.line);
	if (x.file || y.file)
		ck_assert_str_eq(x.file, y.file);
}

/* Write a state for @p with @argv/@envp to a memfd; sealed if @seal. */
static int write_state(const struct box_policy *p, char *const argv[],
		       char *const envp[], bool seal, long truncate_to)
{
	static struct box_wr w;
	int fd = memfd_create("t", MFD_ALLOW_SEALING), n, i;

	ck_assert_int_ge(fd, 0);
	memset(&w, 0, sizeof(w));
	w.fd = fd;
	box_wr_head(&w, 7, true, false, true, p, "/bin/prog", "prog",
		    "/bin/prog");
	for (n = 0; argv[n]; n++)
		;
	box_wr_u64(&w, n);
	for (i = 0; i < n; i++)
		box_wr_str(&w, argv[i]);
	for (n = 0; envp[n]; n++)
		;
	box_wr_u64(&w, n);
	for (i = 0; i < n; i++)
		box_wr_str(&w, envp[i]);
	box_wr_flush(&w);
	ck_assert_int_eq(w.err, 0);
	if (truncate_to >= 0)
		ck_assert_int_eq(ftruncate(fd, truncate_to), 0);
	if (seal)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL |
				       F_SEAL_SHRINK | F_SEAL_GROW |
				       F_SEAL_WRITE), 0);
	return fd;
}

START_TEST(round_trip)
{
	struct box_policy *p = parse();
	char *argv[] = { "argv0 as given", "", "two words", NULL };
	char *envp[] = { "A=1", "LD_PRELOAD=/x.so", NULL };
	struct box_exec_state st;
	enum box_access acc;
	int fd = write_state(p, argv, envp, true, -1), i;

	ck_assert_int_eq(box_exec_state_read(fd, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);	/* closed */
	ck_assert_int_eq(st.log_fd, 7);
	ck_assert(st.stats && !st.quiet && st.kill_on_deny);
	ck_assert_str_eq(st.path, "/bin/prog");
	ck_assert_str_eq(st.execfn, "prog");
	ck_assert_str_eq(st.exe, "/bin/prog");
	for (i = 0; argv[i]; i++)
		ck_assert_str_eq(st.argv[i], argv[i]);
	ck_assert_ptr_null(st.argv[i]);
	for (i = 0; envp[i]; i++)
		ck_assert_str_eq(st.envp[i], envp[i]);
	ck_assert_ptr_null(st.envp[i]);
	/* the same decisions, from the same lines of the same file */
	same_decision(p, st.pol, SYS_socket, AF_INET6, NULL);
	same_decision(p, st.pol, SYS_socket, AF_INET, NULL);
	same_decision(p, st.pol, SYS_reboot, 0, NULL);
	same_decision(p, st.pol, SYS_ptrace, 0, NULL);
	same_decision(p, st.pol, SYS_read, 0, NULL);
	same_decision(p, st.pol, SYS_openat, 0, "/srv/secret/key");
	same_decision(p, st.pol, SYS_openat, 0, "/srv/data");
	same_decision(p, st.pol, SYS_openat, 0, "/home/u/work/x");
	ck_assert_int_eq(decide(st.pol, SYS_reboot, 0, NULL).line, 4);
	ck_assert_str_eq(decide(st.pol, SYS_reboot, 0, NULL).file, "my.pol");
	ck_assert_int_eq(box_policy_npaths(st.pol), box_policy_npaths(p));
	for (i = 0; i < box_policy_npaths(p); i++)
		ck_assert_str_eq(box_policy_path(st.pol, i, &acc),
				 box_policy_path(p, i, &acc));
	ck_assert_int_eq(box_policy_net(st.pol), BOX_NET_OFF);
	ck_assert_uint_eq(box_policy_limit(st.pol, BOX_LIMIT_MEMORY),
			  2ull << 30);
	box_policy_free(p);
}
END_TEST

START_TEST(refused)
{
	struct box_policy *p = parse();
	char *argv[] = { "a", NULL }, *envp[] = { NULL };
	struct box_exec_state st;
	int fd;

	/* not sealed: another thread could still change it */
	fd = write_state(p, argv, envp, false, -1);
	ck_assert_int_eq(box_exec_state_read(fd, &st, err, sizeof(err)), -1);
	close(fd);
	/* cut short */
	fd = write_state(p, argv, envp, true, 100);
	ck_assert_int_eq(box_exec_state_read(fd, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "malformed"));
	box_policy_free(p);
}
END_TEST

/* The same writes, compared: the file must hold exactly them. */
static long verify(int fd, const char *a, const char *b)
{
	static struct box_wr w;

	memset(&w, 0, sizeof(w));
	w.fd = fd;
	w.verify = true;
	box_wr_str(&w, a);
	box_wr_str(&w, b);
	box_wr_flush(&w);
	return w.err ? w.err : (long)w.off;
}

/*
 * What box_exec does after sealing: the state is written again in
 * compare mode, so a write by another thread before the seal is seen.
 */
START_TEST(verified)
{
	static struct box_wr w;
	char big[6000];
	int fd = memfd_create("t", MFD_ALLOW_SEALING);

	ck_assert_int_ge(fd, 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memset(&w, 0, sizeof(w));
	w.fd = fd;
	box_wr_str(&w, "default allow");
	box_wr_str(&w, big);		/* more than one buffer */
	box_wr_flush(&w);
	ck_assert_int_eq(w.err, 0);
	ck_assert_int_eq(w.off, 8 + 14 + 8 + sizeof(big));
	ck_assert_int_eq(verify(fd, "default allow", big), (long)w.off);
	ck_assert_int_eq(verify(fd, "default deny!", big), -EIO);
	big[5000] = 'y';
	ck_assert_int_eq(verify(fd, "default allow", big), -EIO);
	big[5000] = 'x';
	ck_assert_int_eq(pwrite(fd, "D", 1, 8), 1);
	ck_assert_int_eq(verify(fd, "default allow", big), -EIO);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("box_proc");
	TCase *tc = tcase_create("exec_state");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, verified);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
