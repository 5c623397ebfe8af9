/* SPDX-License-Identifier: MIT */
/*
 * libdune: run this process in VMX non-root mode through dune.ko.
 * Names follow the original Dune's libdune so programs port easily.
 *
 *	if (dune_init_and_enter())
 *		exit(1);	// libdune said why on stderr
 *	// from here on this thread runs in VMX non-root ring 0 on libdune's
 *	// page tables, IDT and GDT; system calls are forwarded to Linux,
 *	// threads and fork children stay in Dune mode.
 *
 * A thread in Dune mode cannot leave it; it ends with the thread.
 */
#ifndef LIBDUNE_DUNE_H
#define LIBDUNE_DUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <dune/uapi.h>

/*
 * libdune.so is built with -fvisibility=hidden: what this header (and
 * layout.h) declares is its API, everything else stays internal.
 */
#pragma GCC visibility push(default)

#include "layout.h"
#include "mmu.h"
#include "fpu.h"
/* The ELF API (struct dune_elf, dune_elf_*), as the original's dune.h had it. */
#include "elf.h"

/*
 * Open /dev/dune and check that the module speaks our API version.
 * Returns an fd, or -1 with errno set after printing to stderr what the
 * user should do about it.
 */
int dune_dev_open(void);

/* Fill @caps from the module.  0 on success, -1 with errno and a message. */
int dune_get_caps(struct dune_caps *caps);

/* Write a human-readable description of @caps to @f. */
void dune_caps_print(const struct dune_caps *caps, FILE *f);

/*
 * Prepare the process: open /dev/dune, choose the guest-physical layout
 * (layout.h) from /proc/self/maps, register it as memory slots, build
 * the page tables and the IDT.  Once per process (later calls return 0
 * and change nothing; a fork child that never entered re-opens the
 * device by itself).  Every window is mapped in pgroot either way (the
 * EPT grants only what the process may really access); @map_full says
 * for whom, as in the original libdune:
 *   true  (dune_init_and_enter): the process's memory, and what it maps
 *         later, is user-accessible too: ring-3 code on pgroot runs the
 *         program's functions on its stacks and reaches its globals.
 *         Nothing is kept from ring 3 but the page pool (page tables):
 *         no isolation, as with the original.
 *   false: supervisor-only; ring 3 faults on all of it until the program
 *         opens pages with dune_vm_mprotect(pgroot, ..., PERM_U...), or
 *         runs ring 3 on a root of its own (a sandbox).
 * The vDSO (read, execute) and vvar (read) are ring 3's either way (not
 * with DUNE_INIT_BIG_PGROOT, below).
 * 0, or -1 with errno after a message on stderr.
 */
int dune_init(bool map_full);

/*
 * Put the calling thread into Dune mode.  Returns 0 in VMX non-root
 * mode, ring 0, with every register the C ABI preserves intact, or -1
 * with errno (still native) after a message on stderr.  0 at once if the
 * thread already is in Dune mode.
 */
int dune_enter(void);

/*
 * dune_init with options: DUNE_INIT_BIG_PGROOT builds pgroot from 1 GiB
 * (or 2 MiB) leaves only, without the 4 KiB leaves the original's
 * programs expect (docs/api.md, "pgroot"; faster, fewer table pages);
 * DUNE_INIT_USER_PGROOT makes pgroot user-accessible.  dune_init(true)
 * is dune_init_flags(DUNE_INIT_USER_PGROOT), dune_init(false)
 * dune_init_flags(0).
 */
#define DUNE_INIT_BIG_PGROOT	0x1
#define DUNE_INIT_USER_PGROOT	0x2
int dune_init_flags(unsigned int flags);

/* dune_init(true), then dune_enter(). */
int dune_init_and_enter(void);

/* Is the calling thread in Dune mode?  (Its code segment is ring 0.) */
bool dune_active(void);

/*
 * The calling thread's vCPU counters (DUNE_GET_STATS).  0, or -1 with
 * errno (ESRCH: this thread is not in Dune mode).
 */
int dune_get_stats(struct dune_stats *stats);

/* The windows chosen by dune_init, or NULL before it. */
const struct dune_layout *dune_get_layout(void);

/* ------------------------------------------------------------------ */
/* Utilities (the original libdune's, util.c and procmap.c)            */
/* ------------------------------------------------------------------ */

/* The time-stamp counter (RDTSC does not exit), in cycles. */
static inline unsigned long dune_get_ticks(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (unsigned long)lo | (unsigned long)hi << 32;
}

/*
 * printf to fd 1 with one write system call and no stdio buffer (so it
 * works where stdio cannot, e.g. in a trap handler; output longer than
 * 1023 bytes is cut).  Returns what write returned.
 */
