// SPDX-License-Identifier: MIT
/*
 * dune-bench: cost of operations natively and in Dune mode, in TSC ticks
 * (inside the emulated machine these count emulated work, so they are
 * repeatable), and VM exits per operation.
 *
 *   dune-bench [N]      N iterations per operation (default 1000)
 *
 * Output: one table row per operation.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#include "dune.h"

#define STR(x) #x
#define XSTR(x) STR(x)

struct op {
	const char *name;
	/*
	 * Runs the operation @n times; returns TSC ticks taken, or
	 * NOT_COMPARABLE when there is no such operation in this mode.
	 */
	uint64_t (*run)(long n);
	/* Expensive: run n / 100 times (at least once). */
	bool slow;
};

#define NOT_COMPARABLE UINT64_MAX

static uint64_t op_getppid(long n)
{
	uint64_t t0 = __rdtsc();

	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return __rdtsc() - t0;
}

/* First touch of a fresh anonymous page: a page fault natively, an EPT
 * violation (and the same page fault, inside the kernel) in Dune mode.
 */
static uint64_t op_touch_page(long n)
{
	char *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t0, t;

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	t0 = __rdtsc();
	for (long i = 0; i < n; i++)
		p[i * 4096] = 1;
	t = __rdtsc() - t0;
	munmap(p, n * 4096);
	return t;
}


/* ---- signals: the same code natively and in Dune mode ---- */

static volatile long sig_count;

static void on_usr1(int sig)
{
	sig_count++;
}

/* kill to self, the handler, its return (rt_sigreturn) */
static uint64_t op_signal(long n)
{
	struct sigaction sa;
	pid_t pid = getpid();
	uint64_t t0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	t0 = __rdtsc();
	for (long i = 0; i < n; i++)
		kill(pid, SIGUSR1);
	return __rdtsc() - t0;
}

static char *segv_page;

static void on_segv(int sig)
{
	mprotect(segv_page, 4096, PROT_READ | PROT_WRITE);
}

/* A write to a read-only page, fixed up by a sigaction handler. */
static uint64_t op_sigsegv(long n)
{
	struct sigaction sa;
	uint64_t t0;

	if (!segv_page) {
		segv_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		segv_page[0] = 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, NULL);
	t0 = __rdtsc();
	for (long i = 0; i < n; i++) {
		mprotect(segv_page, 4096, PROT_READ);
		*(volatile char *)segv_page = 2;
	}
	return __rdtsc() - t0;
}

/* ---- page tables (dune_vm_*) ---- */

static char *pf_page;

static void pf_sigsegv(int sig)
{
	mprotect(pf_page, 4096, PROT_READ | PROT_WRITE);
}

static void pf_dune(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	dune_vm_mprotect(pgroot, pf_page, 4096, PERM_R | PERM_W);
}

/*
 * A page fault handled by the program: write-protect a page, write it,
 * unprotect it in the handler.  Natively: mprotect + SIGSEGV handler;
 * in Dune mode: dune_vm_mprotect + a guest page-fault handler.
 */
