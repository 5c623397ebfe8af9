// SPDX-License-Identifier: MIT
/*
 * Signals that the guest's own instructions raise (a fault, a trap),
 * sent the way Linux's force_sig_fault sends them: a blocked or ignored
 * signal is reset to the default action first, so a fault can never be
 * lost or loop forever, and an unhandled one ends the process with the
 * status (and core dump) the same instruction gives natively.
 *
 * rt_tgsigqueueinfo to our own thread accepts any si_code, so the
 * program sees the siginfo Linux's trap code would have built.
 *
 * Host-loop code: raw system calls and general registers only (raw.h).
 */
#include <signal.h>

#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

void dune_force_signal(struct dune_thread *t, const struct dune_ksiginfo *info,
		       uint64_t trapno, uint64_t err, uint64_t cr2)
{
	struct dune_ksigaction sa;
	uint64_t bit = 1ull << (info->signo - 1), blocked = 0;

	/* What Linux keeps in thread.trap_nr, error_code and cr2. */
	t->sig_trapno = trapno;
	t->sig_err = err;
	t->sig_cr2 = cr2;
	dune_sys4(SYS_rt_sigaction, info->signo, 0, (long)&sa, sizeof(bit));
	dune_sys4(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&blocked,
		  sizeof(bit));
	if ((blocked & bit) || sa.handler == SIG_IGN) {
		/* The program's table too: sigaction shows SIG_DFL after. */
		dune_sig_set_default(info->signo);
		dune_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&bit, 0,
			  sizeof(bit));
	}
	dune_sys4(SYS_rt_tgsigqueueinfo, dune_sys0(SYS_getpid),
		  dune_sys0(SYS_gettid), info->signo, (long)info);
}

DUNE_NOFPU_END
