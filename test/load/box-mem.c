// SPDX-License-Identifier: MIT
/*
 * Memory calls dune-box reflects in the sandbox's root: System V shared
 * memory, mremap's less common forms, and the SIGSEGV codes of faults on
 * unmapped and protected pages, and ring 3's GS base (itest-box-mem:
 * native and dune-box runs must be identical).  Prints relations, never addresses.
 *   box-mem CASE
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <asm/prctl.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096ul

static sigjmp_buf jb;
static siginfo_t si;

static const char *yes(int c)
{
	return c ? "yes" : "no";
}

static void on_segv(int sig, siginfo_t *s, void *uc)
{
	si = *s;
	siglongjmp(jb, 1);
}

static void catch_segv(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
}

static const char *code(int c)
{
	return c == SEGV_MAPERR ? "SEGV_MAPERR" :
	       c == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
}

/* Write (or read) one byte at @p: the fault's siginfo, or "no fault". */
static void touch(const char *what, volatile char *p, int write)
{
	if (sigsetjmp(jb, 1)) {
		printf("%s: SIGSEGV %s, si_addr == p: %s\n", what,
		       code(si.si_code), yes(si.si_addr == (void *)p));
		return;
	}
	if (write)
		*p = 1;
	else
		(void)*p;
	printf("%s: no fault\n", what);
}

static const char *err(long r)
{
	return r == -1 ? strerrorname_np(errno) : "ok";
}

static int seg(size_t size)
{
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);

	if (id < 0) {
		printf("shmget: %s\n", strerrorname_np(errno));
		exit(1);
	}
	return id;
}

static void nattch(int id)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds))
		printf("IPC_STAT: %s\n", strerrorname_np(errno));
	else
		printf("segsz %zu nattch %lu\n", (size_t)ds.shm_segsz,
		       (unsigned long)ds.shm_nattch);
}

/* shmat by the kernel's choice, shared with a fork child, shmdt. */
static void c_shm(void)
{
	int id = seg(3 * PG + 100), st;
	char *p = shmat(id, NULL, 0);
	pid_t pid;

	printf("shmat: %s\n", p == (void *)-1 ? strerrorname_np(errno) : "ok");
	nattch(id);
	strcpy(p, "from the parent");
	strcpy(p + 3 * PG + 50, "last page");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		printf("child reads: %s, %s\n", p, p + 3 * PG + 50);
		strcpy(p, "from the child");
		fflush(stdout);
		_exit(shmdt(p) ? 1 : 0);
	}
	waitpid(pid, &st, 0);
	printf("child status %d; parent reads: %s\n", st, p);
	nattch(id);
	printf("shmdt: %s\n", err(shmdt(p)));
	nattch(id);
	printf("shmdt again: %s\n", err(shmdt(p)));
	printf("shmdt unaligned: %s\n", err(shmdt(p + 1)));
	touch("read after shmdt", p, 0);
	shmctl(id, IPC_RMID, NULL);
}

/* At a given address: free, one the program unmapped, in use, SHM_RND. */
static void c_shm_addr(void)
{
	int id = seg(2 * PG);
	char *a = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *p;

	munmap(a, 8 * PG);
	p = shmat(id, a, 0);
	printf("at an unmapped address: %s, p == a: %s\n",
	       p == (void *)-1 ? strerrorname_np(errno) : "ok", yes(p == a));
	strcpy(p, "hello");
	p = shmat(id, a, 0);
	printf("again there: %s\n",
	       p == (void *)-1 ? strerrorname_np(errno) : "ok");
	p = shmat(id, a, SHM_REMAP);
	printf("again with SHM_REMAP: %s, p == a: %s, reads %s\n",
	       p == (void *)-1 ? strerrorname_np(errno) : "ok", yes(p == a),
	       a);
	p = shmat(id, a + 4 * PG + 5, 0);
	printf("unaligned: %s\n",
	       p == (void *)-1 ? strerrorname_np(errno) : "ok");
	p = shmat(id, a + 4 * PG + 5, SHM_RND);
	printf("SHM_RND: %s, rounded: %s, reads %s\n",
	       p == (void *)-1 ? strerrorname_np(errno) : "ok",
	       yes(p == a + 4 * PG), p);
	/* over the program's own mapping without SHM_REMAP */
	p = shmat(id, a + 3 * PG, 0);
	printf("overlapping an attachment: %s\n",
	       p == (void *)-1 ? strerrorname_np(errno) : "ok");
	/* the address of this code: in use (natively and in the box) */
	p = shmat(id, (void *)((uintptr_t)c_shm_addr & ~(PG - 1)), 0);
	printf("over the program's code: %s\n",
	       p == (void *)-1 ? strerrorname_np(errno) : "ok");
	printf("shmdt: %s %s\n", err(shmdt(a)), err(shmdt(a + 4 * PG)));
	nattch(id);
	shmctl(id, IPC_RMID, NULL);
}

