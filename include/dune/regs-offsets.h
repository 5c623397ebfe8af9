/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The one list of struct dune_regs members that assembly reaches, as an
 * X-macro: kern/asm-offsets.c and libdune/asm-offsets.c expand it into
 * REGS_<NAME> offsets for their generated asm-offsets headers, so the
 * module's VM entry code and libdune's entry code cannot disagree with
 * the C layout in uapi.h or with each other.
 */
#ifndef DUNE_REGS_OFFSETS_H
#define DUNE_REGS_OFFSETS_H

#define DUNE_REGS_MEMBERS(X)                                             \
	X(RAX, rax) X(RBX, rbx) X(RCX, rcx) X(RDX, rdx) X(RSI, rsi)      \
	X(RDI, rdi) X(RBP, rbp) X(RSP, rsp) X(R8, r8) X(R9, r9)          \
	X(R10, r10) X(R11, r11) X(R12, r12) X(R13, r13) X(R14, r14)      \
	X(R15, r15) X(RIP, rip) X(RFLAGS, rflags)

#endif
