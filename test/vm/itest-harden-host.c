// SPDX-License-Identifier: MIT
/*
 * Hardening of dune.ko's host side (issue 11), with hand-made guests
 * (vcpu-guest.h): user-space values that reach an MSR or the VMCS are
 * checked, the host state a VM exit does not restore is restored (per-CPU
 * SYSENTER_ESP, LDT, FS/GS selectors), guest state from user space is made
 * consistent before VM entry, and the entry path works with the kernel's
 * speculative-execution mitigations on.
 */
#include <asm/ldt.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "vcpu-guest.h"

#define MSR_LSTAR 0xc0000082u
#define MSR_SFMASK 0xc0000084u
#define MSR_KGS_BASE 0xc0000102u
#define MSR_SYSENTER_ESP 0x175u
#define NONCANON 0x0000800000000000ull

/* The kernel must never have faulted on an MSR write of ours. */
static void assert_no_msr_fault(void)
{
	IT_ASSERT_EQ(itest_sh("dmesg | grep -q 'unchecked MSR access'"), 1);
}

/* Guest: rdmsr %r8 (LSTAR does not exit: the real MSR); vmcall. */
GUEST_ASM(g_rdmsr, "mov %r8d, %ecx\n rdmsr\n vmcall\n");

/* Every user value that reaches an MSR or the VMCS: EINVAL if bad. */
static void test_bad_config_values(void)
{
	struct dune_vcpu_config c;
	struct dune_run run;
	int fd;

	guest_setup();
#define BAD_CFG(field, val)                                              \
	do {                                                             \
		config_asm(&c, g_rdmsr_start, g_rdmsr_end);              \
		c.field = val;                                           \
		errno = 0;                                               \
		IT_ASSERT_EQ(ioctl(dev_fd, DUNE_CREATE_VCPU, &c), -1);   \
		IT_ASSERT_EQ(errno, EINVAL);                             \
	} while (0)
	BAD_CFG(lstar, NONCANON);
	BAD_CFG(lstar, 0xffff000000000000ull);
	BAD_CFG(kernel_gs_base, NONCANON);
	BAD_CFG(sfmask, 1ull << 32);	/* SDM: IA32_FMASK 63:32 reserved */
	BAD_CFG(gdt_base, NONCANON);	/* SDM 26.3.1.3 */
	BAD_CFG(idt_base, NONCANON);
	BAD_CFG(tss_base, NONCANON);
	BAD_CFG(regs.rip, NONCANON);

	/* the same values, canonical, are taken and are what the guest has */
	config_asm(&c, g_rdmsr_start, g_rdmsr_end);
	c.lstar = 0xffff800012345000ull;
	c.kernel_gs_base = 0x7fff00001000ull;
	c.sfmask = 0xffffffffull;
	c.star = 0xffffffffffffffffull;
	fd = vcpu_create_run(&c, &run);
	run.regs.r8 = MSR_LSTAR;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax | run.regs.rdx << 32, 0xffff800012345000ull);
	run.regs.rip = PG(P_CODE);
	run.regs.r8 = MSR_KGS_BASE;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax | run.regs.rdx << 32, 0x7fff00001000ull);
	/* DUNE_RUN's registers are checked as strictly */
	run.regs.rip = NONCANON;
	errno = 0;
	IT_ASSERT_EQ(guest_run(fd, &run), -1);
	IT_ASSERT_EQ(errno, EINVAL);
	close(fd);
	assert_no_msr_fault();
}

/*
 * A non-canonical LSTAR made the module's WRMSR fault, so the guest read
 * the host kernel's own LSTAR (its SYSCALL entry point: a KASLR leak).
 */
