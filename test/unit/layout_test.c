// SPDX-License-Identifier: MIT
/*
 * Unit tests for libdune/layout.c: /proc/self/maps parsing and the
 * choice of guest-physical windows for realistic address spaces.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../libdune/layout.c"

#define GIB DUNE_GIB
#define TIB (1024 * GIB)

/* A PIE on Debian 12 (kernel 6.1), ASLR on: vdso above the stack. */
static const char pie_maps[] =
	"5581c6a0b000-5581c6a0d000 r--p 00000000 fe:00 247134                     /usr/bin/prog\n"
	"5581c6a0d000-5581c6a12000 r-xp 00002000 fe:00 247134                     /usr/bin/prog\n"
	"5581c6a12000-5581c6a15000 r--p 00007000 fe:00 247134                     /usr/bin/prog\n"
	"5581c6a15000-5581c6a16000 r--p 00009000 fe:00 247134                     /usr/bin/prog\n"
	"5581c6a16000-5581c6a17000 rw-p 0000a000 fe:00 247134                     /usr/bin/prog\n"
	"5581c7d2f000-5581c7d50000 rw-p 00000000 00:00 0                          [heap]\n"
	"7fa117ab6000-7fa117ad8000 rw-p 00000000 00:00 0 \n"
	"7fa117b39000-7fa117b5f000 r--p 00000000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7fa117b5f000-7fa117cb5000 r-xp 00026000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7fa117cb5000-7fa117d08000 r--p 0017c000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7fa117d08000-7fa117d0c000 r--p 001cf000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7fa117d0c000-7fa117d0e000 rw-p 001d3000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7fa117d0e000-7fa117d1b000 rw-p 00000000 00:00 0 \n"
	"7fa117d30000-7fa117d31000 r--p 00000000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
	"7fa117d31000-7fa117d57000 r-xp 00001000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
	"7fa117d57000-7fa117d61000 r--p 00027000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
	"7fa117d61000-7fa117d63000 r--p 00031000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
	"7fa117d63000-7fa117d65000 rw-p 00033000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
	"7ffd6d263000-7ffd6d284000 rw-p 00000000 00:00 0                          [stack]\n"
	"7ffd6d3b9000-7ffd6d3bd000 r--p 00000000 00:00 0                          [vvar]\n"
	"7ffd6d3bd000-7ffd6d3bf000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
#define PIE_PHDR 0x5581c6a0b040ull

/* A static non-PIE at 0x400000 (kernel 6.12: vDSO in the mmap area). */
static const char static_maps[] =
	"00400000-00401000 r--p 00000000 08:01 1234 /opt/dune/bin/itest-dune\n"
	"00401000-00495000 r-xp 00001000 08:01 1234 /opt/dune/bin/itest-dune\n"
	"00495000-004be000 r--p 00095000 08:01 1234 /opt/dune/bin/itest-dune\n"
	"004bf000-004c5000 rw-p 000be000 08:01 1234 /opt/dune/bin/itest-dune\n"
	"004c5000-004c6000 rw-p 00000000 00:00 0\n"
	"01d4c000-01d6e000 rw-p 00000000 00:00 0 [heap]\n"
	"7f3a2c000000-7f3a2c100000 rw-p 00000000 00:00 0\n"
	"7f3a2c1f0000-7f3a2c1f4000 r--p 00000000 00:00 0 [vvar]\n"
	"7f3a2c1f4000-7f3a2c1f6000 r--p 00000000 00:00 0 [vvar_vclock]\n"
	"7f3a2c1f6000-7f3a2c1f8000 r-xp 00000000 00:00 0 [vdso]\n"
	"7ffc1a0d3000-7ffc1a0f4000 rw-p 00000000 00:00 0 [stack]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]";
#define STATIC_PHDR 0x400040ull

/* The same static program with nothing at all in the mmap area. */
static const char bare_static_maps[] =
	"00400000-004c5000 r-xp 00000000 08:01 1234 /a.out\n"
	"01d4c000-01d6e000 rw-p 00000000 00:00 0 [heap]\n"
	"7ffc1a0d3000-7ffc1a0f4000 rw-p 00000000 00:00 0 [stack]\n"
	"7ffc1a1f0000-7ffc1a1f4000 r--p 00000000 00:00 0 [vvar]\n"
	"7ffc1a1f4000-7ffc1a1f6000 r-xp 00000000 00:00 0 [vdso]\n";

