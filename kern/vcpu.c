// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPUs: VMCS setup, loading a VMCS on the CPU the thread runs on, and
 * the run loop.  A vCPU runs its owner thread in VMX non-root mode, 64-bit,
 * CPL 0, on the page tables libdune built; FS/GS bases and the FPU/SSE/AVX
 * state are the thread's own, so the guest *is* the thread.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include "vcpu.h"
#include "vmx_ops.h"
#define CREATE_TRACE_POINTS
#include "trace.h"

void dune_vmx_exit(void);
int dune_vmx_enter(struct dune_regs *regs, int launched);

/*
 * Every MSR access exits, except the guest's own LSTAR, FS_BASE and
 * GS_BASE (see vcpu_init).
 */
static void *msr_bitmap;

/*
 * Host values that are the same on every CPU, read once (SYSENTER_ESP is
 * not: each CPU has its own entry stack, see vcpu_set_host_cpu_state).
 */
static u64 host_efer, host_pat;
static u64 host_sysenter_cs, host_sysenter_eip;

/*
 * Access rights of the guest's flat 64-bit segments, in the VMCS format
 * (SDM 24.4.1).  Its code and data segments are what the host kernel's
 * __KERNEL_CS and __KERNEL_DS are (libdune's GDT holds the same
 * descriptors), so the rights come from those real descriptors in this
 * CPU's GDT.
 */
static u32 guest_ar_code, guest_ar_data;

/* SDM 24.4.1: descriptor bytes 5-6 with the limit bits 19:16 left out. */
static u32 desc_to_ar(const struct desc_struct *d)
{
	return d->type | d->s << 4 | d->dpl << 5 | d->p << 7 | d->avl << 12 |
	       d->l << 13 | d->d << 14 | d->g << 15;
}

static void guest_ar_init(void)
{
	const struct desc_struct *gdt;
	struct desc_ptr p;

	preempt_disable();
	native_store_gdt(&p);
	gdt = (const struct desc_struct *)p.address;
	guest_ar_code = desc_to_ar(&gdt[__KERNEL_CS / 8]);
	guest_ar_data = desc_to_ar(&gdt[__KERNEL_DS / 8]);
	preempt_enable();
	/* The CPU sets the accessed bit on first use; set it up front. */
	guest_ar_code |= VMX_AR_TYPE_ACCESSES_MASK;
	guest_ar_data |= VMX_AR_TYPE_ACCESSES_MASK;
}

/* The VMX controls we use, computed once from the capability MSRs. */
static u32 ctl_pin, ctl_cpu, ctl_cpu2, ctl_exit, ctl_entry;

/*
 * Let the guest read and write @msr without a VM exit.  SDM 25.6.9: the
 * 4 KiB bitmap holds read bits for MSRs 0-0x1fff, read bits for
 * 0xc0000000-0xc0001fff, then the two write halves, 1 KiB each.
 */
static void msr_bitmap_pass(void *bitmap, u32 msr)
{
	unsigned long *read = bitmap, *write = bitmap + 0x800;

	if (msr >= 0xc0000000) {
		read = bitmap + 0x400;
		write = bitmap + 0xc00;
	}
	WARN_ON_ONCE((msr & ~0xc0000000) > 0x1fff);
	__clear_bit(msr & 0x1fff, read);
	__clear_bit(msr & 0x1fff, write);
}

