/* SPDX-License-Identifier: MIT */
/*
 * Linux's x86-64 signal frame (struct rt_sigframe) and the pure rules
 * around it: where a frame goes, which mask a handler runs with, which
 * action flags reach the kernel, the sigaltstack checks.  No system calls
 * here (sigframe.c is unit-tested on the host); only fixed-size types, so
 * this header goes with <signal.h> as well as with the kernel's own
 * <asm/signal.h> that sigframe.c uses.
 */
#ifndef LIBDUNE_SIGFRAME_H
#define LIBDUNE_SIGFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's struct sigcontext (64-bit), <asm/sigcontext.h>. */
struct dune_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp;
	uint64_t rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

/* The kernel's stack_t. */
struct dune_kstack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

/* The kernel's struct ucontext (x86-64), sigset_t of 64 bits. */
struct dune_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct dune_kstack uc_stack;
	struct dune_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

/* struct rt_sigframe: the handler's return address is at its start. */
struct dune_rt_sigframe {
	uint64_t pretcode;
	struct dune_ucontext uc;
	uint8_t info[128];	/* siginfo_t */
};

/* A thread's alternate signal stack, as Linux keeps it (sas_ss_*). */
struct dune_sas {
	uint64_t sp;
	uint64_t size;
	uint32_t flags;		/* as sigaltstack got them (SS_AUTODISARM) */
};

/* What Linux's user-space sigcontext shows for cs and ss. */
#define DUNE_SIG_USER_CS	0x33
#define DUNE_SIG_USER_SS	0x2b

/* The action flags the kernel keeps for the trampoline (sigaction.c). */
uint64_t dune_sig_kflags(uint64_t prog_flags);
/* The flags Linux stores and reports (UAPI_SA_FLAGS); mask w/o KILL, STOP. */
uint64_t dune_sig_uapi_flags(uint64_t flags);
uint64_t dune_sig_blockable(uint64_t mask);
/* The mask a handler runs with: base | sa_mask | sig unless SA_NODEFER. */
uint64_t dune_sig_handler_mask(uint64_t base, uint64_t sa_mask,
			       uint64_t flags, int sig);
bool dune_sig_flag(uint64_t flags, int which);
enum { DUNE_SA_RESTART, DUNE_SA_RESETHAND, DUNE_SA_ONSTACK, DUNE_SA_NODEFER,
       DUNE_SA_RESTORER, DUNE_SA_SIGINFO };

/* Linux's on_sig_stack() and sas_ss_flags() for stack pointer @sp. */
bool dune_sas_on(const struct dune_sas *s, uint64_t sp);
int dune_sas_flags(const struct dune_sas *s, uint64_t sp);
/* sigaltstack: what the old value reads as, then the change (-errno). */
void dune_sas_get(const struct dune_sas *s, uint64_t sp,
		  struct dune_kstack *out);
long dune_sas_set(struct dune_sas *s, const struct dune_kstack *ss,
		  uint64_t sp);
/* After a frame is written: SS_AUTODISARM forgets the altstack. */
void dune_sas_after_frame(struct dune_sas *s);

/*
 * get_sigframe: for a thread at @rsp, the address of the rt_sigframe
 * (@frame_size bytes) and of the FPU area (@math_size bytes, 64-byte
 * aligned) above it; the frame's address, or 0 if it would overflow the
 * altstack (Linux: SIGSEGV).
 */
uint64_t dune_sigframe_place(const struct dune_sas *s, uint64_t rsp,
			     bool onstack, uint64_t math_size,
			     uint64_t frame_size, uint64_t *fpstate);

/* rt_sigreturn: the flags a frame may change (FIX_EFLAGS), the rest kept. */
uint64_t dune_sig_return_flags(uint64_t cur, uint64_t frame);
/* Flags at a handler's entry. */
uint64_t dune_sig_entry_flags(uint64_t cur);
/*
 * rt_sigreturn: Linux returns with the frame's cs | 3 and ss | 3 (ss
 * only under UC_STRICT_RESTORE_SS), and IRET to anything but the user
 * selectors fails (SIGSEGV).  Are they the user ones?
 */
bool dune_sig_user_sel_ok(uint64_t uc_flags, uint16_t cs, uint16_t ss);
/* uc_flags as Linux sets them. */
uint64_t dune_sig_uc_flags(bool xsave);

/*
 * The FPU area of a frame being restored: its first 512 bytes (@fx) and
 * the 4 bytes after the xstate (@magic2, when @have_magic2).  Returns the
 * size of the XSAVE image to read (> 512: XSAVE format, features in
 * *@xfeatures), 512 for legacy FXSAVE format only.
 */
uint32_t dune_fpstate_kind(const uint8_t *fx, uint32_t user_size,
			   uint32_t *magic2_at);
bool dune_fpstate_magic2_ok(uint32_t magic2);
/* Fill the software bytes of a frame's FPU area (XSAVE format). */
void dune_fpstate_sw_fill(uint8_t *fx, uint64_t xfeatures, uint32_t size);
/* Check an XSAVE header (64 bytes at offset 512) against @mask: 0 / -1. */
int dune_xsave_header_check(const uint8_t *hdr, uint64_t mask);

#endif
