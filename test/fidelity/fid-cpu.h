/* SPDX-License-Identifier: MIT */
/*
 * Instruction wrappers shared by the fidelity programs (which know
 * nothing of Dune) and the itests that check the same instructions from
 * libdune's side: FS/GS base instructions and an rseq critical section.
 */
#ifndef FID_CPU_H
#define FID_CPU_H

#include <stdint.h>

static inline uint64_t rdfsbase(void)
{
	uint64_t v;

	__asm__ volatile("rdfsbase %0" : "=r"(v));
	return v;
}

static inline void wrfsbase(uint64_t v)
{
	__asm__ volatile("wrfsbase %0" : : "r"(v) : "memory");
}

static inline uint64_t rdgsbase(void)
{
	uint64_t v;

	__asm__ volatile("rdgsbase %0" : "=r"(v));
	return v;
}

static inline void wrgsbase(uint64_t v)
{
	__asm__ volatile("wrgsbase %0" : : "r"(v) : "memory");
}

#ifdef FID_RSEQ_SPIN
#include <sys/rseq.h>

/*
 * int rseq_spin(uint64_t *rseq_cs, struct rseq_cs *cs): enter the
 * critical section @cs describes (store it in the area's rseq_cs field)
 * and spin in it; returns 1 from the abort handler, which is all that
 * can end it.  The signature before the handler is glibc's RSEQ_SIG.
 */
int rseq_spin(uint64_t *rseq_cs, struct rseq_cs *cs);
extern char rseq_spin_start[], rseq_spin_end[], rseq_spin_abort[];
__asm__(
	"	.text\n"
	"	.globl rseq_spin\n"
	"rseq_spin:\n"
	"	movq	%rsi, (%rdi)\n"
	"	.globl rseq_spin_start\n"
	"rseq_spin_start:\n"
	"	jmp	rseq_spin_start\n"
	"	.globl rseq_spin_end\n"
	"rseq_spin_end:\n"
	"	xorl	%eax, %eax\n"
	"	ret\n"
	"	.long	0x53053053\n"	/* RSEQ_SIG, checked below */
	"	.globl rseq_spin_abort\n"
	"rseq_spin_abort:\n"
	"	movl	$1, %eax\n"
	"	ret\n");
_Static_assert(RSEQ_SIG == 0x53053053, "rseq_spin's signature is glibc's");
#endif

#endif
