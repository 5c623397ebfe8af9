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

#endif
