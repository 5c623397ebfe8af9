// SPDX-License-Identifier: MIT
/*
 * The original libdune's non-VM API, used the way its programs use it
 * (test/test.c, apps/sandbox, apps/wedge of project-dune/dune): included
 * by the original's paths, a ring-3 system call handler reading ARG0..
 * ARG5, dune_signal, dune_printf and dune_die, dune_get_ticks, procmap
 * iteration, rdmsrl/wrmsrl, T_* vectors, GD_* selectors, fpu.h.
 * Built with -I. (Makefile) so "libdune/..." resolves as in the original.
 */
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <asm/prctl.h>

#include "libdune/dune.h"
#include "libdune/cpu-x86.h"
#include "libdune/fpu.h"

#include "test/vm/itest.h"

/* A distinct value per register: what the trap frame must hold. */
#define V(n) (0x1111111111111111ull * (n))

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
}

/* ---- ring 3: code in its own pages, made user-accessible ---- */

__asm__(".pushsection compat_user_text, \"ax\"\n"
	".balign 4096\n"
	"cu_start:\n"
	/* six arguments, r10 the fourth, as the kernel ABI has them */
	"cu_args: mov $1001, %edi\n"
	"	mov $1002, %esi\n"
	"	mov $1003, %edx\n"
	"	mov $1004, %r10d\n"
	"	mov $1005, %r8d\n"
	"	mov $1006, %r9d\n"
	"	mov $" "0x7ff0" ", %eax\n"
	"	syscall\n"
	/* what came back: rax, r10, rcx (== rip here), r11 */
	"cu_args_ret: mov %rax, %rdi\n"
	"	mov %r10, %rsi\n"
	"	mov %rcx, %rdx\n"
	"	mov %r11, %r8\n"
	"	mov $" "0x7fff" ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	/* mmap (ARG3 = the flags), passed through; then the end */
	"cu_mmap: mov $0, %edi\n"
	"	mov $4096, %esi\n"
	"	mov $3, %edx\n"		/* PROT_READ | PROT_WRITE */
	"	mov $0x22, %r10d\n"	/* MAP_PRIVATE | MAP_ANONYMOUS */
	"	mov $-1, %r8\n"
	"	xor %r9d, %r9d\n"
	"	mov $9, %eax\n"		/* SYS_mmap */
	"	syscall\n"
	"	mov %rax, %rdi\n"
	"	mov $" "0x7fff" ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	".balign 4096\n"
	"cu_end:\n"
	".popsection\n");

extern char cu_start[], cu_end[], cu_args[], cu_args_ret[], cu_mmap[];

#define NR_ARGS 0x7ff0
#define NR_END 0x7fff

static uint64_t got_args[6], got_cs, got_ss, got_ret[4];

static void syscall_handler(struct dune_tf *tf)
{
	switch (tf->rax) {
	case NR_ARGS:
		got_args[0] = ARG0(tf);
		got_args[1] = ARG1(tf);
		got_args[2] = ARG2(tf);
		got_args[3] = ARG3(tf);
		got_args[4] = ARG4(tf);
		got_args[5] = ARG5(tf);
		got_cs = tf->cs;
		got_ss = tf->ss;
		tf->rax = 77;
		return;
	case NR_END:
		got_ret[0] = ARG0(tf);
		got_ret[1] = ARG1(tf);
		got_ret[2] = ARG2(tf);
		got_ret[3] = ARG4(tf);
		dune_ret_from_user(0);
	default:
		/* as apps/sandbox does for what it allows */
		dune_passthrough_syscall(tf);
	}
}

static char *ustack;

static void user_setup(void)
{
	enter();
	ustack = mmap(NULL, 16384, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	IT_ASSERT(ustack != MAP_FAILED);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, cu_start, cu_end - cu_start,
				      PERM_UCODE), 0);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, ustack, 16384, PERM_USTACK), 0);
	dune_register_syscall_handler(syscall_handler);
}

static int run_user(void *rip)
{
	struct dune_tf tf;

	memset(&tf, 0, sizeof(tf));
	tf.rip = (uintptr_t)rip;
	tf.rsp = (uintptr_t)(ustack + 16384 - 64);
	tf.rflags = 0x202;
	tf.cs = GD_UT | 3;
	tf.ss = GD_UD | 3;
	return dune_jump_to_user(&tf);
}

