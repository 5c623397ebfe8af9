// SPDX-License-Identifier: MIT
/*
 * Whole programs people run in a sandbox (issue 9, "Proof"): a busybox
 * shell script with pipes, loops, subshells and command substitution
 * over the usual applets, bash forking 200 times, python3 with threads,
 * a subprocess and signals.  Each under the default profile, its output
 * and status byte-identical to the native run.
 */
#include "box-compare.h"

/* cwd is /tmp in the machine: `rw .` of the default profile covers it */
static const char busybox_script[] =
	"set -e\n"
	"d=$(mktemp -d /tmp/box-prog.XXXXXX)\n"
	"cd \"$d\"\n"
	"for i in 1 2 3 4 5; do echo \"line $i $((i * i))\" >> f.txt; done\n"
	"cat f.txt | grep -v 3 | sed 's/line/row/' | sort -r\n"
	"awk '{ s += $3 } END { print \"sum\", s }' f.txt\n"
	"n=$(wc -l < f.txt); echo \"lines: $n\"\n"
	"(cd / && pwd)\n"
	"pwd | sed \"s|$d|DIR|\"\n"
	"x=$( (echo sub; exit 0) ); echo \"$x\"\n"
	"mkdir -p t/a t/b; echo one > t/a/1; echo two > t/b/2\n"
	"tar cf t.tar t; gzip -9 t.tar; ls\n"
	"gzip -dc t.tar.gz | tar tf - | sort\n"
	"find t -type f | sort | xargs cat\n"
	"i=0; while [ $i -lt 10 ]; do i=$((i + 1)); done; echo \"i=$i\"\n"
	"case \"$n\" in 5) echo five ;; *) echo other ;; esac\n"
	"f() { echo \"in f: $1\"; return 3; }\n"
	"f arg || echo \"f returned $?\"\n"
	"echo done | tr a-z A-Z\n"
	"cd / && rm -rf \"$d\"\n"
	"exit 4\n";

static const char bash_script[] =
	"s=0\n"
	"for i in $(seq 1 200); do\n"
	"	v=$(echo $i)\n"
	"	s=$((s + v))\n"
	"done\n"
	"echo \"sum=$s\"\n"
	"( exit 3 ); echo \"subshell: $?\"\n"
	"echo a b c | tr ' ' '\\n' | wc -l\n"
	"trap 'echo trapped USR1' USR1\n"
	"kill -USR1 $$\n"
	"exit 6\n";

static const char python_script[] =
	"import os, signal, subprocess, sys, threading\n"
	"got = []\n"
	"signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))\n"
	"os.kill(os.getpid(), signal.SIGUSR1)\n"
	"print('handler ran:', got == [signal.SIGUSR1])\n"
	"res = [0] * 4\n"
	"def work(k):\n"
	"    res[k] = sum(range(k * 10000))\n"
	"ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]\n"
	"for t in ts: t.start()\n"
	"for t in ts: t.join()\n"
	"print('threads:', res)\n"
	"r = subprocess.run([sys.executable, '-c', 'print(6 * 7)'],\n"
	"                   capture_output=True, text=True)\n"
	"print('subprocess:', r.stdout.strip(), r.returncode)\n"
	"signal.signal(signal.SIGALRM, lambda s, f: got.append(s))\n"
	"signal.setitimer(signal.ITIMER_REAL, 0.05)\n"
	"while len(got) < 2:\n"
	"    pass\n"
	"print('alarm:', got[-1] == signal.SIGALRM)\n"
	"sys.exit(5)\n";

static void test_busybox_script(void)
{
	char *argv[] = { "busybox", "sh", "/tmp/box-prog.sh", NULL };

	write_file("/tmp/box-prog.sh", busybox_script, 0644);
	same(NULL, argv);
	IT_ASSERT(WIFEXITED(boxed.status) && WEXITSTATUS(boxed.status) == 4);
}

static void test_bash_forks(void)
{
	/* Debian's bash, shipped as build/bin/dyn-bash (Makefile) */
	char *argv[] = { "dyn-bash", "/tmp/box-prog.bash", NULL };

	write_file("/tmp/box-prog.bash", bash_script, 0644);
	same(NULL, argv);
	IT_ASSERT(WIFEXITED(boxed.status) && WEXITSTATUS(boxed.status) == 6);
}

static void test_python(void)
{
	char *argv[] = { "python3.11", "/tmp/box-prog.py", NULL };

	if (access("/usr/bin/python3.11", X_OK))
		IT_FAIL("no /usr/bin/python3.11 in the machine (make python)");
	write_file("/tmp/box-prog.py", python_script, 0644);
	same(NULL, argv);
	IT_ASSERT(WIFEXITED(boxed.status) && WEXITSTATUS(boxed.status) == 5);
}

static const struct itest tests[] = {
	{ "busybox_script", test_busybox_script },
	{ "bash_forks", test_bash_forks },
	{ "python", test_python },
};

ITEST_MAIN(tests)
