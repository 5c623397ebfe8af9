// SPDX-License-Identifier: MIT
/*
 * Process-creation fidelity in Dune mode that needs libdune to check
 * (the differential programs are test/fidelity/fid-sys-*.c):
 *
 *  - a raw clone(CLONE_VM) child that is neither a thread nor a vfork
 *    child gives its host-stack block (and, sharing our fd table, its
 *    vCPU fd) back however it ends: exit, exit_group, a signal;
 *  - clone3 threads and CLONE_VM children run in Dune mode;
 *  - rseq: glibc's registration stays valid in Dune mode, and a signal
 *    aborts a guest critical section.
 */
#include <dirent.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/time.h>

#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)

#include "itest.h"
#include "dune.h"
#define FID_RSEQ_SPIN
#include "../fidelity/fid-cpu.h"

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
	IT_ASSERT(dune_active());
}

/* VmSize from /proc/self/status, in KiB. */
static long vm_size_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	IT_ASSERT(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
			break;
	fclose(f);
	IT_ASSERT(kb > 0);
	return kb;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	IT_ASSERT(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

enum child_end { END_EXIT, END_EXIT_GROUP, END_SIGNAL };

/* Raw system calls: the child shares our TLS, so no glibc wrappers. */
static int leak_child(void *arg)
{
	long how = (long)arg;

	if (!dune_active())
		syscall(SYS_exit_group, 99);
	switch (how) {
	case END_EXIT:
		return 0;	/* glibc's clone() makes the exit call */
	case END_EXIT_GROUP:
		syscall(SYS_exit_group, 0);
		break;
	case END_SIGNAL:
		syscall(SYS_kill, syscall(SYS_getpid), SIGKILL);
		break;
	}
	for (;;)
		syscall(SYS_pause);
}

#define LEAK_CHILDREN 200
#define LEAK_STACK (64 << 10)

static void one_child(char *stack, enum child_end how, int i)
{
	/* Every other child shares our fd table (its vCPU fd is ours too). */
	int flags = CLONE_VM | SIGCHLD | (i & 1 ? CLONE_FILES : 0);
	int st;
	pid_t pid;

	pid = clone(leak_child, stack + LEAK_STACK, flags, (void *)(long)how);
	IT_ASSERT(pid > 0);
	/* Some signal deaths come before the child ever ran. */
	if (how == END_SIGNAL && (i & 2))
		IT_ASSERT_EQ(kill(pid, SIGKILL), 0);
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	if (how == END_SIGNAL) {
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
			IT_FAIL("child %d: wait status 0x%x", i, st);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		IT_FAIL("child %d: wait status 0x%x", i, st);
	}
}

/*
 * A few children first (the allocator, stdio and /proc buffers settle),
 * then the address space and the fd table must not grow with 200 more:
 * a leaked block is ~400 KiB, so 200 would be ~80 MiB.
 */
static void leak_check(enum child_end how)
{
	char *stack = mmap(NULL, LEAK_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long vm0, vm1;
	int fd0, fd1, i;

	IT_ASSERT(stack != MAP_FAILED);
	enter();
	for (i = 0; i < 4; i++)
		one_child(stack, how, i);
	vm0 = vm_size_kb();
	fd0 = count_fds();
	for (i = 0; i < LEAK_CHILDREN; i++)
		one_child(stack, how, i);
	vm1 = vm_size_kb();
	fd1 = count_fds();
	if (vm1 != vm0 || fd1 != fd0)
		IT_FAIL("after %d children: VmSize %ld -> %ld KiB, fds %d -> %d",
			LEAK_CHILDREN, vm0, vm1, fd0, fd1);
	IT_ASSERT(dune_active());
}

static void test_clone_vm_exit_no_leak(void)
{
	leak_check(END_EXIT);
}

static void test_clone_vm_exit_group_no_leak(void)
{
	leak_check(END_EXIT_GROUP);
}

static void test_clone_vm_signal_no_leak(void)
{
	leak_check(END_SIGNAL);
}

static long clone3_call(struct clone_args *a, size_t size)
{
	return syscall(SYS_clone3, a, size);
}

/*
 * clone3 whose child calls fn(): a child with a new stack (or a vfork
 * child on ours) cannot return through the parent's C frames.
 */
long raw_clone3(struct clone_args *a, size_t size, void (*fn)(void));
__asm__(
	"	.text\n"
	"	.globl raw_clone3\n"
	"raw_clone3:\n"
	"	movl	$" __stringify(SYS_clone3) ", %eax\n"
	"	syscall\n"
	"	testq	%rax, %rax\n"
	"	jnz	1f\n"
	"	call	*%rdx\n"
	"	ud2\n"
	"1:	ret\n");

static volatile int child_saw;

static void thread_fn(void)
{
	child_saw = dune_active() ? 1 : 2;
	syscall(SYS_exit, 0);
}

static void vfork_fn(void)
{
	syscall(SYS_exit, dune_active() ? 23 : 24);
}

/*
 * clone3 threads, as glibc 2.34+ makes them in pthread_create: the
 * kernel starts the child on stack + stack_size; it reports whether it
 * runs in Dune mode.
 */
static void test_clone3_thread_in_dune(void)
{
	size_t ssize = 256 << 10;
	char *stack = mmap(NULL, ssize, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile pid_t ctid = 1;
	struct clone_args a = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			 CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
		.child_tid = (uintptr_t)&ctid,
		.stack = (uintptr_t)stack,
		.stack_size = ssize,
	};
	long r;

	IT_ASSERT(stack != MAP_FAILED);
	enter();
	r = raw_clone3(&a, sizeof(a), thread_fn);
	IT_ASSERT(r > 0);
	while (ctid != 0)
		syscall(SYS_futex, &ctid, FUTEX_WAIT, ctid, NULL, NULL, 0);
	IT_ASSERT_EQ(child_saw, 1);
	IT_ASSERT(dune_active());
}

static void *pthread_body(void *arg)
{
	return (void *)(long)(dune_active() ? 1 : 2);
}

/* A clone3 fork child and a clone3 CLONE_VM|CLONE_VFORK child. */
static void test_clone3_children_in_dune(void)
{
	struct clone_args a = { .exit_signal = SIGCHLD };
	pthread_t th;
	void *res;
	int st;
	long r;

	enter();
	r = clone3_call(&a, sizeof(a));
	if (r == 0)
		_exit(dune_active() ? 21 : 22);
	IT_ASSERT(r > 0);
	IT_ASSERT_EQ(waitpid(r, &st, 0), r);
	IT_ASSERT_EQ(WEXITSTATUS(st), 21);

	a.flags = CLONE_VM | CLONE_VFORK;
	r = raw_clone3(&a, sizeof(a), vfork_fn);
	IT_ASSERT(r > 0);
	IT_ASSERT_EQ(waitpid(r, &st, 0), r);
	IT_ASSERT_EQ(WEXITSTATUS(st), 23);

	/* and glibc's threads still are */
	IT_ASSERT_EQ(pthread_create(&th, NULL, pthread_body, NULL), 0);
	IT_ASSERT_EQ(pthread_join(th, &res), 0);
	IT_ASSERT_EQ((long)res, 1);
}


static volatile int alarms;

static void on_alarm(int sig)
{
	if (++alarms >= 5)
		_exit(3);	/* the section was never aborted */
}

static struct rseq *rseq_area(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() +
			       __rseq_offset);
}

static void *rseq_abort_body(void *arg)
{
	static __thread struct rseq_cs cs __attribute__((aligned(32)));
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	struct rseq *r = rseq_area();
	sigset_t alrm;
	int ret;

	IT_ASSERT(dune_active());
	IT_ASSERT((int)r->cpu_id >= 0);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
	cs.start_ip = (uintptr_t)rseq_spin_start;
	cs.post_commit_offset = rseq_spin_end - rseq_spin_start;
	cs.abort_ip = (uintptr_t)rseq_spin_abort;
	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	ret = rseq_spin((uint64_t *)&r->rseq_cs, &cs);
	setitimer(ITIMER_REAL, &off, NULL);
	IT_ASSERT_EQ(ret, 1);
	IT_ASSERT_EQ(r->rseq_cs, 0);
	IT_ASSERT(dune_active());
	return NULL;
}

/*
 * A guest in an rseq critical section is sent to its abort handler when
 * a signal comes (or it is preempted), in the thread that entered Dune
 * mode (glibc's registration taken over) and in a thread made in Dune
 * mode (registered through the rseq system call in the guest).
 */
static void test_rseq_abort_in_dune(void)
{
	sigset_t alrm;
	pthread_t th;

	IT_ASSERT(__rseq_size > 0);
	signal(SIGALRM, on_alarm);
	enter();
	rseq_abort_body(NULL);
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	IT_ASSERT_EQ(pthread_create(&th, NULL, rseq_abort_body, NULL), 0);
	IT_ASSERT_EQ(pthread_join(th, NULL), 0);
	IT_ASSERT_EQ(sched_getcpu(), (int)rseq_area()->cpu_id);
}

static const struct itest tests[] = {
	{ "clone_vm_exit_no_leak", test_clone_vm_exit_no_leak },
	{ "clone_vm_exit_group_no_leak", test_clone_vm_exit_group_no_leak },
	{ "clone_vm_signal_no_leak", test_clone_vm_signal_no_leak },
	{ "clone3_thread_in_dune", test_clone3_thread_in_dune },
	{ "clone3_children_in_dune", test_clone3_children_in_dune },
	{ "rseq_abort_in_dune", test_rseq_abort_in_dune },
};

ITEST_MAIN(tests)
