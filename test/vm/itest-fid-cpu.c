// SPDX-License-Identifier: MIT
/*
 * CPU features in Dune mode where libdune's own code is involved (the
 * fidelity programs test/fidelity/fid-cpu-* cover what a plain program
 * sees): FS/GS bases changed with WRGSBASE around libdune's trap path and
 * ring 3, CR4 and CPUID agreeing, PR_SET_TSC's #GP at the instruction,
 * and int $0x80 next to a registered vector-0x80 handler.
 */
#include <cpuid.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <asm/prctl.h>
#include <asm/processor-flags.h>

#include "user-guest.h"
#include "vcpu-guest.h"
#include "../fidelity/fid-cpu.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

/* Ring 3: WRGSBASE r12, a VM exit (CPUID), RDGSBASE to rdi, then end. */
__asm__(".pushsection fid_cpu_user_text, \"ax\"\n"
	".balign 4096\n"
	"fc_text_start:\n"
	"fc_gs: wrgsbase %r12\n"
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	cpuid\n"
	"	rdgsbase %rdi\n"
	"	mov $" XSTR(NR_RET) ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	".balign 4096\n"
	"fc_text_end:\n"
	".popsection\n");
extern char fc_text_start[], fc_text_end[], fc_gs[];

static bool have_fsgsbase(void)
{
	return getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE;
}


static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static uint64_t gs_word = 0x6a6a6a6a12345678ull;
static volatile uint64_t h_gsbase, h_gs0, h_kernel_gs, h_user_gs;
static volatile int h_calls, h_ring3;

static void gs_handler(struct dune_tf *tf)
{
	uint64_t v;

	h_gsbase = rdgsbase();
	__asm__ volatile("movq %%gs:0, %0" : "=r"(v));
	h_gs0 = v;
	syscall(SYS_arch_prctl, ARCH_GET_GS, &v);
	h_kernel_gs = v;
	h_calls++;
	if (h_ring3) {
		h_user_gs = tf->rdi;
		dune_ret_from_user(0);
	}
}

/* A handler of the program's, after it moved GS with WRGSBASE. */
static void test_gsbase_trap_handler(void)
{
	uint64_t v = 0;

	if (!have_fsgsbase()) {
		printf("    (no FSGSBASE on this kernel: nothing to test)\n");
		return;
	}
	enter();
	IT_ASSERT_EQ(dune_register_intr_handler(3, gs_handler), 0);
	wrgsbase((uint64_t)&gs_word);
	__asm__ volatile("int3");
	IT_ASSERT_EQ(h_calls, 1);
	IT_ASSERT_EQ(h_gsbase, (uint64_t)&gs_word);
	IT_ASSERT_EQ(h_gs0, gs_word);
	/* The handler's system call made the thread take the base. */
	IT_ASSERT_EQ(h_kernel_gs, (uint64_t)&gs_word);
	IT_ASSERT_EQ(rdgsbase(), (uint64_t)&gs_word);
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, ARCH_GET_GS, &v), 0);
	IT_ASSERT_EQ(v, (uint64_t)&gs_word);
	/* And arch_prctl the other way. */
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x1000), 0);
	IT_ASSERT_EQ(rdgsbase(), 0x1000);
}

/*
 * Ring 3 moves its GS base: it keeps it across a VM exit (CPUID), ring
 * 0's handler gets ring 0's base back (trap.S), and the thread on the
 * host never takes ring 3's base.
 */
static void test_gsbase_ring3(void)
{
	struct dune_tf tf;

	if (!have_fsgsbase()) {
		printf("    (no FSGSBASE on this kernel: nothing to test)\n");
		return;
	}
	enter_user();
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, fc_text_start,
				      fc_text_end - fc_text_start, PERM_UCODE),
		     0);
	dune_register_syscall_handler(gs_handler);
	h_ring3 = 1;
	wrgsbase((uint64_t)&gs_word);
	user_tf(&tf, fc_gs);
	tf.r12 = 0x7654321000ull;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 0);
	IT_ASSERT_EQ(h_calls, 1);
	IT_ASSERT_EQ(h_user_gs, 0x7654321000ull);
	IT_ASSERT_EQ(h_gsbase, (uint64_t)&gs_word);
	IT_ASSERT_EQ(h_kernel_gs, (uint64_t)&gs_word);
	IT_ASSERT_EQ(rdgsbase(), (uint64_t)&gs_word);
}

