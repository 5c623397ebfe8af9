/* SPDX-License-Identifier: MIT */
/*
 * x86-64 paging, control-register, flag and segment constants under the
 * names the original Dune's libdune/mmu-x86.h gave them (values from the
 * SDM; the PTE_USR* and PTE_COW software bits are the original's), so
 * programs written for it build unchanged.  Included by mmu.h.
 */
#ifndef LIBDUNE_MMU_X86_H
#define LIBDUNE_MMU_X86_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

/* ---- Paging structures (SDM 4.5) ---- */

/* Index of @la in the table of level @n: 0 = PT, 1 = PD, 2 = PDPT, 3 = PML4. */
#define PDXMASK		((1 << NPTBITS) - 1)
#define PDSHIFT(n)	(12 + NPTBITS * (n))
#define PDX(n, la)	((((uintptr_t)(la)) >> PDSHIFT(n)) & PDXMASK)
#define NPTENTRIES	(1 << NPTBITS)

#define PGSHIFT		12
#define PGSIZE		(1 << PGSHIFT)
#define PGMASK		(PGSIZE - 1)
#define PPN(la)		((la) >> PGSHIFT)
#define PGOFF(la)	(((uintptr_t)(la)) & PGMASK)
#define PGADDR(la)	(((uintptr_t)(la)) & ~CAST64(PGMASK))

#define BIG_PGSHIFT	21
#define BIG_PGSIZE	(1 << BIG_PGSHIFT)
#define BIG_PGMASK	(BIG_PGSIZE - 1)
#define BIG_PGOFF(la)	(((uintptr_t)(la)) & BIG_PGMASK)
#define BIG_PGADDR(la)	(((uintptr_t)(la)) & ~CAST64(BIG_PGMASK))

/* Entry bits (SDM 4.5, tables 4-15 to 4-20). */
#define PTE_P		0x0001
#define PTE_W		0x0002
#define PTE_U		0x0004
#define PTE_PWT		0x0008
#define PTE_PCD		0x0010
#define PTE_A		0x0020
#define PTE_D		0x0040
#define PTE_PS		0x0080		/* large page (PDPTE, PDE) */
#define PTE_PAT		0x0080		/* PAT index bit of a 4 KiB PTE */
#define PTE_G		0x0100
#define PTE_AVAIL	0x0E00		/* bits 11:9, ignored by the CPU */
#define PTE_PAT_PS	0x1000		/* PAT index bit of a large page */
#define PTE_AVAIL2	UINT64(0x7FF0000000000000)	/* bits 62:52 */
#define PTE_NX		UINT64(0x8000000000000000)

/* Software bits, as the original's (ignored by the CPU without PKE). */
#define PTE_COW		0x0200
#define PTE_USR1	UINT64(0x4000000000000000)
#define PTE_USR2	UINT64(0x2000000000000000)
#define PTE_USR3	UINT64(0x1000000000000000)

/* The address bits of an entry (51:12) and the others. */
#define PTE_ADDR_MASK	UINT64(0x000ffffffffff000)
#define PTE_ADDR(pte)	((physaddr_t)(pte) & PTE_ADDR_MASK)
#define PTE_FLAGS(pte)	((physaddr_t)(pte) & UINT64(0xfff0000000000fff))

/* ---- Control registers (SDM 2.5) ---- */
#define CR0_PE		0x1
#define CR0_MP		0x2
#define CR0_EM		0x4
#define CR0_TS		0x8
#define CR0_ET		0x10
#define CR0_NE		0x20
#define CR0_WP		0x10000
#define CR0_AM		0x40000
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000

#define CR3_PWT		0x8
#define CR3_PCD		0x10

#define CR4_VME		0x1
#define CR4_PVI		0x2
#define CR4_TSD		0x4
#define CR4_DE		0x8
#define CR4_PSE		0x10
#define CR4_PAE		0x20
#define CR4_MCE		0x40
#define CR4_PGE		0x80
#define CR4_PCE		0x100
#define CR4_OSFXSR	0x200
#define CR4_OSX		0x400

