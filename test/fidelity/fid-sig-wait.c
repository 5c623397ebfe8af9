// SPDX-License-Identifier: MIT
/*
 * Signals and blocking system calls: SA_RESTART (a pipe read interrupted
 * by interval-timer signals goes on), no SA_RESTART (EINTR), nanosleep
 * (EINTR either way), sigsuspend and pselect (the handler's mask starts
 * from the temporary mask; the old mask is back after), sigwaitinfo,
 * sigtimedwait, signalfd, and a POSIX timer's SI_TIMER signal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int pfd[2];
static volatile sig_atomic_t ticks;
static sigset_t in_handler;
static siginfo_t last;

static void print_mask(const char *what, const sigset_t *m)
{
	int s;

	printf("%s:", what);
	for (s = 1; s < 65; s++)
		if (sigismember(m, s) == 1)
			printf(" %d", s);
	printf("\n");
}

static void stop_timer(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
}

static void start_timer(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_interval.tv_usec = 20000;
	it.it_value.tv_usec = 20000;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The third tick feeds the pipe and stops the timer. */
static void on_alarm(int sig)
{
	if (++ticks == 3) {
		stop_timer();
		if (write(pfd[1], "x", 1) != 1)
			_exit(9);
	}
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	last = *si;
	sigprocmask(SIG_SETMASK, NULL, &in_handler);
}

static void set(int sig, void (*h)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

static void set_info(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
}

int main(void)
{
	struct timespec ts = { 5, 0 }, rem = { 0, 0 };
	struct signalfd_siginfo ssi;
	struct sigevent sev;
	struct itimerspec its;
	sigset_t m, old, wait;
	timer_t tm;
	char c;
	long r;
	int fd;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (pipe(pfd))
		return 1;

	set(SIGALRM, on_alarm, SA_RESTART);
	ticks = 0;
	start_timer();
	r = read(pfd[0], &c, 1);
	printf("SA_RESTART read: %ld ticks %d\n", r, ticks);

	set(SIGALRM, on_alarm, 0);
	ticks = 0;
	start_timer();
	errno = 0;
	r = read(pfd[0], &c, 1);
	printf("no SA_RESTART read: %ld errno %d ticks %d\n", r, errno, ticks);
	while (ticks < 3)
		pause();
	r = read(pfd[0], &c, 1);
	printf("then read: %ld\n", r);

	set(SIGALRM, on_alarm, SA_RESTART);
	ticks = 0;
	start_timer();
	errno = 0;
	r = nanosleep(&ts, &rem);
	printf("nanosleep: %ld errno %d rem>0 %d\n", r, errno,
	       rem.tv_sec > 0 || rem.tv_nsec > 0);
	while (ticks < 3)
		pause();
	read(pfd[0], &c, 1);

	/* sigsuspend: handler mask = suspend mask | sa_mask | sig */
	set_info(SIGUSR1);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGHUP);
	sigprocmask(SIG_BLOCK, &m, &old);
	raise(SIGUSR1);
	sigemptyset(&wait);
	sigaddset(&wait, SIGINT);
	errno = 0;
	r = sigsuspend(&wait);
	printf("sigsuspend: %ld errno %d signo %d code %d\n", r, errno,
	       last.si_signo, last.si_code);
	print_mask("mask in handler", &in_handler);
	sigprocmask(SIG_SETMASK, NULL, &m);
	print_mask("mask after", &m);

	/* pselect with a mask: the same rules */
	raise(SIGUSR1);
	sigemptyset(&wait);
	sigaddset(&wait, SIGQUIT);
	errno = 0;
	r = pselect(0, NULL, NULL, NULL, NULL, &wait);
	printf("pselect: %ld errno %d\n", r, errno);
	print_mask("mask in handler", &in_handler);
	sigprocmask(SIG_SETMASK, NULL, &m);
	print_mask("mask after", &m);

	/* sigwaitinfo, sigtimedwait: no handler runs */
	raise(SIGUSR1);
	memset(&last, 0, sizeof(last));
	sigemptyset(&wait);
	sigaddset(&wait, SIGUSR1);
	r = sigwaitinfo(&wait, &last);
	printf("sigwaitinfo: %ld code %d\n", r, last.si_code);
	ts.tv_sec = 0;
	ts.tv_nsec = 10000000;
	errno = 0;
	r = sigtimedwait(&wait, &last, &ts);
	printf("sigtimedwait: %ld errno %d\n", r, errno);

	/* signalfd */
	fd = signalfd(-1, &wait, SFD_CLOEXEC);
	raise(SIGUSR1);
	r = read(fd, &ssi, sizeof(ssi));
	printf("signalfd: %ld signo %u code %d\n", r, ssi.ssi_signo,
	       ssi.ssi_code);
	close(fd);
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* A POSIX timer: SI_TIMER with its value */
	set_info(SIGUSR2);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR2;
	sev.sigev_value.sival_int = 1234;
	if (timer_create(CLOCK_MONOTONIC, &sev, &tm)) {
		printf("timer_create: errno %d\n", errno);
		return 1;	/* no signal would ever come */
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 10000000;
	memset(&last, 0, sizeof(last));
	timer_settime(tm, 0, &its, NULL);
	while (!last.si_signo)
		pause();
	printf("timer: signo %d code %d value %d\n", last.si_signo,
	       last.si_code, last.si_value.sival_int);
	timer_delete(tm);
	return 0;
}
