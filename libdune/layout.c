// SPDX-License-Identifier: MIT
/*
 * Guest-physical layout: choosing the windows of the address space that
 * Dune maps (see layout.h), and reading /proc/self/maps into hints.
 * Pure logic: no system calls, so it is unit-tested on the host and safe
 * to call from the host loop.
 */
#include <errno.h>
#include <string.h>

#include "layout.h"
#include "raw.h"

/* Parts run in the host loop: see raw.h. */
DUNE_NOFPU_BEGIN

static uint64_t align_down(uint64_t x, uint64_t a)
{
	return x & ~(a - 1);
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* 1/32 of the space, at least 1 GiB: room for pages the module may need. */
uint64_t dune_layout_reserve(unsigned int maxphyaddr)
{
	uint64_t r = (1ull << maxphyaddr) / 32;

	return r < DUNE_GIB ? DUNE_GIB : align_down(r, DUNE_GIB);
}

/* A window being planned: 1 GiB aligned VA bounds and growth roles. */
struct plan {
	uint64_t lo, hi;
	bool heap;	/* holds the brk heap: grows up */
	bool mmap;	/* holds the end of the mmap area the next mmap uses */
};

/* Past DUNE_USER_TOP, rounded to the window granularity. */
#define PLAN_TOP (align_up(DUNE_USER_TOP, DUNE_GIB))

static uint64_t room_up(const struct plan *p, unsigned int n, unsigned int i)
{
	return (i + 1 < n ? p[i + 1].lo : PLAN_TOP) - p[i].hi;
}

static uint64_t room_down(const struct plan *p, unsigned int i)
{
	return p[i].lo - (i ? p[i - 1].hi : 0);
}

/* Merge plan i + 1 into plan i. */
static void plan_merge_next(struct plan *p, unsigned int *n, unsigned int i)
{
	p[i].hi = max_u64(p[i].hi, p[i + 1].hi);
	p[i].heap |= p[i + 1].heap;
	p[i].mmap |= p[i + 1].mmap;
	memmove(&p[i + 1], &p[i + 2], (*n - i - 2) * sizeof(*p));
	(*n)--;
}

/*
 * Which areas anchor growth.  The heap grows up from [heap] (or, before
 * the first brk, from the executable: brk starts up to 32 MiB above it).
 * Top-down mmap hands out addresses below the lowest mapping of the mmap
 * area, whose top is the highest mapping under the stack (window merging
 * joins the rest of that area to it).  Legacy bottom-up mmap starts above
 * the low window and hands out addresses above its highest mapping.
 */
static uint64_t low_end(const struct dune_layout_hints *h)
{
	return max_u64(DUNE_LOW_WINDOW, align_up(h->low_end, DUNE_GIB));
}

static void find_anchors(const struct dune_layout_hints *h, int *heap,
			 int *mmap)
{
	uint64_t stack_lo = DUNE_USER_TOP;
	unsigned int i;

	*heap = -1;
	*mmap = -1;
	for (i = 0; i < h->nr_areas; i++) {
		const struct dune_area *a = &h->area[i];

		if (a->kind == DUNE_AREA_HEAP)
			*heap = i;
		else if (a->kind == DUNE_AREA_EXE &&
			 (*heap < 0 || h->area[*heap].kind == DUNE_AREA_EXE))
			*heap = i;	/* the highest EXE area, if no [heap] */
		if (a->kind == DUNE_AREA_STACK)
			stack_lo = min_u64(stack_lo, a->lo);
	}
	for (i = 0; i < h->nr_areas; i++) {
		const struct dune_area *a = &h->area[i];

		if (h->legacy_mmap) {
			if (a->kind != DUNE_AREA_STACK &&
			    a->kind != DUNE_AREA_HEAP &&
			    a->lo >= low_end(h) && a->hi <= stack_lo) {
				*mmap = i;	/* areas are sorted: the lowest */
				break;
			}
		} else if (a->kind != DUNE_AREA_STACK && a->hi <= stack_lo) {
			*mmap = i;	/* ... and the last one is the highest */
		}
	}
}

static void plans_sort(struct plan *p, unsigned int n)
{
	unsigned int i, j;

	for (i = 1; i < n; i++) {
		struct plan x = p[i];

		for (j = i; j > 0 && p[j - 1].lo > x.lo; j--)
			p[j] = p[j - 1];
		p[j] = x;
	}
}

int dune_layout_compute(struct dune_layout *l, unsigned int maxphyaddr,
			const struct dune_layout_hints *h)
{
	struct plan p[DUNE_LAYOUT_MAX_AREAS + 1];
	uint64_t budget, sum, avail, g, stack_grow, gpa;
	unsigned int n = 0, i;
	int heap, mmap;

	if (!l || !h || maxphyaddr < 32 || maxphyaddr > 52 ||
	    h->nr_areas > DUNE_LAYOUT_MAX_AREAS || h->low_end > DUNE_USER_TOP)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->maxphyaddr = maxphyaddr;
	budget = (1ull << maxphyaddr) - dune_layout_reserve(maxphyaddr);
	if (h->max_map && h->max_map < budget)
		budget = align_down(h->max_map, DUNE_GIB);

	/* Big enough for all of user space: map it 1:1 and be done. */
	if (budget >= PLAN_TOP) {
		l->nr = 1;
		l->w[0].va = 0;
		l->w[0].gpa = 0;
		l->w[0].size = DUNE_USER_TOP;
		l->gpa_end = PLAN_TOP;
		return 0;
	}

	stack_grow = h->stack_limit ? h->stack_limit : 8ull << 20;
	stack_grow = min_u64(stack_grow, 4 * DUNE_GIB);
	find_anchors(h, &heap, &mmap);

	p[n++] = (struct plan){ .lo = 0, .hi = low_end(h) };
	for (i = 0; i < h->nr_areas; i++) {
		const struct dune_area *a = &h->area[i];
		uint64_t lo = a->lo, hi = min_u64(a->hi, DUNE_USER_TOP);

		if (lo >= hi)
			continue;
		/*
		 * The stack grows down; above it there is only the
		 * stack's random offset (at most 16 GiB) and, on older
		 * kernels, the vDSO: cover up to the end of user space.
		 */
		if (a->kind == DUNE_AREA_STACK) {
			lo -= min_u64(stack_grow, lo);
			hi = DUNE_USER_TOP;
		}
		if ((int)i == heap && a->kind == DUNE_AREA_EXE)
			hi = min_u64(hi + DUNE_BRK_RANDOM, DUNE_USER_TOP);
		p[n++] = (struct plan){
			.lo = align_down(lo, DUNE_GIB),
			.hi = align_up(hi, DUNE_GIB),
			.heap = (int)i == heap,
			.mmap = (int)i == mmap,
		};
	}
	plans_sort(p, n);
	for (i = 0; i + 1 < n;) {
		if (p[i + 1].lo <= p[i].hi)
			plan_merge_next(p, &n, i);
		else
			i++;
	}
	/* Too many slots: close the smallest gaps (costs GPA space). */
	while (n > DUNE_LAYOUT_MAX_WINDOWS) {
		unsigned int best = 0;

		for (i = 1; i + 1 < n; i++)
			if (p[i + 1].lo - p[i].hi < p[best + 1].lo - p[best].hi)
				best = i;
		plan_merge_next(p, &n, best);
	}

	sum = 0;
	for (i = 0; i < n; i++)
		sum += p[i].hi - p[i].lo;
	if (sum > budget)
		return -ENOSPC;

	/*
	 * Share what is left: an eighth to the brk heap, the rest to the
	 * mmap area (where big allocations, thread stacks and libraries go),
	 * and whatever the mmap area has no address space for to the heap.
	 * Growth never crosses into a neighbouring window.
	 */
	avail = budget - sum;
	for (i = 0; i < n; i++) {
		if (p[i].heap) {
			g = min_u64(align_down(avail / 8, DUNE_GIB),
				    room_up(p, n, i));
			p[i].hi += g;
			avail -= g;
		}
	}
	for (i = 0; i < n; i++) {
		if (!p[i].mmap)
			continue;
		if (h->legacy_mmap) {
			g = min_u64(avail, room_up(p, n, i));
			p[i].hi += g;
		} else {
			g = min_u64(avail, room_down(p, i));
			p[i].lo -= g;
		}
		avail -= g;
	}
	for (i = 0; i < n; i++) {
		if (p[i].heap) {
			g = min_u64(avail, room_up(p, n, i));
			p[i].hi += g;
			avail -= g;
		}
	}

	/* GPAs in VA order, so the low window is the identity. */
	gpa = 0;
	for (i = 0; i < n; i++) {
		l->w[i].va = p[i].lo;
		l->w[i].gpa = gpa;
		l->w[i].size = min_u64(p[i].hi, DUNE_USER_TOP) - p[i].lo;
		gpa += p[i].hi - p[i].lo;
	}
	l->nr = n;
	l->gpa_end = gpa;
	return 0;
}

uint64_t dune_layout_va_to_pa(const struct dune_layout *l, uint64_t va)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (va - l->w[i].va < l->w[i].size)
			return l->w[i].gpa + (va - l->w[i].va);
	return DUNE_BAD_ADDR;
}