int dune_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * End the process at once: no atexit handlers, no stdio flush.  The
 * original left the exit status to chance; here it is 1 (EXIT_FAILURE).
 */
__attribute__((noreturn)) void dune_die(void);

/*
 * The mmap system call, made directly (no libc wrapper): returns the
 * address, or a negative errno cast to a pointer (not MAP_FAILED).
 */
void *dune_mmap(void *addr, size_t length, int prot, int flags, int fd,
		off_t offset);

/* As in the original libdune: without <assert.h>, assert prints and dies. */
#ifndef assert
#define assert(expr)							\
	do {								\
		if (!(expr)) {						\
			dune_printf("ASSERT(" #expr ") at %s:%d in function %s\n", \
				    __FILE__, __LINE__, __func__);	\
			dune_die();					\
		}							\
	} while (0)
#endif

/*
 * INVPCID (SDM vol. 2) of type @mode for @addr in PCID 1, as the
 * original libdune's: its programs used PCID 1.  #UD in the guest
 * unless the processor and dune.ko allow it (DUNE_CAP_INVPCID).
 */
static inline void __invpcid(int mode, unsigned long addr)
{
	struct {
		uint64_t pcid, addr;
	} desc = { 1, addr };

	__asm__ volatile("invpcid %0, %1"
			 : : "m"(desc), "r"((unsigned long)mode) : "memory");
}

/*
 * The process's memory map, one entry per line of /proc/self/maps, in
 * address order.  path is "" for anonymous memory and valid only during
 * the callback.
 */
#define PROCMAP_TYPE_UNKNOWN	0x00
#define PROCMAP_TYPE_FILE	0x01
#define PROCMAP_TYPE_ANONYMOUS	0x02
#define PROCMAP_TYPE_HEAP	0x03
#define PROCMAP_TYPE_STACK	0x04
#define PROCMAP_TYPE_VSYSCALL	0x05
#define PROCMAP_TYPE_VDSO	0x06
#define PROCMAP_TYPE_VVAR	0x07

struct dune_procmap_entry {
	uintptr_t	begin;
	uintptr_t	end;
	uint64_t	offset;
	bool		r;	/* readable */
	bool		w;	/* writable */
	bool		x;	/* executable */
	bool		p;	/* private (else shared) */
	char		*path;
	int		type;	/* PROCMAP_TYPE_* */
};

typedef void (*dune_procmap_cb)(const struct dune_procmap_entry *);

/* Call @cb for every mapping; aborts if /proc/self/maps cannot be read. */
void dune_procmap_iterate(dune_procmap_cb cb);
/* Print the map to stdout. */
void dune_procmap_dump(void);

/*
 * The original libdune's x2APIC helpers (dune_apic_*, posted IPIs) are
 * not provided: dune.ko gives the guest no APIC (docs/porting.md).
 */

/*
 * Trap frame of a guest exception or interrupt, as the entry code saves
 * it on the exception stack.  Handlers may change it: every register is
 * restored from it when the handler returns.  The layout is the original
 * libdune's (programs index it, and its assembly did), checked below:
 * the registers that carry arguments first, the callee-saved ones, rax,
 * then the CPU's frame, whose 16-bit selectors sit in 8-byte slots.  The
 * vector shares the error code's slot: the CPU pushes a 64-bit error
 * code whose upper half is always zero (SDM vol. 3, 6.13).
 */
struct dune_tf {
	/* arguments (ARG0 .. ARG5) */
	uint64_t rdi;
	uint64_t rsi;
	uint64_t rdx;
	uint64_t rcx;
	uint64_t r8;
	uint64_t r9;
	uint64_t r10;
	uint64_t r11;

	/* callee-saved */
	uint64_t rbx;
	uint64_t rbp;
	uint64_t r12;
	uint64_t r13;
	uint64_t r14;
	uint64_t r15;

	/* system call number and result */
	uint64_t rax;

	/* exception frame */
	uint32_t err;		/* error code, 0 if the vector has none */
	union {
		uint32_t pad1;
		uint32_t vector;	/* 0 .. 255 (libdune's addition) */
	};
	uint64_t rip;
	uint16_t cs;
	uint16_t pad2[3];
	uint64_t rflags;
	uint64_t rsp;
	uint16_t ss;
	uint16_t pad3[3];
};

