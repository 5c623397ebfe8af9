/* SPDX-License-Identifier: MIT */
/*
 * The hand-made guest of itest-vcpu and itest-vcpu-features: page tables,
 * GDT (ring 0 and ring 3 segments), TSS and IDT in a 4 MiB region at a
 * fixed address that is its own guest-physical address, and guest code
 * given as bytes or as assembly (GUEST_ASM).  Functions are static inline
 * so that a program using only some of them builds without warnings.
 *
 *   0x40000000  +-------------------------+
 *               | PML4, PDPT, PD          |  pages 0-2
 *               | GDT                     |  page 3
 *               | TSS                     |  page 4
 *               | code                    |  page 5
 *               | data (shared w/ host)   |  page 6
 *               | read-only page          |  page 7
 *               | hole (munmapped)        |  page 8
 *               | IDT (asm-guest tests)   |  page 9
 *               | ... stack top at +2 MiB |
 *   0x40400000  +-------------------------+
 */
#ifndef DUNE_VCPU_GUEST_H
#define DUNE_VCPU_GUEST_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "itest.h"
#include "dune.h"

#define BASE 0x40000000ull
#define SIZE 0x400000ull
#define PG(n) (BASE + (n) * 4096ull)
#define P_PT 0
#define P_GDT 3
#define P_TSS 4
#define P_CODE 5
#define P_DATA 6
#define P_RO 7
#define P_HOLE 8
#define P_IDT 9

static int dev_fd = -1;

/*
 * How many times guest_run() ran the guest again after DUNE_EXIT_SIGNAL:
 * tests that count exits to user space add it.
 */
static unsigned long guest_signal_exits;

/*
 * DUNE_RUN until the guest exits for a reason of its own.  DUNE_EXIT_SIGNAL
 * (a pending signal or task work, which Linux may queue at any tick: 6.12
 * has periodic memory-scan work) says only "call again", as libdune does.
 */
static inline int guest_run(int fd, struct dune_run *run)
{
	int r;

	for (;;) {
		r = ioctl(fd, DUNE_RUN, run);
		if (r || run->exit_reason != DUNE_EXIT_SIGNAL)
			return r;
		guest_signal_exits++;
	}
}

static inline void guest_setup(void)
{
	uint64_t *pml4 = (uint64_t *)PG(0), *pdpt = (uint64_t *)PG(1);
	uint64_t *pd = (uint64_t *)PG(2), *gdt = (uint64_t *)PG(P_GDT);
	uint64_t tss = PG(P_TSS);
	void *p;

	p = mmap((void *)BASE, SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	IT_ASSERT(p == (void *)BASE);
	/* identity map 4 MiB with two 2 MiB pages: present, writable */
	pml4[0] = PG(1) | 3;
	pdpt[1] = PG(2) | 3;
	pd[0] = BASE | 0x83;
	pd[1] = (BASE + 0x200000) | 0x83;
	gdt[1] = 0x00af9b000000ffffull; /* 0x08: 64-bit code */
	gdt[2] = 0x00cf93000000ffffull; /* 0x10: data */
	gdt[3] = 0x0000890000000067ull | ((tss & 0xffffff) << 16) |
		 ((tss >> 24 & 0xff) << 56);
	gdt[4] = tss >> 32;
	gdt[5] = 0x00cff3000000ffffull; /* 0x2b: ring-3 data */
	gdt[6] = 0x00affb000000ffffull; /* 0x33: ring-3 64-bit code */
	IT_ASSERT(mprotect((void *)PG(P_RO), 4096, PROT_READ) == 0);
	IT_ASSERT(munmap((void *)PG(P_HOLE), 4096) == 0);

	dev_fd = dune_dev_open();
	IT_ASSERT(dev_fd >= 0);
	struct dune_slot s = { .index = 0, .gpa = BASE, .hva = BASE, .size = SIZE };
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, &s), 0);
}

static inline void config_init(struct dune_vcpu_config *c, const uint8_t *code,
			size_t len)
{
	memcpy((void *)PG(P_CODE), code, len);
	memset(c, 0, sizeof(*c));
	c->regs.rip = PG(P_CODE);
	c->regs.rsp = BASE + 0x200000;
	c->regs.rflags = 0x2;
	c->cr3 = PG(0);
	c->gdt_base = PG(P_GDT);
	c->gdt_limit = 7 * 8 - 1;
	c->idt_base = 0;
	c->idt_limit = 0; /* any exception becomes a triple fault */
	c->tss_base = PG(P_TSS);
	c->cs = 0x08;
	c->ds = 0x10;
	c->tr = 0x18;
}

static inline int vcpu_new(const uint8_t *code, size_t len, struct dune_run *run)
{
	struct dune_vcpu_config c;
	int fd;

	config_init(&c, code, len);
	fd = ioctl(dev_fd, DUNE_CREATE_VCPU, &c);
	IT_ASSERT(fd >= 0);
	memset(run, 0, sizeof(*run));
	run->regs = c.regs;
	return fd;
}

/*
 * Guests written in assembly: NAME_start..NAME_end is copied to the code
 * page, so labels inside are at PG(P_CODE) + (label - NAME_start).  The
 * code must be position independent.
 */
#define GUEST_ASM(name, body)                                              \
	__asm__(".pushsection .rodata\n" #name "_start:\n" body "\n" #name \
		"_end:\n.popsection\n");                                  \
	extern const uint8_t name##_start[], name##_end[]
#define GUEST_LABEL(name, label) extern const uint8_t label[]
#define GADDR(name, label) (PG(P_CODE) + (uint64_t)((label) - name##_start))

/* An IDT on page P_IDT; vectors not set stay not-present. */
static inline void idt_set(int vector, uint64_t handler)
{
	uint64_t *g = (uint64_t *)(PG(P_IDT) + vector * 16);

	/* 64-bit interrupt gate, DPL 0, selector 0x08 (SDM 6.14.1) */
	g[0] = (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
	       ((handler >> 16 & 0xffff) << 48);
	g[1] = handler >> 32;
}

static inline void config_asm(struct dune_vcpu_config *c, const uint8_t *start,
		       const uint8_t *end)
{
	config_init(c, start, end - start);
	c->idt_base = PG(P_IDT);
	c->idt_limit = 256 * 16 - 1;
	/* RSP0 in the 64-bit TSS: the stack for interrupts from ring 3 */
	*(volatile uint64_t *)(PG(P_TSS) + 4) = BASE + 0x180000;
}

static inline int vcpu_create_run(struct dune_vcpu_config *c, struct dune_run *run)
{
	int fd = ioctl(dev_fd, DUNE_CREATE_VCPU, c);

	IT_ASSERT(fd >= 0);
	memset(run, 0, sizeof(*run));
	run->regs = c->regs;
	return fd;
}

static inline int vcpu_new_asm(const uint8_t *start, const uint8_t *end,
			struct dune_run *run)
{
	struct dune_vcpu_config c;

	config_asm(&c, start, end);
	return vcpu_create_run(&c, run);
}

/* Make the identity map user-accessible (U/S in every level). */
static inline void guest_user_pages(void)
{
	((uint64_t *)PG(0))[0] |= 4;
	((uint64_t *)PG(1))[1] |= 4;
	((uint64_t *)PG(2))[0] |= 4;
	((uint64_t *)PG(2))[1] |= 4;
}

#endif
