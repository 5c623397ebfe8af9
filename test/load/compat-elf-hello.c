// SPDX-License-Identifier: MIT
/*
 * compat-elf-hello: a tiny static program without libc, the kind of
 * image the original Dune's sandbox loaded with dune_elf_* and ran at
 * ring 3 (itest-compat-elf does).  It checks that its bss is zero,
 * writes one line with write(2) and ends with exit(42).
 */
#include <stddef.h>
#include <sys/syscall.h>

static const char msg[] = "hello from an ELF at ring 3\n";
static const char dirty[] = "bss not zero\n";
static volatile char data[100] = "data segment";
static volatile char bss[3 * 4096 + 17];

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"(nr), "D"(a), "S"(b), "d"(c)
		     : "rcx", "r11", "memory");
	return ret;
}

void cmain(void);
void cmain(void)
{
	size_t i;

	for (i = 0; i < sizeof(bss); i++)
		if (bss[i])
			break;
	if (i < sizeof(bss) || data[0] != 'd')
		sys3(SYS_write, 1, (long)dirty, sizeof(dirty) - 1);
	sys3(SYS_write, 1, (long)msg, sizeof(msg) - 1);
	sys3(SYS_exit, 42, 0, 0);
	for (;;)
		;
}

asm(".globl _start\n"
    "_start:\n\t"
    "xor %ebp, %ebp\n\t"
    "and $-16, %rsp\n\t"
    "call cmain\n\t"
    "hlt\n");
