// SPDX-License-Identifier: MIT
/*
 * Unit tests for the exception -> signal mapping (excsig.c), with the
 * values native Linux gives for each case (the fid-exc-* programs check
 * the same against native runs in the emulated machine), and for the
 * host loop's check of where a VMCALL came from (exchost.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <asm/debugreg.h>
#include <signal.h>
#include <string.h>

#include "../../libdune/excsig.c"
#include "../../libdune/exchost.c"

static struct dune_excsig got;

static int map(unsigned int vector, uint64_t err, uint64_t rip)
{
	struct dune_exc e;

	memset(&e, 0, sizeof(e));
	e.vector = vector;
	e.err = err;
	e.rip = rip;
	e.dr6 = DR6_RESERVED;
	memset(&got, 0xa5, sizeof(got));
	return dune_exc_signal(&e, &got);
}

static void expect(int signo, int code, uint64_t addr, uint64_t trapno,
		   uint64_t err)
{
	ck_assert_int_eq(got.info.signo, signo);
	ck_assert_int_eq(got.info.code, code);
	ck_assert_uint_eq(got.info.addr, addr);
	ck_assert_int_eq(got.info.err, 0);	/* si_errno */
	ck_assert_uint_eq(got.trapno, trapno);
	ck_assert_uint_eq(got.err, err);
	ck_assert(!got.has_cr2);
}

/* One exception and what Linux sends for it natively. */
static const struct {
	unsigned int vector;
	uint64_t err, rip;
	int signo, code;
	uint64_t addr;
} faults[] = {
	{ 0, 0, 0x1000, SIGFPE, FPE_INTDIV, 0x1000 },
	{ 6, 0, 0x1000, SIGILL, ILL_ILLOPN, 0x1000 },
	/* int3: force_sig, no address; rip is already past it */
	{ 3, 0, 0x1001, SIGTRAP, SI_KERNEL, 0 },
	{ 13, 0, 0x1000, SIGSEGV, SI_KERNEL, 0 },
	{ 13, 0x402, 0x1000, SIGSEGV, SI_KERNEL, 0 },
	{ 12, 0, 0x1000, SIGBUS, SI_KERNEL, 0 },
	{ 11, 0x18, 0x1000, SIGBUS, SI_KERNEL, 0 },
	{ 10, 0x28, 0x1000, SIGSEGV, SI_KERNEL, 0 },
	{ 17, 0, 0x1000, SIGBUS, BUS_ADRALN, 0 },
	{ 4, 0, 0x1000, SIGSEGV, SI_KERNEL, 0 },
};

START_TEST(test_faults_and_traps)
{
	unsigned int i;

	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		ck_assert_int_eq(map(faults[i].vector, faults[i].err,
				     faults[i].rip), DUNE_EXC_SIGNAL);
		expect(faults[i].signo, faults[i].code, faults[i].addr,
		       faults[i].vector, faults[i].err);
	}
}
END_TEST

START_TEST(test_debug)
{
	struct dune_exc e;

	memset(&e, 0, sizeof(e));
	e.vector = 1;
	e.rip = 0x2000;
	/* single-step: DR6.BS */
	e.dr6 = DR6_RESERVED | DR_STEP;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_SIGNAL);
	expect(SIGTRAP, TRAP_TRACE, 0x2000, 1, 0);
	/* icebp: no reason at all */
	e.dr6 = DR6_RESERVED;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_SIGNAL);
	expect(SIGTRAP, TRAP_BRKPT, 0x2000, 1, 0);
	/* a hardware breakpoint */
	e.dr6 = DR6_RESERVED | DR_TRAP2;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_SIGNAL);
	expect(SIGTRAP, TRAP_HWBKPT, 0x2000, 1, 0);
	/* step wins over a breakpoint hit at the same time */
	e.dr6 = DR6_RESERVED | DR_STEP | DR_TRAP0;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, TRAP_TRACE);
	/* a task switch or DR access: not the program's, no signal */
	e.dr6 = DR6_RESERVED | DR_SWITCH;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_RETRY);
	/* DR6.RTM is active low: clear means an RTM #DB, still a reason */
	e.dr6 = DR6_RESERVED & ~0x10000ul;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_RETRY);
}
END_TEST

static int fp(unsigned int vector, uint16_t fsw, uint16_t fcw, uint32_t mxcsr)
{
	struct dune_exc e;

	memset(&e, 0, sizeof(e));
	e.vector = vector;
	e.rip = 0x3000;
	e.fsw = fsw;
	e.fcw = fcw;
	e.mxcsr = mxcsr;
	return dune_exc_signal(&e, &got);
}

