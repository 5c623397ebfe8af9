/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The one interface between dune.ko and user space (libdune, tests, tools).
 *
 * Rules: fixed-width fields, explicit padding, no kernel pointers, every
 * struct size checked by a static assert below.  DUNE_API_VERSION changes
 * whenever any of this changes in a way an old binary would misread.
 */
#ifndef DUNE_UAPI_H
#define DUNE_UAPI_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define DUNE_API_VERSION 1
#define DUNE_DEVICE_NAME "dune"
#define DUNE_DEVICE_PATH "/dev/dune"

/* 0xE9 is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define DUNE_IOC_MAGIC 0xE9

/* dune_caps.flags: what the CPU offers, as probed once at module load. */
#define DUNE_CAP_EPT		 (1u << 0)
#define DUNE_CAP_VPID		 (1u << 1)
#define DUNE_CAP_EPT_AD		 (1u << 2)  /* EPT accessed/dirty flags */
#define DUNE_CAP_EPT_2M		 (1u << 3)
#define DUNE_CAP_EPT_1G		 (1u << 4)
#define DUNE_CAP_EPT_WB		 (1u << 5)  /* write-back EPT paging structures */
#define DUNE_CAP_EPT_UC		 (1u << 6)
#define DUNE_CAP_EPT_EXEC_ONLY	 (1u << 7)
#define DUNE_CAP_INVEPT		 (1u << 8)
#define DUNE_CAP_INVEPT_SINGLE	 (1u << 9)
#define DUNE_CAP_INVEPT_GLOBAL	 (1u << 10)
#define DUNE_CAP_INVVPID	 (1u << 11)
#define DUNE_CAP_INVVPID_ADDR	 (1u << 12)
#define DUNE_CAP_INVVPID_SINGLE	 (1u << 13)
#define DUNE_CAP_INVVPID_ALL	 (1u << 14)
#define DUNE_CAP_EPT_4LEVEL	 (1u << 15)
#define DUNE_CAP_TRUE_CTLS	 (1u << 16) /* IA32_VMX_TRUE_*_CTLS exist */
#define DUNE_CAP_UNRESTRICTED	 (1u << 17)
#define DUNE_CAP_VNMI		 (1u << 18)

struct dune_caps {
	__u32 api_version;	/* DUNE_API_VERSION of the module */
	__u32 flags;		/* DUNE_CAP_* */
	__u32 maxphyaddr;	/* CPUID.80000008H:EAX[7:0] */
	__u32 vmcs_revision;	/* IA32_VMX_BASIC[30:0] */
	__u32 vmcs_size;	/* IA32_VMX_BASIC[44:32] */
	__u32 nr_cpus;		/* online CPUs at load */
	/* Raw MSR values the flags were derived from, for diagnostics. */
	__u64 msr_vmx_basic;
	__u64 msr_procbased2;
	__u64 msr_ept_vpid_cap;
	__u64 msr_feature_control;
	__u64 reserved[4];
};

#define DUNE_GET_CAPS _IOR(DUNE_IOC_MAGIC, 0x00, struct dune_caps)

#ifdef __cplusplus
#define DUNE_STATIC_ASSERT static_assert
#else
#define DUNE_STATIC_ASSERT _Static_assert
#endif
DUNE_STATIC_ASSERT(sizeof(struct dune_caps) == 88, "dune_caps ABI");

#endif /* DUNE_UAPI_H */
