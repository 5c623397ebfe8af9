// SPDX-License-Identifier: MIT
/*
 * Guest CPU state that must not leak to the host, and preemption, on the
 * hand-made guest of vcpu-guest.h: CR8 (TPR) and the debug registers are
 * each vCPU's own and never reach the host or another vCPU; hardware
 * breakpoints and single-step work inside the guest and leave the
 * host's (ptrace watchpoints, DR6) as they were; a guest spinning with
 * CR8 = 15 or with interrupts off is still preempted and killable.
 *
 * Every test runs on CPU 0 only, so that what one vCPU or process leaves
 * in the CPU is what the next one finds, also with several CPUs.
 */
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stddef.h>

#include "vcpu-guest.h"

#define DR6_INIT 0xffff0ff0ull	/* DR6 with no debug event (SDM 17.2.3) */
#define DR7_INIT 0x400ull	/* DR7 after reset (SDM 17.2.4) */
#define DR6_B0 0x1
#define DR6_B1 0x2
#define DR6_BD 0x2000
#define DR6_BS 0x4000
#define EXIT_DR 29		/* SDM appendix C: MOV DR */

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	IT_ASSERT_EQ(sched_setaffinity(0, sizeof(set), &set), 0);
}

static void run_vmcall(int fd, struct dune_run *run)
{
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, run), 0);
	if (run->exit_reason != DUNE_EXIT_VMCALL)
		IT_FAIL("exit %u (VMX reason %u, qual %#llx) at rip %#llx",
			run->exit_reason, run->vmx_exit_reason,
			(unsigned long long)run->exit_qual,
			(unsigned long long)run->regs.rip);
}

/* How many times @text occurs in the kernel log so far. */
static int kernel_log_count(const char *text)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *p;
	int n = 0;

	IT_ASSERT(len > 0);
	buf = malloc(len + 1);
	IT_ASSERT(buf);
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	IT_ASSERT(len >= 0);
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, text)); p++)
		n++;
	free(buf);
	return n;
}

/* "WARNING:" and "BUG:" lines in the kernel log so far. */
static int kernel_complaints(void)
{
	return kernel_log_count("WARNING:") + kernel_log_count("BUG:");
}

/* A page of shared memory the guest of a child writes and we read. */
static int shared_fd = -1;
static volatile uint64_t *shared_page(void)
{
	void *p;

	shared_fd = memfd_create("itest-harden-cpu", 0);
	IT_ASSERT(shared_fd >= 0);
	IT_ASSERT_EQ(ftruncate(shared_fd, 4096), 0);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, shared_fd, 0);
	IT_ASSERT(p != MAP_FAILED);
	return p;
}

/* In the child, after guest_setup(): the shared page at P_DATA. */
static void shared_page_in_guest(void)
{
	IT_ASSERT(mmap((void *)PG(P_DATA), 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, shared_fd, 0) ==
		  (void *)PG(P_DATA));
}

/*
 * CR8: read, written with RSI, read back, read again after exits; then
 * RDI; a 1 in bits 63:4 is #GP.
 */
GUEST_ASM(g_cr8,
	  "mov %cr8, %rax\n"
	  "vmcall\n"				/* 1: initial */
	  "mov %rsi, %cr8\n"
	  "mov %cr8, %rbx\n"
	  "vmcall\n"				/* 2: read back */
	  "mov %cr8, %rcx\n"
	  "vmcall\n"				/* 3: after exits */
	  "mov %rdi, %cr8\n"
	  "mov %cr8, %rdx\n"
	  "vmcall\n"				/* 4 */
	  "mov $0x10, %r8d\n"
	  "g_cr8_bad: mov %r8, %cr8\n"
	  "ud2\n"
	  "g_cr8_gp: mov 8(%rsp), %rbx\n"	/* RIP of the fault */
	  "mov %cr8, %rcx\n"
	  "mov $0x13, %eax\n"
	  "vmcall\n");				/* 5 */
GUEST_LABEL(g_cr8, g_cr8_bad);
GUEST_LABEL(g_cr8, g_cr8_gp);

/*
 * Each vCPU has a CR8 of its own, starting at 0; what one writes is not
 * what the next vCPU on the CPU reads (it would be the host's TPR), and
 * the host still takes interrupts after a guest wrote 15.
 */
