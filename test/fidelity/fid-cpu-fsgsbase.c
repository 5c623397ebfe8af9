// SPDX-License-Identifier: MIT
/*
 * FSGSBASE: RDFSBASE/WRFSBASE/RDGSBASE/WRGSBASE where the kernel enables
 * them (AT_HWCAP2 has HWCAP2_FSGSBASE), consistent with arch_prctl both
 * ways, kept across many system calls and sched_yield, and inherited by
 * a fork child and a new thread (clone copies the GS base).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <asm/prctl.h>

#include "fid-cpu.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif


/* Raw system calls: no libc (and so no TLS) while FS points elsewhere. */
static long raw2(long nr, long a, long b)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return r;
}

static const char *yesno(int c)
{
	return c ? "yes" : "no";
}

static uint64_t gs_target[2] = { 0x1111222233334444ull, 0x5555666677778888ull };
static uint64_t fs_target[512] = { 0x0123456789abcdefull };

static uint64_t read_gs0(void)
{
	uint64_t v;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(v));
	return v;
}

static void *thread_fn(void *arg)
{
	*(int *)arg = rdgsbase() == (uint64_t)&gs_target[1];
	return NULL;
}

int main(void)
{
	uint64_t fs, v = 0, got_fs = 0, got_gs = 0, fs0 = 0;
	int i, same = 1, st = 0, in_thread = 0;
	pthread_t th;
	pid_t pid;

	if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)) {
		printf("fsgsbase: not enabled by the kernel\n");
		return 0;
	}
	printf("fsgsbase: enabled\n");

	fs = rdfsbase();
	syscall(SYS_arch_prctl, ARCH_GET_FS, &v);
	printf("rdfsbase == ARCH_GET_FS: %s\n", yesno(fs == v));
	syscall(SYS_arch_prctl, ARCH_GET_GS, &v);
	printf("rdgsbase == ARCH_GET_GS: %s\n", yesno(rdgsbase() == v));

	/* WRGSBASE, then the kernel's view, then GS-relative loads. */
	wrgsbase((uint64_t)&gs_target[0]);
	syscall(SYS_arch_prctl, ARCH_GET_GS, &v);
	printf("after wrgsbase: ARCH_GET_GS == &x: %s\n",
	       yesno(v == (uint64_t)&gs_target[0]));
	printf("after wrgsbase: %%gs:0 == x: %s\n",
	       yesno(read_gs0() == gs_target[0]));
	for (i = 0; i < 1000; i++) {
		getppid();
		if (i % 100 == 0)
			sched_yield();
		if (rdgsbase() != (uint64_t)&gs_target[0])
			same = 0;
	}
	printf("gs base kept across 1000 system calls and yields: %s\n",
	       yesno(same));

	/* arch_prctl, then the instruction's view. */
	syscall(SYS_arch_prctl, ARCH_SET_GS, &gs_target[1]);
	printf("after ARCH_SET_GS: rdgsbase == &y: %s\n",
	       yesno(rdgsbase() == (uint64_t)&gs_target[1]));
	printf("after ARCH_SET_GS: %%gs:0 == y: %s\n",
	       yesno(read_gs0() == gs_target[1]));

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(rdgsbase() == (uint64_t)&gs_target[1] ? 0 : 1);
	waitpid(pid, &st, 0);
	printf("fork child has the gs base: %s\n",
	       yesno(WIFEXITED(st) && WEXITSTATUS(st) == 0));
	pthread_create(&th, NULL, thread_fn, &in_thread);
	pthread_join(th, NULL);
	printf("new thread has the gs base: %s\n", yesno(in_thread));

	/*
	 * WRFSBASE away from the TLS: only raw system calls until it is
	 * back.  The kernel must see the new base, and keep it.
	 */
	wrfsbase((uint64_t)fs_target);
	__asm__ volatile("movq %%fs:0, %0" : "=r"(fs0));
	for (i = 0; i < 200; i++) {
		raw2(SYS_getppid, 0, 0);
		if (i % 50 == 0)
			raw2(SYS_sched_yield, 0, 0);
	}
	raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&got_fs);
	v = rdfsbase();
	wrfsbase(fs);
	printf("after wrfsbase: %%fs:0 == x: %s\n", yesno(fs0 == fs_target[0]));
	printf("after wrfsbase and 200 system calls: ARCH_GET_FS == &x: %s, rdfsbase == &x: %s\n",
	       yesno(got_fs == (uint64_t)fs_target), yesno(v == (uint64_t)fs_target));

	/* Both bases back to what libc had; the kernel agrees. */
	syscall(SYS_arch_prctl, ARCH_GET_FS, &got_fs);
	syscall(SYS_arch_prctl, ARCH_SET_GS, 0);
	got_gs = rdgsbase();
	printf("restored: fs %s, gs 0 %s\n", yesno(got_fs == fs), yesno(got_gs == 0));
	return 0;
}
