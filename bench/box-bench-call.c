// SPDX-License-Identifier: MIT
/*
 * box-bench-call: the cost of single system calls, in TSC ticks per call,
 * measured from inside the program (rdtsc at whatever ring it runs in:
 * CR4.TSD is clear in the guest of dune-box as natively).  It knows
 * nothing of Dune: it is run as it is, natively, under dune-box, under
 * a ptrace interposer (box-ptrace, strace -f), a seccomp supervisor
 * (box-unotify), bubblewrap or gVisor, and the rows are compared
 * (bench/box-calls.sh; docs/benchmarks.md, "dune-box").
 *
 *   box-bench-call [-n N] [-d] [OP...]
 *
 * OPs (default: all):
 *   getppid    passed to Linux as it is
 *   getfs      arch_prctl(ARCH_GET_FS): emulated by dune-box's monitor
 *   fstatat    newfstatat(AT_FDCWD, "/tmp", &st, 0): a path argument
 *   read1      read of 1 byte from /dev/zero: a buffer argument
 *   deny       personality(PER_LINUX | ADDR_NO_RANDOMIZE), which every
 *              dune-box profile denies (EPERM); the interposers deny it
 *              when given -d 135.  With -d the program requires EPERM,
 *              without it success.
 *
 * Output: "OP TICKS_PER_CALL" per OP.  Every call's result is checked:
 * a wrong one prints an error and exits 1, never a number.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

/* The raw instruction: no C-library wrapper between the two rdtscs. */
static inline long sc(long nr, long a0, long a1, long a2, long a3)
{
	register long r10 __asm__("r10") = a3;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline uint64_t tsc(void)
{
	_mm_lfence();
	return __rdtsc();
}

static bool want_denied;
static long ppid;
static int zero_fd = -1;

static void __attribute__((noreturn, format(printf, 2, 3)))
bad(const char *op, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "box-bench-call: %s: ", op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t op_getppid(long n)
{
	uint64_t t0 = tsc();

	for (long i = 0; i < n; i++)
		if (sc(SYS_getppid, 0, 0, 0, 0) != ppid)
			bad("getppid", "returned %ld, not %ld",
			    sc(SYS_getppid, 0, 0, 0, 0), ppid);
	return tsc() - t0;
}

static uint64_t op_getfs(long n)
{
	uint64_t fs = 0, first, t0;
	long r = sc(SYS_arch_prctl, ARCH_GET_FS, (long)&first, 0, 0);

	if (r || !first)
		bad("getfs", "arch_prctl(ARCH_GET_FS) gave %ld, base %#lx", r,
		    (unsigned long)first);
	t0 = tsc();
	for (long i = 0; i < n; i++) {
		r = sc(SYS_arch_prctl, ARCH_GET_FS, (long)&fs, 0, 0);
		if (r || fs != first)
			bad("getfs", "arch_prctl gave %ld, base changed", r);
	}
	return tsc() - t0;
}

static uint64_t op_fstatat(long n)
{
	struct stat st;
	uint64_t t0 = tsc();

	for (long i = 0; i < n; i++) {
		long r = sc(SYS_newfstatat, AT_FDCWD, (long)"/tmp", (long)&st,
			    0);

		if (r || !S_ISDIR(st.st_mode))
			bad("fstatat", "newfstatat(\"/tmp\") gave %ld", r);
	}
	return tsc() - t0;
}

static uint64_t op_read1(long n)
{
	uint64_t t0;
	char c = 1;

	if (zero_fd < 0)
		zero_fd = open("/dev/zero", O_RDONLY);
	if (zero_fd < 0)
		bad("read1", "open /dev/zero: %s", strerror(errno));
	t0 = tsc();
	for (long i = 0; i < n; i++) {
		long r = sc(SYS_read, zero_fd, (long)&c, 1, 0);

		if (r != 1 || c)
			bad("read1", "read gave %ld, byte %d", r, c);
		c = 1;
	}
	return tsc() - t0;
}

static uint64_t op_deny(long n)
{
	uint64_t t0 = tsc();

	for (long i = 0; i < n; i++) {
		long r = sc(SYS_personality, PER_LINUX | ADDR_NO_RANDOMIZE, 0,
			    0, 0);

		if (want_denied ? r != -EPERM : r < 0)
			bad("deny", "personality gave %ld, expected %s", r,
			    want_denied ? "-EPERM (denied)" : "success");
	}
	return tsc() - t0;
}

static const struct {
	const char *name;
	uint64_t (*run)(long n);
} ops[] = {
	{ "getppid", op_getppid },
	{ "getfs", op_getfs },
	{ "fstatat", op_fstatat },
	{ "read1", op_read1 },
	{ "deny", op_deny },
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

static void run(unsigned int k, long n)
{
	uint64_t t;

	/* warm up: first touches, the monitor's and Linux's caches */
	ops[k].run(n < 10 ? n : 10);
	t = ops[k].run(n);
	printf("%s %llu\n", ops[k].name,
	       (unsigned long long)(n ? (t + n / 2) / n : 0));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	long n = 500;
	unsigned int k;
	int i, c;

	while ((c = getopt(argc, argv, "n:d")) != -1) {
		switch (c) {
		case 'n':
			n = strtol(optarg, NULL, 0);
			if (n < 0)
				bad("-n", "N must be >= 0");
			break;
		case 'd':
			want_denied = true;
			break;
		default:
			fprintf(stderr, "usage: box-bench-call [-n N] [-d] [OP...]\n");
			return 2;
		}
	}
	ppid = getppid();
	if (optind == argc) {
		for (k = 0; k < NOPS; k++)
			run(k, n);
		return 0;
	}
	for (i = optind; i < argc; i++) {
		for (k = 0; k < NOPS && strcmp(ops[k].name, argv[i]); k++)
			;
		if (k == NOPS)
			bad(argv[i], "no such operation");
		run(k, n);
	}
	return 0;
}