_Static_assert(offsetof(struct dune_tf, rcx) == 24 &&
	       offsetof(struct dune_tf, rbx) == 64 &&
	       offsetof(struct dune_tf, rax) == 112 &&
	       offsetof(struct dune_tf, err) == 120 &&
	       offsetof(struct dune_tf, vector) == 124 &&
	       offsetof(struct dune_tf, rip) == 128 &&
	       offsetof(struct dune_tf, cs) == 136 &&
	       offsetof(struct dune_tf, rflags) == 144 &&
	       offsetof(struct dune_tf, rsp) == 152 &&
	       offsetof(struct dune_tf, ss) == 160 &&
	       sizeof(struct dune_tf) == 168,
	       "struct dune_tf has the original libdune's layout");

/*
 * System call arguments in a frame given to a dune_syscall_cb (the
 * fourth, r10 at the `syscall` instruction, is copied to rcx, which the
 * instruction overwrote: the C calling convention's order).
 */
#define ARG0(tf)	((tf)->rdi)
#define ARG1(tf)	((tf)->rsi)
#define ARG2(tf)	((tf)->rdx)
#define ARG3(tf)	((tf)->rcx)
#define ARG4(tf)	((tf)->r8)
#define ARG5(tf)	((tf)->r9)

/* Page-fault error code bits (SDM 4.7). */
#define FEC_P	0x01	/* protection violation (else: not present) */
#define FEC_W	0x02	/* write */
#define FEC_U	0x04	/* user mode */
#define FEC_RSV	0x08	/* reserved bit set in a paging entry */
#define FEC_I	0x10	/* instruction fetch */

typedef void (*dune_intr_cb)(struct dune_tf *tf);
typedef void (*dune_pgflt_cb)(uintptr_t addr, uint64_t fec,
			      struct dune_tf *tf);
typedef void (*dune_syscall_cb)(struct dune_tf *tf);

/*
 * Handle guest vector @vec (0 .. 255) with @cb instead of the default
 * report-and-die; NULL restores the default.  Handlers run in the guest
 * on a per-thread exception stack with interrupts off; the vector
 * registers are saved around them.  They must not fault themselves (a
 * nested exception is reported and ends the process).  As in the
 * original libdune, vector DUNE_SIGNAL_INTR_BASE + s (s = 1 .. 55) is
 * also signal s: registering it registers @cb for that signal too (see
 * dune_register_signal_handler).  0, or -EINVAL (errno EINVAL too) for a
 * vector out of range.
 */
int dune_register_intr_handler(int vec, dune_intr_cb cb);

/*
 * Handle guest page faults (vector 14): @cb gets CR2 and the error
 * code.  Guest page faults happen for addresses outside every window
 * (dune_va_to_pa fails) and for pages the program itself made not
 * present or read-only in its page tables (dune_vm_mprotect, PERM_COW);
 * the handler may fix the tables and return, and the access is retried
 * (no VM exit).  Faults on memory the process has not mapped or may not
 * access (in Linux's view) become ordinary SIGSEGV signals.
 */
void dune_register_pgflt_handler(dune_pgflt_cb cb);

/* Print @tf to stderr (usable from a handler: no stdio). */
void dune_dump_trap_frame(struct dune_tf *tf);

/*
 * Handle system calls made at ring 3 (the `syscall` instruction in code
 * started by dune_jump_to_user).  @cb runs at ring 0 on the trap stack
 * with tf->rax = number, ARG0(tf) .. ARG5(tf) = the arguments (rdi, rsi,
 * rdx, r10 copied to rcx, r8, r9, as in the original libdune), tf->rip
 * past the instruction, tf->cs/ss the ring-3 selectors.  Ring 3 resumes
 * with r10 = ARG3(tf), rcx = its rip and r11 = its rflags, as after a
 * Linux system call.  It may emulate
 * the call (set tf->rax), deny it (tf->rax = -EPERM), forward it with
 * dune_passthrough_syscall, or end the ring-3 run with
 * dune_ret_from_user.  When it returns, ring 3 resumes from @tf.  With no
 * handler, every ring-3 system call fails with -ENOSYS.  No VM exit.
 */
void dune_register_syscall_handler(dune_syscall_cb cb);

/*
 * Forward the ring-3 system call in @tf to Linux, as the calling thread's
 * own system call: number tf->rax, arguments ARG0(tf) .. ARG5(tf);
 * tf->rax gets the result.  One VM exit
 * (the same path as the program's own system calls).  Thread creation
 * (clone with CLONE_VM, clone3, vfork) gets -ENOSYS: the new thread would
 * start on the handler's stack.
 */
void dune_passthrough_syscall(struct dune_tf *tf);

