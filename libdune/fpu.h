/* SPDX-License-Identifier: MIT */
/*
 * fpu.h: the original libdune's x87/SSE/AVX state helpers (XSAVE
 * family, SDM vol. 1, chapter 13), included by dune.h as there.  The
 * guest has CR4.OSXSAVE set when the processor has XSAVE, and XCR0 is
 * the process's own.
 */
#ifndef LIBDUNE_FPU_H
#define LIBDUNE_FPU_H

#include <stdint.h>
#include <string.h>

#include "mmu-x86.h"

/* The legacy region: struct Fpregs's layout (mmu-x86.h), packed. */
struct fxsave_area {
	DUNE_FXSAVE_FIELDS(st_regs, xmm_regs);
} __attribute__((packed));

/* The XSAVE header, right after the legacy region (SDM vol. 1, 13.4.2). */
struct xsave_header {
	uint64_t xstate_bv;
	uint64_t reserved_zero[2];
	uint64_t reserved[5];
} __attribute__((packed));

/*
 * Legacy region, header and the AVX upper halves (component 2, at offset
 * 576 in the standard format).  Components beyond AVX do not fit: masks
 * given to the functions below must leave them out (the original's
 * dune_fpu_* pass all ones, so use them only where XCR0 has nothing
 * beyond bit 2).
 */
struct xsave_area {
	struct fxsave_area fxsave;
	struct xsave_header header;
	uint32_t ymm_regs[64];
} __attribute__((packed, aligned(64)));

struct fpu_area {
	struct xsave_area xsave;
};

static inline void fpu_xsave(struct fpu_area *fp, uint64_t mask)
{
	__asm__ volatile("xsaveq %0" : "=m"(fp->xsave)
			 : "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32))
			 : "memory");
}

static inline void fpu_xsaveopt(struct fpu_area *fp, uint64_t mask)
{
	__asm__ volatile("xsaveoptq %0" : "=m"(fp->xsave)
			 : "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32))
			 : "memory");
}

static inline void fpu_xrstor(struct fpu_area *fp, uint64_t mask)
{
	__asm__ volatile("xrstorq %0" : : "m"(fp->xsave),
			 "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32))
			 : "memory");
}

/* An area in the initial state: x87 control word 0x37f, MXCSR 0x1f80. */
static inline void dune_fpu_init(struct fpu_area *fp)
{
	memset(fp, 0, sizeof(*fp));
	fp->xsave.fxsave.cwd = 0x37f;
	fp->xsave.fxsave.mxcsr = 0x1f80;
}

/* Load the registers from @fp. */
static inline void dune_fpu_load(struct fpu_area *fp)
{
	fpu_xrstor(fp, -1);
}

/*
 * Save the registers to @fp with XSAVEOPT, which may skip components
 * unchanged since the last XRSTOR from @fp: use it only on an area last
 * loaded with dune_fpu_load (SDM vol. 1, 13.6).
 */
static inline void dune_fpu_save(struct fpu_area *fp)
{
	fpu_xsaveopt(fp, -1);
}

/* Save the registers to @fp with XSAVE: always correct. */
static inline void dune_fpu_save_safe(struct fpu_area *fp)
{
	fpu_xsave(fp, -1);
}

#endif