/* ---- MTRRs (SDM 11.11) ---- */
#define MTRR_CAP		0xfe
#define MTRR_CAP_VCNT_MASK	0xff
#define MTRR_CAP_FIX		0x100
#define MTRR_CAP_WC		0x400
#define MTRR_BASE(i)		(0x200 + 2 * (i))
#define MTRR_BASE_UC		0x00
#define MTRR_BASE_WC		0x01
#define MTRR_BASE_WT		0x04
#define MTRR_BASE_WP		0x05
#define MTRR_BASE_WB		0x06
#define MTRR_MASK(i)		(0x201 + 2 * (i))
#define MTRR_MASK_FULL		PGADDR((ONE << 36) - 1)
#define MTRR_MASK_VALID		0x800

/* ---- EFER and base MSRs ---- */
#define EFER		0xc0000080
#define EFER_SCE	0x1
#define EFER_LME	0x100
#define EFER_LMA	0x400
#define EFER_NXE	0x800
#define EFER_FFXSR	0x4000

#define MSR_FS_BASE	0xc0000100
#define MSR_GS_BASE	0xc0000101

/* ---- Debugging (SDM 17.2, 17.4) ---- */
#define MSR_DEBUG_CTL	0x1d9
#define DEBUG_CTL_LBR	(1 << 0)
#define MSR_LBR_FROM_IP	0x1db
#define MSR_LBR_TO_IP	0x1dc
#define MSR_LEX_FROM_IP	0x1dd
#define MSR_LEX_TO_IP	0x1de

#define DR7_L(n)	(ONE << ((n) * 2))
#define DR7_G(n)	(ONE << ((n) * 2 + 1))
#define DR7_LE		(ONE << 8)
#define DR7_GE		(ONE << 9)
#define DR7_GD		(ONE << 13)
#define DR7_RW_SHIFT(n)	((n) * 4 + 16)
#define DR7_LEN_SHIFT(n) ((n) * 4 + 18)
#define DR7_RW_EXEC	0x0
#define DR7_RW_WRITE	0x1
#define DR7_RW_IO	0x2
#define DR7_RW_RW	0x3
#define DR7_LEN_1	0x0
#define DR7_LEN_2	0x1
#define DR7_LEN_8	0x2
#define DR7_LEN_4	0x3

/* ---- RFLAGS (SDM 3.4.3) ---- */
#define FL_CF		0x00000001
#define FL_PF		0x00000004
#define FL_AF		0x00000010
#define FL_ZF		0x00000040
#define FL_SF		0x00000080
#define FL_TF		0x00000100
#define FL_IF		0x00000200
#define FL_DF		0x00000400
#define FL_OF		0x00000800
#define FL_IOPL_MASK	0x00003000
#define FL_IOPL_0	0x00000000
#define FL_IOPL_1	0x00001000
#define FL_IOPL_2	0x00002000
#define FL_IOPL_3	0x00003000
#define FL_NT		0x00004000
#define FL_RF		0x00010000
#define FL_VM		0x00020000
#define FL_AC		0x00040000
#define FL_VIF		0x00080000
#define FL_VIP		0x00100000
#define FL_ID		0x00200000

/* ---- Page-fault error code (SDM 4.7); dune.h has the same values ---- */
#ifndef FEC_P
#define FEC_P		0x01
#define FEC_W		0x02
#define FEC_U		0x04
#define FEC_RSV		0x08
#define FEC_I		0x10
#endif

/* ---- Segment descriptors (SDM 3.4.5, 5.8.3.1, 6.14.1) ---- */
#define STA_A		(ONE << 0)
#define STA_W		(ONE << 1)
#define STA_E		(ONE << 2)
#define STA_X		(ONE << 3)
#define STA_R		(ONE << 1)
#define STA_C		(ONE << 2)

