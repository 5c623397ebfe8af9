/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel includes its uapi part by this name; user space has it as <asm/vmx.h>. */
#include <asm/vmx.h>