/*
 * Run @cb inside the guest, at ring 0 on the trap stack, when signal
 * @signum arrives for a thread in Dune mode: tf is the interrupted
 * context (ring 0 or ring 3), tf->vector = DUNE_SIGNAL_VECTOR(@signum).
 * The signal is delivered when the guest accepts interrupts (not inside
 * another handler).  Like sigaction without SA_RESTART: a system call
 * blocked when it arrives fails with EINTR, right after @cb ran.  A
 * thread not in Dune mode gets @cb natively with a frame built from its
 * signal context.  NULL restores the default action.  For @signum up to
 * 55, vector DUNE_SIGNAL_INTR_BASE + @signum (an `int` instruction) gets
 * @cb as well, as in the original libdune, where that vector was how the
 * module delivered the signal.  0, or -EINVAL (errno EINVAL too) for
 * SIGKILL, SIGSTOP, a signal libdune needs, or one out of range.
 *
 * The original's module injected signal s as vector 200 + s; dune.ko
 * delivers it as DUNE_SIGNAL_VECTOR(s) (room for all 64 signals), which
 * handlers see in tf->vector; the original's programs never read it.
 */
#define DUNE_SIGNAL_VECTOR(signum) (0x40 + (signum))
#define DUNE_SIGNAL_INTR_BASE 200
int dune_register_signal_handler(int signum, dune_intr_cb cb);

/*
 * The original libdune's signal(): @cb(@sig) runs when @sig arrives,
 * natively or in Dune mode (then in the guest, as with
 * dune_register_signal_handler); SIG_DFL and SIG_IGN as for signal().
 * Returns NULL (not the previous handler), or SIG_ERR with errno.
 */
typedef void (*sighandler_t)(int);
sighandler_t dune_signal(int sig, sighandler_t cb);

/*
 * Restore every register from @tf and continue there (ring 0 or ring 3,
 * by tf->cs).  Never returns.  From a handler this abandons the handler's
 * frame; the vector registers are left as they are.
 */
__attribute__((noreturn)) void dune_pop_trap_frame(struct dune_tf *tf);

/* ------------------------------------------------------------------ */
/* Ring 3                                                              */
/* ------------------------------------------------------------------ */

/*
 * Run at CPL 3 from the registers in @tf (rip, rsp, rflags and the
 * general registers; cs and ss are set to the ring-3 selectors, IOPL to
 * 0) on the page-table root loaded now (switch roots with dune_vm_switch
 * or load_cr3 first).  Ring-3 code reaches ring 0 only through traps,
 * interrupts and system calls, i.e. the registered handlers; one of them
 * ends the run with dune_ret_from_user(ret), and dune_jump_to_user then
 * returns ret.  Callee-saved registers, the x87 control word and MXCSR
 * are those of the caller again.  Ring 3 starts on the thread's FS/GS
 * bases; if it loads FS or GS, handlers still run on the thread's (they
 * are restored on every entry from ring 3) and ring 3 resumes on them.
 * -EBUSY if called from a handler of a ring-3 run already in progress on
 * this thread, -EPERM outside Dune mode, -EINVAL if tf->rip or tf->rsp
 * is not canonical.
 */
int dune_jump_to_user(struct dune_tf *tf);

/*
 * End the current ring-3 run: dune_jump_to_user returns @ret, with the
 * caller's FS/GS selectors and bases.  No VM exit.
 */
__attribute__((noreturn)) void dune_ret_from_user(int ret);

/*
 * Signal handlers at ring 3, for the ring-0 owner of ring-3 runs (a
 * sandbox monitor): the program's handlers are ring-3 code, delivered as
 * Linux delivers them to a native process.  While a handler is
 * registered with dune_register_user_signal_handler, libdune never runs
 * the program's handlers (its rt_sigaction table) at ring 0; when the
 * kernel gave it signals for them during a ring-3 run, it injects
 * DUNE_VEC_USER_SIGNAL (a DPL 0 gate: ring 3 cannot raise it) and @cb
 * runs on ring 3's frame, where it calls dune_user_sig_deliver.  NULL
 * unregisters.
 */
#define DUNE_VEC_USER_SIGNAL 0x90
void dune_register_user_signal_handler(dune_intr_cb cb);

/*
 * What libdune needs from the owner for ring-3 frames: @owns says whether
 * ring 0 may read (PROT_READ) or write (PROT_WRITE) [addr, addr + len)
 * on ring 3's behalf (every frame access is checked with it first, so
 * ring 3 can never make ring 0 touch memory it does not own); @altstack
 * is the calling thread's ring-3 sigaltstack, kept by the owner (start:
 * zeroed, ss_flags SS_DISABLE), read and written by libdune.
 */
struct dune_user_sig {
	bool (*owns)(uint64_t addr, uint64_t len, int prot);
	stack_t *altstack;
};