#define SEG_A		(STA_A << 40)
#define SEG_W		(STA_W << 40)
#define SEG_E		(STA_E << 40)
#define SEG_X		(STA_X << 40)
#define SEG_R		(STA_R << 40)
#define SEG_C		(STA_C << 40)
#define SEG_S		(ONE << 44)

#define SEG_LDT		(UINT64(0x2) << 40)
#define SEG_TSSA	(UINT64(0x9) << 40)
#define SEG_TSSB	(UINT64(0xa) << 40)
#define SEG_CG		(UINT64(0xc) << 40)
#define SEG_IG		(UINT64(0xe) << 40)
#define SEG_TG		(UINT64(0xf) << 40)

#define SEG_DPL(x)	(((x) & UINT64(3)) << 45)
#define SEG_P		(ONE << 47)
#define SEG_L		(ONE << 53)
#define SEG_D		(ONE << 54)
#define SEG_G		(ONE << 55)

#define SEG_LIM(x)	(((x) & 0xffff) | ((x) & UINT64(0xf0000)) << 32)
#define SEG_BASELO(x)	(((CAST64(x) & 0xffffff) << 16) | \
			 ((CAST64(x) & 0xff000000) << 32))
#define SEG_BASEHI(x)	(CAST64(x) >> 32)

#define SEG32_ASM(type, base, lim)					\
	.word (((lim) >> 12) & 0xffff), ((base) & 0xffff);		\
	.byte (((base) >> 16) & 0xff), (0x90 | (type)),			\
	      (0xC0 | (((lim) >> 28) & 0xf)), (((base) >> 24) & 0xff)

#define SEG32(type, base, lim, dpl)					\
	((type) | SEG_S | SEG_P | SEG_D | SEG_G | SEG_A | SEG_DPL(dpl) |	\
	 SEG_BASELO(base) | SEG_LIM((lim) >> 12))
#define SEG64(type, dpl)						\
	((type) | SEG_S | SEG_P | SEG_G | SEG_L | SEG_A | SEG_DPL(dpl) |	\
	 SEG_LIM(0xffffffff))

#define SEG_SEL(x)	(((x) & 0xffff) << 16)
#define SEG_TARGETLO(x)	((CAST64(x) & 0xffff) | \
			 ((CAST64(x) & 0xffff0000) << 32))
#define SEG_TARGETHI(x)	(CAST64(x) >> 32)

#define GATE32(type, sel, target, dpl)					\
	((type) | SEG_DPL(dpl) | SEG_P | SEG_SEL(sel) | SEG_TARGETLO(target))
#define SETGATE(gate, type, sel, target, dpl)				\
	do {								\
		(gate).gd_lo = GATE32(type, sel, target, dpl);		\
		(gate).gd_hi = SEG_TARGETHI(target);			\
	} while (0)

#ifndef __ASSEMBLER__
/*
 * The FXSAVE area (SDM vol. 1, 10.5.1), 512 bytes.  The original had it
 * twice: struct Fpregs here and struct fxsave_area in fpu.h, the same
 * layout with other names for the register arrays (st_space/xmm_space
 * there, st_regs/xmm_regs in fpu.h; fxsave_area is packed, which
 * changes only its alignment).  Both are made from this one list.
 */
#define DUNE_FXSAVE_FIELDS(st, xmm)					\
	uint16_t cwd;							\
	uint16_t swd;							\
	uint16_t twd;							\
	uint16_t fop;							\
	uint64_t rip;							\
	uint64_t rdp;							\
	uint32_t mxcsr;							\
	uint32_t mxcsr_mask;						\
	uint32_t st[32];	/* ST0..ST7, 16 bytes each */		\
	uint32_t xmm[64];	/* XMM0..XMM15 */			\
	uint32_t padding[24]

struct Fpregs {
	DUNE_FXSAVE_FIELDS(st_space, xmm_space);
};
#endif

#endif
