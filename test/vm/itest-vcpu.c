// SPDX-License-Identifier: MIT
/*
 * Integration tests of dune.ko's vCPU interface, without libdune: a tiny
 * hand-made guest (vcpu-guest.h).  This pins down the kernel side: VMCALL
 * exits (and their refusal at CPL 3), EPT faults, CPUID, the LSTAR
 * pass-through, PCIDs, interrupt injection, fatal exits, stats, and every
 * kind of bad input the ioctls must refuse.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vcpu-guest.h"

static void test_vmcall_roundtrip(void)
{
	/* vmcall; mov %rax,%rbx; vmcall; hlt; ud2 */
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1, 0x48, 0x89, 0xc3,
					0x0f, 0x01, 0xc1, 0xf4, 0x0f, 0x0b };
	struct dune_stats st;
	struct dune_run run;
	int fd;

	guest_setup();
	fd = vcpu_new(code, sizeof(code), &run);
	run.regs.rax = 39;
	run.regs.rdi = 0x1111;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 39);
	IT_ASSERT_EQ(run.regs.rdi, 0x1111);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE) + 3);
	run.regs.rax = 777;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rbx, 777);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE) + 9);
	/* hlt is skipped in the kernel; ud2 with no IDT is a triple fault */
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FATAL);
	IT_ASSERT_EQ(run.vmx_exit_reason, 2);
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), -1);
	IT_ASSERT_EQ(errno, EIO);
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_STATS, &st), 0);
	IT_ASSERT_EQ(st.by_reason[18], 2);
	IT_ASSERT_EQ(st.by_reason[12], 1);
	IT_ASSERT_EQ(st.by_reason[2], 1);
	IT_ASSERT(st.exits >= 4);
	IT_ASSERT_EQ(st.user_exits, 3);
	IT_ASSERT(st.ept_maps >= 3);
	close(fd);
}

static void test_memory_shared_and_faults(void)
{
	/* mov (%rsi),%rax; vmcall; mov %rdx,(%rsi); vmcall */
	static const uint8_t code[] = { 0x48, 0x8b, 0x06, 0x0f, 0x01, 0xc1,
					0x48, 0x89, 0x16, 0x0f, 0x01, 0xc1 };
	volatile uint64_t *data = (uint64_t *)PG(P_DATA);
	struct dune_run run;
	int fd;

	guest_setup();
	*data = 0xfeedface;
	fd = vcpu_new(code, sizeof(code), &run);
	run.regs.rsi = PG(P_DATA);
	run.regs.rdx = 0xabcdef;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 0xfeedface);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(*data, 0xabcdef);

	/* a read from a hole the process has no mapping for */
	run.regs.rip = PG(P_CODE);
	run.regs.rsi = PG(P_HOLE) + 8;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FAULT);
	IT_ASSERT_EQ(run.fault_addr, PG(P_HOLE) + 8);
	IT_ASSERT_EQ(run.fault_gpa, PG(P_HOLE) + 8);
	IT_ASSERT_EQ(run.fault_flags, DUNE_FAULT_READ | DUNE_FAULT_LINEAR);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE));

	/* reading a read-only page works, writing it faults */
	*(volatile uint64_t *)PG(P_RO);
	run.regs.rsi = PG(P_RO);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FAULT);
	IT_ASSERT_EQ(run.fault_flags, DUNE_FAULT_WRITE | DUNE_FAULT_LINEAR);
	IT_ASSERT_EQ(run.fault_addr, PG(P_RO));

	/* once the process may write, so may the guest */
	IT_ASSERT(mprotect((void *)PG(P_RO), 4096, PROT_READ | PROT_WRITE) == 0);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(*(volatile uint64_t *)PG(P_RO), 0xabcdef);

	/* munmap under the guest: the old page must not stay reachable */
	run.regs.rip = PG(P_CODE);
	run.regs.rsi = PG(P_DATA);
	IT_ASSERT(munmap((void *)PG(P_DATA), 4096) == 0);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FAULT);
	IT_ASSERT_EQ(run.fault_addr, PG(P_DATA));
	close(fd);
}

