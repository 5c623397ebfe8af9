// SPDX-License-Identifier: MIT
/*
 * Signals delivered inside the guest (issue 8), through libdune: a
 * sigaction handler runs in Dune mode with a Linux rt_sigframe of the
 * guest's registers; leaving it with siglongjmp keeps the thread in Dune
 * mode (and its new threads and fork children); delivery costs no VM exit
 * beyond the program's own system calls; dune_register_signal_handler
 * keeps its vector path.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>

#include "itest.h"
#include "dune.h"

/* VMX basic exit reason for VMCALL (SDM appendix C) */
#include <asm/vmx.h>

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
	IT_ASSERT(dune_active());
}

/* ---- the opening scenario ---- */

static sigjmp_buf jb;
static volatile int segv_active, segv_code;
static volatile void *segv_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	segv_active = dune_active();
	segv_code = si->si_code;
	segv_addr = si->si_addr;
	siglongjmp(jb, 1);
}

static void *thread_active(void *arg)
{
	return (void *)(uintptr_t)dune_active();
}

static void test_longjmp_stays_in_dune(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	volatile char *p;
	void *ret = NULL;
	pthread_t th;
	int round, st = 0;
	pid_t pid;

	enter();
	p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(p != MAP_FAILED);
	IT_ASSERT_EQ(sigaction(SIGSEGV, &sa, NULL), 0);
	for (round = 0; round < 2; round++) {
		segv_active = 0;
		if (sigsetjmp(jb, 1) == 0) {
			(void)*p;
			IT_FAIL("no SIGSEGV");
		}
		IT_ASSERT(segv_active);		/* the handler ran in the guest */
		IT_ASSERT_EQ(segv_code, SEGV_ACCERR);
		IT_ASSERT(segv_addr == p);
		IT_ASSERT(dune_active());	/* and we are still there */
	}
	IT_ASSERT_EQ(pthread_create(&th, NULL, thread_active, NULL), 0);
	IT_ASSERT_EQ(pthread_join(th, &ret), 0);
	IT_ASSERT(ret == (void *)1);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(dune_active() ? 0 : 1);
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- the frame shows the guest's registers ---- */

/* long raw_kill(long pid, long sig): records rsp, kill(2), label after */
long raw_kill(long pid, long sig);
extern char raw_kill_ret[];
uint64_t raw_kill_rsp;

__asm__(".text\n"
	".globl raw_kill, raw_kill_ret\n"
	"raw_kill:\n"
	"	movq %rsp, raw_kill_rsp(%rip)\n"
	"	movq $0x1234567, %r12\n"
	"	movl $62, %eax\n"	/* __NR_kill */
	"	syscall\n"
	"raw_kill_ret:\n"
	"	movq %r12, %rax\n"
	"	ret\n");

static volatile int usr1_active, usr1_rip_ok, usr1_rsp_ok, usr1_rax_ok;
static volatile int usr1_calls;

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;

	usr1_calls++;
	usr1_active = dune_active();
	usr1_rip_ok = (char *)g[REG_RIP] == raw_kill_ret;
	usr1_rsp_ok = (uint64_t)g[REG_RSP] == raw_kill_rsp;
	usr1_rax_ok = g[REG_RAX] == 0 && g[REG_R12] == 0x1234567;
	/* an edit of a general register is seen after the return */
	g[REG_R12] = 0x7654321;
}

static void test_frame_registers(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
	long r;

	enter();
	IT_ASSERT_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	r = raw_kill(getpid(), SIGUSR1);
	IT_ASSERT_EQ(usr1_calls, 1);
	IT_ASSERT(usr1_active);
	IT_ASSERT(usr1_rip_ok);
	IT_ASSERT(usr1_rsp_ok);
	IT_ASSERT(usr1_rax_ok);
	IT_ASSERT_EQ(r, 0x7654321);
	IT_ASSERT(dune_active());
}

/* ---- cost: no VM exit for the delivery itself ---- */

#define ROUNDS 50

