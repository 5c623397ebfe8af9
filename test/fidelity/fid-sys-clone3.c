// SPDX-License-Identifier: MIT
/*
 * clone3 as programs call it directly: errors for bad arguments (the
 * kernel's own checks), a fork-like child, a thread on its own stack
 * with CLONE_SETTLS and the tid flags, a CLONE_VM|CLONE_VFORK child,
 * CLONE_PIDFD, a non-SIGCHLD exit_signal, CLONE_CLEAR_SIGHAND, and
 * set_tid / CLONE_INTO_CGROUP passed through.
 */
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define STR_1(x) #x
#define STR(x) STR_1(x)

/* clone3 whose child calls fn() (it cannot return through our frames). */
long raw_clone3(void *args, size_t size, void (*fn)(void));
__asm__(
	"	.text\n"
	"	.globl raw_clone3\n"
	"raw_clone3:\n"
	"	movl	$" STR(SYS_clone3) ", %eax\n"
	"	syscall\n"
	"	testq	%rax, %rax\n"
	"	jnz	1f\n"
	"	call	*%rdx\n"
	"	ud2\n"
	"1:	ret\n");

/* A raw exit for children that must not touch glibc's TLS. */
static void __attribute__((noreturn)) raw_exit(long code)
{
	for (;;)
		__asm__ volatile("syscall"
				 :
				 : "a"((long)SYS_exit), "D"(code)
				 : "rcx", "r11", "memory");
}

static void err_case(const char *what, void *args, size_t size)
{
	long r;

	errno = 0;
	r = syscall(SYS_clone3, args, size);
	if (r == 0)
		_exit(0);	/* should never happen: a child */
	if (r > 0) {
		waitpid(r, NULL, __WALL);
		printf("%-28s succeeded\n", what);
		return;
	}
	printf("%-28s -1 %s\n", what, strerrorname_np(errno));
}

static void bad_args(void)
{
	char buf[8192] __attribute__((aligned(8)));
	struct clone_args *a = (struct clone_args *)buf;
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(page + 4096, 4096);
	memset(buf, 0, sizeof(buf));
	err_case("NULL args", NULL, 64);
	err_case("size 0", a, 0);
	err_case("size 8", a, 8);
	err_case("size 8192", a, 8192);
	err_case("unmapped args", page + 4096, 64);
	err_case("args across the end", page + 4096 - 32, 64);
	buf[100] = 1;
	err_case("nonzero tail", a, 128);
	buf[100] = 0;
	a->flags = CLONE_DETACHED;
	err_case("CLONE_DETACHED", a, 64);
	a->flags = 0x11;	/* CSIGNAL bits in flags */
	err_case("CSIGNAL in flags", a, 64);
	a->flags = 0;
	a->exit_signal = 100;
	err_case("exit_signal 100", a, 64);
	a->exit_signal = 0;
	a->flags = CLONE_THREAD;
	err_case("CLONE_THREAD alone", a, 64);
	a->flags = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD;
	a->exit_signal = SIGCHLD;
	err_case("thread with exit_signal", a, 64);
	a->flags = CLONE_VM;
	a->exit_signal = SIGCHLD;
	a->stack = (uintptr_t)page;
	err_case("stack, size 0", a, 64);
	a->stack = 0;
	a->stack_size = 4096;
	err_case("size, no stack", a, 64);
	a->stack = (uintptr_t)-8192;
	a->stack_size = 4096;
	err_case("kernel stack", a, 64);
	a->flags = 0;
	a->stack = 0;
	a->stack_size = 0;
	a->set_tid_size = 1;
	err_case("set_tid_size, no set_tid", a, 80);
	a->set_tid_size = 0;
	a->flags = CLONE_SIGHAND | CLONE_CLEAR_SIGHAND | CLONE_VM;
	err_case("SIGHAND|CLEAR_SIGHAND", a, 64);
	a->flags = CLONE_INTO_CGROUP;
	a->cgroup = 9999;
	err_case("INTO_CGROUP, size 64", a, 64);
	err_case("INTO_CGROUP, bad fd", a, 88);
	a->flags = 0;
	a->cgroup = 0;
	{
		pid_t me = getpid();

		a->set_tid = (uintptr_t)&me;
		a->set_tid_size = 1;
		err_case("set_tid = our pid", a, 80);
	}
	munmap(page, 4096);
}

static char fork_stack[64 << 10] __attribute__((aligned(16)));

static void fork_stack_fn(void)
{
	char here;

	_exit(&here >= fork_stack && &here < fork_stack + sizeof(fork_stack) ?
		      6 : 7);
}

static void fork_like(void)
{
	struct clone_args a = { .exit_signal = SIGCHLD };
	pid_t ptid = 0;
	long r;
	int st;

	a.flags = CLONE_PARENT_SETTID;
	a.parent_tid = (uintptr_t)&ptid;
	fflush(stdout);
	r = syscall(SYS_clone3, &a, sizeof(a));
	if (r == 0) {
		printf("fork-like child: getppid matches: %s\n",
		       getppid() > 1 ? "yes" : "no");
		fflush(stdout);
		_exit(5);
	}
	waitpid(r, &st, 0);
	printf("fork-like: parent_tid == pid: %s, status exited %d\n",
	       ptid == r ? "yes" : "no", WEXITSTATUS(st));

	/* with a stack: the child runs on it (natively and in Dune mode) */
	a.flags = 0;
	a.stack = (uintptr_t)fork_stack;
	a.stack_size = sizeof(fork_stack);
	fflush(stdout);
	r = raw_clone3(&a, sizeof(a), fork_stack_fn);
	waitpid(r, &st, 0);
	printf("fork-like on a stack: exited %d\n", WEXITSTATUS(st));
}

