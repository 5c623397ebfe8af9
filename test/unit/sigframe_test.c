// SPDX-License-Identifier: MIT
/*
 * Unit tests for libdune/sigframe.c: where Linux puts a signal frame,
 * the mask a handler runs with, the action flags the kernel gets, the
 * sigaltstack rules and the FPU area's software bytes.  sigframe.c is
 * linked, not included: it uses the kernel's uapi signal headers, which
 * clash with glibc's.
 */
#include "unit.h"
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <asm/processor-flags.h>
#include <asm/ucontext.h>

#include "raw.h"
#include "sigframe.h"

/* What glibc does not define (<asm/signal.h>, <linux/signal.h>). */
#define SA_RESTORER	0x04000000
#define SS_AUTODISARM	(1u << 31)
#define KERNEL_MINSIGSTKSZ 2048

#define BIT(s) (1ull << ((s) - 1))

START_TEST(test_kflags)
{
	uint64_t all = SA_RESTART | SA_RESETHAND | SA_ONSTACK | SA_NODEFER |
		       SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_RESTORER;

	/* The trampoline always takes siginfo and has our restorer. */
	ck_assert_uint_eq(dune_sig_kflags(0), SA_SIGINFO | SA_RESTORER);
	/* SA_NODEFER never reaches the kernel: its mask is "all". */
	ck_assert_uint_eq(dune_sig_kflags(all),
			  SA_SIGINFO | SA_RESTORER | SA_RESTART |
			  SA_RESETHAND | SA_ONSTACK | SA_NOCLDSTOP |
			  SA_NOCLDWAIT);
	/* Unknown bits are dropped as the kernel drops them. */
	ck_assert_uint_eq(dune_sig_uapi_flags(SA_RESTART | 0x400 | (1ull << 40)),
			  SA_RESTART);
	ck_assert_uint_eq(dune_sig_uapi_flags(all), all);
	ck_assert(dune_sig_flag(SA_RESTORER, DUNE_SA_RESTORER));
	ck_assert(!dune_sig_flag(SA_RESTART, DUNE_SA_ONSTACK));
}
END_TEST

START_TEST(test_handler_mask)
{
	uint64_t base = BIT(SIGHUP), sa = BIT(SIGUSR2) | BIT(SIGKILL);

	ck_assert_uint_eq(dune_sig_handler_mask(base, sa, 0, SIGUSR1),
			  BIT(SIGHUP) | BIT(SIGUSR2) | BIT(SIGUSR1));
	ck_assert_uint_eq(dune_sig_handler_mask(base, sa, SA_NODEFER, SIGUSR1),
			  BIT(SIGHUP) | BIT(SIGUSR2));
	ck_assert_uint_eq(dune_sig_handler_mask(~0ull, 0, 0, 64),
			  ~(BIT(SIGKILL) | BIT(SIGSTOP)));
	ck_assert_uint_eq(dune_sig_blockable(BIT(SIGSTOP) | BIT(64)), BIT(64));
}
END_TEST

START_TEST(test_frame_placement)
{
	struct dune_sas none = { 0, 0, SS_DISABLE };
	uint64_t fp, f;

	/* Below the red zone; FPU area 64-aligned; frame 16n - 8. */
	f = dune_sigframe_place(&none, 0x7000100, false, 2700, 440, &fp);
	ck_assert_uint_eq(fp, (0x7000100 - 128 - 2700) & ~63ull);
	ck_assert_uint_eq(f, ((fp - 440) & ~15ull) - 8);
	ck_assert_uint_eq((f + 8) % 16, 0);
	/* SA_ONSTACK without an altstack: the normal stack. */
	ck_assert_uint_eq(dune_sigframe_place(&none, 0x7000100, true, 2700,
					      440, &fp), f);
}
END_TEST

