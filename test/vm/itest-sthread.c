// SPDX-License-Identifier: MIT
/*
 * The sthreads library (apps/sthread), issue 10's largest example of a
 * program on the original Dune API: each property of the compartments
 * checked with data.  Each test runs in its own child, in Dune mode.
 * The STHREAD_CODE functions run at ring 3: they touch only their stack
 * and the tags passed to them.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "itest.h"
#include "libdune/dune.h"
#include "libdune/cpu-x86.h"
#include "sthread.h"

static void enter(void)
{
	IT_ASSERT_EQ(dune_init_and_enter(), 0);
}

/* The pool's pages in use, from dune_page_stats. */
static long pool_used(void)
{
	char buf[256], *p;
	int fds[2], saved;
	ssize_t n;

	IT_ASSERT_EQ(pipe(fds), 0);
	saved = dup(2);
	dup2(fds[1], 2);
	dune_page_stats();
	dup2(saved, 2);
	close(saved);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	close(fds[1]);
	IT_ASSERT(n > 0);
	buf[n] = 0;
	p = strstr(buf, "page pool: ");
	IT_ASSERT(p && strstr(p, " allocated"));
	return strtol(p + strlen("page pool: "), NULL, 10);
}

static long master_global = 1234;

/* ---- ring-3 code ---- */

struct sum_io {
	long *in;
	size_t n;
	long *out;
};

STHREAD_CODE static long u_sum(void *arg)
{
	struct sum_io *io = arg;
	long s = 0;

	for (size_t i = 0; i < io->n; i++)
		s += io->in[i];
	*io->out = s;
	return s ^ 0x5a;
}

STHREAD_CODE static long u_read(void *arg)
{
	return *(volatile long *)arg;
}

STHREAD_CODE static long u_write(void *arg)
{
	*(volatile long *)arg = 1;
	return 0;
}

STHREAD_CODE static long u_call(void *arg)
{
	return ((long (*)(void))arg)();
}

STHREAD_CODE static long u_ud2(void *arg)
{
	__asm__ volatile("ud2");
	return 0;
}

STHREAD_CODE static long u_int3(void *arg)
{
	__asm__ volatile("int3");
	return 0;
}

STHREAD_CODE static long u_cli(void *arg)
{
	__asm__ volatile("cli");
	return 0;
}

static long master_fn(void)
{
	return 99;
}

/* ---- granted memory ---- */

static void test_granted_read_write(void)
{
	struct tag *ro, *rw;
	struct sum_io *io;
	struct sthread st;
	struct sc sc;
	long ret, want = 0;
	size_t n = 2 * PGSIZE / sizeof(long) - 8;

	enter();
	ro = tag_new(2 * PGSIZE);
	rw = tag_new(PGSIZE);
	IT_ASSERT(ro && rw);
	io = smalloc(ro, sizeof(*io));
	io->in = smalloc(ro, n * sizeof(long));
	IT_ASSERT(io->in);
	IT_ASSERT(smalloc(ro, PGSIZE) == NULL);	/* the tag is full */
	io->n = n;
	io->out = smalloc(rw, sizeof(long));
	for (size_t i = 0; i < n; i++) {
		io->in[i] = i * 3 + 1;
		want += i * 3 + 1;
	}
	sc_init(&sc);
	IT_ASSERT_EQ(sc_mem_add(&sc, ro, PROT_READ), 0);
	IT_ASSERT_EQ(sc_mem_add(&sc, rw, PROT_READ | PROT_WRITE), 0);
	IT_ASSERT_EQ(sc_mem_add(&sc, rw, PROT_WRITE), -EINVAL);
	IT_ASSERT_EQ(sthread_create(&st, &sc, u_sum, io), 0);
	IT_ASSERT_EQ(sthread_join(&st, &ret), 0);
	IT_ASSERT_EQ(st.end, STH_RETURNED);
	IT_ASSERT_EQ(ret, want ^ 0x5a);
	IT_ASSERT_EQ(*io->out, want);
	IT_ASSERT(st.root == NULL);
	/* a joined sthread cannot run again */
	IT_ASSERT_EQ(sthread_join(&st, &ret), -EINVAL);
}

