// SPDX-License-Identifier: MIT
/*
 * Robust futexes, for itest-box-thread's comparisons of native and
 * dune-box runs (same output, same status): box-robust CASE.  A thread
 * or process that dies holding a robust mutex must leave it marked
 * FUTEX_OWNER_DIED with one waiter woken (Linux's exit_robust_list).
 * No addresses, tids or times are printed, only relations.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A hang (a waiter nobody wakes) ends the run instead of the test's. */
#define WATCHDOG 120

static pthread_mutex_t *mx;

static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if (pthread_create(t, NULL, fn, arg)) {
		printf("pthread_create failed\n");
		exit(70);
	}
}

static void robust_init(pthread_mutex_t *m, int pshared)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (pshared)
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (pthread_mutex_init(m, &a)) {
		printf("pthread_mutex_init failed\n");
		exit(70);
	}
	pthread_mutexattr_destroy(&a);
}

/* The futex word of glibc's and musl's mutex is its first int. */
static volatile int *word(pthread_mutex_t *m)
{
	return (volatile int *)m;
}

/* Wait until another thread sleeps in pthread_mutex_lock on @m. */
static void wait_for_waiter(pthread_mutex_t *m)
{
	while (!(*word(m) & FUTEX_WAITERS))
		sched_yield();
}

/* What the next locker sees, then make it usable again. */
static void take_after_death(const char *who)
{
	int r = pthread_mutex_lock(mx);

	printf("%s: lock %s\n", who, r == EOWNERDEAD ? "EOWNERDEAD" :
	       r ? strerror(r) : "0");
	if (r != EOWNERDEAD)
		return;
	printf("%s: consistent %d\n", who, pthread_mutex_consistent(mx));
	printf("%s: unlock %d\n", who, pthread_mutex_unlock(mx));
	r = pthread_mutex_lock(mx);
	printf("%s: lock again %d\n", who, r);
	pthread_mutex_unlock(mx);
}

static void *holder(void *arg)
{
	printf("holder: lock %d\n", pthread_mutex_lock(mx));
	if (arg)
		wait_for_waiter(mx);
	return NULL;	/* dies holding it */
}

/* A thread ends holding a robust mutex; main locks it afterwards. */
static int t_thread(void)
{
	pthread_t t;

	start(&t, holder, NULL);
	pthread_join(t, NULL);
	take_after_death("main");
	return 0;
}

/* ... while main already sleeps on it: the death must wake main. */
static int t_waiter(void)
{
	pthread_t t;

	start(&t, holder, (void *)1);
	/* holder runs first: it prints before it waits for us */
	while (!*word(mx))
		sched_yield();
	take_after_death("main");
	pthread_join(t, NULL);
	return 0;
}

/*
 * A process-shared robust mutex in new shared memory (mx), then fork:
 * fork's return, or -1 if either failed.
 */
static pid_t fork_with_shared_mutex(void)
{
	mx = mmap(NULL, sizeof(*mx), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mx == MAP_FAILED)
		return -1;
	robust_init(mx, 1);
	fflush(stdout);
	return fork();
}

/*
 * A process-shared robust mutex in shared memory; a fork child exits
 * holding it (exit, hence exit_group).  @wait: the parent sleeps on it
 * before the child exits.
 */
static int t_pshared(int wait)
{
	pid_t pid;
	int st;

	pid = fork_with_shared_mutex();
	if (pid < 0)
		return 71;
	if (pid == 0) {
		printf("child: lock %d\n", pthread_mutex_lock(mx));
		fflush(stdout);
		if (wait)
			wait_for_waiter(mx);
		exit(3);
	}
	if (wait) {
		while (!*word(mx))
			sched_yield();
		take_after_death("parent");
	}
	if (waitpid(pid, &st, 0) != pid)
		return 72;
	printf("child status %d\n", WEXITSTATUS(st));
	if (!wait)
		take_after_death("parent");
	return 0;
}

/* Locks the shared mutex, says so, and never ends by itself. */
static void *other_holder(void *arg)
{
	printf("other: lock %d\n", pthread_mutex_lock(mx));
	fflush(stdout);
	__atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
	return NULL;
}

/*
 * A fork child's *other* thread holds the process-shared mutex when the
 * child's main thread calls exit (exit_group): Linux walks the list of
 * every thread of the group as it dies, so the parent sees EOWNERDEAD.
 */
