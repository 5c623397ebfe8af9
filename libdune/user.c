// SPDX-License-Identifier: MIT
/*
 * Ring 3.  dune_jump_to_user saves the ring-0 caller's context and
 * iretq's to CPL 3; from then on ring 0 runs only in trap handlers, until
 * one of them calls dune_ret_from_user.
 *
 * System calls: while ring 3 runs, LSTAR points to dune_user_syscall_stub
 * (user.S), which raises DUNE_VEC_USER_SYSCALL; whenever ring 0 runs it
 * is dune_syscall_stub again, so handlers make system calls as usual.
 * dune_trap switches it on the way in and out (one WRMSR each way).
 *
 * Nothing ring 3 controls reaches ring 0 unchecked: every frame that
 * returns to CPL 3 gets the ring-3 selectors, IOPL 0 and IF set here
 * (dune_user_sanitize), so a ring-3 rflags (from r11 or an edited frame)
 * cannot hand ring 3 the I/O ports or turn interrupts off.
 *
 * FS and GS: ring 3 runs on the thread's bases, and a segment load there
 * changes them until the next trap (or VM exit).  dune_jump_to_user
 * saves ring 0's bases in the thread and trap.S writes them back on
 * every entry from ring 3, so handlers always get the thread's TLS.
 * Whatever ring 3 had loaded is not restored when it resumes.
 *
 * Handler-side code: raw system calls, general registers only (raw.h).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>

#include "fmt.h"
#include "internal.h"
#include "raw.h"

#define STR(x) #x
#define XSTR(x) STR(x)

DUNE_NOFPU_BEGIN

#define RFL_CF	0x000001ul
#define RFL_FIXED 0x000002ul
#define RFL_PF	0x000004ul
#define RFL_AF	0x000010ul
#define RFL_ZF	0x000040ul
#define RFL_SF	0x000080ul
#define RFL_TF	0x000100ul
#define RFL_IF	0x000200ul
#define RFL_DF	0x000400ul
#define RFL_OF	0x000800ul
#define RFL_AC	0x040000ul
#define RFL_ID	0x200000ul

/* What ring 3 may hold; it could set each of these itself with popf. */
#define RFL_USER (RFL_CF | RFL_PF | RFL_AF | RFL_ZF | RFL_SF | RFL_TF | \
		  RFL_DF | RFL_OF | RFL_AC | RFL_ID)

static dune_intr_cb syscall_handler;

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

/*
 * What trap.S gives handlers: the bases ring 0 has now (a handler may
 * have changed them with a forwarded arch_prctl).  No VM exit.
 */
void dune_user_save_bases(struct dune_thread *t)
{
	t->user.fs_base = rdmsr(MSR_FS_BASE_NR);
	t->user.gs_base = rdmsr(MSR_GS_BASE_NR);
}

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

void dune_user_sanitize(struct dune_tf *tf)
{
	tf->cs = DUNE_USER_CS;
	tf->ss = DUNE_USER_SS;
	tf->rflags = (tf->rflags & RFL_USER) | RFL_IF | RFL_FIXED;
}

void dune_register_syscall_handler(dune_syscall_cb cb)
{
	__atomic_store_n(&syscall_handler, cb, __ATOMIC_RELEASE);
}

/*
 * dune_trap, for DUNE_VEC_USER_SYSCALL raised by the stub: the frame is
 * the stub's (CPL 0, rip in the stub); make it the ring-3 caller's.
 */
void dune_user_syscall(struct dune_tf *tf)
{
	dune_intr_cb cb = __atomic_load_n(&syscall_handler, __ATOMIC_ACQUIRE);
	struct dune_thread *t = dune_active() ? dune_cur_thread() : NULL;

	/* For dune_user_sig_deliver: a restart re-issues this call. */
	if (t) {
		t->sig.user_nr = tf->rax;
		t->sig.user_restart = false;
		t->sig.user_full = false;
	}
	tf->rip = tf->rcx;
	tf->rflags = tf->r11;
	tf->cs = DUNE_USER_CS;
	tf->ss = DUNE_USER_SS;
	tf->err = 0;
	/*
	 * `syscall` overwrote rcx; the original libdune put the fourth
	 * argument (r10) there, so that ARG0..ARG5 follow the C calling
	 * convention, and its programs read it as ARG3.
	 */
	tf->rcx = tf->r10;
	if (cb)
		cb(tf);
	else
		tf->rax = -ENOSYS;
	/* A signal frame or rt_sigreturn set every register (IRET). */
	if (t && t->sig.user_full) {
		t->sig.user_full = false;
		return;
	}
	/* Back to ring 3 as from Linux's SYSRET: rcx = rip, r11 = rflags. */
	tf->r10 = tf->rcx;
	tf->rcx = tf->rip;
	tf->r11 = tf->rflags;
}