static void test_host_lstar_not_leaked(void)
{
	struct dune_vcpu_config c;
	struct dune_run run;
	int fd;

	guest_setup();
	config_asm(&c, g_rdmsr_start, g_rdmsr_end);
	c.lstar = NONCANON;
	errno = 0;
	fd = ioctl(dev_fd, DUNE_CREATE_VCPU, &c);
	if (fd >= 0) {
		memset(&run, 0, sizeof(run));
		run.regs = c.regs;
		run.regs.r8 = MSR_LSTAR;
		IT_ASSERT_EQ(guest_run(fd, &run), 0);
		IT_FAIL("non-canonical LSTAR accepted; the guest read LSTAR 0x%llx",
			(unsigned long long)(run.regs.rax | run.regs.rdx << 32));
	}
	IT_ASSERT_EQ(errno, EINVAL);
	assert_no_msr_fault();
}

/*
 * Guest: wrmsr(%r8, %r9) then vmcall with rbx = 1, again and again; a #GP
 * goes to the handler, which does the same with rbx = 2.
 */
GUEST_ASM(g_wrmsr, "mov %r8d, %ecx\n mov %r9d, %eax\n mov %r9, %rdx\n"
		   "shr $32, %rdx\n wrmsr\n mov $1, %ebx\n 1: vmcall\n jmp 1b\n"
		   "g_wrmsr_gp: mov $2, %ebx\n 2: vmcall\n jmp 2b\n");
GUEST_LABEL(g_wrmsr, g_wrmsr_gp);

static uint64_t guest_wrmsr(uint32_t msr, uint64_t val)
{
	struct dune_vcpu_config c;
	struct dune_run run;
	int fd;

	config_asm(&c, g_wrmsr_start, g_wrmsr_end);
	idt_set(13, GADDR(g_wrmsr, g_wrmsr_gp));
	fd = vcpu_create_run(&c, &run);
	run.regs.r8 = msr;
	run.regs.r9 = val;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	/* and run on: the value reaches the MSR at the next entry */
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	close(fd);
	return run.regs.rbx;
}

/* The guest's own WRMSR exits: a value the CPU would refuse is #GP. */
static void test_guest_wrmsr_checked(void)
{
	guest_setup();
	IT_ASSERT_EQ(guest_wrmsr(MSR_SFMASK, 1ull << 32), 2);
	IT_ASSERT_EQ(guest_wrmsr(MSR_SFMASK, 0x47700), 1);
	IT_ASSERT_EQ(guest_wrmsr(MSR_KGS_BASE, NONCANON), 2);
	IT_ASSERT_EQ(guest_wrmsr(MSR_KGS_BASE, 0x12345000), 1);
	IT_ASSERT_EQ(guest_wrmsr(MSR_LSTAR, NONCANON), 2);	/* the CPU's */
	assert_no_msr_fault();
}

/*
 * SDM 26.3.1.5: STI blocking requires RFLAGS.IF = 1.  A VMCALL right
 * after STI exits with STI blocking; user space then runs the vCPU again
 * with IF = 0 (its registers are its own to set): the VM entry must not
 * fail.
 */
GUEST_ASM(g_sti, "sti\n vmcall\n vmcall\n");
/* The same with RIP kept: a load in the STI shadow faults (EPT). */
GUEST_ASM(g_sti_load, "sti\n mov (%rsi), %rax\n 1: vmcall\n jmp 1b\n");

static void test_sti_blocking_then_if0(void)
{
	struct dune_run run;
	int fd;

	guest_setup();
	fd = vcpu_new_asm(g_sti_start, g_sti_end, &run);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT(run.regs.rflags & 0x200);
	run.regs.rflags = 0x2;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE) + 7);
	/* and once more in the shadow, RIP and IF changed */
	run.regs.rip = PG(P_CODE);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	run.regs.rflags = 0x2;
	run.regs.rip = PG(P_CODE) + 1;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE) + 4);
	close(fd);
}

/* The same when only IF changes: the exit left RIP at a faulting load. */
static void test_sti_blocking_rip_kept(void)
{
	struct dune_run run;
	int fd;

	guest_setup();
	fd = vcpu_new_asm(g_sti_load_start, g_sti_load_end, &run);
	run.regs.rsi = PG(P_HOLE);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FAULT);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE) + 1);
	IT_ASSERT(run.regs.rflags & 0x200);
	run.regs.rsi = PG(P_DATA);
	run.regs.rflags = 0x2;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	close(fd);
}

