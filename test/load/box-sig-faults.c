// SPDX-License-Identifier: MIT
/*
 * Exceptions as signals to the program's handler, handlers that edit
 * their ucontext, bad frames and frames that try to give ring 3 more than
 * it has (itest-box-signal: native and dune-box runs must be identical).
 *   box-sig-faults CASE
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static siginfo_t si;
static uint64_t trapno, err, cr2, fault_rip;
static volatile uint64_t resume;	/* where the handler sends rip */
static volatile int got;
static void *page;

static const char *yes(int c)
{
	return c ? "yes" : "no";
}

/* Record, then continue at `resume` (skips the faulting instruction). */
static void skip(int sig, siginfo_t *s, void *ucv)
{
	ucontext_t *uc = ucv;

	got++;
	si = *s;
	trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	err = uc->uc_mcontext.gregs[REG_ERR];
	cr2 = uc->uc_mcontext.gregs[REG_CR2];
	fault_rip = uc->uc_mcontext.gregs[REG_RIP];
	uc->uc_mcontext.gregs[REG_RIP] = resume;
}

static void set(int sig, void (*h)(int, siginfo_t *, void *))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void report(const char *what, uint64_t at)
{
	printf("%s: got %d signo %d code %d trapno %llu rip==insn %s\n", what,
	       got, si.si_signo, si.si_code, (unsigned long long)trapno,
	       yes(fault_rip == at));
}

static void t_segv(void)
{
	uint64_t insn;
	int v = 0;

	set(SIGSEGV, skip);
	__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
			 "mov %%rcx, %[res]\n\t"
			 "lea 2f(%%rip), %%rcx\n\t"
			 "mov %%rcx, %[insn]\n\t"
			 "2: movl (%[p]), %[v]\n\t"
			 "1:"
			 : [v] "+r"(v), [res] "=m"(resume), [insn] "=m"(insn)
			 : [p] "r"(16L)
			 : "rcx", "memory");
	report("read of 16", insn);
	printf("si_addr==16 %s cr2==16 %s err %#llx\n",
	       yes(si.si_addr == (void *)16), yes(cr2 == 16),
	       (unsigned long long)err);
}

static void t_accerr(void)
{
	uint64_t insn;

	page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)*(volatile int *)page;	/* present: a protection fault */
	set(SIGSEGV, skip);
	__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
			 "mov %%rcx, %[res]\n\t"
			 "lea 2f(%%rip), %%rcx\n\t"
			 "mov %%rcx, %[insn]\n\t"
			 "2: movl $1, (%[p])\n\t"
			 "1:"
			 : [res] "=m"(resume), [insn] "=m"(insn)
			 : [p] "r"(page)
			 : "rcx", "memory");
	report("write to a read-only page", insn);
	printf("si_addr==page %s cr2==page %s err %#llx\n",
	       yes(si.si_addr == page), yes(cr2 == (uint64_t)page),
	       (unsigned long long)err);
}

static void t_ud2(void)
{
	uint64_t insn;

	set(SIGILL, skip);
	__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
			 "mov %%rcx, %[res]\n\t"
			 "lea 2f(%%rip), %%rcx\n\t"
			 "mov %%rcx, %[insn]\n\t"
			 "2: ud2\n\t"
			 "1:"
			 : [res] "=m"(resume), [insn] "=m"(insn) : : "rcx", "memory");
	report("ud2", insn);
	printf("si_addr==insn %s\n", yes(si.si_addr == (void *)insn));
}

static void t_div(void)
{
	uint64_t insn;
	long a = 7, b = 0;

	set(SIGFPE, skip);
	__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
			 "mov %%rcx, %[res]\n\t"
			 "lea 2f(%%rip), %%rcx\n\t"
			 "mov %%rcx, %[insn]\n\t"
			 "cqo\n\t"
			 "2: idivq %[b]\n\t"
			 "1:"
			 : "+a"(a), [res] "=m"(resume), [insn] "=m"(insn)
			 : [b] "r"(b) : "rcx", "rdx", "memory");
	report("divide by zero", insn);
	printf("si_addr==insn %s\n", yes(si.si_addr == (void *)insn));
}

static void t_int3(void)
{
	uint64_t after;

	set(SIGTRAP, skip);
	__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
			 "mov %%rcx, %[res]\n\t"
			 "int3\n\t"
			 "1:"
			 : [res] "=m"(resume) : : "rcx", "memory");
	after = resume;
	report("int3", after);
	printf("(rip is past the int3)\n");
}