/* ulimit -s unlimited: legacy bottom-up mmap from TASK_SIZE / 3. */
static const char legacy_maps[] =
	"2aaaaaaab000-2aaaaaaad000 r--p 00000000 fe:00 332383 /lib64/ld-linux-x86-64.so.2\n"
	"2aaaaaaad000-2aaaaaad3000 r-xp 00002000 fe:00 332383 /lib64/ld-linux-x86-64.so.2\n"
	"2aaaaaad9000-2aaaaaaff000 r--p 00000000 fe:00 332835 /lib/libc.so.6\n"
	"2aaaaaaff000-2aaaaac55000 r-xp 00026000 fe:00 332835 /lib/libc.so.6\n"
	"555555554000-555555556000 r--p 00000000 fe:00 247134 /usr/bin/prog\n"
	"555555556000-55555555b000 r-xp 00002000 fe:00 247134 /usr/bin/prog\n"
	"555555560000-555555581000 rw-p 00000000 00:00 0 [heap]\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n";
#define LEGACY_PHDR 0x555555554040ull

static struct dune_layout_hints parse(const char *text, uint64_t phdr)
{
	struct dune_layout_hints h;

	ck_assert_int_eq(dune_maps_parse(text, strlen(text), phdr, &h), 0);
	return h;
}

/* Invariants every layout must satisfy, whatever the input. */
static void check_layout(const struct dune_layout *l,
			 const struct dune_layout_hints *h,
			 unsigned int maxphyaddr)
{
	uint64_t budget = (1ull << maxphyaddr) - dune_layout_reserve(maxphyaddr);
	unsigned int i;

	ck_assert_uint_eq(l->maxphyaddr, maxphyaddr);
	ck_assert_uint_ge(l->nr, 1);
	ck_assert_uint_le(l->nr, DUNE_MAX_SLOTS);
	/* The low window is first and the identity. */
	ck_assert_uint_eq(l->w[0].va, 0);
	ck_assert_uint_eq(l->w[0].gpa, 0);
	for (i = 0; i < l->nr; i++) {
		const struct dune_window *w = &l->w[i];
		uint64_t gsize = (w->size + GIB - 1) & ~(GIB - 1);

		ck_assert_uint_eq(w->va % GIB, 0);
		ck_assert_uint_eq(w->gpa % GIB, 0);
		ck_assert_uint_eq(w->size % 4096, 0);
		ck_assert_uint_gt(w->size, 0);
		ck_assert_uint_le(w->va + w->size, DUNE_USER_TOP);
		ck_assert_uint_le(w->gpa + gsize, l->gpa_end);
		if (i) {
			/* sorted, disjoint in VA and in (whole-GiB) GPA */
			ck_assert_uint_ge(w->va, l->w[i - 1].va + l->w[i - 1].size);
			ck_assert_uint_ge(w->gpa, l->w[i - 1].gpa +
				((l->w[i - 1].size + GIB - 1) & ~(GIB - 1)));
		}
		/* translation round trips at both ends */
		ck_assert_uint_eq(dune_layout_va_to_pa(l, w->va), w->gpa);
		ck_assert_uint_eq(dune_layout_va_to_pa(l, w->va + w->size - 1),
				  w->gpa + w->size - 1);
		ck_assert_uint_eq(dune_layout_pa_to_va(l, w->gpa + w->size - 1),
				  w->va + w->size - 1);
	}
	ck_assert_uint_le(l->gpa_end, budget);
	ck_assert_uint_le(l->gpa_end, 1ull << maxphyaddr);
	/* Everything mapped now is reachable. */
	for (i = 0; h && i < h->nr_areas; i++) {
		uint64_t hi = h->area[i].hi < DUNE_USER_TOP ? h->area[i].hi
							    : DUNE_USER_TOP;

		ck_assert_msg(dune_layout_covers(l, h->area[i].lo, hi),
			      "area %u 0x%llx-0x%llx not covered", i,
			      (unsigned long long)h->area[i].lo,
			      (unsigned long long)h->area[i].hi);
	}
}

