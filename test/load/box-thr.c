// SPDX-License-Identifier: MIT
/*
 * Threads, for itest-box-thread's comparisons of native and dune-box
 * runs (same output, same status): box-thr CASE.  No addresses, tids or
 * times are printed, only relations.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NT 4

/* Without the thread nothing below makes sense: say so and stop. */
static void start(pthread_t *t, const pthread_attr_t *a,
		  void *(*fn)(void *), void *arg)
{
	if (pthread_create(t, a, fn, arg)) {
		printf("pthread_create failed\n");
		exit(70);
	}
}

static long slot[NT];

static void *summer(void *arg)
{
	long i = (long)arg, n;

	for (n = 1; n <= 1000 * (i + 1); n++)
		slot[i] += n;
	return (void *)(i * 10);
}

/* pthread_create/join of 4 threads, each summing into its own slot */
static int t_sum(void)
{
	pthread_t t[NT];
	void *ret;
	long i;

	for (i = 0; i < NT; i++)
		start(&t[i], NULL, summer, (void *)i);
	for (i = 0; i < NT; i++) {
		if (pthread_join(t[i], &ret))
			return 2;
		printf("thread %ld: sum %ld, returned %ld\n", i, slot[i],
		       (long)ret);
	}
	return 0;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void *ponger(void *arg)
{
	int me = (long)arg, i;

	for (i = 0; i < 1000; i++) {
		pthread_mutex_lock(&mu);
		while (turn != me)
			pthread_cond_wait(&cv, &mu);
		rounds++;
		turn = !me;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

/* mutex/condvar ping-pong, 1000 rounds each way (futex) */
static int t_pingpong(void)
{
	pthread_t a, b;

	start(&a, NULL, ponger, (void *)0L);
	start(&b, NULL, ponger, (void *)1L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("rounds %d, turn %d\n", rounds, turn);
	return 0;
}

static __thread long tlv = 7;
static __thread char tlbuf[64];

static void *tls_worker(void *arg)
{
	long i = (long)arg;
	int ok = tlv == 7;

	tlv = 100 + i;
	snprintf(tlbuf, sizeof(tlbuf), "thread %ld", i);
	usleep(1000);
	ok = ok && tlv == 100 + i;
	return (void *)(long)(ok && !strcmp(tlbuf, i == 0 ? "thread 0" :
					    i == 1 ? "thread 1" :
					    i == 2 ? "thread 2" : "thread 3"));
}

/* __thread values are per thread */
static int t_tls(void)
{
	pthread_t t[NT];
	void *ret;
	long i;

	tlv = 1;
	for (i = 0; i < NT; i++)
		start(&t[i], NULL, tls_worker, (void *)i);
	for (i = 0; i < NT; i++) {
		pthread_join(t[i], &ret);
		printf("thread %ld: own TLS %s\n", i, ret ? "yes" : "no");
	}
	printf("main's TLS kept: %s\n", tlv == 1 ? "yes" : "no");
	return 0;
}

static void *exiter(void *arg)
{
	printf("thread calls exit(3)\n");
	fflush(stdout);
	exit(3);
}

/* exit_group from a thread while main waits in join */
static int t_exitgroup(void)
{
	pthread_t t;

	start(&t, NULL, exiter, NULL);
	pthread_join(t, NULL);
	printf("not reached\n");
	return 0;
}

static sem_t sem;

static void *survivor(void *arg)
{
	sem_wait(&sem);
	printf("worker runs after main's pthread_exit\n");
	fflush(stdout);
	return NULL;
}

/* pthread_exit from main while another thread still runs */
static int t_mainexit(void)
{
	pthread_t t;

	sem_init(&sem, 0, 0);
	start(&t, NULL, survivor, NULL);
	printf("main leaves\n");
	fflush(stdout);
	sem_post(&sem);
	pthread_exit(NULL);
}

static void *hello(void *arg)
{
	printf("a new thread runs\n");
	return arg;
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	got_usr1 = sig;
}

/* The main thread is a zombie: its exit is complete. */
static void wait_main_gone(void)
{
	char buf[256], *p;
	FILE *f;

	for (;;) {
		f = fopen("/proc/self/stat", "r");
		if (!f || !fgets(buf, sizeof(buf), f)) {
			printf("cannot read /proc/self/stat\n");
			exit(71);
		}
		fclose(f);
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'Z')
			return;
		sched_yield();
	}
}

static void *after_main(void *arg)
{
	struct sigaction sa;
	pthread_t t;
	void *ret;
	int r;

	printf("join main: %d\n", pthread_join(*(pthread_t *)arg, NULL));
	wait_main_gone();
	/* calls that read the caller's memory through Linux (libdune) */
	start(&t, NULL, hello, (void *)7l);
	r = pthread_join(t, &ret);
	printf("join: %d, returned %ld\n", r, (long)ret);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	printf("sigaction: %d\n", sigaction(SIGUSR1, &sa, NULL));
	raise(SIGUSR1);
	printf("handler ran: %s\n", got_usr1 == SIGUSR1 ? "yes" : "no");
	return NULL;
}

/*
 * pthread_exit from main, then the other thread joins it, waits until
 * its exit is complete and makes a thread, a signal action, a signal.
 */
static int t_mainexit_after(void)
{
	static pthread_t main_thread;
	pthread_t t;

	main_thread = pthread_self();
	start(&t, NULL, after_main, &main_thread);
	pthread_exit(NULL);
}

static pid_t tids[NT];

static void *tid_worker(void *arg)
{
	tids[(long)arg] = syscall(SYS_gettid);
	return NULL;
}

/* gettid: distinct per thread, the main thread's is the pid */
static int t_gettid(void)
{
	pthread_t t[NT];
	int i, j, distinct = 1, notpid = 1;

	for (i = 0; i < NT; i++)
		start(&t[i], NULL, tid_worker, (void *)(long)i);
	for (i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < NT; i++) {
		notpid = notpid && tids[i] != getpid() && tids[i] > 0;
		for (j = 0; j < i; j++)
			distinct = distinct && tids[i] != tids[j];
	}
	printf("main's tid is the pid: %s\n",
	       syscall(SYS_gettid) == getpid() ? "yes" : "no");
	printf("threads' tids distinct: %s, none the pid: %s\n",
	       distinct ? "yes" : "no", notpid ? "yes" : "no");
	return 0;
}

static void *detached(void *arg)
{
	printf("detached thread %ld runs\n", (long)arg);
	fflush(stdout);
	sem_post(&sem);
	return NULL;
}

/* detached threads: nobody joins them */
static int t_detached(void)
{
	pthread_attr_t a;
	pthread_t t;
	long i;

	sem_init(&sem, 0, 0);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < 3; i++) {
		start(&t, &a, detached, (void *)i);
		sem_wait(&sem);
	}
	pthread_attr_destroy(&a);
	printf("3 detached threads ran\n");
	return 0;
}

static void *spinner(void *arg)
{
	for (;;)
		sched_yield();
	return NULL;
}

/* exit from main with threads running: they end with the process */
static int t_mainreturn(void)
{
	pthread_t t[2];

	int ok = !pthread_create(&t[0], NULL, spinner, NULL) &&
		 !pthread_create(&t[1], NULL, spinner, NULL);

	printf("threads running: %s\n", ok ? "yes" : "no");
	printf("main returns 5\n");
	return 5;
}

static const char *err_name(long r)
{
	if (r != -1)
		return "success";
	return errno == EPERM ? "EPERM" : errno == EINVAL ? "EINVAL" :
	       errno == ENOSYS ? "ENOSYS" : "another error";
}

/* clone's own errors for thread flags */
static int t_errors(void)
{
	static char stack[4096] __attribute__((aligned(16)));
	const unsigned long thr = CLONE_VM | CLONE_FS | CLONE_FILES |
				  CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
	int tid;

	printf("clone with a kernel-half TLS: %s\n",
	       err_name(syscall(SYS_clone, thr | CLONE_SETTLS,
				stack + sizeof(stack), &tid, &tid,
				1ul << 63)));
	printf("CLONE_THREAD without CLONE_SIGHAND: %s\n",
	       err_name(syscall(SYS_clone, CLONE_VM | CLONE_THREAD,
				stack + sizeof(stack), &tid, &tid, 0)));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} cases[] = {
		{ "sum", t_sum }, { "pingpong", t_pingpong }, { "tls", t_tls },
		{ "exitgroup", t_exitgroup }, { "mainexit", t_mainexit },
		{ "mainexit-after", t_mainexit_after },
		{ "gettid", t_gettid }, { "detached", t_detached },
		{ "mainreturn", t_mainreturn }, { "errors", t_errors },
	};
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc > 1 && i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[1], cases[i].name))
			return cases[i].fn();
	fprintf(stderr, "usage: box-thr CASE\n");
	return 64;
}