static void test_cpuid_hides_vmx(void)
{
	/* cpuid; vmcall */
	static const uint8_t code[] = { 0x0f, 0xa2, 0x0f, 0x01, 0xc1 };
	struct dune_run run;
	int fd;

	guest_setup();
	fd = vcpu_new(code, sizeof(code), &run);
	run.regs.rax = 1;
	run.regs.rcx = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rcx & (1 << 5), 0);
	/* SSE2 is there, as on the host */
	IT_ASSERT(run.regs.rdx & (1 << 26));
	close(fd);
}

static void test_bad_slots(void)
{
	struct dune_caps caps;
	struct dune_slot s;

	guest_setup();
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_GET_CAPS, &caps), 0);
#define BAD_SLOT(err, ...)                                            \
	do {                                                          \
		s = (struct dune_slot){ __VA_ARGS__ };                \
		errno = 0;                                            \
		IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, &s), -1);   \
		IT_ASSERT_EQ(errno, err);                             \
	} while (0)
	BAD_SLOT(EINVAL, .index = DUNE_MAX_SLOTS, .gpa = 0, .hva = BASE, .size = 4096);
	BAD_SLOT(EINVAL, .index = 1, .flags = 1, .gpa = 0, .hva = BASE, .size = 4096);
	BAD_SLOT(EINVAL, .index = 1, .gpa = 0x100, .hva = BASE, .size = 4096);
	BAD_SLOT(EINVAL, .index = 1, .gpa = 0, .hva = BASE + 1, .size = 4096);
	BAD_SLOT(EINVAL, .index = 1, .gpa = 0, .hva = BASE, .size = 100);
	BAD_SLOT(ERANGE, .index = 1, .gpa = 1ull << caps.maxphyaddr, .hva = BASE, .size = 4096);
	BAD_SLOT(ERANGE, .index = 1, .gpa = -4096ull, .hva = BASE, .size = 8192);
	BAD_SLOT(EINVAL, .index = 1, .gpa = 0, .hva = 0xffff800000000000ull, .size = 4096);
	BAD_SLOT(EEXIST, .index = 1, .gpa = BASE + 4096, .hva = BASE, .size = 4096);
	errno = 0;
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, NULL), -1);
	IT_ASSERT_EQ(errno, EFAULT);
	/* deleting and re-adding a slot works */
	s = (struct dune_slot){ .index = 0 };
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, &s), 0);
	s = (struct dune_slot){ .index = 0, .gpa = BASE, .hva = BASE, .size = SIZE };
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, &s), 0);
}

static void test_bad_vcpu_configs(void)
{
	struct dune_vcpu_config c;
	struct dune_caps caps;

	guest_setup();
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_GET_CAPS, &caps), 0);
#define BAD_CFG(field, val)                                              \
	do {                                                             \
		config_init(&c, (const uint8_t *)"\xf4", 1);             \
		c.field = val;                                           \
		errno = 0;                                               \
		IT_ASSERT_EQ(ioctl(dev_fd, DUNE_CREATE_VCPU, &c), -1);   \
		IT_ASSERT_EQ(errno, EINVAL);                             \
	} while (0)
	BAD_CFG(reserved[2], 1);
	BAD_CFG(reserved[0], 1);
	BAD_CFG(flags, 1ull << 1);
	BAD_CFG(flags, 1ull << 63);
	if (!(caps.flags & DUNE_CAP_PCID))
		BAD_CFG(flags, DUNE_VCPU_PCID);
	BAD_CFG(pad[0], 1);
	BAD_CFG(cs, 0);
	BAD_CFG(cs, 0x0b);
	BAD_CFG(tr, 0x100);
	BAD_CFG(cr3, PG(0) + 8);
	BAD_CFG(cr3, 1ull << 52);
	BAD_CFG(regs.rip, 0x0000800000000000ull);
	errno = 0;
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_CREATE_VCPU, (void *)8), -1);
	IT_ASSERT_EQ(errno, EFAULT);
}



/*
 * Drop to ring 3 with iretq and execute VMCALL there; the #UD handler
 * reports the faulting RIP and CS with a VMCALL of its own (at CPL 0).
 */
