/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The one interface between dune.ko and user space (libdune, tests, tools).
 *
 * Rules: fixed-width fields, explicit padding, no kernel pointers, every
 * struct size checked by a static assert below.  DUNE_API_VERSION changes
 * whenever any of this changes in a way an old binary would misread.
 */
#ifndef DUNE_UAPI_H
#define DUNE_UAPI_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define DUNE_API_VERSION 2
#define DUNE_DEVICE_NAME "dune"
#define DUNE_DEVICE_PATH "/dev/dune"

/* 0xE9 is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define DUNE_IOC_MAGIC 0xE9

/* dune_caps.flags: what the CPU offers, as probed once at module load. */
#define DUNE_CAP_EPT		 (1u << 0)
#define DUNE_CAP_VPID		 (1u << 1)
#define DUNE_CAP_EPT_AD		 (1u << 2)  /* EPT accessed/dirty flags */
#define DUNE_CAP_EPT_2M		 (1u << 3)
#define DUNE_CAP_EPT_1G		 (1u << 4)
#define DUNE_CAP_EPT_WB		 (1u << 5)  /* write-back EPT paging structures */
#define DUNE_CAP_EPT_UC		 (1u << 6)
#define DUNE_CAP_EPT_EXEC_ONLY	 (1u << 7)
#define DUNE_CAP_INVEPT		 (1u << 8)
#define DUNE_CAP_INVEPT_SINGLE	 (1u << 9)
#define DUNE_CAP_INVEPT_GLOBAL	 (1u << 10)
#define DUNE_CAP_INVVPID	 (1u << 11)
#define DUNE_CAP_INVVPID_ADDR	 (1u << 12)
#define DUNE_CAP_INVVPID_SINGLE	 (1u << 13)
#define DUNE_CAP_INVVPID_ALL	 (1u << 14)
#define DUNE_CAP_EPT_4LEVEL	 (1u << 15)
#define DUNE_CAP_TRUE_CTLS	 (1u << 16) /* IA32_VMX_TRUE_*_CTLS exist */
#define DUNE_CAP_UNRESTRICTED	 (1u << 17)
#define DUNE_CAP_VNMI		 (1u << 18)
#define DUNE_CAP_PCID		 (1u << 19) /* guests may use PCIDs: DUNE_VCPU_PCID */
#define DUNE_CAP_INVPCID	 (1u << 20) /* INVPCID works in the guest */

struct dune_caps {
	__u32 api_version;	/* DUNE_API_VERSION of the module */
	__u32 flags;		/* DUNE_CAP_* */
	__u32 maxphyaddr;	/* CPUID.80000008H:EAX[7:0] */
	__u32 vmcs_revision;	/* IA32_VMX_BASIC[30:0] */
	__u32 vmcs_size;	/* IA32_VMX_BASIC[44:32] */
	__u32 nr_cpus;		/* online CPUs at load */
	/* Raw MSR values the flags were derived from, for diagnostics. */
	__u64 msr_vmx_basic;
	__u64 msr_procbased2;
	__u64 msr_ept_vpid_cap;
	__u64 msr_feature_control;
	__u64 reserved[4];
};

#define DUNE_GET_CAPS _IOR(DUNE_IOC_MAGIC, 0x00, struct dune_caps)

/*
 * Guest-physical memory, much like KVM's memory slots: guest-physical
 * [gpa, gpa + size) is backed by the calling process's own virtual memory
 * [hva, hva + size).  EPT entries are made lazily on EPT violations, only
 * for pages the process has mapped, and with at most the permissions the
 * process has (a write fault breaks copy-on-write the normal way).
 * DUNE_SET_SLOT on the /dev/dune fd; size 0 deletes slot @index.
 * Addresses and size are 4 KiB aligned; gpa + size <= 2^maxphyaddr;
 * slots do not overlap in guest-physical space.
 */
#define DUNE_MAX_SLOTS 16

struct dune_slot {
	__u32 index;		/* 0 .. DUNE_MAX_SLOTS - 1 */
	__u32 flags;		/* must be 0 */
	__u64 gpa;
	__u64 hva;
	__u64 size;
};

#define DUNE_SET_SLOT _IOW(DUNE_IOC_MAGIC, 0x01, struct dune_slot)

/* General-purpose registers of a vCPU, in this order (asm relies on it). */
struct dune_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
};

/*
 * A vCPU runs the calling thread in VMX non-root mode, 64-bit, CPL 0.
 * DUNE_CREATE_VCPU on the /dev/dune fd returns a new vCPU fd (close-on-
 * exec) owned by the calling thread: only that thread may run it.
 *
 * The guest's FS and GS bases are always the thread's own (set with
 * arch_prctl as usual); its FPU/SSE/AVX state is the thread's.
 */
struct dune_vcpu_config {
	struct dune_regs regs;	/* initial registers */
	__u64 cr3;		/* guest-physical address of the PML4 */
	__u64 gdt_base;		/* guest-virtual addresses ... */
	__u64 idt_base;
	__u64 tss_base;		/* ... of the 64-bit TSS */
	__u16 gdt_limit;
	__u16 idt_limit;
	__u16 cs;		/* 64-bit code segment selector */
	__u16 ds;		/* data selector for SS, DS, ES, FS, GS */
	__u16 tr;		/* TSS selector */
	__u16 pad[3];		/* must be 0 */
	__u64 lstar;		/* guest SYSCALL entry (MSR_LSTAR) */
	__u64 star;		/* MSR_STAR */
	__u64 sfmask;		/* MSR_SYSCALL_MASK */
	__u64 kernel_gs_base;	/* guest MSR_KERNEL_GS_BASE */
	__u64 flags;		/* DUNE_VCPU_* */
	__u64 reserved[3];	/* must be 0 */
};

