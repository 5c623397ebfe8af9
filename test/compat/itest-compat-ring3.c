// SPDX-License-Identifier: MIT
/*
 * Ring-3 code on pgroot, in the original's style (its bench/
 * bench_dune_ring.c and apps/wedge): dune_init_and_enter, which is
 * dune_init(1), maps the process's memory user-accessible in pgroot, so
 * a program runs its own C functions at ring 3 on a stack of its own
 * memory; they read and write its globals and make system calls that
 * its dune_register_syscall_handler handler catches.
 *
 * What the original did not allow still faults as it did there: the
 * page pool (page tables) and pages mapped without PERM_U under
 * dune_init(1); all of the process's memory under dune_init(0) (the
 * vDSO and vvar excepted, as there), where the program opens what ring 3
 * may use with dune_vm_mprotect (the original's apps/sandbox).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libdune/dune.h"
#include "libdune/cpu-x86.h"
#include "test/vm/itest.h"

/* System call numbers Linux does not have: the handler's own. */
#define NR_ADD		0x7ff0
#define NR_DONE		0x7fff
/* bench_dune_ring's fresh page, outside the process's memory */
#define MAP_ADDR	0x400000000000ul
#define STR(x)		#x
#define XSTR(x)		STR(x)

/* ---- what ring 3 touches: the program's own globals ---- */

static long counter;				/* .bss */
static long table[4] = { 3, 4, 5, 6 };		/* .data */
static const char greeting[] = "hello from ring 3\n";	/* .rodata */
static int pipe_w = -1;

static struct {
	int calls;
	uint64_t cs, ss;
	int faults;
	uint64_t addr, fec, rip;
} got;

static void syscall_handler(struct dune_tf *tf)
{
	got.calls++;
	got.cs = tf->cs;
	got.ss = tf->ss;
	switch (tf->rax) {
	case NR_ADD:
		tf->rax = ARG0(tf) + ARG1(tf);
		break;
	case NR_DONE:
		dune_ret_from_user((int)ARG0(tf));
	default:
		dune_passthrough_syscall(tf);
	}
}

/* A fault that ends the run: dune_jump_to_user returns 1000 + 14. */
static void pgflt_and_return(uintptr_t addr, uint64_t fec,
			     struct dune_tf *tf)
{
	got.faults++;
	got.addr = addr;
	got.fec = fec;
	got.rip = tf->rip;
	dune_ret_from_user(1000 + T_PGFLT);
}

/* Runs at ring 3: plain C, libc's system call wrappers included. */
static __attribute__((noinline)) void user_main(void)
{
	long sum;

	counter++;
	table[1] = table[0] * 10 + table[2];		/* 35 */
	sum = syscall(NR_ADD, counter, table[1]);	/* 36, by the handler */
	table[3] = syscall(SYS_getpid);			/* passed through */
	if (write(pipe_w, greeting, sizeof(greeting) - 1) !=
	    sizeof(greeting) - 1)
		sum = -1;
	syscall(NR_DONE, sum);
}

/* Runs at ring 3: writes @n bytes of @buf, returns their sum. */
static __attribute__((noinline)) void user_fill(unsigned char *buf, long n)
{
	long i, sum = 0;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)i;
	for (i = 0; i < n; i++)
		sum += buf[i];
	syscall(NR_DONE, sum);
}

/* Runs at ring 3: bench_dune_ring's userlevel_pgflt. */
static __attribute__((noinline)) void user_pgflt(void)
{
	*(volatile char *)MAP_ADDR = 1;
	syscall(NR_DONE, 7);
}

/* Runs at ring 3: reads the word at @p, then ends the run with it. */
static __attribute__((noinline)) void user_read(const volatile long *p)
{
	syscall(NR_DONE, *p);
}

/*
 * Runs at ring 3 without libc (for dune_init(0), where libc is not
 * ring 3's): ends the run with the word at rdi.  Alone in its pages.
 */
