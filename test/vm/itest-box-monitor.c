// SPDX-License-Identifier: MIT
/*
 * dune-box's monitor (box/monitor*.c, run.c, log.c, mem.c): ring-3 code
 * the sandbox owns, run through box_run, makes system calls that work and
 * are reflected (data checked afterwards from the monitor's side), gets
 * the errno of a denial, ends with its exit status or its signal; the
 * log line and deny message formats; ring 3's own FS base.
 * The attacks on the isolation are in itest-box-escape.
 */
#include <asm/prctl.h>
#include <fcntl.h>

#include "dune.h"

#include "box-guest.h"

#define MAGIC 0x5eed1234abcdull

struct udata {
	int wfd, rfd;			/* pipes the test made */
	long ret[16];
	uint64_t addr[4];
	char msg[16];
	char buf[64];
	char path[64];
	char denied[32];
	uint64_t tls[4];
	uint64_t sa[4], sa2[4], old[4];
} U_DATA_TYPE;

static struct udata u U_DATA = {
	.msg = "hello, ring 3\n",
	.path = "/tmp/itest-box-monitor-file",
	.denied = "/denied/secret",
};

/* ---- write, read, openat ---- */

U_CODE void u_io(void)
{
	long fd;

	u.ret[0] = u_sys(SYS_write, u.wfd, (long)u.msg, 14, 0, 0, 0);
	u.ret[1] = u_sys(SYS_read, u.rfd, (long)u.buf, 5, 0, 0, 0);
	fd = u_sys(SYS_openat, AT_FDCWD, (long)u.path, O_RDONLY, 0, 0, 0);
	u.ret[2] = fd;
	u.ret[3] = u_sys(SYS_read, fd, (long)u.buf + 8, 32, 0, 0, 0);
	u.ret[4] = u_sys(SYS_close, fd, 0, 0, 0, 0, 0);
	u.ret[5] = u_sys(SYS_set_tid_address, (long)&u.ret[6], 0, 0, 0, 0, 0);
	U_EXIT(7);
}

