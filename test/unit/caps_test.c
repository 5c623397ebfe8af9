// SPDX-License-Identifier: MIT
/* Unit tests for kern/caps.c: VMX capability decoding from raw MSRs. */
#include "unit.h"
#include <stdlib.h>

#include "caps.h"

/* MSR images read on the emulated machine (Bochs corei7_skylake_x). */
static struct vmx_msrs bochs_msrs(void)
{
	struct vmx_msrs m = {
		.cpuid1_ecx = 0x7ffaf3ff,
		.maxphyaddr = 40,
		.feature_control = 0x5,
		.basic = 0x00d810000000002bull,
		.pinbased = 0x0000007f00000016ull,
		.procbased = 0xfff9fffe04006172ull,
		.procbased2 = 0x02177fff00000000ull,
		.exit = 0x01ffffff00036dffull,
		.entry = 0x0003ffff000011ffull,
		.ept_vpid_cap = 0x00000f0106334141ull,
		.cpuid7_ebx = 0xd19f27eb,
		.cr0_fixed0 = 0x80000021,
		.cr0_fixed1 = 0xffffffff,
		.cr4_fixed0 = 0x2000,
		.cr4_fixed1 = 0x3727ff,
	};
	return m;
}

START_TEST(test_bochs_caps_accepted)
{
	struct vmx_msrs m = bochs_msrs();
	struct vmx_caps c;
	char why[128];

	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	ck_assert_uint_eq(c.uapi.api_version, DUNE_API_VERSION);
	ck_assert_uint_eq(c.uapi.maxphyaddr, 40);
	ck_assert_uint_eq(c.uapi.vmcs_revision, 0x2b);
	ck_assert_uint_eq(c.uapi.vmcs_size, 0x1000);
	ck_assert(caps_has(&c, DUNE_CAP_EPT | DUNE_CAP_VPID | DUNE_CAP_EPT_AD |
				      DUNE_CAP_EPT_4LEVEL | DUNE_CAP_EPT_WB |
				      DUNE_CAP_EPT_UC | DUNE_CAP_EPT_2M |
				      DUNE_CAP_EPT_1G | DUNE_CAP_EPT_EXEC_ONLY));
	ck_assert(caps_has(&c, DUNE_CAP_INVEPT | DUNE_CAP_INVEPT_SINGLE |
				      DUNE_CAP_INVEPT_GLOBAL | DUNE_CAP_INVVPID |
				      DUNE_CAP_INVVPID_ADDR |
				      DUNE_CAP_INVVPID_SINGLE |
				      DUNE_CAP_INVVPID_ALL));
	ck_assert(caps_has(&c, DUNE_CAP_TRUE_CTLS | DUNE_CAP_UNRESTRICTED));
	ck_assert_uint_eq(c.uapi.msr_ept_vpid_cap, m.ept_vpid_cap);
}
END_TEST

START_TEST(test_no_vmx_refused)
{
	struct vmx_msrs m = bochs_msrs();
	struct vmx_caps c;
	char why[128];

	m.cpuid1_ecx &= ~(1u << 5);
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "VMX"));
}
END_TEST

START_TEST(test_firmware_disabled_refused)
{
	struct vmx_msrs m = bochs_msrs();
	struct vmx_caps c;
	char why[128];

	m.feature_control = 0x1; /* locked, VMX outside SMX off */
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "IA32_FEATURE_CONTROL"));
	m.feature_control = 0x4; /* enabled but not locked: VMXON would #GP */
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), -ENODEV);
}
END_TEST

START_TEST(test_missing_ept_and_vpid_named)
{
	struct vmx_msrs m = bochs_msrs();
	struct vmx_caps c;
	char why[128];

	m.procbased2 &= ~((u64)(SECONDARY_EXEC_ENABLE_EPT |
				SECONDARY_EXEC_ENABLE_VPID) << 32);
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "EPT"));
	ck_assert_ptr_nonnull(strstr(why, "VPID"));
	ck_assert(!caps_has(&c, DUNE_CAP_INVVPID));
	ck_assert(!caps_has(&c, DUNE_CAP_EPT_AD));
}
END_TEST

START_TEST(test_missing_secondary_controls)
{
	struct vmx_msrs m = bochs_msrs();
	struct vmx_caps c;
	char why[128];

	m.procbased &= ~((u64)CPU_BASED_ACTIVATE_SECONDARY_CONTROLS << 32);
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "secondary"));
}
END_TEST