static void test_syscall_args(void)
{
	int i;

	user_setup();
	IT_ASSERT_EQ(run_user(cu_args), 0);
	for (i = 0; i < 6; i++)
		IT_ASSERT_EQ(got_args[i], 1001 + i);
	IT_ASSERT_EQ(got_cs, GD_UT | 3);
	IT_ASSERT_EQ(got_ss, GD_UD | 3);
	/* ring 3 got the result, its r10, and rcx/r11 as after SYSRET */
	IT_ASSERT_EQ(got_ret[0], 77);
	IT_ASSERT_EQ(got_ret[1], 1004);
	IT_ASSERT_EQ(got_ret[2], (uintptr_t)cu_args_ret);
	IT_ASSERT(got_ret[3] & 0x200);	/* IF, in r11 = rflags */
}

/* apps/sandbox forwards mmap: ARG3 is the flags (r10 at ring 3). */
static void test_passthrough_arg3(void)
{
	user_setup();
	IT_ASSERT_EQ(run_user(cu_mmap), 0);
	/* a page: wrong flags would have been -EINVAL */
	IT_ASSERT(got_ret[0] < (1ull << 47) && !(got_ret[0] & 4095));
	*(volatile uint64_t *)got_ret[0] = 7;
}

/* ---- the trap frame, register by register ---- */

static struct dune_tf seen;
static int seen_calls;

static void bp_record(struct dune_tf *tf)
{
	seen = *tf;
	seen_calls++;
	/* what the handler writes comes back in the registers */
	tf->rbx = V(0xb);
	tf->r12 = V(0xc);
	tf->rdi = V(0xd);
}

static void test_tf_layout(void)
{
	uint64_t out_rbx, out_r12, out_rdi, cs;

	/* where the original's programs and assembly found the fields */
	IT_ASSERT_EQ(offsetof(struct dune_tf, rdi), 0);
	IT_ASSERT_EQ(offsetof(struct dune_tf, rcx), 24);
	IT_ASSERT_EQ(offsetof(struct dune_tf, r11), 56);
	IT_ASSERT_EQ(offsetof(struct dune_tf, rbx), 64);
	IT_ASSERT_EQ(offsetof(struct dune_tf, r15), 104);
	IT_ASSERT_EQ(offsetof(struct dune_tf, rax), 112);
	IT_ASSERT_EQ(offsetof(struct dune_tf, err), 120);
	IT_ASSERT_EQ(offsetof(struct dune_tf, rip), 128);
	IT_ASSERT_EQ(offsetof(struct dune_tf, cs), 136);
	IT_ASSERT_EQ(offsetof(struct dune_tf, rflags), 144);
	IT_ASSERT_EQ(offsetof(struct dune_tf, rsp), 152);
	IT_ASSERT_EQ(offsetof(struct dune_tf, ss), 160);
	IT_ASSERT_EQ(sizeof(struct dune_tf), 168);

	enter();
	IT_ASSERT_EQ(dune_register_intr_handler(T_BRKPT, bp_record), 0);
	__asm__ volatile(
		"push %%rbp\n"
		"movabs %[vrbp], %%rbp\n"
		"movabs %[vrax], %%rax\n"
		"movabs %[vrbx], %%rbx\n"
		"movabs %[vrcx], %%rcx\n"
		"movabs %[vrdx], %%rdx\n"
		"movabs %[vrsi], %%rsi\n"
		"movabs %[vrdi], %%rdi\n"
		"movabs %[vr8], %%r8\n"
		"movabs %[vr9], %%r9\n"
		"movabs %[vr10], %%r10\n"
		"movabs %[vr11], %%r11\n"
		"movabs %[vr12], %%r12\n"
		"movabs %[vr13], %%r13\n"
		"movabs %[vr14], %%r14\n"
		"movabs %[vr15], %%r15\n"
		"int3\n"
		"pop %%rbp\n"
		"mov %%rbx, %[obx]\n"
		"mov %%r12, %[o12]\n"
		"mov %%rdi, %[odi]\n"
		: [obx] "=m"(out_rbx), [o12] "=m"(out_r12), [odi] "=m"(out_rdi)
		: [vrax] "i"(V(1)), [vrbx] "i"(V(2)), [vrcx] "i"(V(3)),
		  [vrdx] "i"(V(4)), [vrsi] "i"(V(5)), [vrdi] "i"(V(6)),
		  [vrbp] "i"(V(7)), [vr8] "i"(V(8)), [vr9] "i"(V(9)),
		  [vr10] "i"(V(10)), [vr11] "i"(V(11)), [vr12] "i"(V(12)),
		  [vr13] "i"(V(13)), [vr14] "i"(V(14)), [vr15] "i"(V(15))
		: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
		  "r11", "r12", "r13", "r14", "r15", "memory", "cc");
	IT_ASSERT_EQ(seen_calls, 1);
	IT_ASSERT_EQ(seen.rax, V(1));
	IT_ASSERT_EQ(seen.rbx, V(2));
	IT_ASSERT_EQ(seen.rcx, V(3));
	IT_ASSERT_EQ(seen.rdx, V(4));
	IT_ASSERT_EQ(seen.rsi, V(5));
	IT_ASSERT_EQ(seen.rdi, V(6));
	IT_ASSERT_EQ(seen.rbp, V(7));
	IT_ASSERT_EQ(seen.r8, V(8));
	IT_ASSERT_EQ(seen.r9, V(9));
	IT_ASSERT_EQ(seen.r10, V(10));
	IT_ASSERT_EQ(seen.r11, V(11));
	IT_ASSERT_EQ(seen.r12, V(12));
	IT_ASSERT_EQ(seen.r13, V(13));
	IT_ASSERT_EQ(seen.r14, V(14));
	IT_ASSERT_EQ(seen.r15, V(15));
	IT_ASSERT_EQ(seen.err, 0);
	IT_ASSERT_EQ(seen.vector, T_BRKPT);
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	IT_ASSERT_EQ(cs, GD_KT);
	IT_ASSERT_EQ(seen.cs, GD_KT);
	IT_ASSERT_EQ(seen.ss, GD_KD);
	IT_ASSERT(seen.rflags & 0x200);
	IT_ASSERT_EQ(out_rbx, V(0xb));
	IT_ASSERT_EQ(out_r12, V(0xc));
	IT_ASSERT_EQ(out_rdi, V(0xd));
}

