// SPDX-License-Identifier: MIT
/*
 * Guest exceptions become the signals Linux sends (libdune's trap.c,
 * excsig.c, exchost.c), seen from a program linked with libdune:
 *
 *  - each kind of exception without a handler gives the siginfo native
 *    Linux gives (the fid-exc-* programs compare whole runs, ucontext
 *    included, with native ones; this checks siginfo by itself);
 *  - the program's own VMCALL is an invalid opcode (SIGILL at the
 *    VMCALL), not a system call, and libdune's private hypercall can be
 *    forged neither through a system call (ENOSYS) nor by calling
 *    libdune's VMCALL site;
 *  - a trap whose signal handler returns goes on in Dune mode;
 *  - dune_register_intr_handler still takes precedence over signals.
 */
#include <stdint.h>
#include <sys/syscall.h>

#include "itest.h"
#include "dune.h"
#include "../fidelity/fid-exc.h"

/*
 * libdune internals (internal.h, asmdefs.h) this test pokes at; weak so
 * that the test also builds against a libdune without them (and fails).
 */
#define DUNE_HC_EXCEPTION 0x0dce0001
void dune_exc_hypercall(void) __attribute__((weak));
extern char dune_exc_hypercall_ret[] __attribute__((weak));

static char err[8192];

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
	IT_ASSERT(dune_active());
}

/* ---- siginfo of each kind, the handler exits with the verdict ---- */

#define KERNEL_ADDR 0xffff888000001000ull

FID_CASE(x_div, "xorl %ecx, %ecx; movl $1, %eax; xorl %edx, %edx",
	 "divl %ecx");
FID_CASE(x_ud2, "", "ud2");
FID_CASE(x_int3, "", "int3");
FID_CASE(x_icebp, "", ".byte 0xf1");
FID_CASE(x_step, "pushfq; orq $0x100, (%rsp); popfq", "nop");
FID_CASE(x_in, "", "inb $0x80, %al");
FID_CASE(x_noncanon, "movabsq $0x8000000000000000, %rax",
	 "movq (%rax), %rax");
FID_CASE(x_stack, "movabsq $0x8000000000000000, %rsp", "pushq $0");
FID_CASE(x_kernel, "movabsq $0xffff888000001000, %rax", "movq (%rax), %rax");
FID_CASE(x_x87, "fninit; subq $8, %rsp; movw $0x37b, (%rsp); fldcw (%rsp); "
		"fldz; fld1; fdiv %st(1), %st", "fwait");
FID_CASE(x_sse, "subq $8, %rsp; movl $0x1d80, (%rsp); ldmxcsr (%rsp); "
		"movl $0x3f800000, %eax; movd %eax, %xmm0; xorps %xmm1, %xmm1",
	 "divss %xmm1, %xmm0");
FID_CASE(x_vmcall, "movl $39, %eax", "vmcall");
FID_CASE(x_vmcall_forged, "movl $0x0dce0001, %eax", "vmcall");
FID_CASE(x_vmxon, "subq $8, %rsp", "vmxon (%rsp)");
/* Debug registers, which only Dune mode lets a program set itself. */
FID_CASE(x_hwbp, "", "nop");
FID_CASE(x_watch, "", "movl %eax, watched(%rip)");
int watched;

enum where { AT_0, AT_INSN, AT_AFTER, AT_TARGET, AT_VMCALL_SITE };

struct siginfo_case {
	const char *name;
	void (*fn)(void);
	const char *insn, *after;
	int signo, code;
	enum where addr;
};

#define SC(n, s, c, w) { #n, (void (*)(void))n, n##_insn, n##_after, s, c, w }

