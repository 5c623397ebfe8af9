// SPDX-License-Identifier: MIT
/*
 * dune-box's isolation (issue 9, "Isolation"), attacked from ring 3:
 * the monitor's memory read, written and executed directly; monitor
 * addresses handed to Linux through every kind of pointer argument
 * (buffers, iovecs, msghdr, paths, fixed-size structs, futexes); memory
 * calls aimed at the monitor; privileged instructions.  Each attempt is
 * contained (the native signal or errno), and the monitor is intact: a
 * checksum of a monitor buffer is unchanged and the test, the monitor's
 * own process, goes on using its memory and TLS.
 */
#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "box-guest.h"
#include "dune.h"

/* Monitor memory: never the sandbox's. */
static char secret[2 * PGSZ] __attribute__((aligned(4096)));
static char secret_path[] = "/etc/hostname";

struct udata {
	uint64_t target;	/* a monitor address */
	uint64_t func;		/* a monitor function */
	uint64_t root;		/* the sandbox's own page-table root */
	int rfd, wfd, sock;
	long ret[40];
	char buf[64];
	struct iovec iov[2];
	struct msghdr msg;
} U_DATA_TYPE;

static struct udata u U_DATA;

static uint64_t checksum(void)
{
	uint64_t s = 0;
	unsigned int i;

	for (i = 0; i < sizeof(secret); i++)
		s = s * 31 + (unsigned char)secret[i];
	return s;
}

static uint64_t sum0;

static void setup(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = i * 7 + 1;
	sum0 = checksum();
	u.target = (uint64_t)secret;
	/*
	 * a page-table page of the monitor's (pgroot is made here);
	 * dune_init(false), as box_run_prepare: pgroot supervisor-only
	 */
	IT_ASSERT_EQ(dune_init(false), 0);
	IT_ASSERT_EQ(dune_enter(), 0);
	u.root = (uint64_t)pgroot;
}

static void monitor_func(void)
{
	secret[0] ^= 1;
}

#define EXPECT_INTACT()                                                 \
	do {                                                            \
		IT_ASSERT_EQ(checksum(), sum0);                         \
		errno = 42;	/* the monitor's TLS works */          \
		IT_ASSERT_EQ(errno, 42);                                \
	} while (0)

/* ---- ring 3 touches monitor memory directly ---- */

U_CODE void u_read_mon(void)
{
	U_EXIT(*(volatile char *)u.target);
}

U_CODE void u_write_mon(void)
{
	*(volatile char *)u.target = 0;
	U_EXIT(0);
}

U_CODE void u_exec_mon(void)
{
	((void (*)(void))u.func)();
	U_EXIT(0);
}

/* The root's own page: ring 3 cannot rewrite its page tables. */
U_CODE void u_write_root(void)
{
	*(volatile uint64_t *)u.root = 0;
	U_EXIT(0);
}

static void test_touch_monitor(void)
{
	setup();
	u.func = (uint64_t)monitor_func;
	IT_ASSERT_EQ(box_test_run(u_read_mon, NULL), SIGSEGV);
	IT_ASSERT_EQ(box_test_run(u_write_mon, NULL), SIGSEGV);
	IT_ASSERT_EQ(box_test_run(u_exec_mon, NULL), SIGSEGV);
	IT_ASSERT_EQ(box_test_run(u_write_root, NULL), SIGSEGV);
	EXPECT_INTACT();
}

/* ---- monitor addresses through system call arguments ---- */

U_CODE void u_pointers(void)
{
	uint64_t t = u.target;
	int k = 0;

	u.ret[k++] = u_sys(SYS_read, u.rfd, t, 64, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_write, u.wfd, t, 64, 0, 0, 0);
	/* straddling the end of sandbox memory */
	u.ret[k++] = u_sys(SYS_read, u.rfd, (long)&u + PGSZ - 8, 64, 0, 0, 0);
	u.iov[0].iov_base = u.buf;
	u.iov[0].iov_len = 8;
	u.iov[1].iov_base = (void *)t;
	u.iov[1].iov_len = 64;
	u.ret[k++] = u_sys(SYS_readv, u.rfd, (long)u.iov, 2, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_writev, u.wfd, (long)u.iov, 2, 0, 0, 0);
	/* the iovec array itself in monitor memory */
	u.ret[k++] = u_sys(SYS_readv, u.rfd, t, 1, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_preadv, u.rfd, (long)u.iov, 2, 0, 0, 0);
	/* recvmsg: the buffer, then the header itself */
	u.msg.msg_iov = u.iov;
	u.msg.msg_iovlen = 2;
	u.ret[k++] = u_sys(SYS_recvmsg, u.sock, (long)&u.msg, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_recvmsg, u.sock, t, 0, 0, 0, 0);
	u.msg.msg_iovlen = 1;
	u.msg.msg_control = (void *)t;
	u.msg.msg_controllen = 64;
	u.ret[k++] = u_sys(SYS_recvmsg, u.sock, (long)&u.msg, 0, 0, 0, 0);
	u.msg.msg_control = 0;
	u.msg.msg_controllen = 0;
	u.msg.msg_name = (void *)t;
	u.msg.msg_namelen = 16;
	u.ret[k++] = u_sys(SYS_sendmsg, u.sock, (long)&u.msg, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_recvfrom, u.sock, t, 64, MSG_DONTWAIT, 0, 0);
	/* a path in monitor memory */
	u.ret[k++] = u_sys(SYS_openat, AT_FDCWD, (long)secret_path, O_RDONLY,
			   0, 0, 0);
	/* fixed-size results */
	u.ret[k++] = u_sys(SYS_fstat, 0, t, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_clock_gettime, 0, t, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_uname, t, 0, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_pipe2, t, 0, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_arch_prctl, ARCH_GET_FS, t, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_rt_sigaction, SIGUSR1, 0, t, 8, 0, 0);
	u.ret[k++] = u_sys(SYS_poll, t, 1, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_futex, t, FUTEX_WAKE, 1, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_futex, (long)u.buf, FUTEX_CMP_REQUEUE, 1, 1, t,
			   0);
	u.ret[k++] = u_sys(SYS_set_tid_address, t, 0, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_getrandom, t, 64, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_getsockname, u.sock, t, (long)&u.ret[39], 0, 0,
			   0);
	u.ret[38] = k;
	U_EXIT(0);
}

