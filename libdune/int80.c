// SPDX-License-Identifier: MIT
/*
 * int $0x80 from 64-bit code: Linux's 32-bit system call ABI (eax = the
 * i386 number, ebx, ecx, edx, esi, edi, ebp the arguments), which a
 * native 64-bit process may use.  In Dune mode the instruction reaches
 * vector 0x80 of the guest IDT (DPL 0, so ring 0 only); the trap handler
 * asks the host loop, which executes a real `int $0x80` with the same
 * registers and puts every register back as the kernel left it.  So the
 * kernel runs its compat table, seccomp sees AUDIT_ARCH_I386, a kernel
 * without ia32 emulation raises the same SIGSEGV, and the program resumes
 * after the 2-byte instruction (the trap frame's RIP) as natively.
 *
 * The i386 calls that make or end threads and processes (exit, fork,
 * vfork, clone) cannot run in the host loop: they go through libdune's
 * forwarded 64-bit calls instead (fork and vfork as fork, as hostsys.c
 * does), and a clone that would share the address space, load TLS or
 * switch stacks is refused with ENOSYS.
 */
#include <errno.h>
#include <sched.h>

#include "internal.h"
#include "raw.h"

/* i386 numbers (the kernel's arch/x86/entry/syscalls/syscall_32.tbl). */
#define IA32_NR_EXIT	1
#define IA32_NR_FORK	2
#define IA32_NR_CLONE	120
#define IA32_NR_VFORK	190

#define INT80_VECTOR	0x80
#define INT80_OPCODE	0x80cd		/* cd 80, little-endian */

void dune_int80_vmcall(struct dune_tf *tf);
extern char dune_int80_vmcall_ret[];
void dune_native_int80(struct dune_tf *tf);

DUNE_NOFPU_BEGIN

bool dune_int80_trap(const struct dune_tf *tf)
{
	/*
	 * Only ring 0 can raise the vector with `int` (DPL 0); an injected
	 * signal vector (DUNE_SIGNAL_VECTOR(64) is 0x80) has a handler, or
	 * else does not come after the instruction's two bytes.
	 */
	return tf->vector == INT80_VECTOR && !(tf->cs & 3) &&
	       *(const uint16_t *)(tf->rip - 2) == INT80_OPCODE;
}

/* The guest's trap handler for int $0x80 (trap.c). */
void dune_int80(struct dune_tf *tf)
{
	uint32_t flags = tf->rbx;
	long r;

	switch ((uint32_t)tf->rax) {
	case IA32_NR_EXIT:
		dune_sys1(SYS_exit, (int)tf->rbx);
		return;
	case IA32_NR_FORK:
	case IA32_NR_VFORK:
		/* The child resumes here too, with 0, on its copy of tf. */
		tf->rax = dune_sys0(SYS_fork);
		return;
	case IA32_NR_CLONE:
		if ((flags & (CLONE_VM | CLONE_SETTLS | CLONE_VFORK)) ||
		    (uint32_t)tf->rcx) {
			tf->rax = -ENOSYS;
			return;
		}
		/* i386 order: flags, stack, parent_tid, tls, child_tid */
		r = dune_sys6(SYS_clone, flags, 0, (uint32_t)tf->rdx,
			      (uint32_t)tf->rdi, 0, 0);
		tf->rax = r;
		return;
	default:
		dune_int80_vmcall(tf);
		return;
	}
}

/*
 * The host loop, for a VMCALL exit: is it dune_int80_vmcall's?  Then
 * run the instruction on the trap frame, which sits right below the
 * top of the thread's trap stack (handlers do not nest).
 */
bool dune_host_int80(struct dune_thread *t)
{
	struct dune_tf *tf = (struct dune_tf *)t->ist_top[DUNE_IST_TRAP - 1] - 1;

	if (t->run.regs.rip != (uint64_t)dune_int80_vmcall_ret ||
	    t->run.regs.rdi != (uint64_t)tf)
		return false;
	dune_native_int80(tf);
	return true;
}

DUNE_NOFPU_END