static volatile int t_flag;
static volatile pid_t t_ctid_set;
static uint64_t tls_block[64] __attribute__((aligned(64)));

static void thread_fn(void)
{
	uint64_t fs0;

	__asm__ volatile("movq %%fs:0, %0" : "=r"(fs0));
	t_flag = fs0 == (uintptr_t)tls_block ? 1 : 2;
	raw_exit(0);
}

static void thread(void)
{
	size_t ssize = 64 << 10;
	char *stack = mmap(NULL, ssize, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile pid_t ctid = 77;
	pid_t ptid = 0;
	struct clone_args a = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			 CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
			 CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
		.parent_tid = (uintptr_t)&ptid,
		.child_tid = (uintptr_t)&ctid,
		.stack = (uintptr_t)stack,
		.stack_size = ssize,
		.tls = (uintptr_t)tls_block,
	};
	long r;

	tls_block[0] = (uintptr_t)tls_block;
	r = raw_clone3(&a, sizeof(a), thread_fn);
	while (ctid != 0)
		syscall(SYS_futex, &ctid, FUTEX_WAIT, ctid, NULL, NULL, 0);
	printf("thread: returned tid %s, parent_tid == tid: %s, fs:0 == tls: %s, child_tid cleared\n",
	       r > 0 ? "> 0" : "<= 0", ptid == r ? "yes" : "no",
	       t_flag == 1 ? "yes" : "no");
	munmap(stack, ssize);
}

static volatile int shared_word;

static void vfork_fn(void)
{
	shared_word = 42;
	raw_exit(8);
}

static void child_settid_fn(void)
{
	raw_exit(t_ctid_set == (pid_t)syscall(SYS_gettid) ? 10 : 11);
}

static void vm_children(void)
{
	size_t ssize = 64 << 10;
	char *stack = mmap(NULL, ssize, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct clone_args a = {
		.flags = CLONE_VM | CLONE_VFORK,
		.exit_signal = SIGCHLD,
	};
	int pidfd = -1;
	siginfo_t si;
	long r;
	int st;

	/* vfork style, on our stack: we wait until it exits */
	r = raw_clone3(&a, sizeof(a), vfork_fn);
	printf("vfork child: shared write seen before wait: %s\n",
	       shared_word == 42 ? "yes" : "no");
	waitpid(r, &st, 0);
	printf("vfork child: exited %d\n", WEXITSTATUS(st));

	/* CLONE_VM child on its own stack, CLONE_CHILD_SETTID, CLONE_PIDFD */
	a.flags = CLONE_VM | CLONE_CHILD_SETTID | CLONE_PIDFD;
	a.child_tid = (uintptr_t)&t_ctid_set;
	a.pidfd = (uintptr_t)&pidfd;
	a.stack = (uintptr_t)stack;
	a.stack_size = ssize;
	r = raw_clone3(&a, sizeof(a), child_settid_fn);
	memset(&si, 0, sizeof(si));
	st = waitid(P_PIDFD, pidfd, &si, WEXITED);
	printf("vm child: pidfd %s, waitid %d, si_pid == pid: %s, code %d, status %d\n",
	       pidfd >= 0 ? "valid" : "invalid", st,
	       si.si_pid == r ? "yes" : "no", si.si_code, si.si_status);
	close(pidfd);
	munmap(stack, ssize);
}

static void on_usr2(int sig)
{
}

static void exit_signal_and_sighand(void)
{
	struct clone_args a = { .exit_signal = SIGUSR1 };
	struct sigaction sa = { .sa_handler = on_usr2 };
	sigset_t set, pend;
	long r;
	int st;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(stdout);
	r = syscall(SYS_clone3, &a, sizeof(a));
	if (r == 0)
		_exit(3);
	printf("exit_signal SIGUSR1: waitpid without __WCLONE: %s\n",
	       waitpid(r, &st, WNOHANG) < 0 ? strerrorname_np(errno) : "found");
	waitpid(r, &st, __WCLONE);
	sigpending(&pend);
	printf("exit_signal SIGUSR1: status %d, SIGUSR1 pending: %s\n",
	       WEXITSTATUS(st), sigismember(&pend, SIGUSR1) ? "yes" : "no");

	sigaction(SIGUSR2, &sa, NULL);
	a.flags = CLONE_CLEAR_SIGHAND;
	a.exit_signal = SIGCHLD;
	fflush(stdout);
	r = syscall(SYS_clone3, &a, sizeof(a));
	if (r == 0) {
		struct sigaction o;

		sigaction(SIGUSR2, NULL, &o);
		_exit(o.sa_handler == on_usr2 ? 1 : o.sa_handler == SIG_DFL ? 2 : 3);
	}
	waitpid(r, &st, 0);
	printf("CLONE_CLEAR_SIGHAND: the child's SIGUSR2 action: %s\n",
	       WEXITSTATUS(st) == 1 ? "our handler" :
	       WEXITSTATUS(st) == 2 ? "SIG_DFL" : "other");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	bad_args();
	fork_like();
	thread();
	vm_children();
	exit_signal_and_sighand();
	return 0;
}
