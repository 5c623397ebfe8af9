// SPDX-License-Identifier: MIT
/*
 * Unit tests for dune-box's policy language (box/policy.c), its
 * decisions (box/policy-decide.c) and the built-in profiles.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "../../box/err.c"
#include "../../box/policy.c"
#include "../../box/policy-names.c"
#include "../../box/policy-decide.c"
#include "../../box/profiles.c"

static char err[512];

static struct box_policy *parse(const char *text)
{
	struct box_policy *p = box_policy_new("/home/u/work");

	ck_assert_ptr_nonnull(p);
	err[0] = '\0';
	if (box_policy_parse(p, "t.pol", text, err, sizeof(err)))
		ck_abort_msg("parse failed: %s", err);
	return p;
}

/* The error message for @text. */
static const char *parse_err(const char *text)
{
	struct box_policy *p = box_policy_new("/home/u/work");

	err[0] = '\0';
	ck_assert_int_eq(box_policy_parse(p, "t.pol", text, err, sizeof(err)),
			 -1);
	box_policy_free(p);
	return err;
}

static struct box_decision call(const struct box_policy *p, int nr,
				uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct box_call c = { .nr = nr, .arg = { a0, a1, a2 } };
	struct box_decision d;

	box_policy_decide(p, &c, &d);
	return d;
}

/* openat(AT_FDCWD, path, flags) with the cwd @base. */
static struct box_decision openat_(const struct box_policy *p,
				   const char *path, int flags,
				   const char *base)
{
	struct box_call c = {
		.nr = SYS_openat, .arg = { (uint64_t)AT_FDCWD, 0x1000, flags },
		.path = { path }, .path_arg = { 1 }, .base = { base },
	};
	struct box_decision d;

	box_policy_decide(p, &c, &d);
	return d;
}

/* newfstatat(AT_FDCWD, path): 0 if allowed, else the errno */
static int see(const struct box_policy *p, const char *path)
{
	struct box_call c = {
		.nr = SYS_newfstatat, .arg = { (uint64_t)AT_FDCWD, 0x1000 },
		.path = { path }, .path_arg = { 1 },
	};
	struct box_decision d;

	box_policy_decide(p, &c, &d);
	return d.verdict == BOX_ALLOW ? 0 : d.err;
}

START_TEST(syscall_names)
{
	ck_assert_int_eq(box_syscall_nr("read"), SYS_read);
	ck_assert_int_eq(box_syscall_nr("io_uring_setup"), SYS_io_uring_setup);
	ck_assert_int_eq(box_syscall_nr("opn"), -1);
	ck_assert_str_eq(box_syscall_name(SYS_openat), "openat");
	ck_assert_ptr_null(box_syscall_name(100000));
}
END_TEST

START_TEST(allow_deny_kill)
{
	struct box_policy *p = parse(
		"# a comment\n"
		"\n"
		"default deny ENOSYS   # trailing comment\n"
		"allow read, write close\n"
		"deny EACCES mount\n"
		"deny umount2\n"
		"kill reboot\n");
	struct box_decision d;

	d = call(p, SYS_read, 0, 0, 0);
	ck_assert_int_eq(d.verdict, BOX_ALLOW);
	ck_assert_int_eq(d.line, 4);
	ck_assert_str_eq(d.file, "t.pol");
	ck_assert_int_eq(call(p, SYS_write, 0, 0, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_close, 0, 0, 0).verdict, BOX_ALLOW);
	d = call(p, SYS_mount, 0, 0, 0);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_int_eq(d.err, EACCES);
	ck_assert_int_eq(d.line, 5);
	ck_assert_str_eq(d.why, "system call not allowed");
	d = call(p, SYS_umount2, 0, 0, 0);
	ck_assert_int_eq(d.err, EPERM);
	ck_assert_int_eq(d.line, 6);
	d = call(p, SYS_reboot, 0, 0, 0);
	ck_assert_int_eq(d.verdict, BOX_KILL);
	ck_assert_int_eq(d.line, 7);
	d = call(p, SYS_getpid, 0, 0, 0);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_int_eq(d.err, ENOSYS);
	ck_assert_int_eq(d.line, 3);
	box_policy_free(p);
}
END_TEST

