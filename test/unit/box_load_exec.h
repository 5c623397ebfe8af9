/* SPDX-License-Identifier: MIT */
/*
 * A "userland exec" for the loader's tests: after box_load, start the
 * loaded program in this process the way the kernel starts a new image
 * (every general register zero but RSP, RDX = 0 meaning no atexit
 * function, RFLAGS = IF, a fresh x87/SSE control state) and never come
 * back.  Used natively, in a child, to compare with execve.
 */
#ifndef BOX_LOAD_EXEC_H
#define BOX_LOAD_EXEC_H

#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc's registration of this thread's rseq area (glibc >= 2.35) */
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

static inline void __attribute__((noreturn))
box_userland_exec(uint64_t entry, uint64_t sp)
{
	/*
	 * The loaded program's libc registers its own rseq area; drop
	 * this one's, as execve would (the flag 1 is RSEQ_FLAG_UNREGISTER,
	 * 0x53053053 glibc's RSEQ_SIG).
	 */
	if (&__rseq_size && __rseq_size)
		syscall(SYS_rseq,
			(char *)__builtin_thread_pointer() + __rseq_offset,
			__rseq_size, 1, 0x53053053);
	asm volatile("mov %0, %%rsp\n\t"
		     "pushq %1\n\t"		/* ret goes there */
		     "pushq $0x202\n\t"		/* RFLAGS: IF and bit 1 */
		     "pushq $0x1f80\n\t"	/* MXCSR's reset value */
		     "ldmxcsr (%%rsp)\n\t"
		     "lea 8(%%rsp), %%rsp\n\t"
		     "fninit\n\t"
		     "pxor %%xmm0, %%xmm0\n\t"
		     "pxor %%xmm1, %%xmm1\n\t"
		     "pxor %%xmm2, %%xmm2\n\t"
		     "pxor %%xmm3, %%xmm3\n\t"
		     "pxor %%xmm4, %%xmm4\n\t"
		     "pxor %%xmm5, %%xmm5\n\t"
		     "pxor %%xmm6, %%xmm6\n\t"
		     "pxor %%xmm7, %%xmm7\n\t"
		     "xor %%eax, %%eax\n\t"
		     "xor %%ebx, %%ebx\n\t"
		     "xor %%ecx, %%ecx\n\t"
		     "xor %%edx, %%edx\n\t"
		     "xor %%esi, %%esi\n\t"
		     "xor %%edi, %%edi\n\t"
		     "xor %%ebp, %%ebp\n\t"
		     "xor %%r8d, %%r8d\n\t"
		     "xor %%r9d, %%r9d\n\t"
		     "xor %%r10d, %%r10d\n\t"
		     "xor %%r11d, %%r11d\n\t"
		     "xor %%r12d, %%r12d\n\t"
		     "xor %%r13d, %%r13d\n\t"
		     "xor %%r14d, %%r14d\n\t"
		     "xor %%r15d, %%r15d\n\t"
		     "popfq\n\t"
		     "ret"
		     :
		     : "r"(sp), "r"(entry)
		     : "memory");
	__builtin_unreachable();
}

#endif
