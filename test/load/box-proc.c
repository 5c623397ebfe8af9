// SPDX-License-Identifier: MIT
/*
 * Processes, for itest-box-proc's comparisons of native and dune-box
 * runs: fork, vfork, wait statuses, pipes, execve (static, dynamic, #!
 * scripts, errors), what exec keeps and closes.  Prints no pids.
 *
 *   box-proc fork | fork200 | deaths | vfork | clone-flags
 *   box-proc exec PROG ARGS...      execv PROG, its error if it fails
 *   box-proc exec-env VAR=VAL PROG ARGS...   the same with only VAR set
 *   box-proc exec-errors            ENOENT, EACCES, ENOEXEC, ...
 *   box-proc exec-keeps             pid, fds across exec (calls "show")
 *   box-proc show ...               argv, AT_EXECFN, /proc/self/exe
 *   box-proc peek-monitor           a fork child reads dune-box's text
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show_status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: killed by %s\n", what, strsignal(WTERMSIG(st)));
	else
		printf("%s: status 0x%x\n", what, st);
	fflush(stdout);
}

static int do_fork(void)
{
	int p[2], st;
	char buf[64];
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		/* the child's memory is its own copy */
		n = snprintf(buf, sizeof(buf), "child: getppid is the parent: %s\n",
			     getppid() > 1 ? "yes" : "no");
		if (write(p[1], buf, n) != n)
			_exit(2);
		_exit(7);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	close(p[0]);
	printf("waitpid returns the child: %s\n",
	       waitpid(pid, &st, 0) == pid ? "yes" : "no");
	show_status("child", st);
	printf("no more children: %s\n",
	       wait(NULL) < 0 && errno == ECHILD ? "ECHILD" : "no");
	return 0;
}

static int do_fork200(void)
{
	long sum = 0, ok = 0;
	int i, st;

	for (i = 0; i < 200; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(i % 100);
		if (waitpid(pid, &st, 0) == pid && WIFEXITED(st)) {
			ok++;
			sum += WEXITSTATUS(st);
		}
	}
	printf("200 forks: %ld reaped, statuses sum to %ld\n", ok, sum);
	return 0;
}

static int do_deaths(void)
{
	static const char *const how[] = { "segv", "term", "abort", "exit" };
	unsigned int i;
	int st;

	for (i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			if (i == 0) {
				volatile int *bad = (volatile int *)(long)getppid();

				*(volatile int *)((long)bad & 0xf) = 1;
			}
			if (i == 1)
				kill(getpid(), SIGTERM);
			if (i == 2)
				abort();
			exit(42);
		}
		waitpid(pid, &st, 0);
		show_status(how[i], st & 0x7f ? st & 0x7f : st);
	}
	/* kill from the parent, and waitid */
	{
		siginfo_t si;
		pid_t pid = fork();

		if (pid == 0) {
			for (;;)
				pause();
		}
		printf("kill: %d\n", kill(pid, SIGKILL));
		memset(&si, 0, sizeof(si));
		printf("waitid: %d\n", waitid(P_PID, pid, &si, WEXITED));
		printf("si_pid is the child: %s, code %s, status %d\n",
		       si.si_pid == pid ? "yes" : "no",
		       si.si_code == CLD_KILLED ? "CLD_KILLED" : "other",
		       si.si_status);
	}
	return 0;
}

