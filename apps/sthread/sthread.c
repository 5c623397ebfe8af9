// SPDX-License-Identifier: MIT
/*
 * sthreads on the original Dune API (sthread.h).
 *
 * Memory.  A tag is fresh pool memory mapped by dune_vm_map_pages at an
 * address range of its own in pgroot, supervisor-only, so only ring 0
 * (the master) reaches it there.  sthread_create clones pgroot and, as
 * Wedge's walk_protect did, clears PTE_U in every leaf of the clone:
 * it maps everything pgroot does, but ring 3 can touch nothing, even
 * though dune_init_and_enter (dune_init(1)) made pgroot's memory
 * user-accessible.  Then it makes user-accessible (PERM_U) exactly the
 * sthread code section, a fresh stack, and each granted tag with its
 * prot.  Tags mapped after the clone do not exist in it at all.
 *
 * Switching.  Each sthread root gets a PCID of our own range (libdune's
 * dune_vm_switch hands out PCIDs from 1 upwards; ours are at the top).
 * The first load of a root flushes its PCID, which may hold entries of
 * an earlier sthread's root (a CR3 load without bit 63 invalidates the
 * new PCID's entries, SDM 4.10.4.1); later loads keep them
 * (CR3_NOFLUSH), so switching between sthreads and the master costs no
 * TLB refill.  Back to the master with dune_vm_switch(pgroot), which
 * flushes pgroot's PCID if libdune edited it meanwhile.
 *
 * Traps.  Ring 3 reaches ring 0 only through handlers, all here: a
 * system call is checked against the context and forwarded, a callgate
 * runs master code, anything else (a fault, a denied call) ends the
 * sthread: dune_ret_from_user returns to sthread_join.
 *
 * One master thread: `cur` is the sthread running on it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "libdune/cpu-x86.h"
#include "sthread.h"

#define TAG_AREA	0x3c0000000000ul	/* tags' own addresses */
#define PCID_FIRST	0xf00
#define PCID_COUNT	0x0ff

/* The sthread code section's bounds (the linker gives them). */
extern char __start_sthread_text[], __stop_sthread_text[];

/*
 * Where fn returns to: its return value becomes exit's argument.  The
 * alignment makes the section start on a page of its own, and the
 * padding after the stub ends it on one when sthread.o is linked after
 * the program's objects (as the Makefile does), so ring 3 can execute
 * no other code.
 */
__asm__(".pushsection sthread_text, \"ax\"\n"
	".balign 4096\n"
	"sthread_exit_stub:\n"
	"	mov %rax, %rdi\n"
	"	mov $60, %eax\n"	/* SYS_exit */
	"	syscall\n"
	"	ud2\n"
	".balign 4096, 0xcc\n"
	".popsection\n");
extern char sthread_exit_stub[];
_Static_assert(SYS_exit == 60, "sthread_exit_stub's number");

static struct sthread *cur;
static uintptr_t next_tag = TAG_AREA;
static unsigned int next_pcid;
static struct sthread *pcid_owner[PCID_COUNT];
static char bounce[PGSIZE];	/* system call buffers, in master memory */

/* ---- tags ---- */

struct tag *tag_new(size_t size)
{
	struct tag *t = malloc(sizeof(*t));

	if (!t)
		return NULL;
	t->len = (size + PGSIZE - 1) & ~(size_t)(PGSIZE - 1);
	t->base = (char *)next_tag;
	t->used = 0;
	if (!t->len || dune_vm_map_pages(pgroot, t->base, t->len,
					 PERM_R | PERM_W)) {
		free(t);
		return NULL;
	}
	/* a guard page between tags: an overrun faults */
	next_tag += t->len + PGSIZE;
	return t;
}

/* Sthreads created before keep the pages until they are joined. */
void tag_delete(struct tag *t)
{
	dune_vm_unmap(pgroot, t->base, t->len);
	free(t);
}

