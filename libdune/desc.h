/* SPDX-License-Identifier: MIT */
/*
 * The guest's descriptor tables: GDT, 64-bit TSS and IDT (SDM vol. 3,
 * 3.4.5, 7.2.3, 6.14).  Pure encoders, unit-tested on the host.
 */
#ifndef LIBDUNE_DESC_H
#define LIBDUNE_DESC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Selectors: Linux's GDT layout, as the original libdune had it (its
 * GD_* names, dune.h), so ring 3 runs with Linux's user selectors (0x2b,
 * 0x33) and signal frames show them.  SYSCALL loads CS = STAR[47:32] and
 * SS = that + 8, so kernel data follows kernel code.  SYSRET to ring 3
 * loads SS = STAR[63:48] + 8 and CS = STAR[63:48] + 16 (SDM vol. 2,
 * SYSCALL/SYSRET), so user data precedes user code; with STAR[63:48] =
 * 0x20 that is 0x28 and 0x30 (RPL 3 added).  Slots 1 and 4 stay empty.
 */
#define DUNE_SEL_KCODE	0x10
#define DUNE_SEL_KDATA	0x18
#define DUNE_SEL_UDATA	0x28
#define DUNE_SEL_UCODE	0x30
#define DUNE_SEL_TSS	0x38	/* 16 bytes: two GDT slots */
#define DUNE_GDT_ENTRIES 9

#define DUNE_STAR ((uint64_t)(DUNE_SEL_UDATA - 8) << 48 | \
		   (uint64_t)DUNE_SEL_KCODE << 32)

/* Code/data descriptors, flat, limit 4 GiB, accessed bit preset. */
#define DUNE_DESC_KCODE64 0x00af9b000000ffffull	/* L=1, DPL 0 */
#define DUNE_DESC_KDATA   0x00cf93000000ffffull	/* DPL 0 */
#define DUNE_DESC_UDATA   0x00cff3000000ffffull	/* DPL 3 */
#define DUNE_DESC_UCODE64 0x00affb000000ffffull	/* L=1, DPL 3 */

/* 64-bit TSS: byte layout fixed by the CPU, hence packed. */
struct dune_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];	/* ist[0] is IST1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct dune_tss) == 104, "64-bit TSS is 104 bytes");
_Static_assert(offsetof(struct dune_tss, rsp) == 4, "TSS.RSP0 at 4");
_Static_assert(offsetof(struct dune_tss, ist) == 36, "TSS.IST1 at 36");
_Static_assert(offsetof(struct dune_tss, iomap_base) == 102,
	       "TSS I/O map base at 102");

struct dune_idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;		/* bits 2:0 */
	uint8_t type;		/* P, DPL, type */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct dune_idt_gate) == 16, "64-bit IDT gate");

#define DUNE_IDT_ENTRIES 256
#define DUNE_GATE_INTR 0xe	/* interrupt gate: clears IF */

/* Fill @gdt (DUNE_GDT_ENTRIES) with the segments and a TSS descriptor. */
void dune_gdt_init(uint64_t *gdt, const struct dune_tss *tss);

/* A TSS with no I/O bitmap and @ist_tops as IST1..IST@n. */
void dune_tss_init(struct dune_tss *tss, const uint64_t *ist_tops,
		   unsigned int n);

/* An interrupt gate to @handler in the kernel code segment. */
void dune_idt_set(struct dune_idt_gate *g, uint64_t handler, unsigned int ist,
		  unsigned int dpl);

/* Decoders, for tests and fault reports. */
uint64_t dune_gate_offset(const struct dune_idt_gate *g);
uint64_t dune_gdt_tss_base(const uint64_t *gdt);

#endif
