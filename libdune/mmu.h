/* SPDX-License-Identifier: MIT */
/*
 * The original Dune's libdune/mmu.h: page-table types and x86-64
 * constants (mmu-x86.h), and the descriptor layouts it declared.
 * dune.h includes it; programs may include it alone.
 */
#ifndef LIBDUNE_MMU_H
#define LIBDUNE_MMU_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define UINT64(x)	((uint64_t)(x))
#define CAST64(x)	((uint64_t)(x))
#define ONE		UINT64(1)

#define NPTBITS		9	/* log2 of the entries of a table */
#define NPTLVLS		3	/* levels below the PML4 */
#define PD_SKIP		6	/* offset of pd_lim in struct Pseudodesc */

#include "mmu-x86.h"

#ifndef __ASSEMBLER__
typedef uint64_t ptent_t;
/* The original's mmu.h had these from its types.h. */
typedef uint64_t physaddr_t;
typedef uint64_t ppn_t;
typedef int bool_t;

/* lgdt/lidt operand, padded so pd_lim sits at offset PD_SKIP. */
struct Pseudodesc {
	uint16_t pd__garbage1;
	uint16_t pd__garbage2;
	uint16_t pd__garbage3;
	uint16_t pd_lim;
	uint64_t pd_base;
} __attribute__((packed));

/* The 64-bit TSS (SDM 7.7). */
struct Tss {
	char tss__ign1[4];
	uint64_t tss_rsp[3];
	uint64_t tss_ist[8];	/* [0] is not used by the CPU */
	char tss__ign2[10];
	uint16_t tss_iomb;
	uint8_t tss_iopb[];
} __attribute__((packed));

/* A 16-byte IDT gate (SDM 6.14.1). */
struct Gatedesc {
	uint64_t gd_lo;
	uint64_t gd_hi;
};

struct Trapframe_aux {
};

/* The original's JOS-style trap frame (libdune itself uses struct dune_tf). */
struct Trapframe {
	uint64_t tf_rcx;
	uint64_t tf_rdx;
	uint64_t tf_rdi;
	uint64_t tf_r8;
	uint64_t tf_r9;
	uint64_t tf_r10;
	uint64_t tf_r11;
	uint64_t tf_rbx;
	uint64_t tf_rbp;
	uint64_t tf_r12;
	uint64_t tf_r13;
	uint64_t tf_r14;
	uint64_t tf_r15;
	union {
		uint64_t tf_rsi;
		uint64_t tf__trapentry_rip;
	};
	uint64_t tf_rax;
	uint32_t tf_err;
	uint32_t tf__pad1;
	uint64_t tf_rip;
	uint16_t tf_cs;
	uint16_t tf_ds;
	uint16_t tf_es;
	uint16_t tf_fs;
	uint64_t tf_rflags;
	uint64_t tf_rsp;
	uint16_t tf_ss;
	uint16_t tf_gs;
	uint16_t tf__pad3[2];
};
#endif

#endif