START_TEST(defaults)
{
	struct box_policy *p = parse("allow read\n");
	struct box_decision d = call(p, SYS_write, 0, 0, 0);

	/* No "default": deny with EPERM. */
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_int_eq(d.err, EPERM);
	ck_assert_int_eq(d.line, 0);
	box_policy_free(p);
	p = parse("default allow\n");
	d = call(p, SYS_write, 0, 0, 0);
	ck_assert_int_eq(d.verdict, BOX_ALLOW);
	ck_assert_int_eq(d.line, 1);
	box_policy_free(p);
	p = parse("default kill\n");
	ck_assert_int_eq(call(p, SYS_write, 0, 0, 0).verdict, BOX_KILL);
	box_policy_free(p);
}
END_TEST

START_TEST(conditions)
{
	struct box_policy *p = parse(
		"default deny\n"
		"allow socket if arg0 == AF_UNIX\n"
		"allow socket if arg0 == AF_INET and arg1 & SOCK_RAW != SOCK_RAW\n"
		"allow openat if arg2 & O_ACCMODE == O_RDONLY\n"
		"allow lseek if arg2 < 2\n"
		"allow dup2 if arg1 <= 10 and arg0 >= 3\n"
		"allow kill if arg1 > 0 and arg1 != SIGTERM\n"
		"allow mmap if arg2 == PROT_READ|PROT_WRITE\n"
		"allow personality if arg0 == -1\n"
		"allow fcntl if arg1==0x2\n");
	ck_assert_int_eq(call(p, SYS_socket, AF_UNIX, SOCK_STREAM, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_socket, AF_INET6, SOCK_STREAM, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_socket, AF_INET, SOCK_DGRAM, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_socket, AF_INET, SOCK_RAW, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_socket, AF_INET, SOCK_RAW, 0).line, 1);
	ck_assert_int_eq(call(p, SYS_openat, 0, 0, O_RDONLY | O_CLOEXEC).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_openat, 0, 0, O_WRONLY).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_lseek, 0, 0, 1).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_lseek, 0, 0, 2).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_dup2, 3, 10, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_dup2, 3, 11, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_dup2, 2, 5, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_kill, 1, 9, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_kill, 1, 0, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_kill, 1, 15, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_mmap, 0, 0, PROT_READ | PROT_WRITE).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_mmap, 0, 0, PROT_READ).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_personality, ~0ULL, 0, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_fcntl, 0, 2, 0).verdict, BOX_ALLOW);
	ck_assert_str_eq(call(p, SYS_socket, AF_INET, SOCK_RAW, 0).why,
			 "system call not allowed");
	box_policy_free(p);
}
END_TEST

START_TEST(later_overrides)
{
	struct box_policy *p = parse(
		"include default\n"
		"allow ptrace\n"
		"deny EACCES socket if arg0 == AF_INET6\n"
		"deny io_uring_*\n"
		"allow io_uring_enter\n");
	struct box_decision d;

	d = call(p, SYS_ptrace, 0, 0, 0);
	ck_assert_int_eq(d.verdict, BOX_ALLOW);
	ck_assert_int_eq(d.line, 2);
	d = call(p, SYS_socket, AF_INET6, 0, 0);
	ck_assert_int_eq(d.err, EACCES);
	ck_assert_str_eq(d.why, "arguments not allowed");
	ck_assert_int_eq(call(p, SYS_socket, AF_INET, 0, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_io_uring_setup, 0, 0, 0).line, 4);
	ck_assert_int_eq(call(p, SYS_io_uring_register, 0, 0, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_io_uring_enter, 0, 0, 0).verdict, BOX_ALLOW);
	box_policy_free(p);
}
END_TEST

