// SPDX-License-Identifier: MIT
/*
 * box-bench-mon: where dune-box's ticks per call go, part one: the
 * monitor's own work (box_monitor_syscall: table, argument checks,
 * policy, emulation, log), run natively, outside Dune mode, on a made-up
 * trap frame, with the permissive profile.  Outside Dune mode the
 * monitor's call to Linux (dune_sys6) is the plain system call, so a
 * passed call's row includes one native call: the column "monitor only"
 * subtracts the same call made directly.  The rest of dune-box's cost is
 * the ring-3 round trip and the VMCALL, which dune-bench's
 * ring3_getppid_emul and ring3_getppid_pass measure
 * (docs/benchmarks.md, "dune-box").
 *
 *   box-bench-mon [N]
 *
 * Prints "OP MONITOR+CALL DIRECT_CALL POLICY_ONLY" per OP (TSC ticks per
 * call); each result is checked against the direct call's.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#include "monitor-int.h"
#include "policy.h"

static inline uint64_t tsc(void)
{
	_mm_lfence();
	return __rdtsc();
}

/* The "sandbox's" memory: one owned page for the arguments. */
static char arena[4096] __attribute__((aligned(4096)));

struct op {
	const char *name;
	long nr, a[4];
	long expect;		/* the direct call's result, for the check */
};

static long direct(const struct op *o)
{
	return syscall(o->nr, o->a[0], o->a[1], o->a[2], o->a[3]);
}

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "box-bench-mon: %s\n", what);
	exit(1);
}

static uint64_t through_monitor(const struct op *o, long n)
{
	struct dune_tf tf;
	uint64_t t0 = tsc();

	memset(&tf, 0, sizeof(tf));
	for (long i = 0; i < n; i++) {
		tf.rax = o->nr;
		tf.rdi = o->a[0];
		tf.rsi = o->a[1];
		tf.rdx = o->a[2];
		tf.r10 = o->a[3];
		box_monitor_syscall(&tf);
		if ((long)tf.rax != o->expect)
			die(o->name);
	}
	return tsc() - t0;
}

static uint64_t policy_only(const struct op *o, long n)
{
	struct box_call c;
	struct box_decision d;
	uint64_t t0;

	memset(&c, 0, sizeof(c));
	c.nr = o->nr;
	memcpy(c.arg, o->a, sizeof(o->a));
	if (o->nr == SYS_newfstatat) {
		c.path[0] = (const char *)o->a[1];
		c.path_arg[0] = 1;
	}
	t0 = tsc();
	for (long i = 0; i < n; i++)
		box_policy_decide(box_mon.pol, &c, &d);
	return tsc() - t0;
}

int main(int argc, char **argv)
{
	static const struct box_monitor_opts mo = { .log_fd = -1, .msg_fd = 2,
						    .quiet = true };
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 500;
	struct box_policy *pol = box_policy_new("/");
	char err[256];
	int zfd = open("/dev/zero", O_RDONLY);
	char *path = arena, *buf = arena + 64;
	struct op ops[5];
	unsigned int k;

	if (n <= 0 || !pol || zfd < 0 ||
	    box_policy_include(pol, "permissive", err, sizeof(err)))
		die("set-up");
	box_mon.mem = box_mem_new();
	if (!box_mon.mem ||
	    box_mem_add(box_mon.mem, (uint64_t)arena,
			(uint64_t)arena + sizeof(arena),
			PROT_READ | PROT_WRITE))
		die("box_mem");
	box_mon.pol = pol;
	box_mon.o = mo;
	box_cur = &box_main_thread;
	strcpy(path, "/tmp");

	ops[0] = (struct op){ "getppid", SYS_getppid, { 0 }, getppid() };
	ops[1] = (struct op){ "getfs", SYS_arch_prctl,
			      { ARCH_GET_FS, (long)buf }, 0 };
	ops[2] = (struct op){ "fstatat", SYS_newfstatat,
			      { AT_FDCWD, (long)path, (long)buf, 0 }, 0 };
	ops[3] = (struct op){ "read1", SYS_read, { zfd, (long)buf, 1 }, 1 };
	ops[4] = (struct op){ "deny", SYS_personality,
			      { PER_LINUX | ADDR_NO_RANDOMIZE }, -EPERM };
	for (k = 0; k < 5; k++) {
		const struct op *o = &ops[k];
		uint64_t mon, dir = 0, pol_t, t0;

		through_monitor(o, 10);
		mon = through_monitor(o, n);
		/* the deny and getfs rows make no call to Linux */
		if (k != 1 && k != 4) {
			t0 = tsc();
			for (long i = 0; i < n; i++)
				if (direct(o) != o->expect)
					die(o->name);
			dir = tsc() - t0;
		}
		pol_t = policy_only(o, n);
		printf("%s %llu %llu %llu\n", o->name,
		       (unsigned long long)(mon / n),
		       (unsigned long long)(dir / n),
		       (unsigned long long)(pol_t / n));
	}
	return 0;
}
