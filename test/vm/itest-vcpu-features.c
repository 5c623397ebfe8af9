// SPDX-License-Identifier: MIT
/*
 * Integration tests of the guest-visible CPU features of dune.ko's vCPUs,
 * without libdune, on the hand-made guest of vcpu-guest.h with guests in
 * assembly: VMCALL refused at CPL 3, the LSTAR and FS/GS base
 * pass-through, PCIDs, and interrupt injection.  The ioctl interface
 * itself is tested by itest-vcpu.
 */
#include <asm/prctl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "vcpu-guest.h"

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
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	/* the only VMCALL that comes out is the #UD handler's, at CPL 0 */
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 0x600d);
	IT_ASSERT_EQ(run.regs.rbx, GADDR(g_r3, g_r3_user));
	IT_ASSERT_EQ(run.regs.rcx, 0x33);
	IT_ASSERT_EQ(run.regs.rip, GADDR(g_r3, g_r3_ud_done));
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_STATS, &st), 0);
	IT_ASSERT_EQ(st.by_reason[18], 2);	/* both VMCALLs exited ... */
	IT_ASSERT_EQ(st.user_exits, 1 + guest_signal_exits); /* one reached us */
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
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ((uint32_t)run.regs.rax | run.regs.rdx << 32, v1);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ((uint32_t)run.regs.rax | run.regs.rdx << 32, v2);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ((uint32_t)run.regs.rax | run.regs.rdx << 32, star);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
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
 * accesses through the new bases are checked by itest-dune-signal's
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
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	if (run.regs.rax == 0xbad)
		IT_FAIL("guest fault at %#llx (cr2 %#llx); FS_BASE read back %#llx, GS_BASE %#llx",
			run.regs.rbx, run.regs.rcx, run.regs.r8, run.regs.r9);
	IT_ASSERT_EQ(run.regs.r8, PG(P_DATA));
	IT_ASSERT_EQ(run.regs.r9, PG(P_DATA) + 16);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
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
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT(run.regs.rax & (1 << 17));
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT(run.regs.rcx & (1 << 17));
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, PG(0) | pcid);
	IT_ASSERT_EQ(run.regs.rbx, 0x5151);
	if (caps.flags & DUNE_CAP_INVPCID) {
		IT_ASSERT_EQ(guest_run(fd, &run), 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	}
	close(fd);

	/* without the flag: no PCIDE, and CPUID does not offer PCID */
	config_asm(&c, g_pcid_start, g_pcid_end);
	fd = vcpu_create_run(&c, &run);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.regs.rax & (1 << 17), 0);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
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
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rip, GADDR(g_irq, g_irq_next));

	/* IF = 1: the handler runs before the guest's next instruction */
	run.inject_vector = 0x50;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.inject_vector, 0);
	IT_ASSERT_EQ(run.regs.rax, 0x50);
	IT_ASSERT_EQ(run.regs.rcx, GADDR(g_irq, g_irq_next));
	IT_ASSERT_EQ(run.regs.rbx, 0);
	IT_ASSERT(run.regs.rdx & 0x200);
	IT_ASSERT_EQ(run.regs.rflags & 0x200, 0); /* interrupt gate */
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.regs.rbx, 1);
	IT_ASSERT_EQ(run.regs.rax, 0x50);	/* no second delivery */

	/* IF = 0: not delivered across VMCALLs, still pending */
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.regs.rflags & 0x200, 0);
	run.regs.rax = 0;
	run.inject_vector = 0x50;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.inject_vector, 0x50);
	IT_ASSERT_EQ(run.regs.rax, 0);
	IT_ASSERT_EQ(run.regs.rip, GADDR(g_irq, g_irq_sti));
	/* STI, then one instruction in its shadow, then the interrupt */
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.inject_vector, 0);
	IT_ASSERT_EQ(run.regs.rax, 0x50);
	IT_ASSERT_EQ(run.regs.rcx, GADDR(g_irq, g_irq_after_sti));
	IT_ASSERT_EQ(run.regs.rbx, 2);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
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
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	run.inject_vector = 0x50;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 0xd);
	IT_ASSERT_EQ(run.regs.rcx, GADDR(g_ord, g_ord_in));
	IT_ASSERT_EQ(run.inject_vector, 0x50);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 0x50);
	IT_ASSERT_EQ(run.regs.rcx, GADDR(g_ord, g_ord_after));
	IT_ASSERT_EQ(run.inject_vector, 0);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rbx, 7);
	close(fd);
}

static const struct itest tests[] = {
	{ "vmcall_from_ring3_is_ud", test_vmcall_from_ring3_is_ud },
	{ "lstar_without_exits", test_lstar_without_exits },
	{ "fsgs_base_without_exits", test_fsgs_base_without_exits },
	{ "pcid", test_pcid },
	{ "inject_interrupt", test_inject_interrupt },
	{ "inject_after_pending_exception", test_inject_after_pending_exception },
};

ITEST_MAIN(tests)
