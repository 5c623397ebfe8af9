// SPDX-License-Identifier: MIT
/*
 * dune-box: threads and the other CLONE_VM children of the sandbox
 * (docs/sandbox.md, "Threads").
 *
 *  - A thread (CLONE_THREAD): the monitor makes a thread of its own
 *    with pthread_create, from the handler.  Its clone goes through
 *    libdune's host loop like any Dune thread's (libdune/clone.c): a
 *    Linux thread with its own vCPU, host stack and trap stacks, and
 *    glibc TLS of its own for the monitor's C code (errno, box_cur).
 *    It writes the tids the flags ask for, then switches to the
 *    sandbox's root and enters ring 3 with the parent's registers
 *    (rax 0, the child's stack, the TLS argument as FS base).
 *  - A vfork child (CLONE_VM | CLONE_VFORK, posix_spawn's): a raw clone
 *    from the handler onto a stack of the monitor's; libdune gives the
 *    child process its own vCPU; Linux suspends the parent until the
 *    child execs or exits, so the child may use the parent's monitor TLS
 *    meanwhile (as a C library's vfork child does).
 *  - Other CLONE_VM children, which would run beside their parent on
 *    its TLS, are refused.
 *
 * Sandbox memory is read and written by the monitor only under the
 * memory lock (box_lock_read); memory calls take it for writing.
 */
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "monitor-int.h"
#include "proc.h"
#include "thread.h"
#include "../libdune/internal.h"

/* What the monitor's own threads are given: the flags glibc uses. */
#define THREAD_NEED (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
		     CLONE_THREAD | CLONE_SYSVSEM)
/* Emulated on sandbox memory, or without effect on a thread. */
#define THREAD_EMUL (CLONE_SETTLS | CLONE_PARENT_SETTID | \
		     CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | \
		     CLONE_DETACHED | CLONE_UNTRACED)
/*
 * What a vfork child may ask for: Linux does it (tid pointers are
 * checked first), but its TLS is ring 3's FS base.
 */
#define VFORK_PASS (CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_FS | \
		    CLONE_FILES | CLONE_SIGHAND | CLONE_PARENT_SETTID | \
		    CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | \
		    CLONE_UNTRACED | CLONE_SYSVSEM)

/* How a child's ring-3 run ended (dune_ret_from_user's value). */
enum { RUN_END = 0, RUN_THREAD_EXIT = 1 };

/* The monitor's stack for a vfork child until it enters ring 3. */
#define VFORK_STACK (64u << 10)

enum { KIND_MAIN = 0, KIND_THREAD, KIND_VFORK };

/* One new sandbox thread or vfork child, while it starts. */
struct spawn {
	struct box_thread bt;	/* first: the child's box_cur */
	struct dune_tf tf;	/* ring 3's registers at the start */
	uint64_t fs;		/* ring 3's FS base */
	uint64_t gs;		/* and GS base: the parent's, as clone copies it */
	uint64_t flags, ptid, ctid;
	uint32_t mxcsr;
	uint16_t fcw;
	int *started;		/* futex the parent waits on: the tid */
};

static pthread_rwlock_t mem_lock = PTHREAD_RWLOCK_INITIALIZER;
/* Sandbox threads alive besides the main one (vfork children aside). */
static int others;
/* The sandbox is ending: the monitor lets no call through any more. */
static int ending;

void box_lock_read(void)
{
	struct box_thread *t = box_self();

	if (t->lock_held)
		return;
	pthread_rwlock_rdlock(&mem_lock);
	t->lock_held = 1;
}

void box_lock_write(void)
{
	struct box_thread *t = box_self();

	if (t->lock_held == 2)
		return;
	if (t->lock_held)
		pthread_rwlock_unlock(&mem_lock);
	pthread_rwlock_wrlock(&mem_lock);
	t->lock_held = 2;
}

void box_unlock(void)
{
	struct box_thread *t = box_self();

	if (!t->lock_held)
		return;
	t->lock_held = 0;
	pthread_rwlock_unlock(&mem_lock);
}

bool box_thread_is_vfork_child(void)
{
	return box_self()->kind == KIND_VFORK;
}

