// SPDX-License-Identifier: MIT
/*
 * dune-run: unmodified dynamic programs in Dune mode through libdune.so's
 * constructor, what they exec, --stats, and every refusal with its
 * message and exit status.  dune-run-probe (linked with libdune.so)
 * reports dune_active() and the CPL; dyn-* are the host's dynamically
 * linked true, cat, echo and dash (the machine's busybox is static).
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "itest.h"

#define OUT_MAX 16384
#define KVM_DIR "/opt/dune/kvm"

/* Documented exit statuses of dune-run (apps/dune-run.c). */
#define ST_NOT_SUPPORTED	124
#define ST_CANNOT_ENTER		125
#define ST_CANNOT_EXEC		126
#define ST_NOT_FOUND		127

static char out[OUT_MAX];
/* EXPECT_* of itest.h print this buffer on failure */
#define err out

/*
 * Run a shell command with stdout and stderr into `out`; its exit
 * status, or 1000 + signal if it died of one.
 */
static int __attribute__((format(printf, 1, 2))) run(const char *fmt, ...)
{
	char cmd[1024];
	const char *path = "/tmp/itest-dune-run.out";
	va_list ap;
	ssize_t n;
	pid_t pid;
	int fd, st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	IT_ASSERT(fd >= 0);
	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(99);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

#define EXPECT_STATUS(st, code)                                          \
	do {                                                             \
		int _st = (st);                                          \
		if (_st != (code))                                       \
			IT_FAIL("status %d, expected %d; output:\n%s", _st, \
				(code), out);                            \
	} while (0)

#define EXPECT_NO_TEXT(s)                                                \
	do {                                                             \
		if (strstr(out, (s)))                                    \
			IT_FAIL("\"%s\" in the output:\n%s", (s), out);  \
	} while (0)

static int count_of(const char *text, const char *what)
{
	int n = 0;

	while ((text = strstr(text, what))) {
		n++;
		text++;
	}
	return n;
}

/* "dune-run:   N VMCALL" in the first stats block of `out`: N, or -1. */
static long vmcalls(void)
{
	const char *p = strstr(out, "dune-run: stats of pid");
	const char *line;

	if (!p)
		return -1;
	for (line = strchr(p, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		long n;
		char name[32];

		if (sscanf(line + 1, "dune-run: %ld %31s", &n, name) != 2)
			break;
		if (!strcmp(name, "VMCALL"))
			return n;
	}
	return -1;
}

/* A program linked with libdune.so, started by dune-run, is in Dune mode
 * from its constructors on, and so are its threads and fork children. */
static void probe_in_dune_mode(void)
{
	EXPECT_STATUS(run("dune-run -- dune-run-probe ctor thread fork"), 0);
	EXPECT_TEXT("main: dune_active 1 cpl 0\n");
	EXPECT_TEXT("ctor: dune_active 1\n");
	EXPECT_TEXT("thread: dune_active 1 cpl 0\n");
	EXPECT_TEXT("child: dune_active 1 cpl 0\n");
	EXPECT_NO_TEXT("dune_active 0");
}

/* Linking libdune.so, or preloading it without DUNE_RUN, does nothing. */
static void native_without_dune_run(void)
{
	EXPECT_STATUS(run("dune-run-probe ctor"), 0);
	EXPECT_TEXT("main: dune_active 0 cpl 3\n");
	EXPECT_TEXT("ctor: dune_active 0\n");
	EXPECT_STATUS(run("LD_PRELOAD=/opt/dune/lib/libdune.so.0 dune-run-probe"),
		      0);
	EXPECT_TEXT("main: dune_active 0 cpl 3\n");
	EXPECT_STATUS(run("DUNE_RUN=0 LD_PRELOAD=/opt/dune/lib/libdune.so.0 dune-run-probe"),
		      0);
	EXPECT_TEXT("main: dune_active 0 cpl 3\n");
}

/* What a Dune process execs (directly or through a shell) is in Dune
 * mode too: the environment carries LD_PRELOAD and DUNE_RUN. */
static void exec_children(void)
{
	EXPECT_STATUS(run("dune-run -- dune-run-probe exec dune-run-probe fork"),
		      0);
	IT_ASSERT_EQ(count_of(out, "main: dune_active 1 cpl 0\n"), 2);
	EXPECT_TEXT("child: dune_active 1 cpl 0\n");
	EXPECT_STATUS(run("dune-run -- dyn-sh -c 'dune-run-probe; dune-run-probe thread'"),
		      0);
	IT_ASSERT_EQ(count_of(out, "main: dune_active 1 cpl 0\n"), 2);
	EXPECT_TEXT("thread: dune_active 1 cpl 0\n");
	EXPECT_NO_TEXT("dune_active 0");
	/* an existing LD_PRELOAD is kept, after libdune.so */
	EXPECT_STATUS(run("LD_PRELOAD=/opt/dune/lib/libdune.so.0 dune-run -- dyn-sh -c 'echo \"$LD_PRELOAD\"; dune-run-probe'"),
		      0);
	EXPECT_TEXT("libdune.so.0:/opt/dune/lib/libdune.so.0\n");
	EXPECT_TEXT("main: dune_active 1 cpl 0\n");
}

/* Ordinary programs: exit statuses and output as natively. */
static void shell_pipeline(void)
{
	EXPECT_STATUS(run("dune-run /opt/dune/bin/dyn-true"), 0);
	IT_ASSERT_EQ(out[0], 0);
	EXPECT_STATUS(run("dune-run -- dyn-sh -c 'dyn-echo hi | dyn-cat'"), 0);
	IT_ASSERT(!strcmp(out, "hi\n"));
	EXPECT_STATUS(run("dune-run -- dyn-sh -c 'exit 7'"), 7);
	EXPECT_STATUS(run("dune-run -- dyn-sh -c 'kill -TERM $$'; echo $?"), 0);
	EXPECT_TEXT("143\n");
	EXPECT_STATUS(run("echo piped | dune-run -- dyn-cat"), 0);
	IT_ASSERT(!strcmp(out, "piped\n"));
}

/* --stats: every process of the tree reports its exits at exit_group;
 * system calls are VMCALL exits.  Coreutils' echo and cat close stderr
 * before they exit: the report still comes. */
static void stats(void)
{
	EXPECT_STATUS(run("dune-run --stats -- dyn-true"), 0);
	EXPECT_TEXT("dune-run: stats of pid ");
	EXPECT_TEXT(" (dyn-true): ");
	EXPECT_TEXT(" VM exits, ");
	IT_ASSERT(vmcalls() > 0);
	/* the shell and both ends of the pipe */
	EXPECT_STATUS(run("dune-run --stats -- dyn-sh -c 'dyn-echo hi | dyn-cat' 2>&1 >/dev/null"),
		      0);
	EXPECT_TEXT(" (dyn-sh): ");
	EXPECT_TEXT(" (dyn-echo): ");
	EXPECT_TEXT(" (dyn-cat): ");
	/* no --stats, no stats (not even inherited from the environment) */
	EXPECT_STATUS(run("DUNE_RUN_STATS=1 dune-run -- dyn-true"), 0);
	IT_ASSERT_EQ(out[0], 0);
}

/* The counts of a thread that exited, and of one still running at
 * exit_group, are in the total: 3000 getppid calls are 3000 VMCALLs. */
static void stats_threads(void)
{
	long n;

	EXPECT_STATUS(run("dune-run --stats -- dune-run-probe syscalls 0"), 0);
	n = vmcalls();
	if (n <= 0 || n >= 1000)
		IT_FAIL("no thread calls: %ld VMCALLs, expected 1..999:\n%s", n,
			out);
	EXPECT_STATUS(run("dune-run --stats -- dune-run-probe syscalls 3000"), 0);
	n = vmcalls();
	if (n < 3000)
		IT_FAIL("exited thread: %ld VMCALLs, expected >= 3000:\n%s", n,
			out);
	EXPECT_STATUS(run("dune-run --stats -- dune-run-probe live 3000"), 0);
	n = vmcalls();
	if (n < 3000)
		IT_FAIL("live thread: %ld VMCALLs, expected >= 3000:\n%s", n,
			out);
}

static void not_found(void)
{
	EXPECT_STATUS(run("dune-run -- no-such-program"), ST_NOT_FOUND);
	EXPECT_TEXT("dune-run: no-such-program: command not found\n");
	EXPECT_STATUS(run("dune-run /no/such/file"), ST_NOT_FOUND);
	EXPECT_STATUS(run("dune-run --quiet -- no-such-program"), ST_NOT_FOUND);
	IT_ASSERT_EQ(out[0], 0);
}

static void not_executable(void)
{
	EXPECT_STATUS(run("echo 'echo no' >/tmp/dr-noexec; chmod 644 /tmp/dr-noexec; dune-run /tmp/dr-noexec"),
		      ST_CANNOT_EXEC);
	EXPECT_TEXT("dune-run: /tmp/dr-noexec: Permission denied\n");
	unlink("/tmp/dr-noexec");
}

static void usage_errors(void)
{
	EXPECT_STATUS(run("dune-run"), 2);
	EXPECT_TEXT("usage: dune-run");
	EXPECT_STATUS(run("dune-run --bogus dyn-true"), 2);
	EXPECT_TEXT("unknown option --bogus");
	EXPECT_STATUS(run("dune-run --help"), 0);
	EXPECT_TEXT("usage: dune-run");
}

/* busybox is static: LD_PRELOAD cannot work, so dune-run refuses (a
 * script whose interpreter is static too), never running it natively. */
static void static_refused(void)
{
	EXPECT_STATUS(run("dune-run -- busybox echo ran"), ST_NOT_SUPPORTED);
	EXPECT_TEXT("is statically linked");
	EXPECT_NO_TEXT("ran");
	EXPECT_STATUS(run("dune-run -- true"), ST_NOT_SUPPORTED);
	EXPECT_STATUS(run("dune-run --quiet -- true"), ST_NOT_SUPPORTED);
	IT_ASSERT_EQ(out[0], 0);
	EXPECT_STATUS(run("printf '#!/bin/sh\\necho ran\\n' >/tmp/dr-s1; chmod 755 /tmp/dr-s1; dune-run /tmp/dr-s1"),
		      ST_NOT_SUPPORTED);
	EXPECT_TEXT("is statically linked");
	EXPECT_NO_TEXT("ran");
	/* a script with a dynamic interpreter runs, in Dune mode */
	EXPECT_STATUS(run("printf '#!/opt/dune/bin/dyn-sh\\ndune-run-probe\\n' >/tmp/dr-s2; chmod 755 /tmp/dr-s2; dune-run /tmp/dr-s2"),
		      0);
	EXPECT_TEXT("main: dune_active 1 cpl 0\n");
	unlink("/tmp/dr-s1");
	unlink("/tmp/dr-s2");
}

/* setuid/setgid to someone else: ld.so's secure mode would drop
 * LD_PRELOAD, so dune-run refuses. */
static void setuid_refused(void)
{
	EXPECT_STATUS(run("cp /opt/dune/bin/dune-run-probe /tmp/dr-suid && chown 1234 /tmp/dr-suid && chmod 4755 /tmp/dr-suid && dune-run /tmp/dr-suid"),
		      ST_NOT_SUPPORTED);
	EXPECT_TEXT("it is setuid");
	EXPECT_NO_TEXT("dune_active");
	EXPECT_STATUS(run("chown 0:1234 /tmp/dr-suid && chmod 2755 /tmp/dr-suid && dune-run /tmp/dr-suid"),
		      ST_NOT_SUPPORTED);
	EXPECT_TEXT("it is setgid");
	EXPECT_NO_TEXT("dune_active");
	/* setuid to ourselves changes nothing: it runs */
	EXPECT_STATUS(run("chown 0:0 /tmp/dr-suid && chmod 6755 /tmp/dr-suid && dune-run /tmp/dr-suid"),
		      0);
	EXPECT_TEXT("main: dune_active 1 cpl 0\n");
	unlink("/tmp/dr-suid");
}

static const char *dune_ko(void)
{
	const char *p = getenv("DUNE_KO");

	return p ? p : "/opt/dune/dune.ko";
}

/* No module: one line that says to load it, status 125, nothing run;
 * the same from libdune.so's constructor (dune-run's own check
 * bypassed). */
static void module_missing(void)
{
	static char first[OUT_MAX];
	int st1, st2;

	IT_ASSERT_EQ(itest_sh("rmmod dune"), 0);
	st1 = run("dune-run -- dune-run-probe");
	memcpy(first, out, sizeof(first));
	st2 = run("DUNE_RUN=1 LD_PRELOAD=/opt/dune/lib/libdune.so.0 dune-run-probe");
	IT_ASSERT_EQ(itest_sh("insmod %s", dune_ko()), 0);
	EXPECT_STATUS(st2, ST_CANNOT_ENTER);
	EXPECT_TEXT("dune-run: cannot enter Dune mode (No such file or directory): dune.ko is not loaded: sudo modprobe dune");
	EXPECT_NO_TEXT("dune_active");
	memcpy(out, first, sizeof(out));
	EXPECT_STATUS(st1, ST_CANNOT_ENTER);
	EXPECT_TEXT("dune-run: /dev/dune not found: load the module (sudo modprobe dune");
	EXPECT_NO_TEXT("dune_active");
	IT_ASSERT_EQ(count_of(out, "\n"), 1);
}

/* Something else at /dev/dune: it does not answer DUNE_GET_CAPS. */
static void not_dune_device(void)
{
	int st;

	IT_ASSERT_EQ(itest_sh("rmmod dune && mknod /dev/dune c 1 3"), 0);
	st = run("dune-run -- dune-run-probe");
	IT_ASSERT_EQ(itest_sh("rm /dev/dune && insmod %s", dune_ko()), 0);
	EXPECT_STATUS(st, ST_CANNOT_ENTER);
	EXPECT_TEXT("does not answer DUNE_GET_CAPS");
	EXPECT_NO_TEXT("dune_active");
}

/* A KVM VM holds VT-x: EBUSY, said as such, status 125. */
static void vtx_busy(void)
{
	int kvm, vm, st;

	/* 6.12's kvm_intel takes VT-x at load, 6.1's for the VM */
	IT_ASSERT_EQ(itest_sh("insmod " KVM_DIR "/irqbypass.ko && insmod " KVM_DIR "/kvm.ko && insmod " KVM_DIR "/kvm-intel.ko"),
		     0);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	IT_ASSERT(kvm >= 0);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	IT_ASSERT(vm >= 0);
	st = run("dune-run -- dune-run-probe");
	close(vm);
	close(kvm);
	IT_ASSERT_EQ(itest_sh("rmmod kvm_intel && rmmod kvm && rmmod irqbypass"), 0);
	EXPECT_STATUS(st, ST_CANNOT_ENTER);
	EXPECT_TEXT("dune-run: cannot enter Dune mode (Device or resource busy): VT-x is held by another hypervisor: unload kvm_intel");
	EXPECT_NO_TEXT("dune_active");
	/* and with VT-x free again, it works */
	EXPECT_STATUS(run("dune-run -- dune-run-probe"), 0);
	EXPECT_TEXT("main: dune_active 1 cpl 0\n");
}

static const struct itest tests[] = {
	{ "probe_in_dune_mode", probe_in_dune_mode },
	{ "native_without_dune_run", native_without_dune_run },
	{ "exec_children", exec_children },
	{ "shell_pipeline", shell_pipeline },
	{ "stats", stats },
	{ "stats_threads", stats_threads },
	{ "not_found", not_found },
	{ "not_executable", not_executable },
	{ "usage_errors", usage_errors },
	{ "static_refused", static_refused },
	{ "setuid_refused", setuid_refused },
	{ "module_missing", module_missing },
	{ "not_dune_device", not_dune_device },
	{ "vtx_busy", vtx_busy },
};

ITEST_MAIN(tests)
