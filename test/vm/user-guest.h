/* SPDX-License-Identifier: MIT */
/*
 * The ring-3 side shared by itest-dune-user and itest-dune-signal: the
 * ring-3 code (assembly alone in its own page-aligned section, which
 * enter_user maps user-accessible together with a ring-3 stack; all else
 * stays supervisor-only), frames that start it, and the system call
 * handler with its modes.  Functions are static inline so that a program
 * using only some of them builds without unused-function warnings.
 */
#ifndef DUNE_USER_GUEST_H
#define DUNE_USER_GUEST_H

#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "itest.h"
#include "dune.h"
#include "internal.h"

/* The system call that ring 3 uses to end its run: result in rdi. */
#define NR_RET 0x7fff
/* Its handler checks TLS (tls_in_handlers); rdi: what ring 3 read */
#define NR_TLS 0x7ffe
#define TLS_MAGIC 0x5a5a
#define STR(x) #x
#define XSTR(x) STR(x)

__asm__(".pushsection dune_user_text, \"ax\"\n"
	".balign 4096\n"
	"u_text_start:\n"
	/* a system call from the tf registers, its result to NR_RET */
	"u_sys: syscall\n"
	"u_sys_after: mov %rax, %rdi\n"
	"	mov $" XSTR(NR_RET) ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	/* the same, its result handed over with int3 (rax) */
	"u_sys_bp: syscall\n"
	"	int3\n"
	"	ud2\n"
	"u_spin: jmp u_spin\n"
	/* ring 3 zeroes its FS and GS bases, then ends the run */
	"u_segs: mov $" XSTR(DUNE_USER_SS) ", %eax\n"
	"	mov %eax, %fs\n"
	"	mov %eax, %gs\n"
	"	mov $" XSTR(NR_RET) ", %eax\n"
	"	mov $5, %edi\n"
	"	syscall\n"
	"	ud2\n"
	/*
	 * FS and GS with base 0, each then read at r12 (an address holding
	 * TLS_MAGIC): a system call, a #UD, a spin, and a loop of emulated
	 * getpid calls (r13 of them).
	 */
	"u_tls: mov $" XSTR(DUNE_USER_SS) ", %eax\n"
	"	mov %eax, %fs\n"
	"	mov %eax, %gs\n"
	"	mov %fs:(%r12), %rdi\n"
	"	mov $" XSTR(NR_TLS) ", %eax\n"
	"	syscall\n"
	"	mov %rax, %rbx\n"
	"	mov $" XSTR(DUNE_USER_SS) ", %eax\n"
	"	mov %eax, %fs\n"
	"	mov %eax, %gs\n"
	"	mov %gs:(%r12), %rsi\n"
	"	ud2\n"
	"u_tls_spin: mov $" XSTR(DUNE_USER_SS) ", %eax\n"
	"	mov %eax, %fs\n"
	"	mov %eax, %gs\n"
	"1:	jmp 1b\n"
	"u_emul: mov $" XSTR(DUNE_USER_SS) ", %eax\n"
	"	mov %eax, %fs\n"
	"	mov %eax, %gs\n"
	"1:	mov $" XSTR(SYS_getpid) ", %eax\n"
	"	syscall\n"
	"	dec %r13\n"
	"	jnz 1b\n"
	"	mov %rax, %rdi\n"
	"	mov $" XSTR(NR_RET) ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	"u_int3: int3\n"
	"u_int3_after: ud2\n"
	"u_pop_target: lea 1(%rax), %rdi\n"
	"	mov $" XSTR(NR_RET) ", %eax\n"
	"	syscall\n"
	"u_pop_after: ud2\n"
	"u_div: div %rcx\n"
	"	ud2\n"
	"u_read: mov (%rdi), %rax\n"
	"	ud2\n"
	"u_write: mov %rax, (%rdi)\n"
	"	ud2\n"
	"u_exec: jmp *%rdi\n"
	/* one privileged instruction each (then ud2: never reached) */
	"u_cli: cli\n ud2\n"
	"u_sti: sti\n ud2\n"
	"u_hlt: hlt\n ud2\n"
	"u_mov_cr3: mov %rax, %cr3\n ud2\n"
	"u_mov_cr0: mov %cr0, %rax\n ud2\n"
	"u_lidt: lidt (%rsp)\n ud2\n"
	"u_lgdt: lgdt (%rsp)\n ud2\n"
	"u_wrmsr: wrmsr\n ud2\n"
	"u_rdmsr: rdmsr\n ud2\n"
	"u_in: in $0x80, %al\n ud2\n"
	"u_out: out %al, $0x80\n ud2\n"
	"u_invlpg: invlpg (%rsp)\n ud2\n"
	"u_vmcall: vmcall\n ud2\n"
	"u_int_stub: int $" XSTR(DUNE_VEC_USER_SYSCALL) "\n ud2\n"
	"u_swapgs: swapgs\n ud2\n"
	"u_sysret: sysretq\n ud2\n"
	/* an iretq frame that asks for ring 0 */
	"u_iret_prep: mov %rsp, %rax\n"
	"	push $" XSTR(DUNE_SEL_KDATA) "\n"
	"	push %rax\n"
	"	pushf\n"
	"	push $" XSTR(DUNE_SEL_KCODE) "\n"
	"	lea u_spin(%rip), %rax\n"
	"	push %rax\n"
	"u_iret: iretq\n"
	"	ud2\n"
	".balign 4096\n"
	"u_text_end:\n"
	".popsection\n");