void *smalloc(struct tag *t, size_t n)
{
	size_t off = (t->used + 15) & ~(size_t)15;

	if (n > t->len || off > t->len - n)
		return NULL;
	t->used = off + n;
	return t->base + off;
}

/* ---- security contexts ---- */

/*
 * The system calls an sthread may be allowed, with the buffer each one
 * takes (argument index, length index, what the kernel does to it): the
 * master must check every pointer, so a call it cannot check is never
 * allowed.
 */
static const struct {
	int nr;
	int buf, len;	/* -1: no buffer */
	int prot;	/* PROT_READ: the kernel reads it */
} known[] = {
	{ SYS_read, 1, 2, PROT_WRITE },
	{ SYS_write, 1, 2, PROT_READ },
	{ SYS_getpid, -1, -1, 0 },
	{ SYS_sched_yield, -1, -1, 0 },
};
#define NKNOWN ((int)(sizeof(known) / sizeof(known[0])))

static int known_index(long nr)
{
	for (int i = 0; i < NKNOWN; i++)
		if (known[i].nr == nr)
			return i;
	return -1;
}

void sc_init(struct sc *sc)
{
	memset(sc, 0, sizeof(*sc));
}

int sc_mem_add(struct sc *sc, struct tag *t, int prot)
{
	if (sc->ngrants == SC_MAX_GRANTS ||
	    (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE)))
		return -EINVAL;
	sc->grant[sc->ngrants].tag = t;
	sc->grant[sc->ngrants++].prot = prot;
	return 0;
}

int sc_sys_add(struct sc *sc, int nr)
{
	int i = known_index(nr);

	if (i < 0)
		return -EINVAL;
	sc->sys |= 1ull << i;
	return 0;
}

int sc_gate_add(struct sc *sc, gate_fn fn, int prot)
{
	if (sc->ngates == SC_MAX_GATES ||
	    (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE)))
		return -EINVAL;
	sc->gate[sc->ngates].fn = fn;
	sc->gate[sc->ngates].prot = prot;
	return sc->ngates++;
}

/* Is all of [p, p + len) in one tag granted to @st with @prot? */
static int granted(struct sthread *st, uint64_t p, uint64_t len, int prot)
{
	for (int i = 0; i < st->sc.ngrants; i++) {
		struct tag *t = st->sc.grant[i].tag;
		uint64_t b = (uint64_t)t->base;

		/* no overflow: p - b and t->len - len are both checked */
		if ((st->sc.grant[i].prot & prot) == prot && p >= b &&
		    len <= t->len && p - b <= t->len - len)
			return 1;
	}
	return 0;
}

/* ---- roots ---- */

/*
 * Keep the PCID's TLB entries only if they are this sthread's: PCIDs
 * are reused once PCID_COUNT sthreads exist.
 */
static void load_sthread_root(struct sthread *st)
{
	uint64_t cr3 = (uintptr_t)st->root;
	unsigned int i = st->pcid - PCID_FIRST;

	if (dune_has_pcid()) {
		cr3 |= st->pcid;
		if (pcid_owner[i] == st)
			cr3 |= CR3_NOFLUSH;
		pcid_owner[i] = st;
	}
	load_cr3(cr3);
}

static int user_range(ptent_t *root, void *lo, void *hi, int perm)
{
	uintptr_t a = (uintptr_t)lo & ~(uintptr_t)(PGSIZE - 1);
	uintptr_t b = ((uintptr_t)hi + PGSIZE - 1) & ~(uintptr_t)(PGSIZE - 1);

	return dune_vm_mprotect(root, (void *)a, b - a, perm);
}

/* dune_vm_page_walk callback: the leaf becomes supervisor-only. */
static int deny_user(const void *arg, ptent_t *pte, void *va)
{
	*pte &= ~PTE_U;
	return 0;
}

