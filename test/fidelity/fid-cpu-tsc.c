// SPDX-License-Identifier: MIT
/*
 * The time-stamp counter and the CPU number: RDTSC and RDTSCP count up,
 * RDTSCP's TSC_AUX is what Linux puts there for the CPU the thread runs
 * on (cpu | node << 12, as getcpu reports), RDPID (if the CPU has it)
 * reads the same, and PR_SET_TSC's PR_TSC_SIGSEGV makes RDTSC and
 * RDTSCP (not RDPID) raise SIGSEGV.
 */
#include <cpuid.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t rdtscp(uint32_t *aux)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(*aux));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t rdpid(void)
{
	uint64_t v;

	__asm__ volatile("rdpid %0" : "=r"(v));
	return v;
}

static const char *yesno(int c)
{
	return c ? "yes" : "no";
}

/* Run @what in a child with PR_TSC_SIGSEGV; how did the child end? */
static void tsc_faulting(const char *name, int what)
{
	int st = 0, fd;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint32_t aux;
		int mode = 0;

		/* Dune mode reports a fatal trap on stderr: not compared. */
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0))
			_exit(2);
		if (prctl(PR_GET_TSC, &mode, 0, 0, 0) || mode != PR_TSC_SIGSEGV)
			_exit(3);
		if (what == 0)
			rdtsc();
		else if (what == 1)
			rdtscp(&aux);
		else
			rdpid();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("%s with PR_TSC_SIGSEGV: killed by signal %d\n", name,
		       WTERMSIG(st));
	else
		printf("%s with PR_TSC_SIGSEGV: exit %d\n", name,
		       WEXITSTATUS(st));
}

int main(void)
{
	unsigned int a, b, c, d, cpu = 0, node = 0;
	int i, mono = 1, aux_ok = 1, has_rdtscp, has_rdpid = 0;
	uint64_t t0, t1;
	uint32_t aux;

	__cpuid(0x80000001, a, b, c, d);
	has_rdtscp = !!(d & (1u << 27));
	if (__get_cpuid_max(0, NULL) >= 7) {
		__cpuid_count(7, 0, a, b, c, d);
		has_rdpid = !!(c & (1u << 22));
	}
	printf("rdtscp: %s, rdpid: %s\n", yesno(has_rdtscp), yesno(has_rdpid));

	t0 = rdtsc();
	for (i = 0; i < 1000; i++) {
		t1 = rdtsc();
		if (t1 < t0)
			mono = 0;
		t0 = t1;
		if (i % 100 == 0)
			sched_yield();
	}
	printf("rdtsc never goes back over 1000 reads: %s\n", yesno(mono));

	if (has_rdtscp) {
		mono = 1;
		for (i = 0; i < 100; i++) {
			/* A migration between the two is possible: retry. */
			int tries = 0;

			do {
				syscall(SYS_getcpu, &cpu, &node, NULL);
				t1 = rdtscp(&aux);
				syscall(SYS_getcpu, &a, &b, NULL);
			} while ((a != cpu || b != node) && ++tries < 100);
			if ((aux & 0xfff) != cpu || (aux >> 12) != node)
				aux_ok = 0;
			if (t1 < t0)
				mono = 0;
			t0 = t1;
			sched_yield();
		}
		printf("rdtscp TSC_AUX == cpu | node << 12 from getcpu: %s\n",
		       yesno(aux_ok));
		printf("rdtscp never goes back: %s\n", yesno(mono));
		if (has_rdpid) {
			rdtscp(&aux);
			printf("rdpid == TSC_AUX: %s\n", yesno(rdpid() == aux));
		}
	}

	tsc_faulting("rdtsc", 0);
	if (has_rdtscp)
		tsc_faulting("rdtscp", 1);
	if (has_rdpid)
		tsc_faulting("rdpid", 2);
	return 0;
}