/*
 * The address of a mapping the program did not make: natively the
 * program's own first mapping (its ELF header), under dune-box the
 * monitor's (the dune-box binary): both "in use", EINVAL.
 */
static void c_shm_inuse(void)
{
	int id = seg(PG);
	char line[512], *p;
	unsigned long lo = 0, first = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long l = strtoul(line, NULL, 16);

		if (!first)
			first = l;
		if (strstr(line, "/dune-box")) {
			lo = l;
			break;
		}
	}
	if (f)
		fclose(f);
	if (!lo)
		lo = first;
	p = shmat(id, (void *)lo, 0);
	printf("shmat over a mapping in use: %s\n",
	       p == (void *)-1 ? strerrorname_np(errno) : "ok");
	p = shmat(id, NULL, 0);
	strcpy(p, "still works");
	printf("then: %s;", p);
	printf(" shmdt %s\n", err(shmdt(p)));
	shmctl(id, IPC_RMID, NULL);
}

static void c_shm_rdonly(void)
{
	int id = seg(PG);
	char *w = shmat(id, NULL, 0), *r = shmat(id, NULL, SHM_RDONLY);

	strcpy(w, "written");
	printf("read-only attachment reads: %s\n", r);
	touch("write to SHM_RDONLY", r, 1);
	shmdt(w);
	shmdt(r);
	shmctl(id, IPC_RMID, NULL);
	/* and without a handler: death by SIGSEGV */
	id = seg(PG);
	r = shmat(id, NULL, SHM_RDONLY);
	shmctl(id, IPC_RMID, NULL);
	signal(SIGSEGV, SIG_DFL);
	fflush(stdout);
	*(volatile char *)r = 1;
	printf("not reached\n");
}

/* shmctl's buffers */
static void c_shmctl(void)
{
	int id = seg(PG);
	struct shmid_ds ds;
	struct shminfo info;
	struct shm_info sinfo;

	printf("IPC_STAT: %s\n", err(shmctl(id, IPC_STAT, &ds)));
	ds.shm_perm.mode = 0640;
	printf("IPC_SET: %s\n", err(shmctl(id, IPC_SET, &ds)));
	shmctl(id, IPC_STAT, &ds);
	printf("mode %o\n", ds.shm_perm.mode & 0777);
	printf("IPC_INFO: %s\n", shmctl(id, IPC_INFO, (void *)&info) < 0 ?
	       strerrorname_np(errno) : "ok");
	printf("SHM_INFO: %s\n", shmctl(id, SHM_INFO, (void *)&sinfo) < 0 ?
	       strerrorname_np(errno) : "ok");
	printf("IPC_STAT to a bad pointer: %s\n",
	       err(shmctl(id, IPC_STAT, (void *)16)));
	printf("IPC_RMID: %s\n", err(shmctl(id, IPC_RMID, NULL)));
	printf("IPC_STAT after: %s\n", err(shmctl(id, IPC_STAT, &ds)));
}

/* Faults: an unmapped page (MAPERR), one without the access (ACCERR). */
static void c_segv(void)
{
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p + PG, PG);
	mprotect(p + 2 * PG, PG, PROT_READ);
	mprotect(p + 3 * PG, PG, PROT_NONE);
	touch("write to a mapped page", p, 1);
	touch("read of an unmapped page", p + PG, 0);
	touch("write to an unmapped page", p + PG + 7, 1);
	touch("write to a read-only page", p + 2 * PG, 1);
	touch("read of a PROT_NONE page", p + 3 * PG, 0);
	munmap(p, 4 * PG);
	touch("read of the whole range after munmap", p + 3 * PG, 0);
	touch("read of page 0", (char *)16, 0);
}