/* ---- a read-only tag: the write faults, the master goes on ---- */

static void test_readonly_write_faults(void)
{
	struct tag *ro;
	struct sthread st;
	struct sc sc;
	long *v, ret = -1;

	enter();
	ro = tag_new(PGSIZE);
	v = smalloc(ro, sizeof(*v));
	*v = 77;
	sc_init(&sc);
	sc_mem_add(&sc, ro, PROT_READ);
	IT_ASSERT_EQ(sthread_create(&st, &sc, u_write, v), 0);
	IT_ASSERT_EQ(sthread_join(&st, &ret), -EFAULT);
	IT_ASSERT_EQ(st.end, STH_FAULT);
	IT_ASSERT_EQ(st.addr, (uintptr_t)v);
	IT_ASSERT((st.fec & (FEC_P | FEC_W | FEC_U)) == (FEC_P | FEC_W | FEC_U));
	IT_ASSERT(!strcmp(sthread_end_str(st.end), "page fault"));
	IT_ASSERT_EQ(*v, 77);

	/* the master is intact: its memory, and the next sthread runs */
	*v = 78;
	master_global++;
	IT_ASSERT_EQ(sthread_create(&st, &sc, u_read, v), 0);
	IT_ASSERT_EQ(sthread_join(&st, &ret), 0);
	IT_ASSERT_EQ(ret, 78);
	IT_ASSERT_EQ(master_global, 1235);
}

/* ---- what is not granted is unreachable ---- */

/* Run u(arg) in an sthread granted @g (or nothing): it must fault at @arg. */
static uint64_t must_fault(struct tag *g, long (*u)(void *), void *arg)
{
	struct sthread st;
	struct sc sc;
	long ret = -1;

	sc_init(&sc);
	if (g)
		sc_mem_add(&sc, g, PROT_READ | PROT_WRITE);
	IT_ASSERT_EQ(sthread_create(&st, &sc, u, arg), 0);
	IT_ASSERT_EQ(sthread_join(&st, &ret), -EFAULT);
	IT_ASSERT_EQ(st.end, STH_FAULT);
	IT_ASSERT_EQ(st.addr, (uintptr_t)arg);
	IT_ASSERT(st.fec & FEC_U);
	return st.fec;
}

static void test_ungranted_unreachable(void)
{
	struct tag *mine, *secret, *later;
	long *s, *l, local = 5;
	struct sthread st;
	struct sc sc;
	uint64_t fec;

	enter();
	mine = tag_new(PGSIZE);
	secret = tag_new(PGSIZE);
	s = smalloc(secret, sizeof(*s));
	*s = 4242;
	/* another tag, the master's data, stack and code: all mapped, but
	 * supervisor-only in the sthread's root */
	fec = must_fault(mine, u_read, s);
	IT_ASSERT(fec & FEC_P);
	IT_ASSERT(!(fec & FEC_W));
	IT_ASSERT(must_fault(mine, u_write, s) & FEC_W);
	IT_ASSERT(must_fault(mine, u_read, &master_global) & FEC_P);
	IT_ASSERT(must_fault(NULL, u_read, &local) & FEC_P);
	fec = must_fault(mine, u_call, (void *)master_fn);
	IT_ASSERT((fec & (FEC_P | FEC_I)) == (FEC_P | FEC_I));
	IT_ASSERT_EQ(*s, 4242);
	IT_ASSERT_EQ(master_global, 1234);
	IT_ASSERT_EQ(local, 5);

	/* a tag made after the sthread is not in its root at all */
	sc_init(&sc);
	IT_ASSERT_EQ(sthread_create(&st, &sc, u_read, NULL), 0);
	later = tag_new(PGSIZE);
	l = smalloc(later, sizeof(*l));
	*l = 1;
	st.arg = l;
	IT_ASSERT_EQ(sthread_join(&st, NULL), -EFAULT);
	IT_ASSERT_EQ(st.end, STH_FAULT);
	IT_ASSERT_EQ(st.addr, (uintptr_t)l);
	if (dune_va_to_pa(l) == DUNE_BAD_ADDR)
		IT_ASSERT(!(st.fec & FEC_P));
}