GUEST_ASM(g_r3,
	  "pushq $0x2b\n"		/* SS */
	  "pushq %rdi\n"		/* RSP */
	  "pushq $0x2\n"		/* RFLAGS */
	  "pushq $0x33\n"		/* CS */
	  "lea g_r3_user(%rip), %rax\n"
	  "pushq %rax\n"
	  "iretq\n"
	  "g_r3_user: vmcall\n"
	  "ud2\n"
	  "g_r3_ud: mov (%rsp), %rbx\n"	/* RIP of the fault */
	  "mov 8(%rsp), %rcx\n"		/* CS of the fault */
	  "mov $0x600d, %eax\n"
	  "vmcall\n"
	  "g_r3_ud_done: ud2\n");
GUEST_LABEL(g_r3, g_r3_user);
GUEST_LABEL(g_r3, g_r3_ud);
GUEST_LABEL(g_r3, g_r3_ud_done);

static void test_vmcall_from_ring3_is_ud(void)
{
	struct dune_stats st;
	struct dune_run run;
	int fd;

	guest_setup();
	guest_user_pages();
	idt_set(6, GADDR(g_r3, g_r3_ud));
	fd = vcpu_new_asm(g_r3_start, g_r3_end, &run);
	run.regs.rdi = BASE + 0x1c0000;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	/* the only VMCALL that comes out is the #UD handler's, at CPL 0 */
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 0x600d);
	IT_ASSERT_EQ(run.regs.rbx, GADDR(g_r3, g_r3_user));
	IT_ASSERT_EQ(run.regs.rcx, 0x33);
	IT_ASSERT_EQ(run.regs.rip, GADDR(g_r3, g_r3_ud_done));
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_STATS, &st), 0);
	IT_ASSERT_EQ(st.by_reason[18], 2);	/* both VMCALLs exited ... */
	IT_ASSERT_EQ(st.user_exits, 1);		/* ... one reached us */
	close(fd);
}

/*
 * LSTAR is the guest's own: RDMSR/WRMSR of it do not exit, its value
 * survives exits, a non-canonical value is the CPU's #GP in the guest.
 * STAR still goes through the WRMSR/RDMSR exits.
 */
GUEST_ASM(g_lstar,
	  "mov $0xc0000082, %ecx\n"
	  "rdmsr\n"
	  "vmcall\n"				/* 1: initial value */
	  "mov $0xc0000082, %ecx\n"
	  "mov %rsi, %rax\n"
	  "mov %rsi, %rdx\n"
	  "shr $32, %rdx\n"
	  "wrmsr\n"
	  "xor %eax, %eax\n"
	  "cpuid\n"
	  "vmcall\n"				/* 2: exits in between */
	  "mov $0xc0000082, %ecx\n"
	  "rdmsr\n"
	  "vmcall\n"				/* 3: read back */
	  "mov $0xc0000081, %ecx\n"
	  "mov %rdi, %rax\n"
	  "mov %rdi, %rdx\n"
	  "shr $32, %rdx\n"
	  "wrmsr\n"
	  "mov $0xc0000081, %ecx\n"
	  "rdmsr\n"
	  "vmcall\n"				/* 4: STAR */
	  "mov $0xc0000082, %ecx\n"
	  "xor %eax, %eax\n"
	  "mov $0x8000, %edx\n"
	  "g_lstar_bad: wrmsr\n"		/* 0x0000800000000000 */
	  "ud2\n"
	  "g_lstar_gp: mov 8(%rsp), %rbx\n"	/* RIP of the fault */
	  "mov $0x13, %eax\n"
	  "vmcall\n");
GUEST_LABEL(g_lstar, g_lstar_bad);
GUEST_LABEL(g_lstar, g_lstar_gp);

static void test_lstar_without_exits(void)
{
	const uint64_t v1 = 0xffffffff81234560ull, v2 = 0x00007f0012345678ull;
	const uint64_t star = 0x0023001000000000ull;
	struct dune_vcpu_config c;
	struct dune_stats st;
	struct dune_run run;
	int fd;

	guest_setup();
	idt_set(13, GADDR(g_lstar, g_lstar_gp));
	config_asm(&c, g_lstar_start, g_lstar_end);
	c.lstar = v1;
	fd = vcpu_create_run(&c, &run);
	run.regs.rsi = v2;
	run.regs.rdi = star;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ((uint32_t)run.regs.rax | run.regs.rdx << 32, v1);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ((uint32_t)run.regs.rax | run.regs.rdx << 32, v2);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ((uint32_t)run.regs.rax | run.regs.rdx << 32, star);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 0x13);
	IT_ASSERT_EQ(run.regs.rbx, GADDR(g_lstar, g_lstar_bad));
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_STATS, &st), 0);
	IT_ASSERT_EQ(st.by_reason[10], 1);	/* CPUID */
	IT_ASSERT_EQ(st.by_reason[31], 1);	/* RDMSR: STAR only */
	IT_ASSERT_EQ(st.by_reason[32], 1);	/* WRMSR: STAR only */
	close(fd);
}

