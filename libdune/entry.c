// SPDX-License-Identifier: MIT
/*
 * dune_init and dune_enter: setting up the process (layout, memory slots,
 * page tables, IDT) and moving a thread into Dune mode.  This runs
 * natively before entering, so it may use libc freely.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

struct dune_proc dune_proc = { .dev_fd = -1 };
__thread struct dune_thread *dune_self;

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

/* Without 1 GiB pages, cap the mapped space to keep 2 MiB tables small. */
#define MAX_MAP_2M (1ull << 40)

static bool debug_enabled(void)
{
	const char *d = getenv("DUNE_DEBUG");

	return d && *d && strcmp(d, "0");
}

static void cpu_features(void)
{
	unsigned int a, b, c, d;

	dune_proc.pdpe1gb = __get_cpuid(0x80000001, &a, &b, &c, &d) &&
			    (d & (1u << 26));
	dune_proc.xsave_mask = 0;
	dune_proc.fpu_size = 512;	/* fxsave */
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27))) {
		uint32_t lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		/*
		 * x87, SSE, AVX and AVX-512 state: what compiled C code may
		 * touch.  Not AMX (its state may be disabled by XFD), not
		 * PKRU (handlers must see the program's).
		 */
		dune_proc.xsave_mask = ((uint64_t)hi << 32 | lo) & 0xe7;
		__cpuid_count(0xd, 0, a, b, c, d);
		if (b > dune_proc.fpu_size)
			dune_proc.fpu_size = b;
	}
}

/*
 * All of /proc/self/maps, in an mmap'ed buffer that stays mapped while
 * the text is parsed: being the newest mapping, it marks where the mmap
 * area hands out addresses next, even in a static program with hardly
 * any mappings.
 */