static void test_io(void)
{
	int in[2], out[2], fd;
	char got[32] = "";

	fd = open(u.path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(write(fd, "file data", 9), 9);
	close(fd);
	IT_ASSERT(!pipe(in) && !pipe(out));
	IT_ASSERT_EQ(write(in[1], "input", 5), 5);
	u.wfd = out[1];
	u.rfd = in[0];
	IT_ASSERT_EQ(box_test_run(u_io, NULL), 7 << 8);
	IT_ASSERT_EQ(u.ret[0], 14);
	IT_ASSERT_EQ(read(out[0], got, sizeof(got)), 14);
	IT_ASSERT(!memcmp(got, "hello, ring 3\n", 14));
	IT_ASSERT_EQ(u.ret[1], 5);
	IT_ASSERT(!memcmp(u.buf, "input", 5));
	IT_ASSERT(u.ret[2] >= 0);
	IT_ASSERT_EQ(u.ret[3], 9);
	IT_ASSERT(!memcmp(u.buf + 8, "file data", 9));
	IT_ASSERT_EQ(u.ret[4], 0);
	IT_ASSERT_EQ(u.ret[5], gettid());
	/* the fd was closed by the sandbox: it is this process's */
	IT_ASSERT_EQ(fcntl(u.ret[2], F_GETFD), -1);
	unlink(u.path);
}

/* ---- mmap, mprotect, munmap ---- */

U_CODE void u_mmap(void)
{
	volatile char *p;
	long r;
	int i;

	r = u_sys(SYS_mmap, 0, 3 * PGSZ, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u.addr[0] = r;
	p = (volatile char *)r;
	for (i = 0; i < 3 * (int)PGSZ; i += PGSZ)
		p[i] = 'a' + i / PGSZ;
	u.ret[0] = u_sys(SYS_mprotect, r, PGSZ, PROT_READ, 0, 0, 0);
	u.ret[1] = p[0];			/* still readable */
	u.ret[2] = u_sys(SYS_munmap, r + PGSZ, PGSZ, 0, 0, 0, 0);
	/* a hint at the hole: never given back (it stays the sandbox's) */
	u.addr[1] = u_sys(SYS_mmap, r + PGSZ, PGSZ, PROT_READ,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* MAP_FIXED into the hole: owned, so allowed */
	u.addr[2] = u_sys(SYS_mmap, r + PGSZ, PGSZ, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	p[PGSZ] = 'x';
	/* mprotect of a range with nothing mapped: ENOMEM as natively */
	u.ret[3] = u_sys(SYS_mprotect, u.addr[1] + 64 * PGSZ, PGSZ, PROT_READ,
			 0, 0, 0);
	u.ret[4] = u_sys(SYS_madvise, r + 2 * PGSZ, PGSZ, MADV_DONTNEED, 0, 0,
			 0);
	u.ret[5] = p[2 * PGSZ];		/* zero-filled again */
	U_EXIT(0);
}

static void test_mmap(void)
{
	uint64_t r;

	IT_ASSERT_EQ(box_test_run(u_mmap, NULL), 0);
	r = u.addr[0];
	IT_ASSERT(r && !(r & (PGSZ - 1)));
	IT_ASSERT_EQ(u.ret[0], 0);
	IT_ASSERT_EQ(u.ret[1], 'a');
	IT_ASSERT_EQ(u.ret[2], 0);
	IT_ASSERT(u.addr[1] != r + PGSZ);
	IT_ASSERT_EQ(u.addr[2], r + PGSZ);
	IT_ASSERT_EQ(*(char *)(r + PGSZ), 'x');
	IT_ASSERT_EQ(u.ret[3], -ENOMEM);
	IT_ASSERT_EQ(u.ret[4], 0);
	IT_ASSERT_EQ(u.ret[5], 0);
	/* reflected in the owned set */
	IT_ASSERT_EQ(box_mem_prot_at(box_test_mem, r), PROT_READ);
	IT_ASSERT_EQ(box_mem_prot_at(box_test_mem, r + PGSZ),
		     PROT_READ | PROT_WRITE);
	IT_ASSERT_EQ(box_mem_prot_at(box_test_mem, u.addr[1]), PROT_READ);
}

/* After munmap the page is gone for ring 3: SIGSEGV. */
U_CODE void u_after_munmap(void)
{
	long r = u_sys(SYS_mmap, 0, PGSZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	*(volatile char *)r = 1;
	u_sys(SYS_munmap, r, PGSZ, 0, 0, 0, 0);
	*(volatile char *)r = 2;
	U_EXIT(0);
}

/* After mprotect(PROT_READ) a write is SIGSEGV. */
U_CODE void u_write_ro(void)
{
	long r = u_sys(SYS_mmap, 0, PGSZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	*(volatile char *)r = 1;
	u_sys(SYS_mprotect, r, PGSZ, PROT_READ, 0, 0, 0);
	*(volatile char *)r = 2;
	U_EXIT(0);
}

static void test_mem_faults(void)
{
	EXPECT_SANDBOX_SIGNAL(u_after_munmap, SIGSEGV);
	EXPECT_SANDBOX_SIGNAL(u_write_ro, SIGSEGV);
}

/* ---- brk ---- */

U_CODE void u_brk(void)
{
	long b0 = u_sys(SYS_brk, 0, 0, 0, 0, 0, 0);
	volatile char *p = (volatile char *)b0;

	u.addr[0] = b0;
	u.ret[0] = u_sys(SYS_brk, b0 + 10000, 0, 0, 0, 0, 0);
	p[0] = 1;
	p[9999] = 2;
	u.ret[1] = u_sys(SYS_brk, b0 + 100, 0, 0, 0, 0, 0);
	u.ret[2] = u_sys(SYS_brk, b0 - PGSZ, 0, 0, 0, 0, 0);	/* refused */
	p[99] = 3;
	u.ret[3] = p[0];
	U_EXIT(0);
}

static void test_brk(void)
{
	uint64_t b;

	IT_ASSERT_EQ(box_test_run(u_brk, NULL), 0);
	b = u.addr[0];
	IT_ASSERT_EQ(b, box_test_brk);
	IT_ASSERT_EQ(u.ret[0], b + 10000);
	IT_ASSERT_EQ(u.ret[1], b + 100);
	IT_ASSERT_EQ(u.ret[2], b + 100);
	IT_ASSERT_EQ(u.ret[3], 1);
	/* the shrunk tail is a reservation, the first page heap */
	IT_ASSERT_EQ(box_mem_prot_at(box_test_mem, b), PROT_READ | PROT_WRITE);
	IT_ASSERT_EQ(box_mem_prot_at(box_test_mem, b + PGSZ), BOX_MEM_RESERVED);
}

/* ---- arch_prctl: ring 3's own FS base ---- */

/*
 * FS base 0 at the start, as after execve: %fs:X is address X (here an
 * owned one); on the monitor's base it would be the monitor's TLS.
 */
U_CODE void u_tls_zero(void)
{
	uint64_t v;

	__asm__ volatile("mov %%fs:(%1), %0" : "=r"(v) : "r"(&u.tls[1]));
	U_EXIT(v == MAGIC ? 1 : 2);
}

static __thread int monitor_tls = 1234;

static void test_tls(void)
{
	u.tls[1] = MAGIC;
	IT_ASSERT_EQ(box_test_run(u_tls_zero, NULL), 1 << 8);
	/* again after a run that set a base: each run starts at 0 */
	dune_set_user_fs((uint64_t)u.tls);
	IT_ASSERT_EQ(box_test_run(u_tls_zero, NULL), 1 << 8);
	/* the monitor's TLS is intact */
	IT_ASSERT_EQ(monitor_tls, 1234);
}

U_CODE void u_tls_set(void)
{
	uint64_t v;

	u.ret[0] = u_sys(SYS_arch_prctl, ARCH_SET_FS, (long)u.tls, 0, 0, 0, 0);
	__asm__ volatile("mov %%fs:8, %0" : "=r"(v));
	u.addr[0] = v;
	u_sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
	__asm__ volatile("mov %%fs:16, %0" : "=r"(v));
	u.addr[1] = v;
	u.ret[1] = u_sys(SYS_arch_prctl, ARCH_GET_FS, (long)&u.addr[2], 0, 0,
			 0, 0);
	u.ret[2] = u_sys(SYS_arch_prctl, ARCH_SET_FS, -4096l, 0, 0, 0, 0);
	U_EXIT(0);
}

static void test_arch_prctl(void)
{
	u.tls[1] = MAGIC;
	u.tls[2] = MAGIC + 1;
	IT_ASSERT_EQ(box_test_run(u_tls_set, NULL), 0);
	IT_ASSERT_EQ(u.ret[0], 0);
	IT_ASSERT_EQ(u.addr[0], MAGIC);
	IT_ASSERT_EQ(u.addr[1], MAGIC + 1);
	IT_ASSERT_EQ(u.ret[1], 0);
	IT_ASSERT_EQ(u.addr[2], (uint64_t)u.tls);
	IT_ASSERT_EQ(u.ret[2], -EPERM);
	IT_ASSERT_EQ(monitor_tls, 1234);
	errno = 77;
	IT_ASSERT_EQ(errno, 77);
}

/* ---- rt_sigaction: SIG_IGN and SIG_DFL reach Linux, handlers are kept ---- */

U_CODE void u_sig(void)
{
	u.sa[0] = (uint64_t)SIG_IGN;
	u.ret[0] = u_sys(SYS_rt_sigaction, SIGPIPE, (long)u.sa, 0, 8, 0, 0);
	u.ret[1] = u_sys(SYS_rt_sigaction, SIGPIPE, 0, (long)u.old, 8, 0, 0);
	/* the read end is closed: EPIPE, not death by SIGPIPE */
	u.ret[2] = u_sys(SYS_write, u.wfd, (long)u.msg, 1, 0, 0, 0);
	u.sa2[0] = (uint64_t)u_sig;
	u.ret[3] = u_sys(SYS_rt_sigaction, SIGUSR1, (long)u.sa2, 0, 8, 0, 0);
	/* new and old in one buffer: old is what was there */
	u.sa[0] = (uint64_t)SIG_DFL;
	u.ret[4] = u_sys(SYS_rt_sigaction, SIGPIPE, (long)u.sa, (long)u.sa, 8,
			 0, 0);
	u.ret[5] = u_sys(SYS_rt_sigaction, SIGPIPE, 0, (long)u.old + 8, 8, 0, 0);
	u.ret[6] = u_sys(SYS_rt_sigaction, SIGPIPE, 0, 0, 4, 0, 0);
	U_EXIT(0);
}

static void test_sigaction(void)
{
	int p[2];

	IT_ASSERT(!pipe(p));
	close(p[0]);
	u.wfd = p[1];
	IT_ASSERT_EQ(box_test_run(u_sig, NULL), 0);
	IT_ASSERT_EQ(u.ret[0], 0);
	IT_ASSERT_EQ(u.ret[1], 0);
	IT_ASSERT_EQ(u.old[0], (uint64_t)SIG_IGN);
	IT_ASSERT_EQ(u.ret[2], -EPIPE);
	IT_ASSERT_EQ(u.ret[3], 0);	/* a handler: signal.c */
	IT_ASSERT_EQ(u.ret[4], 0);
	IT_ASSERT_EQ(u.sa[0], (uint64_t)SIG_IGN);
	IT_ASSERT_EQ(u.ret[5], 0);
	IT_ASSERT_EQ(u.old[1], (uint64_t)SIG_DFL);
	IT_ASSERT_EQ(u.ret[6], -EINVAL);
}

/* ---- denials, the log, the status ---- */

/* One call site, called twice. */
U_CODE long u_open_denied(void)
{
	return u_sys(SYS_openat, AT_FDCWD, (long)u.denied, O_RDONLY, 0, 0, 0);
}

U_CODE void u_denied(void)
{
	u.ret[0] = u_open_denied();
	u.ret[1] = u_open_denied();
	u.ret[2] = u_sys(SYS_getppid, 0, 0, 0, 0, 0, 0);
	u.ret[3] = u_sys(SYS_acct, 0, 0, 0, 0, 0, 0);	/* unknown */
	u.ret[4] = u_sys(SYS_ptrace, 0, 0, 0, 0, 0, 0);	/* refused */
	u.ret[5] = u_sys(SYS_write, 1, (long)u.msg, 0, 0, 0, 0);
	U_EXIT(3);
}

static char text[8192];
static const char want_msgs[] =
	"dune-box: denied openat(\"/denied/secret\", O_RDONLY): path not readable (policy line 12)\n"
	"dune-box: denied getppid(): getppid is hidden (built-in rule)\n"
	"dune-box: denied acct(): system call unknown to the monitor\n"
	"dune-box: denied ptrace(): would break the sandbox's isolation\n";

/* On failure, show what was written. */
#define IT_ASSERT_TEXT(c)                                                \
	do {                                                             \
		if (!(c))                                                \
			IT_FAIL("assertion failed: %s; text:\n%s", #c, text); \
	} while (0)

static void read_all(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	IT_ASSERT(n >= 0);
	buf[n] = 0;
}

static void test_denied_and_log(void)
{
	char logp[] = "/tmp/itest-box-log-XXXXXX";
	char msgp[] = "/tmp/itest-box-msg-XXXXXX";
	struct box_monitor_opts o = { .stats = true };

	o.log_fd = mkstemp(logp);
	o.msg_fd = mkstemp(msgp);
	IT_ASSERT(o.log_fd >= 0 && o.msg_fd >= 0);
	IT_ASSERT_EQ(box_test_run(u_denied, &o), 3 << 8);
	IT_ASSERT_EQ(u.ret[0], -EACCES);
	IT_ASSERT_EQ(u.ret[1], -EACCES);
	IT_ASSERT_EQ(u.ret[2], -EPERM);
	IT_ASSERT_EQ(u.ret[3], -ENOSYS);
	IT_ASSERT_EQ(u.ret[4], -ENOSYS);
	IT_ASSERT_EQ(u.ret[5], 0);

	read_all(o.msg_fd, text, sizeof(text));
	/* once per call site: the second denial at the same rip is silent */
	IT_ASSERT_TEXT(!strncmp(text, want_msgs, strlen(want_msgs)));
	IT_ASSERT_TEXT(strstr(text, "dune-box: openat"));
	IT_ASSERT_TEXT(strstr(text, "allowed 0  denied 2  killed 0"));
	IT_ASSERT_TEXT(strstr(text, "dune-box: VM exits "));

	read_all(o.log_fd, text, sizeof(text));
	IT_ASSERT_TEXT(strstr(text,
		"openat(AT_FDCWD, \"/denied/secret\", O_RDONLY) = -1 EACCES [denied: path not readable (policy line 12)]\n"
		"openat(AT_FDCWD, \"/denied/secret\", O_RDONLY) = -1 EACCES [denied: path not readable (policy line 12)]\n"));
	IT_ASSERT_TEXT(strstr(text, "acct() = -1 ENOSYS [refused: system call unknown to the monitor]\n"));
	IT_ASSERT_TEXT(strstr(text, "write(1, "));
	IT_ASSERT_TEXT(strstr(text, ", 0) = 0 [allowed]\n"));
	IT_ASSERT_TEXT(strstr(text, "exit_group(3) = ? [allowed]\n"));
	unlink(logp);
	unlink(msgp);
}

/* A KILL decision ends the sandbox with SIGSYS. */
U_CODE void u_killed(void)
{
	u_sys(SYS_sync, 0, 0, 0, 0, 0, 0);
	U_EXIT(0);
}

/* The exit status: exit_group's low byte. */
U_CODE void u_exit_300(void)
{
	U_EXIT(300);
}

U_CODE void u_ud2(void)
{
	__asm__ volatile("ud2");
	U_EXIT(0);
}

static void test_status(void)
{
	int st;

	IT_ASSERT_EQ(box_test_run(u_exit_300, NULL), (300 & 0xff) << 8);
	IT_ASSERT_EQ(box_test_run(u_killed, NULL), SIGSYS);
	/* box_exit_like makes it the process's own end */
	st = box_test_status(u_exit_300);
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == (300 & 0xff));
	EXPECT_SANDBOX_SIGNAL(u_ud2, SIGILL);
	EXPECT_SANDBOX_SIGNAL(u_killed, SIGSYS);
}

static const struct itest tests[] = {
	{ "io", test_io },
	{ "mmap", test_mmap },
	{ "mem_faults", test_mem_faults },
	{ "brk", test_brk },
	{ "tls", test_tls },
	{ "arch_prctl", test_arch_prctl },
	{ "sigaction", test_sigaction },
	{ "denied_and_log", test_denied_and_log },
	{ "status", test_status },
};

ITEST_MAIN(tests)