extern char u_text_start[], u_text_end[], u_sys[], u_sys_after[],
	u_sys_bp[], u_spin[], u_segs[], u_tls[], u_tls_spin[], u_emul[],
	u_int3[], u_int3_after[], u_pop_target[], u_pop_after[], u_div[],
	u_read[], u_write[], u_exec[], u_cli[], u_sti[], u_hlt[],
	u_mov_cr3[], u_mov_cr0[], u_lidt[], u_lgdt[], u_wrmsr[], u_rdmsr[],
	u_in[], u_out[], u_invlpg[], u_vmcall[], u_int_stub[], u_swapgs[],
	u_sysret[], u_iret_prep[], u_iret[];

#define USTACK_SIZE (16 << 10)
static char *ustack;

/* pgroot supervisor-only: ring 3 gets what enter_user opens, no more. */
static inline void enter(void)
{
	IT_ASSERT_EQ(dune_init(false), 0);
	IT_ASSERT_EQ(dune_enter(), 0);
	IT_ASSERT(dune_active());
}

/* Dune mode, the ring-3 code and a ring-3 stack user-accessible. */
static inline void enter_user(void)
{
	enter();
	ustack = mmap(NULL, USTACK_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	IT_ASSERT(ustack != MAP_FAILED);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, u_text_start,
				      u_text_end - u_text_start, PERM_UCODE), 0);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, ustack, USTACK_SIZE,
				      PERM_USTACK), 0);
}

/* A ring-3 frame starting at @rip on the ring-3 stack. */
static inline void user_tf(struct dune_tf *tf, void *rip)
{
	memset(tf, 0, sizeof(*tf));
	tf->rip = (uint64_t)rip;
	tf->rsp = (uint64_t)(ustack + USTACK_SIZE - 64);
	tf->rflags = 0x202;
}

/* What the last handler saw. */
static struct seen {
	uint64_t vector, rip, cs, err, rflags, addr, fec;
	int calls;
} seen;

static inline void record(struct dune_tf *tf)
{
	seen.vector = tf->vector;
	seen.rip = tf->rip;
	seen.cs = tf->cs;
	seen.err = tf->err;
	seen.rflags = tf->rflags;
	seen.calls++;
}

/* ---- the system call handler and its modes ---- */

enum { SYS_DENY_WRITE = 1, SYS_EMULATE_GETPID, SYS_PASS, SYS_NESTED };
static int sys_mode;

/*
 * Thread-local state that handlers check and advance: 1 if tls_val and
 * errno are what this thread last set (so FS pointed at its TLS), else 0.
 */
static __thread volatile long tls_val;
static volatile long tls_expect;

static inline int tls_step(void)
{
	int ok = tls_val == tls_expect && errno == (int)tls_expect;

	tls_expect++;
	tls_val = tls_expect;
	errno = (int)tls_expect;
	return ok;
}

static inline void sys_handler(struct dune_tf *tf)
{
	record(tf);
	if (tf->rax == NR_RET)
		dune_ret_from_user((int)tf->rdi);
	if (tf->rax == NR_TLS) {
		tf->rax = tls_step() && tf->rdi == TLS_MAGIC;
		return;
	}
	if (tf->cs != DUNE_USER_CS || tf->ss != DUNE_USER_SS ||
	    !dune_active()) {
		tf->rax = -EFAULT;	/* the test sees the wrong result */
		return;
	}
	switch (sys_mode) {
	case SYS_DENY_WRITE:
		tf->rax = tf->rax == SYS_write ? -EPERM : -ENOSYS;
		break;
	case SYS_EMULATE_GETPID:
		tf->rax = tf->rax == SYS_getpid ? 4242 : -ENOSYS;
		break;
	case SYS_PASS:
		dune_passthrough_syscall(tf);
		break;
	case SYS_NESTED:
		tf->rax = dune_jump_to_user(tf);
		break;
	}
}

#endif
