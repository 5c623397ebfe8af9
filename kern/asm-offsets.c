// SPDX-License-Identifier: GPL-2.0-only
/*
 * Generates dune-asm-offsets.h for vmenter.S (Kbuild's filechk_offsets,
 * as the kernel's own asm-offsets.c): the struct dune_regs offsets from
 * the list shared with libdune, and the VMCS encoding VM entry writes.
 */
#define COMPILE_OFFSETS
#include <linux/kbuild.h>
#include <linux/stddef.h>
#include <asm/vmx.h>
#include <dune/uapi.h>
#include <dune/regs-offsets.h>

#define REGS_OFFSET(name, member) OFFSET(REGS_##name, dune_regs, member);

static void __used dune_asm_offsets(void)
{
	DUNE_REGS_MEMBERS(REGS_OFFSET)
	DEFINE(REGS_SIZE, sizeof(struct dune_regs));
	BLANK();
	DEFINE(VMCS_HOST_RSP, HOST_RSP);
}
