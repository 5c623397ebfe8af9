// SPDX-License-Identifier: MIT
/*
 * Unit tests for the parts of ring 3 and signal handling that need no
 * guest: frames made safe for ring 3, the ring-3 system call frame, the
 * pending-signal queue, the native signal path, argument checks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../libdune/fmt.c"
#include "../../libdune/signal.c"
#include "../../libdune/user.c"

/* What the guest-only parts would do: nothing here. */
__thread struct dune_thread *dune_self;
static bool active;

bool dune_active(void)
{
	return active;
}

void dune_set_lstar(struct dune_thread *t, bool user)
{
}

int dune_user_enter(struct dune_user_ctx *ctx, const struct dune_tf *tf,
		    uint64_t rflags)
{
	abort();
}

void dune_user_resume(const struct dune_user_ctx *ctx, int ret)
{
	abort();
}

void dune_tf_pop(const struct dune_tf *tf)
{
	abort();
}

void dune_die_signal(int sig)
{
	abort();
}

void dune_user_syscall_stub(void)
{
}

/* trap.c's table: what the signal registration put there. */
static int set_vec = -1;
static dune_intr_cb set_cb;

void dune_set_intr_handler(int vec, dune_intr_cb cb)
{
	set_vec = vec;
	set_cb = cb;
}

START_TEST(test_sanitize)
{
	struct dune_tf tf = { .cs = DUNE_SEL_KCODE, .ss = DUNE_SEL_KDATA };

	/* IOPL 3, NT, RF, VM, IF off; CF, TF, DF, AC, ID kept */
	tf.rflags = 0x3000 | 0x4000 | 0x10000 | 0x20000 | 0x1 | 0x100 |
		    0x400 | 0x40000 | 0x200000;
	dune_user_sanitize(&tf);
	ck_assert_uint_eq(tf.cs, DUNE_USER_CS);
	ck_assert_uint_eq(tf.ss, DUNE_USER_SS);
	ck_assert_uint_eq(tf.rflags, 0x1 | 0x2 | 0x100 | 0x200 | 0x400 |
				     0x40000 | 0x200000);
	tf.rflags = 0;
	dune_user_sanitize(&tf);
	ck_assert_uint_eq(tf.rflags, 0x202);
	/* the selectors agree with the GDT's ring-3 descriptors */
	ck_assert_uint_eq(DUNE_USER_CS, DUNE_SEL_UCODE | 3);
	ck_assert_uint_eq(DUNE_USER_SS, DUNE_SEL_UDATA | 3);
}
END_TEST

static struct dune_tf seen_tf;
static int seen_calls;

static void sys_cb(struct dune_tf *tf)
{
	seen_tf = *tf;
	seen_calls++;
	tf->rax = 99;
}

START_TEST(test_user_syscall_frame)
{
	struct dune_tf tf = {
		.rax = 39, .rcx = 0x401000, .r11 = 0x246, .rip = 0x1234,
		.cs = DUNE_SEL_KCODE, .rflags = 0x2, .rsp = 0x7000,
		.ss = DUNE_SEL_KDATA, .vector = DUNE_VEC_USER_SYSCALL,
	};
	struct dune_tf t2 = tf;

	dune_register_syscall_handler(NULL);
	dune_user_syscall(&t2);
	ck_assert_int_eq((long)t2.rax, -ENOSYS);

	dune_register_syscall_handler(sys_cb);
	dune_user_syscall(&tf);
	ck_assert_int_eq(seen_calls, 1);
	ck_assert_uint_eq(seen_tf.rax, 39);
	ck_assert_uint_eq(seen_tf.rip, 0x401000);
	ck_assert_uint_eq(seen_tf.rflags, 0x246);
	ck_assert_uint_eq(seen_tf.cs, DUNE_USER_CS);
	ck_assert_uint_eq(seen_tf.ss, DUNE_USER_SS);
	ck_assert_uint_eq(seen_tf.rsp, 0x7000);
	ck_assert_uint_eq(tf.rax, 99);
	dune_register_syscall_handler(NULL);
}
END_TEST

/* The original libdune's argument order: r10 (the fourth) is ARG3. */
START_TEST(test_user_syscall_args)
{
	struct dune_tf tf = {
		.rax = 9, .rdi = 1, .rsi = 2, .rdx = 3, .r10 = 4, .r8 = 5,
		.r9 = 6, .rcx = 0x401000, .r11 = 0x246, .cs = DUNE_SEL_KCODE,
		.ss = DUNE_SEL_KDATA, .vector = DUNE_VEC_USER_SYSCALL,
	};

	dune_register_syscall_handler(sys_cb);
	dune_user_syscall(&tf);
	ck_assert_uint_eq(ARG0(&seen_tf), 1);
	ck_assert_uint_eq(ARG1(&seen_tf), 2);
	ck_assert_uint_eq(ARG2(&seen_tf), 3);
	ck_assert_uint_eq(ARG3(&seen_tf), 4);
	ck_assert_uint_eq(ARG4(&seen_tf), 5);
	ck_assert_uint_eq(ARG5(&seen_tf), 6);
	/* ring 3 resumes as after SYSRET, with its r10 */
	ck_assert_uint_eq(tf.rcx, 0x401000);
	ck_assert_uint_eq(tf.r11, 0x246);
	ck_assert_uint_eq(tf.r10, 4);
	dune_register_syscall_handler(NULL);
}
END_TEST

