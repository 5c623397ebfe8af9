// SPDX-License-Identifier: MIT
/*
 * dune-box: fork, vfork, clone and clone3 without CLONE_VM, and the
 * program's /proc/self/exe (docs/sandbox.md "Processes").
 *
 * A fork-like call is one real clone from the monitor: libdune's host
 * loop gives the child its own /dev/dune and vCPU (libdune/clone.c), on
 * the page-table root the parent had, and the child resumes in this very
 * handler, in a copy of the whole sandbox and its monitor, with rax 0.
 * What Linux would do with sandbox pointers (the tid words, TLS, the
 * stack) is done here on checked sandbox memory, never by Linux on the
 * monitor's own thread: the clear-child-tid word and the FS base are
 * the monitor's, the stack pointer Linux sets would be the monitor's.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "monitor-int.h"
#include "proc.h"
#include "thread.h"

/* include/linux/pid_namespace.h: not in the uapi headers */
#define MAX_PID_NS_LEVEL 32

char box_proc_exe[4096];

static bool owns(uint64_t p, uint64_t len, int prot)
{
	return box_mem_owns(box_mon.mem, p, len, prot);
}

/* What a new process may share or be given, and what Linux does itself. */
#define FORK_FLAGS (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |		\
		    CLONE_PARENT_SETTID | CLONE_SETTLS | CLONE_VFORK |	\
		    CLONE_FS | CLONE_SYSVSEM | CLONE_IO | CLONE_UNTRACED |	\
		    CLONE_PTRACE | CLONE_PIDFD | CLONE_DETACHED)
#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |		\
		  CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |		\
		  CLONE_NEWCGROUP)

/* What clone3 and clone have in common, as the monitor works on it. */
struct fork_args {
	uint64_t flags;		/* without the exit signal */
	uint64_t exit_signal;
	uint64_t pidfd, child_tid, parent_tid, tls;
	uint64_t stack;		/* the child's rsp, 0: the parent's */
	uint64_t set_tid, set_tid_size, cgroup;
	bool clone3;
	size_t size;
};

/*
 * clone3's struct clone_args, read and checked in the order kernel/fork.c
 * does (copy_clone_args_from_user, clone3_args_valid), into monitor
 * memory: the caller works on this copy only.  -errno or 0; *@size is
 * how much of @ka the program gave.
 */
long box_clone3_read(const struct box_ctx *c, struct clone_args *ka,
		     size_t *size)
{
	uint64_t usize = c->a[1], i;
	const unsigned char *p = (const unsigned char *)c->a[0];

	if (usize > BOX_PG)
		return -E2BIG;
	if (usize < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	if (!owns(c->a[0], usize, PROT_READ))
		return -EFAULT;
	memset(ka, 0, sizeof(*ka));
	memcpy(ka, p, usize < sizeof(*ka) ? usize : sizeof(*ka));
	/* a larger struct from a newer ABI: its extra fields must be 0 */
	for (i = sizeof(*ka); i < usize; i++)
		if (((const volatile unsigned char *)p)[i])
			return -E2BIG;
	if (ka->set_tid_size > MAX_PID_NS_LEVEL ||
	    !ka->set_tid != !ka->set_tid_size)
		return -EINVAL;
	if ((ka->exit_signal & ~(uint64_t)CSIGNAL) || ka->exit_signal > 64)
		return -EINVAL;
	if ((ka->flags & CLONE_INTO_CGROUP) &&
	    (ka->cgroup > INT32_MAX || usize < CLONE_ARGS_SIZE_VER2))
		return -EINVAL;
	if (ka->flags & ~(0xffffffffull | CLONE_CLEAR_SIGHAND |
			  CLONE_INTO_CGROUP))
		return -EINVAL;
	/* CSIGNAL's bits are the exit signal's, but for CLONE_NEWTIME */
	if (ka->flags & (CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME)))
		return -EINVAL;
	if ((ka->flags & CLONE_SIGHAND) && (ka->flags & CLONE_CLEAR_SIGHAND))
		return -EINVAL;
	if ((ka->flags & (CLONE_THREAD | CLONE_PARENT)) && ka->exit_signal)
		return -EINVAL;
	/* clone3_stack_valid: access_ok of the whole stack */
	if (ka->stack ? !ka->stack_size ||
			ka->stack + ka->stack_size < ka->stack ||
			ka->stack + ka->stack_size > BOX_USER_END
		      : ka->stack_size)
		return -EINVAL;
	*size = usize < sizeof(*ka) ? usize : sizeof(*ka);
	return 0;
}

static long read_clone3(const struct box_ctx *c, struct fork_args *f)
{
	struct clone_args ka;
	long r = box_clone3_read(c, &ka, &f->size);

	if (r)
		return r;
	f->flags = ka.flags;
	f->exit_signal = ka.exit_signal;
	f->pidfd = ka.pidfd;
	f->child_tid = ka.child_tid;
	f->parent_tid = ka.parent_tid;
	f->tls = ka.tls;
	f->stack = ka.stack ? ka.stack + ka.stack_size : 0;
	f->set_tid = ka.set_tid;
	f->set_tid_size = ka.set_tid_size;
	f->cgroup = ka.cgroup;
	f->clone3 = true;
	return 0;
}