int vcpu_init(void)
{
	const struct vmx_msrs *m = &vmx_caps.msrs;
	int r;

	/* SDM 25.6.1: external interrupts and NMIs belong to the host. */
	r = vmx_ctl_adjust(m->pinbased,
			   PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING,
			   PIN_BASED_VIRTUAL_NMIS | guest_cpu_pin_controls(m),
			   &ctl_pin);
	/*
	 * SDM 25.6.2: HLT/MWAIT/MONITOR/IO exit (a process may not do them);
	 * every MSR access goes through the bitmap; CR3 belongs to the guest;
	 * CR8 and the debug registers are the guest's own (guest_cpu.c).
	 */
	r = r ?: vmx_ctl_adjust(m->procbased,
				CPU_BASED_HLT_EXITING | CPU_BASED_MWAIT_EXITING |
					CPU_BASED_MONITOR_EXITING |
					CPU_BASED_UNCOND_IO_EXITING |
					CPU_BASED_USE_MSR_BITMAPS |
					CPU_BASED_ACTIVATE_SECONDARY_CONTROLS |
					guest_cpu_procbased_controls(m),
				0, &ctl_cpu);
	/* RDTSCP also gates RDPID, which the vDSO's getcpu may use. */
	r = r ?: vmx_ctl_adjust(m->procbased2,
				SECONDARY_EXEC_ENABLE_EPT |
					SECONDARY_EXEC_ENABLE_VPID,
				SECONDARY_EXEC_ENABLE_RDTSCP |
					SECONDARY_EXEC_ENABLE_INVPCID |
					SECONDARY_EXEC_WBINVD_EXITING,
				&ctl_cpu2);
	/*
	 * SDM 25.7.1 / 25.8.1: 64-bit host and guest, EFER switched, the
	 * guest's DR7 and IA32_DEBUGCTL saved and loaded.
	 */
	r = r ?: vmx_ctl_adjust(m->exit,
				VM_EXIT_HOST_ADDR_SPACE_SIZE |
					VM_EXIT_LOAD_IA32_EFER |
					VM_EXIT_SAVE_DEBUG_CONTROLS,
				VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT,
				&ctl_exit);
	r = r ?: vmx_ctl_adjust(m->entry,
				VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_EFER |
					VM_ENTRY_LOAD_DEBUG_CONTROLS,
				VM_ENTRY_LOAD_IA32_PAT, &ctl_entry);
	/* SDM 26.7.5: DUNE_RUN's inject_vector waits for the guest with it. */
	if (!r && !vmx_ctl_allows(m->procbased, CPU_BASED_INTR_WINDOW_EXITING))
		r = -EIO;
	if (r) {
		pr_err("dune: cannot load: the CPU does not allow a VMX control dune needs\n");
		return -ENODEV;
	}

	guest_ar_init();
	/* SDM 26.3.1.2: 64-bit code (L=1, D=0) and present data segments. */
	if (!(guest_ar_code & VMX_AR_TYPE_CODE_MASK) ||
	    !(guest_ar_code & VMX_AR_L_MASK) ||
	    guest_ar_code & VMX_AR_DB_MASK ||
	    guest_ar_data & VMX_AR_TYPE_CODE_MASK ||
	    !(guest_ar_data & VMX_AR_P_MASK)) {
		pr_err("dune: cannot load: unexpected kernel segment descriptors (code %#x, data %#x)\n",
		       guest_ar_code, guest_ar_data);
		return -ENODEV;
	}
	guest_feat_init(m);
	msr_bitmap = (void *)__get_free_page(GFP_KERNEL);
	if (!msr_bitmap)
		return -ENOMEM;
	/* Every MSR access exits unless let through below. */
	memset(msr_bitmap, 0xff, PAGE_SIZE);
	/*
	 * libdune switches LSTAR on every ring 0 <-> ring 3 transition, so
	 * the guest reads and writes the real MSR.  vcpu_enter saves it
	 * after each exit; a non-canonical value is the CPU's own #GP in the
	 * guest.
	 */
	msr_bitmap_pass(msr_bitmap, MSR_LSTAR);
	/*
	 * libdune also puts the thread's FS/GS bases back on every trap
	 * from ring 3.  In non-root mode these MSRs are the guest's FS/GS
	 * base registers: a VM exit saves both bases into the guest-state
	 * area (SDM 28.3.2) and loads the host's from the host-state area
	 * into the registers and the MSRs (SDM 28.5.1, 28.5.2), so nothing
	 * the guest writes here reaches the host at its VM exit.  The guest
	 * keeps its bases across exits; the thread takes them only at a
	 * system call (guest_feat.c).
	 */
	msr_bitmap_pass(msr_bitmap, MSR_FS_BASE);
	msr_bitmap_pass(msr_bitmap, MSR_GS_BASE);

	rdmsrl(MSR_EFER, host_efer);
	rdmsrl(MSR_IA32_CR_PAT, host_pat);
	vcpu_host_msrs_init();
	rdmsrl(MSR_IA32_SYSENTER_CS, host_sysenter_cs);
	rdmsrl(MSR_IA32_SYSENTER_EIP, host_sysenter_eip);
	vcpu_spec_init();
	return 0;
}