START_TEST(test_frame_altstack)
{
	struct dune_sas s = { 0x100000, 0x4000, 0 };
	uint64_t fp, f;

	/* Entering the altstack: from its top. */
	f = dune_sigframe_place(&s, 0x7000000, true, 1000, 440, &fp);
	ck_assert_uint_eq(fp, (0x104000 - 1000) & ~63ull);
	ck_assert(f > 0x100000 && f < 0x104000);
	/* Without SA_ONSTACK: the normal stack. */
	f = dune_sigframe_place(&s, 0x7000000, false, 1000, 440, &fp);
	ck_assert(f > 0x6000000);
	/* Already on it: nested, below the current rsp. */
	f = dune_sigframe_place(&s, 0x103000, true, 1000, 440, &fp);
	ck_assert_uint_eq(fp, (0x103000 - 128 - 1000) & ~63ull);
	/* Overflowing it: 0, SIGSEGV. */
	ck_assert_uint_eq(dune_sigframe_place(&s, 0x100200, true, 1000, 440,
					      &fp), 0);
	/* Entering a stack too small for the frame: 0 too. */
	s.size = 0x200;
	ck_assert_uint_eq(dune_sigframe_place(&s, 0x7000000, true, 1000, 440,
					      &fp), 0);
	/* SS_AUTODISARM: never "on" it, so a nested signal starts over. */
	s.size = 0x4000;
	s.flags = SS_AUTODISARM;
	f = dune_sigframe_place(&s, 0x103000, true, 1000, 440, &fp);
	ck_assert_uint_eq(fp, (0x104000 - 1000) & ~63ull);
}
END_TEST

START_TEST(test_sigaltstack)
{
	struct dune_sas s = { 0, 0, SS_DISABLE };
	struct dune_kstack ss = { 0x100000, 0, 0, 0x4000 }, out;

	dune_sas_get(&s, 0x7000000, &out);
	ck_assert_int_eq(out.flags, SS_DISABLE);
	ck_assert_int_eq(dune_sas_set(&s, &ss, 0x7000000), 0);
	dune_sas_get(&s, 0x7000000, &out);
	ck_assert_int_eq(out.flags, 0);
	ck_assert_uint_eq(out.sp, 0x100000);
	ck_assert_uint_eq(out.size, 0x4000);
	dune_sas_get(&s, 0x101000, &out);
	ck_assert_int_eq(out.flags, SS_ONSTACK);
	/* On it: EPERM, even to disable it. */
	ss.flags = SS_DISABLE;
	ck_assert_int_eq(dune_sas_set(&s, &ss, 0x101000), -EPERM);
	/* Bad mode, too small. */
	ss.flags = 5;
	ck_assert_int_eq(dune_sas_set(&s, &ss, 0x7000000), -EINVAL);
	ss.flags = 0;
	ss.size = KERNEL_MINSIGSTKSZ - 1;
	ck_assert_int_eq(dune_sas_set(&s, &ss, 0x7000000), -ENOMEM);
	ck_assert_uint_eq(s.size, 0x4000);
	/* SS_ONSTACK is accepted as 0 (old programs). */
	ss.flags = SS_ONSTACK;
	ss.size = KERNEL_MINSIGSTKSZ;
	ck_assert_int_eq(dune_sas_set(&s, &ss, 0x7000000), 0);
	/* SS_AUTODISARM is reported, and a frame disarms it. */
	ss.flags = SS_AUTODISARM;
	ss.size = 0x4000;
	ck_assert_int_eq(dune_sas_set(&s, &ss, 0x7000000), 0);
	dune_sas_get(&s, 0x101000, &out);
	ck_assert_uint_eq((uint32_t)out.flags, SS_AUTODISARM);
	dune_sas_after_frame(&s);
	dune_sas_get(&s, 0x101000, &out);
	ck_assert_int_eq(out.flags, SS_DISABLE);
	ck_assert_uint_eq(out.size, 0);
	/* Disable: size and sp forgotten. */
	ss.flags = 0;
	dune_sas_set(&s, &ss, 0x7000000);
	ss.flags = SS_DISABLE;
	ck_assert_int_eq(dune_sas_set(&s, &ss, 0x7000000), 0);
	ck_assert_uint_eq(s.size, 0);
	ck_assert_uint_eq(s.sp, 0);
}
END_TEST

