// SPDX-License-Identifier: MIT
/*
 * Integration tests for ring 3 and guest traps: dune_jump_to_user and
 * dune_ret_from_user, ring-3 system calls (filtered, emulated, passed
 * through), privileged instructions and supervisor pages from ring 3,
 * nested faults and #DF reports, dune_pop_trap_frame, and signals
 * handled inside the guest.
 *
 * Ring-3 code is the assembly below, alone in its own page-aligned
 * section, which the tests map user-accessible (PERM_U) together with a
 * ring-3 stack; everything else stays supervisor-only.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "itest.h"
#include "dune.h"
#include "internal.h"

/* The system call that ring 3 uses to end its run: result in rdi. */
#define NR_RET 0x7fff
/* Its handler checks TLS (test_tls_in_handlers); rdi: ring 3 read it */
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
	u_sys_bp[], u_spin[], u_segs[], u_tls[], u_tls_spin[], u_emul[], u_int3[], u_int3_after[], u_pop_target[],
	u_pop_after[],
	u_div[], u_read[], u_write[], u_exec[], u_cli[], u_sti[], u_hlt[],
	u_mov_cr3[], u_mov_cr0[], u_lidt[], u_lgdt[], u_wrmsr[], u_rdmsr[],
	u_in[], u_out[], u_invlpg[], u_vmcall[], u_int_stub[], u_swapgs[],
	u_sysret[], u_iret_prep[], u_iret[];

#define USTACK_SIZE (16 << 10)
static char *ustack;

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
	IT_ASSERT(dune_active());
}

/* Dune mode, the ring-3 code and a ring-3 stack user-accessible. */
static void enter_user(void)
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
static void user_tf(struct dune_tf *tf, void *rip)
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

static void record(struct dune_tf *tf)
{
	seen.vector = tf->vector;
	seen.rip = tf->rip;
	seen.cs = tf->cs;
	seen.err = tf->err;
	seen.rflags = tf->rflags;
	seen.calls++;
}

/* End the ring-3 run: jump_to_user returns 1000 + vector. */
static void record_and_return(struct dune_tf *tf)
{
	record(tf);
	dune_ret_from_user(1000 + tf->vector);
}

static void pgflt_and_return(uintptr_t addr, uint64_t fec, struct dune_tf *tf)
{
	seen.addr = addr;
	seen.fec = fec;
	record_and_return(tf);
}

static void catch_all(void)
{
	static const int vecs[] = { 0, 3, 6, 13 };
	unsigned int i;

	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		IT_ASSERT_EQ(dune_register_intr_handler(vecs[i],
							record_and_return), 0);
	dune_register_pgflt_handler(pgflt_and_return);
}

/* ---- system calls from ring 3 ---- */

enum { SYS_DENY_WRITE = 1, SYS_EMULATE_GETPID, SYS_PASS, SYS_NESTED };
static int sys_mode;

/*
 * Thread-local state that handlers check and advance: 1 if tls_val and
 * errno are what this thread last set (so FS pointed at its TLS), else 0.
 */
static __thread volatile long tls_val;
static volatile long tls_expect;

static int tls_step(void)
{
	int ok = tls_val == tls_expect && errno == (int)tls_expect;

	tls_expect++;
	tls_val = tls_expect;
	errno = (int)tls_expect;
	return ok;
}

static void sys_handler(struct dune_tf *tf)
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

static void test_jump_and_return(void)
{
	struct dune_tf tf;
	int i;

	user_tf(&tf, u_sys);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EPERM);	/* not in Dune mode */
	enter_user();
	dune_register_syscall_handler(sys_handler);
	for (i = 0; i < 3; i++) {
		user_tf(&tf, u_sys);
		tf.rax = NR_RET;
		tf.rdi = 42 + i;
		/* callee-saved registers and the FPU control come back */
		IT_ASSERT_EQ(dune_jump_to_user(&tf), 42 + i);
		IT_ASSERT(dune_active());
		IT_ASSERT_EQ(seen.rip, (uint64_t)u_sys_after);
		IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);
		/* IF on, IOPL 0 at ring 3 */
		IT_ASSERT_EQ(seen.rflags & 0x3200, 0x200);
	}
	/* A ring-3 rflags asking for IOPL 3 and IF off gets neither. */
	user_tf(&tf, u_sys);
	tf.rax = NR_RET;
	tf.rdi = 7;
	tf.rflags = 0x3002;
	tf.cs = DUNE_SEL_KCODE;	/* ignored: always ring 3 */
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 7);
	IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);
	IT_ASSERT_EQ(seen.rflags & 0x3200, 0x200);
	/* TLS works after a run that loaded FS and GS */
	user_tf(&tf, u_segs);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 5);
	errno = 1234;
	IT_ASSERT_EQ(errno, 1234);
	IT_ASSERT(dune_self != NULL);
	/* non-canonical rip or rsp: refused, not a #GP at ring 0 */
	user_tf(&tf, u_sys);
	tf.rip = 0x0000800000000000ull;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EINVAL);
	user_tf(&tf, u_sys);
	tf.rsp = 0xff00000000001000ull;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EINVAL);
	/* from a handler of the run: refused */
	sys_mode = SYS_NESTED;
	user_tf(&tf, u_sys);
	tf.rax = SYS_getpid;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EBUSY);
}

