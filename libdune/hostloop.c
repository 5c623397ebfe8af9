// SPDX-License-Identifier: MIT
/*
 * The host loop.  Each thread in Dune mode runs its vCPU from here, on
 * its own host stack, forever: DUNE_RUN, handle the exit, run again.
 * The guest's registers live in t->run.regs between runs.
 *
 * Whatever happens here happens between two guest instructions, so this
 * code must leave the guest's vector registers alone (raw.h): it uses raw
 * system calls and general registers only.  Linux delivers the program's
 * signals here, on the way out of DUNE_RUN or of a forwarded system call:
 * libdune's trampoline queues them (sigaction.c) and the loop builds
 * their frames on the guest stack before the next DUNE_RUN
 * (sigdeliver.c), so handlers run in the guest.  Those registered with
 * dune_register_signal_handler only mark the signal pending, and the next
 * DUNE_RUN injects its vector into the guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>

#include "fmt.h"
#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

/*
 * DUNE_EXIT_FAULT again and again at one address that native code can
 * access (no system call in between) means the module cannot map that
 * memory into the guest; say so instead of spinning.
 */
#define FAULT_REPEAT_LIMIT 10000

static __attribute__((noreturn)) void report_fatal(struct dune_thread *t,
						   const char *why)
{
	const struct dune_run *run = &t->run;
	struct dune_out o;

	dune_out_init(&o, 2);
	if (run->exit_reason == DUNE_EXIT_FATAL) {
		dune_out_str(&o, "dune: fatal VM exit: reason ");
		dune_out_dec(&o, run->vmx_exit_reason);
		dune_out_str(&o, " (");
		dune_out_str(&o, dune_exit_reason_name(run->vmx_exit_reason));
		dune_out_str(&o, "), qualification ");
		dune_out_hex(&o, run->exit_qual);
		dune_out_str(&o, "\n");
	} else {
		dune_out_str(&o, "dune: giving up on the guest after DUNE_RUN exit ");
		dune_out_dec(&o, run->exit_reason);
		dune_out_str(&o, run->exit_reason == DUNE_EXIT_FAULT ? " (fault" :
				 run->exit_reason == DUNE_EXIT_VMCALL ? " (VMCALL" :
				 " (unknown");
		dune_out_str(&o, ", VM exit reason ");
		dune_out_dec(&o, run->vmx_exit_reason);
		dune_out_str(&o, ", ");
		dune_out_str(&o, dune_exit_reason_name(run->vmx_exit_reason));
		dune_out_str(&o, ")\n");
	}
	if (why) {
		dune_out_str(&o, "  ");
		dune_out_str(&o, why);
		dune_out_str(&o, "\n");
	}
	dune_out_str(&o, "  guest cr2 ");
	dune_out_hex(&o, run->guest_cr2);
	dune_out_str(&o, ", fault address ");
	dune_out_hex(&o, run->fault_addr);
	dune_out_str(&o, ", fault gpa ");
	dune_out_hex(&o, run->fault_gpa);
	dune_out_str(&o, "\n  registers:\n");
	dune_out_regs(&o, &run->regs);
	dune_out_str(&o, "  windows: ");
	dune_out_windows(&o, &dune_proc.layout);
	dune_out_str(&o, "\n  ending the process with SIGSEGV\n");
	dune_out_flush(&o);
	dune_die_signal(SIGSEGV);
}

static bool parse_hex(const char **s, const char *e, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	for (; p < e; p++) {
		char c = *p;

		if (c >= '0' && c <= '9')
			x = x * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			x = x * 16 + (c - 'a' + 10);
		else
			break;
	}
	if (p == *s)
		return false;
	*s = p;
	*v = x;
	return true;
}

/* For a maps line "lo-hi perms ...": -1 if @addr is not in it, else x. */
static int line_exec(const char *s, const char *e, uint64_t addr)
{
	uint64_t lo, hi;

	if (!parse_hex(&s, e, &lo) || s == e || *s++ != '-' ||
	    !parse_hex(&s, e, &hi) || e - s < 5 || *s != ' ')
		return -1;
	if (addr < lo || addr >= hi)
		return -1;
	return s[3] == 'x';
}

/* Is @addr in an executable mapping?  1, 0, or -1 if unknown. */
static int addr_executable(uint64_t addr)
{
	char buf[8192];
	size_t have = 0, start, i;
	bool skip = false;	/* in the tail of an overlong line */
	int found = -1;
	long fd, r;

	fd = dune_sys3(SYS_open, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC,
		       0);
	if (fd < 0)
		return -1;
	for (;;) {
		r = dune_sys3(SYS_read, fd, (long)(buf + have),
			      sizeof(buf) - have);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			break;
		have += r;
		for (start = 0, i = 0; i < have; i++) {
			if (buf[i] != '\n')
				continue;
			if (!skip)
				found = line_exec(buf + start, buf + i, addr);
			if (found >= 0)
				goto out;
			skip = false;
			start = i + 1;
		}
		if (start == 0 && have == sizeof(buf)) {
			/* A path longer than the buffer: the range is here. */
			if (!skip)
				found = line_exec(buf, buf + have, addr);
			if (found >= 0)
				goto out;
			skip = true;
			have = 0;
			continue;
		}
		dune_copy(buf, buf + start, have - start);
		have -= start;
	}
out:
	dune_sys1(SYS_close, fd);
	return found;
}