/*
 * SDM 26.3.1.5: with MOV-SS blocking, the pending-debug BS bit must equal
 * RFLAGS.TF (Bochs does not check this one: there the test shows only
 * that the guest still runs and single-steps).  A load right after MOV SS faults (EPT: nothing mapped), so
 * the exit keeps RIP there with MOV-SS blocking; user space then points
 * the load at memory and sets TF: the guest must run, load, and take the
 * single-step trap.
 */
GUEST_ASM(g_movss, "mov %ss, %eax\n mov %eax, %ss\n mov (%rsi), %rax\n"
		   "1: vmcall\n jmp 1b\n"
		   "g_movss_db: mov $0xdb, %ebx\n 2: vmcall\n jmp 2b\n");
GUEST_LABEL(g_movss, g_movss_db);

static void test_movss_blocking_then_tf(void)
{
	struct dune_vcpu_config c;
	struct dune_run run;
	int fd;

	guest_setup();
	*(volatile uint64_t *)PG(P_DATA) = 0x1234;
	config_asm(&c, g_movss_start, g_movss_end);
	idt_set(1, GADDR(g_movss, g_movss_db));
	fd = vcpu_create_run(&c, &run);
	run.regs.rsi = PG(P_HOLE);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FAULT);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE) + 4);
	run.regs.rsi = PG(P_DATA);
	run.regs.rflags |= 0x100;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	/* (Bochs takes the trap before the load, hardware after it) */
	IT_ASSERT_EQ(run.regs.rbx, 0xdb);
	close(fd);
}

static long read_msr_on(int cpu, uint32_t msr, uint64_t *val)
{
	char path[64];
	int fd;
	long n;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY);
	IT_ASSERT(fd >= 0);
	n = pread(fd, val, 8, msr);
	close(fd);
	return n;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	IT_ASSERT_EQ(sched_setaffinity(0, sizeof(set), &set), 0);
}

/*
 * Linux gives every CPU its own SYSENTER_ESP (its entry stack).  A VM exit
 * loads the MSR from the VMCS, so the VMCS must hold the value of the CPU
 * the vCPU runs on, also after the vCPU moved there from another CPU.
 * Read back on each CPU through the msr driver.  Needs 2 CPUs.
 */
static void test_sysenter_esp_per_cpu(void)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
	uint64_t before[2], after;
	struct dune_run run;
	int fd, i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("    (one CPU: checked in the 2-CPU run)\n");
		return;
	}
	if (access("/dev/cpu/0/msr", R_OK))
		IT_ASSERT_EQ(itest_sh("insmod /opt/dune/kvm/msr.ko"), 0);
	for (i = 0; i < 2; i++)
		IT_ASSERT_EQ(read_msr_on(i, MSR_SYSENTER_ESP, &before[i]), 8);
	IT_ASSERT(before[0] != before[1]);

	guest_setup();
	for (int first = 0; first < 2; first++) {
		/* made on one CPU, then run on both in turn */
		pin(first);
		fd = vcpu_new(code, sizeof(code), &run);
		for (i = 0; i < 6; i++) {
			int cpu = (first + i) & 1;

			pin(cpu);
			run.regs.rip = PG(P_CODE);
			IT_ASSERT_EQ(guest_run(fd, &run), 0);
			IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
			IT_ASSERT_EQ(read_msr_on(cpu, MSR_SYSENTER_ESP, &after), 8);
			if (after != before[cpu])
				IT_FAIL("CPU %d: SYSENTER_ESP 0x%llx after a VM exit, 0x%llx before",
					cpu, (unsigned long long)after,
					(unsigned long long)before[cpu]);
		}
		close(fd);
	}
}

struct seg_result {
	long ret;
	uint16_t fs, gs;
	uint64_t gs_val;
	uint32_t ldt_ok;
};

/*
 * DUNE_RUN through a raw system call with FS and GS loaded from LDT entry
 * 0 (selector 7), then read both selectors back, read through GS, check
 * with VERR that the LDT is still there, and put the thread's TLS back:
 * no C code may run while FS is not the thread's own.
 */