int sthread_create(struct sthread *st, const struct sc *sc,
		   long (*fn)(void *), void *arg)
{
	int r, perm;

	memset(st, 0, sizeof(*st));
	st->sc = *sc;
	st->fn = fn;
	st->arg = arg;
	st->pcid = PCID_FIRST + next_pcid++ % PCID_COUNT;
	st->root = dune_vm_clone(pgroot);
	if (!st->root)
		return -ENOMEM;
	/* not loaded anywhere yet: no TLB to flush */
	r = dune_vm_page_walk(st->root, VA_START, VA_END, deny_user, NULL);
	if (!r)
		r = user_range(st->root, __start_sthread_text,
			       __stop_sthread_text, PERM_UCODE);
	if (!r)
		r = dune_vm_map_pages(st->root,
				      STHREAD_STACK_TOP - STHREAD_STACK_SIZE,
				      STHREAD_STACK_SIZE, PERM_USTACK);
	for (int i = 0; !r && i < sc->ngrants; i++) {
		perm = PERM_R | PERM_U;
		if (sc->grant[i].prot & PROT_WRITE)
			perm |= PERM_W;
		r = dune_vm_mprotect(st->root, sc->grant[i].tag->base,
				     sc->grant[i].tag->len, perm);
	}
	if (r) {
		dune_vm_free(st->root);
		st->root = NULL;
	}
	return r;
}

/* ---- ring-0 handlers ---- */

static void __attribute__((noreturn)) die(struct sthread *st,
					  enum sthread_end why)
{
	st->end = why;
	dune_ret_from_user(0);
}

/* An allowed call with a buffer: copied through master memory. */
static void sys_buffer(struct sthread *st, struct dune_tf *tf, int k)
{
	uint64_t *a[6] = { &ARG0(tf), &ARG1(tf), &ARG2(tf),
			   &ARG3(tf), &ARG4(tf), &ARG5(tf) };
	uint64_t p = *a[known[k].buf], len = *a[known[k].len];

	/* a short read or write is what the caller must expect anyway */
	if (len > sizeof(bounce))
		len = sizeof(bounce);
	if (!granted(st, p, len, known[k].prot)) {
		tf->rax = -EFAULT;
		return;
	}
	/* the tag is the master's memory on pgroot, not Linux's */
	dune_vm_switch(pgroot);
	if (known[k].prot == PROT_READ)
		memcpy(bounce, (void *)p, len);
	*a[known[k].buf] = (uintptr_t)bounce;
	*a[known[k].len] = len;
	dune_passthrough_syscall(tf);
	if (known[k].prot == PROT_WRITE && (int64_t)tf->rax > 0)
		memcpy((void *)p, bounce, tf->rax);
	*a[known[k].buf] = p;
	*a[known[k].len] = len;
	load_sthread_root(st);
}

static void gate(struct sthread *st, struct dune_tf *tf)
{
	uint64_t id = ARG0(tf), p = ARG1(tf), len = ARG2(tf);

	if (id >= (uint64_t)st->sc.ngates) {
		tf->rax = -EINVAL;
		return;
	}
	if (!granted(st, p, len, st->sc.gate[id].prot)) {
		tf->rax = -EFAULT;
		return;
	}
	/* the master's privileges: its root, where every tag is mapped */
	dune_vm_switch(pgroot);
	tf->rax = st->sc.gate[id].fn((void *)p, len);
	load_sthread_root(st);
}

static void on_syscall(struct dune_tf *tf)
{
	struct sthread *st = cur;
	int k;

	if (!st) {
		tf->rax = -ENOSYS;
		return;
	}
	if (tf->rax == SYS_exit) {
		st->ret = ARG0(tf);
		die(st, STH_RETURNED);
	}
	if (tf->rax == STHREAD_SYS_YIELD) {
		tf->rax = 0;
		st->tf = *tf;
		dune_ret_from_user(1);
	}
	if (tf->rax == STHREAD_SYS_GATE) {
		gate(st, tf);
		return;
	}
	k = known_index(tf->rax);
	if (k < 0 || !(st->sc.sys & (1ull << k))) {
		st->sysno = tf->rax;
		die(st, STH_SYSCALL);
	}
	if (known[k].buf >= 0)
		sys_buffer(st, tf, k);
	else
		dune_passthrough_syscall(tf);
}