/* Flags the monitor cannot give a new process: -errno with a reason. */
static long check_flags(struct box_ctx *c, const struct fork_args *f)
{
	/* Linux: sharing signal handlers or a thread group needs CLONE_VM */
	if (f->flags & (CLONE_SIGHAND | CLONE_THREAD))
		return -EINVAL;
	if (f->flags & (NS_FLAGS | CLONE_NEWTIME * f->clone3)) {
		c->refusal = "new namespaces would step outside what the policy enforces";
		return -EPERM;
	}
	if (f->flags & CLONE_FILES) {
		c->refusal = "an fd table shared between processes is not supported";
		return -ENOSYS;
	}
	if (f->flags & CLONE_PARENT) {
		c->refusal = "CLONE_PARENT: the child would not be the sandbox's";
		return -ENOSYS;
	}
	if (f->flags & (CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP)) {
		c->refusal = "clone3 flag not supported by the monitor";
		return -ENOSYS;
	}
	if (f->flags & ~(uint64_t)FORK_FLAGS & ~(uint64_t)CSIGNAL) {
		c->refusal = "clone flags unknown to the monitor";
		return -ENOSYS;
	}
	if ((f->flags & CLONE_SETTLS) && f->tls >= BOX_USER_END)
		return -EPERM;
	/* written by Linux in the parent: a pidfd must land somewhere */
	if ((f->flags & CLONE_PIDFD) &&
	    !owns(f->clone3 ? f->pidfd : f->parent_tid, 4, PROT_WRITE))
		return -EFAULT;
	if (f->set_tid_size &&
	    !owns(f->set_tid, f->set_tid_size * 4, PROT_READ))
		return -EFAULT;
	return 0;
}

/* In the child, before ring 3 resumes. */
static void child_side(struct box_ctx *c, const struct fork_args *f)
{
	struct box_thread *self = box_self();

	/* alone in a new process: no other thread, no lock held by one */
	box_thread_after_fork();
	if (f->flags & CLONE_SETTLS)
		dune_set_user_fs(f->tls);
	if (f->stack)
		c->tf->rsp = f->stack;
	/*
	 * Kept like set_tid_address's: in a process of its own the word is
	 * only ever cleared by the thread's exit, which is the process's.
	 */
	if (f->flags & CLONE_CHILD_CLEARTID)
		self->clear_child_tid = f->child_tid;
}

long box_fork(struct box_ctx *c)
{
	struct fork_args f;
	uint64_t lflags;
	long r;

	memset(&f, 0, sizeof(f));
	switch (c->nr) {
	case SYS_fork:
		f.exit_signal = SIGCHLD;
		break;
	case SYS_vfork:
		/*
		 * A real vfork without CLONE_VM: Linux still suspends us
		 * until the child execs (dune-box's own execve) or exits;
		 * the child works on a copy of the memory, which a correct
		 * vfork child cannot tell.
		 */
		f.flags = CLONE_VFORK;
		f.exit_signal = SIGCHLD;
		break;
	case SYS_clone:
		f.flags = c->a[0] & ~(uint64_t)CSIGNAL;
		f.exit_signal = c->a[0] & CSIGNAL;
		f.stack = c->a[1];
		f.parent_tid = c->a[2];
		f.child_tid = c->a[3];
		f.tls = c->a[4];
		break;
	case SYS_clone3:
		r = read_clone3(c, &f);
		if (r)
			return r;
		break;
	default:
		return -ENOSYS;
	}
	r = check_flags(c, &f);
	if (r)
		return r;
	/*
	 * Linux writes the child's tid (a pid here) in the child's copy,
	 * and the parent's, after checking the word: a bad one is ignored
	 * natively, so it is dropped here.  CHILD_CLEARTID and SETTLS are
	 * the child side's.
	 */
	lflags = f.flags & ~(uint64_t)(CLONE_CHILD_CLEARTID | CLONE_SETTLS);
	if (!owns(f.child_tid, 4, PROT_WRITE))
		lflags &= ~(uint64_t)CLONE_CHILD_SETTID;
	if (!owns(f.parent_tid, 4, PROT_WRITE))
		lflags &= ~(uint64_t)CLONE_PARENT_SETTID;
	if (f.clone3) {
		struct clone_args k;

		memset(&k, 0, sizeof(k));
		k.flags = lflags;
		k.pidfd = f.pidfd;
		k.child_tid = f.child_tid;
		k.parent_tid = f.parent_tid;
		k.exit_signal = f.exit_signal;
		k.set_tid = f.set_tid;
		k.set_tid_size = f.set_tid_size;
		k.cgroup = f.cgroup;
		r = dune_sys6(SYS_clone3, (uint64_t)&k, f.size, 0, 0, 0, 0);
	} else {
		r = dune_sys6(SYS_clone, lflags | f.exit_signal, 0,
			      f.parent_tid, f.child_tid, 0, 0);
	}
	if (r == 0)
		child_side(c, &f);
	return r;
}

