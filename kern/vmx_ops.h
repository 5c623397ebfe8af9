/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VMX instructions and typed VMCS accessors.
 *
 * SDM 31.2: a VMX instruction reports failure through RFLAGS: CF=1 is
 * VMfailInvalid (no current VMCS), ZF=1 is VMfailValid (reason in the
 * VM-instruction error field).  The wrappers return false on either.
 * Field widths are encoded in bits 14:13 of the field number (SDM B);
 * the typed accessors check at build time that callers use the right one.
 */
#ifndef DUNE_VMX_OPS_H
#define DUNE_VMX_OPS_H

#include <linux/types.h>
#include <linux/build_bug.h>
#include <asm/vmx.h>

static __always_inline bool __vmx_ok(bool cf_or_zf)
{
	return !cf_or_zf;
}

static inline bool vmx_on(u64 vmxon_pa)
{
	bool fail;

	asm volatile("vmxon %1" : "=@ccbe"(fail) : "m"(vmxon_pa) : "memory");
	return __vmx_ok(fail);
}

static inline void vmx_off(void)
{
	asm volatile("vmxoff" ::: "cc", "memory");
}

static inline bool vmcs_clear(u64 vmcs_pa)
{
	bool fail;

	asm volatile("vmclear %1" : "=@ccbe"(fail) : "m"(vmcs_pa) : "memory");
	return __vmx_ok(fail);
}

static inline bool vmcs_load(u64 vmcs_pa)
{
	bool fail;

	asm volatile("vmptrld %1" : "=@ccbe"(fail) : "m"(vmcs_pa) : "memory");
	return __vmx_ok(fail);
}

static __always_inline unsigned long __vmcs_readl(unsigned long field)
{
	unsigned long value;

	asm volatile("vmread %1, %0" : "=rm"(value) : "r"(field) : "cc");
	return value;
}

static __always_inline bool __vmcs_writel(unsigned long field,
					  unsigned long value)
{
	bool fail;

	asm volatile("vmwrite %2, %1"
		     : "=@ccbe"(fail)
		     : "r"(field), "rm"(value)
		     : "memory");
	return __vmx_ok(fail);
}

/* SDM B: bits 14:13 = 0 16-bit, 1 64-bit, 2 32-bit, 3 natural width */
#define VMCS_WIDTH(f) (((f) >> 13) & 3)
#define VMCS_CHECK(f, w)                                                 \
	BUILD_BUG_ON_MSG(__builtin_constant_p(f) && VMCS_WIDTH(f) != (w), \
			 "VMCS field width mismatch")

#define vmcs_read16(f) ({ VMCS_CHECK(f, 0); (u16)__vmcs_readl(f); })
#define vmcs_read32(f) ({ VMCS_CHECK(f, 2); (u32)__vmcs_readl(f); })
#define vmcs_read64(f) ({ VMCS_CHECK(f, 1); (u64)__vmcs_readl(f); })
#define vmcs_readl(f) ({ VMCS_CHECK(f, 3); __vmcs_readl(f); })
#define vmcs_write16(f, v) ({ VMCS_CHECK(f, 0); __vmcs_writel(f, (u16)(v)); })
#define vmcs_write32(f, v) ({ VMCS_CHECK(f, 2); __vmcs_writel(f, (u32)(v)); })
#define vmcs_write64(f, v) ({ VMCS_CHECK(f, 1); __vmcs_writel(f, (u64)(v)); })
#define vmcs_writel(f, v) ({ VMCS_CHECK(f, 3); __vmcs_writel(f, (unsigned long)(v)); })

/* SDM 31.3 INVEPT / INVVPID descriptors */
static inline bool vmx_invept(unsigned long type, u64 eptp)
{
	struct {
		u64 eptp, rsvd;
	} desc = { eptp, 0 };
	bool fail;

	asm volatile("invept %1, %2"
		     : "=@ccbe"(fail)
		     : "m"(desc), "r"(type)
		     : "memory");
	return __vmx_ok(fail);
}

static inline bool vmx_invvpid(unsigned long type, u16 vpid, u64 gva)
{
	struct {
		u64 vpid : 16;
		u64 rsvd : 48;
		u64 gva;
	} desc = { vpid, 0, gva };
	bool fail;

	asm volatile("invvpid %1, %2"
		     : "=@ccbe"(fail)
		     : "m"(desc), "r"(type)
		     : "memory");
	return __vmx_ok(fail);
}

#endif
