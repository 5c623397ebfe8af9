// SPDX-License-Identifier: MIT
/*
 * Signal handlers as a native program sees them (itest-box-signal runs
 * each case natively and under dune-box: identical output and status).
 * No addresses, pids or times are printed, only relations.
 *   box-sig-handlers CASE
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1u << 31)	/* <linux/signal.h> */
#endif

static volatile sig_atomic_t got, depth, max_depth, order[8], norder;
static siginfo_t last_si;
static uint64_t last_cs, last_ss, handler_rsp;
static sigset_t in_mask;
static stack_t in_ss;

static void on_info(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	got++;
	last_si = *si;
	last_cs = uc->uc_mcontext.gregs[REG_CSGSFS] & 0xffff;
	last_ss = (uc->uc_mcontext.gregs[REG_CSGSFS] >> 48) & 0xffff;
	sigprocmask(SIG_SETMASK, NULL, &in_mask);
	handler_rsp = (uint64_t)__builtin_frame_address(0);
	sigaltstack(NULL, &in_ss);
}

static void set(int sig, void (*h)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL)) {
		perror("sigaction");
		exit(2);
	}
}

static const char *yes(int c)
{
	return c ? "yes" : "no";
}

static void print_si(void)
{
	printf("si_signo %d si_code %d si_pid==getpid %s si_uid==getuid %s\n",
	       last_si.si_signo, last_si.si_code,
	       yes(last_si.si_pid == getpid()), yes(last_si.si_uid == getuid()));
	printf("cs 0x%llx ss 0x%llx\n", (unsigned long long)last_cs,
	       (unsigned long long)last_ss);
	printf("handler mask has the signal: %s\n",
	       yes(sigismember(&in_mask, last_si.si_signo)));
}

static void t_kill(void)
{
	set(SIGUSR1, on_info, 0);
	kill(getpid(), SIGUSR1);
	printf("after kill: got %d\n", got);
	print_si();
}

static void t_raise(void)
{
	set(SIGUSR2, on_info, 0);
	raise(SIGUSR2);
	printf("after raise: got %d\n", got);
	print_si();
}

static void t_sigqueue(void)
{
	union sigval v = { .sival_int = 4242 };

	set(SIGRTMIN + 1, on_info, 0);
	sigqueue(getpid(), SIGRTMIN + 1, v);
	printf("after sigqueue: got %d signo-SIGRTMIN %d\n", got,
	       last_si.si_signo - SIGRTMIN);
	printf("si_code %d (SI_QUEUE %d) si_value %d\n", last_si.si_code,
	       SI_QUEUE, last_si.si_value.sival_int);
}

static void t_tgkill(void)
{
	set(SIGUSR1, on_info, 0);
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	printf("after tgkill: got %d\n", got);
	print_si();
}

static void t_mask(void)
{
	sigset_t s, p;

	set(SIGUSR1, on_info, 0);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, NULL);
	kill(getpid(), SIGUSR1);
	sigpending(&p);
	printf("blocked: got %d pending %s\n", got, yes(sigismember(&p, SIGUSR1)));
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	sigpending(&p);
	printf("unblocked: got %d pending %s\n", got, yes(sigismember(&p, SIGUSR1)));
	sigprocmask(SIG_SETMASK, NULL, &s);
	printf("mask after handler has SIGUSR1: %s\n", yes(sigismember(&s, SIGUSR1)));
}

static void t_resethand(void)
{
	struct sigaction old;

	set(SIGUSR1, on_info, SA_RESETHAND);
	raise(SIGUSR1);
	sigaction(SIGUSR1, NULL, &old);
	printf("got %d, now SIG_DFL: %s, mask had it: %s\n", got,
	       yes(old.sa_handler == SIG_DFL),
	       yes(sigismember(&in_mask, SIGUSR1)));
	fflush(stdout);
	raise(SIGUSR1);
	printf("not reached\n");
}

static void nest(int sig, siginfo_t *si, void *uc)
{
	order[norder++] = 10 + depth;
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (norder < 3)
		raise(sig);
	order[norder++] = 20 + depth;
	depth--;
}

static void t_nodefer(int flags)
{
	int i;

	set(SIGUSR1, nest, flags);
	raise(SIGUSR1);
	printf("max depth %d order", max_depth);
	for (i = 0; i < norder; i++)
		printf(" %d", order[i]);
	printf("\n");
}

