// SPDX-License-Identifier: MIT
/*
 * box-unotify: a seccomp user-notification supervisor, for the benchmarks
 * (docs/benchmarks.md, "dune-box").  PROG runs under a seccomp filter
 * that hands every system call (but one, below) to this process, which
 * reads the request (SECCOMP_IOCTL_NOTIF_RECV), reads a call's path from
 * /proc/PID/mem as real supervisors do (then checks with
 * SECCOMP_IOCTL_NOTIF_ID_VALID that the request is still alive, so the
 * pid read from was the caller's), and answers: the calls named with -d
 * fail with EPERM, the others go on in Linux
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 *
 *   box-unotify [-f] [-d NR]... -- PROG [ARGS...]
 *
 * -f: no supervisor, the filter alone (the -d calls get
 * SECCOMP_RET_ERRNO, the rest SECCOMP_RET_ALLOW): the in-kernel cost every
 * seccomp sandbox pays, for comparison.
 *
 * sendmsg is allowed by the filter without asking: the child hands the
 * listener to this process with it, before anyone listens.  Exits as
 * PROG did (its status, or 128 + its signal).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "box-interpose.h"

#define MAXDENY 16

static long deny[MAXDENY];
static int ndeny;
static int filter_only;

static int is_denied(long nr)
{
	for (int i = 0; i < ndeny; i++)
		if (deny[i] == nr)
			return 1;
	return 0;
}

/*
 * arch check; sendmsg allowed (not with -f); the -d calls: the
 * supervisor (or ERRNO with -f); everything else: the supervisor (or
 * ALLOW with -f).
 */
static int install(void)
{
	struct sock_filter f[8 + 2 * MAXDENY];
	struct sock_fprog prog;
	unsigned int n = 0, i;
	unsigned int rest = filter_only ? SECCOMP_RET_ALLOW :
					  SECCOMP_RET_USER_NOTIF;
	unsigned int den = filter_only ? SECCOMP_RET_ERRNO | EPERM :
					 SECCOMP_RET_USER_NOTIF;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, nr));
	for (i = 0; i < (unsigned int)ndeny; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			deny[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, den);
	}
	if (!filter_only) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			SYS_sendmsg, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			SECCOMP_RET_ALLOW);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, rest);
	prog.len = n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		       filter_only ? 0 : SECCOMP_FILTER_FLAG_NEW_LISTENER,
		       &prog);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char b = 0;
	struct iovec iov = { &b, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char b;
	struct iovec iov = { &b, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &m, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The path argument of a request, read as a supervisor would. */
static void read_path(int lfd, const struct seccomp_notif *req,
		      unsigned long addr)
{
	char name[40], buf[4096];
	size_t len = 4096 - (addr & 4095);
	int fd;

	snprintf(name, sizeof(name), "/proc/%d/mem", req->pid);
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (pread(fd, buf, len, addr) > 0) {
		buf[len - 1] = 0;
		/* still the caller's memory? (pids can be reused) */
		if (!ioctl(lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id))
			/* the policy's decision would look at buf here */
			__asm__ volatile("" : : "r"(buf) : "memory");
	}
	close(fd);
}

/*
 * Until PROG has exited: its pidfd becomes readable then.  (The listener
 * reports POLLHUP once no process uses the filter on 6.12, but not on
 * 6.1, where it would be waited for in vain.)
 */
static void supervise(int lfd, pid_t child)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct pollfd pfd[2] = { { lfd, POLLIN, 0 },
				 { (int)syscall(SYS_pidfd_open, child, 0),
				   POLLIN, 0 } };

	for (;;) {
		if (poll(pfd, pfd[1].fd < 0 ? 1 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!(pfd[0].revents & POLLIN))
			break;	/* PROG exited, or POLLHUP: nobody uses the filter */
		memset(&req, 0, sizeof(req));
		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
			continue;	/* the caller went away */
		{
			int pa = box_path_arg(req.data.nr);

			if (pa >= 0)
				read_path(lfd, &req, req.data.args[pa]);
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		if (is_denied(req.data.nr))
			resp.error = -EPERM;
		else
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: box-unotify [-f] [-d NR]... -- PROG [ARGS...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int c, sv[2], lfd, st;
	pid_t child;

	while ((c = getopt(argc, argv, "+fd:")) != -1) {
		if (c == 'f')
			filter_only = 1;
		else if (c == 'd' && ndeny < MAXDENY)
			deny[ndeny++] = strtol(optarg, NULL, 0);
		else
			usage();
	}
	if (optind >= argc)
		usage();
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv)) {
		perror("box-unotify: socketpair");
		return 125;
	}
	child = fork();
	if (child < 0) {
		perror("box-unotify: fork");
		return 125;
	}
	if (!child) {
		close(sv[0]);
		lfd = install();
		if (lfd < 0) {
			fprintf(stderr, "box-unotify: seccomp: %s\n",
				strerror(errno));
			_exit(125);
		}
		if (!filter_only) {
			if (send_fd(sv[1], lfd))
				_exit(125);
			close(lfd);
		}
		close(sv[1]);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "box-unotify: %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	if (!filter_only) {
		lfd = recv_fd(sv[0]);
		if (lfd < 0) {
			fprintf(stderr, "box-unotify: no listener from the child\n");
			kill(child, SIGKILL);
			waitpid(child, &st, 0);
			return 125;
		}
		supervise(lfd, child);
	}
	if (waitpid(child, &st, 0) != child)
		return 125;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