void vcpu_exit(void)
{
	free_page((unsigned long)msr_bitmap);
}

/* TSS base from the TSS descriptor in this CPU's GDT (SDM 8.2.3). */
static unsigned long host_tr_base(const struct desc_ptr *gdt)
{
	struct ldttss_desc *d =
		(struct ldttss_desc *)(gdt->address + GDT_ENTRY_TSS * 8);

	return d->base0 | ((unsigned long)d->base1 << 16) |
	       ((unsigned long)d->base2 << 24) |
	       ((unsigned long)d->base3 << 32);
}

/*
 * Host state that differs per CPU; written when the VMCS moves here.  The
 * rest of the host state is the same everywhere (vcpu_setup_vmcs) or
 * changes with the task (vcpu_enter: CR3, CR4, FS/GS bases, RSP).
 */
static void vcpu_set_host_cpu_state(void)
{
	struct desc_ptr gdt, idt;
	u64 sysenter_esp;

	native_store_gdt(&gdt);
	store_idt(&idt);
	vmcs_writel(HOST_TR_BASE, host_tr_base(&gdt));
	vmcs_writel(HOST_GDTR_BASE, gdt.address);
	vmcs_writel(HOST_IDTR_BASE, idt.address);
	/* Linux points it at this CPU's entry stack (syscall_init()). */
	rdmsrl(MSR_IA32_SYSENTER_ESP, sysenter_esp);
	vmcs_writel(HOST_IA32_SYSENTER_ESP, sysenter_esp);
}

/*
 * Make the vCPU's VMCS current on this CPU (preemption off); one that
 * arrives from another CPU gets this CPU's host state.
 */
static void vcpu_load(struct dune_vcpu *vcpu)
{
	if (loaded_vmcs_load(&vcpu->vmcs))
		vcpu_set_host_cpu_state();
}

