// SPDX-License-Identifier: MIT
/*
 * The program's view of its file descriptors, for itest-box-fds's
 * comparisons of native and dune-box runs: natively only the fds the
 * program was given exist, so under dune-box the monitor's own (the
 * --log file, /dev/dune, the vCPUs, an exec's state) must look closed
 * to every call, and the program's first open() must get the native
 * number.  Every number from 3 up to RLIMIT_NOFILE (at most 1024) that
 * the program did not open is attacked; a number that does not behave
 * as a closed fd is printed with what happened.  Prints no fd numbers
 * of the monitor's when all is well.
 *
 *   box-fds view          first open, fcntl scan, /proc/self/fd listing
 *   box-fds attack        every call on every number as on a closed fd
 *   box-fds exec          view, attack, then exec "box-fds view" again
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FD 1024
#define MARK "INJECTED-BY-BOX-FDS"

static int limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur > MAX_FD)
		return MAX_FD;
	return (int)rl.rlim_cur;
}

static int bad;

static void expect(int fd, const char *what, long r, int want_errno)
{
	if (r == -1 && errno == want_errno)
		return;
	bad++;
	printf("fd %d: %s = %ld (%s), expected %s\n", fd, what, r,
	       r == -1 ? strerrorname_np(errno) : "no error",
	       strerrorname_np(want_errno));
}

static void view(void)
{
	char open_fds[8192] = "", listed[8192] = "";
	struct dirent *d;
	int fd, n, lim = limit();
	DIR *dir;

	fd = open("/dev/null", O_RDONLY);
	printf("first open: %d\n", fd);
	close(fd);
	fd = dup(1);
	printf("first dup: %d\n", fd);
	close(fd);
	for (fd = 0; fd < lim; fd++)
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			snprintf(open_fds + strlen(open_fds),
				 sizeof(open_fds) - strlen(open_fds), " %d",
				 fd);
	printf("fcntl(F_GETFD) finds:%s\n", open_fds);
	dir = opendir("/proc/self/fd");
	if (!dir) {
		printf("opendir /proc/self/fd: %s\n", strerror(errno));
		return;
	}
	n = 0;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' && atoi(d->d_name) != dirfd(dir)) {
			snprintf(listed + strlen(listed),
				 sizeof(listed) - strlen(listed), " %s",
				 d->d_name);
			n++;
		}
	closedir(dir);
	printf("/proc/self/fd lists %d:%s\n", n, listed);
}

/* Could @fd be one of the monitor's: not one the program has. */
static bool theirs(int fd, int sv0, int sv1, int ep)
{
	return fd > 2 && fd != sv0 && fd != sv1 && fd != ep;
}

