/* SPDX-License-Identifier: MIT */
/* libdune internals shared by its files; not for programs. */
#ifndef LIBDUNE_INTERNAL_H
#define LIBDUNE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/rseq.h>

#include "asmdefs.h"
#include "desc.h"
#include "dune.h"
#include "layout.h"
#include "sigframe.h"

#define DUNE_PAGE		4096ul
/* The host loop and the program's signal handlers run on this stack. */
#define DUNE_HOST_STACK		(256ul << 10)
/* Guest exception stacks: traps (and registered handlers), #DF, NMI, #MC. */
#define DUNE_IST_TRAP_STACK	(64ul << 10)
#define DUNE_IST_SMALL_STACK	(16ul << 10)
#define DUNE_NR_IST		4
#define DUNE_IST_TRAP		1
#define DUNE_IST_DF		2
#define DUNE_IST_NMI		3
#define DUNE_IST_MC		4

/* MSR_SYSCALL_MASK: TF, DF, AC, NT (see dune_vcpu_config_fill) */
#define DUNE_SFMASK		0x44500ul

/* dune_thread.flags */
#define DUNE_THREAD_VFORK	(1u << 0)	/* the parent frees the block */
#define DUNE_THREAD_SETTLS	(1u << 1)	/* has its own TLS */
#define DUNE_THREAD_OWN_FILES	(1u << 2)	/* fd table not shared */
#define DUNE_THREAD_OWN_SIGHAND	(1u << 3)	/* vfork child w/o CLONE_SIGHAND */
#define DUNE_THREAD_REAPED	(1u << 4)	/* its creator frees the block */
#define DUNE_THREAD_CREATING	(1u << 5)	/* making its vCPU fd */

/*
 * What dune_jump_to_user saves so that dune_ret_from_user can return
 * from it: the C ABI's callee-saved state, like setjmp.  Also ring 0's
 * FS/GS bases, which trap.S puts back on every trap from ring 3 (ring 3
 * can change them with a segment load).
 */
struct dune_user_ctx {
	uint64_t rbx, rbp, r12, r13, r14, r15;
	uint64_t rsp, rip, rflags;
	uint32_t mxcsr;
	uint16_t fcw;
	uint16_t active;	/* a ring-3 run is in progress */
	uint64_t fs_base, gs_base;
	uint16_t fs_sel, gs_sel;	/* the caller's, for dune_ret_from_user */
	/*
	 * dune_set_user_fs: the FS base ring 3 runs on (written on every
	 * return to ring 3 while ufs_set); ring 0 keeps fs_base.
	 */
	uint16_t ufs_set;
	uint64_t ufs_base;
	/*
	 * dune_set_user_gs: ring 3's own GS base, written on every return
	 * to ring 3 and read back on every entry from it (ring 3 may have
	 * changed it with WRGSBASE), while ugs_set; ring 0 keeps gs_base.
	 */
	uint16_t ugs_set;
	uint64_t ugs_base;
};

/* The kernel's struct sigaction and siginfo, for raw system calls. */
struct dune_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

struct dune_ksiginfo {
	int signo, err, code, pad;
	uint64_t addr;		/* si_addr for SIGSEGV and SIGBUS */
	uint64_t rest[13];
};

_Static_assert(sizeof(struct dune_ksiginfo) == 128, "siginfo is 128 bytes");

/* A signal the trampoline took for the guest (sigaction.c). */
struct dune_sigq_entry {
	struct dune_ksiginfo info;
	struct dune_ksigaction act;	/* the action when it came */
	uint64_t saved_mask;		/* for the frame's uc_sigmask */
};

#define DUNE_SIGQ_LEN 32	/* a power of 2 */

/*
 * Per-thread signal state.  The trampoline (a native handler, all
 * signals blocked) appends at tail; the host loop takes from head.
 */
struct dune_sigstate {
	struct dune_sigq_entry q[DUNE_SIGQ_LEN];
	unsigned int head, tail;
	bool restart;		/* the forwarded call is to be re-issued */
	bool tmpmask_valid;	/* forwarded call with a temporary mask */
	bool mask_deferred;	/* queue full: set deferred_mask afterwards */
	bool exec_fault;	/* handle_fault: an instruction fetch */
	bool touch_faulted;	/* handle_fault: the touch raised a signal */
	uint64_t tmpmask, deferred_mask;
	struct dune_sas sas;	/* the program's sigaltstack */
	/*
	 * Ring-3 runs (dune_user_sig_deliver): the ring-3 system call being
	 * handled, whether a call the handler forwarded was restarted by
	 * the kernel, and whether the handler set every ring-3 register
	 * (no sysret view to make on the way out).
	 */
	uint64_t user_nr;
	bool user_restart;
	bool user_full;
};