static void vcpu_setup_vmcs(struct dune_vcpu *vcpu,
			    const struct dune_vcpu_config *cfg)
{
	const struct vmx_msrs *m = &vmx_caps.msrs;
	u64 cr0, cr4;

	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, ctl_pin);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, ctl_cpu);
	vcpu->ctl_cpu = ctl_cpu;
	/*
	 * Without a VPID the VPID control is off: every VM entry and exit
	 * then flushes VPID 0's linear and combined mappings (SDM 29.4.3.1),
	 * so nothing of another guest or the host can be used.
	 */
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL,
		     vcpu->vpid ? ctl_cpu2 :
				  ctl_cpu2 & ~SECONDARY_EXEC_ENABLE_VPID);
	vmcs_write32(VM_EXIT_CONTROLS, ctl_exit);
	vmcs_write32(VM_ENTRY_CONTROLS, ctl_entry);
	/* #MC must reach the host's handler; the guest's IDT takes the rest. */
	vmcs_write32(EXCEPTION_BITMAP, 1u << X86_TRAP_MC);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write64(MSR_BITMAP, __pa(msr_bitmap));
	vmcs_write64(EPT_POINTER, vcpu->ctx->eptp);
	vmcs_write16(VIRTUAL_PROCESSOR_ID, vcpu->vpid);
	/* SDM 26.3.1.5: no VMCS shadowing, so the link pointer is all ones. */
	vmcs_write64(VMCS_LINK_POINTER, ~0ull);

	/* Host state (SDM 26.2.2-26.2.4); per-entry parts in vcpu_enter,
	 * per-CPU parts in vcpu_load.
	 */
	vmcs_writel(HOST_CR0, read_cr0());
	vmcs_writel(HOST_CR3, __read_cr3());
	vmcs_writel(HOST_CR4, cr4_read_shadow());
	vmcs_write16(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write16(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write16(HOST_DS_SELECTOR, 0);
	vmcs_write16(HOST_ES_SELECTOR, 0);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmcs_write32(HOST_IA32_SYSENTER_CS, host_sysenter_cs);
	vmcs_writel(HOST_IA32_SYSENTER_EIP, host_sysenter_eip);
	vmcs_write64(HOST_IA32_EFER, host_efer);
	if (ctl_exit & VM_EXIT_LOAD_IA32_PAT)
		vmcs_write64(HOST_IA32_PAT, host_pat);
	vmcs_writel(HOST_RIP, (unsigned long)dune_vmx_exit);
	/* The per-CPU host state was written by vcpu_load. */

	/*
	 * Guest control registers: paging, protected, write-protect, FPU
	 * native errors; the CPU's fixed bits (SDM A.7, A.8) on top.  The
	 * guest owns none of their bits: a change exits (and is refused).
	 */
	cr0 = vmx_cr_fixup(X86_CR0_PG | X86_CR0_WP | X86_CR0_NE | X86_CR0_ET |
				   X86_CR0_MP | X86_CR0_PE,
			   m->cr0_fixed0, m->cr0_fixed1);
	cr4 = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |
	      guest_feat_cr4() | (vcpu->pcide ? X86_CR4_PCIDE : 0);
	cr4 = vmx_cr_fixup(cr4, m->cr4_fixed0, m->cr4_fixed1);
	vcpu->cr4 = cr4;
	vmcs_writel(GUEST_CR0, cr0);
	vmcs_writel(CR0_READ_SHADOW, cr0);
	vmcs_writel(CR0_GUEST_HOST_MASK, ~0ul);
	vmcs_writel(GUEST_CR4, cr4);
	vmcs_writel(CR4_READ_SHADOW, cr4 & ~X86_CR4_VMXE);
	vmcs_writel(CR4_GUEST_HOST_MASK, ~0ul);
	vmcs_writel(GUEST_CR3, cfg->cr3);
	vmcs_write64(GUEST_IA32_EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NX);
	if (ctl_entry & VM_ENTRY_LOAD_IA32_PAT)
		vmcs_write64(GUEST_IA32_PAT, 0x0007040600070406ull);
	vmcs_writel(GUEST_DR7, DR7_FIXED_1);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);

	/* Flat 64-bit segments (SDM 26.3.1.2), as guest_ar_init() found. */
	vmcs_write16(GUEST_CS_SELECTOR, cfg->cs);
	vmcs_writel(GUEST_CS_BASE, 0);
	vmcs_write32(GUEST_CS_LIMIT, 0xffffffff);
	vmcs_write32(GUEST_CS_AR_BYTES, guest_ar_code);
#define GUEST_DATA_SEG(seg)                                      \
	do {                                                     \
		vmcs_write16(GUEST_##seg##_SELECTOR, cfg->ds);   \
		vmcs_writel(GUEST_##seg##_BASE, 0);              \
		vmcs_write32(GUEST_##seg##_LIMIT, 0xffffffff);   \
		vmcs_write32(GUEST_##seg##_AR_BYTES, guest_ar_data); \
	} while (0)
	GUEST_DATA_SEG(SS);
	GUEST_DATA_SEG(DS);
	GUEST_DATA_SEG(ES);
	GUEST_DATA_SEG(FS);
	GUEST_DATA_SEG(GS);
#undef GUEST_DATA_SEG
	vmcs_write16(GUEST_LDTR_SELECTOR, 0);
	vmcs_writel(GUEST_LDTR_BASE, 0);
	vmcs_write32(GUEST_LDTR_LIMIT, 0);
	vmcs_write32(GUEST_LDTR_AR_BYTES, VMX_AR_UNUSABLE_MASK);
	vmcs_write16(GUEST_TR_SELECTOR, cfg->tr);
	vmcs_writel(GUEST_TR_BASE, cfg->tss_base);
	/* A 64-bit TSS with no I/O bitmap (SDM 8.7), busy as after LTR. */
	vmcs_write32(GUEST_TR_LIMIT, sizeof(struct x86_hw_tss) - 1);
	vmcs_write32(GUEST_TR_AR_BYTES, VMX_AR_TYPE_BUSY_64_TSS | VMX_AR_P_MASK);
	vmcs_writel(GUEST_GDTR_BASE, cfg->gdt_base);
	vmcs_write32(GUEST_GDTR_LIMIT, cfg->gdt_limit);
	vmcs_writel(GUEST_IDTR_BASE, cfg->idt_base);
	vmcs_write32(GUEST_IDTR_LIMIT, cfg->idt_limit);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writel(GUEST_SYSENTER_ESP, 0);
	vmcs_writel(GUEST_SYSENTER_EIP, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	guest_cpu_setup_vmcs(vcpu);
}

/* SDM 3.4.3: bits a guest may hold in RFLAGS; bit 1 is always set. */
#define GUEST_RFLAGS_OK                                                   \
	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF |  \
	 X86_EFLAGS_SF | X86_EFLAGS_TF | X86_EFLAGS_IF | X86_EFLAGS_DF |  \
	 X86_EFLAGS_OF | X86_EFLAGS_AC | X86_EFLAGS_ID)

static int vcpu_check_regs(const struct dune_regs *r)
{
	/* A non-canonical RIP would fail VM entry (SDM 26.3.1.4). */
	if (!dune_canonical(r->rip))
		return -EINVAL;
	return 0;
}

static void vcpu_write_regs(struct dune_vcpu *vcpu)
{
	u64 rflags = (vcpu->regs.rflags & GUEST_RFLAGS_OK) | X86_EFLAGS_FIXED;

	vcpu_sanitize_blocking(vcpu->regs.rip, rflags);
	vmcs_writel(GUEST_RSP, vcpu->regs.rsp);
	vmcs_writel(GUEST_RIP, vcpu->regs.rip);
	vmcs_writel(GUEST_RFLAGS, rflags);
	vcpu->regs_dirty = false;
}

/*
 * The event for this VM entry: one at most (SDM 26.6).  An exception
 * pending from an exit handler (or cut short by the last exit) goes first.
 * The interrupt user space asked for goes in as soon as the guest can take
 * it (RFLAGS.IF = 1, no STI or MOV-SS blocking: what SDM 26.3.1.5 also
 * demands of an injected external interrupt); until then an
 * interrupt-window exit (SDM 26.7.5) tells us when it can.
 */
static void vcpu_set_events(struct dune_vcpu *vcpu)
{
	bool window = false;
	u32 ctl;

	if (vcpu->pending_event) {
		vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, vcpu->pending_event);
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, vcpu->pending_error);
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, vcpu->pending_len);
		vcpu->pending_event = 0;
		window = vcpu->inject_vector;
	} else if (vcpu->inject_vector) {
		u32 block = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

		if (vcpu->regs.rflags & X86_EFLAGS_IF &&
		    !(block & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))) {
			vmcs_write32(VM_ENTRY_INTR_INFO_FIELD,
				     vcpu->inject_vector | INTR_TYPE_EXT_INTR |
					     INTR_INFO_VALID_MASK);
			vcpu->injecting = true;
		} else {
			window = true;
		}
	}
	ctl = window ? vcpu->ctl_cpu | CPU_BASED_INTR_WINDOW_EXITING :
		       vcpu->ctl_cpu & ~CPU_BASED_INTR_WINDOW_EXITING;
	if (ctl != vcpu->ctl_cpu) {
		vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, ctl);
		vcpu->ctl_cpu = ctl;
	}
}