/* A handler that returns unchanged: the instruction runs again. */
static void fix(int sig, siginfo_t *s, void *ucv)
{
	got++;
	mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

static void t_rerun(void)
{
	page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	set(SIGSEGV, fix);
	*(volatile int *)page = 5;
	printf("re-run: got %d value %d\n", got, *(volatile int *)page);
}

static void t_blocked(void)
{
	sigset_t s;

	set(SIGSEGV, skip);
	sigemptyset(&s);
	sigaddset(&s, SIGSEGV);
	sigprocmask(SIG_BLOCK, &s, NULL);
	printf("blocked SIGSEGV, then a fault\n");
	__asm__ volatile("movl $1, (%0)" : : "r"(16L) : "memory");
	printf("not reached\n");
}

/* ---- frames rt_sigreturn must refuse or sanitise ---- */

static int mode;
static uint64_t target;
static sigjmp_buf jb;

static void editor(int sig, siginfo_t *s, void *ucv)
{
	ucontext_t *uc = ucv;

	switch (mode) {
	case 1:	/* a bad FPU state pointer */
		uc->uc_mcontext.fpregs = (void *)16;
		break;
	case 2:	/* the kernel's code segment */
		uc->uc_mcontext.gregs[REG_CSGSFS] =
			(uc->uc_mcontext.gregs[REG_CSGSFS] & ~0xffffull) | 0x10;
		break;
	case 3:	/* IOPL 3, interrupts off */
		uc->uc_mcontext.gregs[REG_EFL] |= 0x3000;
		uc->uc_mcontext.gregs[REG_EFL] &= ~0x200ull;
		break;
	case 4:	/* rip somewhere the program does not own */
		uc->uc_mcontext.gregs[REG_RIP] = target;
		break;
	case 5:	/* rsp likewise */
		uc->uc_mcontext.gregs[REG_RSP] = target;
		break;
	}
}

static void segv_report(int sig, siginfo_t *s, void *ucv)
{
	printf("SIGSEGV code %d si_addr==target %s\n", s->si_code,
	       yes((uint64_t)s->si_addr == target));
	siglongjmp(jb, 1);
}

/*
 * Not the program's: under dune-box the monitor's own code (from the maps
 * of the process), natively a page that was unmapped.
 */
static uint64_t foreign_address(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	uint64_t lo = 0, hi;
	void *p;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "dune-box") && strstr(line, " r-xp ") &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
		else
			lo = 0;
	if (f)
		fclose(f);
	if (lo)
		return lo + 64;
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, 4096);
	return (uint64_t)p + 64;
}

static void t_frame(int m)
{
	uint64_t fl;

	mode = m;
	set(SIGUSR1, editor);
	if (m == 3 || m == 4) {
		set(SIGSEGV, segv_report);
		if (sigsetjmp(jb, 1)) {
			printf("back in the program: the monitor is intact\n");
			return;
		}
	}
	target = foreign_address();
	printf("raising\n");
	raise(SIGUSR1);
	__asm__ volatile("pushf\n\tpop %0" : "=r"(fl));
	printf("back: iopl %llu if %llu\n", (unsigned long long)(fl >> 12) & 3,
	       (unsigned long long)(fl >> 9) & 1);
	if (m == 3) {
		__asm__ volatile("cli");
		printf("cli worked\n");
	}
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(c, "segv"))
		t_segv();
	else if (!strcmp(c, "accerr"))
		t_accerr();
	else if (!strcmp(c, "ud2"))
		t_ud2();
	else if (!strcmp(c, "div"))
		t_div();
	else if (!strcmp(c, "int3"))
		t_int3();
	else if (!strcmp(c, "rerun"))
		t_rerun();
	else if (!strcmp(c, "blocked"))
		t_blocked();
	else if (!strcmp(c, "badfpu"))
		t_frame(1);
	else if (!strcmp(c, "cs"))
		t_frame(2);
	else if (!strcmp(c, "iopl"))
		t_frame(3);
	else if (!strcmp(c, "rip"))
		t_frame(4);
	else if (!strcmp(c, "rsp"))
		t_frame(5);
	else {
		fprintf(stderr, "unknown case '%s'\n", c);
		return 2;
	}
	return 0;
}
