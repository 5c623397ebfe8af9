// SPDX-License-Identifier: MIT
/*
 * CPUID as a user program sees it, leaf by leaf (pinned to one CPU: the
 * APIC IDs differ between CPUs), with the two bits a hypervisor may
 * differ in masked: VMX (leaf 1 ECX bit 5) and the hypervisor bit
 * (leaf 1 ECX bit 31).  Then XGETBV where CR4.OSXSAVE is on (CPUID says
 * OSXSAVE) against CPUID leaf 0xD, and CPUID faulting (arch_prctl
 * ARCH_SET_CPUID), which makes CPUID raise SIGSEGV where the CPU has it.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <asm/prctl.h>

static void leaf(unsigned int l, unsigned int s)
{
	unsigned int a, b, c, d;

	__cpuid_count(l, s, a, b, c, d);
	if (l == 1)
		c &= ~((1u << 5) | (1u << 31));
	/* Sub-leaves past the first: only those with something in them. */
	if (s && !(a | b | c | d))
		return;
	printf("%08x.%02x: %08x %08x %08x %08x\n", l, s, a, b, c, d);
}

static void range(unsigned int base)
{
	unsigned int a, b, c, d, max, l, s;

	__cpuid(base, max, b, c, d);
	if (max < base || max > base + 0x100)
		max = base;
	for (l = base; l <= max; l++) {
		switch (l) {
		case 4:	/* cache parameters, until type 0 */
			for (s = 0; s < 16; s++) {
				__cpuid_count(l, s, a, b, c, d);
				leaf(l, s);
				if (!(a & 31))
					break;
			}
			break;
		case 7:
		case 0x14:
		case 0x17:
			__cpuid_count(l, 0, a, b, c, d);
			for (s = 0; s <= a && s < 16; s++)
				leaf(l, s);
			break;
		case 0xb:
		case 0x1f:	/* topology levels, until type 0 */
			for (s = 0; s < 8; s++) {
				__cpuid_count(l, s, a, b, c, d);
				leaf(l, s);
				if (!((c >> 8) & 0xff))
					break;
			}
			break;
		case 0xd:
		case 0xf:
		case 0x10:
		case 0x12:
			for (s = 0; s < 64; s++)
				leaf(l, s);
			break;
		default:
			leaf(l, 0);
		}
	}
}

int main(void)
{
	unsigned int a, b, c, d;
	cpu_set_t set;
	int st = 0, fd;
	long r;
	pid_t pid;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
	range(0);
	range(0x80000000);

	__cpuid(1, a, b, c, d);
	if (c & (1u << 27)) {
		uint32_t lo, hi;
		uint64_t xcr0, supported;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		xcr0 = (uint64_t)hi << 32 | lo;
		__cpuid_count(0xd, 0, a, b, c, d);
		supported = (uint64_t)d << 32 | a;
		printf("osxsave: yes, xcr0 %#llx, within cpuid 0xd: %s, x87|sse: %s\n",
		       (unsigned long long)xcr0,
		       (xcr0 & ~supported) ? "no" : "yes",
		       (xcr0 & 3) == 3 ? "yes" : "no");
		/* XCR0's size for the enabled components: leaf 0xD EBX. */
		printf("xsave size for xcr0 (cpuid 0xd ebx): %u\n", b);
	} else {
		printf("osxsave: no\n");
	}

	r = syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0);
	printf("ARCH_GET_CPUID: %ld\n", r);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0))
			_exit(errno == ENODEV ? 40 : 41);
		__cpuid(0, a, b, c, d);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("cpuid with CPUID faulting: killed by signal %d\n",
		       WTERMSIG(st));
	else if (WEXITSTATUS(st) == 40)
		printf("CPUID faulting: not supported (ENODEV)\n");
	else
		printf("cpuid with CPUID faulting: exit %d\n", WEXITSTATUS(st));
	return 0;
}