START_TEST(paths)
{
	struct box_policy *p = parse(
		"default allow\n"
		"ro /etc /usr\n"
		"hide /etc/shadow\n"
		"rw /tmp \"/data/with space\"\n"
		"rw .\n"
		"ro ../ref\n");
	enum box_access acc;
	struct box_decision d;

	ck_assert_int_eq(box_policy_npaths(p), 7);
	ck_assert_str_eq(box_policy_path(p, 4, &acc), "/data/with space");
	ck_assert_int_eq(acc, BOX_RW);
	ck_assert_str_eq(box_policy_path(p, 5, NULL), "/home/u/work");
	ck_assert_str_eq(box_policy_path(p, 6, &acc), "/home/u/ref");
	ck_assert_int_eq(acc, BOX_RO);

	d = openat_(p, "/etc/shadow", O_RDONLY, NULL);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_int_eq(d.err, EACCES);
	ck_assert_int_eq(d.line, 3);
	ck_assert_str_eq(d.why, "path not readable");
	ck_assert_int_eq(openat_(p, "/etc/passwd", O_RDONLY, NULL).verdict, BOX_ALLOW);
	d = openat_(p, "/etc/passwd", O_WRONLY, NULL);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_int_eq(d.line, 2);
	ck_assert_str_eq(d.why, "path not writable");
	ck_assert_int_eq(openat_(p, "/etc/x", O_RDONLY | O_CREAT, NULL).verdict, BOX_DENY);
	ck_assert_int_eq(openat_(p, "/etc/x", O_RDONLY | O_TRUNC, NULL).verdict, BOX_DENY);
	ck_assert_int_eq(openat_(p, "/tmp/x", O_RDWR | O_CREAT, NULL).verdict, BOX_ALLOW);
	/* relative to the cwd the monitor gives; ".." resolved */
	ck_assert_int_eq(openat_(p, "out.o", O_WRONLY, "/home/u/work").verdict, BOX_ALLOW);
	ck_assert_int_eq(openat_(p, "../ref/a.c", O_RDONLY, "/home/u/work").verdict, BOX_ALLOW);
	ck_assert_int_eq(openat_(p, "../ref/a.c", O_WRONLY, "/home/u/work").verdict, BOX_DENY);
	ck_assert_int_eq(openat_(p, "../../../etc//./shadow", O_RDONLY, "/tmp/a").verdict, BOX_DENY);
	ck_assert_int_eq(openat_(p, "/tmp/../etc/shadow", O_RDONLY, NULL).verdict, BOX_DENY);
	/* unknown base: left to Landlock */
	ck_assert_int_eq(openat_(p, "x", O_WRONLY, NULL).verdict, BOX_ALLOW);
	/* outside every rule: as if absent */
	d = openat_(p, "/home/u/secret", O_RDONLY, NULL);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_int_eq(d.err, ENOENT);
	ck_assert_int_eq(d.line, 0);
	ck_assert_ptr_null(d.file);
	ck_assert_int_eq(openat_(p, "/home/u/secret", O_WRONLY | O_CREAT, NULL).err, ENOENT);
	/* the parents of a visible path: seen, not read or written */
	ck_assert_int_eq(see(p, "/home/u"), 0);
	ck_assert_int_eq(see(p, "/home"), 0);
	ck_assert_int_eq(see(p, "/"), 0);
	ck_assert_int_eq(see(p, "/home/u/secret"), ENOENT);
	ck_assert_int_eq(see(p, "/home/uu"), ENOENT);
	d = openat_(p, "/home", O_RDONLY | O_DIRECTORY, NULL);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_int_eq(d.err, EACCES);
	ck_assert_int_eq(openat_(p, "/home/u/new", O_WRONLY | O_CREAT, NULL).err, ENOENT);
	ck_assert_int_eq(openat_(p, "/home/u", O_WRONLY | O_CREAT, NULL).err, EACCES);
	/* an explicit hide rule is a refusal, not an absence */
	ck_assert_int_eq(see(p, "/etc/shadow"), EACCES);
	/* "/etcx" is not under "/etc" */
	ck_assert_int_eq(openat_(p, "/etcx", O_RDONLY, NULL).err, ENOENT);
	/* files already open: Landlock checks where they lead */
	ck_assert_int_eq(openat_(p, "/dev/stdout", O_WRONLY, NULL).verdict, BOX_ALLOW);
	ck_assert_int_eq(openat_(p, "/proc/self/fd/1", O_WRONLY, NULL).verdict, BOX_ALLOW);
	box_policy_free(p);
}
END_TEST

