// SPDX-License-Identifier: MIT
/*
 * Hardening of dune.ko's memory and resources (issue 11): 2 MiB EPT
 * entries only within one slot, EPT table allocation under concurrency,
 * limits on vCPUs and contexts, running without VPIDs, EPT tables freed
 * on munmap, kernel memory charged to the memory cgroup, and the rows of
 * docs/api.md's error table that no other test covers.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vcpu-guest.h"
#include "dune-counters.h"

#define GIB (1ull << 30)
#define MIB2 0x200000ull

/* mov (%rsi),%rax; vmcall */
static const uint8_t read_code[] = { 0x48, 0x8b, 0x06, 0x0f, 0x01, 0xc1 };

/*
 * Identity-map guest-virtual [gb GiB, gb + 1 GiB) with 2 MiB pages in the
 * page tables of vcpu-guest.h, the PD on page @pd_page.  Accessed and
 * dirty bits are preset, so the guest's page walks only read them.
 */
static void map_gib(unsigned int gb, int pd_page)
{
	uint64_t *pdpt = (uint64_t *)PG(1), *pd = (uint64_t *)PG(pd_page);
	int i;

	for (i = 0; i < 512; i++)
		pd[i] = ((uint64_t)gb * GIB + i * MIB2) | 0xe3;
	pdpt[gb] = PG(pd_page) | 0x23;
}

static void set_slot(int index, uint64_t gpa, uint64_t hva, uint64_t size)
{
	struct dune_slot s = { .index = index, .gpa = gpa, .hva = hva,
			       .size = size };

	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, &s), 0);
}

/* DUNE_RUN until the guest's VMCALL (see guest_run()). */
static void run_to_vmcall(int fd, struct dune_run *run)
{
	IT_ASSERT_EQ(guest_run(fd, run), 0);
	IT_ASSERT_EQ(run->exit_reason, DUNE_EXIT_VMCALL);
}

/* Run the read_code guest on @fd reading guest-virtual @va; rax. */
static uint64_t guest_read(int fd, struct dune_run *run, uint64_t va)
{
	run->regs.rip = PG(P_CODE);
	run->regs.rsi = va;
	run_to_vmcall(fd, run);
	return run->regs.rax;
}

static uint64_t ept_maps(int fd)
{
	struct dune_stats st;

	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_STATS, &st), 0);
	return st.ept_maps;
}