static void test_syscall_filter(void)
{
	static const char msg[] = "from ring 3";
	struct dune_tf tf;
	char buf[64];
	int p[2];

	enter_user();
	catch_all();
	/* no handler: -ENOSYS (result handed back by int3) */
	user_tf(&tf, u_sys_bp);
	tf.rax = SYS_getpid;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1003);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_sys_bp + 3);	/* past int3 */

	dune_register_syscall_handler(sys_handler);
	IT_ASSERT_EQ(pipe(p), 0);
	sys_mode = SYS_DENY_WRITE;
	user_tf(&tf, u_sys);
	tf.rax = SYS_write;
	tf.rdi = p[1];
	tf.rsi = (uint64_t)msg;
	tf.rdx = sizeof(msg);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), -EPERM);

	sys_mode = SYS_EMULATE_GETPID;
	user_tf(&tf, u_sys);
	tf.rax = SYS_getpid;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 4242);

	sys_mode = SYS_PASS;
	user_tf(&tf, u_sys);
	tf.rax = SYS_write;
	tf.rdi = p[1];
	tf.rsi = (uint64_t)msg;
	tf.rdx = sizeof(msg);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), sizeof(msg));
	IT_ASSERT_EQ(read(p[0], buf, sizeof(buf)), sizeof(msg));
	IT_ASSERT(!memcmp(buf, msg, sizeof(msg)));
	user_tf(&tf, u_sys);
	tf.rax = SYS_getppid;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), getppid());
	IT_ASSERT(dune_active());
}

/* ---- privileged instructions ---- */

/*
 * VM exits between two dune_get_stats calls around one ring-3 run, other
 * than the second call's own VMCALL, host interrupts, first touches of
 * pages (EPT) and WRMSR (should the module intercept LSTAR writes).
 */
static unsigned long long exits_other(const struct dune_stats *a,
				      const struct dune_stats *b)
{
	static const int ok[] = { 1 /* interrupt */, 48 /* EPT */,
				  32 /* WRMSR */ };
	unsigned long long n = b->exits - a->exits;
	unsigned int i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		n -= b->by_reason[ok[i]] - a->by_reason[ok[i]];
	return n - 1;
}

