// SPDX-License-Identifier: MIT
/*
 * dune-box: run an unmodified Linux program at ring 3 under a ring-0
 * policy monitor in the same process (docs/sandbox.md, docs/dune-box.1).
 *
 *   options → policy → the program checked → loaded → Dune mode set up →
 *   what Linux enforces (namespaces, rlimits, Landlock) → ring 3
 *
 * Everything that can be wrong with the command line, the policy or the
 * program is found before anything runs, and ends with status 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dune.h"
#include "cli.h"
#include "load.h"
#include "mem.h"
#include "monitor.h"
#include "ownfd.h"
#include "phase.h"
#include "policy.h"
#include "proc.h"

extern char **environ;

/* The status for bad input to dune-box itself. */
#define EXIT_USAGE 2
/* Set-up that failed after the checks (Dune mode, Landlock, ...). */
#define EXIT_SETUP 125

static __attribute__((noreturn, format(printf, 2, 3)))
void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("dune-box: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static bool is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

/* PROG as execvp finds it: as given if it has a slash, else on $PATH. */
static const char *find_program(const char *prog, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	const char *p, *end;

	if (strchr(prog, '/'))
		return prog;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		snprintf(buf, len, "%.*s%s%s", (int)(end - p), p,
			 end > p ? "/" : "", prog);
		if (is_executable_file(buf))
			return buf;
		if (!*end)
			break;
	}
	/* Not found: box_load_check says so, naming PROG. */
	return prog;
}

static int open_log(const char *log)
{
	int fd;

	if (!log)
		return -1;
	if (strcmp(log, "-") == 0)
		return 2;
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(EXIT_USAGE, "--log %s: %s", log, strerror(errno));
	return fd;
}

/*
 * The program loaded into a new sandbox and Dune mode set up, for a first
 * run and an exec alike: on failure, @status and the reason.
 */
static struct box_mem *load_prepared(const char *path, const char *execfn,
				     char **argv, char **envp,
				     struct box_image *img, int status,
				     const char *what)
{
	struct box_mem *mem = box_mem_new();
	char err[1024];
	uint64_t ign;

	if (!mem)
		die(EXIT_SETUP, "out of memory");
	if (box_load(path, execfn, argv, envp, mem, img, err, sizeof(err)))
		die(status, "%s%s", what, err);
	box_phase("program loaded");
	/*
	 * Dune mode's set-up installs its own handlers; the dispositions
	 * the program inherits as ignored stay ignored in its view.
	 */
	ign = box_proc_ignored();
	if (box_run_prepare(img, mem))
		die(EXIT_SETUP, "cannot use Dune mode (see above)");
	box_proc_set_ignored(ign);
	box_phase("dune_init");
	return mem;
}

static __attribute__((noreturn))
void run_to_exit(const struct box_image *img, struct box_mem *mem,
		 const struct box_policy *pol, int log_fd, bool stats,
		 bool quiet, bool kill_on_deny, const char *path)
{
	struct box_monitor_opts mo = {
		.log_fd = log_fd, .msg_fd = 2, .stats = stats,
		.quiet = quiet, .kill_on_deny = kill_on_deny,
	};
	int status = box_run(img, mem, pol, &mo);

	if (status < 0)
		die(EXIT_SETUP, "cannot run %s: %s", path, strerror(-status));
	box_exit_like(status);
}

/*
 * dune-box --exec-state FD (internal, docs/dune-box.1): a sandboxed
 * program's execve, re-executed by its monitor (box/proc-exec.c).  The
 * policy, the namespaces, rlimits and Landlock are in force already.
 * Past the point of no return: a failure ends the process.
 */
