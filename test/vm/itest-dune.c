// SPDX-License-Identifier: MIT
/*
 * Integration tests for libdune: whole programs in Dune mode.  Every test
 * runs in its own child (itest.h) and enters Dune mode itself; tests that
 * expect a death or a special exit status run the Dune part in one more
 * child.  Faults, traps, handlers and signals: itest-dune-traps.c.
 */
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

#include "itest.h"
#include "dune.h"
#include "dune-counters.h"

extern char **environ;

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
	IT_ASSERT(dune_active());
}

static void test_hello(void)
{
	struct dune_stats s1, s2;
	pid_t ppid = getppid();

	/* natively: not in Dune mode, no vCPU */
	IT_ASSERT(!dune_active());
	IT_ASSERT_EQ(dune_get_stats(&s1), -1);
	IT_ASSERT_EQ(errno, ESRCH);

	enter();
	printf("hello from VMX non-root ring 0\n");
	fflush(stdout);
	IT_ASSERT_EQ(dune_get_stats(&s1), 0);
	IT_ASSERT_EQ(getppid(), ppid);
	IT_ASSERT_EQ(dune_get_stats(&s2), 0);
	/* getppid and the second DUNE_GET_STATS were VMCALL exits */
	IT_ASSERT(s2.by_reason[18] >= s1.by_reason[18] + 2);
	IT_ASSERT(s2.user_exits >= s1.user_exits + 2);
	IT_ASSERT(s2.entries > s1.entries);
	/* a second dune_enter is a no-op */
	IT_ASSERT_EQ(dune_enter(), 0);
	IT_ASSERT_EQ(dune_init(true), 0);
}

/* What the system calls say; collected natively, then in Dune mode. */
struct sysview {
	pid_t pid, ppid;
	uid_t uid, euid;
	gid_t gid;
	struct utsname uts;
	char cwd[256], exe[256];
	struct rlimit nofile;
	long pagesize;
};

static void sysview(struct sysview *v)
{
	ssize_t n;

	memset(v, 0, sizeof(*v));
	v->pid = getpid();
	v->ppid = getppid();
	v->uid = getuid();
	v->euid = geteuid();
	v->gid = getgid();
	IT_ASSERT_EQ(uname(&v->uts), 0);
	IT_ASSERT(getcwd(v->cwd, sizeof(v->cwd)));
	n = readlink("/proc/self/exe", v->exe, sizeof(v->exe) - 1);
	IT_ASSERT(n > 0);
	IT_ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &v->nofile), 0);
	v->pagesize = sysconf(_SC_PAGESIZE);
}