START_TEST(test_x87)
{
	/* ZE unmasked (cw 0x37b) and set (sw 0x84: ES | ZE) */
	ck_assert_int_eq(fp(16, 0x84, 0x37b, 0), DUNE_EXC_SIGNAL);
	expect(SIGFPE, FPE_FLTDIV, 0x3000, 16, 0);
	/* stack underflow: IE | SF */
	ck_assert_int_eq(fp(16, 0xc1, 0x37e, 0), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTINV);
	ck_assert_int_eq(fp(16, 0x88, 0x377, 0), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTOVF);
	/* overflow with precision: overflow (PE masked anyway) */
	ck_assert_int_eq(fp(16, 0xa8, 0x357, 0), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTOVF);
	ck_assert_int_eq(fp(16, 0x90, 0x36f, 0), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTUND);
	ck_assert_int_eq(fp(16, 0x82, 0x37d, 0), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTUND);
	ck_assert_int_eq(fp(16, 0xa0, 0x35f, 0), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTRES);
	/* the flag is set but masked: spurious, Linux just returns */
	ck_assert_int_eq(fp(16, 0x04, 0x37f, 0), DUNE_EXC_RETRY);
}
END_TEST

START_TEST(test_simd)
{
	ck_assert_int_eq(fp(19, 0, 0, 0x1d80 | 0x04), DUNE_EXC_SIGNAL);
	expect(SIGFPE, FPE_FLTDIV, 0x3000, 19, 0);
	ck_assert_int_eq(fp(19, 0, 0, 0x1f00 | 0x01), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTINV);
	/* overflow sets PE too; PE is masked */
	ck_assert_int_eq(fp(19, 0, 0, 0x1b80 | 0x28), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTOVF);
	ck_assert_int_eq(fp(19, 0, 0, 0x1780 | 0x10), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTUND);
	ck_assert_int_eq(fp(19, 0, 0, 0x1e80 | 0x02), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTUND);
	ck_assert_int_eq(fp(19, 0, 0, 0x0f80 | 0x20), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTRES);
	/* several unmasked: invalid first, as Linux checks */
	ck_assert_int_eq(fp(19, 0, 0, 0x0000 | 0x3f), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.code, FPE_FLTINV);
	ck_assert_int_eq(fp(19, 0, 0, 0x1f80 | 0x3f), DUNE_EXC_RETRY);
	/* the x87 words do not matter for #XM */
	ck_assert_int_eq(fp(19, 0x3f, 0, 0x1f80), DUNE_EXC_RETRY);
}
END_TEST

START_TEST(test_page_fault)
{
	struct dune_exc e;

	memset(&e, 0, sizeof(e));
	e.vector = 14;
	e.rip = 0x4000;
	/* a kernel address, read at CPL 0, not present: U and P as Linux */
	e.cr2 = 0xffff888000001000ull;
	e.err = 0;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_SIGNAL);
	ck_assert_int_eq(got.info.signo, SIGSEGV);
	ck_assert_int_eq(got.info.code, SEGV_MAPERR);
	ck_assert_uint_eq(got.info.addr, e.cr2);
	ck_assert_uint_eq(got.err, FEC_U | FEC_P);
	ck_assert_uint_eq(got.trapno, 14);
	ck_assert(got.has_cr2);
	ck_assert_uint_eq(got.cr2, e.cr2);
	e.err = FEC_W;
	dune_exc_signal(&e, &got);
	ck_assert_uint_eq(got.err, FEC_U | FEC_P | FEC_W);
	e.err = FEC_I | FEC_RSV;
	dune_exc_signal(&e, &got);
	ck_assert_uint_eq(got.err, FEC_U | FEC_P | FEC_I);
	/* the lowest kernel-side page, and the user half: Dune's own */
	e.cr2 = (1ull << 47) - 4096;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_SIGNAL);
	e.cr2 = (1ull << 47) - 4097;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_REPORT);
	e.cr2 = 0x100000000000ull;
	ck_assert_int_eq(dune_exc_signal(&e, &got), DUNE_EXC_REPORT);
}
END_TEST

START_TEST(test_no_signal)
{
	static const unsigned int v[] = { 2, 7, 8, 9, 15, 18, 20, 21, 31,
					  32, 0x80, 0xf0, 255 };
	unsigned int i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_int_eq(map(v[i], 0, 0x1000), DUNE_EXC_REPORT);
}
END_TEST

/* ---- exchost.c, with what it calls recorded ---- */

char dune_syscall_stub_ret[4], dune_exc_hypercall_ret[4];
static struct dune_ksiginfo sent;
static uint64_t sent_trapno, sent_err, sent_cr2;
static int nsent;

void dune_force_signal(struct dune_thread *t, const struct dune_ksiginfo *info,
		       uint64_t trapno, uint64_t err, uint64_t cr2)
{
	sent = *info;
	sent_trapno = trapno;
	sent_err = err;
	sent_cr2 = cr2;
	nsent++;
}

void dune_tf_to_regs(const struct dune_tf *tf, struct dune_regs *r)
{
	r->rax = tf->rax;
	r->rsp = tf->rsp;
	r->rip = tf->rip;
	r->rflags = tf->rflags;
}

