// SPDX-License-Identifier: MIT
/*
 * int $0x80 from 64-bit code: the i386 system call ABI (eax = number,
 * ebx, ecx, edx, esi, edi, ebp).  getpid (20), write (4) from a buffer
 * below 4 GiB, an invalid number (ENOSYS), the registers the kernel
 * leaves, RIP after the 2-byte instruction, exit (1) and fork (2), and a
 * seccomp filter that refuses one i386 call by AUDIT_ARCH_I386.  Where
 * the kernel has no ia32 emulation, the first int $0x80 raises SIGSEGV.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define I386_EXIT	1
#define I386_FORK	2
#define I386_WRITE	4
#define I386_GETPID	20

static long int80(long nr, long b, long c, long d)
{
	long r;

	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "a"(nr), "b"(b), "c"(c), "d"(d)
			 : "memory");
	return r;
}

static const char *yesno(int c)
{
	return c ? "yes" : "no";
}

/* Every register before and after, and where execution went on. */
static void regs_after(void)
{
	static uint64_t before[14], after[14];
	uint64_t *pb = before, *pa = after;
	int i, same = 1;

	for (i = 0; i < 14; i++)
		before[i] = 0x1010101010101010ull * (i + 1) + i;
	/* Below the red zone; every register but rsp gets a value. */
	__asm__ volatile(
		"sub $128, %%rsp\n\t"
		"push %%rbp\n\t"
		"push %%rbx\n\t"
		"push %%r12\n\t"
		"push %%r13\n\t"
		"push %%r14\n\t"
		"push %%r15\n\t"
		"push %%rdi\n\t"		/* after[] */
		"mov 0(%%rsi), %%rbx\n\t"
		"mov 8(%%rsi), %%rcx\n\t"
		"mov 16(%%rsi), %%rdx\n\t"
		"mov 24(%%rsi), %%rbp\n\t"
		"mov 32(%%rsi), %%r8\n\t"
		"mov 40(%%rsi), %%r9\n\t"
		"mov 48(%%rsi), %%r10\n\t"
		"mov 56(%%rsi), %%r11\n\t"
		"mov 64(%%rsi), %%r12\n\t"
		"mov 72(%%rsi), %%r13\n\t"
		"mov 80(%%rsi), %%r14\n\t"
		"mov 88(%%rsi), %%r15\n\t"
		"mov 96(%%rsi), %%rdi\n\t"
		"mov 104(%%rsi), %%rsi\n\t"
		"mov $20, %%eax\n\t"
		"int $0x80\n\t"
		/* execution goes on right after the 2-byte instruction */
		"xchg %%rsi, (%%rsp)\n\t"	/* rsi = after[], slot = rsi */
		"mov %%rbx, 0(%%rsi)\n\t"
		"mov %%rcx, 8(%%rsi)\n\t"
		"mov %%rdx, 16(%%rsi)\n\t"
		"mov %%rbp, 24(%%rsi)\n\t"
		"mov %%r8, 32(%%rsi)\n\t"
		"mov %%r9, 40(%%rsi)\n\t"
		"mov %%r10, 48(%%rsi)\n\t"
		"mov %%r11, 56(%%rsi)\n\t"
		"mov %%r12, 64(%%rsi)\n\t"
		"mov %%r13, 72(%%rsi)\n\t"
		"mov %%r14, 80(%%rsi)\n\t"
		"mov %%r15, 88(%%rsi)\n\t"
		"mov %%rdi, 96(%%rsi)\n\t"
		"pop %%rdi\n\t"
		"mov %%rdi, 104(%%rsi)\n\t"
		"pop %%r15\n\t"
		"pop %%r14\n\t"
		"pop %%r13\n\t"
		"pop %%r12\n\t"
		"pop %%rbx\n\t"
		"pop %%rbp\n\t"
		"add $128, %%rsp\n\t"
		: "+S"(pb), "+D"(pa)
		:
		: "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
	for (i = 0; i < 14; i++) {
		if (after[i] != before[i]) {
			printf("register %d changed: %#llx -> %#llx\n", i,
			       (unsigned long long)before[i],
			       (unsigned long long)after[i]);
			same = 0;
		}
	}
	printf("int $0x80 getpid leaves rbx..r15, rdi, rsi as they were: %s\n",
	       yesno(same));
}

static void seccomp_child(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, I386_GETPID, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	long r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		_exit(10);
	r = int80(I386_GETPID, 0, 0, 0);
	printf("seccomp (i386 getpid refused): int $0x80 getpid = %ld, 64-bit getpid works: %s\n",
	       r, yesno(syscall(SYS_getpid) > 0));
	fflush(stdout);
	_exit(0);
}

int main(void)
{
	static const char msg[] = "written by int $0x80\n";
	char *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	int st = 0;
	long r;
	pid_t pid;

	if (buf == MAP_FAILED || (uintptr_t)buf >> 32)
		return 1;
	printf("int $0x80 getpid == getpid(): %s\n",
	       yesno(int80(I386_GETPID, 0, 0, 0) == getpid()));
	fflush(stdout);
	memcpy(buf, msg, sizeof(msg) - 1);
	r = int80(I386_WRITE, 1, (long)buf, sizeof(msg) - 1);
	printf("int $0x80 write returned %ld\n", r);
	r = int80(0x7fff, 0, 0, 0);
	printf("int $0x80 with number 0x7fff: %ld (-ENOSYS is %d)\n", r,
	       -ENOSYS);
	r = int80(I386_WRITE, 1, 0x7ffff000, 4);
	printf("int $0x80 write from an unmapped buffer: %ld\n", r);
	regs_after();

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int80(I386_EXIT, 5, 0, 0);
		_exit(99);
	}
	waitpid(pid, &st, 0);
	printf("int $0x80 exit(5) in a child: exit status %d\n",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));

	fflush(stdout);
	r = int80(I386_FORK, 0, 0, 0);
	if (r == 0)
		_exit(6);
	st = 0;
	waitpid(r, &st, 0);
	printf("int $0x80 fork: parent got a child that exited %d\n",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		seccomp_child();
	waitpid(pid, &st, 0);
	printf("seccomp child: exit status %d\n",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
	return 0;
}