static int64_t ns(clockid_t c)
{
	struct timespec ts;

	IT_ASSERT_EQ(clock_gettime(c, &ts), 0);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void file_roundtrip(const char *path, struct stat *st)
{
	char buf[64];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(write(fd, "dune says hi", 12), 12);
	IT_ASSERT_EQ(lseek(fd, 5, SEEK_SET), 5);
	IT_ASSERT_EQ(read(fd, buf, sizeof(buf)), 7);
	IT_ASSERT(!memcmp(buf, "says hi", 7));
	IT_ASSERT_EQ(fstat(fd, st), 0);
	IT_ASSERT_EQ(st->st_size, 12);
	IT_ASSERT_EQ(close(fd), 0);
}

static void test_syscalls(void)
{
	struct sysview nat, dun;
	struct stat st_nat, st_dun, st;
	char path[64], buf[64];
	int64_t t0, t1, mono_nat;
	struct timespec req = { 0, 20 * 1000 * 1000 };
	struct timeval tv;
	struct sysinfo si;
	int p[2], fd, fd2;
	uint64_t rnd[2] = { 0, 0 };
	char *m;

	sysview(&nat);
	mono_nat = ns(CLOCK_MONOTONIC);
	snprintf(path, sizeof(path), "/tmp/itest-dune-%d", getpid());
	file_roundtrip(path, &st_nat);

	enter();
	sysview(&dun);
	IT_ASSERT_EQ(dun.pid, nat.pid);
	IT_ASSERT_EQ(dun.ppid, nat.ppid);
	IT_ASSERT_EQ(dun.uid, nat.uid);
	IT_ASSERT_EQ(dun.euid, nat.euid);
	IT_ASSERT_EQ(dun.gid, nat.gid);
	IT_ASSERT(!memcmp(&dun.uts, &nat.uts, sizeof(nat.uts)));
	IT_ASSERT(!strcmp(dun.cwd, nat.cwd));
	IT_ASSERT(!strcmp(dun.exe, nat.exe));
	IT_ASSERT_EQ(dun.nofile.rlim_cur, nat.nofile.rlim_cur);
	IT_ASSERT_EQ(dun.pagesize, nat.pagesize);
	IT_ASSERT_EQ(syscall(SYS_getpid), nat.pid);
	IT_ASSERT_EQ(syscall(SYS_gettid), nat.pid);

	/* files */
	file_roundtrip(path, &st_dun);
	IT_ASSERT_EQ(st_dun.st_ino, st_nat.st_ino);
	IT_ASSERT_EQ(stat(path, &st), 0);
	IT_ASSERT_EQ(st.st_ino, st_nat.st_ino);
	IT_ASSERT_EQ(unlink(path), 0);
	IT_ASSERT_EQ(stat(path, &st), -1);
	IT_ASSERT_EQ(errno, ENOENT);
	errno = 0;
	IT_ASSERT_EQ(close(-1), -1);
	IT_ASSERT_EQ(errno, EBADF);

	/* time: the vDSO reads vvar pages through the EPT */
	IT_ASSERT(ns(CLOCK_MONOTONIC) >= mono_nat);
	IT_ASSERT(ns(CLOCK_REALTIME) > 1600000000ll * 1000000000ll);
	t0 = ns(CLOCK_MONOTONIC);
	IT_ASSERT_EQ(nanosleep(&req, NULL), 0);
	t1 = ns(CLOCK_MONOTONIC);
	IT_ASSERT(t1 - t0 >= 20 * 1000 * 1000);
	IT_ASSERT_EQ(gettimeofday(&tv, NULL), 0);
	IT_ASSERT(tv.tv_sec > 1600000000);
	IT_ASSERT(time(NULL) > 1600000000);
	IT_ASSERT_EQ(sysinfo(&si), 0);
	IT_ASSERT(si.uptime > 0);

	/* pipes, dup, fcntl */
	IT_ASSERT_EQ(pipe(p), 0);
	IT_ASSERT_EQ(write(p[1], "ping", 4), 4);
	IT_ASSERT_EQ(read(p[0], buf, 4), 4);
	IT_ASSERT(!memcmp(buf, "ping", 4));
	fd = dup(p[1]);
	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
	IT_ASSERT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	fd2 = dup2(p[0], 100);
	IT_ASSERT_EQ(fd2, 100);
	IT_ASSERT_EQ(write(fd, "x", 1), 1);
	IT_ASSERT_EQ(read(100, buf, 1), 1);
	close(fd);
	close(fd2);
	close(p[0]);
	close(p[1]);

	/* memory system calls */
	m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(m != MAP_FAILED);
	m[0] = 1;
	m[8191] = 2;
	IT_ASSERT_EQ(mprotect(m, 4096, PROT_READ), 0);
	IT_ASSERT_EQ(m[0], 1);
	IT_ASSERT_EQ(munmap(m + 4096, 4096), 0);
	IT_ASSERT_EQ(munmap(m, 3 * 4096), 0);

	/* odds and ends */
	IT_ASSERT_EQ(getrandom(rnd, sizeof(rnd), 0), (ssize_t)sizeof(rnd));
	IT_ASSERT(rnd[0] || rnd[1]);
	IT_ASSERT_EQ(sched_yield(), 0);
	IT_ASSERT_EQ(kill(getpid(), 0), 0);
	IT_ASSERT_EQ(chdir("/tmp"), 0);
	IT_ASSERT(getcwd(buf, sizeof(buf)));
	IT_ASSERT(!strcmp(buf, "/tmp"));
	IT_ASSERT_EQ(chdir(nat.cwd), 0);
	/* libdune answers these itself */
	errno = 0;
	IT_ASSERT_EQ(syscall(SYS_clone3, NULL, 0), -1);
	IT_ASSERT_EQ(errno, ENOSYS);
}

/*
 * itest_syscall_check: a guest `syscall` must preserve everything but
 * rax, rcx and r11, including the vector registers and the red zone (the
 * entry stub and the host loop never touch either).  Returns the number
 * of mismatches.
 */
int itest_syscall_check(void);
__asm__(
	"	.text\n"
	"	.globl itest_syscall_check\n"
	"itest_syscall_check:\n"
	"	movl	$16, %ecx\n"
	"1:	leaq	0x5a5a0000(%rcx), %rax\n"
	"	movq	%rax, -136(%rsp,%rcx,8)\n"
	"	loop	1b\n"
	"	movabsq	$0x1111111111111111, %rax\n"
	"	movq	%rax, %xmm8\n"
	"	movabsq	$0x2222222222222222, %rax\n"
	"	movq	%rax, %xmm15\n"
	"	movabsq	$0x3333333333333333, %rax\n"
	"	movq	%rax, %xmm0\n"
	"	movl	$0x1234, %edx\n"
	"	movl	$0x5678, %esi\n"
	"	movl	$0x9abc, %edi\n"
	"	movl	$0xdef0, %r8d\n"
	"	movl	$0x1357, %r9d\n"
	"	movl	$0x2468, %r10d\n"
	"	movl	$39, %eax\n"		/* getpid */
	"	syscall\n"
	"	xorl	%r11d, %r11d\n"
	"	cmpq	$0x1234, %rdx\n"
	"	setne	%al\n"
	"	movzbl	%al, %eax\n"
	"	addl	%eax, %r11d\n"
	"	cmpq	$0x5678, %rsi\n"
	"	setne	%al\n"
	"	addl	%eax, %r11d\n"
	"	cmpq	$0x9abc, %rdi\n"
	"	setne	%al\n"
	"	addl	%eax, %r11d\n"
	"	cmpq	$0xdef0, %r8\n"
	"	setne	%al\n"
	"	addl	%eax, %r11d\n"
	"	cmpq	$0x1357, %r9\n"
	"	setne	%al\n"
	"	addl	%eax, %r11d\n"
	"	cmpq	$0x2468, %r10\n"
	"	setne	%al\n"
	"	addl	%eax, %r11d\n"
	"	movq	%xmm8, %rax\n"
	"	movabsq	$0x1111111111111111, %rcx\n"
	"	cmpq	%rcx, %rax\n"
	"	setne	%al\n"
	"	movzbl	%al, %eax\n"
	"	addl	%eax, %r11d\n"
	"	movq	%xmm15, %rax\n"
	"	movabsq	$0x2222222222222222, %rcx\n"
	"	cmpq	%rcx, %rax\n"
	"	setne	%al\n"
	"	movzbl	%al, %eax\n"
	"	addl	%eax, %r11d\n"
	"	movq	%xmm0, %rax\n"
	"	movabsq	$0x3333333333333333, %rcx\n"
	"	cmpq	%rcx, %rax\n"
	"	setne	%al\n"
	"	movzbl	%al, %eax\n"
	"	addl	%eax, %r11d\n"
	"	movl	$16, %ecx\n"
	"2:	leaq	0x5a5a0000(%rcx), %rax\n"
	"	cmpq	%rax, -136(%rsp,%rcx,8)\n"
	"	setne	%al\n"
	"	movzbl	%al, %eax\n"
	"	addl	%eax, %r11d\n"
	"	loop	2b\n"
	"	movl	%r11d, %eax\n"
	"	ret\n");

static void test_syscall_preserves_state(void)
{
	int i;

	IT_ASSERT_EQ(itest_syscall_check(), 0);	/* the test itself is right */
	enter();
	for (i = 0; i < 100; i++)
		IT_ASSERT_EQ(itest_syscall_check(), 0);
}

static void test_malloc_256m(void)
{
	size_t size = 256ul << 20, i;
	uint64_t sum = 0, want = 0;
	unsigned char *p;

	enter();
	p = malloc(size);
	IT_ASSERT(p);
	for (i = 0; i < size; i += 4096) {
		p[i] = (unsigned char)(i >> 12);
		want += (unsigned char)(i >> 12);
	}
	for (i = 0; i < size; i += 4096)
		sum += p[i];
	IT_ASSERT_EQ(sum, want);
	free(p);
	/* and the brk heap: many small blocks */
	for (i = 0; i < 20000; i++) {
		char *q = malloc(100 + i % 300);

		IT_ASSERT(q);
		q[0] = 1;
		if (i % 3)
			free(q);
	}
}

static void test_mmap_churn(void)
{
	unsigned int seed = 12345, i, j;

	enter();
	for (i = 0; i < 300; i++) {
		size_t pages = rand_r(&seed) % 64 + 1, len = pages * 4096;
		uint32_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		IT_ASSERT(m != MAP_FAILED);
		for (j = 0; j < len / 4; j += 1021)
			m[j] = i * 7919 + j;
		IT_ASSERT_EQ(mprotect(m, len, PROT_READ), 0);
		for (j = 0; j < len / 4; j += 1021)
			IT_ASSERT_EQ(m[j], i * 7919 + j);
		IT_ASSERT_EQ(mprotect(m, len, PROT_READ | PROT_WRITE), 0);
		m[0] ^= 0xffffffffu;
		IT_ASSERT_EQ(m[0], ~(i * 7919));
		if (i % 4 == 0) {
			uint32_t *g = mremap(m, len, 2 * len, MREMAP_MAYMOVE);

			IT_ASSERT(g != MAP_FAILED);
			IT_ASSERT_EQ(g[1021 % (len / 4)], i * 7919 + 1021 % (len / 4));
			g[len / 4] = 77;	/* the new half works */
			m = g;
			len *= 2;
		}
		IT_ASSERT_EQ(munmap(m, len), 0);
	}
}

static void *thread_main(void *arg)
{
	struct dune_stats st;
	long id = (long)arg;
	char buf[8];
	int p[2];
	void *mem;

	if (!dune_active())
		return (void *)1;
	if (dune_get_stats(&st) || st.entries == 0)
		return (void *)2;
	if (pipe(p) || write(p[1], "t", 1) != 1 || read(p[0], buf, 1) != 1)
		return (void *)3;
	close(p[0]);
	close(p[1]);
	mem = malloc(1 << 20);
	if (!mem)
		return (void *)4;
	memset(mem, (int)id, 1 << 20);
	free(mem);
	return (void *)(100 + id);
}

static void *nested_thread(void *arg)
{
	pthread_t t;
	void *r;

	if (pthread_create(&t, NULL, thread_main, arg) || pthread_join(t, &r))
		return (void *)5;
	return r;
}

static void test_threads(void)
{
	enum { N = 4 };
	pthread_t t[N];
	void *r;
	long i;

	enter();
	for (i = 0; i < N; i++)
		IT_ASSERT_EQ(pthread_create(&t[i], NULL,
					    i == N - 1 ? nested_thread :
							 thread_main,
					    (void *)i), 0);
	for (i = 0; i < N; i++) {
		IT_ASSERT_EQ(pthread_join(t[i], &r), 0);
		IT_ASSERT_EQ((long)r, 100 + i);
	}
	/* thread churn: each one frees its vCPU and stacks at exit */
	for (i = 0; i < 50; i++) {
		IT_ASSERT_EQ(pthread_create(&t[0], NULL, thread_main,
					    (void *)i), 0);
		IT_ASSERT_EQ(pthread_join(t[0], &r), 0);
		IT_ASSERT_EQ((long)r, 100 + i);
	}
	IT_ASSERT(dune_active());
}

static int wait_status(pid_t pid)
{
	int st;

	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	return st;
}

static void *fork_child_thread(void *arg)
{
	return (void *)(long)dune_active();
}

static void test_fork_exec(void)
{
	char *sh_argv[] = { "sh", "-c", "exit 9", NULL };
	pthread_t t;
	char buf[16];
	FILE *f;
	pid_t pid;
	int st;

	enter();
	/* fork: the child stays in Dune mode */
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		void *r = NULL;

		if (!dune_active() || getppid() <= 1)
			_exit(3);
		if (pthread_create(&t, NULL, fork_child_thread, NULL) ||
		    pthread_join(t, &r) || r != (void *)1)
			_exit(4);
		_exit(5);
	}
	st = wait_status(pid);
	IT_ASSERT(WIFEXITED(st));
	IT_ASSERT_EQ(WEXITSTATUS(st), 5);

	/* fork + exec */
	pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	st = wait_status(pid);
	IT_ASSERT(WIFEXITED(st));
	IT_ASSERT_EQ(WEXITSTATUS(st), 0);

	/* vfork (done as fork) */
	pid = vfork();
	if (pid == 0)
		_exit(dune_active() ? 11 : 12);
	st = wait_status(pid);
	IT_ASSERT_EQ(WEXITSTATUS(st), 11);

	/* system and posix_spawn: clone(CLONE_VM | CLONE_VFORK) */
	st = system("exit 7");
	IT_ASSERT(WIFEXITED(st));
	IT_ASSERT_EQ(WEXITSTATUS(st), 7);
	IT_ASSERT_EQ(posix_spawn(&pid, "/bin/sh", NULL, NULL, sh_argv, environ),
		     0);
	st = wait_status(pid);
	IT_ASSERT_EQ(WEXITSTATUS(st), 9);
	f = popen("echo dune", "r");
	IT_ASSERT(f);
	IT_ASSERT(fgets(buf, sizeof(buf), f));
	IT_ASSERT(!strcmp(buf, "dune\n"));
	IT_ASSERT_EQ(pclose(f), 0);
	/* many spawns: the vfork children's stacks are given back */
	for (st = 0; st < 30; st++)
		IT_ASSERT_EQ(system("true"), 0);
	IT_ASSERT(dune_active());
}

