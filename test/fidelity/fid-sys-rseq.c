// SPDX-License-Identifier: MIT
/*
 * rseq as glibc registers it: the registration facts glibc and the
 * kernel export, the cpu_id the kernel keeps in the area (what
 * sched_getcpu reads), a thread's own registration, and the kernel's
 * errors for registering again, for a different area or length, and
 * for unregistering with the wrong signature; and a critical section
 * that never ends by itself, which a signal must abort (Linux checks
 * rseq_cs on every signal delivery), in the main thread and in another.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FID_RSEQ_SPIN
#include "fid-cpu.h"

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#endif

static struct rseq *area(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() +
			       __rseq_offset);
}

static unsigned int raw_getcpu(void)
{
	unsigned int cpu = ~0u;

	syscall(SYS_getcpu, &cpu, NULL, NULL);
	return cpu;
}

static void show_rseq(const char *who)
{
	struct rseq *r = area();

	printf("%s: cpu_id == getcpu: %s, cpu_id_start == cpu_id: %s, sched_getcpu == getcpu: %s, rseq_cs 0: %s\n",
	       who, r->cpu_id == raw_getcpu() ? "yes" : "no",
	       r->cpu_id_start == r->cpu_id ? "yes" : "no",
	       sched_getcpu() == (int)raw_getcpu() ? "yes" : "no",
	       r->rseq_cs == 0 ? "yes" : "no");
}


static volatile int alarms;

static void on_alarm(int sig)
{
	static const char msg[] = "critical section not aborted by 5 signals\n";

	if (++alarms >= 5) {
		write(1, msg, sizeof(msg) - 1);
		_exit(3);
	}
}

static void abort_check(const char *who)
{
	static struct rseq_cs cs;
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	int r;

	cs.start_ip = (uintptr_t)rseq_spin_start;
	cs.post_commit_offset = rseq_spin_end - rseq_spin_start;
	cs.abort_ip = (uintptr_t)rseq_spin_abort;
	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	r = rseq_spin((uint64_t *)&area()->rseq_cs, &cs);
	setitimer(ITIMER_REAL, &off, NULL);
	/* preemption may abort it before the signal comes */
	printf("%s: critical section aborted: %s, rseq_cs cleared: %s\n",
	       who, r == 1 && alarms <= 1 ? "yes" : "no",
	       area()->rseq_cs == 0 ? "yes" : "no");
}

static const char *try_rseq(void *a, uint32_t len, int flags, uint32_t sig)
{
	static char buf[32];

	errno = 0;
	if (syscall(SYS_rseq, a, len, flags, sig) == 0)
		return "0";
	snprintf(buf, sizeof(buf), "-1 %s", strerrorname_np(errno));
	return buf;
}

static void *thread_fn(void *arg)
{
	struct rseq *main_area = arg;
	sigset_t alrm;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);

	show_rseq("thread");
	printf("thread: own area: %s\n", area() != main_area ? "yes" : "no");
	abort_check("thread");
	return NULL;
}

/* glibc registers the whole 32-byte area; __rseq_size is the used part. */
#define RLEN 32

int main(void)
{
	static struct rseq other __attribute__((aligned(32)));
	sigset_t alrm;
	pthread_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("__rseq_size %u, __rseq_flags %u, registered: %s\n",
	       __rseq_size, __rseq_flags,
	       (int)area()->cpu_id >= 0 ? "yes" : "no");
	printf("AT_RSEQ_FEATURE_SIZE %lu, AT_RSEQ_ALIGN %lu\n",
	       getauxval(AT_RSEQ_FEATURE_SIZE), getauxval(AT_RSEQ_ALIGN));
	show_rseq("main");
	sched_yield();
	show_rseq("main after sched_yield");
	signal(SIGALRM, on_alarm);
	abort_check("main");

	printf("register again: %s\n",
	       try_rseq(area(), RLEN, 0, RSEQ_SIG));
	printf("register another area: %s\n",
	       try_rseq(&other, sizeof(other), 0, RSEQ_SIG));
	printf("register with another length: %s\n",
	       try_rseq(area(), 64, 0, RSEQ_SIG));
	printf("register with another signature: %s\n",
	       try_rseq(area(), RLEN, 0, RSEQ_SIG + 1));
	printf("unregister, wrong signature: %s\n",
	       try_rseq(area(), RLEN, RSEQ_FLAG_UNREGISTER,
			RSEQ_SIG + 1));
	printf("unregister, another area: %s\n",
	       try_rseq(&other, sizeof(other), RSEQ_FLAG_UNREGISTER,
			RSEQ_SIG));
	printf("bad flags: %s\n", try_rseq(area(), RLEN, 2, RSEQ_SIG));

	/* the timer's signals must go to the thread in the section */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	pthread_create(&t, NULL, thread_fn, area());
	pthread_join(t, NULL);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);

	printf("unregister: %s\n",
	       try_rseq(area(), RLEN, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
	area()->cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
	sched_yield();
	printf("after unregister: cpu_id left alone: %s\n",
	       area()->cpu_id == (uint32_t)RSEQ_CPU_ID_UNINITIALIZED ? "yes" : "no");
	printf("register again: %s\n",
	       try_rseq(area(), RLEN, 0, RSEQ_SIG));
	sched_yield();
	show_rseq("main, registered again");
	abort_check("main, registered again");
	printf("register an unaligned area: %s\n",
	       try_rseq((char *)&other + 4, sizeof(other), 0, RSEQ_SIG));
	return 0;
}