/* ---- exceptions other than page faults end the sthread ---- */

static void test_traps(void)
{
	static const struct {
		long (*u)(void *);
		int vector;
	} t[] = {
		{ u_ud2, T_ILLOP }, { u_int3, T_BRKPT }, { u_cli, T_GPFLT },
	};
	struct sthread st;
	struct sc sc;

	enter();
	sc_init(&sc);
	for (int i = 0; i < 3; i++) {
		IT_ASSERT_EQ(sthread_create(&st, &sc, t[i].u, NULL), 0);
		IT_ASSERT_EQ(sthread_join(&st, NULL), -EFAULT);
		IT_ASSERT_EQ(st.end, STH_TRAP);
		IT_ASSERT_EQ(st.vector, t[i].vector);
	}
}

/* ---- system calls ---- */

struct sys_io {
	int fd_w, fd_r;
	char *msg, *ro_buf, *ro_end, *secret;
	size_t len;
	char *rbuf;
	long *res;
};

STHREAD_CODE static long u_sys(void *arg)
{
	struct sys_io *io = arg;

	io->res[0] = sthread_syscall(SYS_write, io->fd_w, (long)io->msg,
				     io->len);
	io->res[1] = sthread_syscall(SYS_write, io->fd_w, (long)io->msg,
				     io->len);
	io->res[2] = sthread_syscall(SYS_write, io->fd_w, (long)io->secret, 8);
	io->res[3] = sthread_syscall(SYS_read, io->fd_r, (long)io->rbuf,
				     io->len);
	/* the pipe holds data: only the check stops this read */
	io->res[4] = sthread_syscall(SYS_read, io->fd_r, (long)io->ro_buf, 1);
	/* 4 bytes in the tag, 4 past its end */
	io->res[5] = sthread_syscall(SYS_write, io->fd_w,
				     (long)(io->ro_end - 4), 8);
	io->res[6] = 6;
	io->res[7] = sthread_syscall(SYS_getpid, 0, 0, 0);
	io->res[6] = 7;		/* not reached */
	return 0;
}

STHREAD_CODE static long u_getpid(void *arg)
{
	return sthread_syscall(SYS_getpid, 0, 0, 0);
}

