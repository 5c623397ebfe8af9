/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Lets the pure-logic files of kern/ compile in user space against the
 * kernel's own <asm/vmx.h> and <asm/msr-index.h>, so unit tests check the
 * same encodings the module uses.  Only what those headers need is here.
 */
#ifndef DUNE_KSHIM_H
#define DUNE_KSHIM_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <linux/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define __aligned(x) __attribute__((aligned(x)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WARN_ON_ONCE(c) ((void)(c))
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)

#include KSHIM_ASM_VMX
#include KSHIM_ASM_MSR_INDEX

#endif