static void test_privileged(void)
{
	static const struct {
		const char *name;
		char *rip;
		int vector;
		uint64_t err;
	} cases[] = {
		{ "cli", u_cli, 13, 0 },
		{ "sti", u_sti, 13, 0 },
		{ "hlt", u_hlt, 13, 0 },
		{ "mov to cr3", u_mov_cr3, 13, 0 },
		{ "mov from cr0", u_mov_cr0, 13, 0 },
		{ "lidt", u_lidt, 13, 0 },
		{ "lgdt", u_lgdt, 13, 0 },
		{ "wrmsr", u_wrmsr, 13, 0 },
		{ "rdmsr", u_rdmsr, 13, 0 },
		{ "in", u_in, 13, 0 },
		{ "out", u_out, 13, 0 },
		{ "invlpg", u_invlpg, 13, 0 },
		{ "swapgs", u_swapgs, 13, 0 },
		{ "sysretq", u_sysret, 13, 0 },
		/* a DPL 0 gate: the error code names the IDT entry */
		{ "int $VEC", u_int_stub, 13, DUNE_VEC_USER_SYSCALL * 8 + 2 },
		/* iretq to CPL 0: #GP with the code selector */
		{ "iretq to ring 0", u_iret, 13, DUNE_SEL_KCODE },
		{ "vmcall", u_vmcall, 6, 0 },
	};
	struct dune_stats s0, s1;
	struct dune_tf tf;
	unsigned int i;
	int r;

	enter_user();
	catch_all();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		user_tf(&tf, cases[i].rip == u_iret ? u_iret_prep : cases[i].rip);
		tf.rcx = 0x10;	/* an MSR index for rdmsr/wrmsr */
		memset(&seen, 0, sizeof(seen));
		IT_ASSERT_EQ(dune_get_stats(&s0), 0);
		r = dune_jump_to_user(&tf);
		IT_ASSERT_EQ(dune_get_stats(&s1), 0);
		if (r != 1000 + cases[i].vector || seen.rip !=
		    (uint64_t)cases[i].rip || seen.cs != DUNE_USER_CS ||
		    seen.err != cases[i].err)
			IT_FAIL("%s at ring 3: returned %d, vector %lu rip %#lx (expected %#lx) cs %#lx error code %#lx (expected %#lx)",
				cases[i].name, r, seen.vector, seen.rip,
				(uint64_t)cases[i].rip, seen.cs, seen.err,
				cases[i].err);
		/* VMCALL exits in any case; the module makes it a #UD */
		if (exits_other(&s0, &s1) != (cases[i].rip == u_vmcall))
			IT_FAIL("%s at ring 3: %llu VM exits",
				cases[i].name, exits_other(&s0, &s1));
	}
	/* the host and Dune mode went on */
	IT_ASSERT(dune_active());
	IT_ASSERT_EQ(getpid(), syscall(SYS_getpid));
}

/* ---- supervisor pages from ring 3 ---- */

static volatile uint64_t supervisor_data = 0x5eed;

static void test_supervisor_pages(void)
{
	struct dune_tf tf;
	char *code;

	enter_user();
	catch_all();
	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	IT_ASSERT(code != MAP_FAILED);
	memset(code, 0xc3, 4096);

	user_tf(&tf, u_read);
	tf.rdi = (uint64_t)&supervisor_data;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1014);
	IT_ASSERT_EQ(seen.addr, (uint64_t)&supervisor_data);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_read);
	IT_ASSERT_EQ(seen.fec & (FEC_U | FEC_W | FEC_P), FEC_U | FEC_P);

	user_tf(&tf, u_write);
	tf.rdi = (uint64_t)&supervisor_data;
	tf.rax = 1;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1014);
	IT_ASSERT_EQ(seen.addr, (uint64_t)&supervisor_data);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_write);
	IT_ASSERT_EQ(seen.fec & (FEC_U | FEC_W | FEC_P), FEC_U | FEC_W | FEC_P);
	IT_ASSERT_EQ(supervisor_data, 0x5eed);

	user_tf(&tf, u_exec);
	tf.rdi = (uint64_t)code + 16;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1014);
	IT_ASSERT_EQ(seen.addr, (uint64_t)code + 16);
	IT_ASSERT_EQ(seen.rip, (uint64_t)code + 16);
	IT_ASSERT_EQ(seen.fec & (FEC_U | FEC_W | FEC_P), FEC_U | FEC_P);
	IT_ASSERT(dune_active());
}

/* ---- breakpoints and divide errors from ring 3 ---- */

static void test_breakpoint_divide(void)
{
	struct dune_tf tf;

	enter_user();
	catch_all();
	user_tf(&tf, u_int3);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1003);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_int3_after);	/* a trap */
	IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);

	user_tf(&tf, u_div);
	tf.rax = 10;
	tf.rcx = 0;
	tf.rdx = 0;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 1000);
	IT_ASSERT_EQ(seen.rip, (uint64_t)u_div);	/* a fault */
	IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);
}

/* ---- dune_pop_trap_frame ---- */

static void bp_pop_ring0(struct dune_tf *tf)
{
	tf->rax = 77;
	dune_pop_trap_frame(tf);
}

static void bp_pop_ring3(struct dune_tf *tf)
{
	if (!(tf->cs & 3))
		dune_ret_from_user(-1);
	tf->rip = (uint64_t)u_pop_target;
	tf->rax = 99;
	dune_pop_trap_frame(tf);
}

