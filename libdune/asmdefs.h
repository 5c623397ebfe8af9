/* SPDX-License-Identifier: MIT */
/*
 * Constants shared by the assembly and the C code: offsets into struct
 * dune_regs and struct dune_tf.  Plain #defines so .S files can include
 * this; internal.h checks each against the C layout with static asserts.
 */
#ifndef LIBDUNE_ASMDEFS_H
#define LIBDUNE_ASMDEFS_H

/* struct dune_regs (uapi) */
#define REGS_RAX	0
#define REGS_RBX	8
#define REGS_RCX	16
#define REGS_RDX	24
#define REGS_RSI	32
#define REGS_RDI	40
#define REGS_RBP	48
#define REGS_RSP	56
#define REGS_R8		64
#define REGS_R9		72
#define REGS_R10	80
#define REGS_R11	88
#define REGS_R12	96
#define REGS_R13	104
#define REGS_R14	112
#define REGS_R15	120
#define REGS_RIP	128
#define REGS_RFLAGS	136
#define REGS_SIZE	144

/*
 * struct dune_tf: 15 registers pushed by the entry code, vector and error
 * code pushed by the stub (and the CPU), then the CPU's 5-quadword frame.
 */
#define TF_VECTOR	120
#define TF_ERR		128
#define TF_RIP		136
#define TF_SIZE		176

/* Each IDT entry stub is padded to this many bytes. */
#define TRAP_STUB_SIZE	16

#endif