static void test_pointers(void)
{
	int p[2], sv[2], i, n;
	char got[64];

	setup();
	IT_ASSERT(!pipe(p));
	IT_ASSERT(!socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	IT_ASSERT_EQ(write(p[1], secret + 100, 64), 64);	/* waiting data */
	IT_ASSERT_EQ(send(sv[1], "dgram", 5, 0), 5);
	u.rfd = p[0];
	u.wfd = p[1];
	u.sock = sv[0];
	u.ret[39] = 16;
	IT_ASSERT_EQ(box_test_run(u_pointers, NULL), 0);
	n = u.ret[38];
	IT_ASSERT_EQ(n, 25);
	for (i = 0; i < n; i++)
		if (u.ret[i] != -EFAULT)
			IT_FAIL("call %d of u_pointers returned %ld, not -EFAULT",
				i, u.ret[i]);
	EXPECT_INTACT();
	/* nothing was consumed or written: the data is still waiting */
	IT_ASSERT_EQ(read(p[0], got, sizeof(got)), 64);
	IT_ASSERT(!memcmp(got, secret + 100, 64));
	IT_ASSERT_EQ(recv(sv[1], got, sizeof(got), MSG_DONTWAIT), -1);
	IT_ASSERT_EQ(recv(sv[0], got, sizeof(got), MSG_DONTWAIT), 5);
}

/* ---- memory calls aimed at the monitor ---- */

U_CODE void u_memcalls(void)
{
	uint64_t t = u.target;
	long own;
	int k = 0;

	u.ret[k++] = u_sys(SYS_mmap, t, PGSZ, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	u.ret[k++] = u_sys(SYS_mmap, u.root, PGSZ, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	/* a range that starts in free space and runs into the monitor */
	u.ret[k++] = u_sys(SYS_mmap, t - 64 * PGSZ, 66 * PGSZ, PROT_READ,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	u.ret[k++] = u_sys(SYS_mprotect, t, PGSZ, PROT_READ | PROT_WRITE |
			   PROT_EXEC, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_mprotect, (long)&u, 2 * PGSZ, PROT_READ, 0, 0,
			   0);
	u.ret[k++] = u_sys(SYS_munmap, t, PGSZ, 0, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_munmap, PGSZ, (1ull << 47) - 2 * PGSZ, 0, 0, 0,
			   0);
	u.ret[k++] = u_sys(SYS_mremap, t, PGSZ, 2 * PGSZ, MREMAP_MAYMOVE, 0,
			   0);
	u.ret[k++] = u_sys(SYS_madvise, t, PGSZ, MADV_DONTNEED, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_madvise, t, PGSZ, MADV_REMOVE, 0, 0, 0);
	u.ret[k++] = u_sys(SYS_msync, t, PGSZ, MS_SYNC, 0, 0, 0);
	/* moving the sandbox's own page onto the monitor */
	own = u_sys(SYS_mmap, 0, PGSZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u.ret[k++] = u_sys(SYS_mremap, own, PGSZ, PGSZ,
			   MREMAP_MAYMOVE | MREMAP_FIXED, t, 0);
	u.ret[k++] = u_sys(SYS_shmat, 0, t, 0, 0, 0, 0);
	u.ret[38] = k;
	U_EXIT(0);
}

static void test_memcalls(void)
{
	static const long want[] = {
		-EPERM, -EPERM, -EPERM, -ENOMEM, -ENOMEM, -EINVAL, -EINVAL,
		-EFAULT, -ENOMEM, -ENOMEM, -ENOMEM, -EINVAL, -EINVAL,
	};
	unsigned int i;

	setup();
	IT_ASSERT_EQ(box_test_run(u_memcalls, NULL), 0);
	IT_ASSERT_EQ(u.ret[38], sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (u.ret[i] != want[i])
			IT_FAIL("call %u of u_memcalls returned %ld, not %ld",
				i, u.ret[i], want[i]);
	EXPECT_INTACT();
	/* still mapped read/write for the monitor */
	secret[5] ^= 1;
	secret[5] ^= 1;
	IT_ASSERT_EQ(checksum(), sum0);
}

/* ---- privileged instructions ---- */

U_CODE void u_vmcall(void) { __asm__ volatile("vmcall"); U_EXIT(0); }
U_CODE void u_cli(void) { __asm__ volatile("cli"); U_EXIT(0); }
U_CODE void u_sti(void) { __asm__ volatile("sti"); U_EXIT(0); }
U_CODE void u_hlt(void) { __asm__ volatile("hlt"); U_EXIT(0); }
U_CODE void u_wrmsr(void)
{
	/* IA32_LSTAR: where ring 3's system calls would go */
	__asm__ volatile("wrmsr" : : "c"(0xc0000082), "a"(0), "d"(0));
	U_EXIT(0);
}
U_CODE void u_rdmsr(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000082));
	U_EXIT(lo);
}
U_CODE void u_cr3(void)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(0ul));
	U_EXIT(0);
}
U_CODE void u_lidt(void)
{
	uint64_t d[2] = { 0, 0 };

	__asm__ volatile("lidt %0" : : "m"(d));
	U_EXIT(0);
}
U_CODE void u_in(void)
{
	uint8_t v;

	__asm__ volatile("inb $0x80, %0" : "=a"(v));
	U_EXIT(v);
}
U_CODE void u_out(void)
{
	__asm__ volatile("outb %0, $0x80" : : "a"((uint8_t)0));
	U_EXIT(0);
}
/* a DPL-0 gate (libdune's ring-3 system call vector is one) */
U_CODE void u_intn(void) { __asm__ volatile("int $0x21"); U_EXIT(0); }
U_CODE void u_int3(void) { __asm__ volatile("int3"); U_EXIT(0); }

static void test_privileged(void)
{
	static const struct {
		void (*fn)(void);
		const char *name;
		int sig;
	} t[] = {
		{ u_vmcall, "vmcall", SIGILL }, { u_cli, "cli", SIGSEGV },
		{ u_sti, "sti", SIGSEGV }, { u_hlt, "hlt", SIGSEGV },
		{ u_wrmsr, "wrmsr", SIGSEGV }, { u_rdmsr, "rdmsr", SIGSEGV },
		{ u_cr3, "mov to cr3", SIGSEGV }, { u_lidt, "lidt", SIGSEGV },
		{ u_in, "in", SIGSEGV }, { u_out, "out", SIGSEGV },
		{ u_intn, "int $0x21", SIGSEGV }, { u_int3, "int3", SIGTRAP },
	};
	unsigned int i;
	int st;

	setup();
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		st = box_test_run(t[i].fn, NULL);
		if (st != t[i].sig)
			IT_FAIL("%s at ring 3: status %d, expected signal %d",
				t[i].name, st, t[i].sig);
	}
	EXPECT_INTACT();
	/* and as the process's own end, with the native signal */
	EXPECT_SANDBOX_SIGNAL(u_vmcall, SIGILL);
	EXPECT_SANDBOX_SIGNAL(u_wrmsr, SIGSEGV);
}

/* ---- /proc/self/mem, directly and through a symlink ---- */

static char link_path[] = "/tmp/itest-box-escape-mem";

U_CODE void u_proc_mem(void)
{
	u.ret[0] = u_sys(SYS_openat, AT_FDCWD, (long)u.buf, O_RDWR, 0, 0, 0);
	u.ret[1] = u_sys(SYS_open, (long)u.buf + 32, O_RDONLY, 0, 0, 0, 0);
	u.ret[2] = u_sys(SYS_pwrite64, u.ret[0], (long)u.buf, 8, u.target, 0,
			 0);
	U_EXIT(0);
}

static void test_proc_mem(void)
{
	setup();
	unlink(link_path);
	IT_ASSERT(!symlink("/proc/self/mem", link_path));
	strcpy(u.buf, "/proc/self/mem");
	strcpy(u.buf + 32, link_path);
	IT_ASSERT_EQ(box_test_run(u_proc_mem, NULL), 0);
	unlink(link_path);
	IT_ASSERT_EQ(u.ret[0], -EACCES);
	IT_ASSERT_EQ(u.ret[1], -EACCES);
	IT_ASSERT_EQ(u.ret[2], -EBADF);
	EXPECT_INTACT();
}

static const struct itest tests[] = {
	{ "proc_mem", test_proc_mem },
	{ "touch_monitor", test_touch_monitor },
	{ "pointers", test_pointers },
	{ "memcalls", test_memcalls },
	{ "privileged", test_privileged },
};

ITEST_MAIN(tests)
