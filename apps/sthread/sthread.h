/* SPDX-License-Identifier: MIT */
/*
 * sthreads: Wedge-style compartments (Bittau et al., NSDI 2008) on the
 * original Dune API.  An sthread runs a function at ring 3 on a
 * page-table root of its own in which every page is supervisor-only
 * (default deny) except its code, a fresh stack, and the memory tags its
 * security context grants, read-only or read-write.  Its system calls
 * reach the master at ring 0, which allows only those in the context's
 * list, and callgates run master code at ring 0 on its behalf.
 *
 * The master is one thread in Dune mode (dune_init_and_enter first);
 * sthread_join runs an sthread to its end on that thread.
 *
 * Code that runs in an sthread must be marked STHREAD_CODE and may touch
 * only its stack and granted tags: no libc, no string constants (they
 * live in the master's .rodata), no globals.  System calls go through
 * sthread_syscall, callgates through sthread_gate.
 */
#ifndef STHREAD_H
#define STHREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "libdune/dune.h"
#include "libdune/mmu.h"

#define STHREAD_CODE __attribute__((section("sthread_text"), noinline))

/* A tag: a range of fresh pool pages, granted to sthreads as a whole. */
struct tag {
	char *base;
	size_t len;		/* whole pages */
	size_t used;		/* smalloc's bump pointer */
};

struct tag *tag_new(size_t size);
void tag_delete(struct tag *t);
void *smalloc(struct tag *t, size_t n);

#define SC_MAX_GRANTS	8
#define SC_MAX_GATES	8

/*
 * A callgate: @fn runs at ring 0, on the master's root, with @arg, which
 * the sthread passed and which must lie, all @len bytes, in a tag the
 * sthread was granted with at least @prot.
 */
typedef long (*gate_fn)(void *arg, size_t len);

/* A security context. */
struct sc {
	struct {
		struct tag *tag;
		int prot;	/* PROT_READ or PROT_READ | PROT_WRITE */
	} grant[SC_MAX_GRANTS];
	int ngrants;
	uint64_t sys;		/* bit i: allowed system call i (of known[]) */
	struct {
		gate_fn fn;
		int prot;
	} gate[SC_MAX_GATES];
	int ngates;
};

void sc_init(struct sc *sc);
int sc_mem_add(struct sc *sc, struct tag *t, int prot);
int sc_sys_add(struct sc *sc, int nr);
int sc_gate_add(struct sc *sc, gate_fn fn, int prot);	/* the gate's id */

/* How an sthread ended. */
enum sthread_end {
	STH_RETURNED,		/* fn returned: ret is its value */
	STH_FAULT,		/* page fault: addr, fec */
	STH_SYSCALL,		/* system call not allowed: sysno */
	STH_TRAP,		/* another exception: vector */
};

struct sthread {
	ptent_t *root;
	uint16_t pcid;		/* of our own range (sthread.c) */
	struct sc sc;
	long (*fn)(void *);
	void *arg;
	/* the end */
	enum sthread_end end;
	long ret;
	uintptr_t addr;
	uint64_t fec;
	long sysno;
	int vector;
	/* between runs of a yielded sthread: where it resumes */
	int started;
	struct dune_tf tf;
};

int sthread_create(struct sthread *st, const struct sc *sc,
		   long (*fn)(void *), void *arg);
int sthread_join(struct sthread *st, long *ret);
int sthread_run(struct sthread *st);
const char *sthread_end_str(enum sthread_end e);

/* The sthread's stack: the same address in every sthread's own root. */
#define STHREAD_STACK_TOP	((char *)0x3d0000000000ul)
#define STHREAD_STACK_SIZE	(16 * PGSIZE)

/* System call numbers of a callgate and of sthread_yield. */
#define STHREAD_SYS_GATE	0x5747
#define STHREAD_SYS_YIELD	0x5748

/* For STHREAD_CODE: a system call (it reaches the master's filter). */
static inline __attribute__((always_inline)) long
sthread_syscall(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline __attribute__((always_inline)) long
sthread_gate(int id, void *arg, size_t len)
{
	return sthread_syscall(STHREAD_SYS_GATE, id, (long)arg, (long)len);
}

/* Back to the master's sthread_run; resumes at the next one. */
static inline __attribute__((always_inline)) void sthread_yield(void)
{
	sthread_syscall(STHREAD_SYS_YIELD, 0, 0, 0);
}

#endif
