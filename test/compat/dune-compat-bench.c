// SPDX-License-Identifier: MIT
/*
 * dune-compat-bench: the original Dune's benchmark table (its
 * bench/bench_dune.c printed these lines, the Dune paper's Table 2 and
 * the Appel-Li numbers), measured through the original's API as its
 * programs use it: includes by "libdune/..." paths, dune_get_ticks,
 * dune_printf, dune_mmap, dune_register_pgflt_handler, dune_vm_lookup
 * and dune_vm_mprotect on pgroot.
 *
 *	dune-compat-bench [ITERATIONS]	(default 1000)
 *
 * Cycles are TSC ticks, minus the cost of reading the TSC.  Differences
 * from the original's program: system calls use the `syscall`
 * instruction (libdune forwards it; the original's programs used
 * VMCALL), the Appel-Li region is anonymous memory of the process,
 * already in pgroot (the original mapped fresh pages at a fixed address
 * with dune_vm_map_pages), and the handlers do not set PTE_U (the
 * original's did; nothing here runs at ring 3).  itest-compat-vm/
 * bench_table runs it and checks its lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libdune/dune.h"

#define NRPGS	100
#define PGSZ	4096UL

static long n_iter = 1000;
static unsigned long overhead;
/* volatile: the handler reads and writes these between the stores */
static volatile char *mem;	/* 2 * NRPGS pages */
static volatile unsigned long trap_tsc, user_fault_total;
static volatile long faults;	/* to show each round took NRPGS faults */

/* Serialize, so that rdtsc does not run ahead of what precedes it. */
static inline void synch_tsc(void)
{
	unsigned int a = 0, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d)
			 : : "memory");
}

/* Waits for everything before it, unlike rdtsc. */
static inline unsigned long rdtscp_ticks(void)
{
	unsigned int lo, hi, aux;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return (unsigned long)lo | (unsigned long)hi << 32;
}

static unsigned long tsc_overhead(void)
{
	unsigned long t0, t1, best = ~0UL;
	long i;

	for (i = 0; i < 10000; i++) {
		t0 = dune_get_ticks();
		t1 = rdtscp_ticks();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best;
}

static ptent_t *pte_of(void *va)
{
	ptent_t *pte;

	/*
	 * create = 1 (the original's CREATE_NORMAL): the slot even when
	 * the handler emptied it (P clear, address kept).
	 */
	if (dune_vm_lookup(pgroot, va, 1, &pte) || (*pte & PTE_PS)) {
		dune_printf("no 4 KiB page-table entry for %p\n", va);
		dune_die();
	}
	return pte;
}

/* Appel-Li PROT1: unprotect the faulting page, protect its partner. */
static void prot1_handler(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	ptent_t *pte;

	user_fault_total += rdtscp_ticks() - trap_tsc;
	faults++;
	*pte_of((void *)addr) |= PTE_P | PTE_W | PTE_A | PTE_D;
	pte = pte_of((void *)(addr + NRPGS * PGSZ));
	*pte &= ~(PTE_P | PTE_W | PTE_A | PTE_D);
	dune_flush_tlb_one(addr + NRPGS * PGSZ);
}

/* Appel-Li PROTN: unprotect the faulting page only. */
static void protn_handler(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	*pte_of((void *)addr) |= PTE_P | PTE_W | PTE_A | PTE_D;
	faults++;
}

static void bench_syscall(void)
{
	unsigned long t0;
	long i;

	synch_tsc();
	t0 = dune_get_ticks();
	for (i = 0; i < n_iter; i++)
		syscall(SYS_getppid);
	dune_printf("System call took %lu cycles\n",
		    (rdtscp_ticks() - t0 - overhead) / n_iter);
}

/* First touch of fresh anonymous pages: Linux's fault via the EPT. */
static void bench_kernel_fault(void)
{
	char *fm = dune_mmap(NULL, n_iter * PGSZ, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long t0;
	long i;

	if ((long)fm < 0 && (long)fm > -4096) {
		dune_printf("dune_mmap failed: %ld\n", (long)fm);
		dune_die();
	}
	synch_tsc();
	t0 = dune_get_ticks();
	for (i = 0; i < n_iter; i++)
		fm[i * PGSZ] = i;
	dune_printf("Kernel fault took %lu cycles\n",
		    (rdtscp_ticks() - t0 - overhead) / n_iter);
	munmap(fm, n_iter * PGSZ);
}

static void prime_memory(void)
{
	int i;

	for (i = 0; i < 2 * NRPGS; i++)
		mem[i * PGSZ] = i;
}

static void bench_appel1(void)
{
	unsigned long t0, total = 0, user = 0;
	long i;
	int p;

	dune_register_pgflt_handler(prot1_handler);
	faults = 0;
	for (i = 0; i < n_iter; i++) {
		dune_vm_mprotect(pgroot, (void *)mem, NRPGS * PGSZ, PERM_R);
		synch_tsc();
		user_fault_total = 0;
		t0 = dune_get_ticks();
		for (p = 0; p < NRPGS; p++) {
			trap_tsc = dune_get_ticks();
			mem[p * PGSZ] = p;
		}
		total += rdtscp_ticks() - t0 - overhead;
		user += (user_fault_total - overhead * NRPGS) / NRPGS;
	}
	dune_printf("User fault took %lu cycles\n", user / n_iter);
	dune_printf("PROT1,TRAP,UNPROT took %lu cycles\n", total / n_iter);
	dune_printf("  (%ld page faults per round)\n", faults / n_iter);
}

static void bench_appel2(void)
{
	unsigned long t0, total = 0;
	long i, f0, timed = 0;
	int p;

	dune_register_pgflt_handler(protn_handler);
	faults = 0;
	for (i = 0; i < n_iter; i++) {
		dune_vm_mprotect(pgroot, (void *)mem, 2 * NRPGS * PGSZ,
				 PERM_R | PERM_W);
		/* faults here too: PROT1 left its partner pages not present */
		prime_memory();
		f0 = faults;
		synch_tsc();
		t0 = dune_get_ticks();
		dune_vm_mprotect(pgroot, (void *)mem, NRPGS * PGSZ, PERM_R);
		for (p = 0; p < NRPGS; p++)
			mem[p * PGSZ] = p;
		total += rdtscp_ticks() - t0 - overhead;
		timed += faults - f0;
	}
	dune_printf("PROTN,TRAP,UNPROT took %lu cycles\n", total / n_iter);
	dune_printf("  (%ld page faults per round)\n", timed / n_iter);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		n_iter = atol(argv[1]);
	if (n_iter < 1) {
		fprintf(stderr, "usage: %s [ITERATIONS]\n", argv[0]);
		return 2;
	}
	overhead = tsc_overhead();
	printf("TSC overhead is %lu\n", overhead);
	fflush(stdout);
	if (dune_init_and_enter()) {
		printf("failed to initialize dune\n");
		return 1;
	}
	dune_printf("Benchmarking dune performance...\n");
	bench_syscall();
	bench_kernel_fault();

	mem = mmap(NULL, 2 * NRPGS * PGSZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	/* already in pgroot: this makes its entries 4 KiB ones */
	if (mem == MAP_FAILED ||
	    dune_vm_mprotect(pgroot, (void *)mem, 2 * NRPGS * PGSZ,
			     PERM_R | PERM_W)) {
		printf("failed to setup memory mapping\n");
		return 1;
	}
	prime_memory();
	bench_appel1();
	bench_appel2();
	return 0;
}
