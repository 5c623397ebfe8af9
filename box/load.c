// SPDX-License-Identifier: MIT
/*
 * dune-box's loader (load.h): what execve does, done in this process.
 * The program's PT_LOAD segments and those of its PT_INTERP loader are
 * mapped with mmap as Linux's load_elf_binary maps them, a fresh stack
 * gets the initial stack image (load_plan.c), and every range mapped is
 * recorded with box_mem_add.  The pure part is in load_plan.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "load.h"
#include "load_plan.h"
#include "mem.h"

/*
 * Linux x86-64 (arch/x86/include/asm/elf.h, mm/util.c): a PIE with an
 * interpreter goes at ELF_ET_DYN_BASE (2/3 of the 47-bit space) plus
 * mmap_rnd_bits (28) of random pages; brk starts up to 32 MiB above the
 * program's end (arch_randomize_brk).
 */
#define BOX_DYN_BASE ((BOX_USER_TOP / 3 * 2) & ~(BOX_PAGE - 1))
#define BOX_DYN_RND_PAGES (1ull << 28)
#define BOX_BRK_RND (32ull << 20)
#define BOX_STACK_DEFAULT (8ull << 20)
#define BOX_STACK_MIN (128ull << 10)
#define BOX_STACK_MAX (1ull << 30)

/* auxv types newer than this system's headers (include/uapi/linux/auxvec.h) */
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif
#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#endif
#ifndef AT_RSEQ_ALIGN
#define AT_RSEQ_ALIGN 28
#endif

/* One ELF file, checked and planned. */
struct elf_file {
	int fd;
	struct box_plan plan;
	char interp[BOX_INTERP_MAX];	/* "" if none */
};

/* What box_load mapped so far (to record or to undo). */
#define MAX_RANGES (2 * (2 * BOX_MAX_SEGS + 1) + 8)
struct ranges {
	unsigned int n;
	struct {
		uint64_t lo, hi;
		int prot;
	} r[MAX_RANGES];
	/* whole mappings to undo on failure */
	unsigned int nmap;
	struct {
		uint64_t lo, hi;
	} map[8];
};

static uint64_t random_u64(void)
{
	uint64_t v = 0;

	/* getrandom of <= 256 bytes does not fail once the pool is up */
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = 0;
	return v;
}

/*
 * Open @path and check it (what = "" for the program, else the prefix
 * naming the interpreter).  0 with f->fd open, or -1 with @err set.
 */
