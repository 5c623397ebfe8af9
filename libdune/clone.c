// SPDX-License-Identifier: MIT
/*
 * The guest's clone, clone3, fork, vfork and exit (called by hostsys.c).
 *
 *  - CLONE_VM (threads, vfork children, raw CLONE_VM children): the
 *    child starts on a fresh host stack (the block of thread.c) and
 *    makes its own vCPU from the parent's registers, so it continues in
 *    Dune mode; its guest stack is the one the program asked for.
 *  - Without CLONE_VM (fork-like): the child runs on its copy of this
 *    host stack and gets its own /dev/dune and vCPU (fork_child).
 *  - clone3: the kernel checks the program's struct clone_args itself:
 *    we pass a copy with only the stack replaced (the host stack for a
 *    CLONE_VM child, none for a fork-like one), so flags, exit_signal,
 *    set_tid, cgroup, pidfd and size errors are the kernel's own.
 *  - Blocks of CLONE_VM children that are neither threads nor vfork
 *    children: such a child may end by exit_group or a signal, when it
 *    cannot free its own block.  Its creator keeps it in vm_children
 *    and frees it once the child is gone (reap_vm_children).
 *
 * Host-loop code: raw system calls and general registers only (raw.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "internal.h"
#include "raw.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLONE_ARGS_SIZE_VER0
#define CLONE_ARGS_SIZE_VER0 64
#endif

/* The lowest TASK_SIZE_MAX (4-level paging): what access_ok allows. */
#define USER_VA_END ((1ul << 47) - DUNE_PAGE)

DUNE_NOFPU_BEGIN

static bool shares_files(const struct dune_thread *t)
{
	return !(t->flags & DUNE_THREAD_OWN_FILES);
}

/*
 * CLONE_VM children that are neither threads nor vfork children, whose
 * blocks their creator frees.  A slot goes FREE -> SETUP (the creator
 * fills it) -> LIVE -> BUSY (one reaper frees the block) -> FREE.  The
 * table lives in the shared memory, so every thread and CLONE_VM child
 * sees it; each reaps only the children of its own thread group (only
 * those can it ask waitid about).
 */
#define MAX_VM_CHILDREN 256

enum { VMC_FREE, VMC_SETUP, VMC_LIVE, VMC_BUSY };

struct vm_child {
	unsigned int state;
	int pid;
	int parent_tgid;
	struct dune_thread *t;
};

static struct vm_child vm_children[MAX_VM_CHILDREN];

