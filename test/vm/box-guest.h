/* SPDX-License-Identifier: MIT */
/*
 * What itest-box-monitor and itest-box-escape share: ring-3 "programs"
 * written as C functions in their own sections (box_text, box_data),
 * which with a stack are all the memory the sandbox owns, run through
 * box_run like a loaded program; and a small test-only policy standing
 * in for box/policy.c.
 *
 * Ring-3 code may not touch anything else: no libc, no string literals
 * (they are in .rodata), no stack protector (its canary is read through
 * the monitor's FS base).  Its data lives in one page-aligned struct.
 */
#ifndef BOX_GUEST_H
#define BOX_GUEST_H

#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "itest.h"
#include "load.h"
#include "mem.h"
#include "monitor.h"
#include "policy.h"

#define U_CODE static __attribute__((section("box_text"), noinline,	\
					no_stack_protector, aligned(64)))
#define U_DATA __attribute__((section("box_data"), aligned(4096)))
#define U_STACK (64 << 10)
#define PGSZ 4096ul

/*
 * Whole pages: the section starts on one (.rodata, in another segment,
 * follows it), and the data struct's type is page-aligned so its size is
 * whole pages too.  Nothing of the monitor shares a page with them.
 */
__asm__(".pushsection box_text, \"ax\", @progbits\n\t.balign 4096\n\t.popsection");
#define U_DATA_TYPE __attribute__((aligned(4096)))

extern char __start_box_text[], __stop_box_text[];
extern char __start_box_data[], __stop_box_data[];

static inline __attribute__((always_inline)) long
u_sys(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define U_EXIT(code) u_sys(SYS_exit_group, (code), 0, 0, 0, 0, 0)

/* ---- the stand-in policy ---- */
struct box_policy {
	int unused;
};
static const struct box_policy test_policy;

/*
 * Paths under /denied: EACCES from "policy line 12"; sync: the sandbox
 * is killed (line 3); getppid: EPERM by a built-in rule.
 */
void box_policy_decide(const struct box_policy *p, const struct box_call *c,
		       struct box_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->verdict = BOX_ALLOW;
	if (c->path[0] && !strncmp(c->path[0], "/denied", 7)) {
		d->verdict = BOX_DENY;
		d->err = EACCES;
		d->line = 12;
		d->file = "test";
		d->why = "path not readable";
	} else if (c->nr == SYS_sync) {
		d->verdict = BOX_KILL;
		d->line = 3;
		d->why = "sync is not allowed";
	} else if (c->nr == SYS_getppid) {
		d->verdict = BOX_DENY;
		d->err = EPERM;
		d->file = "built-in rule";
		d->why = "getppid is hidden";
	}
}

/* ---- a run ---- */
static struct box_mem *box_test_mem;
static char *box_test_stack;
static uint64_t box_test_brk;

/*
 * Run @entry at ring 3 as the sandbox's program: the ring-3 sections and
 * a fresh stack are owned, the brk heap starts at free address space.
 * Returns box_run's wait status.
 */
static int box_test_run(void (*entry)(void), const struct box_monitor_opts *o)
{
	uint64_t tlo = (uint64_t)__start_box_text & ~(PGSZ - 1);
	uint64_t thi = ((uint64_t)__stop_box_text + PGSZ - 1) & ~(PGSZ - 1);
	struct box_monitor_opts def = { .log_fd = -1, .msg_fd = 2 };
	struct box_image img;
	void *b;

	box_test_mem = box_mem_new();
	IT_ASSERT(box_test_mem);
	box_test_stack = mmap(NULL, U_STACK, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(box_test_stack != MAP_FAILED);
	IT_ASSERT_EQ(box_mem_add(box_test_mem, tlo, thi,
				 PROT_READ | PROT_EXEC), 0);
	IT_ASSERT_EQ(box_mem_add(box_test_mem, (uint64_t)__start_box_data,
				 (uint64_t)__stop_box_data,
				 PROT_READ | PROT_WRITE), 0);
	IT_ASSERT_EQ(box_mem_add(box_test_mem, (uint64_t)box_test_stack,
				 (uint64_t)box_test_stack + U_STACK,
				 PROT_READ | PROT_WRITE), 0);
	/* free address space for the heap, as the loader leaves it */
	b = mmap(NULL, 16 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(b != MAP_FAILED);
	munmap(b, 16 << 20);
	box_test_brk = (uint64_t)b;

	memset(&img, 0, sizeof(img));
	img.entry = (uint64_t)entry;
	/* as after a call: the functions are C */
	img.sp = (uint64_t)box_test_stack + U_STACK - 8;
	img.brk = box_test_brk;
	return box_run(&img, box_test_mem, &test_policy, o ? o : &def);
}

/* Run @entry in a child that ends as the sandbox did: its wait status. */
static void (*box_child_entry)(void);
static void box_child(void)
{
	box_exit_like(box_test_run(box_child_entry, NULL));
}

static int box_test_status(void (*entry)(void))
{
	box_child_entry = entry;
	return itest_in_child(box_child);
}

#define EXPECT_SANDBOX_SIGNAL(entry, sig)                                  \
	do {                                                               \
		int _st = box_test_status(entry);                          \
		if (!WIFSIGNALED(_st) || WTERMSIG(_st) != (sig))           \
			IT_FAIL("%s: wait status 0x%x, expected signal %d", \
				#entry, _st, (sig));                       \
	} while (0)

#endif