static int open_elf(const char *path, const char *what, struct elf_file *f,
		    char *err, size_t errlen)
{
	unsigned char hdr[sizeof(Elf64_Ehdr)];
	Elf64_Phdr *ph = NULL;
	Elf64_Ehdr eh;
	struct stat st;
	char why[256];
	size_t phsize;
	ssize_t n;

	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return box_err(err, errlen, "%s%s: %s", what, path,
			    strerror(errno));
	if (fstat(f->fd, &st)) {
		box_err(err, errlen, "%s%s: %s", what, path, strerror(errno));
		goto bad;
	}
	if (!S_ISREG(st.st_mode)) {
		box_err(err, errlen, "%s%s: not a regular file", what, path);
		goto bad;
	}
	/* execve's rule: some x bit, and our effective ids may use it */
	if (!(st.st_mode & 0111) ||
	    faccessat(AT_FDCWD, path, X_OK, AT_EACCESS)) {
		box_err(err, errlen, "%s%s: not executable (permission denied)",
		     what, path);
		goto bad;
	}
	n = pread(f->fd, hdr, sizeof(hdr), 0);
	if (n < 0) {
		box_err(err, errlen, "%s%s: %s", what, path, strerror(errno));
		goto bad;
	}
	if (box_check_ehdr(hdr, n, why, sizeof(why))) {
		box_err(err, errlen, "%s%s: %s", what, path, why);
		goto bad;
	}
	memcpy(&eh, hdr, sizeof(eh));
	phsize = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (eh.e_phoff > (uint64_t)st.st_size ||
	    phsize > (uint64_t)st.st_size - eh.e_phoff) {
		box_err(err, errlen,
		     "%s%s: corrupt ELF header: program headers beyond the end of the file",
		     what, path);
		goto bad;
	}
	ph = malloc(phsize);
	if (!ph) {
		box_err(err, errlen, "%s%s: out of memory", what, path);
		goto bad;
	}
	if (pread(f->fd, ph, phsize, eh.e_phoff) != (ssize_t)phsize) {
		box_err(err, errlen, "%s%s: cannot read the program headers",
		     what, path);
		goto bad;
	}
	if (box_plan_segments(&eh, ph, st.st_size, &f->plan, why,
			      sizeof(why))) {
		box_err(err, errlen, "%s%s: %s", what, path, why);
		goto bad;
	}
	free(ph);
	ph = NULL;
	f->interp[0] = 0;
	if (f->plan.interp_len) {
		size_t len = f->plan.interp_len;

		if (pread(f->fd, f->interp, len, f->plan.interp_off) !=
		    (ssize_t)len) {
			box_err(err, errlen, "%s%s: bad PT_INTERP: cannot read it",
			     what, path);
			goto bad;
		}
		/* Linux: the path must end with its NUL, and have no other */
		if (f->interp[len - 1] || strlen(f->interp) != len - 1) {
			box_err(err, errlen,
			     "%s%s: bad PT_INTERP: not a NUL-terminated path",
			     what, path);
			goto bad;
		}
	}
	return 0;
bad:
	free(ph);
	close(f->fd);
	f->fd = -1;
	return -1;
}

/* The program and its interpreter, both checked.  0 or -1 with @err. */
static int open_both(const char *path, struct elf_file *exe,
		     struct elf_file *interp, char *err, size_t errlen)
{
	char what[BOX_INTERP_MAX + 64];

	interp->fd = -1;
	if (open_elf(path, "", exe, err, errlen))
		return -1;
	if (!exe->interp[0])
		return 0;
	snprintf(what, sizeof(what), "%s: bad PT_INTERP: ", path);
	if (open_elf(exe->interp, what, interp, err, errlen))
		goto bad;
	if (interp->interp[0]) {
		box_err(err, errlen,
		     "%s: bad PT_INTERP: %s has a PT_INTERP of its own", path,
		     exe->interp);
		close(interp->fd);
		interp->fd = -1;
		goto bad;
	}
	return 0;
bad:
	close(exe->fd);
	exe->fd = -1;
	return -1;
}

int box_load_check(const char *path, char *err, size_t errlen)
{
	return box_load_check_interp(path, NULL, 0, err, errlen);
}