/* mremap growing in place where the program had unmapped. */
static void c_mremap_grow(void)
{
	char *p = mmap(NULL, 6 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *q, *t;

	strcpy(p, "kept");
	munmap(p + 2 * PG, 4 * PG);
	q = mremap(p, 2 * PG, 4 * PG, 0);
	printf("grow in place: %s, same address: %s\n",
	       q == MAP_FAILED ? strerrorname_np(errno) : "ok", yes(q == p));
	if (q == MAP_FAILED)
		return;
	p[4 * PG - 1] = 'x';
	printf("reads %s, new page zero: %s\n", p, yes(!p[3 * PG]));
	q = mremap(p, 4 * PG, 6 * PG, MREMAP_MAYMOVE);
	printf("grow again (may move): %s, same address: %s\n",
	       q == MAP_FAILED ? strerrorname_np(errno) : "ok", yes(q == p));
	/* one mapping: the whole of it moves */
	t = mmap(NULL, 6 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q = mremap(p, 6 * PG, 6 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, t);
	printf("moved whole: %s, to t: %s, reads %s %c\n",
	       q == MAP_FAILED ? strerrorname_np(errno) : "ok", yes(q == t),
	       q == MAP_FAILED ? "" : q, q == MAP_FAILED ? ' ' : q[4 * PG - 1]);
	touch("the old place", p, 0);
	/* shrinking, then the freed tail is unmapped */
	q = mremap(q, 6 * PG, PG, 0);
	touch("after shrinking", q + PG, 0);
}

static void c_mremap_dontunmap(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *q;

	strcpy(p + PG, "moved data");
	/* glibc reads new_address with DONTUNMAP too: a hint, none here */
	q = mremap(p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	printf("DONTUNMAP: %s, moved: %s\n",
	       q == MAP_FAILED ? strerrorname_np(errno) : "ok", yes(q != p));
	if (q == MAP_FAILED)
		return;
	printf("new reads %s; old still mapped, empty: %s\n", q + PG,
	       yes(!p[PG]));
	p[0] = 'o';
	q[0] = 'n';
	printf("old and new apart: %s\n", yes(p[0] == 'o' && q[0] == 'n'));
	q = mremap(q, 2 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
		   NULL);
	printf("DONTUNMAP with another size: %s\n",
	       q == MAP_FAILED ? strerrorname_np(errno) : "ok");
}

static void c_mremap_dup(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0), *q, *r;

	strcpy(p + PG, "shared");
	q = mremap(p, 0, 2 * PG, MREMAP_MAYMOVE);
	printf("old_size 0: %s, new place: %s\n",
	       q == MAP_FAILED ? strerrorname_np(errno) : "ok", yes(q != p));
	if (q == MAP_FAILED)
		return;
	strcpy(q, "through q");
	printf("q reads %s; p reads %s\n", q + PG, p);
	munmap(p, 2 * PG);
	printf("q after munmap of p: %s\n", q);
	r = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q = mremap(r, 0, PG, MREMAP_MAYMOVE);
	printf("old_size 0 of a private mapping: %s\n",
	       q == MAP_FAILED ? strerrorname_np(errno) : "ok");
}

/* ---- the GS base: arch_prctl, %gs:0, kept across calls and signals ---- */

static uint64_t gs_read0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(v));
	return v;
}

static uint64_t get_gs(void)
{
	uint64_t v = 0;

	syscall(SYS_arch_prctl, ARCH_GET_GS, &v);
	return v;
}

static int set_gs(const void *p)
{
	return syscall(SYS_arch_prctl, ARCH_SET_GS, p);
}

static uint64_t gs_a[2] = { 0x1111222233334444ull, 1 };
static uint64_t gs_b[2] = { 0x5555666677778888ull, 2 };
static volatile int in_handler_ok;

static void on_usr1(int sig)
{
	in_handler_ok = gs_read0() == gs_a[0] &&
			get_gs() == (uint64_t)gs_a;
	/* a change in the handler stays after it (not in the frame) */
	set_gs(gs_b);
}