/*
 * One VM entry and exit, with interrupts off around it.  Everything the
 * hardware does not switch is switched here: the syscall MSRs and
 * KERNEL_GS_BASE, CR2, the GDT limit (SDM 28.5.2 sets it to 0xffff), and
 * the segment and LDT registers (vcpu_host_restore()) and the debug
 * registers (guest_debug_exit()).
 */
static int vcpu_enter(struct dune_vcpu *vcpu, int cpu)
{
	u64 host_kgs, fs_base, gs_base;
	struct vcpu_host_regs hregs;
	struct desc_ptr gdt;
	int fail;

	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	ctx_enter_cpu(vcpu->ctx, cpu);

	vmcs_writel(HOST_CR3, __read_cr3());
	vmcs_writel(HOST_CR4, cr4_read_shadow());
	rdmsrl(MSR_FS_BASE, fs_base);
	rdmsrl(MSR_KERNEL_GS_BASE, host_kgs);
	vmcs_writel(HOST_FS_BASE, fs_base);
	rdmsrl(MSR_GS_BASE, gs_base);
	vmcs_writel(HOST_GS_BASE, gs_base);
	/* The guest's FS/GS bases, RDTSC exiting (guest_feat.c). */
	guest_feat_enter(vcpu, fs_base, host_kgs);
	if (vcpu->regs_dirty)
		vcpu_write_regs(vcpu);
	vcpu_set_events(vcpu);

	vcpu_host_save(&hregs);
	native_store_gdt(&gdt);
	if (!vcpu_load_guest_msrs(vcpu)) {
		wrmsrl(MSR_KERNEL_GS_BASE, host_kgs);
		ctx_leave_cpu(vcpu->ctx, cpu);
		vcpu->instr_error = 0;
		return -EIO;
	}
	if (native_read_cr2() != vcpu->cr2)
		native_write_cr2(vcpu->cr2);
	vcpu_spec_before_entry();

	guest_debug_enter(vcpu);
	fail = dune_vmx_enter(&vcpu->regs, vcpu->vmcs.launched);
	guest_debug_exit(vcpu);

	vcpu_spec_after_exit();
	vcpu->cr2 = native_read_cr2();
	vcpu_put_guest_msrs(vcpu);
	native_load_gdt(&gdt);
	/* VM exit leaves TR's limit at 0x67, cutting off the I/O bitmap. */
	invalidate_tss_limit();
	vcpu_host_restore(&hregs, fs_base);
	/* Last: loading a GS selector above changed the inactive GS base. */
	wrmsrl(MSR_KERNEL_GS_BASE, host_kgs);
	ctx_leave_cpu(vcpu->ctx, cpu);
	vcpu->stats.entries++;
	if (fail) {
		vcpu->instr_error = vmcs_read32(VM_INSTRUCTION_ERROR);
		return -EIO;
	}

	/* Everything a handler needs, while the VMCS is surely current. */
	vcpu->vmcs.launched = true;
	vcpu->exit_reason = vmcs_read32(VM_EXIT_REASON);
	/*
	 * The entry delivered the interrupt, or the exit cut its delivery
	 * short and vcpu_requeue_vectoring() makes it the pending event.
	 */
	if (vcpu->injecting &&
	    !(vcpu->exit_reason & VMX_EXIT_REASONS_FAILED_VMENTRY))
		vcpu->inject_vector = 0;
	vcpu->injecting = false;
	vcpu->exit_qual = vmcs_readl(EXIT_QUALIFICATION);
	vcpu->exit_intr_info = vmcs_read32(VM_EXIT_INTR_INFO);
	vcpu->exit_instr_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
	vcpu->regs.rsp = vmcs_readl(GUEST_RSP);
	vcpu->regs.rip = vmcs_readl(GUEST_RIP);
	vcpu->regs.rflags = vmcs_readl(GUEST_RFLAGS);
	guest_feat_exit(vcpu);
	switch ((u16)vcpu->exit_reason) {
	case EXIT_REASON_VMCALL:
		/* SDM 3.4.5 / 27.3.1: CPL is SS.DPL, AR bits 6:5. */
		vcpu->exit_cpl = VMX_AR_DPL(vmcs_read32(GUEST_SS_AR_BYTES));
		break;
	case EXIT_REASON_EPT_VIOLATION:
		vcpu->guest_linear = vmcs_readl(GUEST_LINEAR_ADDRESS);
		fallthrough;
	case EXIT_REASON_EPT_MISCONFIG:
		vcpu->guest_phys = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
		break;
	case EXIT_REASON_EXCEPTION_NMI:
		/*
		 * An NMI that exited is blocked and ours to deliver, on this
		 * CPU and now: through the host's own IDT entry.
		 */
		if ((vcpu->exit_intr_info & INTR_INFO_INTR_TYPE_MASK) ==
		    INTR_TYPE_NMI_INTR)
			asm volatile("int $2");
		/* Likewise a machine check, to the host's #MC handler. */
		else if ((vcpu->exit_intr_info & INTR_INFO_VECTOR_MASK) ==
			 X86_TRAP_MC)
			asm volatile("int $18");
		break;
	}
	return 0;
}