static void test_syscalls(void)
{
	struct tag *ro, *rw, *secret;
	struct sys_io *io;
	struct sthread st;
	struct sc sc;
	int fds[2];
	char c, buf[16];
	long ret;

	enter();
	IT_ASSERT_EQ(pipe(fds), 0);
	ro = tag_new(PGSIZE);
	rw = tag_new(PGSIZE);
	secret = tag_new(PGSIZE);
	io = smalloc(ro, sizeof(*io));
	io->fd_w = fds[1];
	io->fd_r = fds[0];
	io->msg = smalloc(ro, 16);
	strcpy(io->msg, "sthread says hi");
	io->len = strlen(io->msg);
	io->ro_buf = io->msg;
	io->ro_end = ro->base + ro->len;
	io->secret = smalloc(secret, 16);
	strcpy(io->secret, "SECRET!");
	io->rbuf = smalloc(rw, 16);
	io->res = smalloc(rw, 8 * sizeof(long));

	sc_init(&sc);
	sc_mem_add(&sc, ro, PROT_READ);
	sc_mem_add(&sc, rw, PROT_READ | PROT_WRITE);
	IT_ASSERT_EQ(sc_sys_add(&sc, SYS_write), 0);
	IT_ASSERT_EQ(sc_sys_add(&sc, SYS_read), 0);
	/* a call whose pointers the library cannot check is never allowed */
	IT_ASSERT_EQ(sc_sys_add(&sc, SYS_open), -EINVAL);
	IT_ASSERT_EQ(sthread_create(&st, &sc, u_sys, io), 0);
	IT_ASSERT_EQ(sthread_join(&st, &ret), -EFAULT);
	IT_ASSERT_EQ(st.end, STH_SYSCALL);
	IT_ASSERT_EQ(st.sysno, SYS_getpid);
	IT_ASSERT_EQ(io->res[0], (long)io->len);
	IT_ASSERT_EQ(io->res[1], (long)io->len);
	IT_ASSERT_EQ(io->res[2], -EFAULT);
	IT_ASSERT_EQ(io->res[3], (long)io->len);
	IT_ASSERT(!memcmp(io->rbuf, "sthread says hi", io->len));
	IT_ASSERT_EQ(io->res[4], -EFAULT);
	IT_ASSERT_EQ(io->res[5], -EFAULT);
	IT_ASSERT_EQ(io->res[6], 6);
	/* the second message is still in the pipe, and nothing else (read
	 * into master memory: Linux does not see the tags' addresses) */
	IT_ASSERT_EQ(read(fds[0], buf, sizeof(buf)), (long)io->len);
	IT_ASSERT(!memcmp(buf, "sthread says hi", io->len));
	IT_ASSERT_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	IT_ASSERT_EQ(read(fds[0], &c, 1), -1);
	IT_ASSERT_EQ(errno, EAGAIN);

	/* allowed, getpid goes to Linux */
	sc_init(&sc);
	sc_sys_add(&sc, SYS_getpid);
	IT_ASSERT_EQ(sthread_create(&st, &sc, u_getpid, NULL), 0);
	IT_ASSERT_EQ(sthread_join(&st, &ret), 0);
	IT_ASSERT_EQ(ret, getpid());
}

/* ---- callgates ---- */

static int gate_calls;
static long *gate_secret;

/* Master code: reads and writes the sthread's buffer. */
static long g_sum(void *arg, size_t len)
{
	unsigned char *p = arg;
	long s = 0;

	gate_calls++;
	for (size_t i = 0; i < len; i++)
		s += p[i];
	p[0] = 'G';
	return s;
}

/* Master code: reads what the sthread cannot. */
static long g_peek(void *arg, size_t len)
{
	gate_calls++;
	return *gate_secret + master_global + len;
}

struct gate_io {
	char *wbuf, *rbuf, *ro_end, *secret;
	long *res;
};

STHREAD_CODE static long u_gate(void *arg)
{
	struct gate_io *io = arg;

	io->res[0] = sthread_gate(0, io->wbuf, 4);
	io->res[1] = io->wbuf[0];
	io->res[2] = sthread_gate(0, io->rbuf, 4);
	io->res[3] = sthread_gate(1, io->rbuf, 4);
	io->res[4] = sthread_gate(1, io->secret, 4);
	io->res[5] = sthread_gate(1, (void *)0x1000, 4);
	io->res[6] = sthread_gate(1, io->ro_end - 2, 4);
	io->res[7] = sthread_gate(7, io->rbuf, 4);
	io->res[8] = sthread_gate(1, io->ro_end - 4, 4);
	return 0;
}

