// SPDX-License-Identifier: MIT
/*
 * sigaltstack and SA_ONSTACK: the handler runs on the altstack (its
 * local variable is inside it), uc_stack and sigaltstack inside the
 * handler, EPERM while on it, EINVAL and ENOMEM, SS_AUTODISARM, and the
 * classic use: catching a stack overflow's SIGSEGV on the altstack.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define ALT_SIZE (64 << 10)
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1u << 31)	/* <linux/signal.h> */
#endif

static char *alt;
static volatile int on_alt, uc_flags_seen, cur_flags_seen, eperm_seen;
static volatile int uc_sp_ok;
static sigjmp_buf jb;

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	stack_t cur, ss;
	char local;

	on_alt = &local >= alt && &local < alt + ALT_SIZE;
	uc_flags_seen = uc->uc_stack.ss_flags;
	uc_sp_ok = uc->uc_stack.ss_sp == alt &&
		   uc->uc_stack.ss_size == ALT_SIZE;
	sigaltstack(NULL, &cur);
	cur_flags_seen = cur.ss_flags;
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	eperm_seen = sigaltstack(&ss, NULL) == -1 ? errno : 0;
}

static void on_segv(int sig)
{
	char local;

	on_alt = &local >= alt && &local < alt + ALT_SIZE;
	siglongjmp(jb, 1);
}

static volatile int depth_limit = 1 << 30;

static int recurse(int n)
{
	volatile char buf[1024];

	buf[0] = n;
	if (n > depth_limit)
		return 0;
	return recurse(n + 1) + buf[0];
}

static void report(const char *what)
{
	printf("%s: on altstack %d, uc_stack flags %#x sp_ok %d, in handler flags %#x, disable -> errno %d\n",
	       what, on_alt, (unsigned)uc_flags_seen, uc_sp_ok,
	       (unsigned)cur_flags_seen, eperm_seen);
}

int main(void)
{
	struct sigaction sa;
	stack_t ss, old;
	long r;

	setvbuf(stdout, NULL, _IONBF, 0);
	alt = malloc(ALT_SIZE);

	memset(&old, 0, sizeof(old));
	r = sigaltstack(NULL, &old);
	printf("initial: %ld flags %#x size %zu\n", r, (unsigned)old.ss_flags,
	       old.ss_size);

	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = alt;
	ss.ss_size = 1024;
	r = sigaltstack(&ss, NULL);
	printf("too small: %ld errno %d\n", r, errno);
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 77;
	r = sigaltstack(&ss, NULL);
	printf("bad flags: %ld errno %d\n", r, errno);
	r = sigaltstack((stack_t *)8, NULL);
	printf("bad pointer: %ld errno %d\n", r, errno);
	ss.ss_flags = 0;
	r = sigaltstack(&ss, NULL);
	memset(&old, 0, sizeof(old));
	sigaltstack(NULL, &old);
	printf("set: %ld flags %#x sp_ok %d size_ok %d\n", r,
	       (unsigned)old.ss_flags, old.ss_sp == alt,
	       old.ss_size == ALT_SIZE);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	report("SA_ONSTACK");

	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	report("no SA_ONSTACK");

	/* SS_AUTODISARM: disarmed in the handler, back after it returns */
	ss.ss_flags = SS_AUTODISARM;
	r = sigaltstack(&ss, NULL);
	printf("autodisarm: %ld\n", r);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	report("SS_AUTODISARM");
	memset(&old, 0, sizeof(old));
	sigaltstack(NULL, &old);
	printf("after: flags %#x sp_ok %d\n", (unsigned)old.ss_flags,
	       old.ss_sp == alt);

	/* A stack overflow, caught on the altstack. */
	ss.ss_flags = 0;
	sigaltstack(&ss, NULL);
	fflush(stdout);
	if (fork() == 0) {
		struct rlimit rl = { 256 << 10, 256 << 10 };

		setrlimit(RLIMIT_STACK, &rl);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_segv;
		sa.sa_flags = SA_ONSTACK;
		sigaction(SIGSEGV, &sa, NULL);
		on_alt = 0;
		if (sigsetjmp(jb, 1) == 0)
			recurse(0);
		printf("overflow caught on altstack: %d\n", on_alt);
		_exit(0);
	}
	wait(NULL);

	/* Without an altstack the overflow's SIGSEGV cannot be delivered. */
	fflush(stdout);
	if (fork() == 0) {
		struct rlimit rl = { 256 << 10, 256 << 10 };
		int st = 0;

		(void)st;
		setrlimit(RLIMIT_STACK, &rl);
		rl.rlim_cur = rl.rlim_max = 0;
		setrlimit(RLIMIT_CORE, &rl);
		ss.ss_flags = SS_DISABLE;
		sigaltstack(&ss, NULL);
		sa.sa_handler = on_segv;
		sa.sa_flags = 0;
		sigaction(SIGSEGV, &sa, NULL);
		if (sigsetjmp(jb, 1) == 0)
			recurse(0);
		printf("not reached\n");
		_exit(0);
	} else {
		int st = 0;

		wait(&st);
		printf("overflow without altstack: signaled %d sig %d\n",
		       WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	}
	return 0;
}