__asm__(".pushsection compat_ring3_text, \"ax\"\n"
	".balign 4096\n"
	"u_peek: mov (%rdi), %rdi\n"
	"	mov $" XSTR(NR_DONE) ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	".balign 4096\n"
	".popsection\n");
extern char u_peek[];

/*
 * The original's way to start ring 3 (bench_dune_ring.c): a frame at
 * @fn with rsp below the caller's, on the same stack.
 */
static int jump_below_sp(void *fn, uint64_t rdi, uint64_t rsi)
{
	struct dune_tf *tf = malloc(sizeof(*tf));
	unsigned long sp;
	int ret;

	IT_ASSERT(tf != NULL);
	memset(tf, 0, sizeof(*tf));
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	tf->rip = (unsigned long)fn;
	tf->rsp = (sp - 10000) & ~15ul;
	tf->rflags = 0x02;
	tf->rdi = rdi;
	tf->rsi = rsi;
	ret = dune_jump_to_user(tf);
	free(tf);
	return ret;
}

/* Where ring 3's write() goes. */
static int open_pipe(void)
{
	int p[2];

	IT_ASSERT_EQ(pipe(p), 0);
	pipe_w = p[1];
	return p[0];
}

static void full_enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
	dune_register_syscall_handler(syscall_handler);
	dune_register_pgflt_handler(pgflt_and_return);
}

/* ---- dune_init(1): ring 3 runs on pgroot ---- */

static void test_ring3_on_pgroot(void)
{
	int rd = open_pipe();
	char buf[64];

	full_enter();
	IT_ASSERT_EQ(jump_below_sp(user_main, 0, 0), 36);
	IT_ASSERT_EQ(got.faults, 0);
	IT_ASSERT_EQ(got.calls, 4);	/* NR_ADD, getpid, write, NR_DONE */
	IT_ASSERT_EQ(got.cs, GD_UT | 3);
	IT_ASSERT_EQ(got.ss, GD_UD | 3);
	IT_ASSERT_EQ(counter, 1);
	IT_ASSERT_EQ(table[1], 35);
	IT_ASSERT_EQ(table[3], getpid());
	IT_ASSERT_EQ(read(rd, buf, sizeof(buf)), sizeof(greeting) - 1);
	IT_ASSERT(!memcmp(buf, greeting, sizeof(greeting) - 1));
	/* and again: the run left pgroot as it was */
	IT_ASSERT_EQ(jump_below_sp(user_main, 0, 0), 37);
	IT_ASSERT_EQ(counter, 2);
}


/*
 * Memory the program gets after dune_init (mmap, heap) is ring 3's too,
 * as the original's mmap area was; here ring 3 also runs on a heap stack.
 */
static void test_ring3_new_memory(void)
{
	const long n = 3 * 4096 + 100;
	struct dune_tf tf;
	unsigned char *buf;
	char *stack;
	long i, sum = 0;

	full_enter();
	buf = mmap(NULL, n, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(buf != MAP_FAILED);
	stack = malloc(65536);
	IT_ASSERT(stack != NULL);
	memset(&tf, 0, sizeof(tf));
	tf.rip = (uintptr_t)user_fill;
	tf.rsp = (((uintptr_t)stack + 65536) & ~15ul) - 8;	/* as after a call */
	tf.rflags = 0x202;
	tf.rdi = (uintptr_t)buf;
	tf.rsi = n;
	for (i = 0; i < n; i++)
		sum += i & 255;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), sum);
	IT_ASSERT_EQ(got.faults, 0);
	for (i = 0; i < n; i++)
		IT_ASSERT_EQ(buf[i], i & 255);
}

/*
 * bench_dune_ring's test_pgflt: a fresh page mapped without PERM_U
 * faults at ring 3; the handler makes its entry user-writable and
 * returns, and the write is retried (a page fault drops the TLB entry
 * of its address, SDM 4.10.4.2, so no flush is needed).
 */
static int fixups;

static void pgflt_fixup(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	ptent_t *pte;

	got.addr = addr;
	got.fec = fec;
	if (addr != MAP_ADDR || fixups++)
		dune_ret_from_user(1000 + T_PGFLT);
	if (dune_vm_lookup(pgroot, (void *)addr, 0, &pte))
		dune_ret_from_user(2000);
	*pte |= PTE_P | PTE_W | PTE_U | PTE_A | PTE_D;
}