static void test_seccomp(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	IT_ASSERT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	IT_ASSERT_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	/*
	 * glibc's getppid() cannot fail, so it does not set errno: it returns
	 * the raw -EPERM, which happens to be -1.  syscall() sets errno.
	 */
	IT_ASSERT_EQ(getppid(), -EPERM);
	errno = 0;
	IT_ASSERT_EQ(syscall(SYS_getppid), -1);
	IT_ASSERT_EQ(errno, EPERM);

	enter();
	/* the filter sees the forwarded system call like any other */
	IT_ASSERT_EQ(getppid(), -EPERM);
	errno = 0;
	IT_ASSERT_EQ(syscall(SYS_getppid), -1);
	IT_ASSERT_EQ(errno, EPERM);
	IT_ASSERT(getpid() > 0);
}

/* kB of MemAvailable (else MemFree) in /proc/meminfo. */
static long mem_available_kb(void)
{
	char line[256];
	long kb = -1, v;
	FILE *f;
	int fd;

	/* Page cache and slab noise: drop what can be dropped (root). */
	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			(void)0;
		close(fd);
	}
	f = fopen("/proc/meminfo", "r");
	IT_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemAvailable: %ld kB", &v) == 1) {
			kb = v;
			break;
		}
		if (sscanf(line, "MemFree: %ld kB", &v) == 1)
			kb = v;
	}
	fclose(f);
	IT_ASSERT(kb > 0);
	return kb;
}

