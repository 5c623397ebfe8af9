// SPDX-License-Identifier: MIT
/*
 * Integration tests for libdune: faults, traps and signals in Dune mode.
 *
 * Memory the process may not touch becomes the ordinary signal (the host
 * loop repeats the access natively); guest exceptions become the signal
 * Linux sends (reported on stderr too with DUNE_DEBUG=1; see also
 * itest-fid-exc and the fid-exc-* programs), unless the program
 * registered a handler; what Linux never signals (a page fault outside
 * the windows) is reported and fatal.  Each case runs in a child whose exit
 * status or death (and stderr) the test checks.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "itest.h"
#include "dune.h"

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
	IT_ASSERT(dune_active());
}

static char err[8192];

/* ---- faults on memory: the ordinary signals ---- */

static volatile uintptr_t want_addr;
static volatile int want_code;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	if (sig != SIGSEGV)
		_exit(40);
	if ((uintptr_t)si->si_addr != want_addr)
		_exit(41);
	if (si->si_code != want_code)
		_exit(43);
	_exit(42);
}

static void catch_segv(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO;
	IT_ASSERT_EQ(sigaction(SIGSEGV, &sa, NULL), 0);
}

static char *page(int prot)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	IT_ASSERT(p != MAP_FAILED);
	memset(p, 0xc3, 4096);	/* ret */
	IT_ASSERT_EQ(mprotect(p, 4096, prot), 0);
	return p;
}

static void write_read_only(void)
{
	char *p;

	enter();
	p = page(PROT_READ);
	catch_segv();
	want_addr = (uintptr_t)(p + 100);
	want_code = SEGV_ACCERR;
	*(volatile char *)(p + 100) = 5;
	_exit(44);
}

static void read_unmapped(void)
{
	char *p;

	enter();
	p = page(PROT_READ);
	IT_ASSERT_EQ(munmap(p, 4096), 0);
	catch_segv();
	want_addr = (uintptr_t)(p + 8);
	want_code = SEGV_MAPERR;
	(void)*(volatile char *)(p + 8);
	_exit(44);
}

static void exec_no_exec(void)
{
	char *p;

	enter();
	p = page(PROT_READ | PROT_WRITE);
	catch_segv();
	want_addr = (uintptr_t)p;
	want_code = SEGV_ACCERR;
	((void (*)(void))p)();
	_exit(44);
}

static void segv_no_handler(void)
{
	enter();
	*(volatile char *)page(PROT_READ) = 1;
	_exit(44);
}

static void test_memory_faults(void)
{
	EXPECT_EXIT(itest_run_capture(write_read_only, err, sizeof(err)), 42);
	EXPECT_EXIT(itest_run_capture(read_unmapped, err, sizeof(err)), 42);
	EXPECT_EXIT(itest_run_capture(exec_no_exec, err, sizeof(err)), 42);
	EXPECT_SIGNAL(itest_run_capture(segv_no_handler, err, sizeof(err)), SIGSEGV);
}

/* A fault the handler repairs: the program goes on in Dune mode. */
static char *fixable;

static void fix_handler(int sig, siginfo_t *si, void *uc)
{
	if (mprotect(fixable, 4096, PROT_READ | PROT_WRITE))
		_exit(50);
}

static void test_fault_fixed_by_handler(void)
{
	struct sigaction sa;
	int i;

	enter();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fix_handler;
	sa.sa_flags = SA_SIGINFO;
	IT_ASSERT_EQ(sigaction(SIGSEGV, &sa, NULL), 0);
	fixable = page(PROT_READ);
	/* a write barrier style loop: protect, fault, unprotect */
	for (i = 0; i < 200; i++) {
		IT_ASSERT_EQ(mprotect(fixable, 4096, PROT_READ), 0);
		fixable[i] = (char)i;
		IT_ASSERT_EQ(fixable[i], (char)i);
	}
	IT_ASSERT(dune_active());
}

/* ---- guest exceptions: the signal, and the report when asked ---- */

/* An address in no window, or 0 if the layout maps everything. */
static uintptr_t outside_address(void)
{
	static const uintptr_t candidates[] = {
		0x100000000000ull, 0x200000000000ull, 0x300000000000ull,
		0x400000000000ull, 0x680000000000ull,
	};
	const struct dune_layout *l = dune_get_layout();
	unsigned int i;

	IT_ASSERT(l);
	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (dune_layout_va_to_pa(l, candidates[i]) == DUNE_BAD_ADDR)
			return candidates[i];
	return 0;
}