static void run_with_ldt_segs(int fd, struct dune_run *run, uint64_t tls,
			      struct seg_result *r)
{
	long rdi = fd, rsi = DUNE_RUN;
	uint32_t sel = 7;

	asm volatile("mov %k[sel], %%fs\n\t"
		     "mov %k[sel], %%gs\n\t"
		     "mov $16, %%eax\n\t" /* SYS_ioctl */
		     "syscall\n\t"
		     "mov %%rax, %[ret]\n\t"
		     "mov %%fs, %[fs]\n\t"
		     "mov %%gs, %[gs]\n\t"
		     "mov %%gs:0, %%rax\n\t"
		     "mov %%rax, %[gv]\n\t"
		     "xor %%eax, %%eax\n\t"
		     "verr %w[sel]\n\t"
		     "setz %%al\n\t"
		     "mov %%eax, %[ok]\n\t"
		     "xor %%eax, %%eax\n\t"
		     "mov %%eax, %%gs\n\t"
		     "mov %%eax, %%fs\n\t"
		     "mov $158, %%eax\n\t" /* SYS_arch_prctl */
		     "mov $0x1002, %%edi\n\t" /* ARCH_SET_FS */
		     "mov %[tls], %%rsi\n\t"
		     "syscall\n\t"
		     : [ret] "=m"(r->ret), [fs] "=m"(r->fs), [gs] "=m"(r->gs),
		       [gv] "=m"(r->gs_val), [ok] "=m"(r->ldt_ok), "+D"(rdi),
		       "+S"(rsi)
		     : [sel] "r"(sel), "d"(run), [tls] "m"(tls)
		     : "rax", "rcx", "r11", "memory", "cc");
}

/*
 * SDM 28.5.2: a VM exit loads LDTR with 0 and FS/GS with the host-state
 * selectors.  A process that uses an LDT (modify_ldt) and LDT selectors
 * in FS/GS must find them as they were after DUNE_RUN.
 */
static void test_ldt_and_segments_kept(void)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
	volatile uint64_t *data = (uint64_t *)PG(P_DATA);
	struct user_desc d = {
		.entry_number = 0,
		.base_addr = (unsigned int)PG(P_DATA),
		.limit = 0xfff,
		.seg_32bit = 1,
		.useable = 1,
	};
	struct seg_result r;
	struct dune_run run;
	uint64_t tls;
	int fd;

	guest_setup();
	*data = 0x5eed1d7;
	IT_ASSERT_EQ(syscall(SYS_modify_ldt, 1, &d, sizeof(d)), 0);
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &tls), 0);
	fd = vcpu_new(code, sizeof(code), &run);
	for (int i = 0; i < 3; i++) {
		run.regs.rip = PG(P_CODE);
		/* only a run that reached the guest and exited counts */
		do
			run_with_ldt_segs(fd, &run, tls, &r);
		while (r.ret == 0 && run.exit_reason == DUNE_EXIT_SIGNAL);
		IT_ASSERT_EQ(r.ret, 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
		IT_ASSERT_EQ(r.fs, 7);
		IT_ASSERT_EQ(r.gs, 7);
		IT_ASSERT_EQ(r.gs_val, 0x5eed1d7);
		IT_ASSERT_EQ(r.ldt_ok, 1);
	}
	close(fd);
}

static volatile uint64_t watched;

/* Guest: single-steps one instruction; its #DB handler does vmcall. */
GUEST_ASM(g_step, "pushfq\n orq $0x100, (%rsp)\n popfq\n nop\n nop\n"
		  "1: jmp 1b\n"
		  "g_step_db: vmcall\n");
GUEST_LABEL(g_step, g_step_db);

/*
 * SDM 28.5.1: a VM exit sets DR7 to 0x400, disabling the host's hardware
 * breakpoints; a watchpoint on the process (perf, ptrace, gdb) must still
 * fire after DUNE_RUN.  And the guest's own #DB (a single step) sets DR6
 * bits VMX does not switch: the host's next #DB, the watchpoint's, must
 * not see them (a stale single-step bit is a SIGTRAP).
 */