static void test_pgflt_fixup(void)
{
	full_enter();
	dune_register_pgflt_handler(pgflt_fixup);
	IT_ASSERT_EQ(dune_vm_map_pages(pgroot, (void *)MAP_ADDR, PGSIZE,
				       PERM_R), 0);
	IT_ASSERT_EQ(jump_below_sp(user_pgflt, 0, 0), 7);
	IT_ASSERT_EQ(fixups, 1);
	IT_ASSERT_EQ(got.addr, MAP_ADDR);
	IT_ASSERT_EQ(got.fec & (FEC_P | FEC_W | FEC_U), FEC_P | FEC_W | FEC_U);
	IT_ASSERT_EQ(*(volatile char *)MAP_ADDR, 1);
}

/* ---- what the original did not allow ---- */

/* The pool (page tables among it) stays supervisor-only under dune_init(1). */
static void test_full_pool_supervisor(void)
{
	full_enter();
	IT_ASSERT_EQ(jump_below_sp(user_read, (uintptr_t)pgroot, 0),
		     1000 + T_PGFLT);
	IT_ASSERT_EQ(got.faults, 1);
	IT_ASSERT_EQ(got.addr, (uintptr_t)pgroot);
	IT_ASSERT_EQ(got.fec & (FEC_P | FEC_W | FEC_U), FEC_P | FEC_U);
	/* a page mapped without PERM_U, read */
	IT_ASSERT_EQ(dune_vm_map_pages(pgroot, (void *)MAP_ADDR, PGSIZE,
				       PERM_R | PERM_W), 0);
	IT_ASSERT_EQ(jump_below_sp(user_read, MAP_ADDR, 0), 1000 + T_PGFLT);
	IT_ASSERT_EQ(got.addr, MAP_ADDR);
	IT_ASSERT_EQ(got.fec & (FEC_P | FEC_W | FEC_U), FEC_P | FEC_U);
	/* with PERM_U it is ring 3's */
	*(volatile long *)MAP_ADDR = 99;
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)MAP_ADDR, PGSIZE,
				      PERM_R | PERM_U), 0);
	IT_ASSERT_EQ(jump_below_sp(user_read, MAP_ADDR, 0), 99);
	IT_ASSERT_EQ(got.faults, 2);
}

static void precise_enter(void)
{
	IT_ASSERT_EQ(dune_init(0), 0);
	IT_ASSERT_EQ(dune_enter(), 0);
	dune_register_syscall_handler(syscall_handler);
	dune_register_pgflt_handler(pgflt_and_return);
}

/* dune_init(0): the program's code is not ring 3's until it says so. */
static void test_precise_exec(void)
{
	precise_enter();
	IT_ASSERT_EQ(jump_below_sp(user_main, 0, 0), 1000 + T_PGFLT);
	IT_ASSERT_EQ(got.faults, 1);
	IT_ASSERT_EQ(got.addr, (uintptr_t)user_main);
	IT_ASSERT_EQ(got.rip, (uintptr_t)user_main);
	IT_ASSERT_EQ(got.fec & (FEC_P | FEC_W | FEC_U), FEC_P | FEC_U);
	IT_ASSERT_EQ(got.calls, 0);
	IT_ASSERT_EQ(counter, 0);
}

static volatile long precise_data = 1234;

/*
 * dune_init(0), as the original's apps/sandbox: ring 3 gets the pages
 * the program opens (its code and a stack, dune_vm_mprotect), and
 * faults on the program's other memory.
 */