/*
 * FS_BASE and GS_BASE are the guest's own: WRMSR/RDMSR do not exit, and
 * the next VM entry gives the guest the thread's bases again.  (Memory
 * accesses through the new bases are checked by itest-dune-user's
 * tls_in_handlers: in this bare guest, Bochs 2.7 reads %fs:0 right after
 * the WRMSR through the base from the VM entry, although RDMSR already
 * returns the new one.)
 */
#define RDMSR_TO(reg) "rdmsr\nshl $32, %rdx\nor %rdx, %rax\nmov %rax, " reg "\n"
GUEST_ASM(g_fsgs,
	  "mov $0xc0000100, %ecx\n"
	  "mov %rsi, %rax\n"
	  "mov %rsi, %rdx\n"
	  "shr $32, %rdx\n"
	  "wrmsr\n"
	  "mov $0xc0000101, %ecx\n"
	  "mov %rdi, %rax\n"
	  "mov %rdi, %rdx\n"
	  "shr $32, %rdx\n"
	  "wrmsr\n"
	  "mov $0xc0000100, %ecx\n" RDMSR_TO("%r8")
	  "mov $0xc0000101, %ecx\n" RDMSR_TO("%r9")
	  "vmcall\n"				/* 1: as written */
	  "mov $0xc0000100, %ecx\n" RDMSR_TO("%r8")
	  "mov $0xc0000101, %ecx\n" RDMSR_TO("%r9")
	  "vmcall\n"				/* 2: the thread's */
	  "g_fsgs_fault: mov 8(%rsp), %rbx\n"	/* RIP of the fault */
	  "mov %cr2, %rcx\n"
	  "mov $0xbad, %eax\n"
	  "vmcall\n");
GUEST_LABEL(g_fsgs, g_fsgs_fault);

static void test_fsgs_base_without_exits(void)
{
	unsigned long fs, gs;
	struct dune_stats st;
	struct dune_run run;
	int fd;

	guest_setup();
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs), 0);
	idt_set(13, GADDR(g_fsgs, g_fsgs_fault));
	idt_set(14, GADDR(g_fsgs, g_fsgs_fault));
	fd = vcpu_new_asm(g_fsgs_start, g_fsgs_end, &run);
	run.regs.rsi = PG(P_DATA);
	run.regs.rdi = PG(P_DATA) + 16;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	if (run.regs.rax == 0xbad)
		IT_FAIL("guest fault at %#llx (cr2 %#llx); FS_BASE read back %#llx, GS_BASE %#llx",
			run.regs.rbx, run.regs.rcx, run.regs.r8, run.regs.r9);
	IT_ASSERT_EQ(run.regs.r8, PG(P_DATA));
	IT_ASSERT_EQ(run.regs.r9, PG(P_DATA) + 16);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.r8, fs);
	IT_ASSERT_EQ(run.regs.r9, gs);
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_STATS, &st), 0);
	IT_ASSERT_EQ(st.by_reason[31], 0);	/* RDMSR */
	IT_ASSERT_EQ(st.by_reason[32], 0);	/* WRMSR */
	close(fd);
}

/*
 * DUNE_VCPU_PCID: CR4.PCIDE shows in the guest's CR4 and CPUID; CR3 takes
 * a PCID and bit 63 ("do not flush"), which never reaches CR3 itself;
 * INVPCID works when the module says so.
 */
