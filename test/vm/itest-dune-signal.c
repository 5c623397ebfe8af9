// SPDX-License-Identifier: MIT
/*
 * Integration tests for signals handled inside the guest: at ring 0, at
 * ring 3 and outside Dune mode; TLS and errno seen by handlers after ring
 * 3 loaded FS and GS; a signal ending a blocked system call.  The ring-3
 * code is in user-guest.h (shared with itest-dune-user).
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "user-guest.h"

/* ---- signals handled inside the guest ---- */

static volatile int sig_calls, sig_active;
static volatile uint64_t sig_cs, sig_vector;

static void sig_cb(struct dune_tf *tf)
{
	sig_calls++;
	sig_active = dune_active();
	sig_cs = tf->cs;
	sig_vector = tf->vector;
	if (dune_active() && (tf->cs & 3))
		dune_ret_from_user(555);
}

static void test_signal_ring0(void)
{
	enter();
	IT_ASSERT_EQ(dune_register_signal_handler(SIGKILL, sig_cb), -EINVAL);
	IT_ASSERT_EQ(errno, EINVAL);
	IT_ASSERT_EQ(dune_register_signal_handler(SIGUSR1, sig_cb), 0);
	IT_ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
	while (!sig_calls)
		__asm__ volatile("" ::: "memory");
	IT_ASSERT_EQ(sig_calls, 1);
	IT_ASSERT(sig_active);
	IT_ASSERT_EQ(sig_cs, DUNE_SEL_KCODE);
	IT_ASSERT_EQ(sig_vector, DUNE_SIGNAL_VECTOR(SIGUSR1));
	IT_ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
	while (sig_calls < 2)
		__asm__ volatile("" ::: "memory");
	IT_ASSERT(dune_active());
}

static void test_signal_ring3(void)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	struct dune_tf tf;

	enter_user();
	IT_ASSERT_EQ(dune_register_signal_handler(SIGALRM, sig_cb), 0);
	IT_ASSERT_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	user_tf(&tf, u_spin);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 555);
	memset(&it, 0, sizeof(it));
	IT_ASSERT_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	IT_ASSERT(sig_active);
	IT_ASSERT_EQ(sig_cs, DUNE_USER_CS);
	IT_ASSERT_EQ(sig_vector, DUNE_SIGNAL_VECTOR(SIGALRM));
}

static void test_signal_native(void)
{
	IT_ASSERT_EQ(dune_register_signal_handler(SIGUSR2, sig_cb), 0);
	IT_ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
	IT_ASSERT_EQ(sig_calls, 1);
	IT_ASSERT(!sig_active);
	IT_ASSERT_EQ(sig_cs, 0x33);	/* Linux's user code segment */
	IT_ASSERT_EQ(sig_vector, DUNE_SIGNAL_VECTOR(SIGUSR2));
	IT_ASSERT_EQ(dune_register_signal_handler(SIGUSR2, NULL), 0);
}

/* ---- FS and GS loaded at ring 3 ---- */

/* #UD after u_tls's system call: rbx its result, rsi read through GS. */
static void ud_tls(struct dune_tf *tf)
{
	dune_ret_from_user((tf->rbx == 1) | (tf->rsi == TLS_MAGIC) << 1 |
			   tls_step() << 2);
}

static void prof_tls(struct dune_tf *tf)
{
	if (tf->cs & 3)
		dune_ret_from_user(tls_step() ? 1 : 2);
}

/*
 * Ring 3 sets FS and GS to base 0 (and shows it did by reading through
 * them); handlers of a system call, an exception and a signal still see
 * the thread's TLS and errno, and so does the caller afterwards.
 */