static void test_cr8_own_per_vcpu(void)
{
	struct dune_run a, b;
	int fa, fb;

	pin_cpu0();
	guest_setup();
	idt_set(13, GADDR(g_cr8, g_cr8_gp));
	fa = vcpu_new_asm(g_cr8_start, g_cr8_end, &a);
	fb = vcpu_new_asm(g_cr8_start, g_cr8_end, &b);
	a.regs.rsi = 1;		/* masks only vectors 0-31: harmless if leaked */
	a.regs.rdi = 15;
	run_vmcall(fa, &a);
	IT_ASSERT_EQ(a.regs.rax, 0);
	run_vmcall(fa, &a);
	IT_ASSERT_EQ(a.regs.rbx, 1);
	/* another vCPU on this CPU, right after: its own CR8 */
	run_vmcall(fb, &b);
	IT_ASSERT_EQ(b.regs.rax, 0);
	run_vmcall(fa, &a);
	IT_ASSERT_EQ(a.regs.rcx, 1);
	run_vmcall(fa, &a);
	IT_ASSERT_EQ(a.regs.rdx, 15);
	/* the host takes timer interrupts: sleeping ends */
	IT_ASSERT_EQ(usleep(10000), 0);
	b.regs.rsi = 3;
	run_vmcall(fb, &b);
	IT_ASSERT_EQ(b.regs.rbx, 3);
	run_vmcall(fa, &a);
	IT_ASSERT_EQ(a.regs.rax, 0x13);
	IT_ASSERT_EQ(a.regs.rbx, GADDR(g_cr8, g_cr8_bad));
	IT_ASSERT_EQ(a.regs.rcx, 15);
	close(fa);
	close(fb);
}

static const char *dune_ko(void)
{
	const char *p = getenv("DUNE_KO");

	return p ? p : "/opt/dune/dune.ko";
}