GUEST_ASM(g_pcid,
	  "mov %cr4, %rax\n"
	  "vmcall\n"				/* 1: CR4 */
	  "mov $1, %eax\n"
	  "xor %ecx, %ecx\n"
	  "cpuid\n"
	  "vmcall\n"				/* 2: CPUID.1 */
	  "mov %cr3, %rbx\n"
	  "or %rsi, %rbx\n"
	  "mov %rbx, %cr3\n"
	  "mov %cr3, %rax\n"
	  "mov (%rdi), %rbx\n"			/* the new CR3 maps memory */
	  "vmcall\n"				/* 3: CR3 read back */
	  "mov $1, %eax\n"			/* single-context INVPCID */
	  "invpcid (%r8), %rax\n"
	  "vmcall\n");				/* 4 */

static void test_pcid(void)
{
	const uint64_t pcid = 5, noflush = 1ull << 63;
	volatile uint64_t *data = (uint64_t *)PG(P_DATA);
	struct dune_vcpu_config c;
	struct dune_caps caps;
	struct dune_run run;
	int fd;

	guest_setup();
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_GET_CAPS, &caps), 0);
	config_asm(&c, g_pcid_start, g_pcid_end);
	c.flags = DUNE_VCPU_PCID;
	if (!(caps.flags & DUNE_CAP_PCID)) {
		errno = 0;
		IT_ASSERT_EQ(ioctl(dev_fd, DUNE_CREATE_VCPU, &c), -1);
		IT_ASSERT_EQ(errno, EINVAL);
		printf("    (no DUNE_CAP_PCID: only the refusal checked)\n");
		return;
	}
	data[0] = 0x5151;
	data[1] = pcid;		/* INVPCID descriptor: PCID, address 0 */
	data[2] = 0;
	fd = vcpu_create_run(&c, &run);
	run.regs.rsi = noflush | pcid;
	run.regs.rdi = PG(P_DATA);
	run.regs.r8 = PG(P_DATA) + 8;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT(run.regs.rax & (1 << 17));
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT(run.regs.rcx & (1 << 17));
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, PG(0) | pcid);
	IT_ASSERT_EQ(run.regs.rbx, 0x5151);
	if (caps.flags & DUNE_CAP_INVPCID) {
		IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	}
	close(fd);

	/* without the flag: no PCIDE, and CPUID does not offer PCID */
	config_asm(&c, g_pcid_start, g_pcid_end);
	fd = vcpu_create_run(&c, &run);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.regs.rax & (1 << 17), 0);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.regs.rcx & (1 << 17), 0);
	close(fd);
}

/*
 * dune_run.inject_vector: delivered through the guest's IDT before the
 * next instruction when IF = 1; held back (and still set when DUNE_RUN
 * returns) while IF = 0 and in the STI shadow.  The handler reports the
 * RIP it interrupted.
 */
GUEST_ASM(g_irq,
	  "vmcall\n"				/* 1 */
	  "g_irq_next: mov $1, %ebx\n"
	  "vmcall\n"				/* 3 */
	  "cli\n"
	  "vmcall\n"				/* 4 */
	  "vmcall\n"				/* 5 */
	  "g_irq_sti: sti\n"
	  "mov $2, %ebx\n"			/* in the STI shadow */
	  "g_irq_after_sti: mov $3, %ebx\n"
	  "vmcall\n"				/* 7 */
	  "ud2\n"
	  "g_irq_handler: mov (%rsp), %rcx\n"
	  "mov 16(%rsp), %rdx\n"		/* RFLAGS interrupted */
	  "mov $0x50, %eax\n"
	  "vmcall\n"				/* 2, 6 */
	  "iretq\n");
GUEST_LABEL(g_irq, g_irq_next);
GUEST_LABEL(g_irq, g_irq_sti);
GUEST_LABEL(g_irq, g_irq_after_sti);
GUEST_LABEL(g_irq, g_irq_handler);

