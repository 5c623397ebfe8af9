// SPDX-License-Identifier: MIT
/*
 * Integration tests for ring 3 and guest traps: dune_jump_to_user and
 * dune_ret_from_user, ring-3 system calls (filtered, emulated, passed
 * through), privileged instructions and supervisor pages from ring 3,
 * nested faults and #DF reports, and dune_pop_trap_frame.  Signals
 * handled inside the guest are in itest-dune-signal; the ring-3 code both
 * use is in user-guest.h.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "user-guest.h"

/* End the ring-3 run: jump_to_user returns 1000 + vector. */
static void record_and_return(struct dune_tf *tf)
{
	record(tf);
	dune_ret_from_user(1000 + tf->vector);
}

static void pgflt_and_return(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	seen.addr = addr;
	seen.fec = fec;
	record_and_return(tf);
}

static void catch_all(void)
{
	static const int vecs[] = { 0, 3, 6, 13 };
	unsigned int i;

	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		IT_ASSERT_EQ(dune_register_intr_handler(vecs[i],
							record_and_return), 0);
	dune_register_pgflt_handler(pgflt_and_return);
}

/* ---- ring-3 runs and their system calls ---- */

static void test_jump_and_return(void)
{
	struct dune_tf tf;
	int i;

	user_tf(&tf, u_sys);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EPERM);	/* not in Dune mode */
	enter_user();
	dune_register_syscall_handler(sys_handler);
	for (i = 0; i < 3; i++) {
		user_tf(&tf, u_sys);
		tf.rax = NR_RET;
		tf.rdi = 42 + i;
		/* callee-saved registers and the FPU control come back */
		IT_ASSERT_EQ(dune_jump_to_user(&tf), 42 + i);
		IT_ASSERT(dune_active());
		IT_ASSERT_EQ(seen.rip, (uint64_t)u_sys_after);
		IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);
		/* IF on, IOPL 0 at ring 3 */
		IT_ASSERT_EQ(seen.rflags & 0x3200, 0x200);
	}
	/* A ring-3 rflags asking for IOPL 3 and IF off gets neither. */
	user_tf(&tf, u_sys);
	tf.rax = NR_RET;
	tf.rdi = 7;
	tf.rflags = 0x3002;
	tf.cs = DUNE_SEL_KCODE;	/* ignored: always ring 3 */
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 7);
	IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);
	IT_ASSERT_EQ(seen.rflags & 0x3200, 0x200);
	/* TLS works after a run that loaded FS and GS */
	user_tf(&tf, u_segs);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 5);
	errno = 1234;
	IT_ASSERT_EQ(errno, 1234);
	IT_ASSERT(dune_self != NULL);
	/* non-canonical rip or rsp: refused, not a #GP at ring 0 */
	user_tf(&tf, u_sys);
	tf.rip = 0x0000800000000000ull;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EINVAL);
	user_tf(&tf, u_sys);
	tf.rsp = 0xff00000000001000ull;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EINVAL);
	/* from a handler of the run: refused */
	sys_mode = SYS_NESTED;
	user_tf(&tf, u_sys);
	tf.rax = SYS_getpid;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EBUSY);
}

static void test_syscall_filter(void)
{
	static const char msg[] = "from ring 3";
	struct dune_tf tf;
	char buf[64];
	int p[2];

	enter_user();
	catch_all();
	/* no handler: -ENOSYS (result handed back by int3) */
	user_tf(&tf, u_sys_bp);
	tf.rax = SYS_getpid;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1003);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_sys_bp + 3);	/* past int3 */

	dune_register_syscall_handler(sys_handler);
	IT_ASSERT_EQ(pipe(p), 0);
	sys_mode = SYS_DENY_WRITE;
	user_tf(&tf, u_sys);
	tf.rax = SYS_write;
	tf.rdi = p[1];
	tf.rsi = (uint64_t)msg;
	tf.rdx = sizeof(msg);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EPERM);

	sys_mode = SYS_EMULATE_GETPID;
	user_tf(&tf, u_sys);
	tf.rax = SYS_getpid;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 4242);

	sys_mode = SYS_PASS;
	user_tf(&tf, u_sys);
	tf.rax = SYS_write;
	tf.rdi = p[1];
	tf.rsi = (uint64_t)msg;
	tf.rdx = sizeof(msg);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), sizeof(msg));
	IT_ASSERT_EQ(read(p[0], buf, sizeof(buf)), sizeof(msg));
	IT_ASSERT(!memcmp(buf, msg, sizeof(msg)));
	user_tf(&tf, u_sys);
	tf.rax = SYS_getppid;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), getppid());
	IT_ASSERT(dune_active());
}