/* Make the VMCS current for a handler that must read or write it. */
void vcpu_vmcs_begin(struct dune_vcpu *vcpu)
{
	preempt_disable();
	vcpu_load(vcpu);
}

void vcpu_vmcs_end(struct dune_vcpu *vcpu)
{
	preempt_enable();
}

/* An event cut short by the exit is delivered again (SDM 28.2.4, 27.2.3). */
static void vcpu_requeue_vectoring(struct dune_vcpu *vcpu)
{
	u32 info = vmcs_read32(IDT_VECTORING_INFO_FIELD);

	if (!(info & VECTORING_INFO_VALID_MASK))
		return;
	vcpu->pending_event = info & ~INTR_INFO_UNBLOCK_NMI;
	vcpu->pending_error = vmcs_read32(IDT_VECTORING_ERROR_CODE);
	vcpu->pending_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
}

/*
 * Must the thread go back to user space before the next entry?  For a
 * signal, and for task work: Linux runs it only on the way to user space
 * (exit_to_user_mode), and expired CPU-time timers (ITIMER_PROF, CPU-clock
 * POSIX timers, RLIMIT_CPU) are task work that generates their signal.
 * A guest that never makes a system call would otherwise never get them.
 */
static bool vcpu_user_work_pending(void)
{
	return signal_pending(current) || task_work_pending(current);
}