/*
 * The program's rt_sigaction(@sig, @act, @oact, @size) with both
 * structures (the kernel's struct sigaction) in the caller's memory:
 * libdune's table gets the handler, the kernel its trampoline with the
 * program's SA_RESTART, SA_RESETHAND, SA_ONSTACK and SA_NOCLD* (so it
 * queues and restarts as natively); @oact gets the program's view.
 * 0 or -errno, as the system call.
 */
long dune_user_sigaction(int sig, const void *act, void *oact, size_t size);

/*
 * sigaltstack for ring 3, with Linux's rules (EPERM on the altstack,
 * EINVAL, ENOMEM): @ss (or NULL) in the caller's memory, the old value
 * into @old (or NULL); @rsp is ring 3's stack pointer.  0 or -errno.
 */
long dune_user_sigaltstack(const struct dune_user_sig *u, uint64_t rsp,
			   const stack_t *ss, stack_t *old);

/*
 * From a handler of a ring-3 run, @tf being ring 3's frame (a system
 * call, an exception, DUNE_VEC_USER_SIGNAL): build Linux's rt_sigframe
 * on ring 3's stack for each signal queued (the altstack as SA_ONSTACK
 * and SS_AUTODISARM say; the FPU state in the signal-frame format) and
 * make @tf enter the last one's handler with the FPU in its init state;
 * a stack ring 3 cannot write gets SIGSEGV (its default action when that
 * fails too).  In a system call handler, a call that Linux restarted
 * (SA_RESTART and the kernel's rules) has ring 3 issue it again after
 * the handler, and ring 3 then resumes with every register of @tf
 * (the sysret view is made here).  The caller's FPU state is not kept.
 * True if @tf changed.
 */
bool dune_user_sig_deliver(struct dune_tf *tf, const struct dune_user_sig *u);

/*
 * Ring 3's rt_sigreturn, from the system call handler: restore @tf, the
 * FPU state, the signal mask and the altstack from the frame at ring
 * 3's stack (checked with u->owns, validated as Linux does; cs and ss
 * must be ring 3's, rflags keeps only what a frame may change).  A bad
 * frame sends SIGSEGV.  Returns the value for tf->rax.
 */
long dune_user_sigreturn(struct dune_tf *tf, const struct dune_user_sig *u);

/*
 * A ring-3 fault or trap raising @info (Linux's trap values @trapno,
 * @err, *@cr2; NULL keeps the last): with a handler for it that is not
 * blocked, send it (force_sig) and deliver it on @tf, returning 0;
 * otherwise Linux would end the process with the default action, and the
 * signal number is returned for the caller to die of.
 */
int dune_user_sig_fault(struct dune_tf *tf, const siginfo_t *info,
			uint64_t trapno, uint64_t err, const uint64_t *cr2,
			const struct dune_user_sig *u);

/*
 * Ring 3's FS base, as in the original libdune: dune_set_user_fs gives
 * the calling thread's ring-3 code its own FS base (a sandbox's
 * arch_prctl(ARCH_SET_FS)), loaded on every entry into ring 3 until it
 * is changed, across dune_jump_to_user runs; ring-0 handlers keep running
 * on the thread's own base.  A non-canonical base makes the next return
 * to ring 3 fault (#GP at ring 0): callers check it.
 * dune_get_user_fs: that base, or the thread's own before the first set.
 * Both only in Dune mode (get returns 0, set does nothing outside it).
 */
unsigned long dune_get_user_fs(void);
void dune_set_user_fs(unsigned long fs_base);

/*
 * Ring 3's GS base, the same way (a sandbox's ARCH_SET_GS), and also read
 * back on every entry from ring 3, so a base ring 3 sets itself with
 * WRGSBASE lasts across its system calls, traps and signal handlers.
 */
unsigned long dune_get_user_gs(void);
void dune_set_user_gs(unsigned long gs_base);

/*
 * The guest's GDT: Linux's layout, as in the original libdune (desc.h).
 * GD_TSS is a 16-byte descriptor (GD_TSS2 its upper half).
 */
#define GD_KT		0x10	/* ring-0 code */
#define GD_KD		0x18	/* ring-0 data */
#define GD_UD		0x28	/* ring-3 data */
#define GD_UT		0x30	/* ring-3 code */
#define GD_TSS		0x38
#define GD_TSS2		0x40
#define NR_GDT_ENTRIES	9

/* Ring-3 selectors (RPL 3), for building a struct dune_tf. */
#define DUNE_USER_CS (GD_UT | 3)
#define DUNE_USER_SS (GD_UD | 3)

/* ------------------------------------------------------------------ */
/* Page tables (vmapi.c)                                               */
/* ------------------------------------------------------------------ */

