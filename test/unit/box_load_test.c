// SPDX-License-Identifier: MIT
/*
 * Unit tests for dune-box's loader, the pure part (box/load_plan.c):
 * ELF header checks, segment planning, and the initial stack image laid
 * out as Linux's exec and create_elf_tables lay it out.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <string.h>

#include "../../box/load_plan.c"

static char why[256];

static Elf64_Ehdr ehdr(void)
{
	Elf64_Ehdr eh;

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = 64;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 3;
	eh.e_entry = 0x1040;
	return eh;
}

START_TEST(test_ehdr)
{
	Elf64_Ehdr eh = ehdr();

	ck_assert_int_eq(box_check_ehdr((void *)&eh, sizeof(eh), why,
					sizeof(why)), 0);
	ck_assert_int_eq(box_check_ehdr((void *)"#!/bin/sh", 9, why,
					sizeof(why)), -1);
	ck_assert_str_eq(why, "not an ELF file (a script: run its interpreter as the program)");
	ck_assert_int_eq(box_check_ehdr((void *)&eh, 40, why, sizeof(why)),
			 -1);
	ck_assert_str_eq(why, "corrupt ELF header: truncated");
	eh.e_machine = EM_386;
	ck_assert_int_eq(box_check_ehdr((void *)&eh, sizeof(eh), why,
					sizeof(why)), -1);
	ck_assert_str_eq(why, "ELF for another architecture (e_machine 3, i386): only x86-64 programs run");
	eh = ehdr();
	eh.e_type = ET_CORE;
	ck_assert_int_eq(box_check_ehdr((void *)&eh, sizeof(eh), why,
					sizeof(why)), -1);
	ck_assert_str_eq(why, "not an executable (ELF type 4: ET_CORE, a core dump)");
	eh = ehdr();
	eh.e_phnum = 0;
	ck_assert_int_eq(box_check_ehdr((void *)&eh, sizeof(eh), why,
					sizeof(why)), -1);
	ck_assert_str_eq(why, "corrupt ELF header: 0 program headers");
}
END_TEST

START_TEST(test_plan)
{
	Elf64_Ehdr eh = ehdr();
	Elf64_Phdr ph[3];
	struct box_plan p;

	memset(ph, 0, sizeof(ph));
	/* text: file 0 .. 0x1234, holding the program headers */
	ph[0].p_type = PT_LOAD;
	ph[0].p_flags = PF_R | PF_X;
	ph[0].p_filesz = ph[0].p_memsz = 0x1234;
	ph[0].p_align = 0x1000;
	/* data + bss, sharing its first page's file offset congruence */
	ph[1].p_type = PT_LOAD;
	ph[1].p_flags = PF_R | PF_W;
	ph[1].p_offset = 0x1e10;
	ph[1].p_vaddr = 0x2e10;
	ph[1].p_filesz = 0x300;
	ph[1].p_memsz = 0x5000;
	ph[1].p_align = 0x200000;
	ph[2].p_type = PT_INTERP;
	ph[2].p_offset = 0x200;
	ph[2].p_filesz = 28;
	ck_assert_int_eq(box_plan_segments(&eh, ph, 0x3000, &p, why,
					   sizeof(why)), 0);
	ck_assert_int_eq(p.nseg, 2);
	ck_assert_uint_eq(p.seg[0].lo, 0);
	ck_assert_uint_eq(p.seg[0].hi, 0x2000);
	ck_assert_uint_eq(p.seg[0].file_hi, 0x2000);
	ck_assert_uint_eq(p.seg[0].zero_lo, 0x2000);	/* no bss */
	ck_assert_int_eq(p.seg[0].prot, PROT_READ | PROT_EXEC);
	ck_assert_uint_eq(p.seg[1].lo, 0x2000);
	ck_assert_uint_eq(p.seg[1].file_off, 0x1000);
	ck_assert_uint_eq(p.seg[1].file_hi, 0x4000);
	ck_assert_uint_eq(p.seg[1].zero_lo, 0x3110);
	ck_assert_uint_eq(p.seg[1].hi, 0x8000);
	ck_assert_int_eq(p.seg[1].prot, PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(p.lo, 0);
	ck_assert_uint_eq(p.hi, 0x8000);
	ck_assert_uint_eq(p.align, 0x200000);
	ck_assert_uint_eq(p.phdr, 64);
	ck_assert_uint_eq(p.interp_off, 0x200);
	ck_assert_uint_eq(p.interp_len, 28);

	ph[1].p_offset = 0x1e18;
	ck_assert_int_eq(box_plan_segments(&eh, ph, 0x3000, &p, why,
					   sizeof(why)), -1);
	ck_assert_str_eq(why, "corrupt program header 1: p_vaddr and p_offset differ modulo the page size");
	ph[1].p_offset = 0x1e10;
	ck_assert_int_eq(box_plan_segments(&eh, ph, 0x2000, &p, why,
					   sizeof(why)), -1);
	ck_assert_str_eq(why, "corrupt program header 1: segment beyond the end of the file");
	ph[2].p_filesz = 5000;
	ck_assert_int_eq(box_plan_segments(&eh, ph, 0x3000, &p, why,
					   sizeof(why)), -1);
	ck_assert_str_eq(why, "bad PT_INTERP: length 5000");
	ph[2].p_filesz = 28;
	eh.e_entry = 0x9000;
	ck_assert_int_eq(box_plan_segments(&eh, ph, 0x3000, &p, why,
					   sizeof(why)), -1);
	ck_assert_str_eq(why, "corrupt ELF header: entry point outside the loadable segments");
}
END_TEST