/* ---- privileged instructions ---- */

/*
 * VM exits between two dune_get_stats calls around one ring-3 run, other
 * than the second call's own VMCALL, host interrupts, first touches of
 * pages (EPT) and WRMSR (should the module intercept LSTAR writes).
 */
static unsigned long long exits_other(const struct dune_stats *a,
				      const struct dune_stats *b)
{
	static const int ok[] = { 1 /* interrupt */, 48 /* EPT */,
				  32 /* WRMSR */ };
	unsigned long long n = b->exits - a->exits;
	unsigned int i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		n -= b->by_reason[ok[i]] - a->by_reason[ok[i]];
	return n - 1;
}

static void test_privileged(void)
{
	static const struct {
		const char *name;
		char *rip;
		int vector;
		uint64_t err;
	} cases[] = {
		{ "cli", u_cli, 13, 0 },
		{ "sti", u_sti, 13, 0 },
		{ "hlt", u_hlt, 13, 0 },
		{ "mov to cr3", u_mov_cr3, 13, 0 },
		{ "mov from cr0", u_mov_cr0, 13, 0 },
		{ "lidt", u_lidt, 13, 0 },
		{ "lgdt", u_lgdt, 13, 0 },
		{ "wrmsr", u_wrmsr, 13, 0 },
		{ "rdmsr", u_rdmsr, 13, 0 },
		{ "in", u_in, 13, 0 },
		{ "out", u_out, 13, 0 },
		{ "invlpg", u_invlpg, 13, 0 },
		{ "swapgs", u_swapgs, 13, 0 },
		{ "sysretq", u_sysret, 13, 0 },
		/* a DPL 0 gate: the error code names the IDT entry */
		{ "int $VEC", u_int_stub, 13, DUNE_VEC_USER_SYSCALL * 8 + 2 },
		/* iretq to CPL 0: #GP with the code selector */
		{ "iretq to ring 0", u_iret, 13, DUNE_SEL_KCODE },
		{ "vmcall", u_vmcall, 6, 0 },
	};
	struct dune_stats s0, s1;
	struct dune_tf tf;
	unsigned int i;
	int r;

	enter_user();
	catch_all();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		user_tf(&tf, cases[i].rip == u_iret ? u_iret_prep : cases[i].rip);
		tf.rcx = 0x10;	/* an MSR index for rdmsr/wrmsr */
		memset(&seen, 0, sizeof(seen));
		IT_ASSERT_EQ(dune_get_stats(&s0), 0);
		r = dune_jump_to_user(&tf);
		IT_ASSERT_EQ(dune_get_stats(&s1), 0);
		if (r != 1000 + cases[i].vector || seen.rip !=
		    (uint64_t)cases[i].rip || seen.cs != DUNE_USER_CS ||
		    seen.err != cases[i].err)
			IT_FAIL("%s at ring 3: returned %d, vector %lu rip %#lx (expected %#lx) cs %#lx error code %#lx (expected %#lx)",
				cases[i].name, r, seen.vector, seen.rip,
				(uint64_t)cases[i].rip, seen.cs, seen.err,
				cases[i].err);
		/* VMCALL exits in any case; the module makes it a #UD */
		if (exits_other(&s0, &s1) != (cases[i].rip == u_vmcall))
			IT_FAIL("%s at ring 3: %llu VM exits",
				cases[i].name, exits_other(&s0, &s1));
	}
	/* the host and Dune mode went on */
	IT_ASSERT(dune_active());
	IT_ASSERT_EQ(getpid(), syscall(SYS_getpid));
}