static uint64_t op_pgfault(long n)
{
	struct sigaction sa;
	uint64_t t0;

	if (!pf_page) {
		pf_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pf_page[0] = 1;
	}
	if (dune_active()) {
		dune_register_pgflt_handler(pf_dune);
		t0 = __rdtsc();
		for (long i = 0; i < n; i++) {
			dune_vm_mprotect(pgroot, pf_page, 4096, PERM_R);
			*(volatile char *)pf_page = 2;
		}
		return __rdtsc() - t0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pf_sigsegv;
	sigaction(SIGSEGV, &sa, NULL);
	t0 = __rdtsc();
	for (long i = 0; i < n; i++) {
		mprotect(pf_page, 4096, PROT_READ);
		*(volatile char *)pf_page = 2;
	}
	return __rdtsc() - t0;
}

static ptent_t *switch_root;

/* Alternate between pgroot and a clone of it (PCID-tagged if possible). */
static uint64_t op_vm_switch(long n)
{
	uint64_t t0;

	if (!dune_active())
		return NOT_COMPARABLE;	/* a process cannot switch its tables */
	if (!switch_root)
		switch_root = dune_vm_clone(pgroot);
	t0 = __rdtsc();
	for (long i = 0; i < n; i++)
		dune_vm_switch(i & 1 ? pgroot : switch_root);
	dune_vm_switch(pgroot);
	return __rdtsc() - t0;
}

/* The same with plain CR3 loads: PCID 0, TLB flushed every time. */
static uint64_t op_vm_switch_flush(long n)
{
	const struct dune_layout *l = dune_get_layout();
	uint64_t cr3[2], t0;

	if (!dune_active())
		return NOT_COMPARABLE;
	if (!switch_root)
		switch_root = dune_vm_clone(pgroot);
	cr3[0] = dune_layout_va_to_pa(l, (uint64_t)switch_root);
	cr3[1] = dune_layout_va_to_pa(l, (uint64_t)pgroot);
	t0 = __rdtsc();
	for (long i = 0; i < n; i++)
		load_cr3(cr3[i & 1]);
	load_cr3(cr3[1]);
	dune_vm_switch(pgroot);
	return __rdtsc() - t0;
}

#define SCAN_SIZE (256ul << 20)
#define SCAN_WRITES 1024	/* pages written between two scans */

static char *scan_buf;
static bool scan_4k;
static uint64_t scan_bitmap[SCAN_SIZE / 4096 / 64];

/* Soft-dirty: bit 55 of each 8-byte /proc/self/pagemap entry. */
static long soft_dirty_count(int fd)
{
	static uint64_t ents[4096];
	long n = 0;

	for (size_t off = 0; off < SCAN_SIZE / 4096; off += 4096) {
		pread(fd, ents, sizeof(ents),
		      ((uint64_t)scan_buf / 4096 + off) * 8);
		for (int k = 0; k < 4096; k++)
			n += (ents[k] >> 55) & 1;
	}
	return n;
}

/*
 * Which pages of 256 MiB were written: clear, write SCAN_WRITES known
 * pages, find them.  Natively with /proc/self/clear_refs (4: soft-dirty)
 * and /proc/self/pagemap; in Dune mode with dune_vm_clear_ad and
 * dune_vm_scan_ad.
 */
static uint64_t op_ad_scan(long rounds)
{
	long found = 0;
	int fd_clear = -1, fd_map = -1;
	uint64_t t0, t;

	if (!scan_buf) {
		scan_buf = mmap(NULL, SCAN_SIZE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				-1, 0);
		/* 4 KiB granularity: a huge page is dirty as a whole */
		madvise(scan_buf, SCAN_SIZE, MADV_NOHUGEPAGE);
	}
	if (dune_active() && !scan_4k) {
		/* the same in our tables: pgroot maps it with 1 GiB pages */
		dune_vm_unmap(pgroot, scan_buf, SCAN_SIZE);
		dune_vm_map_mem(pgroot, scan_buf, SCAN_SIZE,
				  PERM_R | PERM_W);
		scan_4k = true;
	}
	if (!dune_active()) {
		fd_clear = open("/proc/self/clear_refs", O_WRONLY);
		fd_map = open("/proc/self/pagemap", O_RDONLY);
	}
	t0 = __rdtsc();
	for (long r = 0; r < rounds; r++) {
		if (dune_active())
			dune_vm_clear_ad(pgroot, scan_buf, SCAN_SIZE,
					 DUNE_AD_DIRTY);
		else
			pwrite(fd_clear, "4", 1, 0);
		for (long k = 0; k < SCAN_WRITES; k++)
			scan_buf[(k * 61 % (SCAN_SIZE / 4096)) * 4096] = 1;
		if (dune_active())
			found = dune_vm_scan_ad(pgroot, scan_buf, SCAN_SIZE,
						DUNE_AD_DIRTY, false,
						scan_bitmap);
		else
			found = soft_dirty_count(fd_map);
	}
	t = __rdtsc() - t0;
	if (found != SCAN_WRITES)
		fprintf(stderr, "ad_scan_256M: found %ld dirty pages, wrote %d\n",
			found, SCAN_WRITES);
	if (fd_clear >= 0)
		close(fd_clear);
	if (fd_map >= 0)
		close(fd_map);
	return t;
}

/* ---- traps and ring 3 ---- */

static void bp_dune(struct dune_tf *tf)
{
}

static void bp_sigtrap(int sig)
{
}

/*
 * A breakpoint handled by the program: natively a SIGTRAP handler, in
 * Dune mode a guest #BP handler (no VM exit).
 */
static uint64_t op_trap(long n)
{
	struct sigaction sa;
	uint64_t t0;

	if (dune_active()) {
		dune_register_intr_handler(3, bp_dune);
	} else {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = bp_sigtrap;
		sigaction(SIGTRAP, &sa, NULL);
	}
	t0 = __rdtsc();
	for (long i = 0; i < n; i++)
		__asm__ volatile("int3" ::: "memory");
	return __rdtsc() - t0;
}

/* Ring 3: rbx getppid calls, then system call 0x7fff ends the run. */
#define BENCH_NR_RET 0x7fff
__asm__(".pushsection bench_user, \"ax\"\n"
	".balign 4096\n"
	"bench_u_start:\n"
	"bench_u_loop: mov $" XSTR(SYS_getppid) ", %eax\n"
	"	syscall\n"
	"	dec %rbx\n"
	"	jnz bench_u_loop\n"
	"	mov $" XSTR(BENCH_NR_RET) ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	".balign 4096\n"
	"bench_u_end:\n"
	".popsection\n");
extern char bench_u_start[], bench_u_end[], bench_u_loop[];

static bool ring3_pass;
static char *ring3_stack;

static void ring3_sys(struct dune_tf *tf)
{
	if (tf->rax == BENCH_NR_RET)
		dune_ret_from_user(0);
	if (ring3_pass)
		dune_passthrough_syscall(tf);
	else
		tf->rax = 1;	/* emulated: "our parent is init" */
}

/*
 * getppid from ring 3, handled at ring 0: emulated by the handler (no VM
 * exit) or passed through to Linux (one).  Natively: plain getppid.
 */
static uint64_t ring3_getppid(long n, bool pass)
{
	struct dune_tf tf;
	uint64_t t0;

	if (!dune_active())
		return op_getppid(n);
	if (!ring3_stack) {
		ring3_stack = mmap(NULL, 16384, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (dune_vm_mprotect(pgroot, bench_u_start,
				     bench_u_end - bench_u_start, PERM_UCODE) ||
		    dune_vm_mprotect(pgroot, ring3_stack, 16384, PERM_USTACK)) {
			fprintf(stderr, "ring3: cannot map for ring 3\n");
			exit(1);
		}
		dune_register_syscall_handler(ring3_sys);
	}
	ring3_pass = pass;
	memset(&tf, 0, sizeof(tf));
	tf.rip = (uint64_t)bench_u_loop;
	tf.rsp = (uint64_t)ring3_stack + 16384;
	tf.rbx = n;
	t0 = __rdtsc();
	dune_jump_to_user(&tf);
	return __rdtsc() - t0;
}

static uint64_t op_ring3_emulated(long n)
{
	return ring3_getppid(n, false);
}

static uint64_t op_ring3_passthrough(long n)
{
	return ring3_getppid(n, true);
}

static const struct op ops[] = {
	{ "getppid", op_getppid, false },
	{ "touch_new_page", op_touch_page, false },
	{ "pgfault_handled", op_pgfault, false },
	{ "vm_switch", op_vm_switch, false },
	{ "vm_switch_flush", op_vm_switch_flush, false },
	{ "ad_scan_256M", op_ad_scan, true },
	{ "trap_int3", op_trap, false },
	{ "ring3_getppid_emul", op_ring3_emulated, false },
	{ "ring3_getppid_pass", op_ring3_passthrough, false },
	{ "signal_roundtrip", op_signal, false },
	{ "sigsegv_sigaction", op_sigsegv, false },
};
#define NR_OPS (sizeof(ops) / sizeof(ops[0]))

static uint64_t exits_of(const struct dune_stats *s)
{
	return s->exits;
}

/* Which exits an operation caused, by basic exit reason. */
static void print_reasons(const char *name, const struct dune_stats *a,
			  const struct dune_stats *b)
{
	fprintf(stderr, "%s: exits by reason:", name);
	for (int r = 0; r < DUNE_NR_EXIT_REASONS; r++)
		if (b->by_reason[r] != a->by_reason[r])
			fprintf(stderr, " %d:%llu", r,
				(unsigned long long)(b->by_reason[r] -
						     a->by_reason[r]));
	fprintf(stderr, "\n");
}

static long iterations(const struct op *op, long n)
{
	if (!op->slow)
		return n;
	return n / 100 > 0 ? n / 100 : 1;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [ITERATIONS [OPERATION...]]\noperations:",
		prog);
	for (size_t i = 0; i < NR_OPS; i++)
		fprintf(stderr, " %s", ops[i].name);
	fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	double native[NR_OPS], dune[NR_OPS], exits[NR_OPS];
	bool run[NR_OPS];
	struct dune_stats s0, s1;
	size_t i;
	int a;

	if (n <= 0) {
		usage(argv[0]);
		return 2;
	}
	/* Operations named after ITERATIONS, else all of them. */
	for (i = 0; i < NR_OPS; i++)
		run[i] = argc <= 2;
	for (a = 2; a < argc; a++) {
		for (i = 0; i < NR_OPS && strcmp(argv[a], ops[i].name); i++)
			;
		if (i == NR_OPS) {
			fprintf(stderr, "%s: no operation '%s'\n", argv[0],
				argv[a]);
			usage(argv[0]);
			return 2;
		}
		run[i] = true;
	}
	for (i = 0; i < NR_OPS; i++) {
		long m = iterations(&ops[i], n);

		if (!run[i])
			continue;
		uint64_t t;

		ops[i].run(m / 10 + 1); /* warm up */
		t = ops[i].run(m);
		native[i] = t == NOT_COMPARABLE ? -1 : (double)t / m;
	}
	if (dune_init_and_enter())
		return 1;
	for (i = 0; i < NR_OPS; i++) {
		long m = iterations(&ops[i], n);

		if (!run[i])
			continue;
		ops[i].run(m / 10 + 1);
		if (dune_get_stats(&s0))
			return 1;
		dune[i] = (double)ops[i].run(m) / m;
		if (dune_get_stats(&s1))
			return 1;
		/* the second dune_get_stats is one VMCALL exit of its own */
		exits[i] = (double)(exits_of(&s1) - exits_of(&s0) - 1) / m;
		if (getenv("DUNE_BENCH_REASONS"))
			print_reasons(ops[i].name, &s0, &s1);
	}
	printf("%-18s %14s %14s %10s\n", "operation", "native ticks", "dune ticks",
	       "exits/op");
	for (i = 0; i < NR_OPS; i++) {
		char nat[32] = "n/a";

		if (!run[i])
			continue;
		if (native[i] >= 0)
			snprintf(nat, sizeof(nat), "%.0f", native[i]);
		printf("%-18s %14s %14.0f %10.2f\n", ops[i].name, nat, dune[i],
		       exits[i]);
	}
	printf("(PCID %s)\n", dune_has_pcid() ? "used by vm_switch" :
						  "not available");
	return 0;
}