/*
 * The program owns its page tables, as with the original libdune.  A
 * root is the PML4 page of a 4-level tree; every table page is a pool
 * page (below) whose virtual address equals its guest-physical address,
 * so the program follows entries with PTE_ADDR(), edits them with
 * ordinary stores, and loads a root with
 * load_cr3((uintptr_t)root | CR3_NOFLUSH | pcid); the CPU walks them
 * without a VM exit.  Virtual addresses map to guest-physical addresses
 * (GPAs); dune_va_to_pa gives the GPA behind any address of the process
 * (the layout windows, layout.h), and the EPT then grants at most what
 * the process itself may do with that memory.
 *
 * pgroot is the tree dune_init builds (docs/api.md, "pgroot"): 4 KiB
 * leaves, read/write/execute, supervisor-only after dune_init(false),
 * user-accessible too after dune_init(true), for the 2 MiB blocks of the
 * windows where the process had memory at dune_init; the pool with
 * 2 MiB leaves, supervisor-only; the rest of every window (where later
 * mmaps land) with large PTE_FILL leaves that dune_vm_lookup splits
 * down to the 4 KiB slot it is asked for.  So every page of the process is mapped, and a
 * program looking one up sees a 4 KiB entry, as with the original.
 * dune_init_flags(DUNE_INIT_BIG_PGROOT) builds the older tree instead:
 * every window with 1 GiB (or 2 MiB) leaves, never split by lookups.
 *
 * Errors are negative errnos (as in the original libdune): -EINVAL for a
 * misaligned or non-canonical range or bad flags, -ENOMEM when no page
 * can be had, -EEXIST for dune_vm_map_mem over an existing mapping,
 * -ENOENT for a lookup of an address without a page table.  A failed
 * call leaves the mappings it did not reach as they were.
 *
 * TLB: every edit of the root loaded on the calling thread's vCPU is
 * flushed there (invlpg per page, or a full flush for large ranges); an
 * edited root that is not loaded is flushed when it is next switched to
 * with dune_vm_switch.  Threads on other vCPUs that share a root must
 * flush themselves (dune_flush_tlb): Dune mode has no inter-processor
 * interrupts.
 */
struct page;

extern ptent_t *pgroot;

/*
 * The original's address translation.  dune_va_to_pa: the GPA of @va
 * (any address inside a window; DUNE_BAD_ADDR outside every window).
 * The original had no such case: every address it could map was in a
 * range it translated.  mmap_base and
 * stack_base are the first addresses of the windows holding the mmap
 * area and the stack; dune_mmap_addr_to_pa / dune_stack_addr_to_pa
 * translate addresses inside those two.  phys_limit: the end of
 * guest-physical space (1 << MAXPHYADDR).  Set by dune_init.
 */
extern uintptr_t phys_limit;
extern uintptr_t mmap_base;
extern uintptr_t stack_base;
uintptr_t dune_va_to_pa(void *va);
uintptr_t dune_mmap_addr_to_pa(void *ptr);
uintptr_t dune_stack_addr_to_pa(void *ptr);

/* Permission flags for dune_vm_map_* and dune_vm_mprotect (the original's). */
#define PERM_NONE	0x0000	/* not present */
#define PERM_R		0x0001	/* present, readable */
#define PERM_W		0x0002	/* writable */
#define PERM_X		0x0004	/* executable (else NX) */
#define PERM_U		0x0008	/* ring 3 may access */
#define PERM_UC		0x0010	/* uncached (PCD | PWT) */
#define PERM_COW	0x0020	/* copy-on-write: read-only, copied on a write fault by dune_vm_default_pgflt_handler */
#define PERM_USR1	0x1000	/* PTE_USR1 */
#define PERM_USR2	0x2000	/* PTE_USR2 */
#define PERM_USR3	0x3000	/* PTE_USR1 | PTE_USR2 | PTE_USR3 (the original's value) */
#define PERM_BIG	0x0100	/* use 2 MiB pages */
#define PERM_BIG_1GB	0x0200	/* use 1 GiB pages */

/* Common combinations (as in the original libdune). */
#define PERM_SCODE	(PERM_R | PERM_X)
#define PERM_STEXT	(PERM_R | PERM_W)
#define PERM_SSTACK	PERM_STEXT
#define PERM_UCODE	(PERM_R | PERM_U | PERM_X)
#define PERM_UTEXT	(PERM_R | PERM_U | PERM_W)
#define PERM_USTACK	PERM_UTEXT

/*
 * libdune's own software bits in leaves (PTE_P, PTE_W, ... PTE_ADDR()
 * and PTE_FLAGS() come from mmu-x86.h): a 4 KiB leaf that owns a
 * reference on the pool page it maps, and a leaf made not present by
 * PERM_NONE (PTE_P clear, address kept).
 */