static __attribute__((noreturn)) void exec_resume(const char *fdarg)
{
	struct box_exec_state st;
	const char *self[1];
	struct box_image img;
	struct box_mem *mem;
	char err[1024], *end;
	long fd;

	fd = strtol(fdarg, &end, 10);
	if (*end || fd < 0 || fd > INT_MAX)
		die(EXIT_USAGE, "--exec-state: bad fd '%s'", fdarg);
	if (box_exec_state_read(fd, &st, err, sizeof(err)))
		die(EXIT_SETUP, "%s", err);
	box_proc_self_files(self, 0, 1);	/* our path, for the next exec */
	box_proc_set_exe(st.exe);
	box_proc_set_comm(st.execfn);	/* as execve sets it */
	/* --log FILE's fd, not "-" (stderr), is close-on-exec again */
	if (st.log_fd > 2)
		fcntl(st.log_fd, F_SETFD, FD_CLOEXEC);
	mem = load_prepared(st.path, st.execfn, st.argv, st.envp, &img,
			    EXIT_SETUP, "exec: ");
	run_to_exit(&img, mem, st.pol, st.log_fd, st.stats, st.quiet,
		    st.kill_on_deny, st.path);
}

int main(int argc, char **argv)
{
	char err[1024], pathbuf[PATH_MAX], interp[PATH_MAX], cwd[PATH_MAX];
	const char *exec_files[24] = { NULL };
	struct box_policy *pol;
	struct box_image img;
	struct box_mem *mem;
	struct box_opts o;
	const char *prog;
	int log_fd, nexec = 0;
	char *real;

	if (argc == 3 && strcmp(argv[1], "--exec-state") == 0)
		exec_resume(argv[2]);
	box_phase_start("exec, ld.so (from box-tsc's fork)");
	if (box_cli_parse(argc, argv, &o, err, sizeof(err))) {
		/* cli.c's messages carry the "dune-box: " prefix already */
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(box_cli_usage, stdout);
		return 0;
	}
	if (o.version) {
		printf("dune-box %s\n", BOX_VERSION);
		return 0;
	}

	prog = find_program(o.argv[0], pathbuf, sizeof(pathbuf));
	if (box_load_check_interp(prog, interp, sizeof(interp), err,
				  sizeof(err)))
		die(EXIT_USAGE, "%s", err);
	real = realpath(prog, NULL);
	box_proc_set_exe(real ? real : prog);	/* /proc/self/exe */
	box_proc_set_comm(prog);	/* /proc/self/comm */
	free(real);
	if (!getcwd(cwd, sizeof(cwd)))
		die(EXIT_SETUP, "getcwd: %s", strerror(errno));
	pol = box_opts_policy(&o, cwd, err, sizeof(err));
	if (!pol)
		die(EXIT_USAGE, "%s", err);
	box_phase("options, program found, policy");

	/*
	 * Load before dune_init: the layout then covers the program where
	 * Linux's placement put it (a PIE may land far from everything
	 * else), and dune_init's windows are chosen around it.  Dune mode's
	 * set-up reads /proc/self/maps and opens /dev/dune: before the path
	 * rules, which need not allow either.
	 */
	log_fd = open_log(o.log);
	/*
	 * High, where the program's own fds never go, before the rlimits
	 * of the policy lower the ceiling (box/ownfd.c).
	 */
	if (log_fd > 2)
		log_fd = box_fd_high(log_fd);
	mem = load_prepared(prog, prog, o.argv, environ, &img, EXIT_USAGE, "");
	exec_files[nexec++] = prog;
	if (interp[0])
		exec_files[nexec++] = interp;
	/* the program's execve re-executes dune-box (box/proc-exec.c) */
	box_proc_self_files(exec_files, nexec,
			    sizeof(exec_files) / sizeof(exec_files[0]));
	if (box_enforce(pol, exec_files, err, sizeof(err)))
		die(EXIT_SETUP, "%s", err);
	box_phase("enforce (netns, rlimits, Landlock)");

	run_to_exit(&img, mem, pol, log_fd, o.stats, o.quiet, o.kill_on_deny,
		    prog);
}