/*
 * Everything one vCPU needs, in one mmap'ed block per thread:
 *
 *   guard | host stack | guard | IST1 | guard | IST2 | guard | IST3 |
 *   guard | IST4 | struct dune_thread, FPU save area
 *
 * The top 16 bytes of each IST stack hold a pointer to the dune_thread,
 * so trap handlers find it without trusting the program's FS base.
 */
struct dune_thread {
	struct dune_user_ctx user;	/* first: trap.S finds it at offset 0 */
	struct dune_run run;	/* DUNE_RUN's argument; regs = guest state */
	uint64_t gdt[DUNE_GDT_ENTRIES] __attribute__((aligned(16)));
	struct dune_tss tss __attribute__((aligned(16)));
	int vcpu_fd;
	unsigned int flags;	/* DUNE_THREAD_* */
	char *block;
	size_t block_size;
	char *host_stack_top;
	uint64_t ist_top[DUNE_NR_IST];
	unsigned int trap_depth;	/* > 0 inside a guest trap handler */
	uint64_t fault_addr;		/* last DUNE_EXIT_FAULT address ... */
	unsigned int fault_repeats;	/* ... and how often in a row */
	uint8_t *fpu_area;		/* 64-byte aligned, dune_proc.fpu_size */
	bool lstar_user;		/* LSTAR is dune_user_syscall_stub */
	uint64_t sig_pending;		/* bit n-1: inject signal n */
	/*
	 * What Linux keeps in thread.trap_nr, error_code and cr2: set by the
	 * last fault that raised a signal, shown in every signal frame.
	 */
	uint64_t sig_trapno, sig_err, sig_cr2;
	struct dune_sigstate sig;
	/*
	 * An exception without a handler: the signal for it, set by the
	 * trap handler for the host loop (trap.c, exchost.c); armed from
	 * then until the host loop takes it.
	 */
	struct dune_excsig {
		struct dune_ksiginfo info;
		uint64_t trapno, err, cr2;
		bool has_cr2;	/* else the thread's last cr2 stays */
	} exc;
	bool exc_armed;
	/* rseq.c: the area the kernel has, and the program's registration */
	struct rseq host_rseq;
	uint64_t rseq_area;		/* 0: none */
	uint32_t rseq_len, rseq_sig;
	uint32_t rseq_cpu;		/* host_rseq.cpu_id last copied */
	/* vmapi.c: per PCID, the root generation this vCPU's TLB reflects */
	uint32_t pcid_gen[4096];
	/*
	 * vmapi.c: the root of the last dune_vm_switch (its GPA; 0 for
	 * pgroot), what a fork child's vCPU starts on: it resumes where we
	 * are (clone.c).
	 */
	uint64_t cr3;
};

/* The host's vsyscall= setting (vsyscall.c) */
enum { DUNE_VSYSCALL_NONE, DUNE_VSYSCALL_XONLY, DUNE_VSYSCALL_EMULATE };

/* Process-wide state, set up by dune_init. */
struct dune_proc {
	int dev_fd;		/* /dev/dune, bound to this process's mm */
	int pid;		/* the process dev_fd was opened by */
	bool ready;
	bool pdpe1gb;		/* 1 GiB guest pages */
	uint32_t caps_flags;	/* DUNE_CAP_* of the module */
	struct dune_layout layout;
	uint64_t cr3;		/* GPA of pgroot, what new vCPUs load */
	uint64_t xsave_mask;	/* components saved around handlers; 0: fxsave */
	uint32_t fpu_size;
	/* Signal frames: Linux's user xfeatures and XSAVE size; 0: fxsave */
	uint64_t sig_xmask;
	uint32_t sig_xsize;
	bool debug;		/* DUNE_DEBUG: report exceptions on stderr */
	unsigned int vsyscall;	/* DUNE_VSYSCALL_* */
};

extern struct dune_proc dune_proc;
extern struct dune_idt_gate dune_idt[DUNE_IDT_ENTRIES];
/* The calling thread's vCPU; NULL when it is not in Dune mode. */
extern __thread struct dune_thread *dune_self;

/* trap.S and user.S find the ring-3 context at the thread block's start. */
_Static_assert(offsetof(struct dune_thread, user) == 0, "thread.user first");