static void touch_outside(void)
{
	uintptr_t a;

	enter();
	a = outside_address();
	if (!a)
		_exit(77);	/* identity layout: nothing is outside */
	/* mapped natively, so only the window is missing */
	IT_ASSERT(mmap((void *)a, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		       0) == (void *)a);
	*(volatile int *)(a + 0x10) = 1;
	_exit(44);
}

/* DUNE_DEBUG=1 in the child: the exception is also reported. */
static int debug_report;

static void enter_maybe_debug(void)
{
	if (debug_report)
		setenv("DUNE_DEBUG", "1", 1);
	enter();
}

static void do_ud2(void)
{
	enter_maybe_debug();
	__asm__ volatile("ud2");
	_exit(44);
}

static void do_int3(void)
{
	enter_maybe_debug();
	__asm__ volatile("int3");
	_exit(44);
}

static void do_divide_error(void)
{
	volatile int a = 1, b = 0;

	enter_maybe_debug();
	a = a / b;
	_exit(44);
}

static void test_guest_exceptions(void)
{
	int st;

	st = itest_run_capture(touch_outside, err, sizeof(err));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		printf("    (identity layout: no address outside the windows)\n");
	} else {
		EXPECT_SIGNAL(st, SIGSEGV);
		if (!strstr(err, "is outside the memory Dune can map (windows: 0x0-"))
			IT_FAIL("no outside-window report: %s", err);
		if (!strstr(err, "page fault (#PF, vector 14)") ||
		    !strstr(err, "cr2 0x") || !strstr(err, "rip 0x"))
			IT_FAIL("incomplete #PF report: %s", err);
	}
	/* The signal Linux sends, silently as natively ... */
	debug_report = 0;
	EXPECT_SIGNAL(itest_run_capture(do_ud2, err, sizeof(err)), SIGILL);
	IT_ASSERT_EQ(err[0], 0);
	EXPECT_SIGNAL(itest_run_capture(do_int3, err, sizeof(err)), SIGTRAP);
	IT_ASSERT_EQ(err[0], 0);
	EXPECT_SIGNAL(itest_run_capture(do_divide_error, err, sizeof(err)), SIGFPE);
	IT_ASSERT_EQ(err[0], 0);
	/* ... and with DUNE_DEBUG=1 the report too. */
	debug_report = 1;
	EXPECT_SIGNAL(itest_run_capture(do_ud2, err, sizeof(err)), SIGILL);
	if (!strstr(err, "invalid opcode (#UD, vector 6)") || !strstr(err, "r15 0x") ||
	    !strstr(err, "sending the program signal 4"))
		IT_FAIL("no #UD report: %s", err);
	EXPECT_SIGNAL(itest_run_capture(do_int3, err, sizeof(err)), SIGTRAP);
	IT_ASSERT(strstr(err, "#BP"));
	EXPECT_SIGNAL(itest_run_capture(do_divide_error, err, sizeof(err)), SIGFPE);
	IT_ASSERT(strstr(err, "divide error"));
	debug_report = 0;
}

/* ---- registered handlers ---- */

static volatile int bp_count;
static volatile uint64_t bp_rip;
static uint64_t good_value = 0x600df00d;

static void bp_handler(struct dune_tf *tf)
{
	bp_count++;
	bp_rip = tf->rip;	/* #BP is a trap: rip is past the int3 */
}

static void pf_handler(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	if (addr != tf->rax || (fec & FEC_W))
		return;		/* retried: faults again, test times out */
	tf->rax = (uint64_t)&good_value;	/* point the load elsewhere */
	dune_dump_trap_frame(tf);
}

static void test_registered_handlers(void)
{
	uint64_t v, a;
	int i;

	enter();
	IT_ASSERT_EQ(dune_register_intr_handler(256, bp_handler), -EINVAL);
	IT_ASSERT_EQ(errno, EINVAL);
	IT_ASSERT_EQ(dune_register_intr_handler(3, bp_handler), 0);
	for (i = 0; i < 10; i++)
		__asm__ volatile("int3");
	IT_ASSERT_EQ(bp_count, 10);
	IT_ASSERT(bp_rip != 0);

	a = outside_address();
	if (!a)
		return;
	dune_register_pgflt_handler(pf_handler);
	__asm__ volatile("movq (%%rax), %%rax" : "=a"(v) : "a"(a) : "memory");
	IT_ASSERT_EQ(v, good_value);
	dune_register_pgflt_handler(NULL);
	IT_ASSERT_EQ(dune_register_intr_handler(3, NULL), 0);
}