START_TEST(test_passthrough)
{
	struct dune_tf tf = { .rax = SYS_getppid };

	dune_passthrough_syscall(&tf);
	ck_assert_int_eq((long)tf.rax, getppid());
	tf.rax = SYS_clone;
	tf.rdi = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
	dune_passthrough_syscall(&tf);
	ck_assert_int_eq((long)tf.rax, -ENOSYS);
	tf.rax = SYS_vfork;
	dune_passthrough_syscall(&tf);
	ck_assert_int_eq((long)tf.rax, -ENOSYS);
}
END_TEST

START_TEST(test_jump_outside_dune)
{
	struct dune_tf tf = { 0 };

	active = false;
	ck_assert_int_eq(dune_jump_to_user(&tf), -EPERM);
}
END_TEST

/* Refused before anything touches the thread (its GDT, the MSRs). */
START_TEST(test_jump_noncanonical)
{
	struct dune_tf tf = { .rip = 0x0000800000000000ull, .rsp = 0x1000 };

	active = true;
	ck_assert_int_eq(dune_jump_to_user(&tf), -EINVAL);
	tf.rip = 0xffff800000000000ull;		/* canonical */
	tf.rsp = 0xfff0000000000000ull;
	ck_assert_int_eq(dune_jump_to_user(&tf), -EINVAL);
	tf.rsp = 0x00007ffffffff000ull;
	tf.rip = 0x8000000000000000ull;
	ck_assert_int_eq(dune_jump_to_user(&tf), -EINVAL);
	active = false;
}
END_TEST

START_TEST(test_signal_queue)
{
	static struct dune_thread t;

	ck_assert_uint_eq(dune_signal_next(&t), 0);
	t.sig_pending = (1ull << (SIGUSR2 - 1)) | (1ull << (SIGUSR1 - 1)) |
			(1ull << 63);
	ck_assert_uint_eq(dune_signal_next(&t), DUNE_SIGNAL_VECTOR(SIGUSR1));
	ck_assert_uint_eq(dune_signal_next(&t), DUNE_SIGNAL_VECTOR(SIGUSR2));
	ck_assert_uint_eq(dune_signal_next(&t), DUNE_SIGNAL_VECTOR(64));
	ck_assert_uint_eq(dune_signal_next(&t), 0);
	/* the vectors stay clear of the exceptions and of our own */
	ck_assert_uint_gt(DUNE_SIGNAL_VECTOR(1), 31);
	ck_assert_uint_lt(DUNE_SIGNAL_VECTOR(64), DUNE_VEC_USER_SYSCALL);
}
END_TEST

static volatile int cb_calls;
static volatile uint64_t cb_vector, cb_cs;

static void sig_cb(struct dune_tf *tf)
{
	cb_calls++;
	cb_vector = tf->vector;
	cb_cs = tf->cs;
}

START_TEST(test_signal_register)
{
	static struct dune_thread t;

	/* the original libdune's return: -EINVAL */
	ck_assert_int_eq(dune_register_signal_handler(SIGKILL, sig_cb), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(dune_register_signal_handler(SIGSTOP, sig_cb), -EINVAL);
	ck_assert_int_eq(dune_register_signal_handler(0, sig_cb), -EINVAL);
	ck_assert_int_eq(dune_register_signal_handler(65, sig_cb), -EINVAL);
	ck_assert_int_eq(dune_register_signal_handler(32, sig_cb), -EINVAL);
	ck_assert_int_eq(set_vec, -1);

	/* not in Dune mode: the callback runs natively */
	ck_assert_int_eq(dune_register_signal_handler(SIGUSR1, sig_cb), 0);
	/* and the original's vector for the signal gets it too */
	ck_assert_int_eq(set_vec, DUNE_SIGNAL_INTR_BASE + SIGUSR1);
	ck_assert_ptr_eq(set_cb, sig_cb);
	ck_assert_ptr_eq(dune_signal_cb(DUNE_SIGNAL_VECTOR(SIGUSR1)), sig_cb);
	ck_assert_ptr_null(dune_signal_cb(DUNE_SIGNAL_VECTOR(SIGUSR2)));
	ck_assert_ptr_null(dune_signal_cb(13));
	raise(SIGUSR1);
	ck_assert_int_eq(cb_calls, 1);
	ck_assert_uint_eq(cb_vector, DUNE_SIGNAL_VECTOR(SIGUSR1));
	ck_assert_uint_eq(cb_cs & 3, 3);

	/* a thread with a vCPU: only marked pending for the host loop */
	t.vcpu_fd = 5;
	dune_self = &t;
	raise(SIGUSR1);
	dune_self = NULL;
	ck_assert_int_eq(cb_calls, 1);
	ck_assert_uint_eq(t.sig_pending, 1ull << (SIGUSR1 - 1));

	ck_assert_int_eq(dune_register_signal_handler(SIGUSR1, NULL), 0);
	ck_assert_ptr_null(dune_signal_cb(DUNE_SIGNAL_VECTOR(SIGUSR1)));
	ck_assert_ptr_null(set_cb);
	/* 56 and up have no vector above DUNE_SIGNAL_INTR_BASE */
	set_vec = -1;
	ck_assert_int_eq(dune_register_signal_handler(60, sig_cb), 0);
	ck_assert_int_eq(set_vec, -1);
	ck_assert_int_eq(dune_register_signal_handler(60, NULL), 0);
}
END_TEST

static Suite *user_suite(void)
{
	Suite *s = suite_create("user");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sanitize);
	tcase_add_test(tc, test_user_syscall_frame);
	tcase_add_test(tc, test_user_syscall_args);
	tcase_add_test(tc, test_passthrough);
	tcase_add_test(tc, test_jump_noncanonical);
	tcase_add_test(tc, test_jump_outside_dune);
	tcase_add_test(tc, test_signal_queue);
	tcase_add_test(tc, test_signal_register);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(user_suite());
}
