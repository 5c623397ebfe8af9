// SPDX-License-Identifier: MIT
/*
 * The monitor's own file descriptors under dune-box (docs/sandbox.md,
 * "Isolation"): the --log file, /dev/dune, the vCPUs and an exec's state
 * must be out of the sandboxed program's reach and out of its view.
 * test/load/box-fds.c attacks every fd number it did not open (write,
 * read, close, dup2 onto and from it, fcntl, mmap, fstat, lseek, poll,
 * select, epoll_ctl, SCM_RIGHTS, /proc/self/fd/N) and prints its view of
 * its fds; the output and wait status must be the native run's, and the
 * log must come out whole.  Also: no monitor page of the sandbox's root
 * is user-accessible (box_mem_build_root), whatever the mode libdune was
 * entered in.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "box-compare.h"
#include "dune.h"
#include "mem.h"

#define LOG "/tmp/itest-box-fds.log"

static char logbuf[1 << 22];

/* The log as written: whole lines only, none of the program's bytes. */
static size_t read_log(void)
{
	int fd = open(LOG, O_RDONLY);
	ssize_t n;
	size_t len = 0;

	IT_ASSERT(fd >= 0);
	while ((n = read(fd, logbuf + len, sizeof(logbuf) - 1 - len)) > 0)
		len += n;
	close(fd);
	logbuf[len] = 0;
	IT_ASSERT(len > 0);
	if (strstr(logbuf, "INJECTED"))
		IT_FAIL("the program wrote into the log:\n%s",
			strstr(logbuf, "INJECTED"));
	IT_ASSERT_EQ(logbuf[len - 1], '\n');
	return len;
}

/* Every line of the log is one call with its decision. */
static void check_lines(void)
{
	size_t len = strlen(logbuf);

	if (len > 1500 && (!strstr(logbuf, "exit_group(") ||
			   !strstr(logbuf, "close_range(")))
		fprintf(stderr, "log ends: %s\n", logbuf + len - 1500);
	char *line = logbuf, *nl;

	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		IT_ASSERT(nl);
		*nl = 0;
		if (!strstr(line, ") = ") ||
		    (!strstr(line, "[allowed]") && !strstr(line, "[denied") &&
		     !strstr(line, "[refused")))
			IT_FAIL("a broken log line: '%s'", line);
		*nl = '\n';
	}
}

static void boxed_with_log(const char *prog, const char *mode)
{
	const char *opts[] = { "--log", LOG, NULL };
	char *argv[] = { (char *)prog, (char *)mode, NULL };

	unlink(LOG);
	/* the program gets 0, 1 and 2 only, as from a shell */
	IT_ASSERT_EQ(syscall(SYS_close_range, 3, ~0u, 0), 0);
	same(opts, argv);
}

/* The first open() and dup() get the native numbers; nothing extra. */
static void test_view(void)
{
	static const char *const progs[] = { "box-fds", "box-fds-static" };
	char *argv[] = { NULL, "view", NULL };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		argv[0] = (char *)progs[i];
		IT_ASSERT_EQ(syscall(SYS_close_range, 3, ~0u, 0), 0);
		same(NULL, argv);
		boxed_with_log(progs[i], "view");
	}
}

static void test_attack(void)
{
	boxed_with_log("box-fds", "attack");
	if (!strstr(boxed.out, "every other number behaves as a closed fd"))
		IT_FAIL("under dune-box:\n%s", boxed.out);
	read_log();
	check_lines();
	/* complete: the calls after the attack are there too */
	IT_ASSERT(strstr(logbuf, "close_range(3, "));
	IT_ASSERT(strstr(logbuf, "exit_group(0) = ? [allowed]\n"));
}

static void test_attack_static(void)
{
	boxed_with_log("box-fds-static", "attack");
	read_log();
	check_lines();
	IT_ASSERT(strstr(logbuf, "exit_group(0) = ? [allowed]\n"));
}

/* Neither the log nor the exec's state reaches the exec'd program. */
static void test_exec(void)
{
	const char *last;

	boxed_with_log("box-fds", "exec");
	if (!strstr(boxed.out, "exec\nfirst open: "))
		IT_FAIL("under dune-box:\n%s", boxed.out);
	read_log();
	check_lines();
	IT_ASSERT(strstr(logbuf, "execve("));
	last = strstr(logbuf, "execve(");
	IT_ASSERT(strstr(last, "exit_group(0) = ? [allowed]\n"));
}

static struct box_mem *root_mem;
static unsigned long user_leaves, monitor_user_leaves;

/* A user-accessible leaf must lie in the sandbox's memory. */
static int leaf_check(const void *arg, ptent_t *pte, void *va)
{
	if (!(*pte & PTE_P) || !(*pte & PTE_U))
		return 0;
	user_leaves++;
	if (box_mem_prot_at(root_mem, (uint64_t)va) < 0)
		monitor_user_leaves++;
	return 0;
}

static char owned[4 * 4096] __attribute__((aligned(4096)));

/*
 * dune_init(true) makes pgroot user-accessible; the sandbox's root, its
 * clone, must still give ring 3 nothing but the owned ranges.
 */
static void test_root_supervisor(void)
{
	IT_ASSERT_EQ(dune_init(true), 0);
	root_mem = box_mem_new();
	IT_ASSERT(root_mem);
	IT_ASSERT_EQ(box_mem_add(root_mem, (uint64_t)owned,
				 (uint64_t)owned + sizeof(owned),
				 PROT_READ | PROT_WRITE), 0);
	IT_ASSERT_EQ(box_mem_build_root(root_mem), 0);
	dune_vm_page_walk(box_mem_root(root_mem), VA_START, VA_END,
			  leaf_check, NULL);
	/* the owned pages are there, and nothing else */
	IT_ASSERT(user_leaves >= sizeof(owned) / 4096);
	if (monitor_user_leaves)
		IT_FAIL("%lu of %lu user-accessible leaves are the monitor's",
			monitor_user_leaves, user_leaves);
}

static const struct itest tests[] = {
	{ "view", test_view },
	{ "attack", test_attack },
	{ "attack_static", test_attack_static },
	{ "exec", test_exec },
	{ "root_supervisor", test_root_supervisor },
};

ITEST_MAIN(tests)