/* ---- supervisor pages from ring 3 ---- */

static volatile uint64_t supervisor_data = 0x5eed;

static void test_supervisor_pages(void)
{
	struct dune_tf tf;
	char *code;

	enter_user();
	catch_all();
	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	IT_ASSERT(code != MAP_FAILED);
	memset(code, 0xc3, 4096);

	user_tf(&tf, u_read);
	tf.rdi = (uint64_t)&supervisor_data;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1014);
	IT_ASSERT_EQ(seen.addr, (uint64_t)&supervisor_data);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_read);
	IT_ASSERT_EQ(seen.fec & (FEC_U | FEC_W | FEC_P), FEC_U | FEC_P);

	user_tf(&tf, u_write);
	tf.rdi = (uint64_t)&supervisor_data;
	tf.rax = 1;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1014);
	IT_ASSERT_EQ(seen.addr, (uint64_t)&supervisor_data);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_write);
	IT_ASSERT_EQ(seen.fec & (FEC_U | FEC_W | FEC_P), FEC_U | FEC_W | FEC_P);
	IT_ASSERT_EQ(supervisor_data, 0x5eed);

	user_tf(&tf, u_exec);
	tf.rdi = (uint64_t)code + 16;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1014);
	IT_ASSERT_EQ(seen.addr, (uint64_t)code + 16);
	IT_ASSERT_EQ(seen.rip, (uint64_t)code + 16);
	IT_ASSERT_EQ(seen.fec & (FEC_U | FEC_W | FEC_P), FEC_U | FEC_P);
	IT_ASSERT(dune_active());
}

/* ---- breakpoints and divide errors from ring 3 ---- */

static void test_breakpoint_divide(void)
{
	struct dune_tf tf;

	enter_user();
	catch_all();
	user_tf(&tf, u_int3);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1003);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_int3_after);	/* a trap */
	IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);

	user_tf(&tf, u_div);
	tf.rax = 10;
	tf.rcx = 0;
	tf.rdx = 0;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1000);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_div);	/* a fault */
	IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);
}

/* ---- dune_pop_trap_frame ---- */

static void bp_pop_ring0(struct dune_tf *tf)
{
	tf->rax = 77;
	dune_pop_trap_frame(tf);
}

static void bp_pop_ring3(struct dune_tf *tf)
{
	if (!(tf->cs & 3))
		dune_ret_from_user(-1);
	tf->rip = (uint64_t)u_pop_target;
	tf->rax = 99;
	dune_pop_trap_frame(tf);
}

static void test_pop_trap_frame(void)
{
	struct dune_tf tf;
	uint64_t v;
	int i;

	enter_user();
	dune_register_syscall_handler(sys_handler);
	IT_ASSERT_EQ(dune_register_intr_handler(3, bp_pop_ring0), 0);
	/* several times: each pop leaves the handler for good */
	for (i = 0; i < 5; i++) {
		__asm__ volatile("int3" : "=a"(v) : "a"(0) : "memory");
		IT_ASSERT_EQ(v, 77);
	}
	IT_ASSERT_EQ(dune_register_intr_handler(3, bp_pop_ring3), 0);
	for (i = 0; i < 3; i++) {
		user_tf(&tf, u_int3);
		IT_ASSERT_EQ(dune_jump_to_user(&tf), 100);
		IT_ASSERT_EQ(seen.rip, (uint64_t)u_pop_after);
		IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);
	}
	IT_ASSERT(dune_active());
}

/* ---- reports of faults that nothing handles ---- */

static char err[8192];

static void bp_faults(struct dune_tf *tf)
{
	__asm__ volatile("ud2");
}

static void nested_fault(void)
{
	enter();
	IT_ASSERT_EQ(dune_register_intr_handler(3, bp_faults), 0);
	__asm__ volatile("int3");
	_exit(44);
}

static void nested_fault_ring3(void)
{
	struct dune_tf tf;

	enter_user();
	IT_ASSERT_EQ(dune_register_intr_handler(3, bp_faults), 0);
	user_tf(&tf, u_int3);
	dune_jump_to_user(&tf);
	_exit(44);
}

