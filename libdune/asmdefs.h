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
#define TF_RAX		0
#define TF_RBX		8
#define TF_RCX		16
#define TF_RDX		24
#define TF_RSI		32
#define TF_RDI		40
#define TF_RBP		48
#define TF_R8		56
#define TF_R9		64
#define TF_R10		72
#define TF_R11		80
#define TF_R12		88
#define TF_R13		96
#define TF_R14		104
#define TF_R15		112
#define TF_VECTOR	120
#define TF_ERR		128
#define TF_RIP		136
#define TF_CS		144
#define TF_RFLAGS	152
#define TF_RSP		160
#define TF_SS		168
#define TF_SIZE		176

/*
 * struct dune_user_ctx (internal.h): the ring-0 side of a ring-3 run,
 * the first member of struct dune_thread
 */
#define UCTX_RBX	0
#define UCTX_RBP	8
#define UCTX_R12	16
#define UCTX_R13	24
#define UCTX_R14	32
#define UCTX_R15	40
#define UCTX_RSP	48
#define UCTX_RIP	56
#define UCTX_RFLAGS	64
#define UCTX_MXCSR	72
#define UCTX_FCW	76
#define UCTX_ACTIVE	78
#define UCTX_FS_BASE	80
#define UCTX_GS_BASE	88

/*
 * The guest's LSTAR while ring 3 runs points to a stub that raises this
 * vector (a DPL 0 gate: ring 3 cannot raise it itself).
 */
#define DUNE_VEC_USER_SYSCALL	0xf0

#define MSR_LSTAR_NR	0xc0000082
#define MSR_FS_BASE_NR	0xc0000100
#define MSR_GS_BASE_NR	0xc0000101

/* Each IDT entry stub is padded to this many bytes. */
#define TRAP_STUB_SIZE	16

#endif
