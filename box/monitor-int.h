/* SPDX-License-Identifier: MIT */
/* dune-box monitor internals shared by monitor.c, monmem.c, run.c, log.c. */
#ifndef BOX_MONITOR_INT_H
#define BOX_MONITOR_INT_H

#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/timex.h>
#include <sys/uio.h>

#include "../libdune/dune.h"
#include "../libdune/raw.h"
#include "mem.h"
#include "monitor.h"
#include "policy.h"
#include "systab.h"

#define BOX_PG 4096ull
#define BOX_USER_END ((1ull << 47) - BOX_PG)
#define BOX_PAGE_UP(x) (((x) + BOX_PG - 1) & ~(BOX_PG - 1))

/*
 * One ring-3 system call while the monitor works on it.  Copies of
 * paths and of structures holding pointers live here (monitor memory);
 * x[] is what Linux gets.  One per sandbox thread (one thread for now).
 */
struct box_ctx {
	long nr;
	uint64_t a[6];		/* as ring 3 passed them */
	uint64_t x[6];		/* what Linux gets (copies substituted) */
	uint64_t rip;		/* the call site */
	struct dune_tf *tf;	/* ring 3's registers (rip past the call) */
	const struct box_sysent *e;
	struct box_call call;	/* for the policy */
	char path[2][PATH_MAX];
	struct iovec iov[IOV_MAX];
	struct msghdr msg;
	uint64_t msg_user;	/* the sandbox's msghdr (recvmsg copy-back) */
	uint64_t pselect_arg[2];
	struct sigevent sev;	/* timer_create's (timer.c) */
	struct timex tx;	/* adjtimex's, clock_adjtime's (calls.c) */
	struct __user_cap_header_struct caph;	/* capget's, capset's */
	struct box_decision d;
	const char *refusal;	/* the monitor's own reason, if it refused */
	long ret;
};

/*
 * What the monitor keeps for one sandbox thread (Linux keeps the rest:
 * tid, signal mask, pending signals).  box_self() is the calling
 * thread's; the monitor's C code runs on the thread's own TLS.
 */
struct box_thread {
	struct box_ctx ctx;		/* the call being worked on */
	stack_t altstack;		/* ring 3's sigaltstack */
	uint64_t robust_head, robust_len, clear_child_tid;
	struct box_thread *robust_next;	/* robust.c: threads with a list */
	int robust_tid;
	bool robust_listed;
	int kind;			/* thread.c: main, thread, vfork child */
	int lock_held;			/* thread.c: the memory lock, 1 read, 2 write */
};

struct box_mon {
	struct box_mem *mem;
	const struct box_policy *pol;
	struct box_monitor_opts o;
	uint64_t brk_start, brk_cur, brk_max;
	bool prepared;			/* box_run_prepare done for mem */
	int status;			/* wait status at the end */
	struct { uint64_t handler, flags, restorer, mask; } act[65];
	unsigned long calls[512][3];	/* by verdict: allowed, denied, killed */
	unsigned long unknown_calls;
	uint64_t deny_sites[256];	/* call sites already reported */
};

extern struct box_mon box_mon;
/* The main thread's state, made by box_run_prepare. */
extern struct box_thread box_main_thread;
extern __thread struct box_thread *box_cur;

static inline struct box_thread *box_self(void)
{
	return box_cur;
}

/* monitor.c */
void box_monitor_syscall(struct dune_tf *tf);

/* monmem.c: the memory calls and brk; -errno or the result */
long box_mem_call(struct box_ctx *c);
/* Reserve the address space the brk heap grows into (box_mon.brk_max). */
void box_brk_reserve(void);

/* log.c */
const char *box_sysname(long nr);
void box_log_call(const struct box_ctx *c);
void box_log_deny(struct box_ctx *c);
struct dune_stats;
void box_log_stats(const struct dune_stats *before,
		   const struct dune_stats *after);

#endif
