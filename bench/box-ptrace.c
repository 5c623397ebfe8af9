// SPDX-License-Identifier: MIT
/*
 * box-ptrace: a minimal system-call interposer in the style of `strace -f`
 * and of ptrace sandboxes, for the benchmarks (docs/benchmarks.md,
 * "dune-box"): PROG and every process it forks stop at the entry and the
 * exit of each system call (PTRACE_SYSCALL), the interposer reads the
 * registers at both (PTRACE_GETREGS), reads the path of a call that has
 * one (process_vm_readv, as strace does), and denies the calls named with
 * -d: at the entry the call number becomes -1 (Linux skips it), at the
 * exit the result becomes -EPERM.
 *
 *   box-ptrace [-d NR]... -- PROG [ARGS...]
 *
 * Exits as PROG did (its status, or 128 + its signal).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "box-interpose.h"

#define MAXDENY 16
#define MAXPROC 4096

static long deny[MAXDENY];
static int ndeny;

/* Per traced process: inside a call (the next stop is its exit)? */
static struct proc {
	pid_t pid;
	bool in_call, denied, seen;
} procs[MAXPROC];

static struct proc *proc(pid_t pid)
{
	unsigned int i, h = (unsigned int)pid % MAXPROC;

	for (i = 0; i < MAXPROC; i++) {
		struct proc *p = &procs[(h + i) % MAXPROC];

		if (p->pid == pid)
			return p;
		if (!p->pid) {
			p->pid = pid;
			return p;
		}
	}
	fprintf(stderr, "box-ptrace: too many processes\n");
	exit(125);
}

static void forget(pid_t pid)
{
	/* the slot stays: a reused pid starts afresh (its first SIGSTOP) */
	struct proc *p = proc(pid);

	p->in_call = p->denied = false;
	p->seen = false;
}

static bool denied(long nr)
{
	for (int i = 0; i < ndeny; i++)
		if (deny[i] == nr)
			return true;
	return false;
}

/* Read the path at @addr in @pid, as a policy would before deciding. */
static void read_path(pid_t pid, unsigned long addr)
{
	char buf[4096];
	struct iovec l = { buf, sizeof(buf) };
	/* up to the end of the page: the next one may not be mapped */
	struct iovec r = { (void *)addr, 4096 - (addr & 4095) };

	l.iov_len = r.iov_len;
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) < 0)
		return;
	buf[l.iov_len - 1] = 0;
	/* the policy's decision would look at buf here */
	__asm__ volatile("" : : "r"(buf) : "memory");
}

static void syscall_stop(pid_t pid)
{
	struct user_regs_struct regs;
	struct proc *p = proc(pid);

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
		return;
	if (!p->in_call) {
		int pa = box_path_arg(regs.orig_rax);
		unsigned long args[3] = { regs.rdi, regs.rsi, regs.rdx };

		p->in_call = true;
		p->denied = false;
		if (pa >= 0)
			read_path(pid, args[pa]);
		if (denied(regs.orig_rax)) {
			p->denied = true;
			regs.orig_rax = -1;
			ptrace(PTRACE_SETREGS, pid, 0, &regs);
		}
	} else {
		p->in_call = false;
		if (p->denied) {
			regs.rax = -EPERM;
			ptrace(PTRACE_SETREGS, pid, 0, &regs);
		}
	}
}

int main(int argc, char **argv)
{
	const long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
			  PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
			  PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
	int c, st, result = 125;
	pid_t child, pid;

	while ((c = getopt(argc, argv, "+d:")) != -1) {
		if (c != 'd' || ndeny == MAXDENY) {
			fprintf(stderr, "usage: box-ptrace [-d NR]... -- PROG [ARGS...]\n");
			return 2;
		}
		deny[ndeny++] = strtol(optarg, NULL, 0);
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: box-ptrace [-d NR]... -- PROG [ARGS...]\n");
		return 2;
	}
	child = fork();
	if (child < 0) {
		perror("box-ptrace: fork");
		return 125;
	}
	if (!child) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "box-ptrace: %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	if (waitpid(child, &st, 0) != child || !WIFSTOPPED(st) ||
	    ptrace(PTRACE_SETOPTIONS, child, 0, opts) < 0) {
		perror("box-ptrace: attach");
		return 125;
	}
	proc(child)->seen = true;
	ptrace(PTRACE_SYSCALL, child, 0, 0);

	while ((pid = waitpid(-1, &st, __WALL)) > 0) {
		int sig = 0;

		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (pid == child)
				result = WIFEXITED(st) ? WEXITSTATUS(st) :
					 128 + WTERMSIG(st);
			forget(pid);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			syscall_stop(pid);
		} else if (WSTOPSIG(st) == SIGTRAP && (st >> 16)) {
			/* a fork, clone, vfork or exec event: nothing to do */
		} else if (WSTOPSIG(st) == SIGSTOP && !proc(pid)->seen) {
			/* a new child's first stop (auto-attached) */
		} else {
			sig = WSTOPSIG(st);
		}
		proc(pid)->seen = true;
		ptrace(PTRACE_SYSCALL, pid, 0, sig);
	}
	return result;
}