/* entry.S */
void dune_syscall_stub(void);
extern char dune_syscall_stub_ret[];	/* past its VMCALL */
/* Hand the armed t->exc to the host loop (DUNE_HC_EXCEPTION); no return. */
__attribute__((noreturn)) void dune_exc_hypercall(void);
extern char dune_exc_hypercall_ret[];	/* past its VMCALL */
__attribute__((noreturn)) void dune_switch_stack(void *top,
						 void (*fn)(void *),
						 void *arg);
long dune_raw_clone(unsigned long flags, void *stack, int *ptid, int *ctid,
		    unsigned long tls, void (*fn)(void *), void *arg);
struct clone_args;
long dune_raw_clone3(struct clone_args *args, size_t size,
		     void (*fn)(void *), void *arg);
__attribute__((noreturn)) void dune_unmap_and_exit(void *addr, size_t len,
						   int code);
long dune_rseq_run_ioctl(long fd, unsigned long cmd, void *arg,
			 unsigned int *event);
/* trap.S: 256 stubs of TRAP_STUB_SIZE bytes */
extern char dune_trap_stubs[];

/* entry.c */
int dune_enter_c(struct dune_regs *regs);

/* thread.c: raw system calls only, usable from the host loop */
struct dune_thread *dune_thread_alloc(void);
void dune_thread_free(struct dune_thread *t);
/* DUNE_CREATE_VCPU from t->run.regs: the fd, or -errno. */
long dune_vcpu_create(struct dune_thread *t);
void dune_vcpu_config_fill(const struct dune_thread *t,
			   struct dune_vcpu_config *c);
/* DUNE_SET_SLOT for every window: 0, or -errno (*bad: the window). */
long dune_slots_set(int fd, unsigned int *bad);
/* Close every Dune fd inherited from the parent's mm. */
void dune_close_inherited_fds(int keep);
/* Say @what failed with -@err on stderr and die by SIGSEGV. */
__attribute__((noreturn)) void dune_die_errno(const char *what, long err);
/* SIG_DFL, unblock, tgkill ourselves with @sig; exit_group if we live. */
__attribute__((noreturn)) void dune_die_signal(int sig);
const char *dune_errno_name(long err);

/* hostloop.c */
__attribute__((noreturn)) void dune_host_loop(void *thread);
/* clone.c: the guest's clone, clone3, fork and exit */
long dune_sys_clone(struct dune_thread *t, unsigned long flags,
		    uint64_t stack, long ptid, long ctid, long tls);
long dune_sys_clone3(struct dune_thread *t, uint64_t uargs, uint64_t size);
__attribute__((noreturn)) void dune_thread_exit(struct dune_thread *t,
						int code);
/* Free the blocks of our CLONE_VM children that have ended. */
void dune_reap_vm_children(void);
/* Around DUNE_CREATE_VCPU .. dune_fdguard_add in a shared fd table. */
void dune_vcpu_fd_begin(struct dune_thread *t);
void dune_vcpu_fd_end(struct dune_thread *t);
/* vsyscall.c: dune_init reads the setting; dune_trap calls the fault */
void dune_vsyscall_init(void);
/* A guest #PF in the vsyscall page (true: handled, resume from @tf). */
bool dune_vsyscall_fault(struct dune_thread *t, struct dune_tf *tf,
			 uint64_t cr2);
/* rseq.c */
void dune_rseq_init(void);
/* A thread entering Dune mode: glibc's registration becomes the program's. */
void dune_rseq_enter(struct dune_thread *t);
long dune_sys_rseq(struct dune_thread *t, uint64_t area, uint32_t len,
		   int flags, uint32_t sig);
/* Before the thread's block is freed under it. */
void dune_rseq_exit(struct dune_thread *t);
/* DUNE_RUN, then Linux's rseq fixup for the guest after an event. */
long dune_rseq_run(struct dune_thread *t);
/* hostsys.c */
void dune_host_syscall(struct dune_thread *t);

/* trap.c */
void dune_idt_init(void);
void dune_trap(struct dune_tf *tf);
/* Point LSTAR at the ring-3 stub (@user) or dune_syscall_stub. */
void dune_set_lstar(struct dune_thread *t, bool user);
__attribute__((noreturn)) void dune_report_and_die(struct dune_tf *tf,
						   const char *why);
void dune_tf_to_regs(const struct dune_tf *tf, struct dune_regs *r);