static void send_segv(struct dune_thread *t, uint64_t addr, int code,
		      uint64_t err)
{
	struct dune_ksiginfo info;

	dune_bzero(&info, sizeof(info));
	info.signo = SIGSEGV;
	info.code = code;
	info.addr = addr;
	dune_force_signal(t, &info, 14, err, addr);
}

/*
 * An instruction fetch the process may not do.  A read shows whether
 * anything is mapped there at all (if not, Linux delivers the SIGSEGV,
 * SEGV_MAPERR); if it is mapped but not executable, we send SEGV_ACCERR
 * as Linux would.  Executable by now: a race, run again.
 */
static void exec_fault(struct dune_thread *t, uint64_t addr)
{
	t->sig.exec_fault = true;
	t->sig.touch_faulted = false;
	dune_touch_read(addr);
	t->sig.exec_fault = false;
	if (t->sig.touch_faulted)
		return;
	if (addr_executable(addr) == 1)
		return;
	/* present, user, instruction fetch: what the CPU would report */
	send_segv(t, addr, SEGV_ACCERR, 0x15);
}

/*
 * The guest touched memory in a way the process may not: do the same
 * access natively, so Linux delivers the signal it would have delivered
 * (right si_addr and si_code, the program's handler or death).  If the
 * native access just works, the mapping changed meanwhile: run again.
 */
static void handle_fault(struct dune_thread *t)
{
	const struct dune_run *run = &t->run;
	uint64_t addr = run->fault_addr;

	if (!(run->fault_flags & DUNE_FAULT_LINEAR)) {
		addr = dune_layout_pa_to_va(&dune_proc.layout, run->fault_gpa);
		if (addr == DUNE_BAD_ADDR)
			report_fatal(t, "EPT fault at a guest-physical address outside every window");
	}
	if (addr == t->fault_addr) {
		if (++t->fault_repeats > FAULT_REPEAT_LIMIT)
			report_fatal(t, "the guest faults again and again on memory this process can access: dune.ko cannot map it into the guest (VM_IO or VM_PFNMAP memory?)");
	} else {
		t->fault_addr = addr;
		t->fault_repeats = 0;
	}
	/*
	 * The trampoline resumes past a touch that faults (sigasm.S) and
	 * queues the signal for the guest, with the kernel's trap values.
	 */
	if (run->fault_flags & DUNE_FAULT_WRITE)
		dune_touch_write(addr);	/* atomic no-op: harmless */
	else if (run->fault_flags & DUNE_FAULT_EXEC)
		exec_fault(t, addr);
	else
		dune_touch_read(addr);
}

/*
 * A system call through dune_syscall_stub: SFMASK cleared some flags and
 * the stub's `jmp *%rcx` cannot restore them; the `syscall` left the
 * originals in r11.
 */
static void restore_masked_flags(struct dune_thread *t)
{
	struct dune_regs *r = &t->run.regs;

	if (r->rip == (uint64_t)dune_syscall_stub_ret)
		r->rflags = (r->rflags & ~DUNE_SFMASK) | (r->r11 & DUNE_SFMASK);
}

__attribute__((noreturn)) void dune_host_loop(void *thread)
{
	struct dune_thread *t = thread;

	for (;;) {
		long r;

		/* Frames for the signals the trampoline queued. */
		if (t->sig.head != t->sig.tail)
			dune_sig_deliver(t);
		/* One signal per run; an undelivered one stays set. */
		if (!t->run.inject_vector)
			t->run.inject_vector = dune_signal_next(t);
		r = dune_rseq_run(t);

		if (r == -EINTR)
			continue;	/* a signal was delivered: go on */
		if (r < 0)
			dune_die_errno("the DUNE_RUN ioctl", r);
		switch (t->run.exit_reason) {
		case DUNE_EXIT_VMCALL:
			t->fault_repeats = 0;
			/*
			 * int $0x80, an exception handed over, or the
			 * program's VMCALL?  Every other libdune VMCALL site
			 * must be recognised before dune_exc_vmcall: it takes
			 * any VMCALL but the system call stub's for the
			 * program's own.
			 */
			if (dune_host_int80(t) || dune_exc_vmcall(t))
				break;
			restore_masked_flags(t);
			dune_host_syscall(t);
			break;
		case DUNE_EXIT_FAULT:
			handle_fault(t);
			break;
		case DUNE_EXIT_SIGNAL:
			break;
		case DUNE_EXIT_FATAL:
			report_fatal(t, NULL);
		default:
			report_fatal(t, "DUNE_RUN returned an exit reason this libdune does not know (dune.ko newer than libdune?)");
		}
	}
}

DUNE_NOFPU_END