static void test_inject_interrupt(void)
{
	struct dune_stats st;
	struct dune_run run;
	int fd;

	guest_setup();
	idt_set(0x50, GADDR(g_irq, g_irq_handler));
	fd = vcpu_new_asm(g_irq_start, g_irq_end, &run);
	run.regs.rflags = 0x202;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rip, GADDR(g_irq, g_irq_next));

	/* IF = 1: the handler runs before the guest's next instruction */
	run.inject_vector = 0x50;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.inject_vector, 0);
	IT_ASSERT_EQ(run.regs.rax, 0x50);
	IT_ASSERT_EQ(run.regs.rcx, GADDR(g_irq, g_irq_next));
	IT_ASSERT_EQ(run.regs.rbx, 0);
	IT_ASSERT(run.regs.rdx & 0x200);
	IT_ASSERT_EQ(run.regs.rflags & 0x200, 0); /* interrupt gate */
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.regs.rbx, 1);
	IT_ASSERT_EQ(run.regs.rax, 0x50);	/* no second delivery */

	/* IF = 0: not delivered across VMCALLs, still pending */
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.regs.rflags & 0x200, 0);
	run.regs.rax = 0;
	run.inject_vector = 0x50;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.inject_vector, 0x50);
	IT_ASSERT_EQ(run.regs.rax, 0);
	IT_ASSERT_EQ(run.regs.rip, GADDR(g_irq, g_irq_sti));
	/* STI, then one instruction in its shadow, then the interrupt */
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.inject_vector, 0);
	IT_ASSERT_EQ(run.regs.rax, 0x50);
	IT_ASSERT_EQ(run.regs.rcx, GADDR(g_irq, g_irq_after_sti));
	IT_ASSERT_EQ(run.regs.rbx, 2);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.regs.rbx, 3);
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_STATS, &st), 0);
	IT_ASSERT(st.by_reason[7] >= 1);	/* interrupt window */

	/* vectors the guest's IDT cannot take as interrupts; pad2 */
	run.inject_vector = 31;
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), -1);
	IT_ASSERT_EQ(errno, EINVAL);
	run.inject_vector = 256;
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), -1);
	IT_ASSERT_EQ(errno, EINVAL);
	run.inject_vector = 2;
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), -1);
	IT_ASSERT_EQ(errno, EINVAL);
	run.inject_vector = 0x50;
	run.pad2 = 1;
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), -1);
	IT_ASSERT_EQ(errno, EINVAL);
	close(fd);
}

/*
 * One event per VM entry, the exception first: an interrupt waiting for
 * the STI shadow to end is still waiting when the instruction in the
 * shadow faults (#GP for I/O), and arrives once the #GP handler returns.
 */
GUEST_ASM(g_ord,
	  "cli\n"
	  "vmcall\n"				/* 1 */
	  "sti\n"
	  "g_ord_in: inb $0x80, %al\n"		/* in the STI shadow */
	  "g_ord_after: mov $7, %ebx\n"
	  "vmcall\n"				/* 4 */
	  "ud2\n"
	  "g_ord_gp: mov 8(%rsp), %rcx\n"
	  "addq $2, 8(%rsp)\n"			/* past the inb */
	  "mov $0xd, %eax\n"
	  "vmcall\n"				/* 2 */
	  "add $8, %rsp\n"			/* the error code */
	  "iretq\n"
	  "g_ord_irq: mov (%rsp), %rcx\n"
	  "mov $0x50, %eax\n"
	  "vmcall\n"				/* 3 */
	  "iretq\n");
GUEST_LABEL(g_ord, g_ord_in);
GUEST_LABEL(g_ord, g_ord_after);
GUEST_LABEL(g_ord, g_ord_gp);
GUEST_LABEL(g_ord, g_ord_irq);

static void test_inject_after_pending_exception(void)
{
	struct dune_run run;
	int fd;

	guest_setup();
	idt_set(13, GADDR(g_ord, g_ord_gp));
	idt_set(0x50, GADDR(g_ord, g_ord_irq));
	fd = vcpu_new_asm(g_ord_start, g_ord_end, &run);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	run.inject_vector = 0x50;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 0xd);
	IT_ASSERT_EQ(run.regs.rcx, GADDR(g_ord, g_ord_in));
	IT_ASSERT_EQ(run.inject_vector, 0x50);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 0x50);
	IT_ASSERT_EQ(run.regs.rcx, GADDR(g_ord, g_ord_after));
	IT_ASSERT_EQ(run.inject_vector, 0);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rbx, 7);
	close(fd);
}

static int shared_vcpu_fd;
static struct dune_run shared_run;

static void *other_thread_runs(void *arg)
{
	errno = 0;
	return (void *)(long)(ioctl(shared_vcpu_fd, DUNE_RUN, &shared_run) == -1 ?
				      errno : 0);
}