void box_thread_after_fork(void)
{
	static const pthread_rwlock_t fresh = PTHREAD_RWLOCK_INITIALIZER;

	memcpy(&mem_lock, &fresh, sizeof(mem_lock));
	box_self()->lock_held = 0;
	box_self()->kind = KIND_MAIN;
	/* Linux's fork child has no robust list (glibc registers anew) */
	box_robust_after_fork();
	others = 0;
	ending = 0;
}

static long sys(long nr, uint64_t a, uint64_t b, uint64_t c)
{
	return dune_sys6(nr, a, b, c, 0, 0, 0);
}

static bool owns_rw(uint64_t p, uint64_t len)
{
	return box_mem_owns(box_mon.mem, p, len, PROT_READ | PROT_WRITE);
}

/* A tid into sandbox memory, as Linux's put_user: ignored if it faults. */
static void put_tid(uint64_t p, int tid)
{
	if (owns_rw(p, sizeof(int)))
		*(volatile int *)p = tid;
}

void box_thread_gate(void)
{
	if (!__atomic_load_n(&ending, __ATOMIC_ACQUIRE) ||
	    box_self()->kind == KIND_VFORK)
		return;
	/*
	 * The thread that ends the sandbox is on its way to exit_group,
	 * which kills this one wherever it is: here, before its call.
	 */
	for (;;)
		sys(SYS_pause, 0, 0, 0);
}

