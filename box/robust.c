// SPDX-License-Identifier: MIT
/*
 * dune-box: robust futex lists (docs/sandbox.md, "Threads").
 *
 * set_robust_list is not given to Linux (at the thread's exit the kernel
 * would write to whatever the list names, with the monitor's rights), so
 * the monitor does what Linux's exit_robust_list does when a sandbox
 * thread dies or execs: every futex on the list that the dying thread
 * owns gets FUTEX_OWNER_DIED and one waiter is woken, so that another
 * thread's (or process's) pthread_mutex_lock returns EOWNERDEAD.
 *
 * The list is ring-3 memory and untrusted: every word is read only if
 * the sandbox owns it, under the memory lock, and the walk stops after
 * ROBUST_LIST_LIMIT entries as the kernel's does (a loop in the list
 * cannot hold the monitor).  The layout and the rules are those of
 * <linux/futex.h>: struct robust_list_head { next; futex_offset;
 * list_op_pending }, bit 0 of a pointer marks a PI futex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "monitor-int.h"
#include "thread.h"

static long sys3(long nr, uint64_t a, uint64_t b, uint64_t c)
{
	return dune_sys6(nr, a, b, c, 0, 0, 0);
}

/* A word of ring 3's list, as the kernel's get_user: false if it faults. */
static bool get_word(uint64_t p, uint64_t *v)
{
	if (!box_mem_owns(box_mon.mem, p, sizeof(*v), PROT_READ))
		return false;
	*v = *(const volatile uint64_t *)p;
	return true;
}

/*
 * The kernel's handle_futex_death for the futex word at @p: if @tid owns
 * it, set OWNER_DIED keeping WAITERS, and wake one waiter of a non-PI
 * futex that had waiters (a PI futex's waiters are Linux's: the monitor
 * thread's exit hands its pi_state on).  A pending operation on a
 * non-PI futex nobody owns yet gets its wake-up only: the unlock may
 * have cleared the word before the thread died.  The wake is not
 * private: the futex may be in memory shared with another process.
 */