static void *thread_creates_vcpu(void *arg)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };

	shared_vcpu_fd = vcpu_new(code, sizeof(code), &shared_run);
	return NULL;
}

static void test_vcpu_owner_only(void)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
	struct dune_run run;
	pthread_t t;
	void *ret;
	int st;

	guest_setup();
	/* another thread may not drive my vCPU */
	shared_vcpu_fd = vcpu_new(code, sizeof(code), &shared_run);
	IT_ASSERT_EQ(pthread_create(&t, NULL, other_thread_runs, NULL), 0);
	IT_ASSERT_EQ(pthread_join(t, &ret), 0);
	IT_ASSERT_EQ((long)ret, EPERM);
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_RUN, &shared_run), 0);
	close(shared_vcpu_fd);

	/* a vCPU whose owner thread exited cannot be run by anyone */
	IT_ASSERT_EQ(pthread_create(&t, NULL, thread_creates_vcpu, NULL), 0);
	IT_ASSERT_EQ(pthread_join(t, NULL), 0);
	errno = 0;
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_RUN, &shared_run), -1);
	IT_ASSERT_EQ(errno, EPERM);
	close(shared_vcpu_fd);

	/* after fork, the child may use neither the context nor the vCPU */
	shared_vcpu_fd = vcpu_new(code, sizeof(code), &run);
	pid_t pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		struct dune_vcpu_config c;
		struct dune_slot s = { .index = 1, .gpa = 0, .hva = BASE, .size = 4096 };

		config_init(&c, code, sizeof(code));
		if (ioctl(dev_fd, DUNE_SET_SLOT, &s) != -1 || errno != EBADFD)
			_exit(1);
		if (ioctl(dev_fd, DUNE_CREATE_VCPU, &c) != -1 || errno != EBADFD)
			_exit(2);
		if (ioctl(shared_vcpu_fd, DUNE_RUN, &run) != -1 || errno != EPERM)
			_exit(3);
		if (ioctl(shared_vcpu_fd, DUNE_GET_STATS, &run) != -1 || errno != EPERM)
			_exit(4);
		/* but a fresh open works in the child */
		int fd = dune_dev_open();
		s.index = 0;
		s.gpa = BASE;
		s.size = SIZE;
		if (fd < 0 || ioctl(fd, DUNE_SET_SLOT, &s))
			_exit(5);
		_exit(0);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFEXITED(st));
	IT_ASSERT_EQ(WEXITSTATUS(st), 0);
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_RUN, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	/* bad pointers and unknown commands on a vCPU fd */
	errno = 0;
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_RUN, NULL), -1);
	IT_ASSERT_EQ(errno, EFAULT);
	errno = 0;
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_GET_STATS, (void *)1), -1);
	IT_ASSERT_EQ(errno, EFAULT);
	errno = 0;
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_GET_CAPS, &run), -1);
	IT_ASSERT_EQ(errno, ENOTTY);
	close(shared_vcpu_fd);
}

/* Many vCPUs and contexts made and dropped: nothing may leak. */
static void test_create_destroy_many(void)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
	struct dune_run run;
	int i, fd;

	guest_setup();
	for (i = 0; i < 200; i++) {
		fd = vcpu_new(code, sizeof(code), &run);
		IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
		close(fd);
	}
	close(dev_fd);
}

/*
 * VT-x held by another hypervisor: Debian's kvm_intel with a VM (on 6.12
 * kvm holds VT-x from load on).  dune.ko must refuse with EBUSY and say
 * why, never crash, and work again once kvm is gone.
 */