/* The CR8 test in a child: it leaves no file of /dev/dune open. */
static void cr8_test_in_child(int *cr_exits)
{
	int st, pipefd[2];
	pid_t pid;

	IT_ASSERT_EQ(pipe(pipefd), 0);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		struct dune_stats stats;
		struct dune_run a;
		int fa;

		test_cr8_own_per_vcpu();
		/* the same guest once more, for its exit counts */
		fa = vcpu_new_asm(g_cr8_start, g_cr8_end, &a);
		a.regs.rsi = 2;
		a.regs.rdi = 15;
		run_vmcall(fa, &a);
		run_vmcall(fa, &a);
		IT_ASSERT_EQ(a.regs.rbx, 2);
		IT_ASSERT_EQ(ioctl(fa, DUNE_GET_STATS, &stats), 0);
		st = stats.by_reason[28];
		IT_ASSERT_EQ(write(pipefd[1], &st, sizeof(st)), sizeof(st));
		_exit(0);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	IT_ASSERT_EQ(read(pipefd[0], cr_exits, sizeof(*cr_exits)),
		     sizeof(*cr_exits));
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * Without the TPR shadow (module parameter no_tpr_shadow: what a CPU
 * without it gets) CR8 accesses exit and behave the same; without the
 * preemption timer (no_preemption_timer) guests still run, and dmesg
 * says so, once.  The module is loaded as before afterwards.
 */
#define NO_TPR_MSG "dune: no TPR shadow"
#define NO_TIMER_MSG "dune: no VMX-preemption timer"

static void test_cr8_exits_and_no_timer(void)
{
	int exits, r, tpr_msgs, timer_msgs;

	cr8_test_in_child(&exits);
	IT_ASSERT_EQ(exits, 0);	/* the TPR shadow: no CR access exit */
	tpr_msgs = kernel_log_count(NO_TPR_MSG);
	timer_msgs = kernel_log_count(NO_TIMER_MSG);
	IT_ASSERT_EQ(itest_sh("rmmod dune && insmod %s no_tpr_shadow=1 no_preemption_timer=1",
			      dune_ko()), 0);
	cr8_test_in_child(&exits);
	r = kernel_log_count(NO_TPR_MSG) == tpr_msgs + 1 &&
	    kernel_log_count(NO_TIMER_MSG) == timer_msgs + 1;
	IT_ASSERT_EQ(itest_sh("rmmod dune && insmod %s", dune_ko()), 0);
	IT_ASSERT(r);
	/* the last guest's read, write, read */
	IT_ASSERT_EQ(exits, 3);
}

/* Write DR0-3, DR6, DR7 from R8-R13, then read them back into R8-R13. */
GUEST_ASM(g_drs,
	  "mov %r8, %dr0\n"
	  "mov %r9, %dr1\n"
	  "mov %r10, %dr2\n"
	  "mov %r11, %dr3\n"
	  "mov %r12, %dr6\n"
	  "mov %r13, %dr7\n"
	  "vmcall\n"
	  "g_drs_read: mov %dr0, %r8\n"
	  "mov %dr1, %r9\n"
	  "mov %dr2, %r10\n"
	  "mov %dr3, %r11\n"
	  "mov %dr6, %r12\n"
	  "mov %dr7, %r13\n"
	  "mov %dr4, %r14\n"			/* DR6 with CR4.DE = 0 */
	  "mov %dr5, %r15\n"			/* DR7 */
	  "vmcall\n"
	  "jmp g_drs_read\n");
GUEST_LABEL(g_drs, g_drs_read);

static void check_drs(const struct dune_run *r, uint64_t d0, uint64_t d1,
		      uint64_t d2, uint64_t d3, uint64_t d6, uint64_t d7)
{
	IT_ASSERT_EQ(r->regs.r8, d0);
	IT_ASSERT_EQ(r->regs.r9, d1);
	IT_ASSERT_EQ(r->regs.r10, d2);
	IT_ASSERT_EQ(r->regs.r11, d3);
	IT_ASSERT_EQ(r->regs.r12, d6);
	IT_ASSERT_EQ(r->regs.r13, d7);
	IT_ASSERT_EQ(r->regs.r14, d6);
	IT_ASSERT_EQ(r->regs.r15, d7);
}

/*
 * Each vCPU has debug registers of its own: another vCPU on the same CPU
 * finds the reset values, not what the first one wrote; values survive
 * exits; every access exits (nothing reaches the CPU's registers).
 */
static void test_dr_own_per_vcpu(void)
{
	/* a write watchpoint on an address nobody touches, 4 bytes */
	const uint64_t dr7 = DR7_INIT | 0x1 | (0x1 << 16) | (0x3 << 18);
	struct dune_stats st;
	struct dune_run a, b;
	int fa, fb;

	pin_cpu0();
	guest_setup();
	fa = vcpu_new_asm(g_drs_start, g_drs_end, &a);
	fb = vcpu_new_asm(g_drs_start, g_drs_end, &b);
	a.regs.r8 = 0x10000;
	a.regs.r9 = 0x20000;
	a.regs.r10 = 0x7fff0000;
	a.regs.r11 = 0xffffffff81000000ull;
	a.regs.r12 = DR6_INIT | DR6_B1;
	a.regs.r13 = dr7;
	run_vmcall(fa, &a);
	b.regs.rip = GADDR(g_drs, g_drs_read);
	run_vmcall(fb, &b);
	check_drs(&b, 0, 0, 0, 0, DR6_INIT, DR7_INIT);
	run_vmcall(fa, &a);
	check_drs(&a, 0x10000, 0x20000, 0x7fff0000, 0xffffffff81000000ull,
		  DR6_INIT | DR6_B1, dr7);
	run_vmcall(fb, &b);
	check_drs(&b, 0, 0, 0, 0, DR6_INIT, DR7_INIT);
	run_vmcall(fa, &a);
	check_drs(&a, 0x10000, 0x20000, 0x7fff0000, 0xffffffff81000000ull,
		  DR6_INIT | DR6_B1, dr7);
	IT_ASSERT_EQ(ioctl(fa, DUNE_GET_STATS, &st), 0);
	IT_ASSERT_EQ(st.by_reason[EXIT_DR], 6 + 8 * 2);
	close(fa);
	close(fb);
}

/*
 * Breakpoints in the guest, through its own IDT: an instruction
 * breakpoint (DR0), a data write breakpoint (DR1, 8 bytes at RSI),
 * single-step (TF) over an instruction run by the guest and over one
 * that exits, general detect (DR7.GD), then a MOV to DR7 with bits
 * 63:32 set (#GP).  The #DB handler reports DR6, the RIP and RFLAGS it
 * interrupted with RDX = 1, turns breakpoints off, clears DR6 and TF.
 */
GUEST_ASM(g_bp,
	  "lea g_bp_x(%rip), %rax\n"
	  "mov %rax, %dr0\n"
	  "mov $0x401, %eax\n"			/* L0, execute */
	  "mov %rax, %dr7\n"
	  "g_bp_x: nop\n"			/* 1: fault here */
	  "mov %rsi, %dr1\n"
	  "mov $0x900408, %eax\n"		/* G1, write, 8 bytes */
	  "mov %rax, %dr7\n"
	  "movq $5, (%rsi)\n"
	  "g_bp_w: nop\n"			/* 2: trap after the write */
	  "pushfq\n"
	  "orq $0x100, (%rsp)\n"
	  "popfq\n"
	  "nop\n"
	  "g_bp_s: nop\n"			/* 3: trap after one nop */
	  "pushfq\n"
	  "orq $0x100, (%rsp)\n"
	  "popfq\n"
	  "cpuid\n"				/* exits: run by dune.ko */
	  "g_bp_c: nop\n"			/* 4: trap after CPUID */
	  "mov $0x2400, %eax\n"			/* GD */
	  "mov %rax, %dr7\n"
	  "g_bp_gd: mov %dr0, %rax\n"		/* 5: fault here */
	  "mov $1, %eax\n"
	  "shl $32, %rax\n"
	  "g_bp_bad: mov %rax, %dr7\n"		/* 6: #GP */
	  "mov %dr7, %rbx\n"
	  "mov $0xd0e, %eax\n"
	  "xor %edx, %edx\n"
	  "vmcall\n"				/* 7 */
	  "g_bp_db: mov %dr6, %rax\n"
	  "mov (%rsp), %rbx\n"
	  "mov 16(%rsp), %rcx\n"
	  "mov $1, %edx\n"
	  "mov $0x400, %r15d\n"
	  "mov %r15, %dr7\n"
	  "xor %r15d, %r15d\n"
	  "mov %r15, %dr6\n"
	  "andq $-0x101, 16(%rsp)\n"		/* TF off */
	  "vmcall\n"
	  "iretq\n"
	  "g_bp_gp: mov 8(%rsp), %rbx\n"
	  "mov $0x13, %eax\n"
	  "mov $2, %edx\n"
	  "vmcall\n"
	  "addq $3, 8(%rsp)\n"			/* past the MOV */
	  "add $8, %rsp\n"
	  "iretq\n");
GUEST_LABEL(g_bp, g_bp_x);
GUEST_LABEL(g_bp, g_bp_w);
GUEST_LABEL(g_bp, g_bp_s);
GUEST_LABEL(g_bp, g_bp_c);
GUEST_LABEL(g_bp, g_bp_gd);
GUEST_LABEL(g_bp, g_bp_bad);
GUEST_LABEL(g_bp, g_bp_db);
GUEST_LABEL(g_bp, g_bp_gp);

static void expect_db(int fd, struct dune_run *run, uint64_t bits,
		      uint64_t rip)
{
	run_vmcall(fd, run);
	IT_ASSERT_EQ(run->regs.rdx, 1);
	if ((run->regs.rax & ~0xe00full) != DR6_INIT ||
	    (run->regs.rax & bits) != bits)
		IT_FAIL("DR6 %#llx, expected the bits %#llx",
			(unsigned long long)run->regs.rax,
			(unsigned long long)bits);
	IT_ASSERT_EQ(run->regs.rbx, rip);
}

static void test_breakpoints_in_guest(void)
{
	volatile uint64_t *data = (uint64_t *)PG(P_DATA);
	struct dune_run run;
	int fd;

	pin_cpu0();
	guest_setup();
	idt_set(1, GADDR(g_bp, g_bp_db));
	idt_set(13, GADDR(g_bp, g_bp_gp));
	fd = vcpu_new_asm(g_bp_start, g_bp_end, &run);
	run.regs.rsi = PG(P_DATA) + 8;
	expect_db(fd, &run, DR6_B0, GADDR(g_bp, g_bp_x));
	expect_db(fd, &run, DR6_B1, GADDR(g_bp, g_bp_w));
	IT_ASSERT_EQ(data[1], 5);
	expect_db(fd, &run, DR6_BS, GADDR(g_bp, g_bp_s));
	IT_ASSERT(run.regs.rcx & 0x100);	/* TF was on */
	expect_db(fd, &run, DR6_BS, GADDR(g_bp, g_bp_c));
	IT_ASSERT(run.regs.rcx & 0x100);
	expect_db(fd, &run, DR6_BD, GADDR(g_bp, g_bp_gd));
	run_vmcall(fd, &run);
	IT_ASSERT_EQ(run.regs.rdx, 2);
	IT_ASSERT_EQ(run.regs.rax, 0x13);
	IT_ASSERT_EQ(run.regs.rbx, GADDR(g_bp, g_bp_bad));
	run_vmcall(fd, &run);
	IT_ASSERT_EQ(run.regs.rax, 0xd0e);
	IT_ASSERT_EQ(run.regs.rbx, DR7_INIT);	/* GD went with the #DB */
	close(fd);
}

/*
 * The guest arms an execute breakpoint of its own (DR0, at an address
 * it never runs) and exits; after every exit the thread's own ptrace
 * watchpoint still fires.
 */
GUEST_ASM(g_arm,
	  "mov %rsi, %dr0\n"
	  "mov $0x403, %eax\n"			/* L0, G0, execute */
	  "mov %rax, %dr7\n"
	  "1: vmcall\n"
	  "jmp 1b\n");

static volatile uint64_t watched;
#define ROUNDS 5

static void traced_dune_child(void)
{
	struct dune_run run;
	int fd, i;

	IT_ASSERT_EQ(ptrace(PTRACE_TRACEME, 0, 0, 0), 0);
	raise(SIGSTOP);
	guest_setup();
	fd = vcpu_new_asm(g_arm_start, g_arm_end, &run);
	run.regs.rsi = PG(P_HOLE);
	for (i = 0; i < ROUNDS; i++) {
		run_vmcall(fd, &run);
		watched++;	/* the watchpoint: SIGTRAP for the tracer */
	}
	_exit(0);
}

/*
 * @pid stopped itself (SIGSTOP) under PTRACE_TRACEME: set a hardware
 * write watchpoint on @addr in it (DR0; DR7: L0, write, 8 bytes) and let
 * it run to a clean exit.  Returns how many SIGTRAPs the watchpoint gave.
 */
static int watch_until_exit(pid_t pid, const volatile void *addr)
{
	int st, traps = 0;

	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	IT_ASSERT_EQ(ptrace(PTRACE_POKEUSER, pid,
			    offsetof(struct user, u_debugreg[0]), addr), 0);
	IT_ASSERT_EQ(ptrace(PTRACE_POKEUSER, pid,
			    offsetof(struct user, u_debugreg[7]),
			    0x1 | (0x1 << 16) | (0x2 << 18)), 0);
	IT_ASSERT_EQ(ptrace(PTRACE_CONT, pid, 0, 0), 0);
	for (;;) {
		IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
		if (!WIFSTOPPED(st))
			break;
		IT_ASSERT_EQ(WSTOPSIG(st), SIGTRAP);
		traps++;
		IT_ASSERT_EQ(ptrace(PTRACE_CONT, pid, 0, 0), 0);
	}
	IT_ASSERT(WIFEXITED(st));
	IT_ASSERT_EQ(WEXITSTATUS(st), 0);
	return traps;
}

static void test_host_watchpoint_survives_guest(void)
{
	pid_t pid;

	pin_cpu0();
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0)
		traced_dune_child();
	IT_ASSERT_EQ(watch_until_exit(pid, &watched), ROUNDS);
}