/* The window holding @va. */
static const struct dune_window *window_of(const struct dune_layout *l,
					   uint64_t va)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (va - l->w[i].va < l->w[i].size)
			return &l->w[i];
	return NULL;
}

START_TEST(test_parse_pie)
{
	struct dune_layout_hints h = parse(pie_maps, PIE_PHDR);

	/* exe, heap, mmap area (libc, ld.so, anon), stack, vvar+vdso */
	ck_assert_uint_eq(h.nr_areas, 5);
	ck_assert_uint_eq(h.area[0].kind, DUNE_AREA_EXE);
	ck_assert_uint_eq(h.area[0].lo, 0x5581c6a0b000ull);
	ck_assert_uint_eq(h.area[0].hi, 0x5581c6a17000ull);
	ck_assert_uint_eq(h.area[1].kind, DUNE_AREA_HEAP);
	ck_assert_uint_eq(h.area[2].kind, DUNE_AREA_MMAP);
	ck_assert_uint_eq(h.area[2].lo, 0x7fa117ab6000ull);
	ck_assert_uint_eq(h.area[2].hi, 0x7fa117d65000ull);
	ck_assert_uint_eq(h.area[3].kind, DUNE_AREA_STACK);
	ck_assert_uint_eq(h.area[4].kind, DUNE_AREA_MMAP);
	ck_assert_uint_eq(h.area[4].hi, 0x7ffd6d3bf000ull);
}
END_TEST

START_TEST(test_parse_exe_by_inode_not_name)
{
	/* Without AT_PHDR nothing is the executable. */
	struct dune_layout_hints h = parse(pie_maps, 0);
	unsigned int i;

	for (i = 0; i < h.nr_areas; i++)
		ck_assert_uint_ne(h.area[i].kind, DUNE_AREA_EXE);
	/* An address in an anonymous mapping names no file either. */
	h = parse(pie_maps, 0x7fa117ab6100ull);
	for (i = 0; i < h.nr_areas; i++)
		ck_assert_uint_ne(h.area[i].kind, DUNE_AREA_EXE);
}
END_TEST

START_TEST(test_parse_odd_lines)
{
	static const char text[] =
		"garbage line\n"
		"\n"
		"400000-401000 r-xp 00000000 08:01 77 /tmp/my prog (deleted)\r\n"
		"401000-402000 rw-p 00001000 08:01 77 /tmp/my prog (deleted)\n"
		"500000-400000 rw-p 00000000 00:00 0 [bad range]\n"
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 [stack:4242]\n"
		"7f0000002000-7f0000003000 rw-p 00000000 00:00 0 [anon:glibc]\n"
		"7ffff0000000-7ffff0001000 rw-p 00000000 00:00 0 [stack]\n"
		"7ffff0001000-7ffff00";	/* cut off: ignored */
	struct dune_layout_hints h = parse(text, 0x400100);

	ck_assert_uint_eq(h.nr_areas, 3);
	ck_assert_uint_eq(h.area[0].kind, DUNE_AREA_EXE);
	ck_assert_uint_eq(h.area[0].lo, 0x400000);
	ck_assert_uint_eq(h.area[0].hi, 0x402000);
	/* old kernels' thread stacks are ordinary mmap memory */
	ck_assert_uint_eq(h.area[1].kind, DUNE_AREA_MMAP);
	ck_assert_uint_eq(h.area[1].hi, 0x7f0000003000ull);
	ck_assert_uint_eq(h.area[2].kind, DUNE_AREA_STACK);
}
END_TEST

START_TEST(test_parse_empty)
{
	struct dune_layout_hints h;

	ck_assert_int_eq(dune_maps_parse("", 0, 0, &h), -EINVAL);
	ck_assert_int_eq(dune_maps_parse("nothing here\n", 13, 0, &h),
			 -EINVAL);
	/* only [vsyscall]: not user memory */
	ck_assert_int_eq(dune_maps_parse(
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n",
		70, 0, &h), -EINVAL);
}
END_TEST