static int do_vfork(void)
{
	int st;
	pid_t pid = vfork();

	if (pid < 0) {
		perror("vfork");
		return 1;
	}
	if (pid == 0)
		_exit(3);
	waitpid(pid, &st, 0);
	show_status("vfork child", st);
	/* vfork + exec, as posix_spawn and system() do it */
	fflush(stdout);
	pid = vfork();
	if (pid == 0) {
		execl("/bin/busybox", "echo", "vfork child execs", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	show_status("vfork+exec child", st);
	return 0;
}

/* Raw clone: flags the sandbox gives a new process, and refusals. */
static int do_clone_flags(void)
{
	static int ctid, ptid;
	long r;
	int st;

	fflush(stdout);
	r = syscall(SYS_clone, CLONE_CHILD_SETTID | CLONE_PARENT_SETTID |
		    SIGCHLD, 0, &ptid, &ctid, 0);
	if (r == 0)
		_exit(ctid == getpid() ? 5 : 6);
	printf("parent_tid is the child's pid: %s\n", ptid == r ? "yes" : "no");
	printf("child_tid untouched in the parent: %s\n", ctid == 0 ? "yes" : "no");
	waitpid(r, &st, 0);
	show_status("clone child (5: child_tid set)", st);
	r = syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0);
	printf("CLONE_SIGHAND without CLONE_VM: %ld %s\n", r,
	       r < 0 ? strerror(errno) : "");
	return 0;
}

static int do_exec(char **argv)
{
	fflush(stdout);
	execv(argv[0], argv);
	printf("execv %s: %s\n", argv[0], strerror(errno));
	return 1;
}

static void try_exec(const char *path, char *const argv[])
{
	long r = syscall(SYS_execve, path, argv, environ);
	int e = errno;

	printf("execve %s: %ld %s\n", path, r, strerror(e));
}

static int do_exec_errors(void)
{
	char *argv[] = { "x", NULL };
	int fd;

	try_exec("/tmp/nonexistent/prog", argv);
	fd = open("/tmp/box-proc-noexec", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (write(fd, "#!/bin/busybox sh\n", 18) != 18)
		return 1;
	close(fd);
	chmod("/tmp/box-proc-noexec", 0644);
	try_exec("/tmp/box-proc-noexec", argv);
	try_exec("/tmp", argv);
	fd = open("/tmp/box-proc-text", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (write(fd, "plain text\n", 11) != 11)
		return 1;
	close(fd);
	chmod("/tmp/box-proc-text", 0755);
	try_exec("/tmp/box-proc-text", argv);
	try_exec("/tmp/nonexistent/../x", NULL);
	try_exec("/tmp/box-proc-text/x", argv);
	{
		long r = syscall(SYS_execve, "/bin/busybox", (char **)8,
				 environ);
		int e = errno;

		printf("bad argv pointer: %ld %s\n", r, strerror(e));
	}
	printf("still running after the failures\n");
	return 0;
}

static int do_exec_keeps(const char *self)
{
	char pid[32], plain[16], cloexec[16];
	int p[2];

	if (pipe(p))
		return 1;
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	snprintf(pid, sizeof(pid), "%d", getpid());
	snprintf(plain, sizeof(plain), "%d", p[0]);
	snprintf(cloexec, sizeof(cloexec), "%d", p[1]);
	signal(SIGUSR1, SIG_IGN);
	fflush(stdout);
	execl(self, "renamed-argv0", "keeps", pid, plain, cloexec,
	      (char *)NULL);
	perror("execl");
	return 1;
}

static int do_show(int argc, char **argv)
{
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	char exe[4096];
	ssize_t n;
	int i;

	bool keeps = argc == 5 && !strcmp(argv[1], "keeps");

	for (i = 0; i < (keeps ? 2 : argc); i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	printf("AT_EXECFN = %s\n", execfn ? execfn : "(none)");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	printf("/proc/self/exe = %s\n", exe);
	if (keeps) {
		struct sigaction sa;

		printf("pid unchanged: %s\n",
		       atoi(argv[2]) == getpid() ? "yes" : "no");
		printf("plain fd open: %s\n",
		       fcntl(atoi(argv[3]), F_GETFD) >= 0 ? "yes" : "no");
		printf("close-on-exec fd open: %s\n",
		       fcntl(atoi(argv[4]), F_GETFD) >= 0 ? "yes" : "no");
		sigaction(SIGUSR1, NULL, &sa);
		printf("ignored SIGUSR1 kept: %s\n",
		       sa.sa_handler == SIG_IGN ? "yes" : "no");
	}
	return 0;
}

/* A fork child reads the monitor's code (dune-box in /proc/self/maps). */
static int do_peek_monitor(void)
{
	char line[512];
	unsigned long lo = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	int st;
	pid_t pid;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "/dune-box") && sscanf(line, "%lx", &lo) == 1)
			break;
	if (f)
		fclose(f);
	if (!lo) {
		printf("no dune-box mapping\n");
		return 0;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(*(volatile unsigned char *)lo == 0x7f ? 11 : 12);
	waitpid(pid, &st, 0);
	show_status("child reading the monitor", st);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "fork"))
		return do_fork();
	if (!strcmp(argv[1], "fork200"))
		return do_fork200();
	if (!strcmp(argv[1], "deaths"))
		return do_deaths();
	if (!strcmp(argv[1], "vfork"))
		return do_vfork();
	if (!strcmp(argv[1], "clone-flags"))
		return do_clone_flags();
	if (!strcmp(argv[1], "exec") && argc > 2)
		return do_exec(argv + 2);
	if (!strcmp(argv[1], "exec-env") && argc > 3) {
		char *envp[] = { argv[2], NULL };

		fflush(stdout);
		execve(argv[3], argv + 3, envp);
		printf("execve %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "exec-errors"))
		return do_exec_errors();
	if (!strcmp(argv[1], "exec-keeps"))
		return do_exec_keeps(argv[0]);
	if (!strcmp(argv[1], "peek-monitor"))
		return do_peek_monitor();
	return do_show(argc, argv);
}