static void enter_and_leave(void)
{
	if (dune_init_and_enter() || !dune_active())
		_exit(1);
	if (getpid() <= 0)
		_exit(2);
	_exit(0);
}

static void test_many_enter_exit(void)
{
	long before, after, counters[DUNE_NR_COUNTERS];
	int i, st, cycles;

	/* warm up: module and slab caches reach their steady state */
	for (i = 0; i < 20; i++) {
		st = itest_in_child(enter_and_leave);
		IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/*
	 * 1000 in every configuration (about 5 minutes of the 6.1 2-CPU
	 * boot); DUNE_ITEST_CYCLES=N for a quicker run by hand.
	 */
	cycles = getenv("DUNE_ITEST_CYCLES") ? atoi(getenv("DUNE_ITEST_CYCLES")) : 1000;
	IT_ASSERT(cycles > 0);
	dune_counters_read(counters);
	before = mem_available_kb();
	for (i = 0; i < cycles; i++) {
		st = itest_in_child(enter_and_leave);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			IT_FAIL("child %d: wait status 0x%x", i, st);
	}
	after = mem_available_kb();
	printf("    MemAvailable %ld kB before, %ld kB after %d Dune processes\n",
	       before, after, cycles);
	/* a leak of even 16 KiB per process would show as 16 MB */
	IT_ASSERT(before - after < 12 * 1024);
	/* and not one object of dune.ko's is left over */
	dune_counters_expect(counters);
}

static int kill_pipe[2];

static void spin_in_dune(void)
{
	close(kill_pipe[0]);
	enter();
	IT_ASSERT_EQ(write(kill_pipe[1], "r", 1), 1);
	for (;;)
		__asm__ volatile("" ::: "memory");
}

static void block_in_dune(void)
{
	char c;

	close(kill_pipe[0]);
	enter();
	IT_ASSERT_EQ(write(kill_pipe[1], "r", 1), 1);
	/* blocks forever in a forwarded read on our own pipe */
	IT_ASSERT(pipe(kill_pipe) == 0);
	for (;;)
		if (read(kill_pipe[0], &c, 1) < 0 && errno != EINTR)
			_exit(9);
}

static void kill_9(void (*fn)(void))
{
	pid_t pid;
	char c;
	int st;

	IT_ASSERT_EQ(pipe(kill_pipe), 0);
	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(8);
	}
	close(kill_pipe[1]);
	IT_ASSERT_EQ(read(kill_pipe[0], &c, 1), 1);	/* in Dune mode */
	usleep(300 * 1000);
	IT_ASSERT_EQ(kill(pid, SIGKILL), 0);
	st = wait_status(pid);
	IT_ASSERT(WIFSIGNALED(st));
	IT_ASSERT_EQ(WTERMSIG(st), SIGKILL);
	close(kill_pipe[0]);
}