#define PTE_POOL	(1ull << 53)
#define PTE_NONE	(1ull << 54)
/*
 * A large leaf of pgroot that stands for 4 KiB leaves of the original's
 * pgroot (same translation and permissions): dune_vm_lookup splits it
 * down to the 4 KiB slot it is asked for.
 */
#define PTE_FILL	(1ull << 55)
#define PTE_ADDR_OF(pte) PTE_ADDR(pte)

/* The original's CR3 bit 63 (SDM 4.10.4.1: keep the PCID's TLB entries). */
#define CR3_NOFLUSH	(1UL << 63)

/* The whole address space, for dune_vm_page_walk. */
#define VA_START	((void *)0)
#define VA_END		((void *)-1)

/* dune_vm_lookup's @create (any nonzero value creates 4 KiB tables). */
enum {
	CREATE_NONE = 0,
	CREATE_NORMAL = 1,
	CREATE_BIG = 2,
	CREATE_BIG_1GB = 3,
};

/*
 * The entry that maps @va: a 4 KiB, 2 MiB or 1 GiB leaf (PTE_PS tells
 * the large ones).  A 4 KiB slot is returned whenever its page table
 * exists, even if the slot is empty (the program may fill it); with
 * @create, missing tables are made down to the 4 KiB level.  A large
 * page on the way is returned as it is, never split.  0 with *@pte_out,
 * -ENOENT (no page table there), -ENOMEM.
 */
int dune_vm_lookup(ptent_t *root, void *va, int create, ptent_t **pte_out);

/*
 * Map [va, va + len) to the GPAs [pa, pa + len) with @perm, replacing
 * whatever was mapped there (as the original did).  A pool page mapped by a 4 KiB leaf is
 * marked PTE_POOL: the leaf owns the caller's reference (dune_vm_unmap
 * and dune_vm_free put it), so take another with dune_page_get to keep
 * the page or to map it twice.
 */
int dune_vm_map_phys(ptent_t *root, void *va, size_t len, void *pa, int perm);

/*
 * The original's meaning: map fresh zeroed pool pages at [va, va + len)
 * (any canonical lower-half address, also outside the process's memory),
 * one 4 KiB page each, replacing whatever was mapped there.  The leaves
 * own their pages (PTE_POOL).  PERM_BIG* are ignored.
 */
int dune_vm_map_pages(ptent_t *root, void *va, size_t len, int perm);

/*
 * Map [va, va + len) to the process's own memory there (dune_va_to_pa);
 * -EINVAL unless the range lies in one window, -EEXIST over an existing
 * mapping.  Takes no references.
 */
int dune_vm_map_mem(ptent_t *root, void *va, size_t len, int perm);

/*
 * Map the pool page @pg at @va (4 KiB), replacing what is there; the
 * leaf takes a reference of its own.  dune_vm_lookup_page: the pool
 * page a 4 KiB leaf maps at @va, or NULL.
 */
int dune_vm_insert_page(ptent_t *root, void *va, struct page *pg, int perm);
struct page *dune_vm_lookup_page(ptent_t *root, void *va);

/*
 * Change the permissions of every mapped page in [va, va + len) to
 * @perm (PERM_NONE makes them not present but keeps the translation, so
 * a later mprotect restores it).  Large pages partly covered are split.
 */
int dune_vm_mprotect(ptent_t *root, void *va, size_t len, int perm);

/*
 * Remove the mappings in [va, va + len); pool pages whose reference a
 * leaf owns (PTE_POOL) are put.  Page tables stay, so dune_vm_lookup
 * still finds the emptied 4 KiB slots.  dune_vm_unmap is the original's
 * (no result); dune_vm_unmap_range returns 0 or -EINVAL / -ENOMEM (a
 * large page partly covered must be split).
 */
void dune_vm_unmap(ptent_t *root, void *va, size_t len);
int dune_vm_unmap_range(ptent_t *root, void *va, size_t len);

/*
 * Call @cb for every mapped leaf entry (present, or PTE_NONE after
 * PERM_NONE) overlapping [start_va, end_va] (inclusive, as in the
 * original libdune; VA_START, VA_END for everything) in address order,
 * with the first virtual address it maps.  A nonzero return from @cb
 * stops the walk and is returned.
 */
typedef int (*page_walk_cb)(const void *arg, ptent_t *ptep, void *va);
int dune_vm_page_walk(ptent_t *root, void *start_va, void *end_va,
		      page_walk_cb cb, const void *arg);

/*
 * A new root with its own copy of every table and the same leaf entries
 * (pool pages mapped there gain a reference).  NULL if out of memory.
 */
ptent_t *dune_vm_clone(ptent_t *root);

