/* SPDX-License-Identifier: MIT */
/*
 * dune-box: the monitor.  The sandboxed program runs at ring 3 on its
 * own page-table root (mem.c); every system call it makes reaches the
 * monitor at ring 0 in this process first (no VM exit), which checks its
 * pointers against the memory the sandbox owns, asks the policy, and
 * then emulates the call or passes a checked copy to Linux.
 *
 * Owner: the monitor (box/monitor*.c, run.c, log.c, systab.c, mem.c).
 */
#ifndef BOX_MONITOR_H
#define BOX_MONITOR_H

#include <stdbool.h>

struct box_image;
struct box_mem;
struct box_policy;

struct box_monitor_opts {
	int log_fd;		/* --log: one line per call, -1 for none */
	int msg_fd;		/* deny messages and --stats (stderr: 2) */
	bool stats;		/* --stats: a summary when the run ends */
	bool quiet;		/* --quiet: no deny messages */
	bool kill_on_deny;	/* --kill-on-deny: a denial ends the run (SIGSYS) */
};

/*
 * What must happen before Dune mode and before Landlock's path rules:
 * reserve the brk heap's address space where the program's heap starts
 * (so that nothing of libdune's takes it and dune_init's layout covers
 * it), then dune_init (it reads /proc/self/maps and opens /dev/dune).
 * 0, or a negative errno after a message on stderr.  box_run does it
 * itself if the caller did not.
 */
int box_run_prepare(const struct box_image *img, struct box_mem *mem);

/*
 * Run the program @img (loaded into @mem by box_load) at ring 3 under
 * @pol until it exits or dies.  Enters Dune mode if the thread is not
 * in it.  Returns the wait status the command must end with (exit code
 * << 8, or the signal number that killed it), or a negative errno with
 * a message on stderr if the run could not start.
 */
int box_run(const struct box_image *img, struct box_mem *mem,
	    const struct box_policy *pol, const struct box_monitor_opts *o);

/* End this process as @status says (exit, or death by that signal). */
__attribute__((noreturn)) void box_exit_like(int status);

#endif