static void test_callgate(void)
{
	struct tag *ro, *rw, *secret;
	struct gate_io *io;
	struct sthread st;
	struct sc sc;
	long ret;

	enter();
	ro = tag_new(PGSIZE);
	rw = tag_new(PGSIZE);
	secret = tag_new(PGSIZE);
	gate_secret = smalloc(secret, sizeof(long));
	*gate_secret = 1000000;
	io = smalloc(ro, sizeof(*io));
	io->wbuf = smalloc(rw, 4);
	memcpy(io->wbuf, "\x01\x02\x03\x04", 4);
	io->rbuf = smalloc(ro, 4);
	io->ro_end = ro->base + ro->len;
	io->secret = (char *)gate_secret;
	io->res = smalloc(rw, 9 * sizeof(long));

	sc_init(&sc);
	sc_mem_add(&sc, ro, PROT_READ);
	sc_mem_add(&sc, rw, PROT_READ | PROT_WRITE);
	IT_ASSERT_EQ(sc_gate_add(&sc, g_sum, PROT_READ | PROT_WRITE), 0);
	IT_ASSERT_EQ(sc_gate_add(&sc, g_peek, PROT_READ), 1);
	IT_ASSERT_EQ(sthread_create(&st, &sc, u_gate, io), 0);
	IT_ASSERT_EQ(sthread_join(&st, &ret), 0);
	IT_ASSERT_EQ(io->res[0], 1 + 2 + 3 + 4);
	IT_ASSERT_EQ(io->res[1], 'G');		/* the gate wrote its buffer */
	IT_ASSERT_EQ(io->res[2], -EFAULT);	/* read-only for a rw gate */
	IT_ASSERT_EQ(io->res[3], 1000000 + 1234 + 4);	/* master's view */
	IT_ASSERT_EQ(io->res[4], -EFAULT);	/* the secret's tag */
	IT_ASSERT_EQ(io->res[5], -EFAULT);	/* not a tag */
	IT_ASSERT_EQ(io->res[6], -EFAULT);	/* past the tag's end */
	IT_ASSERT_EQ(io->res[7], -EINVAL);	/* no such gate */
	IT_ASSERT_EQ(io->res[8], 1000000 + 1234 + 4);	/* the last bytes */
	IT_ASSERT_EQ(gate_calls, 3);
	IT_ASSERT_EQ(io->wbuf[0], 'G');
}

/* ---- two roots, switched back and forth ---- */

#define ROUNDS 6

/*
 * Both run at the same stack address (STHREAD_STACK_TOP in their own
 * roots), so `mine` is at one virtual address with two values: a wrong
 * root shows as the other sthread's value.  (A stale TLB entry would
 * too on hardware; the emulated machine did not keep one when both
 * shared a PCID with CR3_NOFLUSH, so this cannot prove the PCID rule.)
 */
STHREAD_CODE static long u_pingpong(void *arg)
{
	long *out = arg;	/* out[0]: id, out[1]: &mine */
	volatile long mine;

	out[1] = (long)&mine;
	for (long r = 0; r < ROUNDS; r++) {
		mine = out[0] * 100 + r;
		sthread_yield();
		if (mine != out[0] * 100 + r)
			return -1 - r;
	}
	return out[0];
}

static void test_two_roots_pcid(void)
{
	struct tag *ta, *tb;
	struct sthread a, b;
	struct sc sa, sb;
	long *oa, *ob, ret;
	bool pcid;

	enter();
	pcid = dune_has_pcid();
	ta = tag_new(PGSIZE);
	tb = tag_new(PGSIZE);
	oa = smalloc(ta, 2 * sizeof(long));
	ob = smalloc(tb, 2 * sizeof(long));
	oa[0] = 1;
	ob[0] = 2;
	sc_init(&sa);
	sc_mem_add(&sa, ta, PROT_READ | PROT_WRITE);
	sc_init(&sb);
	sc_mem_add(&sb, tb, PROT_READ | PROT_WRITE);
	IT_ASSERT_EQ(sthread_create(&a, &sa, u_pingpong, oa), 0);
	IT_ASSERT_EQ(sthread_create(&b, &sb, u_pingpong, ob), 0);
	IT_ASSERT(a.root != b.root);
	IT_ASSERT(a.pcid != b.pcid && a.pcid && b.pcid);
	for (int r = 0; r < ROUNDS; r++) {
		IT_ASSERT_EQ(sthread_run(&a), 1);
		IT_ASSERT(dune_vm_current() == pgroot);
		IT_ASSERT_EQ(sthread_run(&b), 1);
		IT_ASSERT(dune_vm_current() == pgroot);
	}
	IT_ASSERT_EQ(oa[1], ob[1]);	/* one address, two stacks */
	IT_ASSERT_EQ(sthread_join(&a, &ret), 0);
	IT_ASSERT_EQ(ret, 1);
	IT_ASSERT_EQ(sthread_join(&b, &ret), 0);
	IT_ASSERT_EQ(ret, 2);
	printf("    (PCIDs %s)\n", pcid ? "used" : "not available");
}