/* ---- /proc/self/exe ---- */

void box_proc_set_exe(const char *path)
{
	snprintf(box_proc_exe, sizeof(box_proc_exe), "%s", path);
}

/* Does @path name this process's exe link (self, thread-self, our pid)? */
bool box_proc_is_self_exe(const char *path)
{
	char mine[64];
	long pid, tid;

	if (!strcmp(path, "/proc/self/exe") ||
	    !strcmp(path, "/proc/thread-self/exe"))
		return true;
	pid = dune_sys6(SYS_getpid, 0, 0, 0, 0, 0, 0);
	tid = dune_sys6(SYS_gettid, 0, 0, 0, 0, 0, 0);
	snprintf(mine, sizeof(mine), "/proc/%ld/exe", pid);
	if (!strcmp(path, mine))
		return true;
	snprintf(mine, sizeof(mine), "/proc/%ld/task/%ld/exe", pid, tid);
	return !strcmp(path, mine);
}

bool box_proc_intercept(struct box_ctx *c, long *ret)
{
	uint64_t buf, len;
	const char *path;
	size_t n;

	if (!box_proc_exe[0])
		return false;
	switch (c->nr) {
	case SYS_readlink:
		path = c->path[0];
		buf = c->a[1];
		len = c->a[2];
		break;
	case SYS_readlinkat:
		if ((int)c->a[0] != AT_FDCWD && c->path[0][0] != '/')
			return false;
		path = c->path[0];
		buf = c->a[2];
		len = c->a[3];
		break;
	case SYS_open:
	case SYS_openat:
		if (c->nr == SYS_openat && (int)c->a[0] != AT_FDCWD &&
		    c->path[0][0] != '/')
			return false;
		if (!box_proc_is_self_exe(c->path[0]))
			return false;
		/* the program's file, not dune-box's, with the same flags */
		if (c->nr == SYS_open)
			*ret = dune_sys6(SYS_open, (uint64_t)box_proc_exe,
					 c->a[1], c->a[2], 0, 0, 0);
		else
			*ret = dune_sys6(SYS_openat, AT_FDCWD,
					 (uint64_t)box_proc_exe, c->a[2],
					 c->a[3], 0, 0);
		return true;
	default:
		box_proc_self_path_arg(c);	/* stat, access */
		return false;
	}
	if (!box_proc_is_self_exe(path))
		return false;
	if ((int64_t)len <= 0) {
		*ret = -EINVAL;
		return true;
	}
	/* check_args checked [buf, buf + len) writable */
	n = strlen(box_proc_exe);
	if (n > len)
		n = len;
	memcpy((void *)buf, box_proc_exe, n);
	*ret = n;
	return true;
}

/* ---- what the re-exec of dune-box needs under Landlock ---- */

static char self_exe[4096];
static const char *self_files[16];
static int nself;

const char *box_proc_self_path(void)
{
	return self_exe;
}

static int add_lib(struct dl_phdr_info *info, size_t size, void *data)
{
	if (info->dlpi_name && info->dlpi_name[0] == '/' &&
	    nself < (int)(sizeof(self_files) / sizeof(self_files[0])))
		self_files[nself++] = strdup(info->dlpi_name);
	return 0;
}

int box_proc_self_files(const char **exec, int n, int max)
{
	ssize_t len = readlink("/proc/self/exe", self_exe,
			       sizeof(self_exe) - 1);
	int i;

	self_exe[len > 0 ? len : 0] = 0;
	if (!nself) {
		if (self_exe[0])
			self_files[nself++] = self_exe;
		dl_iterate_phdr(add_lib, NULL);
	}
	for (i = 0; i < nself && n < max - 1; i++)
		if (self_files[i])
			exec[n++] = self_files[i];
	exec[n] = NULL;
	return n;
}

/* ---- signal dispositions a new program inherits ---- */

uint64_t box_proc_ignored(void)
{
	uint64_t mask = 0, k[4];
	int sig;

	for (sig = 1; sig <= 64; sig++) {
		memset(k, 0, sizeof(k));
		if (!syscall(SYS_rt_sigaction, sig, NULL, k, 8) &&
		    k[0] == (uint64_t)SIG_IGN)
			mask |= 1ull << (sig - 1);
	}
	return mask;
}

void box_proc_set_ignored(uint64_t mask)
{
	int sig;

	for (sig = 1; sig <= 64; sig++)
		if (mask & (1ull << (sig - 1)))
			box_mon.act[sig].handler = (uint64_t)SIG_IGN;
}