static void test_pop_trap_frame(void)
{
	struct dune_tf tf;
	uint64_t v;
	int i;

	enter_user();
	dune_register_syscall_handler(sys_handler);
	IT_ASSERT_EQ(dune_register_intr_handler(3, bp_pop_ring0), 0);
	/* several times: each pop leaves the handler for good */
	for (i = 0; i < 5; i++) {
		__asm__ volatile("int3" : "=a"(v) : "a"(0) : "memory");
		IT_ASSERT_EQ(v, 77);
	}
	IT_ASSERT_EQ(dune_register_intr_handler(3, bp_pop_ring3), 0);
	for (i = 0; i < 3; i++) {
		user_tf(&tf, u_int3);
		IT_ASSERT_EQ(dune_jump_to_user(&tf), 100);
		IT_ASSERT_EQ(seen.rip, (uint64_t)u_pop_after);
		IT_ASSERT_EQ(seen.cs, DUNE_USER_CS);
	}
	IT_ASSERT(dune_active());
}

/* ---- reports of faults that nothing handles ---- */

/*
 * Run @fn in a child with stderr going to a file; its wait status, and
 * what it wrote to stderr in @err.
 */
static int run_capture(void (*fn)(void), char *err, size_t errlen)
{
	char path[] = "/tmp/itest-dune-user-XXXXXX";
	int fd = mkstemp(path), st;
	ssize_t n;
	pid_t pid;

	IT_ASSERT(fd >= 0);
	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		dup2(fd, 2);
		fn();
		fflush(NULL);
		_exit(0);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	n = pread(fd, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return st;
}

static char err[8192];

#define EXPECT_SIGNAL(st, sig)                                            \
	do {                                                              \
		int _st = (st);                                           \
		if (!WIFSIGNALED(_st) || WTERMSIG(_st) != (sig))          \
			IT_FAIL("wait status 0x%x, expected signal %d; stderr: %s", \
				_st, (sig), err);                         \
	} while (0)

#define EXPECT_TEXT(s)                                                   \
	do {                                                             \
		if (!strstr(err, (s)))                                   \
			IT_FAIL("no \"%s\" in stderr: %s", (s), err);    \
	} while (0)

static void bp_faults(struct dune_tf *tf)
{
	__asm__ volatile("ud2");
}

static void nested_fault(void)
{
	enter();
	IT_ASSERT_EQ(dune_register_intr_handler(3, bp_faults), 0);
	__asm__ volatile("int3");
	_exit(44);
}

static void nested_fault_ring3(void)
{
	struct dune_tf tf;

	enter_user();
	IT_ASSERT_EQ(dune_register_intr_handler(3, bp_faults), 0);
	user_tf(&tf, u_int3);
	dune_jump_to_user(&tf);
	_exit(44);
}

static void double_fault(void)
{
	enter();
	/* #GP's gate not present: delivering a #GP raises #NP, then #DF */
	dune_idt[13].type &= 0x7f;
	__asm__ volatile("movq (%0), %%rax"
			 : : "r"(0x8000000000000000ull) : "rax", "memory");
	_exit(44);
}

static void unhandled_ring3(void)
{
	struct dune_tf tf;

	enter_user();
	user_tf(&tf, u_cli);
	dune_jump_to_user(&tf);
	_exit(44);
}

static void test_reports(void)
{
	EXPECT_SIGNAL(run_capture(nested_fault, err, sizeof(err)), SIGILL);
	EXPECT_TEXT("trap inside a trap handler: invalid opcode (#UD, vector 6)");
	EXPECT_SIGNAL(run_capture(nested_fault_ring3, err, sizeof(err)),
		      SIGILL);
	EXPECT_TEXT("trap inside a trap handler: invalid opcode (#UD, vector 6)");
	EXPECT_SIGNAL(run_capture(double_fault, err, sizeof(err)), SIGSEGV);
	EXPECT_TEXT("(#DF, vector 8)");
	EXPECT_SIGNAL(run_capture(unhandled_ring3, err, sizeof(err)), SIGSEGV);
	EXPECT_TEXT("(#GP, vector 13) in Dune mode, from ring 3, at rip");
	EXPECT_TEXT("(ring 3)");
}

/* ---- signals handled inside the guest ---- */

static volatile int sig_calls, sig_active;
static volatile uint64_t sig_cs, sig_vector;

static void sig_cb(struct dune_tf *tf)
{
	sig_calls++;
	sig_active = dune_active();
	sig_cs = tf->cs;
	sig_vector = tf->vector;
	if (dune_active() && (tf->cs & 3))
		dune_ret_from_user(555);
}

static void test_signal_ring0(void)
{
	enter();
	IT_ASSERT_EQ(dune_register_signal_handler(SIGKILL, sig_cb), -1);
	IT_ASSERT_EQ(errno, EINVAL);
	IT_ASSERT_EQ(dune_register_signal_handler(SIGUSR1, sig_cb), 0);
	IT_ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
	while (!sig_calls)
		__asm__ volatile("" ::: "memory");
	IT_ASSERT_EQ(sig_calls, 1);
	IT_ASSERT(sig_active);
	IT_ASSERT_EQ(sig_cs, DUNE_SEL_KCODE);
	IT_ASSERT_EQ(sig_vector, DUNE_SIGNAL_VECTOR(SIGUSR1));
	IT_ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
	while (sig_calls < 2)
		__asm__ volatile("" ::: "memory");
	IT_ASSERT(dune_active());
}

static void test_signal_ring3(void)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	struct dune_tf tf;

	enter_user();
	IT_ASSERT_EQ(dune_register_signal_handler(SIGALRM, sig_cb), 0);
	IT_ASSERT_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	user_tf(&tf, u_spin);
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 555);
	memset(&it, 0, sizeof(it));
	IT_ASSERT_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	IT_ASSERT(sig_active);
	IT_ASSERT_EQ(sig_cs, DUNE_USER_CS);
	IT_ASSERT_EQ(sig_vector, DUNE_SIGNAL_VECTOR(SIGALRM));
}

