// SPDX-License-Identifier: MIT
/*
 * The legacy vsyscall page, per the host's vsyscall= setting (the
 * [vsyscall] line of /proc/self/maps, absent with vsyscall=none): calls
 * to its three entry points (gettimeofday, time, getcpu) are emulated
 * by the kernel with xonly, reads and writes give SIGSEGV, and so do a
 * call elsewhere in the page, a bad stack or a bad pointer argument.
 * Each case runs in its own child, once with a SIGSEGV handler (printed
 * siginfo) and the unhandled ones once more without (wait status).
 */
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VSYS_GTOD 0xffffffffff600000ul
#define VSYS_TIME 0xffffffffff600400ul
#define VSYS_GETCPU 0xffffffffff600800ul

typedef long (*gtod_fn)(struct timeval *, struct timezone *);
typedef long (*time_fn)(time_t *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static const char *vsyscall_mode(void)
{
	char line[512];
	const char *mode = "none";
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[vsyscall]"))
			continue;
		/* "ffffffffff600000-ffffffffff601000 --xp ..." */
		mode = strstr(line, " r-xp ") ? "emulate" : "xonly";
	}
	if (f)
		fclose(f);
	return mode;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	char buf[160];
	int n;

	n = snprintf(buf, sizeof(buf), "  SIGSEGV: si_code %d, si_addr %#lx\n",
		     si->si_code, (unsigned long)si->si_addr);
	write(1, buf, n);
	_exit(1);
}

static void c_gettimeofday(void)
{
	struct timeval tv = { 0 };
	struct timezone tz;
	long r = ((gtod_fn)VSYS_GTOD)(&tv, &tz);

	printf("  ret %ld, tv near time(): %s\n", r,
	       labs(tv.tv_sec - time(NULL)) <= 5 ? "yes" : "no");
}

static void c_time(void)
{
	time_t t = 0;
	long r = ((time_fn)VSYS_TIME)(&t);

	printf("  ret == *t: %s, near time(): %s\n", r == t ? "yes" : "no",
	       labs(r - time(NULL)) <= 5 ? "yes" : "no");
	r = ((time_fn)VSYS_TIME)(NULL);
	printf("  time(NULL) near time(): %s\n",
	       labs(r - time(NULL)) <= 5 ? "yes" : "no");
}

static void c_getcpu(void)
{
	unsigned cpu = 999, node = 999, c2 = 0, n2 = 0;
	long r = ((getcpu_fn)VSYS_GETCPU)(&cpu, &node, NULL);

	syscall(SYS_getcpu, &c2, &n2, NULL);
	printf("  ret %ld, cpu as getcpu(2): %s, node as getcpu(2): %s\n", r,
	       cpu == c2 ? "yes" : "no", node == n2 ? "yes" : "no");
}

static void c_read(void)
{
	printf("  read %d\n", *(volatile unsigned char *)VSYS_GTOD);
}

static void c_write(void)
{
	*(volatile unsigned char *)VSYS_GTOD = 0;
	printf("  written\n");
}

static void c_misaligned(void)
{
	struct timeval tv;

	printf("  ret %ld\n", ((gtod_fn)(VSYS_GTOD + 4))(&tv, NULL));
}

static void c_bad_user_ptr(void)
{
	printf("  ret %ld\n", ((gtod_fn)VSYS_GTOD)((struct timeval *)16, NULL));
}

static void c_kernel_ptr(void)
{
	printf("  ret %ld\n",
	       ((time_fn)VSYS_TIME)((time_t *)0xffff888000000000ul));
}

/* A jump (not a call) with a stack pointer that points nowhere. */
static void c_bad_stack(void)
{
	__asm__ volatile("movq $16, %%rsp\n\t"
			 "jmp *%0"
			 :
			 : "r"(VSYS_TIME), "D"(0L)
			 : "memory");
}

static void run(const char *name, void (*fn)(void), bool handled)
{
	pid_t pid;
	int st;

	printf("%s%s:\n", name, handled ? "" : " (no handler)");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (handled) {
			struct sigaction sa = { .sa_sigaction = on_segv,
						.sa_flags = SA_SIGINFO };
			sigaction(SIGSEGV, &sa, NULL);
		}
		fn();
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("  killed by signal %d\n", WTERMSIG(st));
	else
		printf("  exit %d\n", WEXITSTATUS(st));
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "gettimeofday", c_gettimeofday },
		{ "time", c_time },
		{ "getcpu", c_getcpu },
		{ "read", c_read },
		{ "write", c_write },
		{ "call inside the page", c_misaligned },
		{ "bad user pointer", c_bad_user_ptr },
		{ "kernel pointer", c_kernel_ptr },
	};
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("vsyscall=%s\n", vsyscall_mode());
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run(cases[i].name, cases[i].fn, true);
	run("read", c_read, false);
	run("call inside the page", c_misaligned, false);
	/* unhandled only: no handler frame fits on such a stack */
	run("bad stack", c_bad_stack, false);
	return 0;
}
