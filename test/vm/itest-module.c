// SPDX-License-Identifier: MIT
/*
 * Integration tests for dune.ko as a device: load, /dev/dune, the
 * capability ioctl against what the (emulated) CPU reports, bad input,
 * unload and reload.  Tests run in this order; later ones reload the module.
 *
 * DUNE_VM_NO_MODULE=1 means the machine booted without dune.ko and the
 * first test loads it by hand.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "itest.h"
#include "dune.h"

static int module_loaded(void)
{
	return access("/sys/module/dune", F_OK) == 0;
}

static const char *dune_ko(void)
{
	const char *p = getenv("DUNE_KO");

	return p ? p : "/opt/dune/dune.ko";
}

static int open_dev(void)
{
	int fd = open(DUNE_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	IT_ASSERT(fd >= 0);
	return fd;
}

static void test_loaded(void)
{
	const char *no_module = getenv("DUNE_VM_NO_MODULE");

	if (no_module && !strcmp(no_module, "1")) {
		IT_ASSERT(!module_loaded());
		IT_ASSERT(access(DUNE_DEVICE_PATH, F_OK) != 0);
		IT_ASSERT_EQ(itest_sh("insmod %s", dune_ko()), 0);
	}
	IT_ASSERT(module_loaded());
	IT_ASSERT_EQ(itest_sh("grep -q '^dune ' /proc/modules"), 0);
}

static void test_dev_node(void)
{
	struct stat st;

	IT_ASSERT(stat(DUNE_DEVICE_PATH, &st) == 0);
	IT_ASSERT(S_ISCHR(st.st_mode));
	/* misc devices have major 10 */
	IT_ASSERT_EQ(major(st.st_rdev), 10);
	close(open_dev());
}

/* Does /proc/cpuinfo's line starting with @key contain the word @word? */
static int cpuinfo_has(const char *key, const char *word)
{
	char line[4096];
	FILE *f = fopen("/proc/cpuinfo", "r");
	int found = 0;

	IT_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *tok, *save;

		if (strncmp(line, key, strlen(key)) || !colon)
			continue;
		for (tok = strtok_r(colon + 1, " \n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save))
			if (!strcmp(tok, word))
				found = 1;
		break;
	}
	fclose(f);
	return found;
}

static unsigned int cpuinfo_phys_bits(void)
{
	char line[512];
	unsigned int bits = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	IT_ASSERT(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "address sizes : %u bits physical", &bits) == 1)
			break;
	fclose(f);
	return bits;
}

static void test_caps_match_cpu(void)
{
	struct dune_caps caps;
	int fd = open_dev();

	memset(&caps, 0xa5, sizeof(caps));
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_CAPS, &caps), 0);
	IT_ASSERT_EQ(caps.api_version, DUNE_API_VERSION);
	IT_ASSERT(cpuinfo_has("flags", "vmx"));
	IT_ASSERT_EQ(!!(caps.flags & DUNE_CAP_EPT), cpuinfo_has("vmx flags", "ept"));
	IT_ASSERT_EQ(!!(caps.flags & DUNE_CAP_VPID), cpuinfo_has("vmx flags", "vpid"));
	IT_ASSERT_EQ(!!(caps.flags & DUNE_CAP_EPT_AD), cpuinfo_has("vmx flags", "ept_ad"));
	IT_ASSERT_EQ(!!(caps.flags & DUNE_CAP_EPT_EXEC_ONLY),
		     cpuinfo_has("vmx flags", "ept_x_only"));
	IT_ASSERT_EQ(!!(caps.flags & DUNE_CAP_EPT_1G),
		     cpuinfo_has("vmx flags", "ept_1gb"));
	IT_ASSERT_EQ(!!(caps.flags & DUNE_CAP_UNRESTRICTED),
		     cpuinfo_has("vmx flags", "unrestricted_guest"));
	IT_ASSERT_EQ(!!(caps.flags & DUNE_CAP_VNMI), cpuinfo_has("vmx flags", "vnmi"));
	IT_ASSERT_EQ(caps.maxphyaddr, cpuinfo_phys_bits());
	IT_ASSERT_EQ(caps.nr_cpus, sysconf(_SC_NPROCESSORS_ONLN));
	IT_ASSERT(caps.vmcs_revision != 0);
	IT_ASSERT_EQ(caps.vmcs_revision, caps.msr_vmx_basic & 0x7fffffff);
	IT_ASSERT(caps.vmcs_size > 0 && caps.vmcs_size <= 4096);
	/* firmware lock + VMX outside SMX: the module refuses to load otherwise */
	IT_ASSERT_EQ(caps.msr_feature_control & 5, 5);
	for (size_t i = 0; i < sizeof(caps.reserved) / sizeof(caps.reserved[0]); i++)
		IT_ASSERT_EQ(caps.reserved[i], 0);
	close(fd);
}