START_TEST(test_parse_many_areas_merge)
{
	static char text[64 * 200];
	struct dune_layout_hints h;
	size_t n = 0;
	int i;

	/* 100 mappings 2 GiB apart: more than the area table holds. */
	for (i = 0; i < 100; i++)
		n += snprintf(text + n, sizeof(text) - n,
			      "%llx-%llx rw-p 00000000 00:00 0\n",
			      0x100000000000ull + i * 2 * GIB,
			      0x100000000000ull + i * 2 * GIB + 4096);
	ck_assert_int_eq(dune_maps_parse(text, n, 0, &h), 0);
	ck_assert_uint_eq(h.nr_areas, DUNE_LAYOUT_MAX_AREAS);
	ck_assert_uint_eq(h.area[DUNE_LAYOUT_MAX_AREAS - 1].hi,
			  0x100000000000ull + 99 * 2 * GIB + 4096);
}
END_TEST

START_TEST(test_pie_39_bits)
{
	struct dune_layout_hints h = parse(pie_maps, PIE_PHDR);
	const struct dune_window *exe, *mmap, *stack;
	struct dune_layout l;

	h.stack_limit = 8 << 20;
	ck_assert_int_eq(dune_layout_compute(&l, 39, &h), 0);
	check_layout(&l, &h, 39);
	/* 512 GiB minus the 16 GiB reserve, all of it handed out */
	ck_assert_uint_eq(dune_layout_reserve(39), 16 * GIB);
	ck_assert_uint_eq(l.gpa_end, 496 * GIB);
	ck_assert_uint_eq(l.nr, 4);
	ck_assert_uint_eq(l.w[0].size, DUNE_LOW_WINDOW);

	exe = window_of(&l, 0x5581c6a0b000ull);
	ck_assert_ptr_nonnull(exe);
	ck_assert_uint_eq(exe->va, 0x5581c0000000ull);
	/*
	 * Fixed cost: low 2 + exe 1 + libraries 1 + stack to the top 11 =
	 * 15 GiB.  brk gets an eighth of the 481 GiB left: 60 GiB.
	 */
	ck_assert_uint_eq(exe->size, (1 + 60) * GIB);

	mmap = window_of(&l, 0x7fa117ab6000ull);
	ck_assert_ptr_nonnull(mmap);
	/* the rest (421 GiB) goes to mmap, below the libraries */
	ck_assert_uint_eq(mmap->va + mmap->size, 0x7fa140000000ull);
	ck_assert_uint_eq(mmap->size, (1 + 421) * GIB);

	stack = window_of(&l, 0x7ffd6d263000ull);
	ck_assert_ptr_nonnull(stack);
	ck_assert_ptr_eq(stack, window_of(&l, 0x7ffd6d3bd000ull));	/* vdso */
	ck_assert_uint_eq(stack->va + stack->size, DUNE_USER_TOP);
	ck_assert_uint_eq(stack->va, 0x7ffd40000000ull);

	/* Far from everything: no translation. */
	ck_assert_uint_eq(dune_layout_va_to_pa(&l, 0x300000000000ull), DUNE_BAD_ADDR);
	ck_assert_uint_eq(dune_layout_va_to_pa(&l, DUNE_USER_TOP), DUNE_BAD_ADDR);
	ck_assert_uint_eq(dune_layout_va_to_pa(&l, ~0ull), DUNE_BAD_ADDR);
	ck_assert_uint_eq(dune_layout_pa_to_va(&l, 496 * GIB), DUNE_BAD_ADDR);
	/* page 0 is mapped; the EPT refuses it since nothing is there */
	ck_assert_uint_eq(dune_layout_va_to_pa(&l, 0), 0);
}
END_TEST

START_TEST(test_pie_40_bits)
{
	struct dune_layout_hints h = parse(pie_maps, PIE_PHDR);
	const struct dune_window *exe, *mmap;
	struct dune_layout l;

	ck_assert_int_eq(dune_layout_compute(&l, 40, &h), 0);
	check_layout(&l, &h, 40);
	ck_assert_uint_eq(dune_layout_reserve(40), 32 * GIB);
	ck_assert_uint_eq(l.gpa_end, 992 * GIB);
	exe = window_of(&l, 0x5581c6a0b000ull);
	mmap = window_of(&l, 0x7fa117ab6000ull);
	/* 992 - 15 = 977 GiB to share: 122 for brk, 855 for mmap */
	ck_assert_uint_eq(exe->size, (1 + 122) * GIB);
	ck_assert_uint_eq(mmap->size, (1 + 855) * GIB);
}
END_TEST