static void c_gs(void)
{
	int i, ok = 1, st;
	pid_t pid;

	printf("GS base at start is 0: %s\n", yes(get_gs() == 0));
	printf("ARCH_SET_GS: %s\n", err(set_gs(gs_a)));
	printf("%%gs:0 is a[0]: %s; ARCH_GET_GS is a: %s\n",
	       yes(gs_read0() == gs_a[0]), yes(get_gs() == (uint64_t)gs_a));
	for (i = 0; i < 20; i++) {
		getppid();
		ok &= gs_read0() == gs_a[0];
	}
	printf("kept across system calls: %s\n", yes(ok));
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	printf("in a signal handler: %s; after it (changed there): %s\n",
	       yes(in_handler_ok), yes(gs_read0() == gs_b[0] &&
				       get_gs() == (uint64_t)gs_b));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		printf("fork child inherits it: %s\n",
		       yes(gs_read0() == gs_b[0]));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("non-canonical base: %s\n",
	       err(syscall(SYS_arch_prctl, ARCH_SET_GS, 1ull << 63)));
	printf("ARCH_GET_GS to a bad pointer: %s\n",
	       err(syscall(SYS_arch_prctl, ARCH_GET_GS, 16)));
	printf("still b: %s\n", yes(gs_read0() == gs_b[0]));
	set_gs(NULL);
	printf("back to 0: %s\n", yes(get_gs() == 0));
}

static pthread_barrier_t gs_bar;

static void *gs_thread(void *arg)
{
	uint64_t *mine = arg;
	int i, ok;

	/* clone copies the creator's GS base */
	ok = gs_read0() == gs_a[0];
	set_gs(mine);
	pthread_barrier_wait(&gs_bar);
	for (i = 0; i < 50; i++) {
		sched_yield();
		ok = ok && gs_read0() == mine[0] && get_gs() == (uint64_t)mine;
	}
	pthread_barrier_wait(&gs_bar);
	return (void *)(uintptr_t)ok;
}

static void c_gs_threads(void)
{
	static uint64_t t1[2] = { 0xaaaa000000000001ull }, t2[2] = {
		0xbbbb000000000002ull };
	pthread_t a, b;
	void *ra, *rb;

	set_gs(gs_a);
	pthread_barrier_init(&gs_bar, NULL, 2);
	pthread_create(&a, NULL, gs_thread, t1);
	pthread_create(&b, NULL, gs_thread, t2);
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	printf("thread 1 inherited, then kept its own: %s\n",
	       yes(ra == (void *)1));
	printf("thread 2 inherited, then kept its own: %s\n",
	       yes(rb == (void *)1));
	printf("main's is still a: %s\n",
	       yes(gs_read0() == gs_a[0] && get_gs() == (uint64_t)gs_a));
}

/* WRGSBASE at ring 3, where the kernel allows it (HWCAP2_FSGSBASE). */
static void c_gs_fsgsbase(void)
{
	uint64_t v;
	int i, ok = 1;

	if (!(getauxval(AT_HWCAP2) & 2)) {
		printf("no FSGSBASE\n");
		return;
	}
	__asm__ volatile("wrgsbase %0" : : "r"(gs_b) : "memory");
	for (i = 0; i < 20; i++) {
		getppid();
		__asm__ volatile("rdgsbase %0" : "=r"(v));
		ok &= v == (uint64_t)gs_b && gs_read0() == gs_b[0];
	}
	printf("WRGSBASE kept across system calls: %s\n", yes(ok));
	printf("ARCH_GET_GS sees it: %s\n", yes(get_gs() == (uint64_t)gs_b));
	set_gs(gs_a);
	__asm__ volatile("rdgsbase %0" : "=r"(v));
	printf("RDGSBASE sees ARCH_SET_GS: %s\n", yes(v == (uint64_t)gs_a));
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	__asm__ volatile("rdgsbase %0" : "=r"(v));
	printf("handler saw it: %s; set there: %s\n", yes(in_handler_ok),
	       yes(v == (uint64_t)gs_b));
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "shm", c_shm }, { "shm-addr", c_shm_addr },
		{ "shm-inuse", c_shm_inuse }, { "shm-rdonly", c_shm_rdonly },
		{ "shmctl", c_shmctl }, { "segv", c_segv },
		{ "mremap-grow", c_mremap_grow },
		{ "mremap-dontunmap", c_mremap_dontunmap },
		{ "mremap-dup", c_mremap_dup }, { "gs", c_gs },
		{ "gs-threads", c_gs_threads },
		{ "gs-fsgsbase", c_gs_fsgsbase },
	};
	unsigned int i;

	catch_segv();
	for (i = 0; argc > 1 && i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[1], cases[i].name)) {
			cases[i].fn();
			return 0;
		}
	fprintf(stderr, "usage: box-mem CASE\n");
	return 2;
}