/* ---- T_* vectors: skip the faulting instruction, as test/test.c ---- */

static int traps_seen[32];

static void skip2(struct dune_tf *tf)
{
	traps_seen[tf->vector]++;
	tf->rip += 2;
}

static void skip3(struct dune_tf *tf)
{
	traps_seen[tf->vector]++;
	tf->rip += 3;
}

static void test_trap_vectors(void)
{
	enter();
	IT_ASSERT_EQ(dune_register_intr_handler(T_ILLOP, skip2), 0);
	IT_ASSERT_EQ(dune_register_intr_handler(T_DIVIDE, skip3), 0);
	IT_ASSERT_EQ(dune_register_intr_handler(T_GPFLT, skip2), 0);
	IT_ASSERT_EQ(dune_register_intr_handler(IDT_ENTRIES, skip2), -EINVAL);
	__asm__ volatile("ud2");
	/* div %rcx (48 f7 f1) by zero */
	__asm__ volatile("xor %%ecx, %%ecx\n .byte 0x48, 0xf7, 0xf1"
			 : : : "rax", "rdx", "rcx", "cc");
	/* a non-canonical load: #GP(0), two bytes (8b 00) */
	__asm__ volatile("movabs $0x8000000000000000, %%rax\n"
			 "mov (%%rax), %%eax" : : : "rax", "memory");
	IT_ASSERT_EQ(traps_seen[T_ILLOP], 1);
	IT_ASSERT_EQ(traps_seen[T_DIVIDE], 1);
	IT_ASSERT_EQ(traps_seen[T_GPFLT], 1);
}

/* ---- dune_signal and DUNE_SIGNAL_INTR_BASE, as test/test.c ---- */

static volatile int sig_got, sig_count;

static void on_signal(int sig)
{
	sig_got = sig;
	sig_count++;
}

static volatile uint64_t intr_vec;
static volatile int intr_count;

static void on_intr(struct dune_tf *tf)
{
	intr_vec = tf->vector;
	intr_count++;
}

