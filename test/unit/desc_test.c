// SPDX-License-Identifier: MIT
/*
 * Unit tests for the small pure parts of libdune's runtime: descriptor
 * encodings (desc.c), report formatting and names (fmt.c), and the set
 * of guarded file descriptors (fdguard.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../libdune/desc.c"
#include "../../libdune/fdguard.c"
#include "../../libdune/fmt.c"

START_TEST(test_gdt)
{
	static struct dune_tss tss __attribute__((aligned(16)));
	uint64_t gdt[DUNE_GDT_ENTRIES];

	dune_gdt_init(gdt, &tss);
	ck_assert_uint_eq(gdt[0], 0);
	ck_assert_uint_eq(gdt[1], 0);
	ck_assert_uint_eq(gdt[2], 0x00af9b000000ffffull);	/* 0x10 */
	ck_assert_uint_eq(gdt[3], 0x00cf93000000ffffull);	/* 0x18 */
	ck_assert_uint_eq(gdt[4], 0);
	ck_assert_uint_eq(gdt[5], 0x00cff3000000ffffull);	/* 0x28 */
	ck_assert_uint_eq(gdt[6], 0x00affb000000ffffull);	/* 0x30 */
	/* L bit in code, not in data; DPL */
	ck_assert(gdt[2] & (1ull << 53));
	ck_assert(!(gdt[3] & (1ull << 53)));
	ck_assert_uint_eq((gdt[2] >> 45) & 3, 0);
	ck_assert_uint_eq((gdt[6] >> 45) & 3, 3);
	/* TSS: type 9, present, limit 103, base split over both halves */
	ck_assert_uint_eq((gdt[7] >> 40) & 0xff, 0x89);
	ck_assert_uint_eq(gdt[7] & 0xffff, 103);
	ck_assert_uint_eq((gdt[7] >> 48) & 0xf, 0);
	ck_assert_uint_eq(dune_gdt_tss_base(gdt), (uint64_t)&tss);
	ck_assert_uint_eq(sizeof(gdt) - 1, DUNE_SEL_TSS + 15);
}
END_TEST

START_TEST(test_tss_base_split)
{
	uint64_t gdt[DUNE_GDT_ENTRIES];
	/* a fake TSS address with every byte distinct */
	struct dune_tss *fake = (struct dune_tss *)0x00007f1234567890ull;

	dune_gdt_init(gdt, fake);
	ck_assert_uint_eq(dune_gdt_tss_base(gdt), 0x00007f1234567890ull);
	ck_assert_uint_eq((gdt[7] >> 16) & 0xffffff, 0x567890);
	ck_assert_uint_eq(gdt[7] >> 56, 0x34);
	ck_assert_uint_eq(gdt[8], 0x7f12);
}
END_TEST

START_TEST(test_tss)
{
	struct dune_tss tss;
	uint64_t tops[4] = { 0x1000, 0x2000, 0x3000, 0x4000 };
	uint8_t *raw = (uint8_t *)&tss;
	uint64_t ist1;

	memset(&tss, 0xee, sizeof(tss));
	dune_tss_init(&tss, tops, 4);
	ck_assert_uint_eq(tss.ist[0], 0x1000);
	ck_assert_uint_eq(tss.ist[3], 0x4000);
	ck_assert_uint_eq(tss.ist[4], 0);
	ck_assert_uint_eq(tss.rsp[0], 0);
	ck_assert_uint_eq(tss.iomap_base, 104);
	/* IST1 sits at byte 36, unaligned, as the CPU reads it */
	memcpy(&ist1, raw + 36, 8);
	ck_assert_uint_eq(ist1, 0x1000);
}
END_TEST

START_TEST(test_idt_gate)
{
	struct dune_idt_gate g;
	uint64_t h = 0x00007fa1b2c3d4e5ull;

	dune_idt_set(&g, h, 1, 0);
	ck_assert_uint_eq(dune_gate_offset(&g), h);
	ck_assert_uint_eq(g.off_lo, 0xd4e5);
	ck_assert_uint_eq(g.off_mid, 0xb2c3);
	ck_assert_uint_eq(g.off_hi, 0x7fa1);
	ck_assert_uint_eq(g.sel, DUNE_SEL_KCODE);
	ck_assert_uint_eq(g.ist, 1);
	ck_assert_uint_eq(g.type, 0x8e);	/* present, DPL 0, interrupt gate */
	ck_assert_uint_eq(g.reserved, 0);
	dune_idt_set(&g, h, 2, 3);
	ck_assert_uint_eq(g.type, 0xee);
	ck_assert_uint_eq(g.ist, 2);
}
END_TEST