static void double_fault(void)
{
	enter();
	/* #GP's gate not present: delivering a #GP raises #NP, then #DF */
	dune_idt[13].type &= 0x7f;
	__asm__ volatile("movq (%0), %%rax"
			 : : "r"(0x8000000000000000ull) : "rax", "memory");
	_exit(44);
}

static void unhandled_ring3(void)
{
	struct dune_tf tf;

	enter_user();
	user_tf(&tf, u_cli);
	dune_jump_to_user(&tf);
	_exit(44);
}

static void test_reports(void)
{
	EXPECT_SIGNAL(itest_run_capture(nested_fault, err, sizeof(err)), SIGILL);
	EXPECT_TEXT("trap inside a trap handler: invalid opcode (#UD, vector 6)");
	EXPECT_SIGNAL(itest_run_capture(nested_fault_ring3, err, sizeof(err)),
		      SIGILL);
	EXPECT_TEXT("trap inside a trap handler: invalid opcode (#UD, vector 6)");
	EXPECT_SIGNAL(itest_run_capture(double_fault, err, sizeof(err)), SIGSEGV);
	EXPECT_TEXT("(#DF, vector 8)");
	EXPECT_SIGNAL(itest_run_capture(unhandled_ring3, err, sizeof(err)), SIGSEGV);
	EXPECT_TEXT("(#GP, vector 13) in Dune mode, from ring 3, at rip");
	EXPECT_TEXT("(ring 3)");
}

/* Emulated system calls and FS/GS loads at ring 3 cost no VM exit. */
static void test_no_exits_emulated(void)
{
	struct dune_stats s0, s1;
	struct dune_tf tf;
	unsigned long long d;
	int r, i;

	enter_user();
	dune_register_syscall_handler(sys_handler);
	sys_mode = SYS_EMULATE_GETPID;
	/* first touches of the pages involved (EPT) happen here */
	user_tf(&tf, u_emul);
	tf.r13 = 2;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 4242);
	/* written once, so that dune_get_stats does not fault them in */
	memset(&s0, 0, sizeof(s0));
	memset(&s1, 0, sizeof(s1));
	user_tf(&tf, u_emul);
	tf.r13 = 100;
	IT_ASSERT_EQ(dune_get_stats(&s0), 0);
	r = dune_jump_to_user(&tf);
	IT_ASSERT_EQ(dune_get_stats(&s1), 0);
	IT_ASSERT_EQ(r, 4242);
	for (i = 0; i < DUNE_NR_EXIT_REASONS; i++) {
		d = s1.by_reason[i] - s0.by_reason[i];
		if (i == 18)	/* VMCALL: the second dune_get_stats */
			d--;
		if (i == 1)	/* host interrupts: not caused by the run */
			continue;
		if (d)
			IT_FAIL("%llu VM exit(s) with basic reason %d during a ring-3 run of emulated system calls",
				d, i);
	}
}

/* ---- the example program ---- */

static void test_sandbox_example(void)
{
	IT_ASSERT_EQ(itest_sh("dune-sandbox > /tmp/sandbox.out 2>&1"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q '^sandbox: getpid() = 1000 (emulated)$' /tmp/sandbox.out"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q '^hello from ring 3$' /tmp/sandbox.out"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q '^sandbox: open(\"/etc/passwd\") denied: -1$' /tmp/sandbox.out"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q '^sandbox: ring 3 returned 7$' /tmp/sandbox.out"), 0);
}

static const struct itest tests[] = {
	{ "jump_and_return", test_jump_and_return },
	{ "syscall_filter", test_syscall_filter },
	{ "privileged", test_privileged },
	{ "supervisor_pages", test_supervisor_pages },
	{ "breakpoint_divide", test_breakpoint_divide },
	{ "pop_trap_frame", test_pop_trap_frame },
	{ "reports", test_reports },
	{ "no_exits_emulated", test_no_exits_emulated },
	{ "sandbox_example", test_sandbox_example },
};

ITEST_MAIN(tests)