static const struct siginfo_case si_cases[] = {
	SC(x_div, SIGFPE, FPE_INTDIV, AT_INSN),
	SC(x_ud2, SIGILL, ILL_ILLOPN, AT_INSN),
	SC(x_int3, SIGTRAP, SI_KERNEL, AT_0),
	SC(x_icebp, SIGTRAP, TRAP_BRKPT, AT_AFTER),
	SC(x_step, SIGTRAP, TRAP_TRACE, AT_AFTER),
	SC(x_in, SIGSEGV, SI_KERNEL, AT_0),
	SC(x_noncanon, SIGSEGV, SI_KERNEL, AT_0),
	SC(x_stack, SIGBUS, SI_KERNEL, AT_0),
	SC(x_kernel, SIGSEGV, SEGV_MAPERR, AT_TARGET),
	SC(x_x87, SIGFPE, FPE_FLTDIV, AT_INSN),
	SC(x_sse, SIGFPE, FPE_FLTDIV, AT_INSN),
	SC(x_vmcall, SIGILL, ILL_ILLOPN, AT_INSN),
	SC(x_vmcall_forged, SIGILL, ILL_ILLOPN, AT_INSN),
	SC(x_vmxon, SIGILL, ILL_ILLOPN, AT_INSN),
	/* an instruction breakpoint is a fault, a data watchpoint a trap */
	SC(x_hwbp, SIGTRAP, TRAP_HWBKPT, AT_INSN),
	SC(x_watch, SIGTRAP, TRAP_HWBKPT, AT_AFTER),
};

static const struct siginfo_case *si_cur;

#define CALL(name) ((void (*)(void))(name))()

static uintptr_t expected_addr(const struct siginfo_case *c)
{
	switch (c->addr) {
	case AT_INSN:
		return (uintptr_t)c->insn;
	case AT_AFTER:
		return (uintptr_t)c->after;
	case AT_TARGET:
		return KERNEL_ADDR;
	case AT_VMCALL_SITE:
		return (uintptr_t)dune_exc_hypercall_ret - 3;
	default:
		return 0;
	}
}

static void verdict(int sig, siginfo_t *si, void *uc)
{
	const struct siginfo_case *c = si_cur;
	uintptr_t want = expected_addr(c);

	if (sig == c->signo && si->si_code == c->code &&
	    (uintptr_t)si->si_addr == want && si->si_errno == 0)
		_exit(42);
	fprintf(stderr, "%s: signal %d code %d addr %p errno %d; expected signal %d code %d addr %#lx\n",
		c->name, sig, si->si_code, si->si_addr, si->si_errno,
		c->signo, c->code, (unsigned long)want);
	_exit(43);
}

static void catch_all(void (*h)(int, siginfo_t *, void *))
{
	static char stack[1 << 16];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) };
	struct sigaction sa;
	unsigned int i;

	IT_ASSERT_EQ(sigaltstack(&ss, NULL), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	for (i = 0; i < FID_N(fid_sigs); i++)
		IT_ASSERT_EQ(sigaction(fid_sigs[i], &sa, NULL), 0);
}

/* DR7 (SDM vol. 3 17.2.4): L0 execute on DR0, L1 4-byte write on DR1. */
#define DR7_L0			0x1ul
#define DR7_L1			0x4ul
#define DR7_DR1_WRITE_4		(0x1ul << 20 | 0x3ul << 22)

static void set_breakpoints(void)
{
	uint64_t dr0 = (uint64_t)x_hwbp_insn, dr1 = (uint64_t)&watched;
	uint64_t dr7 = DR7_L0 | DR7_L1 | DR7_DR1_WRITE_4;

	__asm__ volatile("mov %0, %%dr0\n\tmov %1, %%dr1\n\tmov %2, %%dr7"
			 : : "r"(dr0), "r"(dr1), "r"(dr7));
}

static void run_si_case(void)
{
	enter();
	catch_all(verdict);
	if (si_cur->fn == (void (*)(void))x_hwbp ||
	    si_cur->fn == (void (*)(void))x_watch)
		set_breakpoints();
	si_cur->fn();
	_exit(44);
}

static void test_siginfo(void)
{
	unsigned int i;

	for (i = 0; i < FID_N(si_cases); i++) {
		si_cur = &si_cases[i];
		EXPECT_EXIT(itest_run_capture(run_si_case, err, sizeof(err)), 42);
	}
}

/* ---- VMCALL and the private hypercall ---- */

static void own_vmcall_unhandled(void)
{
	enter();
	CALL(x_vmcall);
	_exit(44);
}

