// SPDX-License-Identifier: MIT
/*
 * dune-box: the sandbox's memory calls, reflected in its page-table root
 * (mem.c), and brk, emulated in a region of its own (the monitor's malloc
 * keeps the process's real brk).
 *
 * The rule: a memory call acts only on memory the sandbox owns, or on
 * free address space, which it then owns.  Free space is claimed with a
 * PROT_NONE MAP_FIXED_NOREPLACE reservation, which Linux refuses if
 * anything (the monitor's memory, libdune, its page tables) is mapped
 * there; munmap replaces the pages with such a reservation instead of
 * unmapping them, so an owned range never goes back to the free pool.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "monitor-int.h"
#include "monmem.h"

#define RWX (PROT_READ | PROT_WRITE | PROT_EXEC)
#define RESERVE_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)
/*
 * The brk heap's room, reserved when the run starts (before the
 * monitor's own mappings can land there): what Linux leaves free above
 * the program, up to 1 GiB; RLIMIT_DATA still applies to the mappings.
 */
#define BOX_BRK_MAX (1ull << 30)
#define BOX_BRK_MIN (1ull << 24)

bool box_is_err(long r)
{
	return r < 0 && r > -4096;
}

static long sys_mmap(uint64_t a, uint64_t len, int prot, int flags, int fd,
		     uint64_t off)
{
	return dune_sys6(SYS_mmap, a, len, prot, flags, fd, off);
}

/* [lo, hi) page-aligned, inside the user half, not wrapping. */
bool box_range_ok(uint64_t lo, uint64_t len, uint64_t *hi)
{
	uint64_t plen = BOX_PAGE_UP(len);

	if (!len || plen < len || (lo & (BOX_PG - 1)))
		return false;
	if (__builtin_add_overflow(lo, plen, hi) || *hi > BOX_USER_END)
		return false;
	return true;
}

/*
 * Make every page of [lo, hi) the sandbox's: owned pages stay as they
 * are, free ones are reserved.  -EPERM (and nothing changed) if any page
 * is neither: something not the sandbox's is mapped there.
 */
int box_claim(uint64_t lo, uint64_t hi)
{
	struct box_mem *m = box_mon.mem;
	uint64_t gap[32][2], p = lo, end;
	int n = 0, i, r = 0;

	while (p < hi) {
		if (box_mem_span(m, p, &end) >= 0) {
			p = end;
			continue;
		}
		if (end > hi)
			end = hi;
		if (n == 32) {
			r = -ENOMEM;
			break;
		}
		long a = sys_mmap(p, end - p, PROT_NONE,
				  RESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);
		if (a != (long)p) {
			/* old kernels ignore the flag: a hint elsewhere */
			if (!box_is_err(a))
				dune_sys6(SYS_munmap, a, end - p, 0, 0, 0, 0);
			r = -EPERM;
			break;
		}
		gap[n][0] = p;
		gap[n++][1] = end;
		p = end;
	}
	for (i = 0; i < n; i++) {
		if (!r)
			r = box_mem_add(m, gap[i][0], gap[i][1],
					BOX_MEM_RESERVED);
		else
			dune_sys6(SYS_munmap, gap[i][0], gap[i][1] - gap[i][0],
				  0, 0, 0, 0);
	}
	return r;
}

/* 0: all owned and mapped; 1: some pages only reserved; 2: some not owned */
int box_range_state(uint64_t lo, uint64_t hi)
{
	uint64_t p = lo, end;
	int worst = 0, prot;

	while (p < hi) {
		prot = box_mem_span(box_mon.mem, p, &end);
		if (prot < 0)
			return 2;
		if (prot & BOX_MEM_RESERVED)
			worst = 1;
		p = end;
	}
	return worst;
}

/* Replace [lo, hi) by a reservation (what munmap leaves). */
long box_unmap_keep(uint64_t lo, uint64_t hi)
{
	long r = sys_mmap(lo, hi - lo, PROT_NONE, RESERVE_FLAGS | MAP_FIXED,
			  -1, 0);

	if (box_is_err(r))
		return r;
	return box_mem_add(box_mon.mem, lo, hi, BOX_MEM_RESERVED);
}

