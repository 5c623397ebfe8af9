// SPDX-License-Identifier: MIT
/*
 * dune-sandbox: run an untrusted function at ring 3 and decide, at ring
 * 0, what each of its system calls may do.
 *
 * The function and its data live in their own sections, which are the
 * only memory of the program mapped user-accessible (PERM_U), together
 * with a stack; everything else is supervisor-only (dune_init(false):
 * only the kernel's read-only vDSO and vvar are ring 3's too), so ring 3
 * reaches ring 0 only through its system calls (and faults), all of
 * which land in filter().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "dune.h"

#define UNTRUSTED_CODE __attribute__((section("sandbox_text"), noinline))
#define UNTRUSTED_DATA __attribute__((section("sandbox_data")))

/* Ring 3 can only reach these (the linker gives us their bounds). */
extern char __start_sandbox_text[], __stop_sandbox_text[];
extern char __start_sandbox_data[], __stop_sandbox_data[];

UNTRUSTED_DATA static char hello[] = "hello from ring 3\n";
UNTRUSTED_DATA static char secret_path[] = "/etc/passwd";
UNTRUSTED_DATA static long results[2];

static inline __attribute__((always_inline)) long
u_syscall(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

/* The untrusted code: it has no way out but system calls. */
UNTRUSTED_CODE static void untrusted(void)
{
	u_syscall(SYS_write, 1, (long)hello, sizeof(hello) - 1);
	results[0] = u_syscall(SYS_getpid, 0, 0, 0);
	results[1] = u_syscall(SYS_open, (long)secret_path, O_RDONLY, 0);
	u_syscall(SYS_exit, 7, 0, 0);
}

static bool in_sandbox_data(uint64_t p, uint64_t len)
{
	return p >= (uint64_t)__start_sandbox_data &&
	       len <= (uint64_t)(__stop_sandbox_data - __start_sandbox_data) &&
	       p + len <= (uint64_t)__stop_sandbox_data;
}

/* The policy, at ring 0: every ring-3 system call comes here. */
static void filter(struct dune_tf *tf)
{
	switch (tf->rax) {
	case SYS_write:	/* stdout only, from the sandbox's own memory */
		if (tf->rdi == 1 && in_sandbox_data(tf->rsi, tf->rdx))
			dune_passthrough_syscall(tf);
		else
			tf->rax = -EPERM;
		break;
	case SYS_getpid:	/* emulated: the sandbox sees a fake pid */
		tf->rax = 1000;
		break;
	case SYS_exit:		/* the end of the run */
		dune_ret_from_user(tf->rdi);
	default:
		tf->rax = -EPERM;
	}
}

/* Make [start, end) accessible to ring 3, whole pages. */
static int allow(char *start, char *end, int perm)
{
	uintptr_t lo = (uintptr_t)start & ~4095ul;
	uintptr_t hi = ((uintptr_t)end + 4095) & ~4095ul;

	return dune_vm_mprotect(pgroot, (void *)lo, hi - lo, perm);
}

int main(void)
{
	size_t stack_size = 64 << 10;
	struct dune_tf tf;
	char *stack;
	int ret;

	stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/*
	 * dune_init(false): pgroot supervisor-only (dune_init(true), as
	 * dune_init_and_enter does, would open all memory to ring 3).
	 */
	if (stack == MAP_FAILED || dune_init(false) || dune_enter())
		return 1;
	if (allow(__start_sandbox_text, __stop_sandbox_text, PERM_UCODE) ||
	    allow(__start_sandbox_data, __stop_sandbox_data, PERM_UTEXT) ||
	    allow(stack, stack + stack_size, PERM_USTACK)) {
		fprintf(stderr, "sandbox: cannot map the sandbox for ring 3\n");
		return 1;
	}
	dune_register_syscall_handler(filter);

	memset(&tf, 0, sizeof(tf));
	tf.rip = (uint64_t)untrusted;
	tf.rsp = (uint64_t)(stack + stack_size - 8);	/* as after a call */
	tf.rflags = 0x2;
	ret = dune_jump_to_user(&tf);

	printf("sandbox: getpid() = %ld (emulated)\n", results[0]);
	printf("sandbox: open(\"%s\") denied: %ld\n", secret_path, results[1]);
	printf("sandbox: ring 3 returned %d\n", ret);
	return ret == 7 && results[0] == 1000 && results[1] == -EPERM ? 0 : 1;
}