static void futex_death(uint64_t p, int tid, bool pi, bool pending)
{
	volatile uint32_t *w = (volatile uint32_t *)p;
	uint32_t uval, mval;

	if (p % sizeof(uint32_t) ||
	    !box_mem_owns(box_mon.mem, p, sizeof(uint32_t), PROT_READ))
		return;
	for (;;) {
		uval = *w;
		if (pending && !pi && !(uval & FUTEX_TID_MASK)) {
			sys3(SYS_futex, p, FUTEX_WAKE, 1);
			return;
		}
		if ((uval & FUTEX_TID_MASK) != (uint32_t)tid)
			return;
		/* Linux gives up on a word it cannot write */
		if (!box_mem_owns(box_mon.mem, p, sizeof(uint32_t),
				  PROT_READ | PROT_WRITE))
			return;
		mval = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		/* ring 3 may change the word meanwhile: read it again */
		if (__atomic_compare_exchange_n(w, &uval, mval, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			break;
	}
	if (!pi && (uval & FUTEX_WAITERS))
		sys3(SYS_futex, p, FUTEX_WAKE, 1);
}

/*
 * The threads of this process that registered a list (vfork children
 * aside: a process of their own, which their exit_group alone ends): at
 * exit_group, Linux walks the list of every thread of the group as it
 * dies, while here only the caller runs monitor code again.
 */
static pthread_mutex_t listed_lock = PTHREAD_MUTEX_INITIALIZER;
static struct box_thread *listed;

static void unlist(struct box_thread *t)
{
	struct box_thread **pp;

	pthread_mutex_lock(&listed_lock);
	for (pp = &listed; *pp; pp = &(*pp)->robust_next)
		if (*pp == t) {
			*pp = t->robust_next;
			break;
		}
	t->robust_next = NULL;
	t->robust_listed = false;
	pthread_mutex_unlock(&listed_lock);
}

long box_set_robust_list(struct box_ctx *c)
{
	struct box_thread *t = box_self();

	if (c->a[1] != sizeof(struct robust_list_head))
		return -EINVAL;
	__atomic_store_n(&t->robust_head, c->a[0], __ATOMIC_RELEASE);
	t->robust_len = c->a[1];
	if (!t->robust_listed && !box_thread_is_vfork_child()) {
		t->robust_tid = sys3(SYS_gettid, 0, 0, 0);
		pthread_mutex_lock(&listed_lock);
		t->robust_next = listed;
		listed = t;
		t->robust_listed = true;
		pthread_mutex_unlock(&listed_lock);
	}
	return 0;
}

void box_robust_after_fork(void)
{
	struct box_thread *t = box_self();
	static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	/* alone in the child, which has no list yet (glibc registers anew) */
	memcpy(&listed_lock, &fresh, sizeof(listed_lock));
	listed = NULL;
	t->robust_next = NULL;
	t->robust_listed = false;
	t->robust_head = 0;
}

/* @t's list, as the thread @tid's: once (another walker may race us). */
static void walk(struct box_thread *t, int tid)
{
	uint64_t head = __atomic_exchange_n(&t->robust_head, 0,
					     __ATOMIC_ACQ_REL);
	uint64_t entry, next, off, pending;
	unsigned int limit = ROBUST_LIST_LIMIT;
	bool pi, next_pi, pending_pi, more;

	if (!head)
		return;
	box_lock_read();
	if (!get_word(head + offsetof(struct robust_list_head, list.next),
		      &entry) ||
	    !get_word(head + offsetof(struct robust_list_head, futex_offset),
		      &off) ||
	    !get_word(head + offsetof(struct robust_list_head,
				      list_op_pending), &pending))
		goto out;
	pi = entry & 1;
	entry &= ~1ull;
	pending_pi = pending & 1;
	pending &= ~1ull;
	while (entry != head) {
		/* the next entry first: the death may let another thread in */
		more = get_word(entry, &next);
		next_pi = next & 1;
		/* the pending one is handled last, as pending */
		if (entry != pending)
			futex_death(entry + off, tid, pi, false);
		if (!more)
			goto out;
		entry = next & ~1ull;
		pi = next_pi;
		if (!--limit)
			break;
	}
	if (pending)
		futex_death(pending + off, tid, pending_pi, true);
out:
	box_unlock();
}

void box_robust_exit(void)
{
	struct box_thread *t = box_self();

	if (t->robust_listed)
		unlist(t);
	/* Once per thread, as Linux clears the task's pointer */
	walk(t, sys3(SYS_gettid, 0, 0, 0));
}

void box_robust_exit_group(void)
{
	struct box_thread *t;

	box_robust_exit();
	/*
	 * The others, which Linux kills: each would walk its own list as it
	 * dies.  They are stopped at the gate, or compute at ring 3 (where
	 * an uncontended lock takes no system call: one taken after this
	 * walk stays unmarked); a list walked here is cleared, so never
	 * walked twice.
	 */
	pthread_mutex_lock(&listed_lock);
	for (t = listed; t; t = t->robust_next)
		walk(t, t->robust_tid);
	pthread_mutex_unlock(&listed_lock);
}

long box_get_robust_list(struct box_ctx *c)
{
	struct box_thread *t = box_self();
	uint64_t len = sizeof(struct robust_list_head);
	int pid = (int)c->a[0];

	/*
	 * Another task's list (Linux: with ptrace's read permission)
	 * would be that monitor thread's own, in monitor memory.
	 */
	if (pid && pid != sys3(SYS_gettid, 0, 0, 0)) {
		c->refusal = "get_robust_list of another thread";
		return -ENOSYS;
	}
	/* Linux writes the length, then the head; each may fault */
	box_lock_read();
	if (!box_mem_owns(box_mon.mem, c->a[2], sizeof(len), PROT_WRITE)) {
		box_unlock();
		return -EFAULT;
	}
	*(volatile uint64_t *)c->a[2] = len;
	if (!box_mem_owns(box_mon.mem, c->a[1], sizeof(uint64_t),
			  PROT_WRITE)) {
		box_unlock();
		return -EFAULT;
	}
	*(volatile uint64_t *)c->a[1] = t->robust_head;
	box_unlock();
	return 0;
}