static long do_mmap(struct box_ctx *c)
{
	uint64_t addr = c->a[0], len = c->a[1], hi;
	int prot = c->a[2], flags = c->a[3];
	long r;

	if (prot & ~RWX)
		return -EINVAL;
	/* the stack of a ring-3 program is not grown by the kernel's rules */
	flags &= ~MAP_GROWSDOWN;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (!box_range_ok(addr, len, &hi))
			return len && !(addr & (BOX_PG - 1)) ? -ENOMEM : -EINVAL;
		if ((flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE)) {
			r = box_claim(addr, hi);
			if (r) {
				c->refusal = "mmap(MAP_FIXED) over memory the sandbox does not own";
				return r;
			}
		}
	}
	r = sys_mmap(addr, len, prot, flags, c->a[4], c->a[5]);
	if (box_is_err(r))
		return r;
	if (!box_range_ok(r, len, &hi) ||
	    box_mem_add(box_mon.mem, r, hi, prot)) {
		/* cannot be tracked: undo rather than leave it unchecked */
		box_unmap_keep(r, r + BOX_PAGE_UP(len));
		return -ENOMEM;
	}
	return r;
}

static long do_munmap(struct box_ctx *c)
{
	uint64_t hi;
	long r;

	if (!box_range_ok(c->a[0], c->a[1], &hi))
		return -EINVAL;
	r = box_claim(c->a[0], hi);
	if (r) {
		c->refusal = "munmap of memory the sandbox does not own";
		return -EINVAL;
	}
	return box_unmap_keep(c->a[0], hi);
}

/* mprotect, madvise, msync: on mapped sandbox memory only */
static long on_owned(struct box_ctx *c, const char *what)
{
	uint64_t hi;
	long r;

	if (!c->a[1] && !(c->a[0] & (BOX_PG - 1)))
		return 0;
	if (!box_range_ok(c->a[0], c->a[1], &hi))
		return (c->a[0] & (BOX_PG - 1)) ? -EINVAL : -ENOMEM;
	switch (box_range_state(c->a[0], hi)) {
	case 2:
		c->refusal = what;
		return -ENOMEM;
	case 1:
		return -ENOMEM;	/* natively: part of it is not mapped */
	}
	if (c->nr == SYS_mprotect && ((int)c->a[2] & ~RWX))
		return -EINVAL;
	r = dune_sys6(c->nr, c->a[0], c->a[1], c->a[2], 0, 0, 0);
	if (!r && c->nr == SYS_mprotect)
		r = box_mem_add(box_mon.mem, c->a[0], hi, c->a[2]);
	return r;
}

/*
 * Grow the private anonymous mapping [old, oldhi) in place to newhi over
 * pages the sandbox had unmapped (reservations) or free ones: what Linux
 * does natively when nothing is mapped behind it.  Linux cannot grow it
 * over the reservation, and lifting the reservation first would leave
 * the range free for a moment (the monitor's own mappings could land
 * there); a private anonymous mapping of the same prot put over the
 * reservation in one MAP_FIXED is the same memory (zero pages), and
 * Linux merges it with the old one into one VMA.  1 if done, 0 if this
 * is not such a case (Linux decides), or a negative errno.
 */
