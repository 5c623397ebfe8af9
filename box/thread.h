/* SPDX-License-Identifier: MIT */
/*
 * dune-box: sandbox threads and the other CLONE_VM children, thread
 * exit, the end of the whole sandbox from any thread, and the lock that
 * keeps the monitor's pointer checks and copies consistent with the
 * memory calls of other threads (docs/sandbox.md, "Threads").
 *
 * Owner: box/thread.c.
 */
#ifndef BOX_THREAD_H
#define BOX_THREAD_H

#include <stdbool.h>
#include <stdint.h>

struct box_ctx;

/*
 * clone's flags (clone3's, read from the sandbox's clone_args), or -1
 * when clone3's arguments cannot be read (box_clone then gives the
 * error).  Only called for SYS_clone and SYS_clone3.
 */
int64_t box_clone_flags(struct box_ctx *c);

/*
 * clone and clone3 with CLONE_VM: a thread (a Linux thread that is a
 * Dune thread with its own vCPU) or a vfork child (a Linux process
 * sharing the memory, its own vCPU).  The new tid/pid or -errno; called
 * with the read lock held, returns without it.
 */
long box_clone(struct box_ctx *c);

/* SYS_exit at ring 3: the calling sandbox thread ends. */
__attribute__((noreturn)) void box_thread_exit(struct box_ctx *c);

/*
 * The sandbox ends with wait status @status (exit_group, a kill by the
 * policy), whichever thread asks.
 */
__attribute__((noreturn)) void box_thread_end(int status);

/*
 * At the start of every monitor call: once the sandbox is ending, no
 * other thread's call gets through (natively exit_group stops them).
 */
void box_thread_gate(void);

/*
 * The memory lock: pointer checks and the monitor's copies from and to
 * sandbox memory hold it for reading, memory calls (mmap, munmap,
 * mprotect, mremap, brk, ...) for writing.  box_unlock does nothing if
 * the calling thread holds nothing.
 */
/*
 * For execve and fork (box/proc.c): is the caller a vfork child, which
 * shares the parent's memory (and monitor) until it execs or exits, so
 * an execve there must not reuse that memory; and, in a fork child (only
 * the calling thread exists there), make the caller the main thread of
 * a sandbox with no other threads and a fresh lock.
 */
bool box_thread_is_vfork_child(void);
void box_thread_after_fork(void);

/*
 * box/robust.c: the calling sandbox thread dies or execs: its robust
 * futex list (set_robust_list) is walked as Linux's exit_robust_list
 * walks it, once.  Called without the memory lock.
 */
void box_robust_exit(void);
/* ... and, at the end of the whole process, every thread's list too. */
void box_robust_exit_group(void);
/* set_robust_list: the list kept for the thread's death. */
long box_set_robust_list(struct box_ctx *c);
/* In a fork child: no thread has a list yet. */
void box_robust_after_fork(void);
/* get_robust_list of the calling thread (pid 0 or its own tid). */
long box_get_robust_list(struct box_ctx *c);

void box_lock_read(void);
void box_lock_write(void);
void box_unlock(void);

#endif