/* ---- the program's signal handlers ---- */

static volatile int usr1, alarms;

static void on_usr1(int sig)
{
	usr1++;
}

static void on_alarm(int sig)
{
	alarms++;
}

static void test_signals(void)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;
	sigset_t set;
	int i;

	enter();
	/* synchronous: raise() is a tgkill the host loop makes */
	signal(SIGUSR1, on_usr1);
	for (i = 0; i < 5; i++)
		raise(SIGUSR1);
	IT_ASSERT_EQ(usr1, 5);
	/* blocked, then unblocked */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	IT_ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	raise(SIGUSR1);
	IT_ASSERT_EQ(usr1, 5);
	IT_ASSERT_EQ(sigprocmask(SIG_UNBLOCK, &set, NULL), 0);
	IT_ASSERT_EQ(usr1, 6);

	/* asynchronous, while the guest spins without system calls */
	IT_ASSERT_EQ(sigaltstack(&ss, NULL), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	IT_ASSERT_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	IT_ASSERT_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	while (alarms < 5)
		__asm__ volatile("" ::: "memory");
	/* and while it sleeps in a forwarded system call */
	for (i = 0; i < 3; i++)
		usleep(50 * 1000);
	it.it_value.tv_usec = 0;
	it.it_interval.tv_usec = 0;
	IT_ASSERT_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	IT_ASSERT(alarms >= 5);
	IT_ASSERT(dune_active());
}

/* kB of AnonHugePages in the mapping that contains @addr (smaps). */
static long anon_huge_kb(void *addr)
{
	char line[256];
	unsigned long lo, hi;
	long kb = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	IT_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		/* mapping header lines start "lo-hi "; field lines cannot */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo <= (uintptr_t)addr && (uintptr_t)addr < hi;
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/*
 * A 2 MiB transparent huge page is mapped with one 2 MiB EPT entry; when
 * mprotect splits it, the guest loses write access to exactly the page
 * the process lost it for, and keeps the rest.
 */
static void thp_split(void)
{
	struct dune_stats s0, s1;
	size_t sz = 4 << 20;
	char *p, *h;
	long i;

	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	IT_ASSERT(p != MAP_FAILED);
	h = (char *)(((uintptr_t)p + (2 << 20) - 1) & ~((uintptr_t)(2 << 20) - 1));
	IT_ASSERT_EQ(madvise(h, 2 << 20, MADV_HUGEPAGE), 0);
	h[0] = 1; /* natively: the fault allocates the huge page */
	if (anon_huge_kb(h) < 2048)
		_exit(45); /* no THP in this kernel: the test cannot check */
	enter();
	IT_ASSERT_EQ(dune_get_stats(&s0), 0);
	for (i = 0; i < (2 << 20); i += 4096)
		h[i] = (char)i;
	IT_ASSERT_EQ(dune_get_stats(&s1), 0);
	/* 512 pages written through a handful of EPT entries, not 512 */
	if (s1.ept_maps - s0.ept_maps > 8)
		_exit(46);
	IT_ASSERT_EQ(mprotect(h + 4096, 4096, PROT_READ), 0);
	for (i = 0; i < (2 << 20); i += 4096)
		if (h[i] != (char)i)
			_exit(47);
	*(volatile char *)(h + 8192) = 3; /* still writable */
	catch_segv();
	want_addr = (uintptr_t)(h + 4096 + 16);
	want_code = SEGV_ACCERR;
	/* volatile: the store must not move before the two above */
	*(volatile char *)(h + 4096 + 16) = 9;
	_exit(44);
}

static void test_thp(void)
{
	char err[4096];

	EXPECT_EXIT(itest_run_capture(thp_split, err, sizeof(err)), 42);
}

static const struct itest tests[] = {
	{ "thp", test_thp },
	{ "memory_faults", test_memory_faults },
	{ "fault_fixed_by_handler", test_fault_fixed_by_handler },
	{ "guest_exceptions", test_guest_exceptions },
	{ "registered_handlers", test_registered_handlers },
	{ "signals", test_signals },
};

ITEST_MAIN(tests)