START_TEST(test_pie_46_bits)
{
	struct dune_layout_hints h = parse(pie_maps, PIE_PHDR);
	const struct dune_window *exe, *mmap;
	struct dune_layout l;

	ck_assert_int_eq(dune_layout_compute(&l, 46, &h), 0);
	check_layout(&l, &h, 46);
	exe = window_of(&l, 0x5581c6a0b000ull);
	mmap = window_of(&l, 0x7fa117ab6000ull);
	/* the mmap area now reaches down to the heap window */
	ck_assert_uint_eq(mmap->va, exe->va + exe->size);
	ck_assert_uint_ge(exe->size, 7 * TIB);
	/* and 2 MiB pages cap what is mapped */
	h.max_map = 1ull << 40;
	ck_assert_int_eq(dune_layout_compute(&l, 46, &h), 0);
	check_layout(&l, &h, 46);
	ck_assert_uint_le(l.gpa_end, 1ull << 40);
}
END_TEST

START_TEST(test_identity_when_it_fits)
{
	struct dune_layout_hints h = parse(pie_maps, PIE_PHDR);
	struct dune_layout l;
	unsigned int bits;

	for (bits = 48; bits <= 52; bits++) {
		ck_assert_int_eq(dune_layout_compute(&l, bits, &h), 0);
		check_layout(&l, &h, bits);
		ck_assert_uint_eq(l.nr, 1);
		ck_assert_uint_eq(l.w[0].size, DUNE_USER_TOP);
		ck_assert_uint_eq(dune_layout_va_to_pa(&l, 0x7fa117ab6123ull),
				  0x7fa117ab6123ull);
	}
	/* 47 bits minus the reserve does not hold 128 TiB */
	ck_assert_int_eq(dune_layout_compute(&l, 47, &h), 0);
	check_layout(&l, &h, 47);
	ck_assert_uint_gt(l.nr, 1);
}
END_TEST

START_TEST(test_static_non_pie)
{
	struct dune_layout_hints h = parse(static_maps, STATIC_PHDR);
	const struct dune_window *low, *mmap;
	struct dune_layout l;

	ck_assert_int_eq(dune_layout_compute(&l, 39, &h), 0);
	check_layout(&l, &h, 39);
	/* executable and heap in the low window, which grows with brk */
	low = window_of(&l, 0x400000);
	ck_assert_ptr_eq(low, &l.w[0]);
	ck_assert_ptr_eq(low, window_of(&l, 0x01d4c000));
	/* fixed: low 2 + libraries 1 + stack 16; 477 GiB shared 59 + 418 */
	ck_assert_uint_eq(low->size, 2 * GIB + 59 * GIB);
	mmap = window_of(&l, 0x7f3a2c1f6000ull);	/* vdso in mmap area */
	ck_assert_ptr_nonnull(mmap);
	ck_assert_ptr_eq(mmap, window_of(&l, 0x7f3a2c000000ull));
	ck_assert_uint_eq(mmap->size, (1 + 418) * GIB);
	ck_assert_uint_eq(l.gpa_end, 496 * GIB);
}
END_TEST

START_TEST(test_bare_static)
{
	/* No mmap area known: all growth goes to brk; still consistent. */
	struct dune_layout_hints h = parse(bare_static_maps, 0x400040);
	struct dune_layout l;

	ck_assert_int_eq(dune_layout_compute(&l, 39, &h), 0);
	check_layout(&l, &h, 39);
	ck_assert_uint_eq(l.nr, 2);
	ck_assert_uint_eq(l.gpa_end, 496 * GIB);
}
END_TEST

START_TEST(test_legacy_grows_up)
{
	struct dune_layout_hints h = parse(legacy_maps, LEGACY_PHDR);
	const struct dune_window *libs, *exe;
	struct dune_layout l;

	h.legacy_mmap = true;
	ck_assert_int_eq(dune_layout_compute(&l, 39, &h), 0);
	check_layout(&l, &h, 39);
	libs = window_of(&l, 0x2aaaaaaab000ull);
	exe = window_of(&l, 0x555555554000ull);
	ck_assert_ptr_nonnull(libs);
	ck_assert_ptr_nonnull(exe);
	/* bottom-up mmap: the library window starts at the libraries */
	ck_assert_uint_eq(libs->va, 0x2aaa80000000ull);
	ck_assert_uint_ge(libs->size, 400 * GIB);
	ck_assert_uint_eq(l.gpa_end, 496 * GIB);
}
END_TEST

