/* SPDX-License-Identifier: MIT */
/*
 * cpu-x86.h: the original libdune's x86 helpers, for programs that
 * include "libdune/cpu-x86.h": MSR access, the IDT gate layout and the
 * exception vector numbers.  dune.h does not include it (nor did the
 * original's).
 *
 * In the guest, RDMSR/WRMSR of FS_BASE, GS_BASE and LSTAR run without a
 * VM exit; KERNEL_GS_BASE, STAR and SYSCALL_MASK are kept by dune.ko per
 * vCPU; any other MSR raises #GP in the guest (docs/design.md).
 */
#ifndef LIBDUNE_CPU_X86_H
#define LIBDUNE_CPU_X86_H

#include <stdint.h>

typedef uint64_t u64;

/* Helpers of rdmsrl, kept under the original's names. */
#define DECLARE_ARGS(val, low, high)	unsigned int low, high
#define EAX_EDX_VAL(val, low, high)	((low) | ((u64)(high) << 32))
#define EAX_EDX_ARGS(val, low, high)	"a"(low), "d"(high)
#define EAX_EDX_RET(val, low, high)	"=a"(low), "=d"(high)

static inline void native_write_msr(unsigned int msr, unsigned int low,
				    unsigned int high)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"(low), "d"(high)
			 : "memory");
}

static inline unsigned long long native_read_msr(unsigned int msr)
{
	DECLARE_ARGS(val, low, high);

	__asm__ volatile("rdmsr" : EAX_EDX_RET(val, low, high) : "c"(msr));
	return EAX_EDX_VAL(val, low, high);
}

/* rdmsrl(msr, v) assigns to the lvalue v; wrmsrl(msr, v) writes 64 bits. */
#define rdmsrl(msr, val)	((val) = native_read_msr((msr)))
#define wrmsrl(msr, val)						\
	native_write_msr((msr), (uint32_t)((uint64_t)(val)),		\
			 (uint32_t)((uint64_t)(val) >> 32))

/* Architectural MSR numbers (SDM vol. 4, table 2-2). */
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_LSTAR		0xc0000082	/* 64-bit SYSCALL target */

/* Operand of LGDT/LIDT/SGDT/SIDT. */
struct tptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* 64-bit IDT gate (SDM vol. 3, 6.14.1). */
#define IDTD_P			(1 << 7)
#define IDTD_CPL3		(3 << 5)
#define IDTD_TRAP_GATE		0xF
#define IDTD_INTERRUPT_GATE	0xE

#define IDT_ENTRIES	256

struct idtd {
	uint16_t low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t middle;
	uint32_t high;
	uint32_t zero;
} __attribute__((packed)) __attribute__((aligned));

/* Exception vectors (SDM vol. 3, table 6-1). */
#define T_DIVIDE	0	/* #DE divide error */
#define T_DEBUG		1	/* #DB debug */
#define T_NMI		2	/* NMI */
#define T_BRKPT		3	/* #BP breakpoint (int3) */
#define T_OFLOW		4	/* #OF overflow */
#define T_BOUND		5	/* #BR bound range */
#define T_ILLOP		6	/* #UD invalid opcode */
#define T_DEVICE	7	/* #NM device not available */
#define T_DBLFLT	8	/* #DF double fault */
/* 9: coprocessor segment overrun, not raised by modern processors */
#define T_TSS		10	/* #TS invalid TSS */
#define T_SEGNP		11	/* #NP segment not present */
#define T_STACK		12	/* #SS stack fault */
#define T_GPFLT		13	/* #GP general protection */
#define T_PGFLT		14	/* #PF page fault */
/* 15: reserved */
#define T_FPERR		16	/* #MF x87 error */
#define T_ALIGN		17	/* #AC alignment check */
#define T_MCHK		18	/* #MC machine check */
#define T_SIMDERR	19	/* #XM SIMD floating point */

/*
 * The original's vector for system calls by `int`; libdune routes ring-3
 * `syscall` through dune_register_syscall_handler, not this vector.
 */
#define T_SYSCALL	48

#endif