static void test_kvm_holds_vtx(void)
{
	struct dune_slot s = { .index = 0, .gpa = BASE, .hva = BASE, .size = SIZE };
	int kvm, vm, fd;

	IT_ASSERT_EQ(itest_sh("insmod /opt/dune/kvm/irqbypass.ko && "
			      "insmod /opt/dune/kvm/kvm.ko && "
			      "insmod /opt/dune/kvm/kvm-intel.ko"), 0);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	IT_ASSERT(kvm >= 0);
	vm = ioctl(kvm, 0xAE01 /* KVM_CREATE_VM */, 0);
	IT_ASSERT(vm >= 0);

	fd = dune_dev_open();
	IT_ASSERT(fd >= 0);
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_SET_SLOT, &s), -1);
	IT_ASSERT_EQ(errno, EBUSY);
	IT_ASSERT_EQ(itest_sh("dmesg | grep -q 'in use by another hypervisor'"), 0);
	/* capabilities still answer */
	struct dune_caps caps;
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_CAPS, &caps), 0);
	close(fd);

	close(vm);
	close(kvm);
	IT_ASSERT_EQ(itest_sh("rmmod kvm_intel && rmmod kvm && rmmod irqbypass"), 0);
	guest_setup();
	{
		static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
		struct dune_run run;

		fd = vcpu_new(code, sizeof(code), &run);
		IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
		close(fd);
	}
}

static void run_on_cpu(int fd, struct dune_run *run, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	IT_ASSERT_EQ(sched_setaffinity(0, sizeof(set), &set), 0);
	run->regs.rip = PG(P_CODE);
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, run), 0);
	IT_ASSERT_EQ(run->exit_reason, DUNE_EXIT_VMCALL);
}

/*
 * The vCPU follows its thread from CPU to CPU, and CPU hotplug while a
 * vCPU exists: the VMCS active on a CPU going offline is cleared there,
 * and a CPU coming online joins VMX operation.  Needs 2 CPUs.
 */
static void test_migration_and_hotplug(void)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
	struct dune_run run;
	int fd, i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("    (one CPU: migration and hotplug need two; checked in the 2-CPU run)\n");
		return;
	}
	guest_setup();
	fd = vcpu_new(code, sizeof(code), &run);
	for (i = 0; i < 20; i++)
		run_on_cpu(fd, &run, i & 1);
	/* offline the CPU whose VMCS is active, then run elsewhere */
	IT_ASSERT_EQ(itest_sh("echo 0 > /sys/devices/system/cpu/cpu1/online"), 0);
	run_on_cpu(fd, &run, 0);
	IT_ASSERT_EQ(itest_sh("echo 1 > /sys/devices/system/cpu/cpu1/online"), 0);
	for (i = 0; i < 10; i++)
		run_on_cpu(fd, &run, 1 - (i & 1));
	close(fd);
}

/* perf / trace-cmd users see VM exits through the dune tracepoints. */
static void test_tracepoints(void)
{
	IT_ASSERT_EQ(itest_sh("grep -q ' /sys/kernel/tracing ' /proc/mounts || "
			      "mount -t tracefs nodev /sys/kernel/tracing"), 0);
	IT_ASSERT_EQ(itest_sh("cd /sys/kernel/tracing && echo > trace && "
			      "echo 1 > events/dune/enable && "
			      "dune-bench 1 > /dev/null; "
			      "echo 0 > /sys/kernel/tracing/events/dune/enable"), 0);
	/* VMCALL is basic exit reason 18 */
	IT_ASSERT_EQ(itest_sh("grep -q 'dune_exit: reason 18 ' /sys/kernel/tracing/trace"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q 'dune_user_exit: dune exit 1 ' /sys/kernel/tracing/trace"), 0);
}

static const struct itest tests[] = {
	{ "vmcall_roundtrip", test_vmcall_roundtrip },
	{ "memory_shared_and_faults", test_memory_shared_and_faults },
	{ "cpuid_hides_vmx", test_cpuid_hides_vmx },
	{ "bad_slots", test_bad_slots },
	{ "bad_vcpu_configs", test_bad_vcpu_configs },
	{ "vcpu_owner_only", test_vcpu_owner_only },
	{ "create_destroy_many", test_create_destroy_many },
	{ "kvm_holds_vtx", test_kvm_holds_vtx },
	{ "migration_and_hotplug", test_migration_and_hotplug },
	{ "tracepoints", test_tracepoints },
	{ "vmcall_from_ring3_is_ud", test_vmcall_from_ring3_is_ud },
	{ "lstar_without_exits", test_lstar_without_exits },
	{ "fsgs_base_without_exits", test_fsgs_base_without_exits },
	{ "pcid", test_pcid },
	{ "inject_interrupt", test_inject_interrupt },
	{ "inject_after_pending_exception", test_inject_after_pending_exception },
};

ITEST_MAIN(tests)