START_TEST(path_calls_need)
{
	struct box_policy *p = parse("default allow\nro /usr\nrw /tmp\n"
				     "hide /usr/sbin\n");
	struct box_call c = { .nr = SYS_execve, .path = { "/usr/bin/cc" },
			      .path_arg = { 0 } };
	struct box_decision d;
	int idx[2];

	box_policy_decide(p, &c, &d);
	ck_assert_int_eq(d.verdict, BOX_ALLOW);
	c.path[0] = "/usr/sbin/x";
	box_policy_decide(p, &c, &d);
	ck_assert_str_eq(d.why, "path not executable");
	ck_assert_int_eq(d.err, EACCES);
	c.path[0] = "/bin/sh";
	box_policy_decide(p, &c, &d);
	ck_assert_int_eq(d.err, ENOENT);
	c = (struct box_call){ .nr = SYS_newfstatat, .path = { "/usr/sbin" },
			       .path_arg = { 1 } };
	box_policy_decide(p, &c, &d);
	ck_assert_str_eq(d.why, "path hidden");
	/* rename from rw into ro: the second path decides */
	c = (struct box_call){ .nr = SYS_rename, .path = { "/tmp/a", "/usr/a" },
			       .path_arg = { 0, 1 } };
	box_policy_decide(p, &c, &d);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_str_eq(d.why, "path not writable");
	c = (struct box_call){ .nr = SYS_unlink, .path = { "/usr/lib/x" },
			       .path_arg = { 0 } };
	box_policy_decide(p, &c, &d);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_int_eq(box_policy_path_args(SYS_renameat2, idx), 2);
	ck_assert_int_eq(idx[0], 1);
	ck_assert_int_eq(idx[1], 3);
	ck_assert_int_eq(box_policy_path_args(SYS_read, idx), 0);
	ck_assert_int_eq(idx[0], -1);
	box_policy_free(p);
}
END_TEST

START_TEST(proc_mem)
{
	struct box_policy *p = parse("default allow\n");
	struct box_decision d;

	/* No path rules at all, still refused. */
	d = openat_(p, "/proc/self/mem", O_RDWR, NULL);
	ck_assert_int_eq(d.verdict, BOX_DENY);
	ck_assert_str_eq(d.why, "/proc/PID/mem opened for writing");
	ck_assert_int_eq(openat_(p, "/proc/1234/mem", O_WRONLY, NULL).verdict, BOX_DENY);
	ck_assert_int_eq(openat_(p, "mem", O_WRONLY, "/proc/self/task/7").verdict, BOX_DENY);
	ck_assert_int_eq(openat_(p, "/proc/self/mem", O_RDONLY, NULL).verdict, BOX_ALLOW);
	ck_assert_int_eq(openat_(p, "/tmp/mem", O_WRONLY, NULL).verdict, BOX_ALLOW);
	box_policy_free(p);
}
END_TEST

START_TEST(net_limits)
{
	struct box_policy *p = parse("net loopback\nlimit memory 512M\n"
				     "limit procs 64\nlimit files 0x100\n"
				     "limit cpu 10\nlimit fsize 1G\n");

	ck_assert_int_eq(box_policy_net(p), BOX_NET_LOOPBACK);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_MEMORY), 512ULL << 20);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_PROCS), 64);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_FILES), 256);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_CPU), 10);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_FSIZE), 1ULL << 30);
	ck_assert_int_eq(box_policy_parse(p, "u", "net off\nlimit cpu unlimited\n",
					  err, sizeof(err)), 0);
	ck_assert_int_eq(box_policy_net(p), BOX_NET_OFF);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_CPU), BOX_UNLIMITED);
	box_policy_free(p);
	p = parse("");
	ck_assert_int_eq(box_policy_net(p), BOX_NET_ON);
	ck_assert_uint_eq(box_policy_limit(p, BOX_LIMIT_MEMORY), BOX_UNLIMITED);
	box_policy_free(p);
}
END_TEST

START_TEST(kill_on_deny)
{
	struct box_policy *p = parse("default allow\ndeny ptrace\n");

	box_policy_set_kill_on_deny(p, 1);
	ck_assert_int_eq(call(p, SYS_ptrace, 0, 0, 0).verdict, BOX_KILL);
	ck_assert_int_eq(call(p, SYS_read, 0, 0, 0).verdict, BOX_ALLOW);
	box_policy_free(p);
}
END_TEST