void dune_passthrough_syscall(struct dune_tf *tf)
{
	long nr = tf->rax;

	/*
	 * A new thread would start on the handler's registers and stack;
	 * it cannot be made from here.
	 */
	if ((nr == SYS_clone && (tf->rdi & CLONE_VM)) || nr == SYS_vfork ||
	    nr == 435 /* clone3 */) {
		tf->rax = -ENOSYS;
		return;
	}
	tf->rax = dune_sys6(nr, ARG0(tf), ARG1(tf), ARG2(tf), ARG3(tf),
			    ARG4(tf), ARG5(tf));
}

int dune_jump_to_user(struct dune_tf *tf)
{
	struct dune_thread *t;
	struct dune_tf u;
	uint64_t flags;

	if (!dune_active())
		return -EPERM;
	/* iretq would raise #GP at ring 0 */
	if (!canonical(tf->rip) || !canonical(tf->rsp))
		return -EINVAL;
	t = dune_cur_thread();
	if (t->user.active || t->trap_depth)
		return -EBUSY;
	dune_copy(&u, tf, sizeof(u));
	dune_user_sanitize(&u);
	flags = __builtin_ia32_readeflags_u64();
	__asm__ volatile("mov %%fs, %0" : "=r"(t->user.fs_sel));
	__asm__ volatile("mov %%gs, %0" : "=r"(t->user.gs_sel));
	/* No interrupt between the LSTAR switch and ring 3. */
	__asm__ volatile("cli" ::: "memory");
	dune_user_save_bases(t);
	t->user.active = 1;
	dune_set_lstar(t, true);
	return dune_user_enter(&t->user, &u, flags);
}

static __attribute__((noreturn)) void misuse(const char *what)
{
	struct dune_out o;

	dune_out_init(&o, 2);
	dune_out_str(&o, "dune: ");
	dune_out_str(&o, what);
	dune_out_str(&o, "; ending the process with SIGABRT\n");
	dune_out_flush(&o);
	dune_die_signal(SIGABRT);
}

/*
 * Ring 3's FS base (the original libdune's per-CPU ufs_base): kept in the
 * thread, loaded on every return to ring 3 until changed; ring-0 code
 * never runs on it (trap.S puts the thread's own back on entry).  Until
 * the first dune_set_user_fs, ring 3 starts on the thread's base.
 */
unsigned long dune_get_user_fs(void)
{
	struct dune_thread *t;

	if (!dune_active())
		return 0;
	t = dune_cur_thread();
	if (t->user.ufs_set)
		return t->user.ufs_base;
	return t->user.active ? t->user.fs_base : rdmsr(MSR_FS_BASE_NR);
}

void dune_set_user_fs(unsigned long fs_base)
{
	struct dune_thread *t;

	if (!dune_active())
		return;
	t = dune_cur_thread();
	t->user.ufs_base = fs_base;
	t->user.ufs_set = 1;
}

/*
 * Ring 3's GS base, likewise, but also read back on every entry from
 * ring 3 (trap.S), so a base ring 3 set itself with WRGSBASE survives
 * its system calls and traps, as natively.  Until the first
 * dune_set_user_gs, ring 3 starts on the thread's base and keeps no base
 * of its own across traps.  Ring-0 code never uses GS (TLS is FS).
 */
unsigned long dune_get_user_gs(void)
{
	struct dune_thread *t;

	if (!dune_active())
		return 0;
	t = dune_cur_thread();
	if (t->user.ugs_set)
		return t->user.ugs_base;
	return t->user.active ? t->user.gs_base : rdmsr(MSR_GS_BASE_NR);
}

