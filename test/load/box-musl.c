// SPDX-License-Identifier: MIT
/*
 * A program built with musl (musl-gcc), static and dynamic, for
 * itest-box-musl's comparisons of native and dune-box runs: musl's own
 * start-up, TLS, clone for threads, fork, execve, signals and vDSO
 * lookup, where glibc's are what the other box tests exercise.
 * box-musl CASE; prints relations only, no addresses, pids or times.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static __thread int tls = 5;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn;

/* Its own TLS, seen through the value it returns (output stays ordered). */
static void *worker(void *arg)
{
	tls = 7 + (int)(long)arg;
	pthread_mutex_lock(&mu);
	turn = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	return (void *)(long)tls;
}

static int t_thread(void)
{
	pthread_t t[4];
	void *r;
	int i;

	for (i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(long)i))
			return 70;
	pthread_mutex_lock(&mu);
	while (!turn)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &r);
		printf("joined %d: its tls %ld\n", i, (long)r);
	}
	printf("main: tls %d\n", tls);
	return 0;
}

static int t_fork(void)
{
	int p[2], st;
	char buf[32] = "";
	pid_t pid;

	if (pipe(p))
		return 70;
	fflush(stdout);
	pid = fork();
	if (!pid) {
		write(p[1], "from the child", 14);
		_exit(9);
	}
	close(p[1]);
	read(p[0], buf, sizeof(buf) - 1);
	waitpid(pid, &st, 0);
	printf("read '%s', child exit %d\n", buf, WEXITSTATUS(st));
	return 0;
}

/* itself again, through /proc/self/exe */
static int t_exec(const char *self)
{
	char *argv[] = { (char *)self, "hello", NULL };

	fflush(stdout);
	execv("/proc/self/exe", argv);
	printf("execv: %s\n", strerror(errno));
	return 1;
}

static sigjmp_buf jb;
static volatile void *fault_addr;
/* an unmapped address, kept from the compiler's view of the object */
static volatile unsigned long bad_addr = 16;

static void on_usr1(int sig)
{
	printf("handler: signal %d\n", sig);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	fault_addr = si->si_addr;
	siglongjmp(jb, si->si_code);
}

static int t_signal(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	volatile int *bad = (volatile int *)bad_addr;
	int code;

	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	code = sigsetjmp(jb, 1);
	if (!code)
		*bad = 1;
	printf("SIGSEGV: code %s, si_addr == bad: %s\n",
	       code == SEGV_MAPERR ? "MAPERR" : "other",
	       fault_addr == (void *)bad ? "yes" : "no");
	signal(SIGSEGV, SIG_DFL);
	*bad = 2;	/* dies of it, as natively */
	return 0;
}

static int t_time(void)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("monotonic: %s\n", b.tv_sec > a.tv_sec ||
	       (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec) ?
	       "ordered" : "backwards");
	printf("realtime after 2020: %s\n", time(NULL) > 1577836800 ?
	       "yes" : "no");
	return 0;
}

int main(int argc, char **argv)
{
	char *p = malloc(100);

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(p, 100, "musl %s", argc > 1 ? argv[1] : "(none)");
	puts(p);
	free(p);
	if (argc < 2 || !strcmp(argv[1], "hello"))
		return 0;
	if (!strcmp(argv[1], "thread"))
		return t_thread();
	if (!strcmp(argv[1], "fork"))
		return t_fork();
	if (!strcmp(argv[1], "exec"))
		return t_exec(argv[0]);
	if (!strcmp(argv[1], "signal"))
		return t_signal();
	if (!strcmp(argv[1], "time"))
		return t_time();
	fprintf(stderr, "usage: box-musl hello|thread|fork|exec|signal|time\n");
	return 64;
}