/* Single-step one instruction, leaving DR6.BS as the CPU set it. */
GUEST_ASM(g_step,
	  "pushfq\n"
	  "orq $0x100, (%rsp)\n"
	  "popfq\n"
	  "nop\n"
	  "nop\n"
	  "vmcall\n"
	  "g_step_db: mov %dr6, %rax\n"
	  "andq $-0x101, 16(%rsp)\n"		/* TF off */
	  "vmcall\n"
	  "iretq\n");
GUEST_LABEL(g_step, g_step_db);

static volatile uint64_t buf[4];

static void traced_native_child(void)
{
	int fd = open("/dev/zero", O_RDONLY);

	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(ptrace(PTRACE_TRACEME, 0, 0, 0), 0);
	raise(SIGSTOP);
	/* the kernel writes the watched word: a #DB in kernel mode */
	IT_ASSERT_EQ(read(fd, (void *)buf, sizeof(buf)), sizeof(buf));
	buf[0] = 1;	/* and in user mode: SIGTRAP */
	_exit(0);
}

/*
 * After a guest single-stepped (DR6.BS set in the CPU), a native process
 * with a hardware watchpoint on this CPU gets its #DB without the
 * kernel seeing a single-step it never asked for (a WARN in Linux's #DB
 * handler).
 */