static void test_signal_native(void)
{
	IT_ASSERT_EQ(dune_register_signal_handler(SIGUSR2, sig_cb), 0);
	IT_ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
	IT_ASSERT_EQ(sig_calls, 1);
	IT_ASSERT(!sig_active);
	IT_ASSERT_EQ(sig_cs, 0x33);	/* Linux's user code segment */
	IT_ASSERT_EQ(sig_vector, DUNE_SIGNAL_VECTOR(SIGUSR2));
	IT_ASSERT_EQ(dune_register_signal_handler(SIGUSR2, NULL), 0);
}

/* ---- FS and GS loaded at ring 3 ---- */

/* #UD after u_tls's system call: rbx its result, rsi read through GS. */
static void ud_tls(struct dune_tf *tf)
{
	dune_ret_from_user((tf->rbx == 1) | (tf->rsi == TLS_MAGIC) << 1 |
			   tls_step() << 2);
}

static void prof_tls(struct dune_tf *tf)
{
	if (tf->cs & 3)
		dune_ret_from_user(tls_step() ? 1 : 2);
}

/*
 * Ring 3 sets FS and GS to base 0 (and shows it did by reading through
 * them); handlers of a system call, an exception and a signal still see
 * the thread's TLS and errno, and so does the caller afterwards.
 */
static void test_tls_in_handlers(void)
{
	struct itimerspec its = { { 0, 10000000 }, { 0, 10000000 } };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = SIGPROF };
	struct dune_tf tf;
	timer_t timer;
	long e;
	int r;

	enter_user();
	dune_register_syscall_handler(sys_handler);
	IT_ASSERT_EQ(dune_register_intr_handler(6, ud_tls), 0);
	*(volatile uint64_t *)ustack = TLS_MAGIC;
	tls_expect = 10;
	tls_val = 10;
	errno = 10;
	user_tf(&tf, u_tls);
	tf.r12 = (uint64_t)ustack;
	r = dune_jump_to_user(&tf);
	e = errno;
	IT_ASSERT_EQ(r, 7);
	IT_ASSERT_EQ(tls_expect, 12);
	IT_ASSERT_EQ(tls_val, 12);
	IT_ASSERT_EQ(e, 12);

	/*
	 * A POSIX timer on the monotonic clock: not ITIMER_REAL, so the
	 * test's alarm stays; not CPU time (ITIMER_PROF): those expire in
	 * task work on the way back to user space, which a thread spinning
	 * in the guest never takes (a dune.ko limitation for now).
	 */
	IT_ASSERT_EQ(dune_register_signal_handler(SIGPROF, prof_tls), 0);
	IT_ASSERT_EQ(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
	IT_ASSERT_EQ(timer_settime(timer, 0, &its, NULL), 0);
	user_tf(&tf, u_tls_spin);
	r = dune_jump_to_user(&tf);
	e = errno;
	IT_ASSERT_EQ(timer_delete(timer), 0);
	IT_ASSERT_EQ(r, 1);
	IT_ASSERT_EQ(tls_val, 13);
	IT_ASSERT_EQ(e, 13);
	errno = 77;
	IT_ASSERT_EQ(errno, 77);
	IT_ASSERT(dune_active());
}

