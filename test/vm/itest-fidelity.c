// SPDX-License-Identifier: MIT
/*
 * The differential harness: every fid-NAME program next to this one (the
 * sources are test/fidelity/fid-NAME.c, plain programs that know nothing
 * of Dune) runs natively and in Dune mode, and what it wrote to stdout
 * and stderr, and its wait status, must be identical.  Dune mode is
 * fid-NAME.dune, the same objects linked with enter.c, which enters Dune
 * mode from a constructor.
 *
 * Programs must print no raw addresses, pids or times: both runs are
 * compared byte for byte.
 *
 * Usage: itest-fidelity [-t NAME | -t NAME@dune-run] [-l]
 * (-t NAME runs both comparisons of NAME)
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FID_TIMEOUT_SEC 240
#define FID_OUT_MAX (256 << 10)
#define FID_MAX_PROGS 256
/* The test name of the `dune-run -- fid-NAME` comparison: NAME@dune-run */
#define DUNE_RUN_SUFFIX "@dune-run"

struct fid_run {
	char *out;
	size_t len;
	int status;
	bool timed_out;
};

static char bindir[4096];

/* Run argv with stdout and stderr into one pipe; the child gets stdin
 * from /dev/null and its own process group, so a timeout kills it all. */
static int fid_exec(char *const argv[], struct fid_run *r)
{
	int p[2];
	pid_t pid;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->out = malloc(FID_OUT_MAX + 1);
	if (!r->out || pipe(p))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		if (!freopen("/dev/null", "r", stdin))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	alarm(FID_TIMEOUT_SEC);
	for (;;) {
		n = read(p[0], r->out + r->len, FID_OUT_MAX - r->len);
		if (n < 0 && errno == EINTR) {
			/* the alarm: the run hangs */
			r->timed_out = true;
			kill(-pid, SIGKILL);
			continue;
		}
		if (n <= 0)
			break;
		r->len += n;
		if (r->len == FID_OUT_MAX)
			break;
	}
	alarm(0);
	close(p[0]);
	kill(-pid, SIGKILL);	/* whatever is left of its group */
	while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
		;
	r->out[r->len] = 0;
	return 0;
}

static void fid_print_out(const char *what, const struct fid_run *r)
{
	const char *s = r->out, *e;

	printf("    %s (wait status 0x%x%s):\n", what, r->status,
	       r->timed_out ? ", timed out" : "");
	while (*s) {
		e = strchrnul(s, '\n');
		printf("    | %.*s\n", (int)(e - s), s);
		s = *e ? e + 1 : e;
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* One comparison: 1 if it passed. */
static int fid_compare(const char *name, const char *mode,
		       char *const native_argv[], char *const dune_argv[])
{
	struct fid_run nat, dun;
	int ok;

	if (fid_exec(native_argv, &nat) || fid_exec(dune_argv, &dun)) {
		printf("FAIL itest-fidelity/%s%s: cannot run: %s\n", name, mode,
		       strerror(errno));
		return 0;
	}
	ok = !nat.timed_out && !dun.timed_out && nat.status == dun.status &&
	     nat.len == dun.len && !memcmp(nat.out, dun.out, nat.len);
	if (ok) {
		printf("PASS itest-fidelity/%s%s\n", name, mode);
	} else {
		printf("FAIL itest-fidelity/%s%s: native and Dune mode differ\n",
		       name, mode);
		fid_print_out("native", &nat);
		fid_print_out("Dune mode", &dun);
	}
	free(nat.out);
	free(dun.out);
	return ok;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fid-* programs next to this one, sorted, without the .dune twins. */
static int fid_list(char **names, int max)
{
	DIR *d = opendir(bindir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) && n < max) {
		size_t l = strlen(e->d_name);

		if (strncmp(e->d_name, "fid-", 4) ||
		    (l > 5 && !strcmp(e->d_name + l - 5, ".dune")))
			continue;
		names[n++] = strdup(e->d_name + 4);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	return n;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	char *names[FID_MAX_PROGS], *slash;
	const char *only = NULL;
	int i, n, opt, passed = 0, failed = 0;
	bool list = false;

	while ((opt = getopt(argc, argv, "t:l")) != -1) {
		if (opt == 't')
			only = optarg;
		else if (opt == 'l')
			list = true;
		else
			return 2;
	}
	if (!realpath("/proc/self/exe", bindir))
		return 1;
	slash = strrchr(bindir, '/');
	*slash = 0;
	n = fid_list(names, FID_MAX_PROGS);
	if (n < 0) {
		perror(bindir);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* no SA_RESTART: the alarm must interrupt the read */
	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; i < n; i++) {
		char nat[4200], dun[4200], run[4200], run_name[4200];
		char *nat_argv[] = { nat, NULL };
		char *dun_argv[] = { dun, NULL };
		char *run_argv[] = { run, "--", nat, NULL };

		snprintf(run_name, sizeof(run_name), "%s%s", names[i],
			 DUNE_RUN_SUFFIX);
		if (list) {
			printf("%s\n%s\n", names[i], run_name);
			continue;
		}
		snprintf(nat, sizeof(nat), "%s/fid-%s", bindir, names[i]);
		snprintf(dun, sizeof(dun), "%s/fid-%s.dune", bindir, names[i]);
		snprintf(run, sizeof(run), "%s/dune-run", bindir);
		if (!only || !strcmp(only, names[i])) {
			if (fid_compare(names[i], "", nat_argv, dun_argv))
				passed++;
			else
				failed++;
		}
		if (!only || !strcmp(only, names[i]) ||
		    !strcmp(only, run_name)) {
			if (fid_compare(names[i], DUNE_RUN_SUFFIX, nat_argv,
					run_argv))
				passed++;
			else
				failed++;
		}
	}
	if (list)
		return 0;
	printf("itest: %d passed, %d failed\n", passed, failed);
	return (failed || !passed) ? 1 : 0;
}