static void t_altstack(int flags)
{
	static char stk[65536] __attribute__((aligned(16)));
	stack_t ss = { .ss_sp = stk, .ss_size = sizeof(stk), .ss_flags = flags }, o;

	if (sigaltstack(&ss, NULL)) {
		perror("sigaltstack");
		return;
	}
	set(SIGUSR1, on_info, SA_ONSTACK);
	raise(SIGUSR1);
	printf("handler on the altstack: %s\n",
	       yes(handler_rsp >= (uint64_t)stk &&
		   handler_rsp < (uint64_t)stk + sizeof(stk)));
	printf("in handler: flags %#x sp==stk %s\n", in_ss.ss_flags,
	       yes(in_ss.ss_sp == stk));
	sigaltstack(NULL, &o);
	printf("after: flags %#x size ok %s\n", o.ss_flags,
	       yes(o.ss_size == sizeof(stk)));
	/* errors, as Linux gives them */
	ss.ss_size = 1024;
	ss.ss_flags = 0;
	printf("small: %d\n", sigaltstack(&ss, NULL) ? -1 : 0);
	ss.ss_flags = 77;
	printf("bad flags: %d\n", sigaltstack(&ss, NULL) ? -1 : 0);
	ss.ss_flags = SS_DISABLE;
	printf("disable: %d\n", sigaltstack(&ss, NULL));
	sigaltstack(NULL, &o);
	printf("now flags %#x\n", o.ss_flags);
}

static sigjmp_buf jb;

static void jump(int sig)
{
	siglongjmp(jb, sig);
}

static void t_longjmp(void)
{
	sigset_t s;
	int r;

	signal(SIGUSR1, jump);
	r = sigsetjmp(jb, 1);
	if (!r) {
		raise(SIGUSR1);
		printf("not reached\n");
		return;
	}
	sigprocmask(SIG_SETMASK, NULL, &s);
	printf("longjmp back with %d, mask has SIGUSR1: %s\n", r,
	       yes(sigismember(&s, SIGUSR1)));
}

static uint32_t h_mxcsr;
static uint16_t h_fcw;

static void clobber(int sig)
{
	__asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(h_mxcsr), "=m"(h_fcw));
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\t"
			 "pcmpeqd %%xmm1, %%xmm1\n\t"
			 "pcmpeqd %%xmm7, %%xmm7\n\t"
			 "pcmpeqd %%xmm15, %%xmm15" ::: "xmm0", "xmm1", "xmm7",
			 "xmm15");
}

static void t_fpu(void)
{
	uint64_t in[2] = { 0x1122334455667788ull, 0x99aabbccddeeff00ull };
	uint64_t o0[2], o1[2], o7[2], o15[2];
	uint32_t mx = 0x3f80, mx_after;	/* round toward zero */
	long r;

	signal(SIGUSR1, clobber);
	__asm__ volatile("ldmxcsr %0" : : "m"(mx));
	__asm__ volatile("movdqu %[in], %%xmm0\n\t"
			 "movdqu %[in], %%xmm1\n\t"
			 "movdqu %[in], %%xmm7\n\t"
			 "movdqu %[in], %%xmm15\n\t"
			 "syscall\n\t"
			 "movdqu %%xmm0, %[o0]\n\t"
			 "movdqu %%xmm1, %[o1]\n\t"
			 "movdqu %%xmm7, %[o7]\n\t"
			 "movdqu %%xmm15, %[o15]"
			 : [o0] "=m"(o0), [o1] "=m"(o1), [o7] "=m"(o7),
			   [o15] "=m"(o15), "=a"(r)
			 : [in] "m"(in), "a"((long)SYS_kill), "D"((long)getpid()),
			   "S"((long)SIGUSR1)
			 : "rcx", "r11", "xmm0", "xmm1", "xmm7", "xmm15",
			   "memory");
	__asm__ volatile("stmxcsr %0" : "=m"(mx_after));
	printf("kill %ld; xmm kept: %s %s %s %s\n", r,
	       yes(!memcmp(o0, in, 16)), yes(!memcmp(o1, in, 16)),
	       yes(!memcmp(o7, in, 16)), yes(!memcmp(o15, in, 16)));
	printf("handler mxcsr %#x fcw %#x; after %#x\n", h_mxcsr, h_fcw,
	       mx_after);
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(c, "kill"))
		t_kill();
	else if (!strcmp(c, "raise"))
		t_raise();
	else if (!strcmp(c, "sigqueue"))
		t_sigqueue();
	else if (!strcmp(c, "tgkill"))
		t_tgkill();
	else if (!strcmp(c, "mask"))
		t_mask();
	else if (!strcmp(c, "resethand"))
		t_resethand();
	else if (!strcmp(c, "nodefer"))
		t_nodefer(SA_NODEFER);
	else if (!strcmp(c, "defer"))
		t_nodefer(0);
	else if (!strcmp(c, "altstack"))
		t_altstack(0);
	else if (!strcmp(c, "autodisarm"))
		t_altstack(SS_AUTODISARM);
	else if (!strcmp(c, "longjmp"))
		t_longjmp();
	else if (!strcmp(c, "fpu"))
		t_fpu();
	else {
		fprintf(stderr, "unknown case '%s'\n", c);
		return 2;
	}
	return 0;
}
