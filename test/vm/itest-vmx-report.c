// SPDX-License-Identifier: MIT
/*
 * dune.ko's reports for developers: the VMCS dump that dump_vmcs=1 asks
 * for when a vCPU dies.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "vcpu-guest.h"

#define PARAM "/sys/module/dune/parameters/dump_vmcs"

/* A guest whose ud2 meets an empty IDT: a triple fault kills the vCPU. */
static void run_dying_guest(void)
{
	static const uint8_t code[] = { 0x0f, 0x0b };	/* ud2 */
	struct dune_run run;
	int fd;

	fd = vcpu_new(code, sizeof(code), &run);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FATAL);
	close(fd);
}

static void test_vmcs_dump_on_fatal(void)
{
	IT_ASSERT_EQ(itest_sh("test -w " PARAM), 0);
	guest_setup();

	/* Off (the default): the death is reported in one line, no dump. */
	IT_ASSERT_EQ(itest_sh("echo 0 > " PARAM " && dmesg -c >/dev/null"), 0);
	run_dying_guest();
	IT_ASSERT_EQ(itest_sh("dmesg | grep -q 'triple fault'"), 0);
	IT_ASSERT(itest_sh("dmesg | grep -q 'VMCS dump'") != 0);

	/* On: the fields follow, with the guest's RIP at the ud2. */
	IT_ASSERT_EQ(itest_sh("echo 1 > " PARAM " && dmesg -c >/dev/null"), 0);
	run_dying_guest();
	IT_ASSERT_EQ(itest_sh("echo 0 > " PARAM), 0);
	IT_ASSERT_EQ(itest_sh("dmesg | grep -q 'dune: VMCS dump'"), 0);
	IT_ASSERT_EQ(itest_sh("dmesg | grep -q 'VM_EXIT_REASON *0x2$'"), 0);
	IT_ASSERT_EQ(itest_sh("dmesg | grep -q 'GUEST_RIP *0x%llx$'",
			      (unsigned long long)PG(P_CODE)), 0);
	IT_ASSERT_EQ(itest_sh("dmesg | grep -q 'HOST_RIP '"), 0);
	/* Every field of the list could be read from the current VMCS. */
	IT_ASSERT(itest_sh("dmesg | grep -q 'not readable'") != 0);
	/* No VMX instruction failed along the way. */
	IT_ASSERT(itest_sh("dmesg | grep -q 'failed on CPU'") != 0);
}

static const struct itest tests[] = {
	{ "vmcs_dump_on_fatal", test_vmcs_dump_on_fatal },
};

ITEST_MAIN(tests)