/* What MOV from CR4 shows and what CPUID says about it agree. */
static void test_cr4_cpuid(void)
{
	unsigned int a, b, c, d;
	uint64_t cr4;

	enter();
	cr4 = read_cr4();
	IT_ASSERT_EQ(!!(cr4 & X86_CR4_FSGSBASE), have_fsgsbase());
	__cpuid(1, a, b, c, d);
	IT_ASSERT_EQ(!!(c & (1u << 27)), !!(cr4 & X86_CR4_OSXSAVE));
	IT_ASSERT_EQ(c & (1u << 5), 0);		/* VMX hidden */
	__cpuid_count(7, 0, a, b, c, d);
	IT_ASSERT_EQ(!!(c & (1u << 4)), !!(cr4 & X86_CR4_PKE));
}

static volatile uint64_t gp_rip, gp_err;
static volatile int gp_calls;

static void gp_skip(struct dune_tf *tf)
{
	gp_rip = tf->rip;
	gp_err = tf->err;
	gp_calls++;
	tf->rip += 2;	/* rdtsc */
}

/* PR_TSC_SIGSEGV: RDTSC is a #GP(0) at the instruction; then it is not. */
static void test_tsc_faulting(void)
{
	extern char fc_rdtsc[];
	uint32_t lo, hi;

	enter();
	IT_ASSERT_EQ(dune_register_intr_handler(13, gp_skip), 0);
	IT_ASSERT_EQ(prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0), 0);
	__asm__ volatile("fc_rdtsc: rdtsc" : "=a"(lo), "=d"(hi));
	IT_ASSERT_EQ(gp_calls, 1);
	IT_ASSERT_EQ(gp_rip, (uint64_t)fc_rdtsc);
	IT_ASSERT_EQ(gp_err, 0);
	IT_ASSERT_EQ(prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0), 0);
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	IT_ASSERT_EQ(gp_calls, 1);
}

static volatile int v80_calls;

static void v80_handler(struct dune_tf *tf)
{
	v80_calls++;
	tf->rax = 4321;
}

static long int80(long nr)
{
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr) : "memory");
	return r;
}

/* int $0x80: the i386 getpid; a registered handler for 0x80 comes first. */
static void test_int80_handler(void)
{
	enter();
	IT_ASSERT_EQ(int80(20), getpid());
	IT_ASSERT_EQ(int80(0x7fff), -ENOSYS);
	IT_ASSERT_EQ(dune_register_intr_handler(0x80, v80_handler), 0);
	IT_ASSERT_EQ(int80(20), 4321);
	IT_ASSERT_EQ(v80_calls, 1);
	IT_ASSERT_EQ(dune_register_intr_handler(0x80, NULL), 0);
	IT_ASSERT_EQ(int80(20), getpid());
}

/*
 * The raw interface: a vCPU made with DUNE_VCPU_THREAD_BASES keeps the GS
 * base it wrote across exits, the thread takes it at a VMCALL, and a base
 * the thread gets from arch_prctl goes to the guest.  (Without the flag:
 * itest-vcpu-features/fsgs_base_without_exits.)
 */
#define RDGS_TO_R9 "mov $" XSTR(MSR_GS_BASE_NR) ", %ecx\nrdmsr\n" \
	"shl $32, %rdx\nor %rdx, %rax\nmov %rax, %r9\n"
GUEST_ASM(g_tb,
	  "mov $" XSTR(MSR_GS_BASE_NR) ", %ecx\n"
	  "mov %rdi, %rax\n"
	  "mov %rdi, %rdx\n"
	  "shr $32, %rdx\n"
	  "wrmsr\n"
	  "vmcall\n"				/* 1: written */
	  RDGS_TO_R9
	  "vmcall\n"				/* 2: kept */
	  RDGS_TO_R9
	  "vmcall\n");				/* 3: the thread's new one */

static void test_thread_bases_raw(void)
{
	struct dune_vcpu_config c;
	unsigned long gs0, v = 0;
	struct dune_run run;
	int fd;

	if (!have_fsgsbase()) {
		printf("    (no FSGSBASE on this kernel: nothing to test)\n");
		return;
	}
	guest_setup();
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs0), 0);
	config_asm(&c, g_tb_start, g_tb_end);
	c.flags |= DUNE_VCPU_THREAD_BASES;
	fd = vcpu_create_run(&c, &run);
	run.regs.rdi = 0x12345000;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, ARCH_GET_GS, &v), 0);
	IT_ASSERT_EQ(v, 0x12345000);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.regs.r9, 0x12345000);
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x2000), 0);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.regs.r9, 0x2000);
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, ARCH_SET_GS, gs0), 0);
	close(fd);
}

static const struct itest tests[] = {
	{ "thread_bases_raw", test_thread_bases_raw },
	{ "gsbase_trap_handler", test_gsbase_trap_handler },
	{ "gsbase_ring3", test_gsbase_ring3 },
	{ "cr4_cpuid", test_cr4_cpuid },
	{ "tsc_faulting", test_tsc_faulting },
	{ "int80_handler", test_int80_handler },
};

ITEST_MAIN(tests)
