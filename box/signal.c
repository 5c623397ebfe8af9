// SPDX-License-Identifier: MIT
/*
 * dune-box: signal handlers at ring 3, delivered as Linux delivers them to
 * a native process (docs/sandbox.md, "Signals").
 *
 * Linux keeps the mask, the pending sets and the queueing: the program's
 * rt_sigaction goes to libdune's table (dune_user_sigaction), so the
 * kernel runs libdune's trampoline for a handled signal, with the
 * program's SA_RESTART and the other flags the kernel acts on, and the
 * trampoline queues it for this thread.  The monitor takes the queue
 * (dune_user_sig_deliver, libdune's frame code) whenever ring 3 is about
 * to resume: at the end of every ring-3 system call, after an exception,
 * and on DUNE_VEC_USER_SIGNAL, which libdune injects when a signal came
 * while ring 3 was computing.  rt_sigreturn and sigaltstack are libdune's
 * too; every frame byte ring 0 reads or writes is checked here first
 * (box_sig_owns): ring 3 can only make the monitor touch its own memory.
 *
 * A fault or trap at ring 3 becomes the signal with the native siginfo
 * (force_sig: blocked or ignored means the default action, death).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "monitor-int.h"
#include "sig.h"
#include "../libdune/internal.h"

static bool box_sig_owns(uint64_t addr, uint64_t len, int prot)
{
	return box_mem_owns(box_mon.mem, addr, len, prot);
}

/* The calling sandbox thread's: its altstack is its own. */
static struct dune_user_sig *ops(void)
{
	static __thread struct dune_user_sig u;

	u.owns = box_sig_owns;
	u.altstack = &box_self()->altstack;
	return &u;
}

long box_sig_action(struct box_ctx *c)
{
	uint64_t act[4], old[4];
	int sig = c->a[0];
	long r;

	/* The kernel's order: the size, act's copy, the signal, oldact. */
	if (c->a[3] != sizeof(uint64_t))
		return -EINVAL;
	if (c->a[1]) {
		if (!box_sig_owns(c->a[1], sizeof(act), PROT_READ))
			return -EFAULT;
		memcpy(act, (const void *)c->a[1], sizeof(act));
	}
	r = dune_user_sigaction(sig, c->a[1] ? act : NULL,
				c->a[2] ? old : NULL, sizeof(uint64_t));
	if (r)
		return r;
	/* act was read first: oldact may be the same buffer */
	if (c->a[2]) {
		if (!box_sig_owns(c->a[2], sizeof(old), PROT_WRITE))
			return -EFAULT;
		memcpy((void *)c->a[2], old, sizeof(old));
	}
	if (c->a[1] && sig >= 1 && sig <= 64)
		memcpy(&box_mon.act[sig], act, sizeof(act));
	return 0;
}

long box_sig_altstack(struct box_ctx *c)
{
	stack_t ss, old;
	long r;

	/* both checked by the table (OINF, OOUTF); ss copied first */
	if (c->a[0])
		memcpy(&ss, (const void *)c->a[0], sizeof(ss));
	r = dune_user_sigaltstack(ops(), c->tf->rsp, c->a[0] ? &ss : NULL,
				  &old);
	if (r)
		return r;
	if (c->a[1])
		memcpy((void *)c->a[1], &old, sizeof(old));
	return 0;
}

long box_sig_return(struct box_ctx *c)
{
	return dune_user_sigreturn(c->tf, ops());
}

void box_sig_after_call(struct dune_tf *tf)
{
	dune_user_sig_deliver(tf, ops());
}

/* DUNE_VEC_USER_SIGNAL: a signal came while ring 3 ran. */
static void box_sig_intr(struct dune_tf *tf)
{
	dune_user_sig_deliver(tf, ops());
}

void box_sig_start(void)
{
	/*
	 * Stays registered after the run: the program's handlers are ring-3
	 * code and must never run at ring 0, not even after it ended.
	 */
	dune_register_user_signal_handler(box_sig_intr);
}

int box_sig_exception(struct dune_tf *tf, const struct dune_excsig *s)
{
	return dune_user_sig_fault(tf, (const siginfo_t *)&s->info, s->trapno,
				   s->err, s->has_cr2 ? &s->cr2 : NULL, ops());
}

int box_sig_page_fault(struct dune_tf *tf, uint64_t addr, uint64_t fec)
{
	struct dune_ksiginfo info;
	int prot = box_mem_prot_at(box_mon.mem, addr);
	bool owned = prot >= 0 && !(prot & BOX_MEM_RESERVED);

	/*
	 * Natively only the program's own mappings exist: a page it does
	 * not own (the monitor's among them) is not mapped at all, and
	 * neither is one it unmapped (a reservation here, no VMA there):
	 * SEGV_MAPERR.  A mapping without the access is SEGV_ACCERR.
	 */
	memset(&info, 0, sizeof(info));
	info.signo = SIGSEGV;
	info.code = owned ? SEGV_ACCERR : SEGV_MAPERR;
	info.addr = addr;
	if (!owned)
		fec &= ~(uint64_t)FEC_P;
	return dune_user_sig_fault(tf, (const siginfo_t *)&info,
				   DUNE_TRAP_PF, fec, &addr, ops());
}