/* Mark the sandbox ending; the first asker's status wins. */
static void set_ending(int status)
{
	int expect = 0;

	/*
	 * The main thread alone: nobody to stop, and nothing left behind
	 * for a later box_run in this process (the in-process tests).
	 */
	if (box_self()->kind == KIND_MAIN &&
	    !__atomic_load_n(&others, __ATOMIC_ACQUIRE)) {
		box_mon.status = status;
		return;
	}

	if (__atomic_compare_exchange_n(&ending, &expect, 1, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		box_mon.status = status;
	else
		box_thread_gate();	/* someone else ends it: wait for that */
}

/*
 * Enter ring 3 for a new child on the sandbox's root: the parent's
 * MXCSR and x87 control word, as Linux copies the FPU state.  Returns
 * how the run ended.
 */
static int run_child(struct spawn *s)
{
	int r;

	r = dune_vm_switch(box_mem_root(box_mon.mem));
	if (r)
		return r;
	dune_set_user_fs(s->fs);
	dune_set_user_gs(s->gs);
	__asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(s->mxcsr),
			 "m"(s->fcw));
	return dune_jump_to_user(&s->tf);
}

/* A sandbox thread, on a monitor thread of its own. */
static void *thread_main(void *arg)
{
	struct spawn *s = arg;
	int tid = sys(SYS_gettid, 0, 0, 0), *started = s->started;
	int r;

	box_cur = &s->bt;
	box_lock_read();
	if (s->flags & CLONE_PARENT_SETTID)
		put_tid(s->ptid, tid);
	if (s->flags & CLONE_CHILD_SETTID)
		put_tid(s->ctid, tid);
	box_unlock();
	/* From here on the parent's frame is gone: no touching it. */
	__atomic_store_n(started, tid, __ATOMIC_RELEASE);
	sys(SYS_futex, (uint64_t)started, FUTEX_WAKE_PRIVATE, 1);

	r = run_child(s);
	if (r == RUN_THREAD_EXIT) {
		free(s);
		return NULL;	/* glibc ends the Linux thread */
	}
	/*
	 * The end of the sandbox, asked here (box_thread_end: exit_group,
	 * a kill, a fatal exception), or a start that failed: natively the
	 * child would fault at once.
	 */
	if (r < 0)
		set_ending(SIGSEGV);
	box_exit_like(box_mon.status);
}

/* The vfork child, on the monitor's stack from vfork_clone. */
static __attribute__((noreturn)) void vfork_main(void *arg)
{
	struct spawn *s = arg;
	int r;

	/* The parent is suspended: its TLS is ours until we exec or exit. */
	box_cur = &s->bt;
	r = run_child(s);
	/* Every end goes through box_thread_end; a start that failed: */
	(void)r;
	dune_die_signal(SIGSEGV);
}

/* The child's registers: the parent's after its syscall, rax 0. */
static void child_regs(struct spawn *s, const struct box_ctx *c,
		       uint64_t stack, uint64_t tls)
{
	const uint8_t *fx = dune_cur_thread()->fpu_area;

	s->tf = *c->tf;
	/* as Linux's sysret leaves them (dune_user_syscall's convention) */
	s->tf.r10 = c->tf->rcx;
	s->tf.rcx = c->tf->rip;
	s->tf.r11 = c->tf->rflags;
	s->tf.rax = 0;
	if (stack)
		s->tf.rsp = stack;
	s->fs = (s->flags & CLONE_SETTLS) ? tls : dune_get_user_fs();
	s->gs = dune_get_user_gs();
	/* ring 3's FPU state, saved by the trap entry (fxsave layout) */
	memcpy(&s->fcw, fx, sizeof(s->fcw));
	memcpy(&s->mxcsr, fx + 24, sizeof(s->mxcsr));
	s->bt.altstack.ss_flags = SS_DISABLE;
}

static long thread_clone(struct box_ctx *c, struct spawn *s)
{
	pthread_attr_t attr;
	pthread_t th;
	int started = 0, r;

	/* Linux ignores a thread's exit signal (clone; clone3 refuses it) */
	if ((s->flags & THREAD_NEED) != THREAD_NEED ||
	    (s->flags & ~(THREAD_NEED | THREAD_EMUL | CSIGNAL))) {
		c->refusal = "clone flags for a thread the monitor cannot give";
		free(s);
		return -ENOSYS;
	}
	s->bt.kind = KIND_THREAD;
	s->started = &started;
	if (s->flags & CLONE_CHILD_CLEARTID)
		s->bt.clear_child_tid = s->ctid;
	box_unlock();
	__atomic_add_fetch(&others, 1, __ATOMIC_ACQ_REL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256u << 10);
	r = pthread_create(&th, &attr, thread_main, s);
	pthread_attr_destroy(&attr);
	if (r) {
		__atomic_sub_fetch(&others, 1, __ATOMIC_ACQ_REL);
		free(s);
		return -r;
	}
	while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
		sys(SYS_futex, (uint64_t)&started, FUTEX_WAIT_PRIVATE, 0);
	return started;
}

static long vfork_clone(struct box_ctx *c, struct spawn *s)
{
	struct box_thread *self = box_self();
	uint64_t lflags = s->flags & ~CLONE_SETTLS;
	char *stack;
	long r;

	if (lflags & ~VFORK_PASS) {
		c->refusal = "clone flags for a vfork child the monitor cannot give";
		return -ENOSYS;
	}
	/* Linux writes these: only into the sandbox's memory. */
	if (((lflags & CLONE_PARENT_SETTID) && !owns_rw(s->ptid, 4)) ||
	    ((lflags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) &&
	     !owns_rw(s->ctid, 4)))
		return -EFAULT;
	stack = malloc(VFORK_STACK);
	if (!stack)
		return -ENOMEM;
	s->bt.kind = KIND_VFORK;
	/* The child takes the lock itself; we wait for it in Linux. */
	box_unlock();
	r = dune_raw_clone(lflags, stack + VFORK_STACK, (int *)s->ptid,
			   (int *)s->ctid, 0, vfork_main, s);
	/* The child ran on our TLS. */
	box_cur = self;
	free(stack);
	return r;
}

int64_t box_clone_flags(struct box_ctx *c)
{
	uint64_t flags;

	if (c->nr == SYS_clone)
		return c->a[0] & 0xffffffffu;	/* int flags in the kernel ABI */
	box_lock_read();
	if (c->a[1] < CLONE_ARGS_SIZE_VER0 ||
	    !box_mem_owns(box_mon.mem, c->a[0], 8, PROT_READ)) {
		box_unlock();
		return -1;
	}
	flags = *(const volatile uint64_t *)c->a[0];
	box_unlock();
	return flags;
}

/* clone3 of a CLONE_VM child: what the monitor does not give one. */
static long read_clone3(struct box_ctx *c, struct clone_args *ka)
{
	size_t size;
	long r = box_clone3_read(c, ka, &size);

	if (r)
		return r;
	if (ka->set_tid) {
		c->refusal = "clone3 with set_tid";
		return -ENOSYS;
	}
	if (ka->flags & (CLONE_PIDFD | CLONE_INTO_CGROUP)) {
		c->refusal = "clone3 with a pidfd or a cgroup";
		return -ENOSYS;
	}
	return 0;
}

long box_clone(struct box_ctx *c)
{
	struct spawn *s;
	uint64_t stack, tls;
	long r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	box_lock_read();
	if (c->nr == SYS_clone3) {
		struct clone_args ka;

		r = read_clone3(c, &ka);
		if (r) {
			box_unlock();
			free(s);
			return r;
		}
		s->flags = ka.flags | ka.exit_signal;
		s->ptid = ka.parent_tid;
		s->ctid = ka.child_tid;
		stack = ka.stack ? ka.stack + ka.stack_size : 0;
		tls = ka.tls;
	} else {
		/* clone(flags, stack, parent_tid, child_tid, tls) */
		s->flags = c->a[0] & 0xffffffffu;
		stack = c->a[1];
		s->ptid = c->a[2];
		s->ctid = c->a[3];
		tls = c->a[4];
	}
	/* clone3's flags were read once before: another thread may flip them */
	if (!(s->flags & CLONE_VM)) {
		box_unlock();
		free(s);
		c->refusal = "clone3 flags changed during the call";
		return -ENOSYS;
	}
	/*
	 * Linux's own checks: the combination (copy_process), and the TLS
	 * base (do_arch_prctl_64's, EPERM); a non-canonical base would make
	 * the return to ring 3 fault at ring 0.
	 */
	if ((s->flags & CLONE_SETTLS) && tls >= BOX_USER_END) {
		box_unlock();
		free(s);
		return -EPERM;
	}
	if (((s->flags & CLONE_THREAD) && !(s->flags & CLONE_SIGHAND)) ||
	    ((s->flags & CLONE_SIGHAND) && !(s->flags & CLONE_VM))) {
		box_unlock();
		free(s);
		return -EINVAL;
	}
	child_regs(s, c, stack, tls);
	if (s->flags & CLONE_THREAD)
		return thread_clone(c, s);	/* frees s if it fails */
	if (s->flags & CLONE_VFORK) {
		r = vfork_clone(c, s);
		box_unlock();
		free(s);
		return r;
	}
	box_unlock();
	free(s);
	c->refusal = "a CLONE_VM child that is neither a thread nor vfork's";
	return -ENOSYS;
}

/* Linux's mm_release for CLONE_CHILD_CLEARTID. */
static void clear_child_tid(struct box_thread *t)
{
	uint64_t p = t->clear_child_tid;

	if (!p)
		return;
	box_lock_read();
	if (owns_rw(p, sizeof(int))) {
		*(volatile int *)p = 0;
		box_unlock();
		sys(SYS_futex, p, FUTEX_WAKE, 1);
	}
	box_unlock();
}

void box_thread_exit(struct box_ctx *c)
{
	struct box_thread *t = box_self();
	int code = c->a[0] & 0xff;

	box_unlock();
	box_robust_exit();
	switch (t->kind) {
	case KIND_VFORK:
		/* Linux clears its child tid: it was given the pointer */
		for (;;)
			sys(SYS_exit, code, 0, 0);
	case KIND_THREAD:
		clear_child_tid(t);
		__atomic_sub_fetch(&others, 1, __ATOMIC_ACQ_REL);
		dune_ret_from_user(RUN_THREAD_EXIT);
	}
	clear_child_tid(t);
	if (!__atomic_load_n(&others, __ATOMIC_ACQUIRE)) {
		/* the last thread: the sandbox's end, as before */
		box_thread_end(code << 8);
	}
	/*
	 * The main thread leaves, the others go on; the process's status
	 * will be this thread's, as Linux takes the group leader's.
	 */
	for (;;)
		sys(SYS_exit, code, 0, 0);
}

void box_thread_end(int status)
{
	struct box_thread *t = box_self();

	box_unlock();
	if (t->kind == KIND_VFORK) {
		/* its own process: just its own list */
		box_robust_exit();
		if (status & 0x7f)
			dune_die_signal(status & 0x7f);
		for (;;)
			sys(SYS_exit_group, (status >> 8) & 0xff, 0, 0);
	}
	/*
	 * Natively each thread of the group walks its own list as it dies.
	 * Ours first; the others once set_ending has stopped them at their
	 * next call (it does not return if another thread ends the run).
	 */
	box_robust_exit();
	set_ending(status);
	box_robust_exit_group();
	dune_ret_from_user(RUN_END);
}
