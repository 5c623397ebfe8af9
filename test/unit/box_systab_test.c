// SPDX-License-Identifier: MIT
/*
 * box/systab.c on the host: the table is consistent (names agree with
 * the kernel's numbers, length arguments exist), the layouts the
 * monitor's checks rely on are what the calls take, and what must never
 * reach Linux is refused whatever a policy says.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"

#include <string.h>
#include <sys/syscall.h>

#include "../../box/systab.c"

static const char *const gen_names[512] = {
#define BOX_SYSCALL(n, nr) [nr] = #n,
#include "box-sysnames.h"
#undef BOX_SYSCALL
};

START_TEST(consistent)
{
	unsigned int nr, i, known = 0;

	ck_assert_uint_le(box_systab_size, 512);
	for (nr = 0; nr < box_systab_size; nr++) {
		const struct box_sysent *e = box_systab(nr);

		if (e->kind == BK_UNKNOWN) {
			ck_assert_ptr_null(e->name);
			continue;
		}
		known++;
		ck_assert_ptr_nonnull(gen_names[nr]);
		ck_assert_str_eq(e->name, gen_names[nr]);
		ck_assert_uint_le(e->nargs, 6);
		for (i = 0; i < e->nargs; i++) {
			const struct box_arg *a = &e->a[i];

			ck_assert_uint_le(a->ty, BA_SPECIAL);
			/* a length argument exists and is a number */
			if (a->len != BOX_NOLEN) {
				ck_assert_uint_lt(a->len, e->nargs);
				ck_assert_uint_ne(a->len, i);
				ck_assert_msg(e->a[a->len].ty == BA_VAL,
					      "%s: arg %u", e->name, i);
			}
			/* buffers have a size from somewhere */
			if (a->ty == BA_IN || a->ty == BA_OUT ||
			    a->ty == BA_INOUT)
				ck_assert(a->len != BOX_NOLEN || a->sz);
			if (a->ty == BA_IOV_IN || a->ty == BA_IOV_OUT ||
			    a->ty == BA_SA_OUT)
				ck_assert_uint_ne(a->len, BOX_NOLEN);
		}
	}
	ck_assert_uint_gt(known, 200);
	ck_assert_int_eq(box_systab(-1)->kind, BK_UNKNOWN);
	ck_assert_int_eq(box_systab(100000)->kind, BK_UNKNOWN);
	ck_assert_int_eq(box_systab(SYS_acct)->kind, BK_UNKNOWN);
}
END_TEST

#define ARG(nr, i) (box_systab(nr)->a[i])

START_TEST(layouts)
{
	ck_assert_int_eq(ARG(SYS_read, 1).ty, BA_OUT);
	ck_assert_int_eq(ARG(SYS_read, 1).len, 2);
	ck_assert_int_eq(ARG(SYS_write, 1).ty, BA_IN);
	ck_assert_int_eq(ARG(SYS_readv, 1).ty, BA_IOV_OUT);
	ck_assert_int_eq(ARG(SYS_writev, 1).ty, BA_IOV_IN);
	ck_assert_int_eq(ARG(SYS_recvmsg, 1).ty, BA_MSG_OUT);
	ck_assert_int_eq(ARG(SYS_sendmsg, 1).ty, BA_MSG_IN);
	ck_assert_int_eq(ARG(SYS_openat, 1).ty, BA_PATH);
	ck_assert_int_eq(ARG(SYS_renameat2, 1).ty, BA_PATH);
	ck_assert_int_eq(ARG(SYS_renameat2, 3).ty, BA_PATH);
	ck_assert_int_eq(ARG(SYS_utimensat, 1).opt, 1);
	ck_assert_int_eq(ARG(SYS_fstat, 1).ty, BA_OUT);
	ck_assert_uint_eq(ARG(SYS_fstat, 1).sz, 144);
	ck_assert_uint_eq(ARG(SYS_uname, 0).sz, 6 * 65);
	ck_assert_uint_eq(ARG(SYS_statx, 4).sz, 256);
	ck_assert_uint_eq(ARG(SYS_epoll_wait, 1).sz, 12);
	ck_assert_uint_eq(ARG(SYS_poll, 0).sz, 8);
	ck_assert_int_eq(ARG(SYS_poll, 0).ty, BA_INOUT);
	ck_assert_uint_eq(ARG(SYS_wait4, 3).sz, 144);
	ck_assert_int_eq(ARG(SYS_accept, 1).ty, BA_SA_OUT);
	ck_assert_int_eq(ARG(SYS_accept, 1).opt, 1);
	ck_assert_int_eq(ARG(SYS_getsockopt, 3).ty, BA_SA_OUT);
	ck_assert_int_eq(ARG(SYS_ioctl, 2).ty, BA_SPECIAL);
	ck_assert_int_eq(ARG(SYS_fcntl, 2).ty, BA_SPECIAL);
	ck_assert_int_eq(ARG(SYS_futex, 0).ty, BA_SPECIAL);
	ck_assert_int_eq(ARG(SYS_rt_sigprocmask, 1).len, 3);
}
END_TEST

START_TEST(kinds)
{
	static const int mem[] = { SYS_brk, SYS_mmap, SYS_munmap,
				   SYS_mprotect, SYS_mremap, SYS_madvise,
				   SYS_msync, SYS_shmat, SYS_shmdt };
	static const int refused[] = {
		SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev,
		SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
		SYS_userfaultfd, SYS_perf_event_open, SYS_bpf, SYS_modify_ldt,
		SYS_vmsplice, SYS_iopl, SYS_ioperm,
	};
	static const int emulated[] = { SYS_exit, SYS_exit_group,
					SYS_arch_prctl, SYS_rt_sigaction,
					SYS_sigaltstack, SYS_set_robust_list,
					SYS_rt_sigreturn, SYS_set_tid_address,
					SYS_clone, SYS_clone3, SYS_fork, SYS_vfork,
					SYS_execve, SYS_execveat };
	unsigned int i;

	for (i = 0; i < sizeof(mem) / sizeof(mem[0]); i++)
		ck_assert_int_eq(box_systab(mem[i])->kind, BK_MEM);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ck_assert_int_eq(box_systab(refused[i])->kind, BK_REFUSE);
	for (i = 0; i < sizeof(emulated) / sizeof(emulated[0]); i++)
		ck_assert_int_eq(box_systab(emulated[i])->kind, BK_EMUL);
	/* rseq is refused without a message: glibc copes with ENOSYS */
	ck_assert_int_eq(box_systab(SYS_rseq)->kind, BK_REFUSE);
	ck_assert_int_eq(box_systab(SYS_rseq)->quiet, 1);
	ck_assert_int_eq(box_systab(SYS_read)->kind, BK_PASS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("box_systab");
	TCase *tc = tcase_create("systab");

	tcase_add_test(tc, consistent);
	tcase_add_test(tc, layouts);
	tcase_add_test(tc, kinds);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