static int t_pshared_other(void)
{
	static int locked;
	pthread_t t;
	pid_t pid;
	int st;

	pid = fork_with_shared_mutex();
	if (pid < 0)
		return 71;
	if (pid == 0) {
		start(&t, other_holder, &locked);
		while (!__atomic_load_n(&locked, __ATOMIC_ACQUIRE))
			sched_yield();
		exit(3);
	}
	if (waitpid(pid, &st, 0) != pid)
		return 72;
	printf("child status %d\n", WEXITSTATUS(st));
	take_after_death("parent");
	return 0;
}

/*
 * A hand-made list, registered by a thread that then ends with a raw
 * exit (glibc's list is not involved):
 *   head -> a -> b -> b -> ... (a loop: the walk stops at the limit),
 *   pending: p.  Words: a owned with waiters, b and p owned, and c,
 *   owned but on no list.
 * @badend: b's next is an unmapped address instead: the walk stops
 * there and the pending entry is left alone.
 */
struct entry {
	struct robust_list next;
	int futex;
};

static struct entry ea, eb, ep, ec;
static struct robust_list_head rhead;
static int raw_tid;

static void *raw_thread(void *arg)
{
	long badend = (long)arg;

	raw_tid = syscall(SYS_gettid);
	ea.futex = raw_tid | FUTEX_WAITERS;
	eb.futex = raw_tid;
	ep.futex = raw_tid;
	ec.futex = raw_tid;
	ea.next.next = &eb.next;
	eb.next.next = badend ? (struct robust_list *)8 : &eb.next;
	rhead.list.next = &ea.next;
	rhead.futex_offset = offsetof(struct entry, futex);
	rhead.list_op_pending = &ep.next;
	if (syscall(SYS_set_robust_list, &rhead, sizeof(rhead)))
		printf("set_robust_list failed\n");
	syscall(SYS_exit, 0);
	return NULL;
}

static void show(const char *name, int w)
{
	printf("%s: owner %s, OWNER_DIED %d, WAITERS %d\n", name,
	       (w & FUTEX_TID_MASK) == raw_tid ? "the dead thread" :
	       (w & FUTEX_TID_MASK) ? "other" : "none",
	       !!(w & FUTEX_OWNER_DIED), !!(w & FUTEX_WAITERS));
}

static int t_raw(long badend)
{
	pthread_t t;

	start(&t, raw_thread, (void *)badend);
	pthread_join(t, NULL);
	show("a", ea.futex);
	show("b", eb.futex);
	show("pending", ep.futex);
	show("c", ec.futex);
	return 0;
}

/* get_robust_list: the thread's own, by pid 0 and by its tid. */
static int t_getlist(void)
{
	struct robust_list_head *orig, *h, mine;
	size_t len = 0;
	long r;

	r = syscall(SYS_get_robust_list, 0, &orig, &len);
	printf("get(0): %ld, len %zu, registered %s\n", r, len,
	       orig ? "yes" : "no");
	memset(&mine, 0, sizeof(mine));
	mine.list.next = &mine.list;
	r = syscall(SYS_set_robust_list, &mine, sizeof(mine));
	printf("set(mine): %ld\n", r);
	r = syscall(SYS_get_robust_list, syscall(SYS_gettid), &h, &len);
	printf("get(tid): %ld, len %zu, mine %s\n", r, len,
	       h == &mine ? "yes" : "no");
	r = syscall(SYS_get_robust_list, 0, &h, (size_t *)8);
	printf("get(0, bad len): %ld, errno %s\n", r,
	       r ? strerror(errno) : "-");
	r = syscall(SYS_set_robust_list, &mine, sizeof(mine) + 1);
	printf("set(bad size): %ld, errno %s\n", r,
	       r ? strerror(errno) : "-");
	r = syscall(SYS_set_robust_list, orig, sizeof(*orig));
	printf("set(orig): %ld\n", r);
	return 0;
}

int main(int argc, char **argv)
{
	static pthread_mutex_t m;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(WATCHDOG);
	mx = &m;
	robust_init(mx, 0);
	if (argc > 1 && !strcmp(argv[1], "thread"))
		return t_thread();
	if (argc > 1 && !strcmp(argv[1], "waiter"))
		return t_waiter();
	if (argc > 1 && !strcmp(argv[1], "pshared"))
		return t_pshared(0);
	if (argc > 1 && !strcmp(argv[1], "pshared-waiter"))
		return t_pshared(1);
	if (argc > 1 && !strcmp(argv[1], "pshared-other"))
		return t_pshared_other();
	if (argc > 1 && !strcmp(argv[1], "raw"))
		return t_raw(0);
	if (argc > 1 && !strcmp(argv[1], "raw-badend"))
		return t_raw(1);
	if (argc > 1 && !strcmp(argv[1], "getlist"))
		return t_getlist();
	fprintf(stderr, "usage: box-robust CASE\n");
	return 64;
}