static void on_pgflt(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	if (cur && (tf->cs & 3)) {
		cur->addr = addr;
		cur->fec = fec;
		die(cur, STH_FAULT);
	}
	/* the master's own faults: copy-on-write or the end */
	dune_vm_default_pgflt_handler(addr, fec);
}

static void on_trap(struct dune_tf *tf)
{
	if (!cur || !(tf->cs & 3)) {
		/* the master's own bug, during a run: as without a handler */
		dune_dump_trap_frame(tf);
		dune_die();
	}
	cur->vector = tf->vector;
	die(cur, STH_TRAP);
}

/* Exceptions ring 3 can raise (page faults apart). */
static const int traps[] = {
	T_DIVIDE, T_DEBUG, T_BRKPT, T_OFLOW, T_BOUND, T_ILLOP,
	T_SEGNP, T_STACK, T_GPFLT, T_FPERR, T_ALIGN, T_SIMDERR,
};
#define NTRAPS ((int)(sizeof(traps) / sizeof(traps[0])))

static void trap_handlers(dune_intr_cb cb)
{
	for (int i = 0; i < NTRAPS; i++)
		dune_register_intr_handler(traps[i], cb);
}

/*
 * Run @st at ring 3 (from fn, or from where it yielded) until it yields
 * (1: its root stays, sthread_run resumes it) or ends (0: st->end says
 * how, its root is freed).
 */
int sthread_run(struct sthread *st)
{
	char *sp = STHREAD_STACK_TOP - 8;	/* as after a call: 16n + 8 */
	struct page *pg;
	int r;

	if (!st->root || cur)
		return -EINVAL;
	if (!st->started) {
		/* fn returns to the stub: written at the pool page's address */
		pg = dune_vm_lookup_page(st->root, sp);
		if (!pg)
			return -EINVAL;
		*(uint64_t *)((char *)dune_page2va(pg) +
			      ((uintptr_t)sp & (PGSIZE - 1))) =
			(uintptr_t)sthread_exit_stub;
		memset(&st->tf, 0, sizeof(st->tf));
		st->tf.rip = (uintptr_t)st->fn;
		st->tf.rdi = (uintptr_t)st->arg;
		st->tf.rsp = (uintptr_t)sp;
		st->tf.rflags = 0x2;
		st->started = 1;
	}
	dune_register_syscall_handler(on_syscall);
	dune_register_pgflt_handler(on_pgflt);
	/* only during the run: the master's own traps keep their defaults */
	trap_handlers(on_trap);
	cur = st;
	load_sthread_root(st);
	r = dune_jump_to_user(&st->tf);
	dune_vm_switch(pgroot);
	cur = NULL;
	trap_handlers(NULL);
	if (r == 1)
		return 1;

	if (pcid_owner[st->pcid - PCID_FIRST] == st)
		pcid_owner[st->pcid - PCID_FIRST] = NULL;
	dune_vm_free(st->root);
	st->root = NULL;
	return 0;
}

/* Run @st to its end: 0 if fn returned (*ret its value), else -EFAULT. */
int sthread_join(struct sthread *st, long *ret)
{
	int r;

	do
		r = sthread_run(st);
	while (r == 1);
	if (r < 0)
		return r;
	if (ret)
		*ret = st->ret;
	return st->end == STH_RETURNED ? 0 : -EFAULT;
}

const char *sthread_end_str(enum sthread_end e)
{
	switch (e) {
	case STH_RETURNED:
		return "returned";
	case STH_FAULT:
		return "page fault";
	case STH_SYSCALL:
		return "system call not allowed";
	case STH_TRAP:
		return "exception";
	}
	return "?";
}