/* kB of AnonHugePages of the mapping holding @addr (/proc/self/smaps). */
static long anon_huge_kb(uint64_t addr)
{
	unsigned long lo, hi;
	char line[512];
	bool in = false;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	IT_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = addr >= lo && addr < hi;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/*
 * Item 1.  Slot 1 maps the first MiB of a transparent huge page at GPA
 * 2 GiB, slot 2 the next MiB of guest-physical space to another page, and
 * slot 3 aliases the whole THP at GPA 3 GiB.  A 2 MiB EPT entry for slot
 * 1's fault would cover slot 2's MiB with the THP's second half.  Slot 3's
 * fault, one slot over an aligned 2 MiB, still gets one 2 MiB entry.
 */
static void test_thp_slot_boundary(void)
{
	uint64_t h, y, n;
	struct dune_caps caps;
	struct dune_run run;
	char *p;
	int fd;

	guest_setup();
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_GET_CAPS, &caps), 0);
	IT_ASSERT(caps.flags & DUNE_CAP_EPT_2M);
	IT_ASSERT_EQ(itest_sh("grep -q '\\[never\\]' /sys/kernel/mm/transparent_hugepage/enabled && "
			      "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled; "
			      "! grep -q '\\[never\\]' /sys/kernel/mm/transparent_hugepage/enabled"), 0);
	p = mmap(NULL, 2 * MIB2, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(p != MAP_FAILED);
	h = ((uint64_t)p + MIB2 - 1) & ~(MIB2 - 1);
	IT_ASSERT_EQ(madvise((void *)h, MIB2, MADV_HUGEPAGE), 0);
	*(volatile uint64_t *)h = 0x1111;
	*(volatile uint64_t *)(h + 0x100000) = 0xaaaa;
	IT_ASSERT_EQ(anon_huge_kb(h), 2048);
	y = (uint64_t)mmap(NULL, 0x100000, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(y != (uint64_t)MAP_FAILED);
	*(volatile uint64_t *)y = 0xbbbb;

	set_slot(1, 2 * GIB, h, 0x100000);
	set_slot(2, 2 * GIB + 0x100000, y, 0x100000);
	set_slot(3, 3 * GIB, h, MIB2);
	map_gib(2, 10);
	map_gib(3, 11);
	fd = vcpu_new(read_code, sizeof(read_code), &run);

	IT_ASSERT_EQ(guest_read(fd, &run, 2 * GIB), 0x1111);
	IT_ASSERT_EQ(guest_read(fd, &run, 2 * GIB + 0x100000), 0xbbbb);
	IT_ASSERT_EQ(guest_read(fd, &run, 3 * GIB), 0x1111);
	n = ept_maps(fd);
	/* inside the 2 MiB entry slot 3's first fault made: no new map */
	IT_ASSERT_EQ(guest_read(fd, &run, 3 * GIB + 0x100000), 0xaaaa);
	IT_ASSERT_EQ(ept_maps(fd), n);
	close(fd);
}

/*
 * Item 2.  Eight vCPU threads of one context fault on fresh 1 GiB regions
 * at once: each sets the context's EPT table cache aside, then sleeps in
 * get_user_pages on a userfaultfd page until all eight wait; then all are
 * let go together, so they use up the cache the others set aside.  Every
 * DUNE_RUN must succeed (each fault needs a new PD and PT).
 */
#define RACE_THREADS 8

static struct dune_vcpu_config race_cfg;
static pthread_barrier_t race_barrier;
static uint64_t race_src[RACE_THREADS][512] __attribute__((aligned(4096)));
static struct {
	pthread_t t;
	int r, err;
	uint32_t exit_reason;
	uint64_t rax;
} race[RACE_THREADS];

static void *race_thread(void *arg)
{
	long i = (long)arg;
	struct dune_run run;
	int fd = ioctl(dev_fd, DUNE_CREATE_VCPU, &race_cfg);

	race[i].err = errno;
	/*
	 * Every thread exists (its stack mapped) before any faults: an
	 * mprotect of a new stack's guard page would be an invalidation,
	 * after which a fault retries from the top instead of mapping.
	 */
	pthread_barrier_wait(&race_barrier);
	if (fd < 0) {
		race[i].r = -2;
		pthread_barrier_wait(&race_barrier);
		return NULL;
	}
	memset(&run, 0, sizeof(run));
	run.regs = race_cfg.regs;
	run.regs.rsi = (2 + i) * GIB;
	do {
		errno = 0;
		race[i].r = ioctl(fd, DUNE_RUN, &run);
		race[i].err = errno;
	} while (!race[i].r && run.exit_reason == DUNE_EXIT_SIGNAL);
	race[i].exit_reason = run.exit_reason;
	race[i].rax = run.regs.rax;
	/*
	 * And none exits before all ran: glibc gives an exiting thread's
	 * stack back with MADV_DONTNEED, an invalidation again.
	 */
	pthread_barrier_wait(&race_barrier);
	close(fd);
	return NULL;
}

static void test_ept_cache_race(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct dune_run run;
	uint64_t seen = 0;
	long i;
	int uffd, fd;
	char *r;

	guest_setup();
	r = mmap(NULL, RACE_THREADS * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(r != MAP_FAILED);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	IT_ASSERT(uffd >= 0);
	IT_ASSERT_EQ(ioctl(uffd, UFFDIO_API, &api), 0);
	reg.range.start = (uint64_t)r;
	reg.range.len = RACE_THREADS * 4096;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	IT_ASSERT_EQ(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		set_slot(1 + i, (2 + i) * GIB, (uint64_t)r + i * 4096, 4096);
		map_gib(2 + i, 10 + i);
	}
	/*
	 * Warm up: the code page and every guest page table the threads'
	 * walks read get their EPT entries now, so the only fault left for
	 * each thread is its userfaultfd page.
	 */
	fd = vcpu_new(read_code, sizeof(read_code), &run);
	for (i = 0; i < RACE_THREADS; i++)
		guest_read(fd, &run, PG(10 + i));
	guest_read(fd, &run, PG(0));
	guest_read(fd, &run, PG(1));
	close(fd);

	/*
	 * The pages to copy in are written now: a first write later could be
	 * a copy-on-write of the zero page, an invalidation too.
	 */
	for (i = 0; i < RACE_THREADS; i++)
		race_src[i][0] = 1000 + i;
	config_init(&race_cfg, read_code, sizeof(read_code));
	IT_ASSERT_EQ(pthread_barrier_init(&race_barrier, NULL, RACE_THREADS), 0);
	for (i = 0; i < RACE_THREADS; i++)
		IT_ASSERT_EQ(pthread_create(&race[i].t, NULL, race_thread,
					    (void *)i), 0);
	/* All eight are asleep in the fault, past the cache refill. */
	for (i = 0; i < RACE_THREADS; i++) {
		struct uffd_msg msg;
		uint64_t page;

		IT_ASSERT_EQ(read(uffd, &msg, sizeof(msg)), sizeof(msg));
		IT_ASSERT_EQ(msg.event, UFFD_EVENT_PAGEFAULT);
		page = (msg.arg.pagefault.address - (uint64_t)r) / 4096;
		IT_ASSERT(page < RACE_THREADS);
		IT_ASSERT(!(seen & (1ull << page)));
		seen |= 1ull << page;
	}
	for (i = 0; i < RACE_THREADS; i++) {
		struct uffdio_copy copy = {
			.dst = (uint64_t)r + i * 4096,
			.src = (uint64_t)race_src[i],
			.len = 4096,
		};

		IT_ASSERT_EQ(ioctl(uffd, UFFDIO_COPY, &copy), 0);
	}
	for (i = 0; i < RACE_THREADS; i++)
		IT_ASSERT_EQ(pthread_join(race[i].t, NULL), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		if (race[i].r)
			IT_FAIL("thread %ld: DUNE_RUN returned %d, errno %d (%s)",
				i, race[i].r, race[i].err,
				strerror(race[i].err));
		IT_ASSERT_EQ(race[i].exit_reason, DUNE_EXIT_VMCALL);
		IT_ASSERT_EQ(race[i].rax, 1000 + i);
	}
	close(uffd);
}

/* Run @fn in a child as real uid @ruid (effective @euid); its exit status. */
static int as_user(void (*fn)(void), uid_t ruid, uid_t euid)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		if (setresgid(ruid, ruid, ruid) || setresuid(ruid, euid, euid))
			_exit(100);
		fn();
		_exit(0);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int create_vcpu_errno(void)
{
	struct dune_vcpu_config c;

	config_init(&c, read_code, sizeof(read_code));
	errno = 0;
	return ioctl(dev_fd, DUNE_CREATE_VCPU, &c) >= 0 ? 0 : errno;
}

/* A forked child: the guest memory is inherited, the context is not. */
static void child_setup(void)
{
	dev_fd = dune_dev_open();
	if (dev_fd < 0)
		_exit(101);
	set_slot(0, BASE, BASE, SIZE);
}

/* Makes 3 vCPUs, then the fourth must fail with EAGAIN (exit 0). */
static void user_fills_quota(void)
{
	int i;

	child_setup();
	for (i = 0; i < 3; i++)
		if (create_vcpu_errno())
			_exit(10 + i);
	_exit(create_vcpu_errno() == EAGAIN ? 0 : 2);
}

/* held: the holder tells it holds; release: the test tells it to go */
static int held_pipe[2], release_pipe[2];

/* Holds 3 vCPUs until told to stop. */
static void user_holds_quota(void)
{
	char c;
	int i;

	child_setup();
	for (i = 0; i < 3; i++)
		if (create_vcpu_errno())
			_exit(10 + i);
	if (write(held_pipe[1], "x", 1) != 1 || read(release_pipe[0], &c, 1) != 1)
		_exit(20);
	_exit(0);
}

/* One vCPU, run once: exit 0 if it worked, else the errno. */
static void user_one_vcpu(void)
{
	struct dune_run run;
	int e, fd;

	child_setup();
	e = create_vcpu_errno();
	if (e)
		_exit(e);
	fd = vcpu_new(read_code, sizeof(read_code), &run);
	if (guest_read(fd, &run, PG(P_DATA)) != *(uint64_t *)PG(P_DATA))
		_exit(99);
	_exit(0);
}

static void limits_body(void)
{
	int fds[4], i;
	pid_t holder;

	/* per process: vCPUs (EMFILE) */
	guest_setup();
	dune_param_set("max_vcpus_per_process", 3);
	for (i = 0; i < 3; i++)
		IT_ASSERT_EQ(create_vcpu_errno(), 0);
	IT_ASSERT_EQ(create_vcpu_errno(), EMFILE);
	/* contexts (EMFILE): dev_fd's is the first */
	dune_param_set("max_contexts_per_process", 2);
	for (i = 0; i < 2; i++) {
		struct dune_slot s = { .index = 0 };

		fds[i] = dune_dev_open();
		IT_ASSERT(fds[i] >= 0);
		errno = 0;
		IT_ASSERT_EQ(ioctl(fds[i], DUNE_SET_SLOT, &s), i ? -1 : 0);
		if (i)
			IT_ASSERT_EQ(errno, EMFILE);
	}
	close(fds[1]);
	close(fds[0]);
	dune_param_set("max_vcpus_per_process", 1024);

	/* per user, counted by real uid: EAGAIN for that user only */
	dune_param_set("max_vcpus_per_user", 3);
	IT_ASSERT_EQ(as_user(user_fills_quota, 1000, 1000), 0);
	IT_ASSERT_EQ(pipe(held_pipe), 0);
	IT_ASSERT_EQ(pipe(release_pipe), 0);
	holder = fork();
	IT_ASSERT(holder >= 0);
	if (holder == 0) {
		if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
			_exit(100);
		user_holds_quota();
	}
	{
		char c;

		IT_ASSERT_EQ(read(held_pipe[0], &c, 1), 1);
	}
	/* uid 1000's quota is held: a process with real uid 1000 is refused
	 * even with effective uid 0, a different user is not */
	IT_ASSERT_EQ(as_user(user_one_vcpu, 1000, 1000), EAGAIN);
	IT_ASSERT_EQ(as_user(user_one_vcpu, 1000, 0), EAGAIN);
	IT_ASSERT_EQ(as_user(user_one_vcpu, 1001, 1001), 0);
	IT_ASSERT_EQ(write(release_pipe[1], "x", 1), 1);
	{
		int st;

		IT_ASSERT_EQ(waitpid(holder, &st, 0), holder);
		IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* the quota is back once they are gone */
	IT_ASSERT_EQ(as_user(user_one_vcpu, 1000, 1000), 0);

	/* contexts per user (EAGAIN) */
	dune_param_set("max_contexts_per_user", 0);
	{
		struct dune_slot s = { .index = 0 };
		int fd = dune_dev_open();

		IT_ASSERT(fd >= 0);
		errno = 0;
		IT_ASSERT_EQ(ioctl(fd, DUNE_SET_SLOT, &s), -1);
		IT_ASSERT_EQ(errno, EAGAIN);
		close(fd);
	}
}

/* Run @body in a child; put the module parameters back whatever happens. */
static void with_params_restored(void (*body)(void))
{
	static const char *const names[] = {
		"max_vcpus_per_process", "max_vcpus_per_user",
		"max_contexts_per_process", "max_contexts_per_user",
		"max_vpids",
	};
	long saved[5];
	size_t i;
	int st;

	for (i = 0; i < 5; i++)
		saved[i] = dune_param(names[i]);
	st = itest_in_child(body);
	for (i = 0; i < 5; i++)
		dune_param_set(names[i], saved[i]);
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Item 3: limits per process and per user, documented errnos. */
static void test_vcpu_limits(void)
{
	long before[DUNE_NR_COUNTERS];

	dune_counters_read(before);
	with_params_restored(limits_body);
	dune_counters_expect(before);
}

/*
 * Item 3: with the VPIDs used up, new vCPUs run without one.  Two such
 * vCPUs alternate on one CPU with different page-table roots mapping the
 * same guest-virtual page to different pages: each must see its own.
 */
static void vpid_body(void)
{
	uint64_t va = 2 * GIB + P_DATA * 4096ull;
	struct dune_vcpu_config c;
	struct dune_run run[3];
	long inuse, without;
	int fd[3], i, k;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	IT_ASSERT_EQ(sched_setaffinity(0, sizeof(set), &set), 0);
	guest_setup();
	dune_debugfs_mount();
	/* no vCPU anywhere holds a VPID: the first one takes the last */
	inuse = dune_counter("vcpus") - dune_counter("vcpus_without_vpid");
	IT_ASSERT_EQ(inuse, 0);
	without = dune_counter("vcpus_without_vpid");
	dune_param_set("max_vpids", 1);

	/* root k (k = 1, 2): PML4 on page 12+3k, PDPT 13+3k, PD 14+3k */
	for (k = 1; k <= 2; k++) {
		uint64_t *pml4 = (uint64_t *)PG(12 + 3 * k);
		uint64_t *pdpt = (uint64_t *)PG(13 + 3 * k);
		uint64_t *pd = (uint64_t *)PG(14 + 3 * k);

		pml4[0] = PG(13 + 3 * k) | 0x23;
		pdpt[1] = PG(2) | 0x23;
		pdpt[2] = PG(14 + 3 * k) | 0x23;
		pd[0] = (BASE + (k - 1) * MIB2) | 0xe3;
	}
	*(volatile uint64_t *)PG(P_DATA) = 0xaaaa;
	*(volatile uint64_t *)(PG(P_DATA) + MIB2) = 0xbbbb;
	for (i = 0; i < 3; i++) {
		config_init(&c, read_code, sizeof(read_code));
		/* vCPU 0 takes the last VPID, on the usual tables */
		if (i)
			c.cr3 = PG(12 + 3 * i);
		fd[i] = vcpu_create_run(&c, &run[i]);
	}
	IT_ASSERT_EQ(dune_counter("vcpus_without_vpid"), without + 2);
	for (k = 0; k < 10; k++) {
		IT_ASSERT_EQ(guest_read(fd[1], &run[1], va), 0xaaaa);
		IT_ASSERT_EQ(guest_read(fd[2], &run[2], va), 0xbbbb);
		IT_ASSERT_EQ(guest_read(fd[0], &run[0], PG(P_DATA)), 0xaaaa);
	}
	for (i = 0; i < 3; i++)
		close(fd[i]);
	IT_ASSERT_EQ(dune_counter("vcpus_without_vpid"), without);
}

static void test_vpid_exhausted(void)
{
	with_params_restored(vpid_body);
}

/*
 * Item 4: EPT tables go when their memory does.  The guest touches one
 * page in each of 4096 2 MiB regions (a page table each), the process
 * munmaps them, and the EPT table count falls back exactly.
 */
GUEST_ASM(g_touch,
	  "1: movq %rax, (%rsi)\n"
	  "add %rdx, %rsi\n"
	  "dec %rcx\n"
	  "jnz 1b\n"
	  "vmcall\n");

#define TOUCH_REGIONS 4096ull

static void test_ept_tables_freed(void)
{
	uint64_t size = TOUCH_REGIONS * MIB2, gb;
	long base, touched, global[DUNE_NR_COUNTERS];
	struct dune_run run;
	void *r;
	int fd;

	dune_counters_read(global);
	guest_setup();
	r = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	IT_ASSERT(r != MAP_FAILED);
	IT_ASSERT_EQ(madvise(r, size, MADV_NOHUGEPAGE), 0);
	set_slot(1, 4 * GIB, (uint64_t)r, size);
	for (gb = 4; gb < 4 + size / GIB; gb++)
		map_gib(gb, 10 + gb - 4);
	fd = vcpu_new_asm(g_touch_start, g_touch_end, &run);
	/* one region first: every table on the way exists but the PT's */
	run.regs.rsi = 4 * GIB;
	run.regs.rcx = 1;
	run.regs.rdx = MIB2;
	run_to_vmcall(fd, &run);
	base = dune_counter("ept_tables");

	run.regs.rip = GADDR(g_touch, g_touch_start);
	run.regs.rsi = 4 * GIB;
	run.regs.rcx = TOUCH_REGIONS;
	run_to_vmcall(fd, &run);
	touched = dune_counter("ept_tables");
	printf("    EPT tables: %ld before, %ld with %llu regions touched\n",
	       base, touched, TOUCH_REGIONS);
	IT_ASSERT(touched >= base + (long)TOUCH_REGIONS - 1);

	IT_ASSERT_EQ(munmap(r, size), 0);
	/* the first PT, the PDs of 4-12 GiB and the PDPT entries' tables */
	IT_ASSERT(dune_counter("ept_tables") < base);
	run.regs.rip = GADDR(g_touch, g_touch_start);
	IT_ASSERT(mmap(r, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
		       -1, 0) == r);
	IT_ASSERT_EQ(madvise(r, size, MADV_NOHUGEPAGE), 0);
	run.regs.rsi = 4 * GIB;
	run.regs.rcx = 1;
	run_to_vmcall(fd, &run);
	IT_ASSERT_EQ(dune_counter("ept_tables"), base);
	close(fd);
	close(dev_fd);
	dune_counters_expect(global);
}

/*
 * Item 4: a vCPU's VMCS page, struct and EPT tables are charged to the
 * memory cgroup of the process that made them: 512 vCPUs add at least
 * their 512 VMCS pages to memory.current.
 */
static long cg_read(const char *file)
{
	return dune_read_file("/sys/fs/cgroup/dune-itest", file);
}

static void test_memcg_charged(void)
{
	long before, after;
	int i;

	IT_ASSERT_EQ(itest_sh("grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts || "
			      "mount -t cgroup2 none /sys/fs/cgroup"), 0);
	IT_ASSERT_EQ(itest_sh("echo +memory > /sys/fs/cgroup/cgroup.subtree_control && "
			      "mkdir -p /sys/fs/cgroup/dune-itest && "
			      "echo %d > /sys/fs/cgroup/dune-itest/cgroup.procs",
			      (int)getpid()), 0);
	guest_setup();
	/* the first vCPU: the context and its EPT are made already */
	IT_ASSERT_EQ(create_vcpu_errno(), 0);
	before = cg_read("memory.current");
	for (i = 0; i < 512; i++)
		IT_ASSERT_EQ(create_vcpu_errno(), 0);
	after = cg_read("memory.current");
	printf("    memory.current: %ld before, %ld after 512 vCPUs\n", before,
	       after);
	IT_ASSERT(after - before >= 512 * 4096);
}

/* kept in a separate cgroup dir per run: remove it once the child is gone */
static void test_memcg(void)
{
	int st = itest_in_child(test_memcg_charged);

	itest_sh("rmdir /sys/fs/cgroup/dune-itest");
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/*
 * Item 5: the module reads no hypercall number: every VMCALL at CPL 0
 * returns to user space with rax as the guest left it.  libdune runs the
 * program's system calls (through its stub) as the thread's own, so an
 * unknown number gets -ENOSYS, exactly as natively; a VMCALL of the
 * program's own is SIGILL as natively (itest-fid-exc).
 */
static void test_unknown_vmcall_raw(void)
{
	static const long nrs[] = { 100000, 1024, -1, 0x7fffffff };
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
	struct dune_run run;
	size_t i;
	int fd;

	/* the module: rax untouched, whatever the number */
	guest_setup();
	fd = vcpu_new(code, sizeof(code), &run);
	for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		run.regs.rip = PG(P_CODE);
		run.regs.rax = nrs[i];
		IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
		IT_ASSERT_EQ(run.regs.rax, (uint64_t)nrs[i]);
	}
	close(fd);
}

static void test_unknown_vmcall_libdune(void)
{
	static const long nrs[] = { 100000, 1024, -1, 0x7fffffff };
	size_t i;

	/* libdune: -ENOSYS, as natively */
	for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		errno = 0;
		IT_ASSERT_EQ(syscall(nrs[i]), -1);
		IT_ASSERT_EQ(errno, ENOSYS);
	}
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
	IT_ASSERT(dune_active());
	for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		errno = 0;
		IT_ASSERT_EQ(syscall(nrs[i]), -1);
		IT_ASSERT_EQ(errno, ENOSYS);
	}
}

/* docs/api.md error table: DUNE_RUN with a non-canonical rip is EINVAL. */
static void test_run_noncanonical_rip(void)
{
	struct dune_run run;
	int fd;

	guest_setup();
	fd = vcpu_new(read_code, sizeof(read_code), &run);
	run.regs.rip = 0x0000800000000000ull;
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), -1);
	IT_ASSERT_EQ(errno, EINVAL);
	close(fd);
}

static const struct itest tests[] = {
	{ "thp_slot_boundary", test_thp_slot_boundary },
	{ "ept_cache_race", test_ept_cache_race },
	{ "vcpu_limits", test_vcpu_limits },
	{ "vpid_exhausted", test_vpid_exhausted },
	{ "ept_tables_freed", test_ept_tables_freed },
	{ "memcg_charged", test_memcg },
	{ "unknown_vmcall_raw", test_unknown_vmcall_raw },
	{ "unknown_vmcall_libdune", test_unknown_vmcall_libdune },
	{ "run_noncanonical_rip", test_run_noncanonical_rip },
};

ITEST_MAIN(tests)
