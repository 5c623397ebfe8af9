// SPDX-License-Identifier: MIT
/*
 * The host loop's half of turning guest exceptions into signals, and the
 * check of where a VMCALL came from.
 *
 * A VMCALL exit is a system call only from dune_syscall_stub; from
 * dune_exc_hypercall (with DUNE_HC_EXCEPTION in rax and an exception
 * armed by the trap handler) it hands over an exception; from anywhere
 * else the program executed VMCALL itself, which a CPU outside VMX
 * non-root operation refuses with #UD: SIGILL, as natively.  So neither
 * the program's own VMCALL nor a system call with the private number
 * (ENOSYS, like any unknown number) can pass for either, and any other
 * libdune VMCALL site must be recognised before dune_exc_vmcall.
 *
 * For an exception, the guest is put back exactly where it faulted: the
 * registers from the frame on the trap stack (the trap handler's frame
 * is abandoned; the next trap starts again at the stack's top), and the
 * FPU state untouched since the faulting instruction.  Then the signal
 * goes out with force_sig semantics (sigforce.c).
 *
 * Host-loop code: raw system calls and general registers only (raw.h).
 */
#include <signal.h>

#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

/* VMCALL is 0f 01 c1 (SDM vol. 3 31.3); dune.ko resumes after it. */
#define VMCALL_LEN 3

static void send(struct dune_thread *t, const struct dune_excsig *s)
{
	dune_force_signal(t, &s->info, s->trapno, s->err,
			  s->has_cr2 ? s->cr2 : t->sig_cr2);
}

/* The trap handler's frame: always at the top of the trap stack. */
static void exception(struct dune_thread *t)
{
	const struct dune_tf *tf =
		(const struct dune_tf *)t->ist_top[DUNE_IST_TRAP - 1] - 1;
	struct dune_excsig s;

	dune_copy(&s, &t->exc, sizeof(s));
	t->exc_armed = false;
	dune_tf_to_regs(tf, &t->run.regs);
	send(t, &s);
}

/* The program's own VMCALL: #UD on the instruction. */
static void program_vmcall(struct dune_thread *t)
{
	struct dune_exc e;
	struct dune_excsig s;

	t->run.regs.rip -= VMCALL_LEN;
	dune_bzero(&e, sizeof(e));
	e.vector = DUNE_TRAP_UD;
	e.rip = t->run.regs.rip;
	if (dune_exc_signal(&e, &s) == DUNE_EXC_SIGNAL)
		send(t, &s);
}

bool dune_exc_vmcall(struct dune_thread *t)
{
	const struct dune_regs *r = &t->run.regs;

	if (r->rip == (uint64_t)dune_syscall_stub_ret)
		return false;
	if (r->rip == (uint64_t)dune_exc_hypercall_ret &&
	    r->rax == DUNE_HC_EXCEPTION && t->exc_armed)
		exception(t);
	else
		program_vmcall(t);
	return true;
}

DUNE_NOFPU_END
