// SPDX-License-Identifier: MIT
/*
 * dune-box: the run.  Enter Dune mode, give ring 3 the sandbox's
 * page-table root, route its system calls to the monitor (monitor.c) and
 * its exceptions to the signal a native process would get, and start
 * the program the way execve leaves it: at its entry point, rsp at argc,
 * every other general register 0, FS base 0, default FPU control.
 *
 * An exception goes to the program's handler (signal.c); without one
 * (or blocked, or ignored) it ends the sandbox with its signal's default
 * action: the run returns the wait status, and box_exit_like makes it
 * this process's own end, so the kernel decides the core bit as it
 * would natively.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "load.h"
#include "monitor-int.h"
#include "ownfd.h"
#include "phase.h"
#include "thread.h"
#include "sig.h"
#include "../libdune/internal.h"
#include "../libdune/fmt.h"

/* The exceptions a ring-3 instruction can raise (excsig.c maps them). */
static const int exc_vectors[] = {
	DUNE_TRAP_DE, DUNE_TRAP_DB, DUNE_TRAP_BP, DUNE_TRAP_OF, DUNE_TRAP_BR,
	DUNE_TRAP_UD, DUNE_TRAP_TS, DUNE_TRAP_NP, DUNE_TRAP_SS, DUNE_TRAP_GP,
	DUNE_TRAP_MF, DUNE_TRAP_AC, DUNE_TRAP_XF,
};
#define N_EXC (sizeof(exc_vectors) / sizeof(exc_vectors[0]))

/*
 * The sandbox dies of @sig raised at @tf.  With DUNE_DEBUG set, say
 * where (natively the kernel would not say more than the status).
 */
static __attribute__((noreturn)) void die_by(int sig, struct dune_tf *tf,
					     uint64_t addr)
{
	struct dune_out out;

	if (dune_proc.debug) {
		dune_out_init(&out, 2);
		dune_out_str(&out, "dune-box: the program dies of signal ");
		dune_out_dec(&out, sig);
		dune_out_str(&out, ": vector ");
		dune_out_dec(&out, tf->vector);
		dune_out_str(&out, " at rip ");
		dune_out_hex(&out, tf->rip);
		dune_out_str(&out, ", address ");
		dune_out_hex(&out, addr);
		dune_out_str(&out, ", error code ");
		dune_out_hex(&out, tf->err);
		dune_out_str(&out, "\n");
		dune_out_flush(&out);
	}
	box_thread_end(sig);
}

/*
 * Not from ring 3: the monitor's own fault.  Give the vector back to
 * libdune and return: the instruction faults again and gets libdune's
 * report (a trap's rip is already past it; the monitor raises none).
 */