/* user.S */
void dune_user_syscall_stub(void);
extern char dune_user_syscall_stub_ret[];	/* past its int */
int dune_user_enter(struct dune_user_ctx *ctx, const struct dune_tf *tf,
		    uint64_t rflags);
__attribute__((noreturn)) void dune_user_resume(const struct dune_user_ctx *ctx,
						int ret);
__attribute__((noreturn)) void dune_tf_pop(const struct dune_tf *tf);

/* user.c */
/*
 * The calling thread's vCPU state, from ring 0: the GDT is the thread's
 * own, and GDTR is out of ring 3's reach, unlike the FS base that TLS
 * needs (a segment load at ring 3 changes it).  SGDT does not exit.
 */
static inline struct dune_thread *dune_cur_thread(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) d;

	__asm__ volatile("sgdt %0" : "=m"(d));
	return (struct dune_thread *)(d.base -
				      offsetof(struct dune_thread, gdt));
}

/* Save ring 0's FS/GS bases for trap.S to restore (t->user). */
void dune_user_save_bases(struct dune_thread *t);
/* Make @tf safe to return to ring 3 with: selectors, IOPL, IF. */
void dune_user_sanitize(struct dune_tf *tf);
void dune_user_syscall(struct dune_tf *tf);

/* int80.c: int $0x80 from 64-bit code */
bool dune_int80_trap(const struct dune_tf *tf);
void dune_int80(struct dune_tf *tf);
bool dune_host_int80(struct dune_thread *t);

/* signal.c */
dune_intr_cb dune_signal_cb(unsigned int vec);
/* The registrations without the aliasing of DUNE_SIGNAL_INTR_BASE. */
void dune_set_intr_handler(int vec, dune_intr_cb cb);
int dune_set_signal_handler(int signum, dune_intr_cb cb);
/* The host loop: the next signal to inject, or 0. */
unsigned int dune_signal_next(struct dune_thread *t);
/* Is @h the handler dune_register_signal_handler installs? */
bool dune_signal_is_registered(const void *h);
/* dune_register_user_signal_handler's callback, or NULL. */
dune_intr_cb dune_user_signal_cb(void);

/* sigasm.S: instructions the trampoline recognises */
long dune_fwd_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
		      long a6);
extern char dune_fwd_insn[], dune_fwd_done[];
void dune_sig_restorer(void);
void dune_touch_read(uint64_t addr);
void dune_touch_write(uint64_t addr);
extern char dune_touch_read_insn[], dune_touch_write_insn[], dune_touch_done[];
long dune_ucopy(void *dst, const void *src, size_t n);
extern char dune_ucopy_insn[], dune_ucopy_fixup[];

/* sigaction.c: the program's actions, the trampoline */
/* dune_init: take over handlers installed natively; frame sizes */
void dune_sig_init(void);
void dune_sig_thread_enter(struct dune_thread *t);
long dune_sys_rt_sigaction(struct dune_thread *t, long sig, uint64_t uact,
			   uint64_t uoact, long size);
/* Set the program's action for @sig to SIG_DFL (force_sigsegv & co). */
void dune_sig_set_default(int sig);
/* Does the program's table have a handler (not SIG_DFL/SIG_IGN) for @sig? */
bool dune_sig_has_handler(int sig);
/* Read/write our own memory at a guest-given address: 0 or -EFAULT. */
long dune_vm_read(void *dst, uint64_t src, size_t n);
long dune_vm_write(uint64_t dst, const void *src, size_t n);

/* sigdeliver.c: frames on the guest stack */
void dune_sig_fpu_init(void);
void dune_sig_deliver(struct dune_thread *t);
void dune_sys_rt_sigreturn(struct dune_thread *t);
long dune_sys_sigaltstack(struct dune_thread *t, uint64_t uss, uint64_t uoss);
/* Before a forwarded call: note a temporary signal mask it installs. */
void dune_sig_note_tmpmask(struct dune_thread *t);

/* Exception vectors (SDM vol. 3 table 6-1; Linux's X86_TRAP_*). */
enum {
	DUNE_TRAP_DE = 0, DUNE_TRAP_DB = 1, DUNE_TRAP_NMI = 2,
	DUNE_TRAP_BP = 3, DUNE_TRAP_OF = 4, DUNE_TRAP_BR = 5,
	DUNE_TRAP_UD = 6, DUNE_TRAP_NM = 7, DUNE_TRAP_DF = 8,
	DUNE_TRAP_TS = 10, DUNE_TRAP_NP = 11, DUNE_TRAP_SS = 12,
	DUNE_TRAP_GP = 13, DUNE_TRAP_PF = 14, DUNE_TRAP_MF = 16,
	DUNE_TRAP_AC = 17, DUNE_TRAP_MC = 18, DUNE_TRAP_XF = 19,
};

