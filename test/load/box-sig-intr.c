// SPDX-License-Identifier: MIT
/*
 * Signals that interrupt: a computing loop with no system call, blocking
 * calls with and without SA_RESTART, pause, sigsuspend and nanosleep
 * (itest-box-signal: native and dune-box runs must be identical).  The
 * timers repeat, so no case depends on when the first one fires.
 *   box-sig-intr CASE
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks, usr2_blocked;
static int pfd[2];
static int write_on = -1;

static void tick(int sig)
{
	sigset_t m;

	ticks++;
	sigprocmask(SIG_SETMASK, NULL, &m);
	usr2_blocked = sigismember(&m, SIGUSR2);
	if (ticks == write_on)
		(void)!write(pfd[1], "x", 1);
}

static void timer(long usec)
{
	struct itimerval it = { { 0, usec }, { 0, usec } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void on_alarm(int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tick;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void t_loop(void)
{
	/* If the signal never came: SIGXCPU ends it, a different status. */
	struct rlimit rl = { 60, 60 };
	unsigned long n = 0;

	setrlimit(RLIMIT_CPU, &rl);
	on_alarm(0);
	timer(20000);
	while (!ticks)
		n++;
	timer(0);
	printf("the loop was interrupted: ticks>0 %s\n", ticks ? "yes" : "no");
}

static void t_read(int flags)
{
	char c = 0;
	ssize_t r;

	if (pipe(pfd))
		exit(2);
	write_on = 2;
	on_alarm(flags);
	timer(50000);
	r = read(pfd[0], &c, 1);
	timer(0);
	if (r < 0)
		printf("read: -1 %s\n", strerror(errno));
	else
		printf("read: %zd '%c'\n", r, c);
}

static void t_pause(void)
{
	int r;

	on_alarm(SA_RESTART);
	timer(50000);
	r = pause();
	timer(0);
	printf("pause: %d %s, handler ran: %s\n", r, strerror(errno),
	       ticks ? "yes" : "no");
}

static void t_sigsuspend(void)
{
	sigset_t block, empty, now;
	int r;

	on_alarm(SA_RESTART);
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	timer(50000);
	sigemptyset(&empty);
	r = sigsuspend(&empty);
	timer(0);
	sigprocmask(SIG_SETMASK, NULL, &now);
	printf("sigsuspend: %d %s, handler ran: %s\n", r, strerror(errno),
	       ticks ? "yes" : "no");
	printf("in the handler SIGUSR2 blocked: %s; after: SIGALRM %s SIGUSR2 %s\n",
	       usr2_blocked ? "yes" : "no",
	       sigismember(&now, SIGALRM) ? "blocked" : "not blocked",
	       sigismember(&now, SIGUSR2) ? "blocked" : "not blocked");
}

static void t_nanosleep(void)
{
	struct timespec ts = { 100, 0 }, rem = { 0, 0 };
	int r;

	on_alarm(SA_RESTART);
	timer(50000);
	r = nanosleep(&ts, &rem);
	timer(0);
	printf("nanosleep: %d %s, rem>0 %s\n", r, strerror(errno),
	       rem.tv_sec > 0 ? "yes" : "no");
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(c, "loop"))
		t_loop();
	else if (!strcmp(c, "read-eintr"))
		t_read(0);
	else if (!strcmp(c, "read-restart"))
		t_read(SA_RESTART);
	else if (!strcmp(c, "pause"))
		t_pause();
	else if (!strcmp(c, "sigsuspend"))
		t_sigsuspend();
	else if (!strcmp(c, "nanosleep"))
		t_nanosleep();
	else {
		fprintf(stderr, "unknown case '%s'\n", c);
		return 2;
	}
	return 0;
}