static char *read_maps(size_t *len, size_t *cap)
{
	size_t n = 0, sz = 1 << 20;
	char *buf, *nb;
	ssize_t r;
	int fd;

	buf = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return NULL;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	for (;;) {
		if (n == sz) {
			nb = mremap(buf, sz, 2 * sz, MREMAP_MAYMOVE);
			if (nb == MAP_FAILED)
				goto fail_fd;
			buf = nb;
			sz *= 2;
		}
		r = read(fd, buf + n, sz - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail_fd;
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	*len = n;
	*cap = sz;
	return buf;
fail_fd:
	close(fd);
fail:
	munmap(buf, sz);
	return NULL;
}

/* Bottom-up mmap (see arch/x86/mm/mmap.c: mmap_is_legacy). */
static bool legacy_mmap(void)
{
	struct rlimit rl;
	char c = '0';
	int pers = personality(0xffffffff);
	int fd;

	if (pers != -1 && (pers & ADDR_COMPAT_LAYOUT))
		return true;
	if (!getrlimit(RLIMIT_STACK, &rl) && rl.rlim_cur == RLIM_INFINITY)
		return true;
	fd = open("/proc/sys/vm/legacy_va_layout", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '0';
		close(fd);
	}
	return c != '0';
}

static void print_layout(FILE *f)
{
	const struct dune_layout *l = &dune_proc.layout;
	unsigned int i;

	fprintf(f, "libdune: MAXPHYADDR %u, %u window(s), %s guest pages:\n",
		l->maxphyaddr, l->nr, dune_proc.pdpe1gb ? "1 GiB" : "2 MiB");
	for (i = 0; i < l->nr; i++)
		fprintf(f, "libdune:   VA 0x%012llx-0x%012llx -> GPA 0x%011llx (%llu GiB)\n",
			(unsigned long long)l->w[i].va,
			(unsigned long long)(l->w[i].va + l->w[i].size),
			(unsigned long long)l->w[i].gpa,
			(unsigned long long)((l->w[i].size + DUNE_GIB - 1) >> 30));
}

/* On success *@out gets the hints (areas), for dune_vm_init; free them. */
static int init_layout(unsigned int maxphyaddr,
		       struct dune_layout_hints **out)
{
	struct dune_layout_hints *h;
	struct rlimit rl;
	size_t len, cap;
	char *text;
	unsigned int i;
	int r;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -1;
	text = read_maps(&len, &cap);
	if (!text) {
		fprintf(stderr, "libdune: cannot read /proc/self/maps: %s\n",
			strerror(errno));
		free(h);
		return -1;
	}
	r = dune_maps_parse(text, len, getauxval(AT_PHDR), h);
	munmap(text, cap);
	if (r) {
		fprintf(stderr, "libdune: /proc/self/maps lists no mappings\n");
		free(h);
		errno = EINVAL;
		return -1;
	}
	if (!getrlimit(RLIMIT_STACK, &rl) && rl.rlim_cur != RLIM_INFINITY)
		h->stack_limit = rl.rlim_cur;
	h->legacy_mmap = legacy_mmap();
	h->max_map = dune_proc.pdpe1gb ? 0 : MAX_MAP_2M;
	/* The pool's addresses are its GPAs (page.c). */
	h->low_end = PAGEBASE + (uint64_t)num_pages * DUNE_PAGE;

	r = dune_layout_compute(&dune_proc.layout, maxphyaddr, h);
	if (r == -ENOSPC) {
		fprintf(stderr,
			"libdune: this process's memory does not fit into the %u-bit guest-physical space (MAXPHYADDR) even in 1 GiB windows; its mapped areas:\n",
			maxphyaddr);
		for (i = 0; i < h->nr_areas; i++)
			fprintf(stderr, "libdune:   0x%llx-0x%llx\n",
				(unsigned long long)h->area[i].lo,
				(unsigned long long)h->area[i].hi);
	} else if (r) {
		fprintf(stderr,
			"libdune: cannot compute a layout for MAXPHYADDR %u: %s\n",
			maxphyaddr, strerror(-r));
	}
	if (r) {
		free(h);
		errno = -r;
		return -1;
	}
	*out = h;
	return 0;
}

/* An address where mmap puts memory now (for mmap_base), or 0. */
static uint64_t mmap_probe(void)
{
	void *p = mmap(NULL, DUNE_PAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	munmap(p, DUNE_PAGE);
	return (uint64_t)p;
}

static int set_slots(int fd)
{
	const struct dune_window *w;
	unsigned int bad = 0;
	long r = dune_slots_set(fd, &bad);

	if (!r)
		return 0;
	w = &dune_proc.layout.w[bad];
	fprintf(stderr,
		"libdune: DUNE_SET_SLOT %u (VA 0x%llx-0x%llx at GPA 0x%llx) failed: %s\n",
		bad, (unsigned long long)w->va,
		(unsigned long long)(w->va + w->size),
		(unsigned long long)w->gpa, strerror(-r));
	errno = -r;
	return -1;
}

/* Memory the CPU reads behind the program's back must be reachable. */
static int check_reachable(void)
{
	const struct dune_layout *l = &dune_proc.layout;
	static const struct {
		const char *what;
		const void *p;
		size_t size;
	} parts[] = {
		{ "the IDT", dune_idt, sizeof(dune_idt) },
		{ "the trap entry code", dune_trap_stubs,
		  DUNE_IDT_ENTRIES * TRAP_STUB_SIZE },
		{ "the system call stub", (const void *)dune_syscall_stub, 16 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (dune_layout_covers(l, (uint64_t)parts[i].p,
				       (uint64_t)parts[i].p + parts[i].size))
			continue;
		fprintf(stderr, "libdune: %s at %p is outside Dune's windows\n",
			parts[i].what, parts[i].p);
		errno = EFAULT;
		return -1;
	}
	return 0;
}

/*
 * A process forked after dune_init (natively) inherits a /dev/dune fd
 * that belongs to its parent's mm: open our own, same slots.
 */
static int reinit_after_fork(void)
{
	int fd;

	dune_close_inherited_fds(-1);
	dune_proc.dev_fd = -1;
	fd = dune_dev_open();
	if (fd < 0)
		return -1;
	if (set_slots(fd)) {
		close(fd);
		return -1;
	}
	dune_proc.dev_fd = dune_fd_own(fd);
	dune_proc.pid = getpid();
	return 0;
}

static int do_init(unsigned int flags)
{
	struct dune_layout_hints *h = NULL;
	struct dune_caps caps;
	uint64_t probe;
	int fd, err;

	if (dune_proc.ready)
		return dune_proc.pid == getpid() ? 0 : reinit_after_fork();
	fd = dune_dev_open();
	if (fd < 0)
		return -1;
	if (ioctl(fd, DUNE_GET_CAPS, &caps)) {
		fprintf(stderr, "libdune: DUNE_GET_CAPS failed: %s\n",
			strerror(errno));
		goto fail;
	}
	dune_proc.caps_flags = caps.flags;
	cpu_features();
	dune_sig_init();
	/* The pool first: the layout then covers it like any mapping. */
	probe = mmap_probe();
	if (dune_page_init() || init_layout(caps.maxphyaddr, &h) ||
	    set_slots(fd) || dune_page_init_pa() ||
	    dune_vm_init(h, probe, flags))
		goto fail;
	free(h);
	h = NULL;
	dune_idt_init();
	dune_vsyscall_init();
	dune_rseq_init();
	if (check_reachable())
		goto fail;
	dune_proc.debug = debug_enabled();
	if (dune_proc.debug)
		print_layout(stderr);
	dune_proc.dev_fd = dune_fd_own(fd);
	dune_proc.pid = getpid();
	dune_proc.ready = true;
	return 0;
fail:
	err = errno;
	free(h);
	close(fd);
	errno = err;
	return -1;
}

int dune_init_flags(unsigned int flags)
{
	int r;

	if (flags & ~(DUNE_INIT_BIG_PGROOT | DUNE_INIT_USER_PGROOT)) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&init_lock);
	r = do_init(flags);
	pthread_mutex_unlock(&init_lock);
	return r;
}

/*
 * The original's map_full mapped the process's memory for ring 3 too
 * (PERM_U); without it, for ring 0 only (dune.h).
 */
int dune_init(bool map_full)
{
	return dune_init_flags(map_full ? DUNE_INIT_USER_PGROOT : 0);
}

static const char *create_vcpu_hint(int err)
{
	switch (err) {
	case ENOTTY:
		return " (this dune.ko does not implement DUNE_CREATE_VCPU)";
	case EINVAL:
		return " (the module refused libdune's vCPU configuration)";
	case EBUSY:
		return " (this thread already has a vCPU)";
	case ENOMEM:
		return " (out of memory for the VMCS)";
	default:
		return "";
	}
}

/* Called by dune_enter (entry.S) with the caller's register snapshot. */
int dune_enter_c(struct dune_regs *regs)
{
	struct dune_thread *t;
	long fd;

	/* Already in Dune mode (a CLONE_VM child without TLS: no dune_self). */
	if (dune_self || dune_active())
		return 0;
	if (!dune_proc.ready) {
		fprintf(stderr, "libdune: dune_enter() called before dune_init()\n");
		errno = EINVAL;
		return -1;
	}
	if (dune_proc.pid != getpid() && dune_init(true))
		return -1;
	t = dune_thread_alloc();
	if (!t) {
		fprintf(stderr,
			"libdune: cannot allocate this thread's host and exception stacks inside Dune's windows\n");
		errno = ENOMEM;
		return -1;
	}
	memcpy(&t->run.regs, regs, sizeof(*regs));
	dune_vcpu_fd_begin(t);
	fd = dune_vcpu_create(t);
	if (fd < 0) {
		dune_vcpu_fd_end(t);
		fprintf(stderr, "libdune: DUNE_CREATE_VCPU failed: %s%s\n",
			strerror(-fd), create_vcpu_hint(-fd));
		dune_thread_free(t);
		errno = -fd;
		return -1;
	}
	t->vcpu_fd = dune_fd_own(fd);
	dune_sig_thread_enter(t);
	dune_vcpu_fd_end(t);
	dune_self = t;
	dune_rseq_enter(t);
	/*
	 * From here on the guest owns the stack we are on (it returns from
	 * dune_enter on it); the host loop gets its own.
	 */
	dune_switch_stack(t->host_stack_top, dune_host_loop, t);
}

int dune_init_and_enter(void)
{
	if (dune_init(true))
		return -1;
	return dune_enter();
}

bool dune_active(void)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs == DUNE_SEL_KCODE;
}

int dune_get_stats(struct dune_stats *stats)
{
	struct dune_thread *t = dune_self;
	long r;

	if (!t || !dune_active()) {
		errno = ESRCH;
		return -1;
	}
	r = dune_own_syscall3(SYS_ioctl, t->vcpu_fd, DUNE_GET_STATS,
			      (long)stats);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

const struct dune_layout *dune_get_layout(void)
{
	return dune_proc.ready ? &dune_proc.layout : NULL;
}