START_TEST(test_invept_without_types_refused)
{
	struct vmx_msrs m = bochs_msrs();
	struct vmx_caps c;
	char why[128];

	m.ept_vpid_cap &= ~(VMX_EPT_EXTENT_CONTEXT_BIT |
			    VMX_EPT_EXTENT_GLOBAL_BIT);
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "INVEPT type"));
}
END_TEST

START_TEST(test_bad_maxphyaddr)
{
	struct vmx_msrs m = bochs_msrs();
	struct vmx_caps c;
	char why[128];

	m.maxphyaddr = 0;
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(why, "MAXPHYADDR"));
	m.maxphyaddr = 39;
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), 0);
}
END_TEST

START_TEST(test_short_message_buffer_is_safe)
{
	struct vmx_msrs m = bochs_msrs();
	struct vmx_caps c;
	char why[8];

	m.procbased2 = 0;
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), -ENODEV);
	ck_assert_uint_lt(strlen(why), sizeof(why));
}
END_TEST

START_TEST(test_ctl_adjust)
{
	u32 out = 0;
	/* must-be-one 0x16, may-be-one 0x7f */
	u64 msr = 0x0000007f00000016ull;

	ck_assert_int_eq(vmx_ctl_adjust(msr, 0x1, 0x40, &out), 0);
	ck_assert_uint_eq(out, 0x16 | 0x1 | 0x40);
	/* optional bits the CPU does not allow are dropped */
	ck_assert_int_eq(vmx_ctl_adjust(msr, 0, 0x180, &out), 0);
	ck_assert_uint_eq(out, 0x16);
	/* required bits the CPU does not allow are an error */
	ck_assert_int_eq(vmx_ctl_adjust(msr, 0x80, 0, &out), -EIO);
}
END_TEST

START_TEST(test_cr_fixup)
{
	/* Typical: PE, NE, PG fixed to 1; CD/NW may be 1 */
	u64 fixed0 = 0x80000021, fixed1 = 0xffffffff;

	ck_assert_uint_eq(vmx_cr_fixup(0, fixed0, fixed1), 0x80000021);
	ck_assert_uint_eq(vmx_cr_fixup(0x100000000ull, fixed0, fixed1),
			  0x80000021);
}
END_TEST

START_TEST(test_pcid_caps)
{
	struct vmx_msrs m = bochs_msrs();
	struct vmx_caps c;
	char why[128];

	/* Bochs corei7_skylake_x has both */
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), 0);
	ck_assert(caps_has(&c, DUNE_CAP_PCID | DUNE_CAP_INVPCID));

	/* no PCID in CPUID, or CR4.PCIDE not allowed in VMX operation */
	m.cpuid1_ecx &= ~(1u << 17);
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), 0);
	ck_assert(!caps_has(&c, DUNE_CAP_PCID));
	ck_assert(caps_has(&c, DUNE_CAP_INVPCID));
	m = bochs_msrs();
	m.cr4_fixed1 &= ~(u64)X86_CR4_PCIDE;
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), 0);
	ck_assert(!caps_has(&c, DUNE_CAP_PCID));

	/* INVPCID needs the CPU's and the VMX control */
	m = bochs_msrs();
	m.cpuid7_ebx &= ~(1u << 10);
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), 0);
	ck_assert(caps_has(&c, DUNE_CAP_PCID));
	ck_assert(!caps_has(&c, DUNE_CAP_INVPCID));
	m = bochs_msrs();
	m.procbased2 &= ~((u64)SECONDARY_EXEC_ENABLE_INVPCID << 32);
	ck_assert_int_eq(vmx_caps_decode(&m, &c, why, sizeof(why)), 0);
	ck_assert(!caps_has(&c, DUNE_CAP_INVPCID));
}
END_TEST

START_TEST(test_guest_cr3_load)
{
	u64 cr3 = 0;
	bool flush = false;

	/* without PCIDE: low bits kept, bit 63 and bits >= MAXPHYADDR #GP */
	ck_assert(vmx_guest_cr3_load(0x12345018ull, false, 40, &cr3, &flush));
	ck_assert_uint_eq(cr3, 0x12345018ull);
	ck_assert(flush);
	ck_assert(!vmx_guest_cr3_load(0x8000000012345000ull, false, 40, &cr3,
				      &flush));
	ck_assert(!vmx_guest_cr3_load(1ull << 40, false, 40, &cr3, &flush));
	ck_assert(vmx_guest_cr3_load((1ull << 40) - 4096, false, 40, &cr3,
				     &flush));
	/* with PCIDE: bit 63 means no flush and never reaches CR3 */
	ck_assert(vmx_guest_cr3_load(0x8000000012345abcull, true, 40, &cr3,
				     &flush));
	ck_assert_uint_eq(cr3, 0x12345abcull);
	ck_assert(!flush);
	ck_assert(vmx_guest_cr3_load(0x12345001ull, true, 40, &cr3, &flush));
	ck_assert_uint_eq(cr3, 0x12345001ull);
	ck_assert(flush);
	ck_assert(!vmx_guest_cr3_load(0x8000010000000000ull, true, 40, &cr3,
				      &flush));
}
END_TEST