/* Parse a built stack back, checking every rule of the layout. */
START_TEST(test_stack)
{
	static unsigned char buf[1 << 16];
	const uint64_t top = 0x7ffd00010000ull, base = top - sizeof(buf);
	char *argv[] = { "prog", "a b", "", NULL };
	char *envp[] = { "X=1", "LONGER=yes", NULL };
	unsigned char rnd[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
				  14, 15, 16 };
	struct box_auxv aux[] = {
		{ AT_HWCAP, 0x6 }, { AT_PAGESZ, 4096 }, { AT_RANDOM, 0 },
		{ AT_EXECFN, 0 }, { AT_PLATFORM, 0 },
	};
	struct box_stack_args a = {
		.argv = argv, .envp = envp, .execfn = "/bin/prog",
		.platform = "x86_64", .random = rnd, .align_rnd = 1000,
		.auxv = aux, .nauxv = 5,
	};
	uint64_t sp, *w, str, execfn = 0, random = 0, platform = 0;
	unsigned int i;

#define AT(va) (buf + ((va) - base))
	for (i = 0; i < 16; i++) {
		a.align_rnd = i * 997;
		memset(buf, 0x5a, sizeof(buf));
		ck_assert_int_eq(box_stack_build(&a, buf, top, sizeof(buf),
						 &sp, why, sizeof(why)), 0);
		ck_assert_uint_eq(sp % 16, 0);
		w = (uint64_t *)AT(sp);
		ck_assert_uint_eq(w[0], 3);
		str = w[1];
		ck_assert_str_eq((char *)AT(w[1]), "prog");
		ck_assert_str_eq((char *)AT(w[2]), "a b");
		ck_assert_str_eq((char *)AT(w[3]), "");
		ck_assert_uint_eq(w[4], 0);
		ck_assert_str_eq((char *)AT(w[5]), "X=1");
		ck_assert_str_eq((char *)AT(w[6]), "LONGER=yes");
		ck_assert_uint_eq(w[7], 0);
		/* strings contiguous: argv, envp, execfn, zero word, top */
		ck_assert_uint_eq(w[2], str + 5);
		ck_assert_uint_eq(w[5], str + 5 + 4 + 1);
		ck_assert_uint_eq(w[6], w[5] + 4);
		ck_assert_uint_eq(top - 8 - 10, w[6] + 11);
		ck_assert_str_eq((char *)AT(top - 8 - 10), "/bin/prog");
		ck_assert_uint_eq(*(uint64_t *)AT(top - 8), 0);
		/* auxv in order, patched values, then AT_NULL */
		w += 8;
		ck_assert_uint_eq(w[0], AT_HWCAP);
		ck_assert_uint_eq(w[1], 6);
		ck_assert_uint_eq(w[2], AT_PAGESZ);
		ck_assert_uint_eq(w[4], AT_RANDOM);
		random = w[5];
		ck_assert_uint_eq(w[6], AT_EXECFN);
		execfn = w[7];
		ck_assert_uint_eq(w[8], AT_PLATFORM);
		platform = w[9];
		ck_assert_uint_eq(w[10], AT_NULL);
		ck_assert_uint_eq(w[11], 0);
		ck_assert_uint_eq(execfn, top - 8 - 10);
		ck_assert_str_eq((char *)AT(platform), "x86_64");
		ck_assert_int_eq(memcmp(AT(random), rnd, 16), 0);
		ck_assert_uint_eq(random + 16, platform);
		/* platform below the aligned gap; auxv just below random */
		ck_assert_uint_eq((platform + 7) % 16, 0);
		ck_assert_uint_eq(platform + 7,
				  (str - a.align_rnd % 8192) & ~15ull);
		ck_assert_uint_lt(random - (uint64_t)(sp + 8 * 20), 16);
	}
	/* too much for a quarter of the stack */
	a.execfn = (char *)buf;
	memset(buf, 'x', sizeof(buf) / 4);
	buf[sizeof(buf) / 4] = 0;
	ck_assert_int_eq(box_stack_build(&a, buf, top, sizeof(buf), &sp, why,
					 sizeof(why)), -1);
	ck_assert_str_eq(why, "argument list too long");
#undef AT
}
END_TEST

int main(void)
{
	Suite *s = suite_create("box_load");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ehdr);
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_stack);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