void dune_set_user_gs(unsigned long gs_base)
{
	struct dune_thread *t;

	if (!dune_active())
		return;
	t = dune_cur_thread();
	t->user.ugs_base = gs_base;
	t->user.ugs_set = 1;
}

__attribute__((noreturn)) void dune_ret_from_user(int ret)
{
	struct dune_thread *t;
	uint64_t fs, gs;

	if (!dune_active())
		misuse("dune_ret_from_user called outside Dune mode");
	t = dune_cur_thread();
	if (!t->user.active)
		misuse("dune_ret_from_user called with no ring-3 run in progress (only a handler of a run started by dune_jump_to_user may end it)");
	__asm__ volatile("cli" ::: "memory");
	t->user.active = 0;
	t->trap_depth = 0;	/* the handler's frame is abandoned */
	dune_set_lstar(t, false);
	/*
	 * The bases are ring 0's already (trap.S), the selectors may be
	 * ring 3's: give the caller its own back.  A selector load may
	 * change the base, so the bases are written again after it, in
	 * the same asm: no TLS access in between.
	 */
	fs = rdmsr(MSR_FS_BASE_NR);
	gs = rdmsr(MSR_GS_BASE_NR);
	__asm__ volatile("mov %0, %%fs\n\t"
			 "mov %1, %%gs\n\t"
			 "mov %2, %%eax\n\t"
			 "mov %3, %%edx\n\t"
			 "mov $" XSTR(MSR_FS_BASE_NR) ", %%ecx\n\t"
			 "wrmsr\n\t"
			 "mov %4, %%eax\n\t"
			 "mov %5, %%edx\n\t"
			 "mov $" XSTR(MSR_GS_BASE_NR) ", %%ecx\n\t"
			 "wrmsr"
			 :
			 : "r"((uint32_t)t->user.fs_sel),
			   "r"((uint32_t)t->user.gs_sel),
			   "r"((uint32_t)fs), "r"((uint32_t)(fs >> 32)),
			   "r"((uint32_t)gs), "r"((uint32_t)(gs >> 32))
			 : "rax", "rcx", "rdx", "memory");
	dune_user_resume(&t->user, ret);
}

__attribute__((noreturn)) void dune_pop_trap_frame(struct dune_tf *tf)
{
	struct dune_thread *t = dune_cur_thread();
	struct dune_tf f;

	dune_copy(&f, tf, sizeof(f));
	__asm__ volatile("cli" ::: "memory");
	if (t->user.active)
		dune_user_save_bases(t);
	if (f.cs & 3) {
		dune_user_sanitize(&f);
		dune_set_lstar(t, true);
		/* Last: no TLS access from here to ring 3 (no epilogue). */
		if (t->user.ugs_set)
			__asm__ volatile("wrmsr"
					 :
					 : "c"(MSR_GS_BASE_NR),
					   "a"((uint32_t)t->user.ugs_base),
					   "d"((uint32_t)(t->user.ugs_base >> 32))
					 : "memory");
		if (t->user.ufs_set)
			__asm__ volatile("wrmsr"
					 :
					 : "c"(MSR_FS_BASE_NR),
					   "a"((uint32_t)t->user.ufs_base),
					   "d"((uint32_t)(t->user.ufs_base >> 32))
					 : "memory");
		t->trap_depth = 0;
		dune_tf_pop(&f);
	} else {
		f.cs = DUNE_SEL_KCODE;
		f.ss = DUNE_SEL_KDATA;
		f.rflags |= RFL_FIXED;
		/* Back into the ring-3 stub's window: ring 3 is still on. */
		dune_set_lstar(t, f.rip == (uint64_t)dune_user_syscall_stub);
		/* with ring 3's GS base, which the stub's trap saves again */
		if (f.rip == (uint64_t)dune_user_syscall_stub &&
		    t->user.ugs_set)
			__asm__ volatile("wrmsr"
					 :
					 : "c"(MSR_GS_BASE_NR),
					   "a"((uint32_t)t->user.ugs_base),
					   "d"((uint32_t)(t->user.ugs_base >> 32))
					 : "memory");
	}
	t->trap_depth = 0;
	dune_tf_pop(&f);
}

DUNE_NOFPU_END