START_TEST(test_exit_qual_gpr_numbering)
{
	struct dune_regs r = { .rax = 0, .rcx = 1, .rdx = 2, .rbx = 3,
			       .rsp = 4, .rbp = 5, .rsi = 6, .rdi = 7,
			       .r8 = 8, .r9 = 9, .r10 = 10, .r11 = 11,
			       .r12 = 12, .r13 = 13, .r14 = 14, .r15 = 15 };
	unsigned int n;

	/* SDM table 28-3 numbering is the value each register holds here */
	for (n = 0; n < 16; n++)
		ck_assert_uint_eq(*dune_regs_gpr(&r, n), n);
}
END_TEST

START_TEST(test_cr8_controls)
{
	struct vmx_msrs m = bochs_msrs();
	u32 ctl;

	/* Bochs has the TPR shadow: no CR8 exits */
	ck_assert_uint_eq(vmx_cr8_controls(m.procbased), CPU_BASED_TPR_SHADOW);
	ck_assert_int_eq(vmx_ctl_adjust(m.procbased,
					vmx_cr8_controls(m.procbased), 0, &ctl),
			 0);
	ck_assert(!(ctl & (CPU_BASED_CR8_LOAD_EXITING |
			   CPU_BASED_CR8_STORE_EXITING)));
	/* without it, both CR8 exits */
	m.procbased &= ~((u64)CPU_BASED_TPR_SHADOW << 32);
	ck_assert_uint_eq(vmx_cr8_controls(m.procbased),
			  CPU_BASED_CR8_LOAD_EXITING |
				  CPU_BASED_CR8_STORE_EXITING);
	ck_assert_int_eq(vmx_ctl_adjust(m.procbased,
					vmx_cr8_controls(m.procbased), 0, &ctl),
			 0);
	ck_assert(!(ctl & CPU_BASED_TPR_SHADOW));
}
END_TEST

START_TEST(test_preempt_timer_value)
{
	/* 2 GHz TSC, HZ 250: 8M cycles a tick; rate 5: 250000 counts */
	ck_assert_uint_eq(vmx_preempt_timer_value(2000000000ull, 250, 5),
			  250000);
	ck_assert_uint_eq(vmx_preempt_timer_value(2000000000ull, 1000, 0),
			  2000000);
	/* never 0 (an exit before every instruction), capped at 32 bits */
	ck_assert_uint_eq(vmx_preempt_timer_value(1000, 1000, 31), 1);
	ck_assert_uint_eq(vmx_preempt_timer_value(~0ull, 100, 0), 0xffffffffu);
	/* unknown TSC rate or nonsense: no timer */
	ck_assert_uint_eq(vmx_preempt_timer_value(0, 250, 5), 0);
	ck_assert_uint_eq(vmx_preempt_timer_value(2000000000ull, 0, 5), 0);
	ck_assert_uint_eq(vmx_preempt_timer_value(2000000000ull, 250, 32), 0);
}
END_TEST

static Suite *caps_suite(void)
{
	Suite *s = suite_create("caps");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, test_bochs_caps_accepted);
	tcase_add_test(tc, test_cr8_controls);
	tcase_add_test(tc, test_preempt_timer_value);
	tcase_add_test(tc, test_no_vmx_refused);
	tcase_add_test(tc, test_firmware_disabled_refused);
	tcase_add_test(tc, test_missing_ept_and_vpid_named);
	tcase_add_test(tc, test_missing_secondary_controls);
	tcase_add_test(tc, test_invept_without_types_refused);
	tcase_add_test(tc, test_bad_maxphyaddr);
	tcase_add_test(tc, test_short_message_buffer_is_safe);
	tcase_add_test(tc, test_ctl_adjust);
	tcase_add_test(tc, test_cr_fixup);
	tcase_add_test(tc, test_pcid_caps);
	tcase_add_test(tc, test_guest_cr3_load);
	tcase_add_test(tc, test_exit_qual_gpr_numbering);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(caps_suite());
}