/* excsig.c: an exception as the trap handler saw it ... */
struct dune_exc {
	unsigned int vector;
	uint64_t err;		/* error code, 0 if the vector has none */
	uint64_t rip;		/* as pushed: a trap's is past the instruction */
	uint64_t cr2;		/* #PF */
	uint64_t dr6;		/* #DB: DR6 as read (reserved bits 1) */
	uint16_t fsw, fcw;	/* #MF: x87 status and control words */
	uint32_t mxcsr;		/* #XM */
};
/* ... and the signal Linux sends a process for it in user mode. */
#define DUNE_EXC_REPORT	(-1)	/* none: Dune's own trouble, report and die */
#define DUNE_EXC_RETRY	0	/* spurious: Linux resumes, sending nothing */
#define DUNE_EXC_SIGNAL	1	/* *s filled in */
int dune_exc_signal(const struct dune_exc *e, struct dune_excsig *s);

/* exchost.c: a VMCALL exit; false if it is a system call (the stub's). */
bool dune_exc_vmcall(struct dune_thread *t);

/* sigforce.c */
void dune_force_signal(struct dune_thread *t, const struct dune_ksiginfo *info,
		       uint64_t trapno, uint64_t err, uint64_t cr2);

/* runstats.c: dune-run --stats (set by preload.c) */
extern bool dune_run_stats;
/* Our copy of stderr for the report (guarded), or -1. */
extern int dune_run_stats_fd;
/* Turn the report on: copy stderr now (programs close theirs at exit). */
void dune_stats_enable(void);
void dune_stats_thread_exit(struct dune_thread *t);
/* A fork child: counters from zero, a copy of its own stderr. */
void dune_stats_fork_child(void);
/* Print the process's VM exits by reason on stderr. */
void dune_stats_exit_group(struct dune_thread *t);

/* page.c: the pool is reserved before the layout, placed after it */
#define DUNE_POOL_SIZE		(1ull << 30)	/* address space, not memory */
#define DUNE_POOL_MIN		(16ull << 20)
int dune_page_init(void);
int dune_page_init_pa(void);
struct dune_page_stats {
	size_t used;		/* pages handed out */
	size_t total;		/* capacity */
};
void dune_page_get_stats(struct dune_page_stats *s);

/*
 * vmapi.c: build pgroot from pool pages (dune.h): 4 KiB leaves over the
 * areas of @h, PTE_FILL large leaves elsewhere; with DUNE_INIT_BIG_PGROOT
 * in @flags, large leaves only; with DUNE_INIT_USER_PGROOT, every leaf
 * but the pool's user-accessible.  @mmap_hint: an address in the mmap
 * area (for mmap_base).
 */
#define DUNE_PGROOT_4K_BLOCKS	16384	/* 32 GiB, 64 MiB of tables */
int dune_vm_init(const struct dune_layout_hints *h, uint64_t mmap_hint,
		 unsigned int flags);

/* fdguard.c: fds the program must not close (ours, in the shared table) */
#define DUNE_FDGUARD_MAX 65536
void dune_fdguard_add(int fd);
void dune_fdguard_del(int fd);
bool dune_fdguard_has(int fd);
void dune_fdguard_clear(void);
/* The lowest guarded fd in [lo, hi], or -1. */
long dune_fdguard_next(unsigned long lo, unsigned long hi);
/*
 * Make @fd one of ours: moved above the fds a program numbers itself
 * (close-on-exec) and guarded.  Returns the fd to use from now on.
 */
long dune_fd_own(long fd);
/* The move alone (an fd of a thread with its own fd table). */
long dune_fd_move_high(long fd);
/* The lowest fd dune_fd_own moves ours to. */
long dune_fd_own_floor(void);

/*
 * fdhide.c: is @fd one of ours in @t's fd table (to the program: not
 * open)?  -EBADF if the call in @r names one of them, else 0.
 */
bool dune_fd_protected(const struct dune_thread *t, long fd);
long dune_fd_hidden(struct dune_thread *t, const struct dune_regs *r);
/* entry.S: libdune's own calls on its fds, which fdhide.c lets through */
long dune_own_syscall3(long nr, long a1, long a2, long a3);
extern char dune_own_syscall_ret[];

#endif
