/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical layout: which parts of the process's virtual address
 * space Dune can reach, and at which guest-physical addresses.
 *
 * The guest runs on page tables that map each process virtual address to
 * a guest-physical address (GPA), and the EPT maps GPAs back to the same
 * process memory (DUNE_SET_SLOT).  GPAs are limited to MAXPHYADDR bits,
 * as few as 39 (512 GiB), while user space spans 47 bits (128 TiB), so we
 * map a handful of 1 GiB aligned "windows" around the places where the
 * process has or will get memory: low memory and a non-PIE executable,
 * the executable and its brk heap, the mmap area, the stack.  Each window
 * is one memory slot.  Everything here is pure logic, unit-tested on the
 * host.
 */
#ifndef LIBDUNE_LAYOUT_H
#define LIBDUNE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dune/uapi.h>

/* Part of libdune.so's API, like dune.h. */
#pragma GCC visibility push(default)

#define DUNE_GIB (1ull << 30)
/* End of user space with 4-level paging (Linux TASK_SIZE_MAX). */
#define DUNE_USER_TOP 0x7ffffffff000ull
/* What dune_layout_va_to_pa / dune_layout_pa_to_va return for an unmapped address. */
#define DUNE_BAD_ADDR (~0ull)

/* Low memory always mapped: non-PIE executables and MAP_32BIT land here. */
#define DUNE_LOW_WINDOW (2 * DUNE_GIB)
/* Linux places brk up to 32 MiB above the executable (ASLR). */
#define DUNE_BRK_RANDOM (32ull << 20)

#define DUNE_LAYOUT_MAX_AREAS 64
#define DUNE_LAYOUT_MAX_WINDOWS DUNE_MAX_SLOTS

/* What a range of the address space is, for growth decisions. */
enum dune_area_kind {
	DUNE_AREA_MMAP,		/* libraries, anonymous memory, vDSO, vvar */
	DUNE_AREA_EXE,		/* the main program's file mappings */
	DUNE_AREA_HEAP,		/* [heap]: brk, grows up */
	DUNE_AREA_STACK,	/* [stack]: the main stack, grows down */
};

struct dune_area {
	uint64_t lo, hi;	/* [lo, hi) */
	unsigned int kind;	/* enum dune_area_kind */
};

struct dune_layout_hints {
	unsigned int nr_areas;
	struct dune_area area[DUNE_LAYOUT_MAX_AREAS];	/* sorted, disjoint */
	uint64_t stack_limit;	/* RLIMIT_STACK; 0 means Linux's 8 MiB */
	uint64_t max_map;	/* most GPA space to use; 0: no limit */
	bool legacy_mmap;	/* bottom-up mmap (legacy_va_layout) */
	/*
	 * The low window, mapped VA == GPA, reaches at least this far
	 * (rounded up to 1 GiB; 0: DUNE_LOW_WINDOW): dune_init puts the page
	 * pool at PAGEBASE inside it, so pool pages' addresses are their
	 * GPAs, as in the original libdune.
	 */
	uint64_t low_end;
};

struct dune_window {
	uint64_t va;		/* 1 GiB aligned */
	uint64_t gpa;		/* 1 GiB aligned */
	uint64_t size;		/* 4 KiB multiple; ends at DUNE_USER_TOP at most */
};

struct dune_layout {
	unsigned int maxphyaddr;
	unsigned int nr;
	struct dune_window w[DUNE_LAYOUT_MAX_WINDOWS];	/* by va, disjoint */
	/* GPAs [0, gpa_end) belong to windows, in 1 GiB units. */
	uint64_t gpa_end;
};

/*
 * Compute the windows for a CPU with @maxphyaddr physical address bits.
 * Every area of @h is covered; the space left (minus a reserve at the
 * top of guest-physical space) goes to growth: mostly to the mmap area,
 * some to the brk heap.  If everything fits, one identity window.
 * Returns 0, -EINVAL (bad arguments) or -ENOSPC (the areas alone do not
 * fit in guest-physical space).
 */
int dune_layout_compute(struct dune_layout *l, unsigned int maxphyaddr,
			const struct dune_layout_hints *h);

/* Translate through the windows; DUNE_BAD_ADDR if in none. */
uint64_t dune_layout_va_to_pa(const struct dune_layout *l, uint64_t va);
uint64_t dune_layout_pa_to_va(const struct dune_layout *l, uint64_t pa);

/* Is every byte of [lo, hi) inside some window? */
bool dune_layout_covers(const struct dune_layout *l, uint64_t lo,
			uint64_t hi);

/* The GPA space kept free at the top for the module (1/32, >= 1 GiB). */
uint64_t dune_layout_reserve(unsigned int maxphyaddr);

/*
 * Turn the text of /proc/self/maps into hints (areas only; the caller
 * fills stack_limit, max_map and legacy_mmap).  @exe_addr is any address
 * inside the main executable (getauxval(AT_PHDR)): every mapping of the
 * same file is DUNE_AREA_EXE.  Nearby mappings of one kind are merged.
 * Returns 0, or -EINVAL if the text holds no mapping.
 */
int dune_maps_parse(const char *text, size_t len, uint64_t exe_addr,
		    struct dune_layout_hints *h);

#pragma GCC visibility pop

#endif