static void test_kill_9(void)
{
	kill_9(spin_in_dune);
	kill_9(block_in_dune);
}

static void test_fds_kept_from_program(void)
{
	pthread_t t;
	void *r;
	int fd;

	enter();
	/* what a careful child does before exec: close everything */
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	IT_ASSERT(getpid() > 0);
	IT_ASSERT_EQ(close_range(3, ~0u, 0), 0);
	IT_ASSERT(getpid() > 0);
	/* dup2 onto whatever number libdune holds, then use it */
	for (fd = 3; fd < 64; fd++)
		IT_ASSERT_EQ(dup2(1, fd), fd);
	for (fd = 3; fd < 64; fd++)
		close(fd);
	/* threads and forks still get their vCPUs */
	IT_ASSERT_EQ(pthread_create(&t, NULL, thread_main, (void *)7), 0);
	IT_ASSERT_EQ(pthread_join(t, &r), 0);
	IT_ASSERT_EQ((long)r, 107);
	IT_ASSERT_EQ(system("exit 3") >> 8, 3);
	IT_ASSERT(dune_active());
}

/*
 * strace sees the system calls of a Dune process: dune-bench's getppid
 * case makes 3 + 1 getppid calls natively, then as many in Dune mode.
 */
static void test_strace(void)
{
	char line[256];
	int n = 0;
	FILE *f;

	IT_ASSERT_EQ(itest_sh("strace -f -qq -e trace=getppid -o /tmp/strace.log dune-bench 3 getppid >/dev/null"), 0);
	f = fopen("/tmp/strace.log", "r");
	IT_ASSERT(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "getppid()"))
			n++;
	fclose(f);
	IT_ASSERT_EQ(n, 2 * (3 + 3 / 10 + 1));
}

