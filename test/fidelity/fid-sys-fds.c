// SPDX-License-Identifier: MIT
/*
 * The fds a program finds open, and the numbers it is given: probes over
 * every possible fd (fstat, fcntl, the *at calls on a dirfd, dup2 onto
 * it), the number open() and dup() hand out, and the same in a child
 * after fork and after execve (Python's subprocess tests check exactly
 * this).  Natively a process has only what it inherited.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Bounded, so that a huge RLIMIT_NOFILE does not make this slow. */
static long max_fd(void)
{
	long n = sysconf(_SC_OPEN_MAX);

	return n < 0 || n > 4096 ? 4096 : n;
}

/* One line: the fds that @probe finds open. */
static void list(const char *what, int (*probe)(int))
{
	long fd, n = max_fd();
	const char *sep = "";

	printf("%s:", what);
	for (fd = 0; fd < n; fd++) {
		if (probe(fd)) {
			printf("%s%ld", sep, fd);
			sep = ",";
		}
	}
	printf("\n");
}

static int by_fstat(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0;
}

static int by_fcntl(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/* A relative path needs the dirfd: EBADF if it is not open. */
static int by_openat(int fd)
{
	int r = openat(fd, "x", O_RDONLY);

	if (r >= 0)
		close(r);
	return !(r < 0 && errno == EBADF);
}

static int by_fstatat_empty(int fd)
{
	struct stat st;

	return fstatat(fd, "", &st, AT_EMPTY_PATH) == 0;
}

static int by_read(int fd)
{
	return !(read(fd, NULL, 0) < 0 && errno == EBADF);
}

static void probe_all(const char *who)
{
	char what[64];

	snprintf(what, sizeof(what), "%s fstat", who);
	list(what, by_fstat);
	snprintf(what, sizeof(what), "%s fcntl", who);
	list(what, by_fcntl);
	snprintf(what, sizeof(what), "%s openat", who);
	list(what, by_openat);
	snprintf(what, sizeof(what), "%s fstatat-empty", who);
	list(what, by_fstatat_empty);
	snprintf(what, sizeof(what), "%s read", who);
	list(what, by_read);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int fd, d, st;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "exec-child") == 0) {
		probe_all("exec child");
		return 0;
	}
	probe_all("start");

	fd = open("/dev/null", O_RDONLY);
	d = dup(fd);
	printf("open gives %d, dup gives %d\n", fd, d);
	close(d);
	/* An absolute path ignores the dirfd, whatever it is. */
	d = openat(1000, "/dev/null", O_RDONLY);
	printf("openat(1000, absolute) %s\n", d >= 0 ? "opens" : strerror(errno));
	if (d >= 0)
		close(d);
	/* dup2 onto every free number, and back. */
	for (d = 3; d < max_fd(); d++) {
		if (d == fd)
			continue;
		if (dup2(fd, d) != d) {
			printf("dup2(%d, %d): %s\n", fd, d, strerror(errno));
			break;
		}
		close(d);
	}
	printf("dup2 onto every fd from 3: done\n");
	/* dup2 from a closed fd */
	printf("dup2(closed, 5): %s\n",
	       dup2(max_fd() - 1, 5) < 0 ? strerror(errno) : "works");
	fflush(stdout);

	pid = fork();
	if (pid == 0) {
		probe_all("fork child");
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("fork child status %d\n", st);
	fflush(stdout);

	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "exec-child", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	printf("exec child status %d\n", st);
	return 0;
}