START_TEST(test_flags)
{
	uint64_t f = X86_EFLAGS_IF | X86_EFLAGS_DF | X86_EFLAGS_TF |
		     X86_EFLAGS_RF | X86_EFLAGS_CF | 2;

	ck_assert_uint_eq(dune_sig_entry_flags(f),
			  X86_EFLAGS_IF | X86_EFLAGS_CF | 2);
	/* A frame may change the arithmetic flags, not IF or IOPL. */
	ck_assert_uint_eq(dune_sig_return_flags(X86_EFLAGS_IF | 2,
						X86_EFLAGS_ZF | X86_EFLAGS_IOPL),
			  X86_EFLAGS_IF | X86_EFLAGS_ZF | 2);
	ck_assert_uint_eq(dune_sig_return_flags(X86_EFLAGS_IF | X86_EFLAGS_CF,
						0), X86_EFLAGS_IF);
	ck_assert_uint_eq(dune_sig_uc_flags(true),
			  UC_FP_XSTATE | UC_SIGCONTEXT_SS |
			  UC_STRICT_RESTORE_SS);
	ck_assert_uint_eq(dune_sig_uc_flags(false),
			  UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
}
END_TEST

/* rt_sigreturn at ring 3: only the user selectors (| 3) come back. */
START_TEST(test_user_selectors)
{
	uint64_t strict = UC_STRICT_RESTORE_SS;

	ck_assert(dune_sig_user_sel_ok(strict, 0x33, 0x2b));
	ck_assert(dune_sig_user_sel_ok(strict, 0x30, 0x28));
	ck_assert(!dune_sig_user_sel_ok(strict, 0x10, 0x2b));
	ck_assert(!dune_sig_user_sel_ok(strict, 0x23, 0x2b));
	ck_assert(!dune_sig_user_sel_ok(strict, 0x33, 0x18));
	/* without UC_STRICT_RESTORE_SS Linux fixes up a bad ss itself */
	ck_assert(dune_sig_user_sel_ok(0, 0x33, 0x18));
	ck_assert(!dune_sig_user_sel_ok(0, 0x08, 0x2b));
}
END_TEST

START_TEST(test_fpstate_bytes)
{
	static uint8_t buf[4096];
	uint32_t at = 0, m2;
	uint64_t bv;

	memset(buf, 0, sizeof(buf));
	/* No magic: legacy state only. */
	ck_assert_uint_eq(dune_fpstate_kind(buf, 2696, &at), 512);
	dune_fpstate_sw_fill(buf, 0x2e7, 2696);
	ck_assert_uint_eq(dune_fpstate_kind(buf, 2696, &at), 2696);
	ck_assert_uint_eq(at, 2696);
	memcpy(&m2, buf + 2696, 4);
	ck_assert(dune_fpstate_magic2_ok(m2));
	memcpy(&bv, buf + 512, 8);
	ck_assert_uint_eq(bv, 3);	/* x87 and SSE always marked */
	/* Larger than this CPU's: legacy only (check_xstate_in_sigframe). */
	ck_assert_uint_eq(dune_fpstate_kind(buf, 1000, &at), 512);
	/* extended_size must cover it. */
	/* the software bytes end the 512-byte legacy area */
	memset(buf + 512 - sizeof(struct _fpx_sw_bytes) +
	       offsetof(struct _fpx_sw_bytes, extended_size), 0, 4);
	ck_assert_uint_eq(dune_fpstate_kind(buf, 2696, &at), 512);
	ck_assert(!dune_fpstate_magic2_ok(0));

	/* Header: features within the mask, the rest zero. */
	memset(buf + 512, 0, 64);
	buf[512] = 7;
	ck_assert_int_eq(dune_xsave_header_check(buf + 512, 0x7), 0);
	ck_assert_int_eq(dune_xsave_header_check(buf + 512, 0x3), -1);
	buf[520] = 1;	/* XCOMP_BV: compacted format is not allowed */
	ck_assert_int_eq(dune_xsave_header_check(buf + 512, 0x7), -1);
	buf[520] = 0;
	buf[570] = 1;	/* reserved */
	ck_assert_int_eq(dune_xsave_header_check(buf + 512, 0x7), -1);
}
END_TEST

static Suite *sigframe_suite(void)
{
	Suite *s = suite_create("sigframe");
	TCase *tc = tcase_create("sigframe");

	tcase_add_test(tc, test_kflags);
	tcase_add_test(tc, test_handler_mask);
	tcase_add_test(tc, test_frame_placement);
	tcase_add_test(tc, test_frame_altstack);
	tcase_add_test(tc, test_sigaltstack);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_user_selectors);
	tcase_add_test(tc, test_fpstate_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(sigframe_suite());
}