/* Every built-in profile parses and refuses the isolation list. */
START_TEST(profiles)
{
	static const int refused[] = {
		SYS_ptrace, SYS_process_vm_writev, SYS_process_vm_readv,
		SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
		SYS_userfaultfd, SYS_perf_event_open, SYS_bpf, SYS_modify_ldt,
	};
	const char *name = box_profile_names[_i];
	struct box_policy *p = box_policy_new("/w");
	struct box_decision d;
	size_t k;

	ck_assert_ptr_nonnull(name);
	if (box_policy_include(p, name, err, sizeof(err)))
		ck_abort_msg("profile %s: %s", name, err);
	for (k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
		d = call(p, refused[k], 0, 0, 0);
		ck_assert_msg(d.verdict == BOX_DENY, "%s allows %s", name,
			      box_syscall_name(refused[k]));
		ck_assert_int_gt(d.line, 0);
		ck_assert_str_eq(d.file, name[0] == 's' ? "profile strict" :
				 name[0] == 'd' ? "profile default" :
				 "profile permissive");
	}
	ck_assert_int_eq(call(p, SYS_prctl, PR_SET_MM, 0, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_prctl, PR_SET_NAME, 0, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_personality, 0xffffffff, 0, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_personality, PER_LINUX, 0, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_personality, ADDR_NO_RANDOMIZE, 0, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_personality, READ_IMPLIES_EXEC, 0, 0).verdict, BOX_DENY);
	ck_assert_int_eq(openat_(p, "/proc/self/mem", O_RDWR, NULL).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_read, 0, 0, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(openat_(p, "/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY, NULL).verdict, BOX_ALLOW);
	box_policy_free(p);
}
END_TEST

/* What "default" must let shells, compilers and Python do. */
START_TEST(default_profile)
{
	struct box_policy *p = box_policy_new("/home/u/proj");
	static const int allowed[] = {
		SYS_fork, SYS_vfork, SYS_clone, SYS_execve,
		SYS_wait4, SYS_pipe2, SYS_socket, SYS_mmap, SYS_futex,
		SYS_getdents64, SYS_rt_sigaction, SYS_kill, SYS_prlimit64,
		SYS_sysinfo, SYS_epoll_create1, SYS_eventfd2, SYS_getrandom,
	};
	size_t k;

	ck_assert_int_eq(box_policy_include(p, "default", err, sizeof(err)), 0);
	for (k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
		ck_assert_msg(call(p, allowed[k], 0, 0, 0).verdict == BOX_ALLOW,
			      "default denies %s", box_syscall_name(allowed[k]));
	ck_assert_int_eq(call(p, SYS_mount, 0, 0, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_ioctl, 0, TIOCSTI, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_ioctl, 0, TCGETS, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(call(p, SYS_unshare, CLONE_NEWUSER, 0, 0).verdict, BOX_DENY);
	ck_assert_int_eq(call(p, SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0).verdict, BOX_DENY);
	/* clone3's flags are the monitor's to check (box/proc.c) */
	ck_assert_int_eq(call(p, SYS_clone3, 0, 0, 0).verdict, BOX_ALLOW);
	ck_assert_int_eq(openat_(p, "a.out", O_WRONLY | O_CREAT, "/home/u/proj").verdict, BOX_ALLOW);
	ck_assert_int_eq(openat_(p, "/tmp/cc123.s", O_WRONLY | O_CREAT, NULL).verdict, BOX_ALLOW);
	ck_assert_int_eq(openat_(p, "/dev/null", O_WRONLY, NULL).verdict, BOX_ALLOW);
	ck_assert_int_eq(openat_(p, "/usr/bin/x", O_WRONLY, NULL).verdict, BOX_DENY);
	ck_assert_int_eq(openat_(p, "/home/u/other", O_RDONLY, NULL).verdict, BOX_DENY);
	ck_assert_int_eq(box_policy_net(p), BOX_NET_LOOPBACK);
	box_policy_free(p);
}
END_TEST

static const struct {
	const char *text, *msg;
} bad_policies[] = {
	{ "allow opn\n", "t.pol:1: unknown system call 'opn'" },
	{ "\n\nfrobnicate read\n", "t.pol:3: unknown statement 'frobnicate'" },
	{ "allow\n", "t.pol:1: 'allow' needs a system call name" },
	{ "deny EFOO read\n", "t.pol:1: unknown errno 'EFOO'" },
	{ "allow nosuch_*\n", "t.pol:1: no system call matches 'nosuch_*'" },
	{ "allow read if\n", "t.pol:1: expected arg0..arg5, got ''" },
	{ "allow read if foo == 1\n", "t.pol:1: expected arg0..arg5, got 'foo'" },
	{ "allow read if arg6 == 1\n", "t.pol:1: no argument arg6 (arg0..arg5)" },
	{ "allow read if arg0 = 1\n",
	  "t.pol:1: expected ==, !=, <, <=, > or >= after 'arg0'" },
	{ "allow read if arg0 ==\n", "t.pol:1: expected a value after 'comparison'" },
	{ "allow read if arg0 & == 1\n", "t.pol:1: expected a value after '&'" },
	{ "allow socket if arg0 == AF_FOO\n", "t.pol:1: unknown constant 'AF_FOO'" },
	{ "allow read if arg0 == 1 or arg1 == 2\n",
	  "t.pol:1: expected 'and' or the end of the line, got 'or'" },
	{ "allow read if arg0 == 1 and arg1 == 1 and arg2 == 1 and arg3 == 1 and arg4 == 1 and arg5 == 1 and arg0 == 2\n",
	  "t.pol:1: too many conditions (at most 6)" },
	{ "default\n", "t.pol:1: 'default' takes allow, deny [ERRNO] or kill, not ''" },
	{ "default maybe\n", "t.pol:1: 'default' takes allow, deny [ERRNO] or kill, not 'maybe'" },
	{ "default deny EBAR\n", "t.pol:1: unknown errno 'EBAR'" },
	{ "default allow now\n", "t.pol:1: unexpected 'now'" },
	{ "ro\n", "t.pol:1: 'ro' needs a path" },
	{ "hide \"/etc\n", "t.pol:1: unterminated quote" },
	{ "rw \"\"\n", "t.pol:1: empty path" },
	{ "net maybe\n", "t.pol:1: 'net' takes off, loopback or on, not 'maybe'" },
	{ "net\n", "t.pol:1: 'net' takes off, loopback or on, not ''" },
	{ "limit disk 1\n",
	  "t.pol:1: unknown limit 'disk' (memory, procs, files, cpu, fsize)" },
	{ "limit memory\n", "t.pol:1: 'limit memory' needs a value" },
	{ "limit memory 12Q\n", "t.pol:1: bad value '12Q' for limit memory" },
	{ "limit procs 1K\n", "t.pol:1: bad value '1K' for limit procs" },
	{ "limit cpu -1\n", "t.pol:1: bad value '-1' for limit cpu" },
	{ "include\n", "t.pol:1: 'include' needs a profile name" },
	{ "include lax\n",
	  "t.pol:1: unknown profile 'lax' (strict, default, permissive)" },
	{ "include default extra\n", "t.pol:1: unexpected 'extra'" },
	{ "allow read; write\n", "t.pol:1: unexpected ';'" },
	{ "net on =\n", "t.pol:1: unexpected '='" },
};

START_TEST(errors)
{
	ck_assert_str_eq(parse_err(bad_policies[_i].text), bad_policies[_i].msg);
}
END_TEST

START_TEST(file_errors)
{
	struct box_policy *p = box_policy_new("/");
	char path[] = "/tmp/box-policy-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "# x\ndefault allow\nallow opn\n", 28), 28);
	close(fd);
	ck_assert_int_eq(box_policy_parse_file(p, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":3: unknown system call 'opn'"));
	ck_assert_int_eq(strncmp(err, path, strlen(path)), 0);
	unlink(path);
	ck_assert_int_eq(box_policy_parse_file(p, "/nonexistent/p", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/p: No such file or directory");
	ck_assert_int_eq(box_policy_include(p, "lax", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown profile 'lax' (strict, default, permissive)");
	box_policy_free(p);
}
END_TEST

START_TEST(normalise)
{
	char out[64];

	ck_assert_int_eq(box_path_normalise("/a/b", "../c/./d/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/a/c/d");
	ck_assert_int_eq(box_path_normalise(NULL, "/../..//x", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/x");
	ck_assert_int_eq(box_path_normalise("/", ".", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/");
	ck_assert_int_eq(box_path_normalise("/", "/aaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbb/cccccccccccccccccccccccccc", out, sizeof(out)), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("box_policy");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, syscall_names);
	tcase_add_test(tc, allow_deny_kill);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, conditions);
	tcase_add_test(tc, later_overrides);
	tcase_add_test(tc, paths);
	tcase_add_test(tc, path_calls_need);
	tcase_add_test(tc, proc_mem);
	tcase_add_test(tc, net_limits);
	tcase_add_test(tc, kill_on_deny);
	tcase_add_loop_test(tc, profiles, 0, 3);
	tcase_add_test(tc, default_profile);
	tcase_add_loop_test(tc, errors, 0, sizeof(bad_policies) / sizeof(bad_policies[0]));
	tcase_add_test(tc, file_errors);
	tcase_add_test(tc, normalise);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