uint64_t dune_layout_pa_to_va(const struct dune_layout *l, uint64_t pa)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (pa - l->w[i].gpa < l->w[i].size)
			return l->w[i].va + (pa - l->w[i].gpa);
	return DUNE_BAD_ADDR;
}

bool dune_layout_covers(const struct dune_layout *l, uint64_t lo, uint64_t hi)
{
	unsigned int i;

	/* Windows may be adjacent: walk from one into the next. */
	while (lo < hi) {
		for (i = 0; i < l->nr; i++)
			if (lo - l->w[i].va < l->w[i].size)
				break;
		if (i == l->nr)
			return false;
		lo = l->w[i].va + l->w[i].size;
	}
	return true;
}

/* ---- /proc/self/maps ---- */

struct maps_line {
	uint64_t lo, hi, inode;
	const char *dev, *path;
	size_t dev_len, path_len;
};

static const char *skip_blank(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *skip_token(const char *s, const char *e)
{
	while (s < e && *s != ' ' && *s != '\t')
		s++;
	return s;
}

/* Parse digits in @base; NULL if there are none or they overflow. */
static const char *parse_num(const char *s, const char *e, unsigned int base,
			     uint64_t *v)
{
	const char *start = s;
	uint64_t x = 0;

	for (; s < e; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (x > (~0ull - d) / base)
			return NULL;
		x = x * base + d;
	}
	if (s == start)
		return NULL;
	*v = x;
	return s;
}

/* "lo-hi perms offset dev inode [path]" */
static bool parse_line(const char *s, const char *e, struct maps_line *m)
{
	uint64_t off;

	s = parse_num(s, e, 16, &m->lo);
	if (!s || s == e || *s != '-')
		return false;
	s = parse_num(s + 1, e, 16, &m->hi);
	if (!s || m->hi <= m->lo)
		return false;
	s = skip_token(skip_blank(s, e), e);	/* perms */
	s = skip_blank(s, e);
	s = parse_num(s, e, 16, &off);
	if (!s)
		return false;
	m->dev = skip_blank(s, e);
	s = skip_token(m->dev, e);
	m->dev_len = s - m->dev;
	s = parse_num(skip_blank(s, e), e, 10, &m->inode);
	if (!s || !m->dev_len)
		return false;
	m->path = skip_blank(s, e);
	m->path_len = e - m->path;
	while (m->path_len && (m->path[m->path_len - 1] == ' ' ||
			       m->path[m->path_len - 1] == '\r'))
		m->path_len--;
	return true;
}

static bool path_is(const struct maps_line *m, const char *name)
{
	size_t n = strlen(name);

	return m->path_len == n && !memcmp(m->path, name, n);
}

static void add_area(struct dune_layout_hints *h, uint64_t lo, uint64_t hi,
		     unsigned int kind)
{
	struct dune_area *last = h->nr_areas ? &h->area[h->nr_areas - 1] : NULL;

	/*
	 * One kind, close together: one area (libraries and the anonymous
	 * memory between them are one mmap area).  When the table is full
	 * the last area swallows the rest; the more specific kind wins.
	 */
	if (last && (lo < last->hi ||
		     (last->kind == kind && lo - last->hi < DUNE_GIB) ||
		     h->nr_areas == DUNE_LAYOUT_MAX_AREAS)) {
		last->hi = max_u64(last->hi, hi);
		if (kind > last->kind)
			last->kind = kind;
		return;
	}
	h->area[h->nr_areas++] = (struct dune_area){ lo, hi, kind };
}

/* Calls @fn for each parseable line; stops early when it returns true. */
static bool for_each_line(const char *text, size_t len,
			  bool (*fn)(const struct maps_line *, void *),
			  void *arg)
{
	const char *s = text, *end = text + len;

	while (s < end) {
		const char *e = memchr(s, '\n', end - s);
		struct maps_line m;

		if (!e)
			e = end;
		if (parse_line(s, e, &m) && fn(&m, arg))
			return true;
		s = e + 1;
	}
	return false;
}

struct exe_id {
	uint64_t addr, inode;
	const char *dev;
	size_t dev_len;
};

static bool find_exe(const struct maps_line *m, void *arg)
{
	struct exe_id *x = arg;

	if (x->addr < m->lo || x->addr >= m->hi || !m->inode)
		return false;
	x->inode = m->inode;
	x->dev = m->dev;
	x->dev_len = m->dev_len;
	return true;
}

struct classify {
	const struct exe_id *exe;
	struct dune_layout_hints *h;
};

static bool classify_line(const struct maps_line *m, void *arg)
{
	struct classify *c = arg;
	const struct exe_id *x = c->exe;
	unsigned int kind = DUNE_AREA_MMAP;

	if (m->lo >= DUNE_USER_TOP)
		return false;	/* [vsyscall]: not user memory */
	if (path_is(m, "[heap]"))
		kind = DUNE_AREA_HEAP;
	else if (path_is(m, "[stack]"))
		kind = DUNE_AREA_STACK;
	else if (x->inode && m->inode == x->inode && m->dev_len == x->dev_len &&
		 !memcmp(m->dev, x->dev, m->dev_len))
		kind = DUNE_AREA_EXE;
	add_area(c->h, m->lo, m->hi, kind);
	return false;
}

int dune_maps_parse(const char *text, size_t len, uint64_t exe_addr,
		    struct dune_layout_hints *h)
{
	struct exe_id exe = { .addr = exe_addr };
	struct classify c = { .exe = &exe, .h = h };

	memset(h, 0, sizeof(*h));
	if (exe_addr)
		for_each_line(text, len, find_exe, &exe);
	for_each_line(text, len, classify_line, &c);
	return h->nr_areas ? 0 : -EINVAL;
}

DUNE_NOFPU_END