static void test_watchpoint_kept(void)
{
	struct dune_vcpu_config c;
	struct perf_event_attr a = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(a),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = (uintptr_t)&watched,
		.bp_len = HW_BREAKPOINT_LEN_8,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	struct dune_run run;
	uint64_t n;
	int pfd, fd;

	pfd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	IT_ASSERT(pfd >= 0);
	watched = 1;
	IT_ASSERT_EQ(read(pfd, &n, sizeof(n)), sizeof(n));
	IT_ASSERT_EQ(n, 1);
	guest_setup();
	config_asm(&c, g_step_start, g_step_end);
	idt_set(1, GADDR(g_step, g_step_db));
	fd = vcpu_create_run(&c, &run);
	for (int i = 0; i < 3; i++) {
		run.regs.rip = PG(P_CODE);
		run.regs.rsp = BASE + 0x200000;
		IT_ASSERT_EQ(guest_run(fd, &run), 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
		IT_ASSERT_EQ(run.regs.rip, GADDR(g_step, g_step_db) + 3);
		watched = 2 + i;
		IT_ASSERT_EQ(read(pfd, &n, sizeof(n)), sizeof(n));
		IT_ASSERT_EQ(n, 2 + i);
	}
	close(fd);
	close(pfd);
}

/*
 * The entry and exit paths under the kernel's mitigations: the VM must
 * boot without mitigations=off for this to mean anything (see
 * docs/design.md: DUNE_VM_APPEND=mitigations=auto).  Many entries and
 * exits of several kinds, on every CPU; what the kernel reports is shown.
 */
GUEST_ASM(g_mix, "1: cpuid\n mov (%rsi), %rax\n vmcall\n dec %r12\n jnz 1b\n"
		 "vmcall\n");

static void test_entry_with_mitigations(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct dune_run run;
	int fd, i;

	IT_ASSERT_EQ(itest_sh("grep -o 'mitigations=[a-z,]*' /proc/cmdline | "
			      "tail -n 1 | sed 's/^/    /'; "
			      "cd /sys/devices/system/cpu/vulnerabilities && "
			      "grep . mds l1tf spectre_v2 retbleed mmio_stale_data "
			      "2>/dev/null | sed 's/^/    /'; "
			      "echo \"    CPU features: $(grep -m1 -ow "
			      "'md_clear\\|flush_l1d\\|ibrs\\|ibpb\\|"
			      "ibrs_enhanced\\|arch_capabilities' /proc/cpuinfo | "
			      "sort -u | tr '\\n' ' ')\"; true"), 0);
	guest_setup();
	fd = vcpu_new_asm(g_mix_start, g_mix_end, &run);
	for (i = 0; i < 40; i++) {
		pin(i % ncpu);
		run.regs.rip = PG(P_CODE);
		run.regs.rsi = PG(P_DATA);
		run.regs.r12 = 3;
		IT_ASSERT_EQ(guest_run(fd, &run), 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
		while (run.regs.r12) {
			IT_ASSERT_EQ(guest_run(fd, &run), 0);
			IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
		}
	}
	close(fd);
}

static const struct itest tests[] = {
	{ "bad_config_values", test_bad_config_values },
	{ "host_lstar_not_leaked", test_host_lstar_not_leaked },
	{ "guest_wrmsr_checked", test_guest_wrmsr_checked },
	{ "sti_blocking_then_if0", test_sti_blocking_then_if0 },
	{ "sti_blocking_rip_kept", test_sti_blocking_rip_kept },
	{ "movss_blocking_then_tf", test_movss_blocking_then_tf },
	{ "sysenter_esp_per_cpu", test_sysenter_esp_per_cpu },
	{ "ldt_and_segments_kept", test_ldt_and_segments_kept },
	{ "watchpoint_kept", test_watchpoint_kept },
	{ "entry_with_mitigations", test_entry_with_mitigations },
};

ITEST_MAIN(tests)