START_TEST(test_star)
{
	/* SYSCALL: CS 0x10, SS 0x18; SYSRET: SS 0x28|3, CS 0x30|3 */
	ck_assert_uint_eq((DUNE_STAR >> 32) & 0xffff, DUNE_SEL_KCODE);
	ck_assert_uint_eq(((DUNE_STAR >> 32) & 0xffff) + 8, DUNE_SEL_KDATA);
	ck_assert_uint_eq(((DUNE_STAR >> 48) & 0xffff) + 8, DUNE_SEL_UDATA);
	ck_assert_uint_eq(((DUNE_STAR >> 48) & 0xffff) + 16, DUNE_SEL_UCODE);
}
END_TEST

START_TEST(test_out_numbers)
{
	struct dune_out o;

	dune_out_init(&o, -1);
	dune_out_hex(&o, 0);
	dune_out_str(&o, " ");
	dune_out_hex(&o, 0x7ffffffff000ull);
	dune_out_str(&o, " ");
	dune_out_hex16(&o, 0x1f);
	dune_out_str(&o, " ");
	dune_out_dec(&o, 0);
	dune_out_str(&o, " ");
	dune_out_dec(&o, -42);
	dune_out_str(&o, " ");
	dune_out_dec(&o, INT64_MIN);
	dune_out_str(&o, " ");
	dune_out_hex(&o, ~0ull);
	ck_assert_str_eq(o.buf, "0x0 0x7ffffffff000 0x000000000000001f 0 -42 "
				"-9223372036854775808 0xffffffffffffffff");
}
END_TEST

START_TEST(test_out_regs_and_windows)
{
	struct dune_regs r;
	struct dune_layout l = {
		.nr = 2,
		.w = { { 0, 0, 2ull << 30 }, { 0x7fff00000000ull, 2ull << 30,
					       0x7ffffffff000ull - 0x7fff00000000ull } },
	};
	struct dune_out o;
	uint64_t *v = (uint64_t *)&r;
	unsigned int i;

	for (i = 0; i < 18; i++)
		v[i] = i;
	dune_out_init(&o, -1);
	dune_out_regs(&o, &r);
	ck_assert_ptr_nonnull(strstr(o.buf, "    rax 0x0000000000000000  rbx 0x0000000000000001  rcx 0x0000000000000002\n"));
	ck_assert_ptr_nonnull(strstr(o.buf, "rip 0x0000000000000010  rflags 0x0000000000000011\n"));
	ck_assert_ptr_nonnull(strstr(o.buf, "r14 0x000000000000000e\n    r15 0x000000000000000f  rip"));
	dune_out_init(&o, -1);
	dune_out_windows(&o, &l);
	ck_assert_str_eq(o.buf, "0x0-0x80000000, 0x7fff00000000-0x7ffffffff000");
}
END_TEST

START_TEST(test_out_truncates_and_writes)
{
	struct dune_out o;
	char buf[4096];
	int p[2];
	unsigned int i;
	ssize_t n;

	/* a kept buffer truncates, still NUL-terminated */
	dune_out_init(&o, -1);
	for (i = 0; i < 1000; i++)
		dune_out_str(&o, "abcd");
	ck_assert_uint_eq(o.len, sizeof(o.buf) - 1);
	ck_assert_uint_eq(strlen(o.buf), sizeof(o.buf) - 1);

	/* a real fd gets everything, across buffer refills */
	ck_assert_int_eq(pipe(p), 0);
	dune_out_init(&o, p[1]);
	for (i = 0; i < 700; i++)
		dune_out_str(&o, "xyz");
	dune_out_flush(&o);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf));
	ck_assert_int_eq(n, 2100);
	ck_assert_int_eq(buf[0], 'x');
	ck_assert_int_eq(buf[2099], 'z');
	close(p[0]);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(dune_exit_reason_name(2), "triple fault");
	ck_assert_str_eq(dune_exit_reason_name(18), "VMCALL");
	ck_assert_str_eq(dune_exit_reason_name(33),
			 "VM-entry failure: invalid guest state");
	ck_assert_str_eq(dune_exit_reason_name(48), "EPT violation");
	ck_assert_str_eq(dune_exit_reason_name(35), "unknown");
	ck_assert_str_eq(dune_exit_reason_name(1000), "unknown");
	ck_assert_str_eq(dune_vector_mnemonic(14), "#PF");
	ck_assert_str_eq(dune_vector_desc(14), "page fault");
	ck_assert_str_eq(dune_vector_desc(13), "general protection fault");
	ck_assert_str_eq(dune_vector_mnemonic(15), "#??");
	ck_assert_str_eq(dune_vector_desc(200), "interrupt");
}
END_TEST