static void attack(void)
{
	int lim = limit(), fd, sv[2], ep, first = -1;
	struct epoll_event ev = { .events = EPOLLIN };
	char buf[64], path[64];
	struct stat st;
	struct pollfd pfd;
	fd_set set;
	struct timeval tv;
	void *p;
	long r;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) ||
	    (ep = epoll_create1(0)) < 0) {
		perror("setup");
		exit(1);
	}
	for (fd = 3; fd < lim; fd++) {
		if (!theirs(fd, sv[0], sv[1], ep))
			continue;
		expect(fd, "fcntl(F_GETFD)", fcntl(fd, F_GETFD), EBADF);
		expect(fd, "fcntl(F_GETFL)", fcntl(fd, F_GETFL), EBADF);
		expect(fd, "fcntl(F_DUPFD)", fcntl(fd, F_DUPFD, 0), EBADF);
		expect(fd, "write", write(fd, MARK "\n", sizeof(MARK)),
		       EBADF);
		expect(fd, "read", read(fd, buf, sizeof(buf)), EBADF);
		expect(fd, "pread", pread(fd, buf, sizeof(buf), 0), EBADF);
		expect(fd, "fstat", fstat(fd, &st), EBADF);
		expect(fd, "lseek", lseek(fd, 0, SEEK_SET), EBADF);
		expect(fd, "ftruncate", ftruncate(fd, 0), EBADF);
		expect(fd, "dup", dup(fd), EBADF);
		expect(fd, "dup2(fd, 100)", dup2(fd, 100), EBADF);
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		expect(fd, "mmap", p == MAP_FAILED ? -1 : 0, EBADF);
		expect(fd, "fstatat(fd, \"\", AT_EMPTY_PATH)",
		       fstatat(fd, "", &st, AT_EMPTY_PATH), EBADF);
		expect(fd, "openat(fd, \"x\")", openat(fd, "x", O_RDONLY),
		       EBADF);
		expect(fd, "epoll_ctl(ADD)",
		       epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), EBADF);
		/* natively a closed fd in a poll set: POLLNVAL */
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT;
		pfd.revents = 0;
		r = poll(&pfd, 1, 0);
		if (r != 1 || pfd.revents != POLLNVAL || pfd.fd != fd) {
			bad++;
			printf("fd %d: poll = %ld revents %#x\n", fd, r,
			       pfd.revents);
		}
		/*
		 * select ignores bits at or above the fd table's size
		 * (max_select_fd), which the monitor's high fds enlarge:
		 * only numbers below the smallest table (64) are compared.
		 */
		if (fd < 64) {
			FD_ZERO(&set);
			FD_SET(fd, &set);
			tv.tv_sec = tv.tv_usec = 0;
			expect(fd, "select",
			       select(fd + 1, &set, NULL, NULL, &tv), EBADF);
		}
		{
			union {
				struct cmsghdr h;
				char b[CMSG_SPACE(sizeof(int))];
			} cm;
			struct iovec iov = { "x", 1 };
			struct msghdr m = {
				.msg_iov = &iov, .msg_iovlen = 1,
				.msg_control = cm.b,
				.msg_controllen = sizeof(cm.b),
			};

			memset(&cm, 0, sizeof(cm));
			cm.h.cmsg_level = SOL_SOCKET;
			cm.h.cmsg_type = SCM_RIGHTS;
			cm.h.cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
			expect(fd, "sendmsg(SCM_RIGHTS)",
			       sendmsg(sv[0], &m, 0), EBADF);
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		expect(fd, "open(/proc/self/fd/N)", open(path, O_RDWR),
		       ENOENT);
		expect(fd, "open(/proc/self/fd/N, O_RDONLY)",
		       open(path, O_RDONLY), ENOENT);
		expect(fd, "readlink(/proc/self/fd/N)",
		       readlink(path, buf, sizeof(buf)), ENOENT);
		expect(fd, "stat(/proc/self/fd/N)", stat(path, &st), ENOENT);
		snprintf(path, sizeof(path), "/dev/fd/%d", fd);
		expect(fd, "open(/dev/fd/N)", open(path, O_WRONLY), ENOENT);
		expect(fd, "close", close(fd), EBADF);
		/* natively a free number: dup2 onto it works */
		r = dup2(1, fd);
		if (r != fd) {
			bad++;
			printf("fd %d: dup2(1, fd) = %ld (%s)\n", fd, r,
			       strerrorname_np(errno));
		} else if (first < 0) {
			first = fd;
		}
		close(fd);
	}
	/* close_range over everything but the standard fds */
	r = syscall(SYS_close_range, 3, ~0u, 0);
	printf("close_range(3, ~0): %ld\n", r);
	printf("attack: %s\n", bad ? "some numbers were not closed" :
	       "every other number behaves as a closed fd");
	printf("the first number dup2 worked onto: %d\n", first);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: box-fds view|attack|exec\n");
		return 2;
	}
	if (!strcmp(argv[1], "view")) {
		view();
	} else if (!strcmp(argv[1], "attack")) {
		view();
		attack();
		view();
	} else if (!strcmp(argv[1], "exec")) {
		view();
		attack();
		printf("exec\n");
		fflush(stdout);
		execl("/proc/self/exe", "box-fds", "view", (char *)NULL);
		perror("exec");
		return 1;
	} else {
		fprintf(stderr, "box-fds: unknown mode %s\n", argv[1]);
		return 2;
	}
	return bad ? 1 : 0;
}