int box_load_check_interp(const char *path, char *interp_out,
			  size_t interp_len, char *err, size_t errlen)
{
	struct elf_file *exe, *interp;
	int ret = -1;

	exe = malloc(sizeof(*exe));
	interp = malloc(sizeof(*interp));
	if (!exe || !interp) {
		box_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	ret = open_both(path, exe, interp, err, errlen);
	if (!ret && interp_out && interp_len)
		snprintf(interp_out, interp_len, "%s", exe->interp);
	if (!ret) {
		close(exe->fd);
		if (interp->fd >= 0)
			close(interp->fd);
	}
out:
	free(exe);
	free(interp);
	return ret;
}

/* ---- mapping ---- */

static int add_range(struct ranges *r, uint64_t lo, uint64_t hi, int prot)
{
	if (lo >= hi)
		return 0;
	/*
	 * A later segment sharing a page with the one before replaces it
	 * there.  (Only an overlap: the stack and the interpreter land
	 * anywhere, below what came before too.)
	 */
	if (r->n && r->r[r->n - 1].hi > lo && r->r[r->n - 1].lo < hi) {
		if (r->r[r->n - 1].lo >= lo)
			r->n--;
		else
			r->r[r->n - 1].hi = lo;
	}
	if (r->n == MAX_RANGES)
		return -1;
	r->r[r->n].lo = lo;
	r->r[r->n].hi = hi;
	r->r[r->n].prot = prot;
	r->n++;
	return 0;
}

static void add_map(struct ranges *r, uint64_t lo, uint64_t hi)
{
	r->map[r->nmap].lo = lo;
	r->map[r->nmap].hi = hi;
	r->nmap++;
}

static void undo(struct ranges *r)
{
	while (r->nmap--)
		munmap((void *)r->map[r->nmap].lo,
		       r->map[r->nmap].hi - r->map[r->nmap].lo);
	r->nmap = 0;
}

/*
 * Reserve the span of @p (PROT_NONE) and return the load bias.  ET_EXEC
 * at its own addresses; a PIE that has an interpreter at
 * BOX_DYN_BASE + random; anything else (the interpreter, a static PIE)
 * where mmap puts it, as Linux does.  Aligned to the largest p_align.
 */
static int reserve(const char *path, const struct box_plan *p,
		   bool pie_base, struct ranges *r, uint64_t *bias,
		   char *err, size_t errlen)
{
	uint64_t span = p->hi - p->lo, a = p->align, base;
	void *m;
	int i;

	if (p->type == ET_EXEC) {
		m = mmap((void *)p->lo, span, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0);
		if (m == MAP_FAILED)
			return box_err(err, errlen,
				    "%s: cannot map its segments at %#llx-%#llx: %s",
				    path, (unsigned long long)p->lo,
				    (unsigned long long)p->hi,
				    strerror(errno));
		*bias = 0;
		add_map(r, p->lo, p->hi);
		return 0;
	}
	if (pie_base) {
		for (i = 0; i < 32; i++) {
			base = BOX_DYN_BASE +
			       (random_u64() % BOX_DYN_RND_PAGES) * BOX_PAGE;
			base &= ~(a - 1);
			m = mmap((void *)(base + p->lo), span, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS |
					 MAP_FIXED_NOREPLACE,
				 -1, 0);
			if (m != MAP_FAILED) {
				*bias = base;
				add_map(r, base + p->lo, base + p->hi);
				return 0;
			}
		}
	}
	m = mmap(NULL, span + a - BOX_PAGE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return box_err(err, errlen, "%s: cannot reserve %llu bytes: %s",
			    path, (unsigned long long)span, strerror(errno));
	base = ((uint64_t)m + a - 1) & ~(a - 1);
	if (base > (uint64_t)m)
		munmap(m, base - (uint64_t)m);
	if (base + span < (uint64_t)m + span + a - BOX_PAGE)
		munmap((void *)(base + span),
		       (uint64_t)m + span + a - BOX_PAGE - (base + span));
	*bias = base - p->lo;
	add_map(r, base, base + span);
	return 0;
}

/* Map the segments of @f at bias @b inside its reservation. */
static int map_segments(const char *path, const struct elf_file *f,
			uint64_t b, struct ranges *r, char *err,
			size_t errlen)
{
	const struct box_plan *p = &f->plan;
	uint64_t prev = p->lo;
	unsigned int i;

	for (i = 0; i < p->nseg; i++) {
		const struct box_seg *s = &p->seg[i];
		bool zero = s->zero_lo < s->file_hi;
		int prot = s->prot | (zero ? PROT_WRITE : 0);
		void *m;

		/* the gap below stays a PROT_NONE reservation */
		if (s->lo > prev && add_range(r, b + prev, b + s->lo, 0))
			goto toomany;
		if (s->file_hi > s->lo) {
			m = mmap((void *)(b + s->lo), s->file_hi - s->lo, prot,
				 MAP_PRIVATE | MAP_FIXED, f->fd, s->file_off);
			if (m == MAP_FAILED)
				goto mapfail;
			/* the start of the bss in the last file page */
			if (zero) {
				memset((void *)(b + s->zero_lo), 0,
				       s->file_hi - s->zero_lo);
				if (mprotect(m, s->file_hi - s->lo, s->prot))
					goto mapfail;
			}
		}
		if (s->hi > s->file_hi) {
			m = mmap((void *)(b + s->file_hi), s->hi - s->file_hi,
				 s->prot,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
				 0);
			if (m == MAP_FAILED)
				goto mapfail;
		}
		if (add_range(r, b + s->lo, b + s->hi, s->prot))
			goto toomany;
		if (s->hi > prev)
			prev = s->hi;
	}
	return 0;
mapfail:
	return box_err(err, errlen, "%s: cannot map a segment: %s", path,
		    strerror(errno));
toomany:
	return box_err(err, errlen, "%s: too many mappings", path);
}

static uint64_t stack_size(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_STACK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return BOX_STACK_DEFAULT;
	if (rl.rlim_cur < BOX_STACK_MIN)
		return BOX_STACK_MIN;
	if (rl.rlim_cur > BOX_STACK_MAX)
		return BOX_STACK_MAX;
	return BOX_PAGE_UP(rl.rlim_cur);
}

/* A value the host kernel gave this process, if it gave one. */
static bool host_aux(unsigned long type, uint64_t *v)
{
	errno = 0;
	*v = getauxval(type);
	return *v || errno != ENOENT;
}

/* Record this process's vDSO and vvar pages (the sandbox uses them). */
static int add_vdso(struct ranges *r)
{
	unsigned long long lo, hi;
	char line[512], name[64];
	FILE *maps;
	int ret = 0;

	maps = fopen("/proc/self/maps", "re");
	if (!maps)
		return -1;
	while (fgets(line, sizeof(line), maps)) {
		name[0] = 0;
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %63s", &lo, &hi,
			   name) < 2)
			continue;
		if (!strcmp(name, "[vdso]"))
			ret |= add_range(r, lo, hi, PROT_READ | PROT_EXEC);
		else if (!strncmp(name, "[vvar", 5))
			ret |= add_range(r, lo, hi, PROT_READ);
	}
	fclose(maps);
	return ret;
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

int box_load(const char *path, const char *execfn, char *const argv[],
	     char *const envp[], struct box_mem *mem, struct box_image *img,
	     char *err, size_t errlen)
{
	struct elf_file *exe = NULL, *interp = NULL;
	struct box_auxv aux[BOX_AUXV_MAX];
	struct box_stack_args sa;
	unsigned char random[16];
	struct ranges *r = NULL;
	uint64_t bias, ibias = 0, size, v, top, brk, end;
	const char *platform = NULL;
	unsigned int n = 0, i;
	void *stack;
	int ret = -1;

	exe = malloc(sizeof(*exe));
	interp = malloc(sizeof(*interp));
	r = calloc(1, sizeof(*r));
	if (!exe || !interp || !r) {
		box_err(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (open_both(path, exe, interp, err, errlen))
		goto out;

	if (reserve(path, &exe->plan, exe->interp[0], r, &bias, err, errlen) ||
	    map_segments(path, exe, bias, r, err, errlen))
		goto undo;
	if (exe->interp[0] &&
	    (reserve(exe->interp, &interp->plan, false, r, &ibias, err,
		     errlen) ||
	     map_segments(exe->interp, interp, ibias, r, err, errlen)))
		goto undo;

	/* load_elf_binary: brk after the program, or at ELF_ET_DYN_BASE
	 * for a PIE run without interpreter; then randomised. */
	end = BOX_PAGE_UP(bias + exe->plan.hi);
	if (exe->plan.type == ET_DYN && !exe->interp[0])
		end = BOX_DYN_BASE;
	brk = end + (random_u64() % (BOX_BRK_RND / BOX_PAGE)) * BOX_PAGE;

	size = stack_size();
	stack = mmap(NULL, size,
		     PROT_READ | PROT_WRITE |
			     (exe->plan.exec_stack ? PROT_EXEC : 0),
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
		     -1, 0);
	if (stack == MAP_FAILED) {
		box_err(err, errlen, "%s: cannot map a stack: %s", path,
		     strerror(errno));
		goto undo;
	}
	top = (uint64_t)stack + size;
	add_map(r, (uint64_t)stack, top);
	if (add_range(r, (uint64_t)stack, top,
		      PROT_READ | PROT_WRITE |
			      (exe->plan.exec_stack ? PROT_EXEC : 0))) {
		box_err(err, errlen, "%s: too many mappings", path);
		goto undo;
	}

	/* create_elf_tables' order (ARCH_DLINFO first on x86-64). */
#define AUX(t, x) (aux[n].type = (t), aux[n].val = (x), n++)
	if (host_aux(AT_SYSINFO_EHDR, &v) && v)
		AUX(AT_SYSINFO_EHDR, v);
	if (host_aux(AT_MINSIGSTKSZ, &v))
		AUX(AT_MINSIGSTKSZ, v);
	AUX(AT_HWCAP, getauxval(AT_HWCAP));
	AUX(AT_PAGESZ, BOX_PAGE);
	AUX(AT_CLKTCK, getauxval(AT_CLKTCK));
	AUX(AT_PHDR, bias + exe->plan.phdr);
	AUX(AT_PHENT, sizeof(Elf64_Phdr));
	AUX(AT_PHNUM, exe->plan.phnum);
	AUX(AT_BASE, ibias);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, bias + exe->plan.entry);
	AUX(AT_UID, getuid());
	AUX(AT_EUID, geteuid());
	AUX(AT_GID, getgid());
	AUX(AT_EGID, getegid());
	AUX(AT_SECURE, 0);
	AUX(AT_RANDOM, 0);
	AUX(AT_HWCAP2, getauxval(AT_HWCAP2));
	AUX(AT_EXECFN, 0);
	platform = (const char *)getauxval(AT_PLATFORM);
	if (platform)
		AUX(AT_PLATFORM, 0);
	if (host_aux(AT_RSEQ_FEATURE_SIZE, &v))
		AUX(AT_RSEQ_FEATURE_SIZE, v);
	if (host_aux(AT_RSEQ_ALIGN, &v))
		AUX(AT_RSEQ_ALIGN, v);
#undef AUX

	if (getrandom(random, sizeof(random), 0) != sizeof(random)) {
		box_err(err, errlen, "%s: getrandom: %s", path, strerror(errno));
		goto undo;
	}
	memset(&sa, 0, sizeof(sa));
	sa.argv = argv;
	sa.envp = envp;
	sa.execfn = execfn;
	sa.platform = platform;
	sa.random = random;
	sa.align_rnd = random_u64() % 8192;
	sa.auxv = aux;
	sa.nauxv = n;
	if (box_stack_build(&sa, stack, top, size, &img->sp, err, errlen)) {
		char why[128];

		snprintf(why, sizeof(why), "%s", err);
		box_err(err, errlen, "%s: %s", path, why);
		goto undo;
	}

	if (add_vdso(r)) {
		box_err(err, errlen, "%s: cannot record the vDSO", path);
		goto undo;
	}
	qsort(r->r, r->n, sizeof(r->r[0]), cmp_range);
	for (i = 0; i < r->n; i++)
		if (box_mem_add(mem, r->r[i].lo, r->r[i].hi, r->r[i].prot)) {
			box_err(err, errlen, "%s: cannot record %#llx-%#llx",
			     path, (unsigned long long)r->r[i].lo,
			     (unsigned long long)r->r[i].hi);
			goto undo;
		}

	img->entry = exe->interp[0] ? ibias + interp->plan.entry :
				      bias + exe->plan.entry;
	img->brk = brk;
	img->exe_base = bias;
	img->interp_base = ibias;
	img->vdso = getauxval(AT_SYSINFO_EHDR);
	img->stack_lo = (uint64_t)stack;
	img->stack_hi = top;
	ret = 0;
	goto close;
undo:
	undo(r);
close:
	close(exe->fd);
	if (interp->fd >= 0)
		close(interp->fd);
out:
	free(exe);
	free(interp);
	free(r);
	return ret;
}