/*
 * Free a root made by dune_vm_clone and all its tables (pgroot is
 * ignored; a root loaded on some vCPU must not be freed).
 */
void dune_vm_free(ptent_t *root);

/*
 * Accessed and dirty bits.  dune_vm_get_ad: the DUNE_AD_* bits of the
 * leaf mapping @va, or -ENOENT.  dune_vm_clear_ad: clear @bits in every
 * leaf of [va, va + len) and flush, so the next access sets them again
 * (SDM 4.8).  dune_vm_scan_ad: for each 4 KiB page i of [va, va + len)
 * whose leaf has any of @bits, set bit i of @bitmap (a large leaf sets
 * the bits of all its 4 KiB pages); with @clear, clear them as well, with
 * one flush at the end.  Returns the number of pages found, or -errno.
 */
#define DUNE_AD_ACCESSED 0x1
#define DUNE_AD_DIRTY	 0x2
int dune_vm_get_ad(ptent_t *root, void *va);
int dune_vm_clear_ad(ptent_t *root, void *va, size_t len, int bits);
long dune_vm_scan_ad(ptent_t *root, void *va, size_t len, int bits,
		     bool clear, uint64_t *bitmap);

/*
 * Page-fault handlers for copy-on-write.  dune_vm_default_pgflt_handler
 * is the original's: it resolves a write fault on a PERM_COW page of the
 * loaded root (copy into a fresh pool page, or take the page over if
 * this is its last mapping) and returns; any other fault is reported and
 * ends the process.  Call it from your handler.  dune_vm_cow_pgflt_handler
 * does the same with a dune_pgflt_cb signature (its report includes the
 * trap frame): register it with dune_register_pgflt_handler.
 */
void dune_vm_default_pgflt_handler(uintptr_t addr, uint64_t fec);
void dune_vm_cow_pgflt_handler(uintptr_t addr, uint64_t fec,
			       struct dune_tf *tf);

/*
 * Roots and the TLB.  dune_vm_switch loads @root on the calling thread's
 * vCPU: with PCID (dune_has_pcid), each root gets its own PCID and the
 * switch keeps the other roots' TLB entries; without, it flushes.  No VM
 * exit; -EPERM outside Dune mode, -EINVAL if @root is not in a window.
 * load_cr3 writes CR3 as given (bits 11:0 are the PCID when PCID is on;
 * CR3_NOFLUSH asks not to flush; PCID 0 is pgroot's, 4095 is flushed on
 * every dune_vm_switch; a program managing PCIDs itself with load_cr3
 * should use its own range and not mix in dune_vm_switch).
 * dune_vm_current: the loaded root.
 */
int dune_vm_switch(ptent_t *root);
ptent_t *dune_vm_current(void);
bool dune_has_pcid(void);

static inline void load_cr3(uint64_t cr3)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static inline uint64_t dune_read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

/* Flush this vCPU's TLB entries for the loaded root / for one address. */
void dune_flush_tlb(void);
static inline void dune_flush_tlb_one(unsigned long addr)
{
	__asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

/* ------------------------------------------------------------------ */
/* Pages (page.c)                                                      */
/* ------------------------------------------------------------------ */

/*
 * A pool of 4 KiB pages for page tables and for pages the program maps
 * itself, as the original's: pages[i] describes the page at
 * PAGEBASE + i * PGSIZE, whose virtual address equals its GPA (dune_init
 * reserves the range there).  num_pages: the pool's capacity (at most
 * MAX_PAGES).  Reference counted: dune_page_alloc returns a zeroed page
 * with one reference; dune_page_put drops one and frees the page at
 * zero.  Thread-safe and usable from trap handlers.
 */
struct page {
	union {
		struct page *next;	/* free list */
		/* the original's SLIST_ENTRY(page) link */
		struct {
			struct page *sle_next;
		} link;
	};
	uint64_t ref;
	uint32_t flags;		/* libdune's (a root's PCID) */
};

#define PAGEBASE	0x200000000ul
#define MAX_PAGES	(1ul << 18)	/* 1 GiB of address space */

extern struct page *pages;
extern int num_pages;

struct page *dune_page_alloc(void);
void dune_page_free(struct page *pg);	/* regardless of references */
struct page *dune_page_get(struct page *pg);
void dune_page_put(struct page *pg);
physaddr_t dune_page2pa(struct page *pg);
struct page *dune_pa2page(physaddr_t pa);	/* NULL if not a pool page */
bool dune_page_isfrompool(physaddr_t pa);
/* The program's address of a pool page (== dune_page2pa). */
void *dune_page2va(struct page *pg);
/* Print the pool's use (allocated, free, total) on stderr. */
void dune_page_stats(void);

#pragma GCC visibility pop

#endif