START_TEST(test_vector_signals)
{
	ck_assert_int_eq(dune_vector_signal(14), SIGSEGV);
	ck_assert_int_eq(dune_vector_signal(13), SIGSEGV);
	ck_assert_int_eq(dune_vector_signal(12), SIGSEGV);
	ck_assert_int_eq(dune_vector_signal(11), SIGSEGV);
	ck_assert_int_eq(dune_vector_signal(0), SIGFPE);
	ck_assert_int_eq(dune_vector_signal(16), SIGFPE);
	ck_assert_int_eq(dune_vector_signal(19), SIGFPE);
	ck_assert_int_eq(dune_vector_signal(6), SIGILL);
	ck_assert_int_eq(dune_vector_signal(3), SIGTRAP);
	ck_assert_int_eq(dune_vector_signal(1), SIGTRAP);
	ck_assert_int_eq(dune_vector_signal(17), SIGBUS);
	ck_assert_int_eq(dune_vector_signal(8), SIGSEGV);
	ck_assert_int_eq(dune_vector_signal(128), SIGSEGV);
}
END_TEST

START_TEST(test_error_code_vectors)
{
	unsigned int v, n = 0;

	/* must agree with the stubs in trap.S */
	for (v = 0; v < 256; v++)
		n += dune_vector_has_error_code(v);
	ck_assert_uint_eq(n, 10);
	ck_assert(dune_vector_has_error_code(14));
	ck_assert(dune_vector_has_error_code(8));
	ck_assert(!dune_vector_has_error_code(3));
	ck_assert(!dune_vector_has_error_code(18));
}
END_TEST

START_TEST(test_fdguard)
{
	dune_fdguard_clear();
	ck_assert_int_eq(dune_fdguard_next(0, ~0ul), -1);
	dune_fdguard_add(3);
	dune_fdguard_add(63);
	dune_fdguard_add(64);
	dune_fdguard_add(1000);
	dune_fdguard_add(DUNE_FDGUARD_MAX - 1);
	dune_fdguard_add(DUNE_FDGUARD_MAX);	/* ignored */
	dune_fdguard_add(-1);			/* ignored */
	ck_assert(dune_fdguard_has(3));
	ck_assert(!dune_fdguard_has(4));
	ck_assert(!dune_fdguard_has(-1));
	ck_assert(!dune_fdguard_has(DUNE_FDGUARD_MAX));
	ck_assert_int_eq(dune_fdguard_next(0, ~0ul), 3);
	ck_assert_int_eq(dune_fdguard_next(4, ~0ul), 63);
	ck_assert_int_eq(dune_fdguard_next(64, 64), 64);
	ck_assert_int_eq(dune_fdguard_next(65, 999), -1);
	ck_assert_int_eq(dune_fdguard_next(65, 1000), 1000);
	ck_assert_int_eq(dune_fdguard_next(1001, ~0ul), DUNE_FDGUARD_MAX - 1);
	ck_assert_int_eq(dune_fdguard_next(5, 4), -1);
	dune_fdguard_del(63);
	ck_assert_int_eq(dune_fdguard_next(4, ~0ul), 64);
	dune_fdguard_clear();
	ck_assert_int_eq(dune_fdguard_next(0, ~0ul), -1);
}
END_TEST

static Suite *desc_suite(void)
{
	Suite *s = suite_create("desc");
	TCase *td = tcase_create("descriptors");
	TCase *tf = tcase_create("fmt");
	TCase *tg = tcase_create("fdguard");

	tcase_add_test(td, test_gdt);
	tcase_add_test(td, test_tss_base_split);
	tcase_add_test(td, test_tss);
	tcase_add_test(td, test_idt_gate);
	tcase_add_test(td, test_star);
	suite_add_tcase(s, td);
	tcase_add_test(tf, test_out_numbers);
	tcase_add_test(tf, test_out_regs_and_windows);
	tcase_add_test(tf, test_out_truncates_and_writes);
	tcase_add_test(tf, test_names);
	tcase_add_test(tf, test_vector_signals);
	tcase_add_test(tf, test_error_code_vectors);
	suite_add_tcase(s, tf);
	tcase_add_test(tg, test_fdguard);
	suite_add_tcase(s, tg);
	return s;
}

int main(void)
{
	return unit_run(desc_suite());
}