static void test_precise_data(void)
{
	uintptr_t code = PGADDR((uintptr_t)user_read);
	struct dune_tf tf;
	char *stack;

	precise_enter();
	stack = mmap(NULL, 16384, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	IT_ASSERT(stack != MAP_FAILED);
	/* user_read's code (it faults before it calls anything) */
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, (void *)code, 2 * PGSIZE,
				      PERM_UCODE), 0);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, stack, 16384, PERM_USTACK), 0);
	memset(&tf, 0, sizeof(tf));
	tf.rip = (uintptr_t)user_read;
	tf.rsp = (uintptr_t)stack + 16384 - 8;
	tf.rflags = 0x202;
	tf.rdi = (uintptr_t)&precise_data;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1000 + T_PGFLT);
	IT_ASSERT_EQ(got.addr, (uintptr_t)&precise_data);
	IT_ASSERT_EQ(got.fec & (FEC_P | FEC_W | FEC_U), FEC_P | FEC_U);
	/* the program's own stack data: the same */
	tf.rdi = (uintptr_t)&tf;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1000 + T_PGFLT);
	IT_ASSERT_EQ(got.addr, (uintptr_t)&tf);
	IT_ASSERT_EQ(got.fec & (FEC_P | FEC_W | FEC_U), FEC_P | FEC_U);
	IT_ASSERT_EQ(got.calls, 0);
}

static uintptr_t vvar_start;

static void find_vvar(const struct dune_procmap_entry *e)
{
	if (e->type == PROCMAP_TYPE_VVAR)
		vvar_start = e->begin;
}

/*
 * dune_init(0) still opens the vDSO (read, execute) and vvar (read) to
 * ring 3, as the original did in both modes.
 */
static void test_precise_vdso(void)
{
	uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
	struct dune_tf tf;
	char *stack;

	precise_enter();
	stack = mmap(NULL, 16384, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	IT_ASSERT(stack != MAP_FAILED);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, u_peek, PGSIZE, PERM_UCODE), 0);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, stack, 16384, PERM_USTACK), 0);
	memset(&tf, 0, sizeof(tf));
	tf.rip = (uintptr_t)u_peek;
	tf.rsp = (uintptr_t)stack + 16384 - 8;
	tf.rflags = 0x202;
	IT_ASSERT(vdso != 0);
	tf.rdi = vdso;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), *(int32_t *)vdso);	/* "\177ELF" */
	dune_procmap_iterate(find_vvar);
	if (vvar_start) {
		tf.rdi = vvar_start;
		dune_jump_to_user(&tf);
	}
	IT_ASSERT_EQ(got.faults, 0);
	/* the program's own memory is not ring 3's */
	tf.rdi = (uintptr_t)&precise_data;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1000 + T_PGFLT);
	IT_ASSERT_EQ(got.addr, (uintptr_t)&precise_data);
}

/* The same choice through dune_init_flags, with the 1 GiB-leaf pgroot. */
static void test_big_pgroot_user(void)
{
	open_pipe();
	IT_ASSERT_EQ(dune_init_flags(DUNE_INIT_BIG_PGROOT |
				     DUNE_INIT_USER_PGROOT), 0);
	IT_ASSERT_EQ(dune_enter(), 0);
	dune_register_syscall_handler(syscall_handler);
	dune_register_pgflt_handler(pgflt_and_return);
	IT_ASSERT_EQ(jump_below_sp(user_main, 0, 0), 36);
	IT_ASSERT_EQ(table[1], 35);
	IT_ASSERT_EQ(jump_below_sp(user_read, (uintptr_t)pgroot, 0),
		     1000 + T_PGFLT);
	IT_ASSERT_EQ(got.addr, (uintptr_t)pgroot);
	IT_ASSERT_EQ(got.fec & (FEC_P | FEC_W | FEC_U), FEC_P | FEC_U);
}

static const struct itest tests[] = {
	{ "ring3_on_pgroot", test_ring3_on_pgroot },
	{ "ring3_new_memory", test_ring3_new_memory },
	{ "pgflt_fixup", test_pgflt_fixup },
	{ "full_pool_supervisor", test_full_pool_supervisor },
	{ "precise_exec", test_precise_exec },
	{ "precise_data", test_precise_data },
	{ "precise_vdso", test_precise_vdso },
	{ "big_pgroot_user", test_big_pgroot_user },
};

ITEST_MAIN(tests)
