// SPDX-License-Identifier: MIT
/*
 * dune-box: System V shared memory.  shmget and shmctl go to Linux (with
 * shmctl's buffer checked by its command); shmat and shmdt are memory
 * calls (monmem.c's rules): what they map and unmap is written into the
 * sandbox's root, and they never touch memory the sandbox does not own.
 *
 * shmat: with no address Linux chooses free address space, as for mmap
 * without a hint.  With one (SHM_RND rounds it down to SHMLBA), the
 * segment is attached in free space first and its real extent read;
 * the target range must then be the sandbox's or free: free pages are
 * reserved (claim) and the attachment moved over the reservation with
 * mremap, which is what a native shmat onto an address the program had
 * unmapped gives; pages the program has mapped need SHM_REMAP as
 * natively (else EINVAL), and the monitor's memory is refused (EINVAL,
 * with a message).  shmdt finds a moved attachment as an unmoved one
 * (Linux looks for the segment's mapping at offset 0 at that address).
 *
 * The extent of an attachment is the kernel's word, read from
 * /proc/self/maps (the segment's mapping from its start, as many VMAs as
 * mprotect split it into), both to record what shmat mapped and to find
 * what shmdt unmaps.  Without an address, the segment's size from
 * IPC_STAT is checked against what Linux mapped (an id removed and
 * reused meanwhile names another segment: the attachment is undone).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#include "monitor-int.h"
#include "monmem.h"

/* The whole of /proc/self/maps, NUL-terminated; NULL if unreadable. */
static char *read_maps(void)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap), *nb;
	long fd, n = 0;

	if (!buf)
		return NULL;
	fd = dune_sys6(SYS_openat, AT_FDCWD, (uint64_t)"/proc/self/maps",
		       O_RDONLY | O_CLOEXEC, 0, 0, 0);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096) {
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = dune_sys6(SYS_read, fd, (uint64_t)(buf + len),
			      cap - len - 1, 0, 0, 0);
		if (n <= 0)
			break;
		len += n;
	}
	dune_sys6(SYS_close, fd, 0, 0, 0, 0, 0);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}


/* One line of maps: "lo-hi perms off maj:min ino [path]". */
static bool parse_line(const char *s, struct box_vma *v)
{
	char *e;

	v->lo = strtoull(s, &e, 16);
	if (*e != '-')
		return false;
	v->hi = strtoull(e + 1, &e, 16);
	if (strlen(e) < 6 || e[5] != ' ')
		return false;
	v->shared = e[4] == 's';	/* "rwxp" or "rwxs" */
	e += 5;
	v->off = strtoull(e + 1, &e, 16);
	v->dev_maj = strtoul(e + 1, &e, 16);
	if (*e != ':')
		return false;
	v->dev_min = strtoul(e + 1, &e, 16);
	v->ino = strtoull(e + 1, &e, 10);
	while (*e == ' ')
		e++;
	v->sysv = !strncmp(e, "/SYSV", 5);
	v->named = *e && *e != '\n';
	return true;
}

/*
 * The end of the System V shared memory attachment that starts at @addr
 * (offset 0 there, then the same segment's VMAs contiguously): 0 if no
 * attachment starts there, -ENOMEM if maps cannot be read.
 */
static long shm_extent(uint64_t addr, uint64_t *end)
{
	char *maps = read_maps(), *line;
	struct box_vma v, first = { 0 };
	bool in = false;

	if (!maps)
		return -ENOMEM;
	*end = 0;
	for (line = maps; *line; line = strchr(line, '\n') + 1) {
		if (!parse_line(line, &v))
			break;
		if (!in && v.lo == addr && v.sysv && !v.off) {
			first = v;
			in = true;
			*end = v.hi;
		} else if (in) {
			if (v.lo != *end || !v.sysv || v.ino != first.ino ||
			    v.dev_maj != first.dev_maj ||
			    v.dev_min != first.dev_min || v.off != v.lo - addr)
				break;
			*end = v.hi;
		}
		if (!strchr(line, '\n'))
			break;
	}
	free(maps);
	return 0;
}

int box_vma_at(uint64_t addr, struct box_vma *out)
{
	char *maps = read_maps(), *line;
	struct box_vma v;
	int r = -ENOENT;

	if (!maps)
		return -ENOMEM;
	for (line = maps; *line; line = strchr(line, '\n') + 1) {
		if (!parse_line(line, &v))
			break;
		if (v.lo <= addr && addr < v.hi) {
			*out = v;
			r = 0;
			break;
		}
		if (!strchr(line, '\n'))
			break;
	}
	free(maps);
	return r;
}

