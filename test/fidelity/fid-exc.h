/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fid-exc-* programs: one exception per case, each case an
 * assembly function with labels around the instruction that raises it,
 * run in its own child (so a case that kills or hangs shows as that
 * case's wait status).  The handler prints what Linux put in siginfo and
 * the ucontext, as relations to the labels (never raw addresses), then
 * resumes at the case's end by editing RIP and returns.
 *
 * A case is written with FID_CASE(name, setup, insn): setup runs first,
 * then insn at label name_insn, followed by name_after (where a trap
 * leaves RIP) and name_resume (where the handler sends it).  Cases may
 * use rax, rcx, rdx, rsi, rdi, r8-r10 and the vector registers; r11 holds
 * the stack pointer from the case's entry so that name_resume can put it
 * back whatever the case did to rsp.
 */
#ifndef FID_EXC_H
#define FID_EXC_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define FID_STR(x) #x
#define FID_N(a) (sizeof(a) / sizeof((a)[0]))

#define FID_CASE(name, setup, insn)                                     \
	__asm__(".text\n\t.p2align 4\n"                                 \
		FID_STR(name) ":\n\t"                                   \
		"movq %rsp, %r11\n\t"                                   \
		setup "\n"                                              \
		FID_STR(name) "_insn:\n\t"                              \
		insn "\n"                                               \
		FID_STR(name) "_after:\n\t"                             \
		"nop\n"                                                 \
		FID_STR(name) "_resume:\n\t"                            \
		"movq %r11, %rsp\n\t"                                   \
		"ret\n");                                               \
	extern char name[], name##_insn[], name##_after[], name##_resume[]

struct fid_case {
	const char *name;
	void (*fn)(void);
	const char *insn, *after, *resume;
	uintptr_t target;	/* an address the case accesses, or 0 */
};

#define FID_ENTRY_T(name, target) \
	{ #name, (void (*)(void))name, name##_insn, name##_after, \
	  name##_resume, target }
#define FID_ENTRY(name) FID_ENTRY_T(name, 0)

static const struct fid_case *fid_cur;
static const int fid_sigs[] = { SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV };

static const char *fid_sig_name(int sig)
{
	switch (sig) {
	case SIGILL:	return "SIGILL";
	case SIGTRAP:	return "SIGTRAP";
	case SIGBUS:	return "SIGBUS";
	case SIGFPE:	return "SIGFPE";
	case SIGSEGV:	return "SIGSEGV";
	default:	return "other";
	}
}

static const char *fid_code_name(int sig, int code)
{
	if (code == SI_KERNEL)
		return "SI_KERNEL";
	if (code == SI_USER)
		return "SI_USER";
	if (code == SI_TKILL)
		return "SI_TKILL";
	switch (sig) {
	case SIGILL:
		return code == ILL_ILLOPN ? "ILL_ILLOPN" :
		       code == ILL_ILLOPC ? "ILL_ILLOPC" :
		       code == ILL_PRVOPC ? "ILL_PRVOPC" : "ILL_other";
	case SIGTRAP:
		return code == TRAP_BRKPT ? "TRAP_BRKPT" :
		       code == TRAP_TRACE ? "TRAP_TRACE" :
		       code == TRAP_HWBKPT ? "TRAP_HWBKPT" : "TRAP_other";
	case SIGBUS:
		return code == BUS_ADRALN ? "BUS_ADRALN" :
		       code == BUS_ADRERR ? "BUS_ADRERR" : "BUS_other";
	case SIGFPE:
		return code == FPE_INTDIV ? "FPE_INTDIV" :
		       code == FPE_INTOVF ? "FPE_INTOVF" :
		       code == FPE_FLTDIV ? "FPE_FLTDIV" :
		       code == FPE_FLTOVF ? "FPE_FLTOVF" :
		       code == FPE_FLTUND ? "FPE_FLTUND" :
		       code == FPE_FLTRES ? "FPE_FLTRES" :
		       code == FPE_FLTINV ? "FPE_FLTINV" : "FPE_other";
	case SIGSEGV:
		return code == SEGV_MAPERR ? "SEGV_MAPERR" :
		       code == SEGV_ACCERR ? "SEGV_ACCERR" : "SEGV_other";
	}
	return "other";
}

/* An address as a relation to the case's labels (or to @extra). */
static const char *fid_where(uintptr_t a, uintptr_t extra)
{
	const struct fid_case *c = fid_cur;

	if (a == 0)
		return "0";
	if (a == (uintptr_t)c->insn)
		return "insn";
	if (a == (uintptr_t)c->after)
		return "after";
	if (extra && a == extra)
		return "target";
	if (a > (uintptr_t)c->insn && a < (uintptr_t)c->after)
		return "inside insn";
	return "elsewhere";
}

/* The case's target: si_addr and cr2 are compared with it. */
static uintptr_t fid_target;

static void fid_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;

	printf("  %s %s addr=%s errno=%d trapno=%lld err=%#llx rip=%s",
	       fid_sig_name(sig), fid_code_name(sig, si->si_code),
	       fid_where((uintptr_t)si->si_addr, fid_target), si->si_errno,
	       (long long)g[REG_TRAPNO], (long long)g[REG_ERR],
	       fid_where(g[REG_RIP], fid_target));
	if (fid_target)
		printf(" cr2=%s", fid_where(g[REG_CR2], fid_target));
	if (g[REG_EFL] & 0x100)
		printf(" TF");
	if (uc->uc_mcontext.fpregs && sig == SIGFPE)
		printf(" fsw=%#x mxcsr=%#x",
		       uc->uc_mcontext.fpregs->swd & 0x3f,
		       uc->uc_mcontext.fpregs->mxcsr & 0x3f);
	printf("\n");
	fflush(stdout);
	g[REG_RIP] = (greg_t)fid_cur->resume;
	g[REG_EFL] &= ~0x100l;	/* a single-step case: stop stepping */
}

/* The handler runs on an alternate stack: some cases break rsp. */
static void fid_catch(void)
{
	static char stack[1 << 16];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) };
	struct sigaction sa;
	unsigned int i;

	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fid_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	for (i = 0; i < FID_N(fid_sigs); i++)
		sigaction(fid_sigs[i], &sa, NULL);
}