/* The page pool at PAGEBASE (8 GiB), as dune_init reserves it. */
static const char pool_line[] =
	"200000000-240000000 rw-p 00000000 00:00 0\n";

static struct dune_layout_hints parse_with_pool(const char *maps,
						uint64_t phdr)
{
	static char text[8192];

	snprintf(text, sizeof(text), "%s%s", pool_line, maps);
	return parse(text, phdr);
}

/* low_end: the low window is the identity up to past the pool. */
START_TEST(test_low_end_pool_identity)
{
	struct dune_layout_hints h = parse_with_pool(pie_maps, PIE_PHDR);
	const struct dune_window *mmap;
	struct dune_layout l;

	h.low_end = 0x240000000ull;
	ck_assert_int_eq(dune_layout_compute(&l, 40, &h), 0);
	check_layout(&l, &h, 40);
	ck_assert_uint_eq(l.w[0].va, 0);
	ck_assert_uint_eq(l.w[0].size, 9 * GIB);
	ck_assert_uint_eq(dune_layout_va_to_pa(&l, 0x200000000ull),
			  0x200000000ull);
	ck_assert_uint_eq(dune_layout_va_to_pa(&l, 0x23ffff000ull),
			  0x23ffff000ull);
	/* the libraries still get the growth */
	mmap = window_of(&l, 0x7fa117ab6000ull);
	ck_assert_uint_ge(mmap->size, 800 * GIB);
	/* without low_end the pool is a window of its own, not identity */
	h.low_end = 0;
	ck_assert_int_eq(dune_layout_compute(&l, 40, &h), 0);
	ck_assert_uint_ne(dune_layout_va_to_pa(&l, 0x200000000ull),
			  0x200000000ull);
	/* bad: past user space */
	h.low_end = DUNE_USER_TOP + 4096;
	ck_assert_int_eq(dune_layout_compute(&l, 40, &h), -EINVAL);
}
END_TEST

/* Legacy bottom-up mmap: the pool is not where mmap grows from. */
START_TEST(test_low_end_legacy)
{
	struct dune_layout_hints h = parse_with_pool(legacy_maps, LEGACY_PHDR);
	const struct dune_window *libs;
	struct dune_layout l;

	h.legacy_mmap = true;
	h.low_end = 0x240000000ull;
	ck_assert_int_eq(dune_layout_compute(&l, 39, &h), 0);
	check_layout(&l, &h, 39);
	ck_assert_uint_eq(dune_layout_va_to_pa(&l, 0x200000000ull),
			  0x200000000ull);
	libs = window_of(&l, 0x2aaaaaaab000ull);
	ck_assert_uint_eq(libs->va, 0x2aaa80000000ull);
	ck_assert_uint_ge(libs->size, 400 * GIB);
}
END_TEST

START_TEST(test_stack_growth_covered)
{
	struct dune_layout_hints h = parse(pie_maps, PIE_PHDR);
	struct dune_layout l;

	/* a 2 GiB stack limit reaches below the stack's GiB */
	h.stack_limit = 2 * GIB;
	ck_assert_int_eq(dune_layout_compute(&l, 39, &h), 0);
	check_layout(&l, &h, 39);
	ck_assert(dune_layout_covers(&l, 0x7ffd6d263000ull - 2 * GIB,
				     0x7ffd6d284000ull));
}
END_TEST

START_TEST(test_too_many_windows_merge)
{
	struct dune_layout_hints h;
	struct dune_layout l;
	unsigned int i;

	memset(&h, 0, sizeof(h));
	/* 40 areas 100 GiB apart need merging into 16 windows */
	for (i = 0; i < 40; i++)
		h.area[h.nr_areas++] = (struct dune_area){
			0x100000000000ull + i * 100 * GIB,
			0x100000000000ull + i * 100 * GIB + 4096,
			DUNE_AREA_MMAP };
	ck_assert_int_eq(dune_layout_compute(&l, 46, &h), 0);
	check_layout(&l, &h, 46);
	ck_assert_uint_eq(l.nr, DUNE_MAX_SLOTS);
}
END_TEST

