// SPDX-License-Identifier: MIT
/*
 * dune-box: the memory the sandbox owns (mem.h) and its page-table root.
 *
 * The set is a sorted array of disjoint page ranges, each with its prot;
 * neighbours with the same prot are merged.  Every change is reflected
 * in the sandbox's root once it exists, so "owned with prot P" and
 * "user-accessible with P in the root" are the same statement.
 *
 * Nothing is ever removed: munmap by the sandbox leaves a PROT_NONE
 * reservation behind (monitor.c), so the monitor's own mappings can
 * never land on an address a check once called the sandbox's.
 *
 * All page-table calls of dune-box are in this file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../libdune/dune.h"
#include "mem.h"

#define PG 4096ull
/* Linux's TASK_SIZE_MAX with 4-level paging: user addresses end here. */
#define BOX_USER_END ((1ull << 47) - PG)

struct box_range {
	uint64_t lo, hi;
	int prot;
};

struct box_mem {
	struct box_range *r;
	unsigned int n, cap;
	ptent_t *root;
};

struct box_mem *box_mem_new(void)
{
	return calloc(1, sizeof(struct box_mem));
}

void box_mem_free(struct box_mem *m)
{
	if (!m)
		return;
	if (m->root)
		dune_vm_free(m->root);
	free(m->r);
	free(m);
}

/* What ring 3 gets for @prot: x86 has no write- or exec-only pages. */
static int prot_perm(int prot)
{
	int perm = PERM_R | PERM_U;

	if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) ||
	    (prot & BOX_MEM_RESERVED))
		return PERM_NONE;
	if (prot & PROT_WRITE)
		perm |= PERM_W;
	if (prot & PROT_EXEC)
		perm |= PERM_X;
	return perm;
}

static int reflect(struct box_mem *m, uint64_t lo, uint64_t hi, int prot)
{
	if (!m->root)
		return 0;
	return dune_vm_mprotect(m->root, (void *)lo, hi - lo, prot_perm(prot));
}

int box_mem_add(struct box_mem *m, uint64_t lo, uint64_t hi, int prot)
{
	struct box_range *nr;
	unsigned int i, k = 0, cap;

	lo &= ~(PG - 1);
	if (hi > BOX_USER_END || hi <= lo)
		return -EINVAL;
	hi = (hi + PG - 1) & ~(PG - 1);
	prot &= PROT_READ | PROT_WRITE | PROT_EXEC | BOX_MEM_RESERVED;
	if (prot & BOX_MEM_RESERVED)
		prot = BOX_MEM_RESERVED;

	cap = m->n + 2;
	nr = malloc(cap * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	for (i = 0; i < m->n && m->r[i].hi <= lo; i++)
		nr[k++] = m->r[i];
	/* the part of an overlapping range left of lo */
	if (i < m->n && m->r[i].lo < lo) {
		nr[k] = m->r[i];
		nr[k++].hi = lo;
	}
	nr[k++] = (struct box_range){ lo, hi, prot };
	for (; i < m->n && m->r[i].hi <= hi; i++)
		;
	/* the part of an overlapping range right of hi */
	if (i < m->n && m->r[i].lo < hi) {
		nr[k] = m->r[i];
		nr[k++].lo = hi;
		i++;
	}
	for (; i < m->n; i++)
		nr[k++] = m->r[i];

	/* merge touching neighbours with the same prot */
	m->n = 0;
	for (i = 0; i < k; i++) {
		if (m->n && nr[m->n - 1].hi == nr[i].lo &&
		    nr[m->n - 1].prot == nr[i].prot)
			nr[m->n - 1].hi = nr[i].hi;
		else
			nr[m->n++] = nr[i];
	}
	free(m->r);
	m->r = nr;
	m->cap = cap;
	return reflect(m, lo, hi, prot);
}

/* Index of the first range ending above @p (m->n if none). */
static unsigned int find(const struct box_mem *m, uint64_t p)
{
	unsigned int a = 0, b = m->n;

	while (a < b) {
		unsigned int c = a + (b - a) / 2;

		if (m->r[c].hi <= p)
			a = c + 1;
		else
			b = c;
	}
	return a;
}

bool box_mem_owns(const struct box_mem *m, uint64_t p, uint64_t len,
		  int prot)
{
	unsigned int i;
	uint64_t end;

	if (!len)
		return true;
	if (__builtin_add_overflow(p, len, &end) || end > BOX_USER_END)
		return false;
	for (i = find(m, p); i < m->n && p < end; i++) {
		if (m->r[i].lo > p || (m->r[i].prot & prot) != prot)
			return false;
		/* PROT_NONE ranges are owned but never accessible */
		if (prot && !(m->r[i].prot & (PROT_READ | PROT_WRITE)))
			return false;
		p = m->r[i].hi;
	}
	return p >= end;
}

bool box_mem_any(const struct box_mem *m, uint64_t lo, uint64_t hi)
{
	unsigned int i = find(m, lo);

	return i < m->n && m->r[i].lo < hi;
}

int box_mem_prot_at(const struct box_mem *m, uint64_t p)
{
	unsigned int i = find(m, p);

	return i < m->n && m->r[i].lo <= p ? m->r[i].prot : -1;
}

int box_mem_span(const struct box_mem *m, uint64_t p, uint64_t *end)
{
	unsigned int i = find(m, p);

	if (i < m->n && m->r[i].lo <= p) {
		*end = m->r[i].hi;
		return m->r[i].prot;
	}
	*end = i < m->n ? m->r[i].lo : UINT64_MAX;
	return -1;
}

unsigned int box_mem_count(const struct box_mem *m)
{
	return m->n;
}

void box_mem_range(const struct box_mem *m, unsigned int i, uint64_t *lo,
		   uint64_t *hi, int *prot)
{
	*lo = m->r[i].lo;
	*hi = m->r[i].hi;
	*prot = m->r[i].prot;
}

/* A leaf of the clone: supervisor-only, whatever pgroot said. */
static int leaf_supervisor(const void *arg, ptent_t *pte, void *va)
{
	*pte &= ~(ptent_t)PTE_U;
	return 0;
}

/*
 * pgroot maps every window read/write/execute for the supervisor only
 * (dune_init(false)); its clone is the monitor's memory as ring 3 must
 * see it (nothing); then each owned range is opened with its prot.  The
 * clone's leaves lose PTE_U first, so that this holds whatever mode
 * libdune was entered in: a pgroot made user-accessible by
 * dune_init(true) would otherwise give ring 3 the whole monitor
 * (SDM 4.6: a leaf's U/S bit decides for a user-mode access).  The root
 * is loaded only after this, so no TLB holds the old entries.
 */
int box_mem_build_root(struct box_mem *m)
{
	unsigned int i;
	int r;

	if (m->root)
		return 0;
	m->root = dune_vm_clone(pgroot);
	if (!m->root)
		return -ENOMEM;
	dune_vm_page_walk(m->root, VA_START, VA_END, leaf_supervisor, NULL);
	for (i = 0; i < m->n; i++) {
		r = reflect(m, m->r[i].lo, m->r[i].hi, m->r[i].prot);
		if (r) {
			dune_vm_free(m->root);
			m->root = NULL;
			return r;
		}
	}
	return 0;
}

void *box_mem_root(const struct box_mem *m)
{
	return m->root;
}
