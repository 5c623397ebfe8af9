// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where VMX instruction failures go (vmx_ops.h), and the VMCS dump a
 * developer asks for with dump_vmcs=1 when a vCPU dies.  A failure is a
 * dune.ko bug or a CPU that does not do what its capability MSRs said: it
 * is never ignored, but it must not take the host down either, so it is
 * logged (rate-limited) and the caller fails the operation.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/ratelimit.h>
#include <asm/vmx.h>

#include "vmx_ops.h"

static bool dump_vmcs;
module_param(dump_vmcs, bool, 0644);
MODULE_PARM_DESC(dump_vmcs, "Dump the VMCS to the kernel log when a vCPU dies (failed VM entry, triple fault, unexpected exit)");

/* VMREAD without the reporting wrapper: the reporter must not recurse. */
static unsigned long vmread_quiet(unsigned long field, bool *ok)
{
	unsigned long value = 0;
	bool fail;

	asm volatile("vmread %2, %1"
		     : "=@ccbe"(fail), "=rm"(value)
		     : "r"(field));
	*ok = !fail;
	return value;
}

/* What the two operands of each instruction are, for the message. */
static void vmx_insn_operands(const char *insn, const char **a,
			      const char **b)
{
	*b = NULL;
	if (!strcmp(insn, "VMWRITE")) {
		*a = "field";
		*b = "value";
	} else if (!strcmp(insn, "VMREAD")) {
		*a = "field";
	} else if (!strcmp(insn, "INVEPT")) {
		*a = "type";
		*b = "eptp";
	} else if (!strcmp(insn, "INVVPID")) {
		*a = "type";
		*b = "vpid";
	} else {
		*a = "address";
	}
}

void vmx_insn_failed(const char *insn, bool fail_valid, unsigned long op1,
		     unsigned long op2)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);
	const char *a, *b;
	char ops[64];
	bool ok;
	u32 err;

	if (!__ratelimit(&rs))
		return;
	vmx_insn_operands(insn, &a, &b);
	if (b)
		snprintf(ops, sizeof(ops), "%s 0x%lx, %s 0x%lx", a, op1, b, op2);
	else
		snprintf(ops, sizeof(ops), "%s 0x%lx", a, op1);
	/*
	 * SDM 31.4: VMfailValid leaves the reason in the current VMCS's
	 * VM-instruction error field; VMfailInvalid means there is no
	 * current VMCS to hold one.
	 */
	if (!fail_valid) {
		pr_err("dune: %s failed on CPU %d (%s): VMfailInvalid, no current VMCS\n",
		       insn, raw_smp_processor_id(), ops);
		return;
	}
	err = vmread_quiet(VM_INSTRUCTION_ERROR, &ok);
	pr_err("dune: %s failed on CPU %d (%s): VM-instruction error %u (SDM 31.4)\n",
	       insn, raw_smp_processor_id(), ops, ok ? err : 0);
}

struct vmcs_field_name {
	unsigned long field;
	const char *name;
};

#define F(x) { x, #x }
static const struct vmcs_field_name vmcs_dump_fields[] = {
	F(VM_INSTRUCTION_ERROR), F(VM_EXIT_REASON), F(EXIT_QUALIFICATION),
	F(VM_EXIT_INTR_INFO), F(IDT_VECTORING_INFO_FIELD),
	F(PIN_BASED_VM_EXEC_CONTROL), F(CPU_BASED_VM_EXEC_CONTROL),
	F(SECONDARY_VM_EXEC_CONTROL), F(VM_EXIT_CONTROLS),
	F(VM_ENTRY_CONTROLS), F(EXCEPTION_BITMAP), F(VM_ENTRY_INTR_INFO_FIELD),
	F(VM_ENTRY_EXCEPTION_ERROR_CODE), F(VM_ENTRY_INSTRUCTION_LEN),
	F(VIRTUAL_PROCESSOR_ID), F(EPT_POINTER), F(MSR_BITMAP),
	F(GUEST_CR0), F(GUEST_CR3), F(GUEST_CR4), F(GUEST_DR7),
	F(GUEST_RIP), F(GUEST_RSP), F(GUEST_RFLAGS),
	F(GUEST_INTERRUPTIBILITY_INFO), F(GUEST_ACTIVITY_STATE),
	F(GUEST_PENDING_DBG_EXCEPTIONS), F(GUEST_IA32_EFER),
	F(GUEST_IA32_DEBUGCTL), F(VMCS_LINK_POINTER),
	F(GUEST_CS_SELECTOR), F(GUEST_CS_BASE), F(GUEST_CS_LIMIT),
	F(GUEST_CS_AR_BYTES), F(GUEST_SS_SELECTOR), F(GUEST_SS_AR_BYTES),
	F(GUEST_DS_SELECTOR), F(GUEST_DS_AR_BYTES), F(GUEST_ES_SELECTOR),
	F(GUEST_ES_AR_BYTES), F(GUEST_FS_SELECTOR), F(GUEST_FS_BASE),
	F(GUEST_FS_AR_BYTES), F(GUEST_GS_SELECTOR), F(GUEST_GS_BASE),
	F(GUEST_GS_AR_BYTES), F(GUEST_LDTR_SELECTOR), F(GUEST_LDTR_AR_BYTES),
	F(GUEST_TR_SELECTOR), F(GUEST_TR_BASE), F(GUEST_TR_LIMIT),
	F(GUEST_TR_AR_BYTES), F(GUEST_GDTR_BASE), F(GUEST_GDTR_LIMIT),
	F(GUEST_IDTR_BASE), F(GUEST_IDTR_LIMIT),
	F(HOST_CR0), F(HOST_CR3), F(HOST_CR4), F(HOST_RIP), F(HOST_RSP),
	F(HOST_CS_SELECTOR), F(HOST_SS_SELECTOR), F(HOST_TR_SELECTOR),
	F(HOST_FS_BASE), F(HOST_GS_BASE), F(HOST_TR_BASE),
	F(HOST_GDTR_BASE), F(HOST_IDTR_BASE), F(HOST_IA32_SYSENTER_ESP),
	F(HOST_IA32_SYSENTER_EIP), F(HOST_IA32_EFER),
};
#undef F

/* The current VMCS, one field a line; preemption off, VMCS loaded. */
void vmcs_dump(void)
{
	size_t i;
	bool ok;

	if (!dump_vmcs)
		return;
	pr_err("dune: VMCS dump (CPU %d):\n", raw_smp_processor_id());
	for (i = 0; i < ARRAY_SIZE(vmcs_dump_fields); i++) {
		unsigned long v = vmread_quiet(vmcs_dump_fields[i].field, &ok);

		if (ok)
			pr_err("dune:   %-30s 0x%lx\n", vmcs_dump_fields[i].name,
			       v);
		else
			pr_err("dune:   %-30s (not readable)\n",
			       vmcs_dump_fields[i].name);
	}
}