static long vcpu_run(struct dune_vcpu *vcpu, struct dune_run __user *urun)
{
	struct dune_run run;
	int cpu, r = 0;

	if (copy_from_user(&run, urun, sizeof(run)))
		return -EFAULT;
	if (vcpu_check_regs(&run.regs))
		return -EINVAL;
	if (run.pad2 || (run.inject_vector &&
			 (run.inject_vector < 32 || run.inject_vector > 255)))
		return -EINVAL;
	vcpu->inject_vector = run.inject_vector;
	/* Everything after regs is output (inject_vector: see below). */
	memset((char *)&run + sizeof(run.regs), 0,
	       sizeof(run) - sizeof(run.regs));
	vcpu->regs = run.regs;
	vcpu->regs_dirty = true;

	for (;;) {
		if (vcpu_user_work_pending()) {
			run.exit_reason = DUNE_EXIT_SIGNAL;
			break;
		}
		cond_resched();

		preempt_disable();
		cpu = smp_processor_id();
		vcpu_load(vcpu);
		local_irq_disable();
		/* Checked again with interrupts off: no wakeup may slip by. */
		if (need_resched() || vcpu_user_work_pending()) {
			local_irq_enable();
			preempt_enable();
			continue;
		}
		r = vcpu_enter(vcpu, cpu);
		if (!r)
			vcpu_requeue_vectoring(vcpu);
		/* A pending external interrupt is taken right here. */
		local_irq_enable();
		preempt_enable();

		if (r) {
			vcpu->exit_reason = VMX_EXIT_REASONS_FAILED_VMENTRY;
			vcpu->exit_qual = 0;
			r = vcpu_fatal(vcpu, &run, "VM entry failed");
			break;
		}
		vcpu->stats.exits++;
		if ((u16)vcpu->exit_reason < DUNE_NR_EXIT_REASONS)
			vcpu->stats.by_reason[(u16)vcpu->exit_reason]++;
		trace_dune_exit(vcpu->exit_reason, vcpu->exit_qual,
				vcpu->regs.rip);
		r = vcpu_handle_exit(vcpu, &run);
		if (r <= 0)
			break;
	}

	if (r < 0 && !vcpu->dead)
		return r;
	vcpu->stats.user_exits++;
	trace_dune_user_exit(run.exit_reason, vcpu->regs.rax);
	run.regs = vcpu->regs;
	run.guest_cr2 = vcpu->cr2;
	/* Still set: not delivered yet, user space passes it again. */
	run.inject_vector = vcpu->inject_vector;
	if (copy_to_user(urun, &run, sizeof(run)))
		return -EFAULT;
	return 0;
}

static bool vcpu_is_owner(struct dune_vcpu *vcpu)
{
	return task_pid(current) == vcpu->owner &&
	       current->mm == vcpu->ctx->mm;
}

static long vcpu_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct dune_vcpu *vcpu = filp->private_data;
	long r;

	switch (cmd) {
	case DUNE_RUN:
		/* One thread drives a vCPU: the one that created it. */
		if (!vcpu_is_owner(vcpu))
			return -EPERM;
		if (!mutex_trylock(&vcpu->lock))
			return -EBUSY;
		r = vcpu->dead ? -EIO :
				 vcpu_run(vcpu, (struct dune_run __user *)arg);
		mutex_unlock(&vcpu->lock);
		return r;
	case DUNE_GET_STATS:
		if (current->mm != vcpu->ctx->mm)
			return -EPERM;
		if (copy_to_user((void __user *)arg, &vcpu->stats,
				 sizeof(vcpu->stats)))
			return -EFAULT;
		return 0;
	default:
		return -ENOTTY;
	}
}

