// SPDX-License-Identifier: MIT
/* Talking to /dev/dune: opening it, version check, capabilities. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dune.h"

int dune_dev_open(void)
{
	struct dune_caps caps;
	int fd, err;

	fd = open(DUNE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT || err == ENXIO || err == ENODEV)
			fprintf(stderr,
				"libdune: %s not found: load the module (insmod kern/dune.ko) and check that the CPU has VT-x with EPT and VPID and that kvm_intel is not loaded (dmesg says why dune.ko refused to load)\n",
				DUNE_DEVICE_PATH);
		else
			fprintf(stderr, "libdune: cannot open %s: %s\n",
				DUNE_DEVICE_PATH, strerror(err));
		errno = err;
		return -1;
	}
	if (ioctl(fd, DUNE_GET_CAPS, &caps)) {
		err = errno;
		fprintf(stderr,
			"libdune: %s does not answer DUNE_GET_CAPS (%s): is it really dune.ko?\n",
			DUNE_DEVICE_PATH, strerror(err));
		close(fd);
		errno = err;
		return -1;
	}
	if (caps.api_version != DUNE_API_VERSION) {
		fprintf(stderr,
			"libdune: dune.ko speaks API version %u but this program was built for version %u: rebuild the program against the module's libdune, or load the matching dune.ko\n",
			caps.api_version, DUNE_API_VERSION);
		close(fd);
		errno = EPROTO;
		return -1;
	}
	return fd;
}

int dune_get_caps(struct dune_caps *caps)
{
	int fd = dune_dev_open();
	int r;

	if (fd < 0)
		return -1;
	r = ioctl(fd, DUNE_GET_CAPS, caps);
	if (r)
		fprintf(stderr, "libdune: DUNE_GET_CAPS: %s\n", strerror(errno));
	close(fd);
	return r ? -1 : 0;
}

static const struct {
	unsigned int flag;
	const char *name;
} cap_names[] = {
	{ DUNE_CAP_EPT, "ept" },
	{ DUNE_CAP_VPID, "vpid" },
	{ DUNE_CAP_EPT_AD, "ept_ad" },
	{ DUNE_CAP_EPT_2M, "ept_2m" },
	{ DUNE_CAP_EPT_1G, "ept_1g" },
	{ DUNE_CAP_EPT_WB, "ept_wb" },
	{ DUNE_CAP_EPT_UC, "ept_uc" },
	{ DUNE_CAP_EPT_EXEC_ONLY, "ept_x_only" },
	{ DUNE_CAP_INVEPT, "invept" },
	{ DUNE_CAP_INVEPT_SINGLE, "invept_single" },
	{ DUNE_CAP_INVEPT_GLOBAL, "invept_global" },
	{ DUNE_CAP_INVVPID, "invvpid" },
	{ DUNE_CAP_INVVPID_ADDR, "invvpid_addr" },
	{ DUNE_CAP_INVVPID_SINGLE, "invvpid_single" },
	{ DUNE_CAP_INVVPID_ALL, "invvpid_all" },
	{ DUNE_CAP_EPT_4LEVEL, "ept_4level" },
	{ DUNE_CAP_TRUE_CTLS, "true_ctls" },
	{ DUNE_CAP_UNRESTRICTED, "unrestricted_guest" },
	{ DUNE_CAP_VNMI, "vnmi" },
	{ DUNE_CAP_PCID, "pcid" },
	{ DUNE_CAP_INVPCID, "invpcid" },
};

void dune_caps_print(const struct dune_caps *c, FILE *f)
{
	size_t i;

	fprintf(f, "api_version:   %u\n", c->api_version);
	fprintf(f, "cpus:          %u\n", c->nr_cpus);
	fprintf(f, "maxphyaddr:    %u bits\n", c->maxphyaddr);
	fprintf(f, "vmcs revision: 0x%x (%u bytes)\n", c->vmcs_revision,
		c->vmcs_size);
	fprintf(f, "features:     ");
	for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (c->flags & cap_names[i].flag)
			fprintf(f, " %s", cap_names[i].name);
	fprintf(f, "\n");
	fprintf(f, "IA32_VMX_BASIC           0x%016llx\n",
		(unsigned long long)c->msr_vmx_basic);
	fprintf(f, "IA32_VMX_PROCBASED_CTLS2 0x%016llx\n",
		(unsigned long long)c->msr_procbased2);
	fprintf(f, "IA32_VMX_EPT_VPID_CAP    0x%016llx\n",
		(unsigned long long)c->msr_ept_vpid_cap);
	fprintf(f, "IA32_FEATURE_CONTROL     0x%016llx\n",
		(unsigned long long)c->msr_feature_control);
}