/* An FPU case leaves its exception pending or unmasked: clear that. */
static void fid_fpu_reset(void)
{
	unsigned int mxcsr = 0x1f80;	/* the default: all masked */

	__asm__ volatile("fninit\n\tldmxcsr %0" : : "m"(mxcsr));
}

static void fid_print_status(int st)
{
	if (WIFEXITED(st))
		printf("  exit %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("  killed by %s%s\n", fid_sig_name(WTERMSIG(st)),
		       WCOREDUMP(st) ? " (core dumped)" : "");
	else
		printf("  status %#x\n", st);
}

/* Each case in a child with the handler installed; then its status. */
static __attribute__((unused)) void fid_run_handled(const struct fid_case *cases, unsigned int n)
{
	unsigned int i;
	pid_t pid;
	int st;

	for (i = 0; i < n; i++) {
		printf("%s\n", cases[i].name);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			fid_cur = &cases[i];
			fid_target = cases[i].target;
			fid_catch();
			cases[i].fn();
			fid_fpu_reset();
			printf("  resumed\n");
			fflush(stdout);
			_exit(0);
		}
		waitpid(pid, &st, 0);
		fid_print_status(st);
	}
}

/* fid_run_unhandled modes */
#define FID_CORE	1	/* RLIMIT_CORE as large as allowed */
#define FID_BLOCK	2	/* the signals blocked */
#define FID_IGNORE	4	/* the signals ignored */

/*
 * Each case in a child without a handler: the wait status says how it
 * died (a blocked or ignored signal raised by an instruction still
 * kills).  RLIMIT_CORE 0 (no core-dump bit) unless FID_CORE: then as
 * large as allowed, in a fresh directory under /tmp where the core, if
 * any, is written and removed.
 */
static __attribute__((unused)) void fid_run_unhandled(const struct fid_case *cases, unsigned int n,
			      int mode)
{
	char dir[] = "/tmp/fid-exc-XXXXXX";
	unsigned int i, j;
	pid_t pid;
	int st;

	if ((mode & FID_CORE) && !mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		printf("%s unhandled%s%s%s\n", cases[i].name,
		       mode & FID_CORE ? ", core allowed" : "",
		       mode & FID_BLOCK ? ", blocked" : "",
		       mode & FID_IGNORE ? ", ignored" : "");
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			struct rlimit rl;
			sigset_t set;

			/* as root (the test machine): any size */
			rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
			if (!(mode & FID_CORE) || setrlimit(RLIMIT_CORE, &rl)) {
				getrlimit(RLIMIT_CORE, &rl);
				rl.rlim_cur = mode & FID_CORE ? rl.rlim_max : 0;
				setrlimit(RLIMIT_CORE, &rl);
			}
			if ((mode & FID_CORE) && chdir(dir))
				_exit(2);
			sigemptyset(&set);
			for (j = 0; j < FID_N(fid_sigs); j++) {
				sigaddset(&set, fid_sigs[j]);
				if (mode & FID_IGNORE)
					signal(fid_sigs[j], SIG_IGN);
			}
			if (mode & FID_BLOCK)
				sigprocmask(SIG_BLOCK, &set, NULL);
			fid_cur = &cases[i];
			cases[i].fn();
			fid_fpu_reset();
			printf("  resumed\n");
			fflush(stdout);
			_exit(0);
		}
		waitpid(pid, &st, 0);
		fid_print_status(st);
	}
	if (mode & FID_CORE) {
		DIR *d = opendir(dir);
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		if (d)
			closedir(d);
		rmdir(dir);
	}
}


#endif