static int vcpu_release(struct inode *inode, struct file *filp)
{
	struct dune_vcpu *vcpu = filp->private_data;

	loaded_vmcs_free(&vcpu->vmcs);
	guest_cpu_free(vcpu);
	vpid_free(vcpu->vpid);
	put_pid(vcpu->owner);
	acct_vcpu_uncharge(vcpu->ctx, vcpu->acct_user);
	fput(vcpu->ctx_file);
	kfree(vcpu);
	return 0;
}

static const struct file_operations vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vcpu_ioctl,
	.release = vcpu_release,
	.llseek = noop_llseek,
};

int vcpu_create(struct file *ctx_file, struct dune_ctx *ctx,
		const struct dune_vcpu_config __user *ucfg)
{
	struct dune_vcpu_config cfg;
	struct dune_vcpu *vcpu;
	size_t i;
	int r, fd;

	if (copy_from_user(&cfg, ucfg, sizeof(cfg)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(cfg.reserved); i++)
		if (cfg.reserved[i])
			return -EINVAL;
	if (cfg.pad[0] || cfg.pad[1] || cfg.pad[2])
		return -EINVAL;
	if (cfg.flags & ~(DUNE_VCPU_PCID | DUNE_VCPU_THREAD_BASES))
		return -EINVAL;
	if (cfg.flags & DUNE_VCPU_PCID && !caps_has(&vmx_caps, DUNE_CAP_PCID))
		return -EINVAL;
	/* Selectors of the GDT at CPL 0 (SDM 26.3.1.2), page-aligned roots. */
	if (!cfg.cs || !cfg.ds || !cfg.tr || (cfg.cs | cfg.ds | cfg.tr) & 7 ||
	    cfg.cs > cfg.gdt_limit || cfg.ds > cfg.gdt_limit ||
	    cfg.tr > cfg.gdt_limit || (cfg.cr3 & ~PAGE_MASK) ||
	    cfg.cr3 >= (1ull << vmx_caps.uapi.maxphyaddr))
		return -EINVAL;
	if (vcpu_check_regs(&cfg.regs) || vcpu_check_config_values(&cfg))
		return -EINVAL;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	r = acct_vcpu_charge(ctx, &vcpu->acct_user);
	if (r)
		goto free_vcpu;
	mutex_init(&vcpu->lock);
	vcpu->ctx = ctx;
	vcpu->regs = cfg.regs;
	vcpu->regs_dirty = true;
	vcpu->pcide = cfg.flags & DUNE_VCPU_PCID;
	vcpu->thread_bases = cfg.flags & DUNE_VCPU_THREAD_BASES;
	vcpu->guest_kernel_gs_base = cfg.kernel_gs_base;
	vcpu->guest_lstar = cfg.lstar;
	vcpu->guest_star = cfg.star;
	vcpu->guest_sfmask = cfg.sfmask;
	guest_bases_init(vcpu);
	/* 0 once the VPIDs are used up: the vCPU runs without one. */
	r = vpid_alloc();
	if (r < 0)
		goto uncharge;
	vcpu->vpid = r;
	/* A recycled VPID may still tag another vCPU's translations. */
	vpid_flush_everywhere(vcpu->vpid);
	r = loaded_vmcs_alloc(&vcpu->vmcs);
	if (r)
		goto free_vpid;
	r = guest_cpu_alloc(vcpu);
	if (r)
		goto free_vmcs;

	preempt_disable();
	vcpu_load(vcpu);
	vcpu_setup_vmcs(vcpu, &cfg);
	preempt_enable();

	vcpu->owner = get_pid(task_pid(current));
	get_file(ctx_file);
	vcpu->ctx_file = ctx_file;
	fd = anon_inode_getfd("dune-vcpu", &vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* release() was not called: undo by hand */
		fput(ctx_file);
		put_pid(vcpu->owner);
		r = fd;
		goto free_vmcs;
	}
	return fd;

free_vmcs:
	loaded_vmcs_free(&vcpu->vmcs);
	guest_cpu_free(vcpu);
free_vpid:
	vpid_free(vcpu->vpid);
uncharge:
	acct_vcpu_uncharge(ctx, vcpu->acct_user);
free_vcpu:
	kfree(vcpu);
	return r;
}
