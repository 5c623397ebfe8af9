// SPDX-License-Identifier: MIT
/*
 * The legacy vsyscall page (0xffffffffff600000), as the host kernel's
 * vsyscall= setting makes it for a native process.
 *
 * With vsyscall=xonly (Debian's CONFIG_LEGACY_VSYSCALL_XONLY) the page is
 * not mapped at all: an instruction fetch there faults and the kernel's
 * emulate_vsyscall (arch/x86/entry/vsyscall/vsyscall_64.c) performs
 * gettimeofday, time or getcpu for a call to one of the three entry
 * points and emulates the `ret`; every other access is a SIGSEGV.  With
 * vsyscall=none (Debian's default) every access is a SIGSEGV.
 *
 * The guest's page tables do not map the page either, so the guest takes
 * a #PF there and dune_trap hands it to us.  Mapping the host's page into
 * the guest instead would not be faithful: with xonly there is no page to
 * map (the kernel emulates on the fault), and at CPL 0 the guest could
 * read any page it can execute, where the program natively gets SIGSEGV.
 * vsyscall=emulate (a readable page with real code) is obsolete; a read
 * of the page gives SIGSEGV in Dune mode there.
 *
 * Runs in the guest trap handler: general registers only (raw.h), system
 * calls are forwarded to the host loop as usual.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "internal.h"
#include "raw.h"

#define VSYSCALL_ADDR	0xffffffffff600000ul
/* The entry points are 1024 bytes apart: gettimeofday, time, getcpu. */
#define VSYSCALL_STRIDE	1024
/* The lowest TASK_SIZE_MAX (4-level paging): what access_ok allows. */
#define USER_VA_END	((1ul << 47) - DUNE_PAGE)
#define TRAPNO_PF	14

/* Natively, with libc: which vsyscall= the host booted with. */
void dune_vsyscall_init(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	dune_proc.vsyscall = DUNE_VSYSCALL_NONE;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[vsyscall]"))
			continue;
		/* "ffffffffff600000-ffffffffff601000 --xp ..." */
		dune_proc.vsyscall = strstr(line, " r-xp ") ?
					     DUNE_VSYSCALL_EMULATE :
					     DUNE_VSYSCALL_XONLY;
	}
	fclose(f);
}

DUNE_NOFPU_BEGIN

/*
 * Hand the fault to the host loop like any exception without a handler
 * (trap.c's exc_to_signal): it takes the registers of the faulting
 * instruction from this trap's frame, leaves the trap and sends the
 * signal, so the program's handler gets a frame pointing at the access.
 * Sending it from here instead would queue it behind a trap handler that
 * returns to the same fault again.
 */
static __attribute__((noreturn)) void sigsegv(struct dune_thread *t, int code,
					      uint64_t addr, uint64_t trapno,
					      uint64_t err, uint64_t cr2)
{
	dune_bzero(&t->exc, sizeof(t->exc));
	t->exc.info.signo = SIGSEGV;
	t->exc.info.code = code;
	t->exc.info.addr = addr;
	t->exc.trapno = trapno;
	t->exc.err = err;
	t->exc.cr2 = cr2;
	t->exc.has_cr2 = true;
	t->trap_depth = 0;	/* this trap ends here */
	t->exc_armed = true;
	dune_exc_hypercall();
}

/*
 * Linux's force_sig(SIGSEGV): SI_KERNEL, no address, and the thread's
 * trap number, error code and cr2 left as the last fault set them.
 */
static __attribute__((noreturn)) void sigsegv_kernel(struct dune_thread *t)
{
	sigsegv(t, SI_KERNEL, 0, t->sig_trapno, t->sig_err, t->sig_cr2);
}

/* Linux's write_ok_or_segv: only the range check of access_ok. */
static bool write_ok_or_segv(struct dune_thread *t, uint64_t p, size_t n)
{
	if (p + n >= p && p + n <= USER_VA_END)
		return true;
	sigsegv(t, SEGV_MAPERR, p, TRAPNO_PF, FEC_U | FEC_W, p);
	return false;
}

/* 8 bytes of guest stack, or false where a load would fault. */
static bool read_guest_u64(uint64_t addr, uint64_t *v)
{
	struct iovec local = { v, 8 }, remote = { (void *)addr, 8 };

	/* our tid: the group leader may have exited (dune_vm_read) */
	return dune_sys6(SYS_process_vm_readv, dune_sys0(SYS_gettid),
			 (long)&local, 1, (long)&remote, 1, 0) == 8;
}

static void emulate(struct dune_thread *t, struct dune_tf *tf, uint64_t cr2)
{
	/* What the CPU reports for user mode; Linux adds PROT above TASK_SIZE. */
	uint64_t err = (tf->err & (FEC_W | FEC_I)) | FEC_U | FEC_P;
	uint64_t off = cr2 - VSYSCALL_ADDR, caller;
	long nr, ret;

	/* Every access but a call with xonly: no page there (SEGV_MAPERR). */
	if (dune_proc.vsyscall == DUNE_VSYSCALL_NONE ||
	    !(tf->err & FEC_I) || (tf->err & FEC_W)) {
		sigsegv(t, SEGV_MAPERR, cr2, TRAPNO_PF, err, cr2);
		return;
	}
	if (off % VSYSCALL_STRIDE || !read_guest_u64(tf->rsp, &caller)) {
		sigsegv_kernel(t);
		return;
	}
	switch (off / VSYSCALL_STRIDE) {
	case 0:
		if (!write_ok_or_segv(t, tf->rdi, 16) ||
		    !write_ok_or_segv(t, tf->rsi, 8))
			return;
		nr = SYS_gettimeofday;
		break;
	case 1:
		if (!write_ok_or_segv(t, tf->rdi, 8))
			return;
		nr = SYS_time;
		break;
	default:
		if (!write_ok_or_segv(t, tf->rdi, 4) ||
		    !write_ok_or_segv(t, tf->rsi, 4))
			return;
		nr = SYS_getcpu;
		break;
	}
	ret = dune_sys3(nr, tf->rdi, tf->rsi, 0);
	/* A bad pointer: SIGSEGV, and no return emulated. */
	if (ret == -EFAULT) {
		sigsegv_kernel(t);
		return;
	}
	/* Emulate the `ret` of the vsyscall's code. */
	tf->rax = ret;
	tf->rip = caller;
	tf->rsp += 8;
}

bool dune_vsyscall_fault(struct dune_thread *t, struct dune_tf *tf,
			 uint64_t cr2)
{
	/* Program code at CPL 0 only; ring 3 of the sandbox API is not ours. */
	if (cr2 < VSYSCALL_ADDR || cr2 - VSYSCALL_ADDR >= DUNE_PAGE ||
	    (tf->cs & 3))
		return false;
	/* A libdune trap handler runs: no signal is delivered in between. */
	t->trap_depth++;
	emulate(t, tf, cr2);
	t->trap_depth--;
	return true;
}

DUNE_NOFPU_END