static void test_dune_signal(void)
{
	enter();
	IT_ASSERT(dune_signal(SIGUSR1, on_signal) == NULL);
	IT_ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
	IT_ASSERT_EQ(sig_count, 1);
	IT_ASSERT_EQ(sig_got, SIGUSR1);
	/* the original's vector for the signal reaches the same handler */
	__asm__ volatile("int %0" : : "i"(DUNE_SIGNAL_INTR_BASE + SIGUSR1));
	IT_ASSERT_EQ(sig_count, 2);
	IT_ASSERT_EQ(sig_got, SIGUSR1);
	IT_ASSERT(dune_signal(SIGKILL, on_signal) == SIG_ERR);
	/* SIG_IGN: the signal is ignored, the process lives on */
	IT_ASSERT(dune_signal(SIGUSR1, SIG_IGN) == NULL);
	IT_ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
	IT_ASSERT_EQ(sig_count, 2);

	/* a handler on DUNE_SIGNAL_INTR_BASE + s is the handler of s */
	IT_ASSERT_EQ(dune_register_intr_handler(DUNE_SIGNAL_INTR_BASE +
						SIGUSR2, on_intr), 0);
	IT_ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
	IT_ASSERT_EQ(intr_count, 1);
	IT_ASSERT_EQ(intr_vec, DUNE_SIGNAL_VECTOR(SIGUSR2));
}

/* ---- dune_printf, assert, dune_die ---- */

static void printf_then_die(void)
{
	enter();
	printf("buffered, never flushed");
	IT_ASSERT_EQ(dune_printf("dune_printf %d %s\n", 42, "ok"), 18);
	dune_die();
}

static void assert_fails(void)
{
	int three = 3;

	enter();
	assert(three == 4);
	_exit(0);
}