/*
 * dune_vcpu_config.flags.  DUNE_VCPU_PCID: the guest runs with CR4.PCIDE
 * set, so CR3 bits 11:0 select a PCID and CR3 bit 63 asks not to flush
 * (SDM 4.10.1); EINVAL without DUNE_CAP_PCID.
 */
#define DUNE_VCPU_PCID (1ull << 0)
/*
 * DUNE_VCPU_THREAD_BASES: the guest is the thread, FS/GS bases included.
 * The guest keeps the bases it writes (WRFSBASE/WRGSBASE, WRMSR) across
 * VM exits, and at each VMCALL from CPL 0 the calling thread takes them,
 * if the host has FSGSBASE (so DUNE_RUN may return with the thread's FS
 * and GS bases changed).  A base Linux changed meanwhile (arch_prctl)
 * goes to the guest.  Without it, every VM entry gives the guest the
 * thread's bases and the thread's are never changed.
 */
#define DUNE_VCPU_THREAD_BASES (1ull << 1)

#define DUNE_CREATE_VCPU _IOW(DUNE_IOC_MAGIC, 0x02, struct dune_vcpu_config)

/* dune_run.exit_reason: why DUNE_RUN returned to user space. */
/*
 * The guest executed VMCALL: a Linux system call request, number in rax,
 * arguments in rdi, rsi, rdx, r10, r8, r9; rip is already past VMCALL.
 * Put the result in regs.rax and run again.
 */
#define DUNE_EXIT_VMCALL 1
/*
 * The guest touched memory the process may not touch that way (nothing
 * mapped, or not permitted): fault_addr (guest-virtual, when
 * DUNE_FAULT_LINEAR), fault_gpa, fault_flags.  rip is the faulting
 * instruction.  Native code touching fault_addr the same way gets the
 * signal Linux gives for it.
 */
#define DUNE_EXIT_FAULT 2
/*
 * A signal is pending, or Linux has work to do on the thread's way back
 * to user space (task work, e.g. an expired CPU-time timer, which then
 * sends its signal): return to let Linux do it, then run again.
 */
#define DUNE_EXIT_SIGNAL 3
/*
 * The guest cannot go on (triple fault, failed VM entry, an exit the
 * module does not handle): vmx_exit_reason and exit_qual say why.  The
 * vCPU is dead: running it again fails with EIO.
 */
#define DUNE_EXIT_FATAL 4

#define DUNE_FAULT_READ   (1u << 0)
#define DUNE_FAULT_WRITE  (1u << 1)
#define DUNE_FAULT_EXEC   (1u << 2)
#define DUNE_FAULT_LINEAR (1u << 3)	/* fault_addr is valid */

struct dune_run {
	struct dune_regs regs;	/* in: registers to run with; out: at exit */
	__u32 exit_reason;	/* out: DUNE_EXIT_* */
	__u32 vmx_exit_reason;	/* out: basic exit reason, SDM appendix C */
	__u64 exit_qual;	/* out: exit qualification */
	__u64 fault_addr;	/* out: DUNE_EXIT_FAULT */
	__u64 fault_gpa;
	__u32 fault_flags;
	__u32 pad;
	__u64 guest_cr2;	/* out: for fault reports */
	/*
	 * in/out: when nonzero (32 .. 255), deliver this vector to the guest
	 * as an external interrupt, through the guest's IDT, as soon as the
	 * guest accepts interrupts (RFLAGS.IF = 1, no STI or MOV-SS
	 * blocking), before it runs any further instruction.  Set to 0 once
	 * delivered; still set if DUNE_RUN returned before the guest could
	 * take it (pass it again).  Other values: EINVAL.
	 */
	__u32 inject_vector;
	__u32 pad2;		/* must be 0 */
	__u64 reserved[3];
};

#define DUNE_RUN _IOWR(DUNE_IOC_MAGIC, 0x03, struct dune_run)

/* Per-vCPU exit counters (DUNE_GET_STATS on a vCPU fd). */
#define DUNE_NR_EXIT_REASONS 80
struct dune_stats {
	__u64 entries;		/* VM entries */
	__u64 exits;		/* VM exits, all reasons */
	__u64 user_exits;	/* returns to user space (DUNE_RUN returned) */
	__u64 ept_maps;		/* EPT entries made */
	__u64 by_reason[DUNE_NR_EXIT_REASONS];	/* index: basic exit reason */
};

#define DUNE_GET_STATS _IOR(DUNE_IOC_MAGIC, 0x04, struct dune_stats)

#ifdef __cplusplus
#define DUNE_STATIC_ASSERT static_assert
#else
#define DUNE_STATIC_ASSERT _Static_assert
#endif
DUNE_STATIC_ASSERT(sizeof(struct dune_caps) == 88, "dune_caps ABI");
DUNE_STATIC_ASSERT(sizeof(struct dune_slot) == 32, "dune_slot ABI");
DUNE_STATIC_ASSERT(sizeof(struct dune_regs) == 18 * 8, "dune_regs ABI");
DUNE_STATIC_ASSERT(sizeof(struct dune_vcpu_config) == 144 + 4 * 8 + 16 + 8 * 8,
		   "dune_vcpu_config ABI");
DUNE_STATIC_ASSERT(sizeof(struct dune_run) == 144 + 8 + 24 + 8 + 8 + 32,
		   "dune_run ABI");
DUNE_STATIC_ASSERT(sizeof(struct dune_stats) == (4 + DUNE_NR_EXIT_REASONS) * 8,
		   "dune_stats ABI");

#endif /* DUNE_UAPI_H */