static int claim_slot(void)
{
	unsigned int i, expect;

	for (i = 0; i < MAX_VM_CHILDREN; i++) {
		expect = VMC_FREE;
		if (__atomic_compare_exchange_n(&vm_children[i].state, &expect,
						VMC_SETUP, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return i;
	}
	return -1;
}

/*
 * A thread in a shared fd table that is killed (SIGKILL) after
 * DUNE_CREATE_VCPU installed its fd but before it could record the
 * number leaves an fd nobody knows.  Creators count themselves in
 * vcpu_creating around that window (DUNE_THREAD_CREATING says a thread
 * was inside); when a reaped child died inside, the unguarded dune-vcpu
 * fds are closed at a moment when no creator is inside the window: the
 * scanner raises orphan_scan, creators wait while it is up (a Dekker-like
 * handshake, sequentially consistent).  A creator killed between its
 * count and its flag leaves the count high: scans stop, nothing breaks.
 */
static unsigned int vcpu_creating, orphan_scan, orphan_suspects;

void dune_vcpu_fd_begin(struct dune_thread *t)
{
	for (;;) {
		__atomic_add_fetch(&vcpu_creating, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&orphan_scan, __ATOMIC_SEQ_CST))
			break;
		__atomic_sub_fetch(&vcpu_creating, 1, __ATOMIC_SEQ_CST);
		dune_sys0(SYS_sched_yield);
	}
	t->flags |= DUNE_THREAD_CREATING;
}

void dune_vcpu_fd_end(struct dune_thread *t)
{
	t->flags &= ~DUNE_THREAD_CREATING;
	__atomic_sub_fetch(&vcpu_creating, 1, __ATOMIC_SEQ_CST);
}

static bool is_vcpu_fd(long dirfd, const char *name)
{
	static const char want[] = "anon_inode:dune-vcpu";
	char buf[sizeof(want)];
	long n = dune_sys4(SYS_readlinkat, dirfd, (long)name, (long)buf,
			   sizeof(buf));
	unsigned int i;

	if (n != sizeof(want) - 1)
		return false;
	for (i = 0; i < n; i++)
		if (buf[i] != want[i])
			return false;
	return true;
}

static void close_orphan_fds(void)
{
	char buf[4096] __attribute__((aligned(8)));
	long dirfd, n, off;

	dirfd = dune_sys3(SYS_open, (long)"/proc/self/fd",
			  O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dirfd < 0)
		return;
	while ((n = dune_sys3(SYS_getdents64, dirfd, (long)buf,
			      sizeof(buf))) > 0) {
		for (off = 0; off < n;) {
			/* struct linux_dirent64: ino, off, reclen, type, name */
			const char *name = buf + off + 19, *p;
			long fd = 0;

			off += *(unsigned short *)(buf + off + 16);
			if (*name < '0' || *name > '9')
				continue;
			for (p = name; *p >= '0' && *p <= '9'; p++)
				fd = fd * 10 + (*p - '0');
			if (fd != dirfd && !dune_fdguard_has(fd) &&
			    is_vcpu_fd(dirfd, name))
				dune_sys1(SYS_close, fd);
		}
	}
	dune_sys1(SYS_close, dirfd);
}

static void reap_orphan_fds(void)
{
	if (!__atomic_load_n(&orphan_suspects, __ATOMIC_SEQ_CST) ||
	    __atomic_exchange_n(&orphan_scan, 1, __ATOMIC_SEQ_CST))
		return;
	if (!__atomic_load_n(&vcpu_creating, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&orphan_suspects, 0, __ATOMIC_SEQ_CST);
		close_orphan_fds();
	}
	__atomic_store_n(&orphan_scan, 0, __ATOMIC_SEQ_CST);
}

/*
 * Has the child ended (a zombie, or reaped already)?  WNOWAIT leaves the
 * zombie to the program, which waits for it as it would natively.
 */
static bool child_gone(int pid)
{
	struct dune_ksiginfo si;
	long r;

	dune_bzero(&si, sizeof(si));
	r = dune_sys6(SYS_waitid, P_PID, pid, (long)&si,
		      WEXITED | WNOHANG | WNOWAIT | __WALL, 0, 0);
	if (r == -ECHILD)
		return true;
	/* For SIGCHLD, si_pid comes first in the union (where si_addr is). */
	return r == 0 && (int)si.addr == pid;
}

void dune_reap_vm_children(void)
{
	int me = dune_sys0(SYS_getpid);
	unsigned int i, expect;

	for (i = 0; i < MAX_VM_CHILDREN; i++) {
		struct vm_child *s = &vm_children[i];
		struct dune_thread *c;

		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != VMC_LIVE ||
		    s->parent_tgid != me || !child_gone(s->pid))
			continue;
		expect = VMC_LIVE;
		if (!__atomic_compare_exchange_n(&s->state, &expect, VMC_BUSY,
						 false, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		c = s->t;
		/* A child killed in Dune mode left its vCPU in our table. */
		if (c->vcpu_fd >= 0 && shares_files(c)) {
			dune_fdguard_del(c->vcpu_fd);
			dune_sys1(SYS_close, c->vcpu_fd);
		}
		/* Killed while making it: count it out, find the fd later. */
		if (c->flags & DUNE_THREAD_CREATING) {
			__atomic_sub_fetch(&vcpu_creating, 1, __ATOMIC_SEQ_CST);
			if (shares_files(c))
				__atomic_add_fetch(&orphan_suspects, 1,
						   __ATOMIC_SEQ_CST);
		}
		dune_thread_free(c);
		__atomic_store_n(&s->state, VMC_FREE, __ATOMIC_RELEASE);
	}
	reap_orphan_fds();
}

/*
 * In a new process (fork): the blocks listed belong to the parent's
 * children; here they are copies nobody uses.  Only this thread runs.
 */
static void forget_vm_children(struct dune_thread *self)
{
	unsigned int i;

	for (i = 0; i < MAX_VM_CHILDREN; i++) {
		struct vm_child *s = &vm_children[i];

		if (s->state == VMC_LIVE && s->t != self)
			dune_thread_free(s->t);
		s->state = VMC_FREE;
	}
	self->flags &= ~DUNE_THREAD_REAPED;
	vcpu_creating = 0;
	orphan_scan = 0;
	orphan_suspects = 0;
}

/* A CLONE_VM child, on its new host stack: make a vCPU and go. */
static __attribute__((noreturn)) void clone_child(void *arg)
{
	struct dune_thread *c = arg;
	long fd;

	if (shares_files(c))
		dune_vcpu_fd_begin(c);
	fd = dune_vcpu_create(c);
	if (fd < 0)
		dune_die_errno("DUNE_CREATE_VCPU for a new thread", fd);
	fd = dune_fd_move_high(fd);
	c->vcpu_fd = fd;
	if (shares_files(c)) {
		dune_fdguard_add(fd);
		dune_vcpu_fd_end(c);
	}
	/* Without its own TLS, dune_self belongs to the parent. */
	if (c->flags & DUNE_THREAD_SETTLS)
		dune_self = c;
	dune_host_loop(c);
}

/*
 * @ka: clone3's arguments (our copy, @size bytes), or NULL for clone
 * with @ptid, @ctid, @tls.  @stack: the child's guest stack pointer, 0
 * for the parent's.
 */
static long clone_vm(struct dune_thread *t, unsigned long flags,
		     uint64_t stack, struct clone_args *ka, size_t size,
		     long ptid, long ctid, long tls)
{
	struct dune_thread *c;
	int slot = -1;
	long r;

	dune_reap_vm_children();
	c = dune_thread_alloc();
	if (!c)
		return -ENOMEM;
	/* The child resumes where the parent does, with rax = 0. */
	dune_copy(&c->run.regs, &t->run.regs, sizeof(c->run.regs));
	c->run.regs.rax = 0;
	if (stack)
		c->run.regs.rsp = stack;
	c->sig.sas.flags = SS_DISABLE;	/* a new thread has no altstack */
	if (flags & CLONE_VFORK) {
		c->flags |= DUNE_THREAD_VFORK;
		/* Linux keeps the altstack for a vfork child only. */
		c->sig.sas = t->sig.sas;
		if (!(flags & CLONE_SIGHAND))
			c->flags |= DUNE_THREAD_OWN_SIGHAND;
	}
	if (flags & CLONE_SETTLS)
		c->flags |= DUNE_THREAD_SETTLS;
	if (!(flags & CLONE_FILES))
		c->flags |= DUNE_THREAD_OWN_FILES;
	/*
	 * A thread frees its own block when it exits, and its exit_group
	 * or fatal signal ends the whole process; a vfork child's block is
	 * freed below.  Any other child may end without a chance to free
	 * its block: we keep it.  (CLONE_PARENT: not our child to ask.)
	 */
	if (!(flags & (CLONE_THREAD | CLONE_VFORK | CLONE_PARENT))) {
		slot = claim_slot();
		if (slot >= 0) {
			vm_children[slot].t = c;
			vm_children[slot].parent_tgid = dune_sys0(SYS_getpid);
			c->flags |= DUNE_THREAD_REAPED;
		}
	}
	if (ka) {
		ka->stack = (uint64_t)(c->host_stack_top - DUNE_HOST_STACK);
		ka->stack_size = DUNE_HOST_STACK;
		r = dune_raw_clone3(ka, size, clone_child, c);
	} else {
		r = dune_raw_clone(flags, c->host_stack_top, (int *)ptid,
				   (int *)ctid, tls, clone_child, c);
	}
	if (slot >= 0) {
		vm_children[slot].pid = r;
		__atomic_store_n(&vm_children[slot].state,
				 r > 0 ? VMC_LIVE : VMC_FREE, __ATOMIC_RELEASE);
	}
	/*
	 * After a vfork the child has exec'd or exited: its host stack in
	 * our address space is unused now.
	 */
	if (r < 0 || (flags & CLONE_VFORK))
		dune_thread_free(c);
	return r;
}

/* The new process of a fork: get our own /dev/dune and vCPU. */
static void fork_child(struct dune_thread *t, uint64_t stack)
{
	bool guarded_vcpu = dune_fdguard_has(t->vcpu_fd);
	bool guarded_dev = dune_fdguard_has(dune_proc.dev_fd);
	long fd, r;

	dune_close_inherited_fds(-1);
	if (!guarded_vcpu)
		dune_sys1(SYS_close, t->vcpu_fd);
	if (!guarded_dev)
		dune_sys1(SYS_close, dune_proc.dev_fd);
	t->vcpu_fd = -1;
	t->flags &= ~(DUNE_THREAD_VFORK | DUNE_THREAD_OWN_FILES);
	forget_vm_children(t);
	dune_stats_fork_child();

	fd = dune_sys3(SYS_open, (long)DUNE_DEVICE_PATH, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		dune_die_errno("opening " DUNE_DEVICE_PATH " in a fork child",
			       fd);
	fd = dune_fd_own(fd);
	dune_proc.dev_fd = fd;
	dune_proc.pid = dune_sys0(SYS_getpid);
	r = dune_slots_set(fd, NULL);
	if (r < 0)
		dune_die_errno("DUNE_SET_SLOT in a fork child", r);

	t->run.regs.rax = 0;
	if (stack)
		t->run.regs.rsp = stack;
	/*
	 * The vCPU starts on the root we were on (t->cr3), loaded with PCID
	 * 0, pgroot's: no generation matches ~0, so the next dune_vm_switch
	 * to any root flushes that root's PCID (vmapi.c).
	 */
	if (t->cr3) {
		unsigned int i;

		for (i = 0; i < sizeof(t->pcid_gen) / sizeof(t->pcid_gen[0]);
		     i++)
			t->pcid_gen[i] = ~0u;
	}
	fd = dune_vcpu_create(t);
	if (fd < 0)
		dune_die_errno("DUNE_CREATE_VCPU in a fork child", fd);
	t->vcpu_fd = dune_fd_own(fd);
	t->fault_repeats = 0;
	/* Signals queued in the parent are the parent's. */
	t->sig.head = t->sig.tail = 0;
	t->sig.mask_deferred = false;
}

long dune_sys_clone(struct dune_thread *t, unsigned long flags,
		    uint64_t stack, long ptid, long ctid, long tls)
{
	long r;

	if (flags & CLONE_VM)
		return clone_vm(t, flags, stack, NULL, 0, ptid, ctid, tls);
	/* The child runs on its copy of this host stack, like fork(). */
	r = dune_raw_clone(flags, NULL, (int *)ptid, (int *)ctid, tls, NULL,
			   NULL);
	if (r == 0)
		fork_child(t, stack);
	return r;
}

/* Copy @n bytes of guest memory: fails cleanly where a load would fault. */
static bool read_guest(void *dst, uint64_t src, size_t n)
{
	struct iovec local = { dst, n }, remote = { (void *)src, n };

	/* our tid: the group leader may have exited (dune_vm_read) */
	return dune_sys6(SYS_process_vm_readv, dune_sys0(SYS_gettid),
			 (long)&local, 1, (long)&remote, 1, 0) == (long)n;
}

/* Linux's clone3_stack_valid (kernel/fork.c), before we replace it. */
static bool stack_valid(uint64_t stack, uint64_t size)
{
	if (!stack)
		return !size;
	return size && stack + size > stack && stack + size <= USER_VA_END;
}

long dune_sys_clone3(struct dune_thread *t, uint64_t uargs, uint64_t size)
{
	union {
		struct clone_args a;
		char bytes[DUNE_PAGE];	/* the kernel's limit on size */
	} ka;
	uint64_t stack;
	long r;

	/* Sizes the kernel refuses before it reads anything. */
	if (size > sizeof(ka) || size < CLONE_ARGS_SIZE_VER0)
		return dune_sys2(SYS_clone3, uargs, size);
	dune_bzero(&ka, sizeof(ka.a));
	if (!read_guest(&ka, uargs, size))
		return -EFAULT;
	if (!stack_valid(ka.a.stack, ka.a.stack_size)) {
		/* Still the kernel's errors first; this one fails for sure. */
		ka.a.stack = 0;
		ka.a.stack_size = 1;
		return dune_sys2(SYS_clone3, (long)&ka, size);
	}
	stack = ka.a.stack ? ka.a.stack + ka.a.stack_size : 0;
	if (ka.a.flags & CLONE_VM)
		return clone_vm(t, ka.a.flags, stack, &ka.a, size, 0, 0, 0);
	ka.a.stack = 0;
	ka.a.stack_size = 0;
	r = dune_raw_clone3(&ka.a, size, NULL, NULL);
	if (r == 0)
		fork_child(t, stack);
	return r;
}

__attribute__((noreturn)) void dune_thread_exit(struct dune_thread *t,
						int code)
{
	uint64_t all = ~0ull;

	/* No signal handler may run on the stack we are about to free. */
	dune_sys4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, sizeof(all));
	dune_stats_thread_exit(t);
	if (shares_files(t))
		dune_fdguard_del(t->vcpu_fd);
	dune_sys1(SYS_close, t->vcpu_fd);
	t->vcpu_fd = -1;
	if (t->flags & (DUNE_THREAD_VFORK | DUNE_THREAD_REAPED)) {
		/* Our creator frees our block once we are gone. */
		for (;;)
			dune_sys1(SYS_exit, code);
	}
	dune_rseq_exit(t);
	dune_unmap_and_exit(t->block, t->block_size, code);
}

DUNE_NOFPU_END
