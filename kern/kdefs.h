/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Headers for the parts of kern/ that are pure logic (no kernel state),
 * so the same .c files build into dune.ko and into the host unit tests.
 * In the module they come from the kernel itself; in unit tests a shim
 * (test/unit/kshim) lets the very same kernel headers compile in user space.
 */
#ifndef DUNE_KDEFS_H
#define DUNE_KDEFS_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/vmx.h>
#include <asm/msr-index.h>
#else
#include "kshim.h"
#endif
#include <asm/processor-flags.h>
#include <asm/cpufeatures.h>
#include <uapi/asm/mtrr.h>

/* The bit of a CPUID output register that a kernel X86_FEATURE_* names. */
#define CPUID_BIT(feature) (1u << ((feature) & 31))

/* IA32_VMX_BASIC bits 53:50, the VMCS memory type (SDM A.1). */
#ifdef VMX_BASIC_MEM_TYPE_MASK
#define vmx_basic_mem_type(basic) \
	((u32)(((basic) & VMX_BASIC_MEM_TYPE_MASK) >> VMX_BASIC_MEM_TYPE_SHIFT))
#else
#define vmx_basic_mem_type(basic) vmx_basic_vmcs_mem_type(basic)
#endif

#endif