/* Emulated system calls and FS/GS loads at ring 3 cost no VM exit. */
static void test_no_exits_emulated(void)
{
	struct dune_stats s0, s1;
	struct dune_tf tf;
	unsigned long long d;
	int r, i;

	enter_user();
	dune_register_syscall_handler(sys_handler);
	sys_mode = SYS_EMULATE_GETPID;
	/* first touches of the pages involved (EPT) happen here */
	user_tf(&tf, u_emul);
	tf.r13 = 2;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 4242);
	/* written once, so that dune_get_stats does not fault them in */
	memset(&s0, 0, sizeof(s0));
	memset(&s1, 0, sizeof(s1));
	user_tf(&tf, u_emul);
	tf.r13 = 100;
	IT_ASSERT_EQ(dune_get_stats(&s0), 0);
	r = dune_jump_to_user(&tf);
	IT_ASSERT_EQ(dune_get_stats(&s1), 0);
	IT_ASSERT_EQ(r, 4242);
	for (i = 0; i < DUNE_NR_EXIT_REASONS; i++) {
		d = s1.by_reason[i] - s0.by_reason[i];
		if (i == 18)	/* VMCALL: the second dune_get_stats */
			d--;
		if (i == 1)	/* host interrupts: not caused by the run */
			continue;
		if (d)
			IT_FAIL("%llu VM exit(s) with basic reason %d during a ring-3 run of emulated system calls",
				d, i);
	}
}

static volatile int usr1_calls, kicker_stop;
static pthread_t kicked;

static void usr1_cb(struct dune_tf *tf)
{
	usr1_calls++;
}

static void *kicker(void *arg)
{
	while (!kicker_stop) {
		pthread_kill(kicked, SIGUSR1);
		usleep(20000);
	}
	return NULL;
}

/* A signal handled in the guest ends a blocked system call with EINTR. */
static void test_signal_interrupts_syscall(void)
{
	pthread_t th;
	int p[2], calls, e;
	ssize_t n;
	char c;

	enter();
	IT_ASSERT_EQ(dune_register_signal_handler(SIGUSR1, usr1_cb), 0);
	IT_ASSERT_EQ(pipe(p), 0);
	kicked = pthread_self();
	calls = usr1_calls;
	IT_ASSERT_EQ(pthread_create(&th, NULL, kicker, NULL), 0);
	n = read(p[0], &c, 1);	/* nothing is ever written */
	e = errno;
	kicker_stop = 1;
	IT_ASSERT_EQ(pthread_join(th, NULL), 0);
	IT_ASSERT_EQ(n, -1);
	IT_ASSERT_EQ(e, EINTR);
	IT_ASSERT(usr1_calls > calls);
	IT_ASSERT(dune_active());
}

/* ---- the example program ---- */

static void test_sandbox_example(void)
{
	IT_ASSERT_EQ(itest_sh("dune-sandbox > /tmp/sandbox.out 2>&1"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q '^sandbox: getpid() = 1000 (emulated)$' /tmp/sandbox.out"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q '^hello from ring 3$' /tmp/sandbox.out"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q '^sandbox: open(\"/etc/passwd\") denied: -1$' /tmp/sandbox.out"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q '^sandbox: ring 3 returned 7$' /tmp/sandbox.out"), 0);
}

static const struct itest tests[] = {
	{ "jump_and_return", test_jump_and_return },
	{ "syscall_filter", test_syscall_filter },
	{ "privileged", test_privileged },
	{ "supervisor_pages", test_supervisor_pages },
	{ "breakpoint_divide", test_breakpoint_divide },
	{ "pop_trap_frame", test_pop_trap_frame },
	{ "reports", test_reports },
	{ "signal_ring0", test_signal_ring0 },
	{ "signal_ring3", test_signal_ring3 },
	{ "signal_native", test_signal_native },
	{ "tls_in_handlers", test_tls_in_handlers },
	{ "no_exits_emulated", test_no_exits_emulated },
	{ "signal_interrupts_syscall", test_signal_interrupts_syscall },
	{ "sandbox_example", test_sandbox_example },
};

ITEST_MAIN(tests)
