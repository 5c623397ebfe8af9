// SPDX-License-Identifier: MIT
/*
 * Signals across threads and contexts: pthread_kill to another thread
 * (its handler runs in that thread), a handler in a thread blocked in a
 * system call, makecontext/swapcontext/setcontext (also from a handler),
 * SIGCHLD from a child with its si_status, and last abort() with the
 * default action: the wait status must match.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static volatile pid_t handler_tid;
static volatile int got;
static pthread_t worker_th;
static pid_t worker_tid;
static int pfd[2];
static ucontext_t main_uc, co_uc, back_uc;
static volatile int co_steps, from_handler;
static siginfo_t chld;

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

static void on_usr1(int sig)
{
	handler_tid = gettid_();
	got++;
}

static void *worker(void *arg)
{
	char c;

	worker_tid = gettid_();
	/* Blocked here when the signal comes; SA_RESTART goes on. */
	if (read(pfd[0], &c, 1) != 1)
		return (void *)1;
	return NULL;
}

static void coroutine(int a, int b)
{
	co_steps += a;
	swapcontext(&co_uc, &main_uc);
	co_steps += b;
}

static void on_usr2(int sig)
{
	from_handler = 1;
	/* Leave the handler for a saved context, as some runtimes do. */
	setcontext(&back_uc);
}

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	chld = *si;
}

int main(void)
{
	static char co_stack[64 << 10];
	struct sigaction sa;
	struct rlimit rl = { 0, 0 };
	volatile int passes = 0;
	sigset_t m;
	pid_t pid;

	setvbuf(stdout, NULL, _IONBF, 0);
	setrlimit(RLIMIT_CORE, &rl);
	if (pipe(pfd))
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&worker_th, NULL, worker, NULL);
	while (!__atomic_load_n(&worker_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(20000);	/* let it block in read */
	pthread_kill(worker_th, SIGUSR1);
	while (!got)
		usleep(1000);
	printf("pthread_kill: handler in worker %d\n",
	       handler_tid == worker_tid);
	if (write(pfd[1], "x", 1) != 1)
		return 1;
	pthread_join(worker_th, NULL);
	printf("worker done\n");

	/* makecontext / swapcontext */
	getcontext(&co_uc);
	co_uc.uc_stack.ss_sp = co_stack;
	co_uc.uc_stack.ss_size = sizeof(co_stack);
	co_uc.uc_link = &main_uc;
	makecontext(&co_uc, (void (*)(void))coroutine, 2, 10, 20);
	swapcontext(&main_uc, &co_uc);
	printf("coroutine step: %d\n", co_steps);
	swapcontext(&main_uc, &co_uc);
	printf("coroutine done: %d\n", co_steps);

	/* setcontext out of a handler: the mask comes from the context */
	sa.sa_handler = on_usr2;
	sa.sa_flags = 0;
	sigaction(SIGUSR2, &sa, NULL);
	getcontext(&back_uc);
	if (passes++ == 0)
		raise(SIGUSR2);
	sigprocmask(SIG_SETMASK, NULL, &m);
	printf("setcontext from handler: passes %d from_handler %d usr2 blocked %d\n",
	       passes, from_handler, sigismember(&m, SIGUSR2));

	/* SIGCHLD */
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	pid = fork();
	if (pid == 0)
		_exit(42);
	while (!chld.si_signo)
		pause();
	waitpid(pid, NULL, 0);
	printf("SIGCHLD: code %d status %d pid_ok %d\n", chld.si_code,
	       chld.si_status, chld.si_pid == pid);

	printf("abort now\n");
	abort();
}