static void exc_handler(struct dune_tf *tf)
{
	struct dune_excsig s;
	struct dune_exc e;
	int r;

	if (!(tf->cs & 3)) {
		dune_register_intr_handler(tf->vector, NULL);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.vector = tf->vector;
	e.err = tf->err;
	e.rip = tf->rip;
	if (e.vector == DUNE_TRAP_DB)
		__asm__ volatile("mov %%dr6, %0" : "=r"(e.dr6));
	if (e.vector == DUNE_TRAP_MF)
		__asm__ volatile("fnstsw %0\n\tfnstcw %1"
				 : "=m"(e.fsw), "=m"(e.fcw));
	if (e.vector == DUNE_TRAP_XF)
		__asm__ volatile("stmxcsr %0" : "=m"(e.mxcsr));
	r = dune_exc_signal(&e, &s);
	if (r == DUNE_EXC_RETRY)
		return;
	/* The program's handler takes it, or it dies of it. */
	if (r == DUNE_EXC_SIGNAL && !box_sig_exception(tf, &s))
		return;
	die_by(r == DUNE_EXC_SIGNAL ? s.info.signo : SIGSEGV, tf, 0);
}

/*
 * Ring 3 touched a page its root does not give it (monitor memory, a
 * reservation, a page it may not write): SIGSEGV, as natively.
 */
static void pf_handler(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	if (!(tf->cs & 3)) {
		dune_vm_cow_pgflt_handler(addr, fec, tf);
		return;
	}
	if (!box_sig_page_fault(tf, addr, fec))
		return;
	die_by(SIGSEGV, tf, addr);
}

/* The first system call closes the start-up phases (phase.h). */
static void first_call(struct dune_tf *tf)
{
	box_phase("ring 3 to its first system call");
	dune_register_syscall_handler(box_monitor_syscall);
	box_monitor_syscall(tf);
}

static void handlers(bool on)
{
	unsigned int i;

	for (i = 0; i < N_EXC; i++)
		dune_register_intr_handler(exc_vectors[i],
					   on ? exc_handler : NULL);
	dune_register_pgflt_handler(on ? pf_handler : NULL);
	dune_register_syscall_handler(on ? first_call : NULL);
	if (on)
		box_sig_start();
}

int box_run_prepare(const struct box_image *img, struct box_mem *mem)
{
	memset(&box_mon, 0, sizeof(box_mon));
	box_mon.mem = mem;
	box_mon.brk_start = box_mon.brk_cur = BOX_PAGE_UP(img->brk);
	memset(&box_main_thread, 0, sizeof(box_main_thread));
	box_main_thread.altstack.ss_flags = SS_DISABLE;
	box_cur = &box_main_thread;
	box_brk_reserve();
	box_mon.prepared = true;
	/*
	 * pgroot supervisor-only: box_mem_build_root clones it (mem.h).
	 * Large leaves only: nothing here looks up pgroot's entries, and
	 * the default tree's 4 KiB leaves over every 2 MiB block mapped now
	 * (the 1 GiB brk reservation above among them) made dune_init and
	 * the clone three quarters of dune-box's start (docs/benchmarks.md,
	 * "Where dune-box's start-up goes").  The sandbox's root gets
	 * 4 KiB leaves only where its ranges' edges split a large one.
	 */
	return dune_init_flags(DUNE_INIT_BIG_PGROOT) ? -errno : 0;
}

int box_run(const struct box_image *img, struct box_mem *mem,
	    const struct box_policy *pol, const struct box_monitor_opts *o)
{
	static const struct box_monitor_opts defaults = { .log_fd = -1,
							  .msg_fd = 2 };
	struct dune_stats st0, st1;
	uint32_t mxcsr, ring3_mxcsr = 0x1f80;	/* as after execve */
	uint16_t fcw, ring3_fcw = 0x37f;
	bool have_stats = false;
	struct dune_tf tf;
	ptent_t *old;
	int r;

	if (!box_mon.prepared || box_mon.mem != mem) {
		r = box_run_prepare(img, mem);
		if (r)
			return r;
	}
	box_mon.pol = pol;
	box_mon.o = o ? *o : defaults;
	/*
	 * --log FILE's fd is the monitor's, out of the program's sight
	 * (dune-box moved it high when it opened it: main.c)
	 */
	if (box_mon.o.log_fd > 2)
		box_fd_own(box_mon.o.log_fd, &box_mon.o.log_fd);
	if (dune_enter())
		return -errno;
	box_phase("dune_enter");
	r = box_mem_build_root(mem);
	if (r) {
		fprintf(stderr, "dune-box: cannot build the sandbox's page tables: %s\n",
			strerror(-r));
		return r;
	}
	box_phase("sandbox root built");
	if (box_mon.o.stats)
		have_stats = !dune_get_stats(&st0);

	memset(&tf, 0, sizeof(tf));
	tf.rip = img->entry;
	tf.rsp = img->sp;
	tf.rflags = 0x202;
	handlers(true);
	dune_set_user_fs(0);
	dune_set_user_gs(0);	/* both 0, as after execve */
	old = dune_vm_current();
	r = dune_vm_switch(box_mem_root(mem));
	if (!r) {
		__asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(fcw));
		__asm__ volatile("ldmxcsr %0\n\tfldcw %1"
				 : : "m"(ring3_mxcsr), "m"(ring3_fcw));
		r = dune_jump_to_user(&tf);
		__asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mxcsr), "m"(fcw));
		dune_vm_switch(old);
	}
	handlers(false);
	box_phase("the program, to its exit");
	if (r < 0) {
		fprintf(stderr, "dune-box: cannot start the program: %s\n",
			strerror(-r));
		return r;
	}
	if (box_mon.o.stats) {
		have_stats = have_stats && !dune_get_stats(&st1);
		box_log_stats(have_stats ? &st0 : NULL, have_stats ? &st1 : NULL);
	}
	return box_mon.status;
}

__attribute__((noreturn)) void box_exit_like(int status)
{
	box_phase_report();
	fflush(NULL);
	if (WIFSIGNALED(status) || (status & 0x7f)) {
		int sig = status & 0x7f;

		if (dune_active())
			dune_die_signal(sig);
		signal(sig, SIG_DFL);
		raise(sig);
		_exit(128 + sig);
	}
	exit(WEXITSTATUS(status));
}