static long grow_over_reserved(uint64_t old, uint64_t oldhi, uint64_t newhi,
			       int prot)
{
	struct box_vma v;
	uint64_t p, end;
	int pr;
	long r;

	for (p = oldhi; p < newhi; p = end) {
		pr = box_mem_span(box_mon.mem, p, &end);
		if (pr >= 0 && !(pr & BOX_MEM_RESERVED))
			return 0;	/* mapped: Linux refuses or moves */
	}
	if (!box_mem_any(box_mon.mem, oldhi, newhi))
		return 0;	/* all free: Linux grows it itself */
	/*
	 * Private anonymous, ending at oldhi.  It may start below old:
	 * Linux merges neighbours of one kind, the monitor's among them;
	 * [old, oldhi) is the sandbox's (checked), and only that grows.
	 */
	if (box_vma_at(old, &v) || v.hi != oldhi || v.named || v.ino ||
	    v.shared)
		return 0;
	if (box_claim(oldhi, newhi))
		return 0;	/* the monitor's memory is in the way */
	r = sys_mmap(oldhi, newhi - oldhi, prot,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (box_is_err(r))
		return r;
	r = box_mem_add(box_mon.mem, oldhi, newhi, prot);
	return r ? r : 1;
}

static long do_mremap(struct box_ctx *c)
{
	uint64_t old = c->a[0], oldhi, newhi, oldsz, newsz;
	int fl = c->a[3], prot;
	bool keep_old;
	long r;

	if (fl & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) {
		c->refusal = "mremap flags not supported";
		return -EINVAL;
	}
	if (!c->a[2] || (old & (BOX_PG - 1)))
		return -EINVAL;
	/*
	 * old_size 0 (a second mapping of a shared one) and DONTUNMAP
	 * leave the old range mapped: only the new one changes.  Natively
	 * the old range must lie in one mapping: here at least in owned,
	 * mapped memory (Linux checks the rest).
	 */
	keep_old = !c->a[1] || (fl & MREMAP_DONTUNMAP);
	if (!box_range_ok(old, c->a[1] ? c->a[1] : BOX_PG, &oldhi))
		return -EINVAL;
	oldsz = c->a[1] ? oldhi - old : 0;
	newsz = BOX_PAGE_UP(c->a[2]);
	switch (box_range_state(old, oldhi)) {
	case 2:
		c->refusal = "mremap of memory the sandbox does not own";
		return -EFAULT;
	case 1:
		return -EFAULT;
	}
	prot = box_mem_prot_at(box_mon.mem, old);
	if (fl & MREMAP_FIXED) {
		if (!box_range_ok(c->a[4], c->a[2], &newhi))
			return -EINVAL;
		if (box_claim(c->a[4], newhi)) {
			c->refusal = "mremap to memory the sandbox does not own";
			return -EINVAL;
		}
	} else if (!keep_old && newsz > oldsz &&
		   !__builtin_add_overflow(old, newsz, &newhi) &&
		   newhi <= BOX_USER_END) {
		r = grow_over_reserved(old, oldhi, newhi, prot);
		if (r)
			return r < 0 ? r : (long)old;
		if (!(fl & MREMAP_MAYMOVE) &&
		    box_range_state(oldhi, newhi) != 2)
			return -ENOMEM;	/* something is in the way */
	}
	r = dune_sys6(SYS_mremap, old, c->a[1], c->a[2], fl, c->a[4], 0);
	if (box_is_err(r))
		return r;
	/* what Linux unmapped becomes a reservation again */
	if (keep_old)
		;
	else if ((uint64_t)r != old)
		box_unmap_keep(old, oldhi);
	else if (newsz < oldsz)
		box_unmap_keep(old + newsz, oldhi);
	if (box_mem_add(box_mon.mem, r, r + newsz, prot))
		return -ENOMEM;
	return r;
}

static long do_brk(uint64_t want)
{
	uint64_t cur = box_mon.brk_cur, start = box_mon.brk_start;
	uint64_t oldtop = BOX_PAGE_UP(cur), newtop = BOX_PAGE_UP(want);
	long r;

	if (want < start || want - start > box_mon.brk_max)
		return cur;
	if (newtop > oldtop) {
		if (box_claim(oldtop, newtop))
			return cur;
		r = sys_mmap(oldtop, newtop - oldtop, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (box_is_err(r) ||
		    box_mem_add(box_mon.mem, oldtop, newtop,
				PROT_READ | PROT_WRITE)) {
			box_unmap_keep(oldtop, newtop);
			return cur;
		}
	} else if (newtop < oldtop) {
		if (box_unmap_keep(newtop, oldtop))
			return cur;
	}
	box_mon.brk_cur = want;
	return want;
}

void box_brk_reserve(void)
{
	uint64_t lo = box_mon.brk_start, len, hi;
	long r;

	for (len = BOX_BRK_MAX; len >= BOX_BRK_MIN; len /= 2) {
		if (!lo || !box_range_ok(lo, len, &hi))
			continue;
		r = sys_mmap(lo, len, PROT_NONE,
			     RESERVE_FLAGS | MAP_FIXED_NOREPLACE, -1, 0);
		if (r == (long)lo) {
			if (box_mem_add(box_mon.mem, lo, hi, BOX_MEM_RESERVED))
				dune_sys6(SYS_munmap, lo, len, 0, 0, 0, 0);
			else
				box_mon.brk_max = len;
			return;
		}
		if (!box_is_err(r))
			dune_sys6(SYS_munmap, r, len, 0, 0, 0, 0);
	}
}

long box_mem_call(struct box_ctx *c)
{
	switch (c->nr) {
	case SYS_brk:
		return do_brk(c->a[0]);
	case SYS_mmap:
		return do_mmap(c);
	case SYS_munmap:
		return do_munmap(c);
	case SYS_mprotect:
		return on_owned(c, "mprotect of memory the sandbox does not own");
	case SYS_madvise:
		return on_owned(c, "madvise of memory the sandbox does not own");
	case SYS_msync:
		return on_owned(c, "msync of memory the sandbox does not own");
	case SYS_mremap:
		return do_mremap(c);
	case SYS_shmat:
		return box_shm_at(c);
	case SYS_shmdt:
		return box_shm_dt(c);
	}
	return -ENOSYS;
}
