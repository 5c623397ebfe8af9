/* SPDX-License-Identifier: MIT */
/*
 * Raw system calls and memory helpers for code that runs while the guest
 * is paused (the host loop) or inside the guest (trap handlers).
 *
 * Such code must not change the FPU/SSE/AVX registers: they hold the
 * guest's values, and a guest system call must preserve them.  glibc's
 * memcpy, memset, strlen and stdio use vector registers, and errno-
 * setting wrappers are no better, so this code uses only the inline
 * helpers below and is compiled for general registers only (DUNE_NOFPU).
 *
 * In the guest, the `syscall` instruction reaches our LSTAR stub, which
 * forwards the call to the host loop; natively it is the plain system
 * call.  So the same helpers serve both sides.
 */
#ifndef LIBDUNE_RAW_H
#define LIBDUNE_RAW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

/*
 * Wrap a whole file: no vector registers, no loops turned into memset.
 * The order matters: GCC 12 drops an optimize pragma that follows a
 * target pragma (checked with objdump: no memset/memcpy calls).
 */
#define DUNE_NOFPU_BEGIN                                          \
	_Pragma("GCC push_options")                               \
	_Pragma("GCC optimize(\"no-tree-loop-distribute-patterns\")") \
	_Pragma("GCC target(\"general-regs-only\")")
#define DUNE_NOFPU_END _Pragma("GCC pop_options")

static inline long dune_sys6(long nr, long a1, long a2, long a3, long a4,
			     long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long dune_sys0(long nr)
{
	return dune_sys6(nr, 0, 0, 0, 0, 0, 0);
}

static inline long dune_sys1(long nr, long a1)
{
	return dune_sys6(nr, a1, 0, 0, 0, 0, 0);
}

static inline long dune_sys2(long nr, long a1, long a2)
{
	return dune_sys6(nr, a1, a2, 0, 0, 0, 0);
}

static inline long dune_sys3(long nr, long a1, long a2, long a3)
{
	return dune_sys6(nr, a1, a2, a3, 0, 0, 0);
}

static inline long dune_sys4(long nr, long a1, long a2, long a3, long a4)
{
	return dune_sys6(nr, a1, a2, a3, a4, 0, 0);
}

/* rep stosb / movsb: general registers only, never a library call. */
static inline void dune_bzero(void *p, size_t n)
{
	__asm__ volatile("rep stosb"
			 : "+D"(p), "+c"(n)
			 : "a"(0)
			 : "memory");
}

static inline void dune_copy(void *dst, const void *src, size_t n)
{
	__asm__ volatile("rep movsb"
			 : "+D"(dst), "+S"(src), "+c"(n)
			 :
			 : "memory");
}

static inline size_t dune_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

#endif
