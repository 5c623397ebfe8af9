// SPDX-License-Identifier: MIT
/*
 * Vector register state kept across system calls, VM exits (page faults
 * on fresh memory, CPUID), sched_yield and preemption: XMM0-XMM15, MXCSR
 * and the x87 control word; YMM upper halves too where AVX is usable
 * (CPUID AVX and OSXSAVE, XCR0 with SSE and AVX state).
 */
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOOPS 2000

static const char *yesno(int c)
{
	return c ? "yes" : "no";
}

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + 1);
}

/* Raw: nothing between the loads and the stores may use vector regs. */
static long raw0(long nr)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(nr) : "rcx", "r11", "memory");
	return r;
}

static void touch(volatile char *p)
{
	*p = 1;
}

#define XMM_LOAD(i) "movdqu " #i "*16(%0), %%xmm" #i "\n\t"
#define XMM_STORE(i) "movdqu %%xmm" #i ", " #i "*16(%0)\n\t"
#define YMM_LOAD(i) "vmovdqu " #i "*32(%0), %%ymm" #i "\n\t"
#define YMM_STORE(i) "vmovdqu %%ymm" #i ", " #i "*32(%0)\n\t"
#define ALL16(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) \
	m(11) m(12) m(13) m(14) m(15)

/* One round: load, make the CPU leave the guest in @how, store. */
static int round_xmm(int how, char *mem)
{
	static uint8_t in[256] __attribute__((aligned(16)));
	static uint8_t out[256] __attribute__((aligned(16)));
	uint32_t mx_in = 0x1f80 | (3 << 13), mx_out = 0;	/* round to zero */
	uint16_t cw_in = 0x037f & ~(3 << 10), cw_out = 0;
	int i;

	cw_in |= 1 << 10;	/* round down */
	fill(in, sizeof(in), how);
	__asm__ volatile(ALL16(XMM_LOAD) : : "r"(in) : "memory");
	__asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mx_in), "m"(cw_in));
	for (i = 0; i < LOOPS; i++) {
		switch (how) {
		case 0:
			raw0(SYS_getppid);
			break;
		case 1:
			if (i % 10 == 0)
				raw0(SYS_sched_yield);
			break;
		case 2:
			touch(mem + (size_t)i * 4096);
			break;
		case 3: {
			unsigned int a = 0, b, c = 0, d;

			__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
			break;
		}
		}
	}
	__asm__ volatile(ALL16(XMM_STORE) : : "r"(out) : "memory");
	__asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mx_out), "=m"(cw_out));
	mx_in = 0x1f80;
	cw_in = 0x037f;
	__asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mx_in), "m"(cw_in));
	return !memcmp(in, out, sizeof(in)) && mx_out == (0x1f80 | (3 << 13)) &&
	       cw_out == ((0x037f & ~(3 << 10)) | (1 << 10));
}

static int round_ymm(int how)
{
	static uint8_t in[512] __attribute__((aligned(32)));
	static uint8_t out[512] __attribute__((aligned(32)));
	int i;

	fill(in, sizeof(in), how + 50);
	__asm__ volatile(ALL16(YMM_LOAD) : : "r"(in) : "memory");
	for (i = 0; i < LOOPS; i++) {
		if (how == 0)
			raw0(SYS_getppid);
		else if (i % 10 == 0)
			raw0(SYS_sched_yield);
	}
	__asm__ volatile(ALL16(YMM_STORE) "vzeroupper" : : "r"(out) : "memory");
	return !memcmp(in, out, sizeof(in));
}

int main(void)
{
	static const char *const how[] = { "system calls", "sched_yield",
					   "page faults", "cpuid" };
	unsigned int a, b, c, d;
	char *mem = mmap(NULL, (size_t)LOOPS * 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i, avx = 0;

	if (mem == MAP_FAILED)
		return 1;
	for (i = 0; i < 4; i++)
		printf("xmm0-15, mxcsr, x87 cw kept across %d %s: %s\n", LOOPS,
		       how[i], yesno(round_xmm(i, mem)));

	__cpuid(1, a, b, c, d);
	if ((c & (1u << 28)) && (c & (1u << 27))) {
		uint32_t lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		avx = (lo & 6) == 6;
	}
	if (!avx) {
		printf("avx: not usable\n");
		return 0;
	}
	printf("ymm0-15 kept across %d system calls: %s\n", LOOPS,
	       yesno(round_ymm(0)));
	printf("ymm0-15 kept across %d sched_yield rounds: %s\n", LOOPS,
	       yesno(round_ymm(1)));
	return 0;
}
