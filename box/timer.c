// SPDX-License-Identifier: MIT
/*
 * dune-box: POSIX timers (timer_create's struct sigevent).
 *
 * The sigevent is copied into monitor memory before anything in it is
 * looked at, and Linux gets the copy: another sandbox thread cannot
 * change the notification between the check and the call.  Nothing in
 * it is a pointer Linux follows (sigev_value comes back in the siginfo
 * as it was; SIGEV_THREAD's function and attributes are the C library's
 * business, and Linux treats SIGEV_THREAD as SIGEV_SIGNAL).  The timer
 * id Linux writes is an int (the table checks it).
 *
 * SIGEV_THREAD_ID names the thread the signal goes to: it must be a
 * thread of this sandbox.  Every thread of the dune-box process is one
 * (thread.c makes no others; a vfork child is a process of its own), so
 * that is Linux's own rule, "a thread of the caller's thread group",
 * checked here too so that it does not rest on thread.c alone: a tid
 * that is not one is EINVAL, the native answer.
 *
 * The signals then come as any other (signal.c): to the ring-3 handler
 * with the siginfo Linux made (SI_TIMER, si_timerid, si_overrun,
 * si_value).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "monitor-int.h"
#include "timer.h"

int box_timer_check(struct box_ctx *c)
{
	struct sigevent *sev = &c->sev;
	long pid;

	if (c->nr != SYS_timer_create || !c->a[1])
		return 0;	/* NULL: SIGALRM to the process */
	if (!box_mem_owns(box_mon.mem, c->a[1], sizeof(*sev), PROT_READ))
		return -EFAULT;
	memcpy(sev, (const void *)c->a[1], sizeof(*sev));
	c->x[1] = (uint64_t)sev;
	if (sev->sigev_notify != (SIGEV_SIGNAL | SIGEV_THREAD_ID))
		return 0;	/* Linux checks the rest */
	pid = dune_sys6(SYS_getpid, 0, 0, 0, 0, 0, 0);
	if (sev->_sigev_un._tid <= 0 ||
	    dune_sys6(SYS_tgkill, pid, sev->_sigev_un._tid, 0, 0, 0, 0))
		return -EINVAL;
	return 0;
}
