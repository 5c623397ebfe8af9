// SPDX-License-Identifier: MIT
/*
 * Signal actions: SA_SIGINFO fields (SI_USER, SI_QUEUE, SI_TKILL, si_value),
 * the mask a handler runs with (sa_mask, SA_NODEFER), SA_RESETHAND, what
 * sigaction reports back, nesting, real-time queueing order and the
 * handler's arguments (ucontext, siginfo on the stack below the caller).
 * Handlers only record; main prints.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000	/* <asm/signal.h>; glibc sets it */
#endif

static volatile sig_atomic_t depth, max_depth, count, nraised;
static siginfo_t last_info;
static sigset_t seen_mask;
static int order[16], norder;
static volatile int stack_below;
static volatile int uc_ok;

static int sigs_in(const sigset_t *m, char *buf)
{
	int s, n = 0;

	buf[0] = 0;
	for (s = 1; s < 65; s++)
		if (sigismember(m, s) == 1)
			n += sprintf(buf + n, " %d", s);
	return n;
}

static void print_mask(const char *what, const sigset_t *m)
{
	char buf[512];

	sigs_in(m, buf);
	printf("%s:%s\n", what, buf);
}

static void on_info(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int local;

	last_info = *si;
	sigprocmask(SIG_SETMASK, NULL, &seen_mask);
	count++;
	stack_below = (char *)&local < (char *)uc &&
		      (char *)uc < (char *)si + 4096;
	/* The saved context is the interrupted one: its rsp is above us. */
	uc_ok = (unsigned long)uc->uc_mcontext.gregs[REG_RSP] >
		(unsigned long)&local;
}

static void on_nest(int sig)
{
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (nraised < 2) {
		nraised++;
		raise(sig);	/* nests with SA_NODEFER, else waits */
	}
	depth--;
}

static void on_order(int sig, siginfo_t *si, void *uc)
{
	if (norder < 16)
		order[norder++] = sig * 100 + si->si_value.sival_int;
}

static void on_plain(int sig)
{
	count++;
	sigprocmask(SIG_SETMASK, NULL, &seen_mask);
}

static void show_info(const char *what)
{
	printf("%s: signo %d code %d errno %d pid_ok %d uid_ok %d value %d\n",
	       what, last_info.si_signo, last_info.si_code, last_info.si_errno,
	       last_info.si_pid == getpid(), last_info.si_uid == getuid(),
	       last_info.si_code == SI_QUEUE ? last_info.si_value.sival_int : -1);
}

int main(void)
{
	struct sigaction sa, old;
	sigset_t m;
	union sigval v;
	long r;
	int i;

	setvbuf(stdout, NULL, _IONBF, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaddset(&sa.sa_mask, SIGKILL);	/* dropped by the kernel */
	printf("sigaction: %d\n", sigaction(SIGUSR1, &sa, NULL));
	memset(&old, 0, sizeof(old));
	sigaction(SIGUSR1, NULL, &old);
	printf("reported: handler_ok %d siginfo %d restorer %d\n",
	       old.sa_sigaction == on_info, !!(old.sa_flags & SA_SIGINFO),
	       !!(old.sa_flags & SA_RESTORER));
	print_mask("reported mask", &old.sa_mask);

	kill(getpid(), SIGUSR1);
	show_info("kill");
	print_mask("mask in handler", &seen_mask);
	printf("frame below: %d, uc rsp above handler: %d\n", stack_below,
	       uc_ok);
	v.sival_int = 42;
	sigqueue(getpid(), SIGUSR1, v);
	show_info("sigqueue");
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	show_info("tgkill");
	raise(SIGUSR1);
	show_info("raise");
	sigprocmask(SIG_SETMASK, NULL, &m);
	print_mask("mask after", &m);

	/* errors as natively */
	r = sigaction(SIGKILL, &sa, NULL);
	printf("sigaction(SIGKILL): %ld errno %d\n", r, errno);
	r = sigaction(0, &sa, NULL);
	printf("sigaction(0): %ld errno %d\n", r, errno);
	r = syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4);
	printf("rt_sigaction bad size: %ld errno %d\n", r, errno);
	r = syscall(SYS_rt_sigaction, SIGUSR1, (void *)8, NULL, 8);
	printf("rt_sigaction bad act: %ld errno %d\n", r, errno);
	r = syscall(SYS_rt_sigaction, SIGUSR1, NULL, (void *)8, 8);
	printf("rt_sigaction bad oact: %ld errno %d\n", r, errno);
	r = syscall(SYS_rt_sigaction, SIGKILL, (void *)8, NULL, 8);
	printf("rt_sigaction SIGKILL bad act: %ld errno %d\n", r, errno);

	/* SA_RESETHAND: once, then the default (reported as SIG_DFL) */
	sa.sa_handler = on_plain;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	count = 0;
	raise(SIGUSR2);
	sigaction(SIGUSR2, NULL, &old);
	printf("resethand: count %d, now default %d\n", count,
	       old.sa_handler == SIG_DFL);
	print_mask("resethand mask in handler", &seen_mask);

	/* SA_NODEFER: the handler nests on its own signal */
	sa.sa_handler = on_nest;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	printf("nodefer: max depth %d\n", max_depth);
	sa.sa_flags = 0;
	max_depth = 0;
	nraised = 0;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	printf("defer: max depth %d\n", max_depth);

	/* Real-time signals queued while blocked arrive in order. */
	sa.sa_sigaction = on_order;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sigaction(SIGRTMIN + 2, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN + 1);
	sigaddset(&m, SIGRTMIN + 2);
	sigaddset(&m, SIGUSR2);
	sigprocmask(SIG_BLOCK, &m, NULL);
	for (i = 0; i < 3; i++) {
		v.sival_int = i;
		sigqueue(getpid(), SIGRTMIN + 2, v);
		sigqueue(getpid(), SIGRTMIN + 1, v);
		sigqueue(getpid(), SIGUSR2, v);
	}
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	/* Handlers run last-delivered first: the frames stack up. */
	printf("order (signal.value, SIGRTMIN+n as Rn):");
	for (i = 0; i < norder; i++) {
		int sig = order[i] / 100, val = order[i] % 100;

		if (sig >= SIGRTMIN)
			printf(" R%d.%d", sig - SIGRTMIN, val);
		else
			printf(" %d.%d", sig, val);
	}
	printf("\n");
	return 0;
}
