// SPDX-License-Identifier: MIT
/*
 * POSIX timers boxed and native (itest-box-calls): SIGEV_THREAD_ID to
 * another thread of the program (the handler runs there, with SI_TIMER,
 * the timer id and the value), a tid that is not the program's
 * (EINVAL), glibc's SIGEV_THREAD (its helper thread waits for the
 * signal and starts the function in a thread of its own), SIGEV_NONE
 * with timer_gettime, timer_getoverrun, and the pointer arguments at
 * addresses the program does not own (EFAULT).
 *
 * Usage: box-calls-timer tid|thread|none|fault
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "box-calls.h"

static volatile int target_tid, got_tid, got_signo, got_code, got_value;
static volatile int got_overrun, got_timerid;
static int pfd[2];

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	got_tid = syscall(SYS_gettid);
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_overrun = si->si_overrun;
	got_timerid = si->si_timerid;
	got_signo = sig;
}

/* Waits (SIGUSR1 unblocked only here) until the main thread says stop. */
static void *target(void *arg)
{
	sigset_t m;
	char c;

	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &m, NULL);
	target_tid = syscall(SYS_gettid);
	while (!got_signo)
		usleep(1000);
	if (read(pfd[0], &c, 1) != 1)
		exit(3);
	return NULL;
}

static void oneshot(struct itimerspec *its)
{
	memset(its, 0, sizeof(*its));
	its->it_value.tv_nsec = 5000000;
}

static int t_tid(void)
{
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its;
	pthread_t th;
	sigset_t m;
	timer_t tm;
	long r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	/* only the target thread takes SIGUSR1 */
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	if (pipe(pfd) || pthread_create(&th, NULL, target, NULL))
		return 1;
	while (!target_tid)
		usleep(1000);

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev.sigev_value.sival_int = 4321;
	sev._sigev_un._tid = target_tid;
	r = timer_create(CLOCK_MONOTONIC, &sev, &tm);
	SHOW("timer_create thread_id", r);
	if (r)
		exit(4);	/* no signal would ever come */
	oneshot(&its);
	r = timer_settime(tm, 0, &its, NULL);
	SHOW("timer_settime", r);
	while (!got_signo)
		usleep(1000);
	printf("signal %d code SI_TIMER %s value %d overrun %d\n", got_signo,
	       yes(got_code == SI_TIMER), got_value, got_overrun);
	printf("in the target thread: %s, timer id matches: %s\n",
	       yes(got_tid == target_tid),
	       yes(got_timerid == (int)(long)tm));
	r = timer_getoverrun(tm);
	SHOW("timer_getoverrun", r);
	r = timer_gettime(tm, &its);
	printf("timer_gettime: ret %ld disarmed %s\n", r,
	       yes(!its.it_value.tv_sec && !its.it_value.tv_nsec));
	SHOW("timer_delete", timer_delete(tm));
	errno = 0;
	r = timer_delete(tm);
	SHOW("timer_delete again", r);
	if (write(pfd[1], "x", 1) != 1)
		return 1;
	pthread_join(th, NULL);

	/* init's tid, and one that is no thread at all: not ours */
	sev._sigev_un._tid = 1;
	r = timer_create(CLOCK_MONOTONIC, &sev, &tm);
	SHOW("timer_create tid 1", r);
	sev._sigev_un._tid = -5;
	r = timer_create(CLOCK_MONOTONIC, &sev, &tm);
	SHOW("timer_create tid -5", r);
	return 0;
}

static pthread_t main_thread;

static void notified(union sigval v)
{
	char msg[64];
	int n;

	n = snprintf(msg, sizeof(msg), "notified: value %d, own thread %s\n",
		     v.sival_int, yes(!pthread_equal(pthread_self(),
						     main_thread)));
	if (write(pfd[1], msg, n) != n)
		exit(3);
}

static int t_thread(void)
{
	struct sigevent sev;
	struct itimerspec its;
	char buf[64];
	timer_t tm;
	long r;
	int i;

	main_thread = pthread_self();
	if (pipe(pfd))
		return 1;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = notified;
	for (i = 0; i < 2; i++) {
		sev.sigev_value.sival_int = 100 + i;
		r = timer_create(CLOCK_REALTIME, &sev, &tm);
		SHOW("timer_create SIGEV_THREAD", r);
		if (r)
			return 4;	/* nothing would be written */
		oneshot(&its);
		SHOW("timer_settime", timer_settime(tm, 0, &its, NULL));
		r = read(pfd[0], buf, sizeof(buf) - 1);
		if (r <= 0)
			return 1;
		buf[r] = 0;
		fputs(buf, stdout);
		SHOW("timer_delete", timer_delete(tm));
	}
	return 0;
}

static int t_none(void)
{
	struct sigevent sev;
	struct itimerspec its, old;
	timer_t tm;
	long r;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	r = timer_create(CLOCK_MONOTONIC, &sev, &tm);
	SHOW("timer_create none", r);
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = 100;
	its.it_interval.tv_sec = 7;
	SHOW("timer_settime", timer_settime(tm, 0, &its, NULL));
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = 200;
	r = timer_settime(tm, 0, &its, &old);
	printf("timer_settime old: ret %ld armed %s interval %ld\n", r,
	       yes(old.it_value.tv_sec > 50), (long)old.it_interval.tv_sec);
	r = timer_gettime(tm, &its);
	printf("timer_gettime: ret %ld value>100 %s interval %ld\n", r,
	       yes(its.it_value.tv_sec > 100), (long)its.it_interval.tv_sec);
	SHOW("timer_getoverrun", timer_getoverrun(tm));
	SHOW("timer_delete", timer_delete(tm));
	/* NULL sigevent: SIGALRM to the process, never armed here */
	r = timer_create(CLOCK_MONOTONIC, NULL, &tm);
	SHOW("timer_create NULL", r);
	SHOW("timer_delete", timer_delete(tm));
	/* bad clock, bad notify */
	r = timer_create(12345, NULL, &tm);
	SHOW("timer_create bad clock", r);
	sev.sigev_notify = 77;
	r = timer_create(CLOCK_MONOTONIC, &sev, &tm);
	SHOW("timer_create bad notify", r);
	return 0;
}

/* Raw calls: glibc would dereference the pointers itself. */
static int t_fault(void)
{
	void *bad = foreign_address();
	struct sigevent sev;
	struct itimerspec its;
	int id;
	long r;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	r = syscall(SYS_timer_create, CLOCK_MONOTONIC, bad, &id);
	SHOW("timer_create bad sigevent", r);
	r = syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, bad);
	SHOW("timer_create bad id", r);
	r = syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id);
	SHOW("timer_create", r);
	r = syscall(SYS_timer_settime, id, 0, bad, NULL);
	SHOW("timer_settime bad new", r);
	oneshot(&its);
	its.it_value.tv_sec = 100;
	r = syscall(SYS_timer_settime, id, 0, &its, bad);
	SHOW("timer_settime bad old", r);
	r = syscall(SYS_timer_gettime, id, bad);
	SHOW("timer_gettime bad", r);
	SHOW("timer_delete", syscall(SYS_timer_delete, id));
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(c, "tid"))
		return t_tid();
	if (!strcmp(c, "thread"))
		return t_thread();
	if (!strcmp(c, "none"))
		return t_none();
	if (!strcmp(c, "fault"))
		return t_fault();
	fprintf(stderr, "usage: box-calls-timer tid|thread|none|fault\n");
	return 2;
}