static void test_exits_per_signal(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
	struct dune_stats s0, s1;
	uint64_t vmcalls, user;
	pid_t pid = getpid();
	int i;

	enter();
	IT_ASSERT_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	IT_ASSERT_EQ(dune_get_stats(&s0), 0);
	for (i = 0; i < ROUNDS; i++)
		raw_kill(pid, SIGUSR1);
	IT_ASSERT_EQ(dune_get_stats(&s1), 0);
	IT_ASSERT_EQ(usr1_calls, ROUNDS);
	vmcalls = s1.by_reason[EXIT_REASON_VMCALL] -
		  s0.by_reason[EXIT_REASON_VMCALL];
	user = s1.user_exits - s0.user_exits;
	printf("    %d signals: %llu VMCALL exits, %llu DUNE_RUN returns, %llu exits\n",
	       ROUNDS, (unsigned long long)vmcalls, (unsigned long long)user,
	       (unsigned long long)(s1.exits - s0.exits));
	/*
	 * Each round: the program's kill and its handler's rt_sigreturn,
	 * both system calls natively too (+1: the second DUNE_GET_STATS).
	 * Nothing for the delivery: the frame is built on the way back
	 * from the kill.
	 */
	IT_ASSERT(vmcalls <= 2 * ROUNDS + 1);
	IT_ASSERT(user <= 2 * ROUNDS + 1);
}

/* ---- the libdune-specific vector path still works ---- */

static volatile int cb_calls, cb_active;

static void sig_cb(struct dune_tf *tf)
{
	cb_calls++;
	cb_active = dune_active();
}

static void test_register_signal_handler(void)
{
	enter();
	IT_ASSERT_EQ(dune_register_signal_handler(SIGUSR2, sig_cb), 0);
	IT_ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
	while (!cb_calls)
		__asm__ volatile("" ::: "memory");
	IT_ASSERT(cb_active);
	IT_ASSERT(dune_active());
}

/* ---- handlers installed before dune_enter run in the guest too ---- */

static void test_handler_from_before_enter(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
	struct sigaction old;

	IT_ASSERT_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	enter();
	IT_ASSERT_EQ(sigaction(SIGUSR1, NULL, &old), 0);
	IT_ASSERT(old.sa_sigaction == on_usr1);
	raw_kill(getpid(), SIGUSR1);
	IT_ASSERT_EQ(usr1_calls, 1);
	IT_ASSERT(usr1_active);
	IT_ASSERT(usr1_rip_ok);
}

/* ---- a thread not in Dune mode gets the same handlers natively ---- */

static volatile int native_got, native_active, native_masked;

static void on_usr2_native(int sig)
{
	sigset_t m;

	sigprocmask(SIG_SETMASK, NULL, &m);
	native_active = dune_active();
	native_masked = sigismember(&m, SIGUSR2) == 1;
	native_got = 1;
}

static void *native_waiter(void *arg)
{
	while (!native_got)
		usleep(1000);
	return NULL;
}

static void test_native_thread_uses_table(void)
{
	struct sigaction sa = { .sa_handler = on_usr2_native };
	pthread_t th;

	IT_ASSERT_EQ(dune_init(true), 0);
	IT_ASSERT_EQ(pthread_create(&th, NULL, native_waiter, NULL), 0);
	enter();
	/* installed from the guest: the table and the trampoline */
	IT_ASSERT_EQ(sigaction(SIGUSR2, &sa, NULL), 0);
	IT_ASSERT_EQ(pthread_kill(th, SIGUSR2), 0);
	IT_ASSERT_EQ(pthread_join(th, NULL), 0);
	IT_ASSERT(native_got);
	IT_ASSERT(!native_active);	/* ran natively, in that thread */
	IT_ASSERT(native_masked);	/* with the handler's mask */
}

static const struct itest tests[] = {
	{ "longjmp_stays_in_dune", test_longjmp_stays_in_dune },
	{ "frame_registers", test_frame_registers },
	{ "exits_per_signal", test_exits_per_signal },
	{ "register_signal_handler", test_register_signal_handler },
	{ "handler_from_before_enter", test_handler_from_before_enter },
	{ "native_thread_uses_table", test_native_thread_uses_table },
};

ITEST_MAIN(tests)
