// SPDX-License-Identifier: MIT
/*
 * For itest-dune-run: a program linked with libdune.so (not libdune.a),
 * run by dune-run.  It prints whether it runs in Dune mode, as seen by
 * libdune (dune_active()) and by the CPU (CPL from CS), in main, in a
 * thread and in a fork child; "exec PROG ARGS..." then execs PROG.
 *
 *   dune-run-probe [thread] [fork] [ctor] [exec PROG ARGS...]
 *
 * For dune-run --stats: "syscalls N" makes N getppid calls in a thread
 * that then exits; "live N" makes them in a thread that is still alive
 * when the process exits.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dune.h"

static int ctor_active = -1;

/* Default priority: runs after libdune.so's constructor (priority 101). */
static void __attribute__((constructor)) probe_ctor(void)
{
	ctor_active = dune_active();
}

static int cpl(void)
{
	unsigned short cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

static void report(const char *where)
{
	printf("%s: dune_active %d cpl %d\n", where, dune_active(), cpl());
	fflush(stdout);
}

static void *thread_fn(void *arg)
{
	(void)arg;
	report("thread");
	return NULL;
}

static long nr_calls;
static sem_t calls_done;

static void *calls_fn(void *live)
{
	long i;

	for (i = 0; i < nr_calls; i++)
		syscall(SYS_getppid);
	sem_post(&calls_done);
	while (live)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int i;

	report("main");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "ctor")) {
			printf("ctor: dune_active %d\n", ctor_active);
		} else if (!strcmp(argv[i], "thread")) {
			pthread_t th;

			if (pthread_create(&th, NULL, thread_fn, NULL) ||
			    pthread_join(th, NULL))
				return 3;
		} else if (!strcmp(argv[i], "fork")) {
			int st;
			pid_t p = fork();

			if (p < 0)
				return 3;
			if (p == 0) {
				report("child");
				_exit(0);
			}
			if (waitpid(p, &st, 0) != p || st)
				return 3;
		} else if ((!strcmp(argv[i], "syscalls") ||
			    !strcmp(argv[i], "live")) && i + 1 < argc) {
			bool live = !strcmp(argv[i], "live");
			pthread_t th;

			nr_calls = atol(argv[++i]);
			sem_init(&calls_done, 0, 0);
			if (pthread_create(&th, NULL, calls_fn,
					   live ? &nr_calls : NULL))
				return 3;
			while (sem_wait(&calls_done))
				;
			if (!live && pthread_join(th, NULL))
				return 3;
		} else if (!strcmp(argv[i], "exec") && i + 1 < argc) {
			fflush(stdout);
			execvp(argv[i + 1], argv + i + 1);
			perror(argv[i + 1]);
			return 127;
		}
	}
	return 0;
}