static void test_guest_dr6_not_left_to_host(void)
{
	struct dune_run run;
	int complaints;
	pid_t pid;
	int fd;

	pin_cpu0();
	complaints = kernel_complaints();
	guest_setup();
	idt_set(1, GADDR(g_step, g_step_db));
	fd = vcpu_new_asm(g_step_start, g_step_end, &run);
	run_vmcall(fd, &run);
	IT_ASSERT(run.regs.rax & DR6_BS);
	run_vmcall(fd, &run);

	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0)
		traced_native_child();
	IT_ASSERT(watch_until_exit(pid, &buf[0]) >= 1);
	IT_ASSERT_EQ(kernel_complaints(), complaints);
	close(fd);
}

/*
 * A child's guest counts in a shared page forever, with CR8 = RSI and
 * RFLAGS.IF = RDI.  We, on the same CPU, see it count (so we ran while
 * it spun: it was preempted), a few times over, then SIGKILL it; the
 * kill must complete.  Without a TPR of its own, CR8 = 15 would mask
 * every interrupt of the CPU; with IF = 0 only the preemption timer
 * gets it out on CPUs that do not exit for the interrupt.
 */
GUEST_ASM(g_spin,
	  "mov %rsi, %cr8\n"
	  "test %rdi, %rdi\n"
	  "jz 1f\n"
	  "sti\n"
	  "jmp 2f\n"
	  "1: cli\n"
	  "2: incq (%rdx)\n"
	  "jmp 2b\n");

