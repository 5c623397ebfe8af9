// SPDX-License-Identifier: MIT
/* Descriptor encoders (see desc.h).  Pure logic. */
#include "desc.h"
#include "raw.h"

/* Parts run in the host loop: see raw.h. */
DUNE_NOFPU_BEGIN

void dune_gdt_init(uint64_t *gdt, const struct dune_tss *tss)
{
	uint64_t base = (uint64_t)(uintptr_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	unsigned int i;

	for (i = 0; i < DUNE_GDT_ENTRIES; i++)
		gdt[i] = 0;
	gdt[DUNE_SEL_KCODE >> 3] = DUNE_DESC_KCODE64;
	gdt[DUNE_SEL_KDATA >> 3] = DUNE_DESC_KDATA;
	gdt[DUNE_SEL_UDATA >> 3] = DUNE_DESC_UDATA;
	gdt[DUNE_SEL_UCODE >> 3] = DUNE_DESC_UCODE64;
	/*
	 * System descriptor, type 9 (available 64-bit TSS), present, DPL 0,
	 * byte granular; the second quadword holds base bits 63:32.
	 */
	gdt[DUNE_SEL_TSS >> 3] = (limit & 0xffff) |
				 ((base & 0xffffff) << 16) |
				 (0x89ull << 40) |
				 (((limit >> 16) & 0xf) << 48) |
				 (((base >> 24) & 0xff) << 56);
	gdt[(DUNE_SEL_TSS >> 3) + 1] = base >> 32;
}

void dune_tss_init(struct dune_tss *tss, const uint64_t *ist_tops,
		   unsigned int n)
{
	unsigned int i;

	dune_bzero(tss, sizeof(*tss));
	for (i = 0; i < n && i < 7; i++)
		tss->ist[i] = ist_tops[i];
	/* A base beyond the limit: no I/O permission bitmap. */
	tss->iomap_base = sizeof(*tss);
}

void dune_idt_set(struct dune_idt_gate *g, uint64_t handler, unsigned int ist,
		  unsigned int dpl)
{
	g->off_lo = handler & 0xffff;
	g->sel = DUNE_SEL_KCODE;
	g->ist = ist & 7;
	g->type = 0x80 | ((dpl & 3) << 5) | DUNE_GATE_INTR;
	g->off_mid = (handler >> 16) & 0xffff;
	g->off_hi = handler >> 32;
	g->reserved = 0;
}

uint64_t dune_gate_offset(const struct dune_idt_gate *g)
{
	return g->off_lo | (uint64_t)g->off_mid << 16 | (uint64_t)g->off_hi << 32;
}

uint64_t dune_gdt_tss_base(const uint64_t *gdt)
{
	uint64_t lo = gdt[DUNE_SEL_TSS >> 3];

	return ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) |
	       (gdt[(DUNE_SEL_TSS >> 3) + 1] << 32);
}

DUNE_NOFPU_END