/* ---- many sthreads, no pool pages lost ---- */

#define MANY 200

static void test_many_no_leak(void)
{
	static long (*const fns[])(void *) = { u_read, u_write, u_getpid };
	struct tag *t, *t2;
	struct sthread st, a, b;
	struct sc sc;
	long *v, before, with_tag, ret;

	enter();
	t = tag_new(PGSIZE);
	v = smalloc(t, sizeof(*v));
	*v = 5;
	sc_init(&sc);
	sc_mem_add(&sc, t, PROT_READ);
	/* once first: libdune's own lazy allocations are not ours */
	IT_ASSERT_EQ(sthread_create(&st, &sc, u_read, v), 0);
	IT_ASSERT_EQ(sthread_join(&st, &ret), 0);
	before = pool_used();
	for (int i = 0; i < MANY; i++) {
		/* returned, killed by a fault, killed by a system call */
		IT_ASSERT_EQ(sthread_create(&st, &sc, fns[i % 3], v), 0);
		ret = -1;
		sthread_join(&st, &ret);
		IT_ASSERT_EQ(st.end, i % 3 == 0 ? STH_RETURNED :
			     i % 3 == 1 ? STH_FAULT : STH_SYSCALL);
		if (i % 3 == 0)
			IT_ASSERT_EQ(ret, 5);
	}
	IT_ASSERT_EQ(pool_used(), before);
	/* interleaved ones, with their PCIDs reused */
	for (int i = 0; i < 4; i++) {
		long oa[2] = { 1 }, ob[2] = { 2 };
		struct sc s2;

		t2 = tag_new(PGSIZE);
		with_tag = pool_used();
		sc_init(&s2);
		sc_mem_add(&s2, t2, PROT_READ | PROT_WRITE);
		IT_ASSERT_EQ(sthread_create(&a, &s2, u_pingpong,
					    memcpy(smalloc(t2, 16), oa, 16)), 0);
		IT_ASSERT_EQ(sthread_create(&b, &s2, u_pingpong,
					    memcpy(smalloc(t2, 16), ob, 16)), 0);
		for (int r = 0; r < ROUNDS; r++) {
			IT_ASSERT_EQ(sthread_run(&a), 1);
			IT_ASSERT_EQ(sthread_run(&b), 1);
		}
		IT_ASSERT_EQ(sthread_join(&b, &ret), 0);
		IT_ASSERT_EQ(ret, 2);
		IT_ASSERT_EQ(sthread_join(&a, &ret), 0);
		IT_ASSERT_EQ(ret, 1);
		/* the tag's page goes back (page tables stay in pgroot) */
		tag_delete(t2);
		IT_ASSERT_EQ(pool_used(), with_tag - 1);
	}
	IT_ASSERT(pool_used() >= before);
}

static const struct itest tests[] = {
	{ "granted_read_write", test_granted_read_write },
	{ "readonly_write_faults", test_readonly_write_faults },
	{ "ungranted_unreachable", test_ungranted_unreachable },
	{ "traps", test_traps },
	{ "syscalls", test_syscalls },
	{ "callgate", test_callgate },
	{ "two_roots_pcid", test_two_roots_pcid },
	{ "many_no_leak", test_many_no_leak },
};

ITEST_MAIN(tests)