static void spin_and_kill(uint64_t cr8, bool irq_on)
{
	volatile uint64_t *count = shared_page();
	int complaints = kernel_complaints(), seen = 0, st;
	struct dune_run run;
	uint64_t last = 0, t0;
	pid_t pid;
	int fd;

	pin_cpu0();
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		guest_setup();
		shared_page_in_guest();
		fd = vcpu_new_asm(g_spin_start, g_spin_end, &run);
		run.regs.rsi = cr8;
		run.regs.rdi = irq_on;
		run.regs.rdx = PG(P_DATA);
		ioctl(fd, DUNE_RUN, &run);
		_exit(1);
	}
	/* our progress: each new count seen is one more turn on the CPU */
	while (seen < 5) {
		uint64_t v = *count;

		if (v != last) {
			seen++;
			last = v;
		}
	}
	t0 = __builtin_ia32_rdtsc();
	IT_ASSERT_EQ(kill(pid, SIGKILL), 0);
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	/* guest time, for information only: no threshold */
	printf("    (SIGKILL to reaped: %llu TSC cycles)\n",
	       (unsigned long long)(__builtin_ia32_rdtsc() - t0));
	IT_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	IT_ASSERT_EQ(kernel_complaints(), complaints);
	/* and the CPU still takes interrupts */
	IT_ASSERT_EQ(usleep(10000), 0);
}

static void test_cr8_15_spin_killable(void)
{
	spin_and_kill(15, true);
}

static void test_cli_spin_preempted_and_killable(void)
{
	spin_and_kill(0, false);
}

static const struct itest tests[] = {
	{ "cr8_own_per_vcpu", test_cr8_own_per_vcpu },
	{ "dr_own_per_vcpu", test_dr_own_per_vcpu },
	{ "breakpoints_in_guest", test_breakpoints_in_guest },
	{ "host_watchpoint_survives_guest", test_host_watchpoint_survives_guest },
	{ "guest_dr6_not_left_to_host", test_guest_dr6_not_left_to_host },
	{ "cr8_exits_and_no_timer", test_cr8_exits_and_no_timer },
	{ "cr8_15_spin_killable", test_cr8_15_spin_killable },
	{ "cli_spin_preempted_and_killable", test_cli_spin_preempted_and_killable },
};

ITEST_MAIN(tests)