static struct dune_thread th;
static uint64_t ist[64] __attribute__((aligned(16)));

static void thread_setup(void)
{
	memset(&th, 0, sizeof(th));
	th.ist_top[DUNE_IST_TRAP - 1] = (uint64_t)&ist[62];
	th.sig_cr2 = 0x5000;
	nsent = 0;
}

START_TEST(test_vmcall_syscall)
{
	thread_setup();
	th.run.regs.rip = (uint64_t)dune_syscall_stub_ret;
	th.run.regs.rax = DUNE_HC_EXCEPTION;
	ck_assert(!dune_exc_vmcall(&th));
	ck_assert_int_eq(nsent, 0);
}
END_TEST

START_TEST(test_vmcall_program)
{
	thread_setup();
	th.run.regs.rip = 0x7003;	/* past a vmcall at 0x7000 */
	th.run.regs.rax = 39;
	ck_assert(dune_exc_vmcall(&th));
	ck_assert_int_eq(nsent, 1);
	ck_assert_int_eq(sent.signo, SIGILL);
	ck_assert_int_eq(sent.code, ILL_ILLOPN);
	ck_assert_uint_eq(sent.addr, 0x7000);
	ck_assert_uint_eq(th.run.regs.rip, 0x7000);
	ck_assert_uint_eq(sent_trapno, 6);
	ck_assert_uint_eq(sent_cr2, 0x5000);	/* unchanged */
	/* the private number from the program's own VMCALL */
	th.run.regs.rip = 0x7003;
	th.run.regs.rax = DUNE_HC_EXCEPTION;
	th.exc_armed = true;
	ck_assert(dune_exc_vmcall(&th));
	ck_assert_int_eq(sent.signo, SIGILL);
	ck_assert(th.exc_armed);
}
END_TEST

START_TEST(test_vmcall_exception)
{
	struct dune_tf *tf;

	thread_setup();
	tf = (struct dune_tf *)th.ist_top[DUNE_IST_TRAP - 1] - 1;
	tf->rip = 0x8000;
	tf->rsp = 0x9000;
	tf->rax = 77;
	tf->rflags = 0x246;
	th.exc.info.signo = SIGFPE;
	th.exc.info.code = FPE_INTDIV;
	th.exc.info.addr = 0x8000;
	th.exc.trapno = 0;
	/* not armed: the program jumped to libdune's VMCALL itself */
	th.run.regs.rip = (uint64_t)dune_exc_hypercall_ret;
	th.run.regs.rax = DUNE_HC_EXCEPTION;
	ck_assert(dune_exc_vmcall(&th));
	ck_assert_int_eq(sent.signo, SIGILL);
	/* armed, but another number */
	th.exc_armed = true;
	th.run.regs.rip = (uint64_t)dune_exc_hypercall_ret;
	th.run.regs.rax = 0;
	ck_assert(dune_exc_vmcall(&th));
	ck_assert_int_eq(sent.signo, SIGILL);
	/* the real thing: the faulting context back, the signal sent */
	th.run.regs.rip = (uint64_t)dune_exc_hypercall_ret;
	th.run.regs.rax = DUNE_HC_EXCEPTION;
	ck_assert(dune_exc_vmcall(&th));
	ck_assert(!th.exc_armed);
	ck_assert_int_eq(sent.signo, SIGFPE);
	ck_assert_int_eq(sent.code, FPE_INTDIV);
	ck_assert_uint_eq(sent.addr, 0x8000);
	ck_assert_uint_eq(sent_trapno, 0);
	ck_assert_uint_eq(sent_cr2, 0x5000);
	ck_assert_uint_eq(th.run.regs.rip, 0x8000);
	ck_assert_uint_eq(th.run.regs.rsp, 0x9000);
	ck_assert_uint_eq(th.run.regs.rax, 77);
	ck_assert_uint_eq(th.run.regs.rflags, 0x246);
	/* a page fault sets cr2 */
	th.exc_armed = true;
	th.exc.has_cr2 = true;
	th.exc.cr2 = 0xffff888000000000ull;
	th.run.regs.rip = (uint64_t)dune_exc_hypercall_ret;
	th.run.regs.rax = DUNE_HC_EXCEPTION;
	ck_assert(dune_exc_vmcall(&th));
	ck_assert_uint_eq(sent_cr2, 0xffff888000000000ull);
}
END_TEST

static Suite *excsig_suite(void)
{
	Suite *s = suite_create("excsig");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_faults_and_traps);
	tcase_add_test(tc, test_debug);
	tcase_add_test(tc, test_x87);
	tcase_add_test(tc, test_simd);
	tcase_add_test(tc, test_page_fault);
	tcase_add_test(tc, test_no_signal);
	tcase_add_test(tc, test_vmcall_syscall);
	tcase_add_test(tc, test_vmcall_program);
	tcase_add_test(tc, test_vmcall_exception);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(excsig_suite());
}
