// SPDX-License-Identifier: MIT
/*
 * Not part of the library: compiled to assembly by the Makefile, which
 * turns its "->NAME value" markers into build/gen/asm-offsets.h for the
 * .S files (the way Kbuild makes the kernel's asm-offsets.h).  The
 * struct dune_regs list is the one kern/asm-offsets.c expands too.
 */
#include <stddef.h>

#include "internal.h"
#include "dune/regs-offsets.h"

#define DEFINE(sym, val) \
	asm volatile("\n.ascii \"->" #sym " %0 " #val "\"" : : "i"(val))
#define BLANK() asm volatile("\n.ascii \"->\"" : :)
#define OFFSET(sym, str, mem) DEFINE(sym, offsetof(struct str, mem))

#define REGS_OFFSET(name, member) OFFSET(REGS_##name, dune_regs, member);

void dune_asm_offsets(void);

void dune_asm_offsets(void)
{
	DUNE_REGS_MEMBERS(REGS_OFFSET)
	DEFINE(REGS_SIZE, sizeof(struct dune_regs));
	BLANK();

	/* struct dune_tf: what the trap entry pushes, then the CPU's frame */
	OFFSET(TF_RAX, dune_tf, rax);
	OFFSET(TF_RBX, dune_tf, rbx);
	OFFSET(TF_RCX, dune_tf, rcx);
	OFFSET(TF_RDX, dune_tf, rdx);
	OFFSET(TF_RSI, dune_tf, rsi);
	OFFSET(TF_RDI, dune_tf, rdi);
	OFFSET(TF_RBP, dune_tf, rbp);
	OFFSET(TF_R8, dune_tf, r8);
	OFFSET(TF_R9, dune_tf, r9);
	OFFSET(TF_R10, dune_tf, r10);
	OFFSET(TF_R11, dune_tf, r11);
	OFFSET(TF_R12, dune_tf, r12);
	OFFSET(TF_R13, dune_tf, r13);
	OFFSET(TF_R14, dune_tf, r14);
	OFFSET(TF_R15, dune_tf, r15);
	OFFSET(TF_VECTOR, dune_tf, vector);
	OFFSET(TF_ERR, dune_tf, err);
	OFFSET(TF_RIP, dune_tf, rip);
	OFFSET(TF_CS, dune_tf, cs);
	OFFSET(TF_RFLAGS, dune_tf, rflags);
	OFFSET(TF_RSP, dune_tf, rsp);
	OFFSET(TF_SS, dune_tf, ss);
	DEFINE(TF_SIZE, sizeof(struct dune_tf));
	BLANK();

	/* struct dune_user_ctx, at offset 0 of struct dune_thread */
	OFFSET(UCTX_RBX, dune_user_ctx, rbx);
	OFFSET(UCTX_RBP, dune_user_ctx, rbp);
	OFFSET(UCTX_R12, dune_user_ctx, r12);
	OFFSET(UCTX_R13, dune_user_ctx, r13);
	OFFSET(UCTX_R14, dune_user_ctx, r14);
	OFFSET(UCTX_R15, dune_user_ctx, r15);
	OFFSET(UCTX_RSP, dune_user_ctx, rsp);
	OFFSET(UCTX_RIP, dune_user_ctx, rip);
	OFFSET(UCTX_RFLAGS, dune_user_ctx, rflags);
	OFFSET(UCTX_MXCSR, dune_user_ctx, mxcsr);
	OFFSET(UCTX_FCW, dune_user_ctx, fcw);
	OFFSET(UCTX_ACTIVE, dune_user_ctx, active);
	OFFSET(UCTX_FS_BASE, dune_user_ctx, fs_base);
	OFFSET(UCTX_GS_BASE, dune_user_ctx, gs_base);
	OFFSET(UCTX_UFS_SET, dune_user_ctx, ufs_set);
	OFFSET(UCTX_UFS_BASE, dune_user_ctx, ufs_base);
	OFFSET(UCTX_UGS_SET, dune_user_ctx, ugs_set);
	OFFSET(UCTX_UGS_BASE, dune_user_ctx, ugs_base);
}