/* Calling libdune's own VMCALL site, with nothing armed. */
static void call_hypercall_site(void)
{
	static const struct siginfo_case c = {
		"dune_exc_hypercall", NULL, NULL, NULL, SIGILL, ILL_ILLOPN,
		AT_VMCALL_SITE
	};

	IT_ASSERT(dune_exc_hypercall);
	enter();
	si_cur = &c;
	catch_all(verdict);
	dune_exc_hypercall();
}

static void forged_syscall(void)
{
	long r;

	enter();
	r = syscall(DUNE_HC_EXCEPTION, 0, 0, 0);
	IT_ASSERT_EQ(r, -1);
	IT_ASSERT_EQ(errno, ENOSYS);
	IT_ASSERT(dune_active());
	_exit(42);
}

static void test_vmcall(void)
{
	/* natively a VMCALL outside VMX operation is #UD: SIGILL, silently */
	EXPECT_SIGNAL(itest_run_capture(own_vmcall_unhandled, err, sizeof(err)),
		      SIGILL);
	IT_ASSERT_EQ(err[0], 0);
	EXPECT_EXIT(itest_run_capture(call_hypercall_site, err, sizeof(err)),
		    42);
	EXPECT_EXIT(itest_run_capture(forged_syscall, err, sizeof(err)), 42);
}

/* ---- a trap's handler returns: Dune mode goes on ---- */

static volatile int traps;

static void count_trap(int sig, siginfo_t *si, void *uc)
{
	if (sig == SIGTRAP && si->si_code == SI_KERNEL)
		traps++;
}

static void test_trap_handler_returns(void)
{
	struct sigaction sa;
	int i;

	enter();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = count_trap;
	sa.sa_flags = SA_SIGINFO;
	IT_ASSERT_EQ(sigaction(SIGTRAP, &sa, NULL), 0);
	for (i = 0; i < 5; i++)
		__asm__ volatile("int3");
	IT_ASSERT_EQ(traps, 5);
	IT_ASSERT(dune_active());
}

/* ---- registered handlers come first ---- */

static volatile int handled[32];

static void skip_handler(struct dune_tf *tf)
{
	handled[tf->vector]++;
	if (tf->vector == 0)
		tf->rip = (uint64_t)x_div_resume;
	else if (tf->vector == 6)
		tf->rip = (uint64_t)x_ud2_resume;
	else if (tf->vector == 13)
		tf->rip = (uint64_t)x_in_resume;
	/* #BP: a trap, rip is past the int3 already */
}

static void no_signal(int sig, siginfo_t *si, void *uc)
{
	_exit(50 + sig);
}

static void test_intr_handler_first(void)
{
	enter();
	catch_all(no_signal);
	IT_ASSERT_EQ(dune_register_intr_handler(0, skip_handler), 0);
	IT_ASSERT_EQ(dune_register_intr_handler(3, skip_handler), 0);
	IT_ASSERT_EQ(dune_register_intr_handler(6, skip_handler), 0);
	IT_ASSERT_EQ(dune_register_intr_handler(13, skip_handler), 0);
	CALL(x_div);
	CALL(x_int3);
	CALL(x_ud2);
	CALL(x_in);
	IT_ASSERT_EQ(handled[0], 1);
	IT_ASSERT_EQ(handled[3], 1);
	IT_ASSERT_EQ(handled[6], 1);
	IT_ASSERT_EQ(handled[13], 1);
	/* removed again: the signal */
	IT_ASSERT_EQ(dune_register_intr_handler(6, NULL), 0);
	CALL(x_ud2);
	IT_FAIL("ud2 without a handler went on");
}

static void intr_handler_first(void)
{
	test_intr_handler_first();
}

static void test_intr_first(void)
{
	int st = itest_run_capture(intr_handler_first, err, sizeof(err));

	/* the last ud2 reached no_signal with SIGILL */
	EXPECT_EXIT(st, 50 + SIGILL);
}

static const struct itest tests[] = {
	{ "siginfo", test_siginfo },
	{ "vmcall", test_vmcall },
	{ "trap_handler_returns", test_trap_handler_returns },
	{ "intr_handler_first", test_intr_first },
};

ITEST_MAIN(tests)
