/* SPDX-License-Identifier: MIT */
/*
 * dune-box's loader, the pure part: checking an ELF file's headers,
 * planning the mappings of its PT_LOAD segments, and building the
 * initial stack image.  Plain values in, plain values out (no system
 * calls), so test/unit/box_load_test.c checks them on the host.
 *
 * Owner: the loader.
 */
#ifndef BOX_LOAD_PLAN_H
#define BOX_LOAD_PLAN_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#define BOX_PAGE 4096ull
#define BOX_PAGE_DOWN(x) ((uint64_t)(x) & ~(BOX_PAGE - 1))
#define BOX_PAGE_UP(x) BOX_PAGE_DOWN((uint64_t)(x) + BOX_PAGE - 1)

/* End of user space with 4-level paging (Linux's TASK_SIZE_MAX). */
#define BOX_USER_TOP 0x7ffffffff000ull

/* Linux reads at most 64 KiB of program headers (elf_read_phdrs). */
#define BOX_MAX_PHDRS (65536 / sizeof(Elf64_Phdr))
/* Most PT_LOAD segments we map (real programs have 4 or 5). */
#define BOX_MAX_SEGS 32
/* Linux's limit for a PT_INTERP path (PATH_MAX). */
#define BOX_INTERP_MAX 4096

/*
 * One PT_LOAD segment, in the file's own addresses (add the load bias).
 * Pages [lo, file_hi) map the file from offset file_off; bytes
 * [zero_lo, file_hi) of the last file page are zeroed (the start of the
 * bss); pages [file_hi, hi) are anonymous zero pages.
 */
struct box_seg {
	uint64_t lo, hi;	/* page aligned */
	uint64_t file_off;	/* page aligned */
	uint64_t file_hi;	/* page aligned, lo <= file_hi <= hi */
	uint64_t zero_lo;	/* file_hi if nothing to zero */
	int prot;		/* PROT_* from p_flags */
};

struct box_plan {
	unsigned int type;	/* ET_EXEC or ET_DYN */
	unsigned int nseg;
	struct box_seg seg[BOX_MAX_SEGS];
	uint64_t lo, hi;	/* span of all segments, page aligned */
	uint64_t align;		/* largest PT_LOAD p_align, >= a page */
	uint64_t entry;		/* e_entry */
	uint64_t phdr;		/* the program headers in memory */
	unsigned int phnum;
	uint64_t interp_off;	/* PT_INTERP's path in the file ... */
	uint64_t interp_len;	/* ... with its NUL; 0: no PT_INTERP */
	int exec_stack;		/* PT_GNU_STACK asks for PF_X */
};

/*
 * Is @buf (the first @n bytes of a file) an x86-64 ELF executable?
 * 0, or -1 with the reason in @why (no file name: the caller adds it).
 */
int box_check_ehdr(const unsigned char *buf, size_t n, char *why,
		   size_t whylen);

/*
 * Check the program headers @ph (@eh->e_phnum of them) of a file of
 * @file_size bytes and plan its mappings into @p.  0, or -1 with the
 * reason in @why.
 */
int box_plan_segments(const Elf64_Ehdr *eh, const Elf64_Phdr *ph,
		      uint64_t file_size, struct box_plan *p, char *why,
		      size_t whylen);

/* One auxiliary-vector entry. */
struct box_auxv {
	uint64_t type, val;
};

/*
 * What the initial stack holds.  @auxv lists the entries in order,
 * without AT_NULL; the values of AT_RANDOM, AT_EXECFN and AT_PLATFORM
 * are filled in by box_stack_build (they point into the stack).
 */
struct box_stack_args {
	char *const *argv;
	char *const *envp;
	const char *execfn;	/* AT_EXECFN's string */
	const char *platform;	/* AT_PLATFORM's string, or NULL */
	const unsigned char *random; /* AT_RANDOM's 16 bytes */
	unsigned int align_rnd;	/* arch_align_stack's random offset */
	const struct box_auxv *auxv;
	size_t nauxv;
};

#define BOX_AUXV_MAX 40

/*
 * Build the stack image in @buf, which holds the virtual addresses
 * [@top - @size, @top), exactly as Linux's exec (copy_strings) and
 * create_elf_tables lay it out: from @top down, a zero word, the
 * AT_EXECFN string, the envp then argv strings, a random gap of
 * @align_rnd bytes rounded to 16, the platform string, the 16 random
 * bytes, then (16-byte aligned) argc, argv[], NULL, envp[], NULL, auxv.
 * *@sp gets the initial stack pointer (at argc).  0, or -1 with the
 * reason in @why (the arguments do not fit).
 */
int box_stack_build(const struct box_stack_args *a, unsigned char *buf,
		    uint64_t top, size_t size, uint64_t *sp, char *why,
		    size_t whylen);

#endif
