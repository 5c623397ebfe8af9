/* SPDX-License-Identifier: MIT */
/*
 * dune-box: processes in the sandbox (docs/sandbox.md "Processes").
 *
 *  - fork, vfork, clone and clone3 without CLONE_VM (proc.c): the child
 *    is a copy of the whole sandbox, monitor included, in a new Dune
 *    process (libdune/clone.c); it returns 0 at ring 3.
 *  - execve, execveat (proc-exec.c): everything that can fail is checked
 *    by the monitor, which then re-executes dune-box itself with the
 *    policy, the program, argv and envp in a sealed memfd
 *    (dune-box --exec-state FD, internal): Linux does what exec does
 *    (close-on-exec fds, signal dispositions, same pid, other threads).
 *  - /proc/self/exe (proc.c): readlink and open name the program.
 */
#ifndef BOX_PROC_H
#define BOX_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct box_ctx;
struct box_policy;
struct box_monitor_opts;

/* fork, vfork, clone/clone3 without CLONE_VM: -errno or the child's pid. */
long box_fork(struct box_ctx *c);

/*
 * clone3's argument, copied and checked as Linux does before it looks
 * at the flags: -errno, or 0 with *@size the bytes the program gave.
 */
struct clone_args;
long box_clone3_read(const struct box_ctx *c, struct clone_args *ka,
		     size_t *size);

/* execve, execveat: only returns on failure (-errno). */
long box_exec(struct box_ctx *c);

/*
 * A call the monitor answers for the program's /proc/self/exe
 * (readlink, open): true with the result in *@ret.
 */
bool box_proc_intercept(struct box_ctx *c, long *ret);

/*
 * Signals ignored when dune-box starts (bit n-1: signal n): exec keeps
 * them ignored, so the program's sigaction must report SIG_IGN.  Read
 * before box_run_prepare, given to the monitor after it.
 */
uint64_t box_proc_ignored(void);
void box_proc_set_ignored(uint64_t mask);

/*
 * Does absolute @path name this process's /proc exe link?  (busybox
 * runs its applets by executing /proc/self/exe.)
 */
bool box_proc_is_self_exe(const char *path);

/*
 * stat, access and their kin of the program's /proc exe link, following
 * it: c->x[] gets the program's path instead (box/selfexe.c).
 */
void box_proc_self_path_arg(struct box_ctx *c);

/* The thread name execve gives for @execfn (the path it was given). */
void box_proc_set_comm(const char *execfn);

/* The program's path (what /proc/self/exe names), absolute. */
void box_proc_set_exe(const char *path);
extern char box_proc_exe[4096];

/*
 * Files the re-exec of dune-box needs executable and readable under
 * Landlock: dune-box itself, its ELF interpreter and its libraries;
 * NULL-terminated, at most @max - 1 entries, appended to @exec from
 * index @n.  Also records dune-box's own path for the re-exec.
 */
int box_proc_self_files(const char **exec, int n, int max);
/* dune-box's own path, as box_proc_self_files found it ("" before). */
const char *box_proc_self_path(void);

/*
 * dune-box --exec-state FD: read what the exec'ing monitor left.  0, or
 * -1 with the reason in @err.  The strings point into one allocation.
 */
#define BOX_EXEC_STATE_MAGIC 0x31786264u	/* "dbx1" */

struct box_exec_state {
	struct box_policy *pol;
	int log_fd;
	bool stats, quiet, kill_on_deny;
	const char *path;	/* the ELF to load (absolute) */
	const char *execfn;	/* AT_EXECFN: the path as given to execve */
	const char *exe;	/* what /proc/self/exe names */
	char **argv, **envp;
};
int box_exec_state_read(int fd, struct box_exec_state *st, char *err,
			size_t errlen);

#endif