static void test_tls_in_handlers(void)
{
	struct itimerspec its = { { 0, 10000000 }, { 0, 10000000 } };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = SIGPROF };
	struct dune_tf tf;
	timer_t timer;
	long e;
	int r;

	enter_user();
	dune_register_syscall_handler(sys_handler);
	IT_ASSERT_EQ(dune_register_intr_handler(6, ud_tls), 0);
	*(volatile uint64_t *)ustack = TLS_MAGIC;
	tls_expect = 10;
	tls_val = 10;
	errno = 10;
	user_tf(&tf, u_tls);
	tf.r12 = (uint64_t)ustack;
	r = dune_jump_to_user(&tf);
	e = errno;
	IT_ASSERT_EQ(r, 7);
	IT_ASSERT_EQ(tls_expect, 12);
	IT_ASSERT_EQ(tls_val, 12);
	IT_ASSERT_EQ(e, 12);

	/*
	 * A POSIX timer on the monotonic clock: not ITIMER_REAL, so the
	 * test's alarm stays (CPU-time timers: cpu_timer_in_guest).
	 */
	IT_ASSERT_EQ(dune_register_signal_handler(SIGPROF, prof_tls), 0);
	IT_ASSERT_EQ(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
	IT_ASSERT_EQ(timer_settime(timer, 0, &its, NULL), 0);
	user_tf(&tf, u_tls_spin);
	r = dune_jump_to_user(&tf);
	e = errno;
	IT_ASSERT_EQ(timer_delete(timer), 0);
	IT_ASSERT_EQ(r, 1);
	IT_ASSERT_EQ(tls_val, 13);
	IT_ASSERT_EQ(e, 13);
	errno = 77;
	IT_ASSERT_EQ(errno, 77);
	IT_ASSERT(dune_active());
}

static volatile int usr1_calls, kicker_stop;
static pthread_t kicked;

static void usr1_cb(struct dune_tf *tf)
{
	usr1_calls++;
}

static void *kicker(void *arg)
{
	while (!kicker_stop) {
		pthread_kill(kicked, SIGUSR1);
		usleep(20000);
	}
	return NULL;
}

/* A signal handled in the guest ends a blocked system call with EINTR. */
static void test_signal_interrupts_syscall(void)
{
	pthread_t th;
	int p[2], calls, e;
	ssize_t n;
	char c;

	enter();
	IT_ASSERT_EQ(dune_register_signal_handler(SIGUSR1, usr1_cb), 0);
	IT_ASSERT_EQ(pipe(p), 0);
	kicked = pthread_self();
	calls = usr1_calls;
	IT_ASSERT_EQ(pthread_create(&th, NULL, kicker, NULL), 0);
	n = read(p[0], &c, 1);	/* nothing is ever written */
	e = errno;
	kicker_stop = 1;
	IT_ASSERT_EQ(pthread_join(th, NULL), 0);
	IT_ASSERT_EQ(n, -1);
	IT_ASSERT_EQ(e, EINTR);
	IT_ASSERT(usr1_calls > calls);
	IT_ASSERT(dune_active());
}

/*
 * CPU-time timers expire in task work that Linux runs on the way back to
 * user space: a thread spinning in the guest with no system call must
 * still get SIGPROF (dune.ko returns from DUNE_RUN for pending task
 * work), here to an ordinary native handler.
 */
static volatile int prof_calls;

static void prof_native(int sig)
{
	prof_calls++;
}

static void test_cpu_timer_in_guest(void)
{
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };
	struct sigaction sa = { .sa_handler = prof_native };
	struct dune_stats s0, s1;
	volatile unsigned long i;

	IT_ASSERT_EQ(sigaction(SIGPROF, &sa, NULL), 0);
	enter();
	IT_ASSERT_EQ(dune_get_stats(&s0), 0);
	IT_ASSERT_EQ(setitimer(ITIMER_PROF, &it, NULL), 0);
	/* no system call in the loop; bounded, the test fails if it ends */
	for (i = 0; prof_calls < 3 && i < 2000000000ul; i++)
		;
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	IT_ASSERT_EQ(setitimer(ITIMER_PROF, &it, NULL), 0);
	IT_ASSERT_EQ(dune_get_stats(&s1), 0);
	IT_ASSERT(dune_active());
	IT_ASSERT(prof_calls >= 3);
	printf("    %d SIGPROF after %lu iterations, %llu DUNE_RUN returns\n",
	       prof_calls, (unsigned long)i,
	       (unsigned long long)(s1.user_exits - s0.user_exits));
}

static const struct itest tests[] = {
	{ "signal_ring0", test_signal_ring0 },
	{ "signal_ring3", test_signal_ring3 },
	{ "signal_native", test_signal_native },
	{ "tls_in_handlers", test_tls_in_handlers },
	{ "signal_interrupts_syscall", test_signal_interrupts_syscall },
	{ "cpu_timer_in_guest", test_cpu_timer_in_guest },
};

ITEST_MAIN(tests)
