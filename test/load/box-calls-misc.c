// SPDX-License-Identifier: MIT
/*
 * Calls the monitor's table gained, boxed and native (itest-box-calls):
 * ioprio_get/set, capget/capset (the data's length from the header's
 * version), adjtimex/clock_adjtime read-only, epoll_pwait2, pidfd_open,
 * pidfd_send_signal, process_mrelease, the xattr calls; each with its pointers at an
 * address the program does not own (EFAULT).  Raw calls: the C library
 * would touch the pointers itself.
 *
 * Usage: box-calls-misc ioprio|caps|timex|epoll|pidfd|xattr
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "box-calls.h"

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_BE 2
#define IOPRIO_CLASS_SHIFT 13

static void *bad;

static int t_ioprio(void)
{
	long r = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);

	printf("ioprio_get: %ld errno %d\n", r, r < 0 ? errno : 0);
	SHOW("ioprio_set",
	     syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
		     IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT | 6));
	r = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
	printf("ioprio_get: %ld errno %d\n", r, r < 0 ? errno : 0);
	SHOW("ioprio_get bad which", syscall(SYS_ioprio_get, 99, 0));
	return 0;
}

static int t_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2], d1;

	memset(d, 0, sizeof(d));
	SHOW("capget v3", syscall(SYS_capget, &h, d));
	/* the set itself is the process's (dune-box may hold fewer) */
	printf("effective within permitted %s\n",
	       yes(!(d[0].effective & ~d[0].permitted) &&
		   !(d[1].effective & ~d[1].permitted)));
	h.version = _LINUX_CAPABILITY_VERSION_1;
	SHOW("capget v1", syscall(SYS_capget, &h, &d1));
	printf("v1 effective as v3's low word %s\n",
	       yes(d1.effective == d[0].effective));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	SHOW("capget NULL data", syscall(SYS_capget, &h, NULL));
	h.version = 12345;
	SHOW("capget bad version", syscall(SYS_capget, &h, d));
	printf("version written back %x\n", h.version);
	h.version = 12345;
	SHOW("capget bad version NULL data", syscall(SYS_capget, &h, NULL));
	printf("version written back %x\n", h.version);
	SHOW("capget bad header", syscall(SYS_capget, bad, d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	SHOW("capget bad data", syscall(SYS_capget, &h, bad));
	SHOW("capset same", syscall(SYS_capset, &h, d));
	SHOW("capset bad data", syscall(SYS_capset, &h, bad));
	SHOW("capset bad header", syscall(SYS_capset, bad, d));
	return 0;
}

static int t_timex(void)
{
	struct timex a, b;
	long r;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	r = syscall(SYS_adjtimex, &a);
	printf("adjtimex: ret %ld errno %d\n", r, r < 0 ? errno : 0);
	r = syscall(SYS_clock_adjtime, CLOCK_REALTIME, &b);
	printf("clock_adjtime: ret %ld errno %d\n", r, r < 0 ? errno : 0);
	printf("same freq %s tick %s status %s\n", yes(a.freq == b.freq),
	       yes(a.tick == b.tick), yes(a.status == b.status));
	printf("tick set %s\n", yes(a.tick > 0));
	b.modes = ADJ_OFFSET_SS_READ;
	r = syscall(SYS_adjtimex, &b);
	printf("adjtimex SS_READ: ret %ld errno %d\n", r, r < 0 ? errno : 0);
	SHOW("adjtimex bad", syscall(SYS_adjtimex, bad));
	SHOW("clock_adjtime bad", syscall(SYS_clock_adjtime, CLOCK_REALTIME,
					  bad));
	SHOW("clock_adjtime bad clock", syscall(SYS_clock_adjtime, 12345, &b));
	return 0;
}

static int t_epoll(void)
{
	struct epoll_event ev, out[4];
	struct timespec zero = { 0, 0 };
	int ep = epoll_create1(0), p[2];

	if (ep < 0 || pipe(p))
		return 1;
	SHOW("epoll_pwait2 empty",
	     syscall(SYS_epoll_pwait2, ep, out, 4, &zero, NULL, 8));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = 77;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	if (write(p[1], "x", 1) != 1)
		return 1;
	SHOW("epoll_pwait2 ready",
	     syscall(SYS_epoll_pwait2, ep, out, 4, NULL, NULL, 8));
	printf("data %llu\n", (unsigned long long)out[0].data.u64);
	SHOW("epoll_pwait2 bad events",
	     syscall(SYS_epoll_pwait2, ep, bad, 4, &zero, NULL, 8));
	SHOW("epoll_pwait2 bad timeout",
	     syscall(SYS_epoll_pwait2, ep, out, 4, bad, NULL, 8));
	SHOW("epoll_pwait2 bad sigmask",
	     syscall(SYS_epoll_pwait2, ep, out, 4, &zero, bad, 8));
	return 0;
}

static int t_pidfd(void)
{
	int fd, st;
	pid_t pid;
	long r;

	fd = syscall(SYS_pidfd_open, getpid(), 0);
	printf("pidfd_open self: %s\n", yes(fd >= 0));
	close(fd);
	SHOW("pidfd_open bad flags", syscall(SYS_pidfd_open, getpid(), 12345));
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	fd = syscall(SYS_pidfd_open, pid, 0);
	printf("pidfd_open child: %s\n", yes(fd >= 0));
	SHOW("process_mrelease live",
	     syscall(SYS_process_mrelease, fd, 0));
	SHOW("pidfd_send_signal bad info",
	     syscall(SYS_pidfd_send_signal, fd, SIGTERM, bad, 0));
	SHOW("pidfd_send_signal", syscall(SYS_pidfd_send_signal, fd, SIGTERM,
					  NULL, 0));
	r = waitpid(pid, &st, 0);
	printf("child: waited %s signaled %s sig %d\n", yes(r == pid),
	       yes(WIFSIGNALED(st)), WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	SHOW("pidfd_send_signal dead", syscall(SYS_pidfd_send_signal, fd,
					       SIGTERM, NULL, 0));
	close(fd);
	return 0;
}

/*
 * Extended attributes: what the file system says (supported or not) is
 * the same both ways; a bad path, name or input value is EFAULT before
 * the file system is asked.
 */
static int t_xattr(void)
{
	const char *f = "/tmp/box-calls-xattr";
	char buf[64];
	long r;
	int fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return 1;
	SHOW("setxattr", syscall(SYS_setxattr, f, "user.a", "one", 3, 0));
	SHOW("lsetxattr", syscall(SYS_lsetxattr, f, "user.b", "two", 3, 0));
	SHOW("fsetxattr", syscall(SYS_fsetxattr, fd, "user.c", "3", 1, 0));
	memset(buf, 0, sizeof(buf));
	r = syscall(SYS_getxattr, f, "user.a", buf, sizeof(buf));
	printf("getxattr: ret %ld errno %d value %s\n", r, r < 0 ? errno : 0,
	       r > 0 ? buf : "-");
	SHOW("getxattr size", syscall(SYS_getxattr, f, "user.a", NULL, 0));
	SHOW("lgetxattr", syscall(SYS_lgetxattr, f, "user.b", buf, 64));
	SHOW("fgetxattr", syscall(SYS_fgetxattr, fd, "user.c", buf, 64));
	SHOW("getxattr absent", syscall(SYS_getxattr, f, "user.zz", buf, 64));
	SHOW("listxattr size", syscall(SYS_listxattr, f, NULL, 0));
	SHOW("llistxattr", syscall(SYS_llistxattr, f, buf, sizeof(buf)));
	SHOW("flistxattr", syscall(SYS_flistxattr, fd, buf, sizeof(buf)));
	SHOW("removexattr", syscall(SYS_removexattr, f, "user.a"));
	SHOW("lremovexattr", syscall(SYS_lremovexattr, f, "user.b"));
	SHOW("fremovexattr", syscall(SYS_fremovexattr, fd, "user.c"));
	SHOW("setxattr bad value", syscall(SYS_setxattr, f, "user.a", bad, 3,
					   0));
	SHOW("getxattr bad name", syscall(SYS_getxattr, f, bad, buf, 64));
	SHOW("getxattr bad path", syscall(SYS_getxattr, bad, "user.a", buf,
					  64));
	SHOW("fsetxattr bad name", syscall(SYS_fsetxattr, fd, bad, "1", 1, 0));
	SHOW("fremovexattr bad name", syscall(SYS_fremovexattr, fd, bad));
	close(fd);
	unlink(f);
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	bad = foreign_address();
	if (!strcmp(c, "ioprio"))
		return t_ioprio();
	if (!strcmp(c, "caps"))
		return t_caps();
	if (!strcmp(c, "timex"))
		return t_timex();
	if (!strcmp(c, "epoll"))
		return t_epoll();
	if (!strcmp(c, "pidfd"))
		return t_pidfd();
	if (!strcmp(c, "xattr"))
		return t_xattr();
	fprintf(stderr, "usage: box-calls-misc ioprio|caps|timex|epoll|pidfd|xattr\n");
	return 2;
}