/*
 * shmat at @addr: attached first where Linux chooses, in free space, so
 * that whatever size the segment has by then nothing can be replaced;
 * then, its real extent known, moved onto the claimed target with one
 * mremap.  (A SHM_REMAP at the target itself maps the size Linux finds
 * at that moment: a segment removed and its id reused after the IPC_STAT
 * could be larger than the claim and replace the monitor's memory.)
 */
static long shm_at_addr(struct box_ctx *c, uint64_t addr, int fl, int prot)
{
	uint64_t hi, end, p, span_end, size;
	long r, m, ret = -EINVAL;
	int pr;

	r = dune_sys6(SYS_shmat, c->a[0], 0, fl & ~(SHM_RND | SHM_REMAP), 0,
		      0, 0);
	if (box_is_err(r))
		return r;
	if (shm_extent(r, &end) || end <= (uint64_t)r) {
		c->refusal = "shmat: the segment changed while it was attached";
		goto undo;
	}
	size = end - r;
	if (!box_range_ok(addr, size, &hi))
		goto undo;
	/*
	 * Natively the range must be free (a page the program unmapped
	 * is) unless SHM_REMAP; the monitor's pages are "in use" whatever
	 * the flags.
	 */
	for (p = addr; p < hi && !(fl & SHM_REMAP); p = span_end) {
		pr = box_mem_span(box_mon.mem, p, &span_end);
		if (pr >= 0 && !(pr & BOX_MEM_RESERVED))
			goto undo;
	}
	if (box_claim(addr, hi)) {
		c->refusal = "shmat over memory the sandbox does not own";
		goto undo;
	}
	/* over the claim (a reservation the sandbox owns) in one step */
	m = dune_sys6(SYS_mremap, r, size, size,
		      MREMAP_MAYMOVE | MREMAP_FIXED, addr, 0);
	if (box_is_err(m)) {
		ret = m;
		goto undo;
	}
	if (box_mem_add(box_mon.mem, addr, addr + size, prot)) {
		box_unmap_keep(addr, addr + size);
		return -ENOMEM;
	}
	return addr;
undo:
	dune_sys6(SYS_shmdt, r, 0, 0, 0, 0, 0);
	return ret;
}

long box_shm_at(struct box_ctx *c)
{
	uint64_t addr = c->a[1], end, size;
	int fl = c->a[2], prot;
	struct shmid_ds ds;
	long r;

	prot = PROT_READ | (fl & SHM_RDONLY ? 0 : PROT_WRITE) |
	       (fl & SHM_EXEC ? PROT_EXEC : 0);
	if (addr & (SHMLBA - 1)) {
		if (!(fl & SHM_RND))
			return -EINVAL;
		addr &= ~(uint64_t)(SHMLBA - 1);
	}
	if (addr)
		return shm_at_addr(c, addr, fl, prot);
	/* Linux chooses: free address space only (as mmap's) */
	if (fl & SHM_REMAP)
		return -EINVAL;
	r = dune_sys6(SYS_shmctl, c->a[0], IPC_STAT, (uint64_t)&ds, 0, 0, 0);
	if (r)
		return r;
	size = BOX_PAGE_UP(ds.shm_segsz);
	r = dune_sys6(SYS_shmat, c->a[0], 0, fl, 0, 0, 0);
	if (box_is_err(r))
		return r;
	/* What Linux mapped, by its own account, must be what we expect. */
	if (shm_extent(r, &end) || end != r + size) {
		if (end > (uint64_t)r && end <= BOX_USER_END) {
			/* Linux put it in free space: all of it is the segment */
			box_unmap_keep(r, end);
		} else {
			dune_sys6(SYS_shmdt, r, 0, 0, 0, 0, 0);
		}
		c->refusal = "shmat: the segment changed while it was attached";
		return -EINVAL;
	}
	if (box_mem_add(box_mon.mem, r, end, prot)) {
		box_unmap_keep(r, end);
		return -ENOMEM;
	}
	return r;
}

long box_shm_dt(struct box_ctx *c)
{
	uint64_t addr = c->a[0], end;

	if (addr & (BOX_PG - 1))
		return -EINVAL;
	/* owned and mapped, and an attachment starts there (natively EINVAL) */
	if (box_range_state(addr, addr + BOX_PG) || shm_extent(addr, &end) ||
	    !end)
		return -EINVAL;
	if (box_range_state(addr, end)) {
		c->refusal = "shmdt of memory the sandbox does not own";
		return -EINVAL;
	}
	/* detached by unmapping: Linux counts the attachment gone */
	return box_unmap_keep(addr, end) < 0 ? -EINVAL : 0;
}