static void test_bad_ioctl_numbers(void)
{
	struct dune_caps caps;
	int fd = open_dev();

	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, 0x1234, &caps), -1);
	IT_ASSERT_EQ(errno, ENOTTY);
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, _IOR(DUNE_IOC_MAGIC, 0x7f, struct dune_caps), &caps), -1);
	IT_ASSERT_EQ(errno, ENOTTY);
	/* right number, wrong size encoded in it */
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, _IOR(DUNE_IOC_MAGIC, 0x00, uint32_t), &caps), -1);
	IT_ASSERT_EQ(errno, ENOTTY);
	close(fd);
}

static void test_bad_pointers(void)
{
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *bad[] = { NULL, (void *)1, (void *)0xffffffff81000000ull,
			(void *)0x800000000000ull, ro, (char *)ro + 4090 };
	int fd = open_dev();

	IT_ASSERT(ro != MAP_FAILED);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		IT_ASSERT_EQ(ioctl(fd, DUNE_GET_CAPS, bad[i]), -1);
		IT_ASSERT_EQ(errno, EFAULT);
	}
	close(fd);
}

static void test_unload_reload(void)
{
	struct dune_caps caps;
	int fd = open_dev();

	/* An open fd pins the module. */
	IT_ASSERT(itest_sh("rmmod dune 2>/dev/null") != 0);
	IT_ASSERT(module_loaded());
	close(fd);
	IT_ASSERT_EQ(itest_sh("rmmod dune"), 0);
	IT_ASSERT(!module_loaded());
	IT_ASSERT(access(DUNE_DEVICE_PATH, F_OK) != 0);

	/* libdune says what to do when the module is missing. */
	errno = 0;
	IT_ASSERT_EQ(dune_dev_open(), -1);
	IT_ASSERT_EQ(errno, ENOENT);
	IT_ASSERT_EQ(itest_sh("dune-caps 2>&1 | grep -q 'load the module'"), 0);

	IT_ASSERT_EQ(itest_sh("insmod %s", dune_ko()), 0);
	IT_ASSERT(module_loaded());
	IT_ASSERT_EQ(dune_get_caps(&caps), 0);
	IT_ASSERT_EQ(caps.api_version, DUNE_API_VERSION);
	/* and a second full cycle */
	IT_ASSERT_EQ(itest_sh("rmmod dune && insmod %s", dune_ko()), 0);
	IT_ASSERT_EQ(itest_sh("dune-caps | grep -q 'features:.* ept '"), 0);
}

static const struct itest tests[] = {
	{ "loaded", test_loaded },
	{ "dev_node", test_dev_node },
	{ "caps_match_cpu", test_caps_match_cpu },
	{ "bad_ioctl_numbers", test_bad_ioctl_numbers },
	{ "bad_pointers", test_bad_pointers },
	{ "unload_reload", test_unload_reload },
};

ITEST_MAIN(tests)