static void capture_stdout(void (*fn)(void), int *status, char *out,
			   size_t len)
{
	int p[2];
	ssize_t n, got = 0;
	pid_t pid;

	IT_ASSERT_EQ(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (!pid) {
		dup2(p[1], 1);
		close(p[0]);
		fn();
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	IT_ASSERT_EQ(waitpid(pid, status, 0), pid);
}

static void test_printf_die(void)
{
	char out[512];
	int st;

	capture_stdout(printf_then_die, &st, out, sizeof(out));
	IT_ASSERT(WIFEXITED(st));
	IT_ASSERT_EQ(WEXITSTATUS(st), 1);
	IT_ASSERT(!strcmp(out, "dune_printf 42 ok\n"));

	capture_stdout(assert_fails, &st, out, sizeof(out));
	IT_ASSERT(WIFEXITED(st));
	IT_ASSERT_EQ(WEXITSTATUS(st), 1);
	IT_ASSERT(strstr(out, "ASSERT(three == 4) at "));
	IT_ASSERT(strstr(out, "in function assert_fails\n"));
}

/* ---- dune_mmap, dune_get_ticks ---- */

static void test_mmap_ticks(void)
{
	unsigned long t0, t1, t2;
	char *p;

	enter();
	p = dune_mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT((uintptr_t)p < (1ull << 47) && !((uintptr_t)p & 4095));
	p[8191] = 1;
	/* errors come back as -errno, not MAP_FAILED */
	IT_ASSERT_EQ((long)dune_mmap(NULL, 0, PROT_READ,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		     -EINVAL);

	t0 = dune_get_ticks();
	t1 = dune_get_ticks();
	getppid();	/* a VM exit in between */
	t2 = dune_get_ticks();
	IT_ASSERT(t0 > 0);
	IT_ASSERT(t1 >= t0);
	IT_ASSERT(t2 > t1);
}

/* ---- procmap ---- */

static uintptr_t pm_stack_var, pm_code;
static char pm_exe[4096];
static int pm_stack_found, pm_exe_found, pm_entries, pm_vdso, pm_anon;

static void pm_cb(const struct dune_procmap_entry *e)
{
	pm_entries++;
	if (e->type == PROCMAP_TYPE_STACK && pm_stack_var >= e->begin &&
	    pm_stack_var < e->end && e->r && e->w && e->p)
		pm_stack_found++;
	if (e->type == PROCMAP_TYPE_FILE && pm_code >= e->begin &&
	    pm_code < e->end && e->x && !e->w && !strcmp(e->path, pm_exe))
		pm_exe_found++;
	if (e->type == PROCMAP_TYPE_VDSO && !strcmp(e->path, "[vdso]"))
		pm_vdso++;
	if (e->type == PROCMAP_TYPE_ANONYMOUS && !e->path[0])
		pm_anon++;
}

static void test_procmap(void)
{
	volatile int local = 1;
	ssize_t n;

	enter();
	n = readlink("/proc/self/exe", pm_exe, sizeof(pm_exe) - 1);
	IT_ASSERT(n > 0);
	pm_exe[n] = '\0';
	pm_stack_var = (uintptr_t)&local;
	pm_code = (uintptr_t)test_procmap;
	dune_procmap_iterate(pm_cb);
	IT_ASSERT(pm_entries > 5);
	IT_ASSERT_EQ(pm_stack_found, 1);
	IT_ASSERT_EQ(pm_exe_found, 1);
	IT_ASSERT_EQ(pm_vdso, 1);
	IT_ASSERT(pm_anon > 0);
}

/* ---- cpu-x86.h: MSRs the guest may use ---- */

static void test_msrs(void)
{
	uint64_t fs, gs, kgs, gs_linux;

	enter();
	rdmsrl(MSR_FS_BASE, fs);
	/* glibc's thread pointer is the FS base */
	IT_ASSERT_EQ(fs, (uint64_t)pthread_self());
	IT_ASSERT_EQ(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs_linux), 0);
	rdmsrl(MSR_GS_BASE, gs);
	IT_ASSERT_EQ(gs, gs_linux);
	wrmsrl(MSR_KERNEL_GS_BASE, 0x123456789000ull);
	rdmsrl(MSR_KERNEL_GS_BASE, kgs);
	IT_ASSERT_EQ(kgs, 0x123456789000ull);
	/* the GS base sandboxes use for per-CPU data, as apps/sandbox */
	wrmsrl(MSR_GS_BASE, 0x7000);
	rdmsrl(MSR_GS_BASE, gs);
	IT_ASSERT_EQ(gs, 0x7000);
	wrmsrl(MSR_GS_BASE, gs_linux);
}

/* ---- fpu.h ---- */

static void test_fpu(void)
{
	/* room for every component XCR0 may enable: XSAVE writes them */
	static uint8_t buf[16384] __attribute__((aligned(64)));
	struct fpu_area *fp = (struct fpu_area *)buf;
	uint32_t xmm0[4] = { 0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00 };
	uint32_t back[4];

	unsigned int a, b, c, d;

	enter();
	dune_fpu_init(fp);
	IT_ASSERT_EQ(fp->xsave.fxsave.cwd, 0x37f);
	IT_ASSERT_EQ(fp->xsave.fxsave.mxcsr, 0x1f80);
	/* XSAVE is #UD without CR4.OSXSAVE, natively as well */
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(1), "c"(0));
	if (!(c & (1u << 27))) {
		fprintf(stderr, "    no XSAVE here: save/load not run\n");
		return;
	}
	__asm__ volatile("movdqu %0, %%xmm0" : : "m"(xmm0) : "xmm0");
	dune_fpu_save_safe(fp);
	IT_ASSERT(!memcmp(&fp->xsave.fxsave.xmm_regs[0], xmm0, 16));
	IT_ASSERT_EQ(fp->xsave.fxsave.mxcsr & 0xffbf, 0x1f80);
	__asm__ volatile("pxor %%xmm0, %%xmm0" : : : "xmm0");
	dune_fpu_load(fp);
	__asm__ volatile("movdqu %%xmm0, %0" : "=m"(back));
	IT_ASSERT(!memcmp(back, xmm0, 16));
}

/* ---- __invpcid (Wedge flushes its sthreads' PCIDs with it) ---- */

static void test_invpcid(void)
{
	struct dune_caps caps;
	volatile int probe = 5;

	enter();
	IT_ASSERT_EQ(dune_get_caps(&caps), 0);
	if (!(caps.flags & DUNE_CAP_INVPCID)) {
		fprintf(stderr, "    no INVPCID here: not run\n");
		return;
	}
	/* type 2: every PCID, globals included; type 3: all but globals */
	__invpcid(2, 0);
	__invpcid(3, 0);
	IT_ASSERT_EQ(probe, 5);
	if (dune_has_pcid()) {
		/* type 0: one address in PCID 1 (legal only with PCIDs on) */
		__invpcid(0, (unsigned long)&probe);
		IT_ASSERT_EQ(probe, 5);
	}
}

static const struct itest tests[] = {
	{ "tf_layout", test_tf_layout },
	{ "syscall_args", test_syscall_args },
	{ "passthrough_arg3", test_passthrough_arg3 },
	{ "trap_vectors", test_trap_vectors },
	{ "dune_signal", test_dune_signal },
	{ "printf_die", test_printf_die },
	{ "mmap_ticks", test_mmap_ticks },
	{ "procmap", test_procmap },
	{ "msrs", test_msrs },
	{ "fpu", test_fpu },
	{ "invpcid", test_invpcid },
};

ITEST_MAIN(tests)
