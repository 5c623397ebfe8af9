// SPDX-License-Identifier: MIT
/*
 * SIGSEGV handlers and the context they see and edit: siglongjmp out of
 * a handler (twice), a handler that moves RIP past the faulting
 * instruction and sets RAX, one that edits XMM0 in the frame's fpstate,
 * FPU state at handler entry and preserved across a handler that
 * clobbers it, the trap values in the frame, and a signal whose frame
 * cannot be written (bad stack): death by SIGSEGV.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

/* long fault_read(void *p): reads *p; a handler may skip the read. */
long fault_read(void *p);
extern char fault_at[], fault_after[];
/* uint64_t fault_xmm(void *p, uint64_t x): xmm0 = x, read *p, ret xmm0 */
uint64_t fault_xmm(void *p, uint64_t x);
extern char fault_xmm_at[], fault_xmm_after[];
/* uint64_t keep_xmm(uint64_t x, long pid): xmm1 = x, kill(pid, SIGUSR1) */
uint64_t keep_xmm(uint64_t x, long pid);
/* void bad_stack_kill(long pid): rsp = a bad address, kill(pid, SIGUSR1) */
void bad_stack_kill(long pid);

__asm__(".text\n"
	".globl fault_read, fault_at, fault_after\n"
	"fault_read:\n"
	"	movl $1, %eax\n"
	"fault_at:\n"
	"	movq (%rdi), %rax\n"
	"fault_after:\n"
	"	ret\n"
	".globl fault_xmm, fault_xmm_at, fault_xmm_after\n"
	"fault_xmm:\n"
	"	movq %rsi, %xmm0\n"
	"fault_xmm_at:\n"
	"	movq (%rdi), %rax\n"
	"fault_xmm_after:\n"
	"	movq %xmm0, %rax\n"
	"	ret\n"
	".globl keep_xmm\n"
	"keep_xmm:\n"
	"	movq %rdi, %xmm1\n"
	"	movq %rsi, %rdi\n"
	"	movl $10, %esi\n"		/* SIGUSR1 */
	"	movl $62, %eax\n"		/* __NR_kill */
	"	syscall\n"
	"	movq %xmm1, %rax\n"
	"	ret\n"
	".globl bad_stack_kill\n"
	"bad_stack_kill:\n"
	"	movq $0x10, %rsp\n"
	"	movl $10, %esi\n"
	"	movl $62, %eax\n"
	"	syscall\n"
	"	ud2\n");

static sigjmp_buf jb;
static volatile int mode;
static volatile uint64_t seen_xmm1, seen_mxcsr, seen_trapno, seen_err;
static volatile int seen_cr2_ok, seen_rip_ok, seen_code, seen_addr_ok;
static volatile int seen_cs, seen_ss, seen_ucflags, seen_xmm0_ok;
/* A PROT_NONE page: Linux refuses the access (SEGV_ACCERR). */
static void *bad_ptr;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;

	seen_code = si->si_code;
	seen_addr_ok = si->si_addr == bad_ptr;
	seen_trapno = g[REG_TRAPNO];
	seen_err = g[REG_ERR];
	seen_cr2_ok = (void *)g[REG_CR2] == bad_ptr;
	seen_cs = g[REG_CSGSFS] & 0xffff;
	seen_ss = (g[REG_CSGSFS] >> 48) & 0xffff;
	seen_ucflags = uc->uc_flags;
	if (mode == 0)
		siglongjmp(jb, 1);
	if (mode == 1) {
		seen_rip_ok = (char *)g[REG_RIP] == fault_at;
		g[REG_RIP] = (greg_t)fault_after;
		g[REG_RAX] = 77;
		return;
	}
	if (mode == 2) {
		uint64_t x;

		seen_rip_ok = (char *)g[REG_RIP] == fault_xmm_at;
		memcpy(&x, &uc->uc_mcontext.fpregs->_xmm[0], sizeof(x));
		seen_xmm0_ok = x == 0x1122334455667788ull;
		x = 0x0badc0ffee;
		memcpy(&uc->uc_mcontext.fpregs->_xmm[0], &x, sizeof(x));
		g[REG_RIP] = (greg_t)fault_xmm_after;
	}
}

static void on_usr1(int sig)
{
	uint64_t x;
	uint32_t m;

	__asm__ volatile("movq %%xmm1, %0" : "=r"(x));
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	seen_xmm1 = x;
	seen_mxcsr = m;
	x = 0xdeadbeef;
	__asm__ volatile("movq %0, %%xmm1" : : "r"(x) : "xmm1");
	m = 0x1f80 | 0x6000;	/* round toward zero */
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
}

int main(void)
{
	struct sigaction sa;
	volatile int i;
	int st = 0;
	uint32_t mx;
	pid_t pid;
	long r;

	setvbuf(stdout, NULL, _IONBF, 0);
	bad_ptr = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);

	for (i = 0; i < 2; i++) {
		mode = 0;
		if (sigsetjmp(jb, 1) == 0) {
			r = fault_read(bad_ptr);
			printf("no fault? %ld\n", r);
		} else {
			printf("longjmp %d: code %d addr_ok %d trapno %lu err %lu cr2_ok %d cs %#x ss %#x uc_flags %#x\n",
			       i, seen_code, seen_addr_ok,
			       (unsigned long)seen_trapno,
			       (unsigned long)seen_err, seen_cr2_ok, seen_cs,
			       seen_ss, seen_ucflags);
		}
	}
	mode = 1;
	r = fault_read(bad_ptr);
	printf("skip: rip at insn %d, result %ld\n", seen_rip_ok, r);
	mode = 2;
	r = (long)fault_xmm(bad_ptr, 0x1122334455667788ull);
	printf("xmm edit: rip at insn %d, xmm0 in frame %d, result %#lx\n",
	       seen_rip_ok, seen_xmm0_ok, r);

	sa.sa_handler = on_usr1;
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	r = (long)keep_xmm(0x5566778899ull, getpid());
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	printf("handler entry: xmm1 %#lx mxcsr %#lx; after: xmm1 %#lx mxcsr %#x\n",
	       (unsigned long)seen_xmm1, (unsigned long)seen_mxcsr, r, mx);

	/* A frame that cannot be written: SIGSEGV, even with a handler. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 0, 0 };

		setrlimit(RLIMIT_CORE, &rl);
		bad_stack_kill(getpid());
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("bad stack child: signaled %d sig %d\n", WIFSIGNALED(st),
	       WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	return 0;
}