START_TEST(test_does_not_fit)
{
	struct dune_layout_hints h;
	struct dune_layout l;
	unsigned int i;

	memset(&h, 0, sizeof(h));
	/* 20 areas 200 GiB apart: 16 windows at 39 bits cannot hold them */
	for (i = 0; i < 20; i++)
		h.area[h.nr_areas++] = (struct dune_area){
			0x100000000000ull + i * 200 * GIB,
			0x100000000000ull + i * 200 * GIB + 4096,
			DUNE_AREA_MMAP };
	ck_assert_int_eq(dune_layout_compute(&l, 39, &h), -ENOSPC);
	/* a huge single mapping does not fit either */
	memset(&h, 0, sizeof(h));
	h.nr_areas = 1;
	h.area[0] = (struct dune_area){ 0x100000000000ull,
					0x100000000000ull + 600 * GIB,
					DUNE_AREA_MMAP };
	ck_assert_int_eq(dune_layout_compute(&l, 39, &h), -ENOSPC);
	ck_assert_int_eq(dune_layout_compute(&l, 40, &h), 0);
	check_layout(&l, &h, 40);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct dune_layout_hints h = parse(pie_maps, PIE_PHDR);
	struct dune_layout l;

	ck_assert_int_eq(dune_layout_compute(&l, 31, &h), -EINVAL);
	ck_assert_int_eq(dune_layout_compute(&l, 53, &h), -EINVAL);
	ck_assert_int_eq(dune_layout_compute(NULL, 39, &h), -EINVAL);
	ck_assert_int_eq(dune_layout_compute(&l, 39, NULL), -EINVAL);
	h.nr_areas = DUNE_LAYOUT_MAX_AREAS + 1;
	ck_assert_int_eq(dune_layout_compute(&l, 39, &h), -EINVAL);
}
END_TEST

START_TEST(test_covers_across_adjacent_windows)
{
	struct dune_layout l = {
		.maxphyaddr = 39,
		.nr = 2,
		.w = { { 0, 0, 2 * GIB }, { 2 * GIB, 10 * GIB, GIB } },
		.gpa_end = 11 * GIB,
	};

	ck_assert(dune_layout_covers(&l, GIB, 3 * GIB));
	ck_assert(!dune_layout_covers(&l, GIB, 3 * GIB + 1));
	ck_assert(dune_layout_covers(&l, 5, 5));	/* empty */
	ck_assert_uint_eq(dune_layout_va_to_pa(&l, 2 * GIB + 7), 10 * GIB + 7);
	ck_assert_uint_eq(dune_layout_pa_to_va(&l, 10 * GIB + 7), 2 * GIB + 7);
	ck_assert_uint_eq(dune_layout_pa_to_va(&l, 5 * GIB), DUNE_BAD_ADDR);
}
END_TEST

static Suite *layout_suite(void)
{
	Suite *s = suite_create("layout");
	TCase *tp = tcase_create("maps");
	TCase *tc = tcase_create("compute");

	tcase_add_test(tp, test_parse_pie);
	tcase_add_test(tp, test_parse_exe_by_inode_not_name);
	tcase_add_test(tp, test_parse_odd_lines);
	tcase_add_test(tp, test_parse_empty);
	tcase_add_test(tp, test_parse_many_areas_merge);
	suite_add_tcase(s, tp);
	tcase_add_test(tc, test_pie_39_bits);
	tcase_add_test(tc, test_pie_40_bits);
	tcase_add_test(tc, test_pie_46_bits);
	tcase_add_test(tc, test_identity_when_it_fits);
	tcase_add_test(tc, test_static_non_pie);
	tcase_add_test(tc, test_bare_static);
	tcase_add_test(tc, test_legacy_grows_up);
	tcase_add_test(tc, test_stack_growth_covered);
	tcase_add_test(tc, test_low_end_pool_identity);
	tcase_add_test(tc, test_low_end_legacy);
	tcase_add_test(tc, test_too_many_windows_merge);
	tcase_add_test(tc, test_does_not_fit);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_covers_across_adjacent_windows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(layout_suite());
}
