/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VMX instructions and typed VMCS accessors.
 *
 * SDM 31.2: a VMX instruction reports failure through RFLAGS: CF=1 is
 * VMfailInvalid (no current VMCS), ZF=1 is VMfailValid (reason in the
 * VM-instruction error field).  Every wrapper hands a failure to
 * vmx_insn_failed() (vmx_report.c), which names the instruction, the
 * error number and the VMCS field or operand, and returns false so the
 * caller can also react.  Field widths are encoded in bits 14:13 of the
 * field number (SDM B); the typed accessors check at build time that
 * callers use the right one.
 */
#ifndef DUNE_VMX_OPS_H
#define DUNE_VMX_OPS_H

#include <linux/types.h>
#include <linux/build_bug.h>
#include <asm/vmx.h>

/* Out of line and cold: the VMX paths stay short. */
void vmx_insn_failed(const char *insn, bool fail_valid, unsigned long op1,
		     unsigned long op2);

/*
 * @cf, @zf: the flags the instruction left.  Returns true on success,
 * else reports (with @op1, @op2: field and value, address, or type and
 * operand, as the instruction takes them) and returns false.
 */
static __always_inline bool __vmx_check(const char *insn, bool cf, bool zf,
					unsigned long op1, unsigned long op2)
{
	if (likely(!cf && !zf))
		return true;
	vmx_insn_failed(insn, zf, op1, op2);
	return false;
}

/*
 * VMXON, VMCLEAR and VMPTRLD take one operand: the 64-bit physical
 * address of a region, in memory.
 */
#define __vmx_insn_pa(insn, name, pa)                                    \
	({                                                               \
		bool __cf, __zf;                                         \
		asm volatile(insn " %2"                                  \
			     : "=@ccc"(__cf), "=@ccz"(__zf)              \
			     : "m"(pa)                                   \
			     : "memory");                                \
		__vmx_check(name, __cf, __zf, pa, 0);                    \
	})

static inline bool vmx_on(u64 vmxon_pa)
{
	return __vmx_insn_pa("vmxon", "VMXON", vmxon_pa);
}

static inline void vmx_off(void)
{
	asm volatile("vmxoff" ::: "cc", "memory");
}

static inline bool vmcs_clear(u64 vmcs_pa)
{
	return __vmx_insn_pa("vmclear", "VMCLEAR", vmcs_pa);
}

static inline bool vmcs_load(u64 vmcs_pa)
{
	return __vmx_insn_pa("vmptrld", "VMPTRLD", vmcs_pa);
}

static __always_inline unsigned long __vmcs_readl(unsigned long field)
{
	unsigned long value;
	bool cf, zf;

	asm volatile("vmread %3, %2"
		     : "=@ccc"(cf), "=@ccz"(zf), "=rm"(value)
		     : "r"(field));
	if (!__vmx_check("VMREAD", cf, zf, field, 0))
		return 0;
	return value;
}

static __always_inline bool __vmcs_writel(unsigned long field,
					  unsigned long value)
{
	bool cf, zf;

	asm volatile("vmwrite %3, %2"
		     : "=@ccc"(cf), "=@ccz"(zf)
		     : "r"(field), "rm"(value)
		     : "memory");
	return __vmx_check("VMWRITE", cf, zf, field, value);
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
	bool cf, zf;

	asm volatile("invept %2, %3"
		     : "=@ccc"(cf), "=@ccz"(zf)
		     : "m"(desc), "r"(type)
		     : "memory");
	return __vmx_check("INVEPT", cf, zf, type, eptp);
}

static inline bool vmx_invvpid(unsigned long type, u16 vpid, u64 gva)
{
	struct {
		u64 vpid : 16;
		u64 rsvd : 48;
		u64 gva;
	} desc = { vpid, 0, gva };
	bool cf, zf;

	asm volatile("invvpid %2, %3"
		     : "=@ccc"(cf), "=@ccz"(zf)
		     : "m"(desc), "r"(type)
		     : "memory");
	return __vmx_check("INVVPID", cf, zf, type, vpid);
}

/* vmx_report.c: the current VMCS to the kernel log, if dump_vmcs is set. */
void vmcs_dump(void);

#endif