/*
 * A forwarded system call costs exactly one VM exit, a VMCALL (timer
 * interrupts may add exits of their own, so only VMCALLs are counted).
 */
static void test_one_exit_per_syscall(void)
{
	struct dune_stats s0, s1;
	int i;

	enter();
	IT_ASSERT_EQ(dune_get_stats(&s0), 0);
	for (i = 0; i < 100; i++)
		syscall(SYS_getppid);
	IT_ASSERT_EQ(dune_get_stats(&s1), 0);
	/* + 1: the second dune_get_stats is a system call too */
	IT_ASSERT_EQ(s1.by_reason[18] - s0.by_reason[18], 101);
	IT_ASSERT(s1.exits - s0.exits >= 101);
	IT_ASSERT_EQ(s1.user_exits - s0.user_exits, 101);
}

static const struct itest tests[] = {
	{ "hello", test_hello },
	{ "syscalls", test_syscalls },
	{ "syscall_preserves_state", test_syscall_preserves_state },
	{ "malloc_256m", test_malloc_256m },
	{ "mmap_churn", test_mmap_churn },
	{ "threads", test_threads },
	{ "fork_exec", test_fork_exec },
	{ "seccomp", test_seccomp },
	{ "fds_kept_from_program", test_fds_kept_from_program },
	{ "kill_9", test_kill_9 },
	{ "many_enter_exit", test_many_enter_exit },
	{ "strace", test_strace },
	{ "one_exit_per_syscall", test_one_exit_per_syscall },
};

ITEST_MAIN(tests)
