// SPDX-License-Identifier: MIT
/*
 * dune-box: execve and execveat (docs/sandbox.md "Processes").
 *
 * The monitor checks everything that can fail, in the order Linux
 * does, and returns the native errno if anything does (the sandbox goes
 * on): the path (copied and decided by the policy before this runs), the
 * file (exists, a regular file, executable for us, allowed by the policy
 * after symlinks and `#!` interpreters are followed, an ELF dune-box can
 * load or a script, nested as deep as Linux allows), argv and envp
 * (readable, within Linux's size limits).  Then it re-executes dune-box
 * itself with a real execve: Linux then does what exec does to the
 * process (close-on-exec fds closed, handled signals reset, ignored ones
 * and the mask and pending set kept, the pid kept, other threads
 * ended).  The new dune-box gets everything in one memfd sealed before
 * the execve (no other sandbox thread can change it meanwhile): the
 * parsed policy (decisions still name the original FILE:LINE), the
 * monitor's options, the program, AT_EXECFN, argv and envp exactly as
 * given.  dune-box runs with an empty environment (the program's envp
 * must not reach its dynamic loader: LD_PRELOAD) and skips what is
 * enforced already (network namespace, rlimits, Landlock).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "load.h"
#include "monitor-int.h"
#include "ownfd.h"
#include "proc.h"
#include "thread.h"
#include "proc-state.h"

#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 2U
#endif
/* fs/exec.c: how many times a script's interpreter may be a script */
#define MAX_INTERP_DEPTH 5
/* include/linux/binfmts.h: BINPRM_BUF_SIZE, what a #! line may use */
#define HDR_SIZE 256
/* include/uapi/linux/binfmts.h: MAX_ARG_STRLEN, PAGE_SIZE * 32 */
#define ARG_STRLEN_MAX (32 * 4096)

static bool owns(uint64_t p, uint64_t len, int prot)
{
	return box_mem_owns(box_mon.mem, p, len, prot);
}

static long sys(long nr, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
		uint64_t e)
{
	return dune_sys6(nr, a, b, c, d, e, 0);
}

/*
 * The sandbox's string at @p into the state; its length with the NUL
 * in *@len.  -EFAULT where it is not the sandbox's, -E2BIG if longer
 * than Linux takes.
 */
static long w_user_str(struct box_wr *w, uint64_t p, uint64_t *len)
{
	uint64_t n = 0;

	/* first its length, a page at a time, then the bytes */
	for (;;) {
		uint64_t chunk = BOX_PG - ((p + n) & (BOX_PG - 1));
		const char *s = (const char *)(p + n), *z;

		if (!owns(p + n, 1, PROT_READ))
			return -EFAULT;
		z = memchr(s, 0, chunk);
		if (z) {
			n += z - s + 1;
			break;
		}
		n += chunk;
		if (n > ARG_STRLEN_MAX)
			return -E2BIG;
	}
	if (n > ARG_STRLEN_MAX)
		return -E2BIG;
	box_wr_u64(w, n);
	box_wr_put(w, (const void *)p, n);
	*len = n;
	return 0;
}

/* The sandbox's NULL-terminated vector at @vec: how many, then each. */
static long count_vec(uint64_t vec, uint64_t *n)
{
	*n = 0;
	if (!vec)
		return 0;
	for (;; (*n)++) {
		uint64_t p;

		if (!owns(vec + *n * 8, 8, PROT_READ))
			return -EFAULT;
		p = *(const volatile uint64_t *)(vec + *n * 8);
		if (!p)
			return 0;
		if (*n >= 0x7fffffff)	/* MAX_ARG_STRINGS */
			return -E2BIG;
	}
}

/* ---- checking the file ---- */

struct target {
	char abs[PATH_MAX];		/* the file, absolute */
	char argv_pre[MAX_INTERP_DEPTH][2][HDR_SIZE]; /* interp [arg] */
	int npre;
	char filename[PATH_MAX + 32];	/* AT_EXECFN, a script's argv[n] */
};

static char refusal[PATH_MAX + 128];

static long deny_path(struct box_ctx *c, const char *what, const char *path)
{
	struct box_call call;
	struct box_decision d;

	memset(&call, 0, sizeof(call));
	memset(&d, 0, sizeof(d));
	call.nr = SYS_execve;
	call.path[0] = path;
	call.path_arg[0] = 0;
	call.path_arg[1] = -1;
	box_policy_decide(box_mon.pol, &call, &d);
	if (d.verdict == BOX_ALLOW)
		return 0;
	c->d = d;
	if (d.line > 0)
		snprintf(refusal, sizeof(refusal), "%s %s: %s (policy line %d)",
			 what, path, d.why ? d.why : "denied by the policy",
			 d.line);
	else
		snprintf(refusal, sizeof(refusal), "%s %s: %s (built-in rule)",
			 what, path, d.why ? d.why : "denied by the policy");
	c->refusal = refusal;
	return -(d.err ? d.err : EPERM);
}

/* The absolute path of open fd @fd. */
static long fd_path(long fd, char *out, size_t len)
{
	char link[40];
	long n;

	snprintf(link, sizeof(link), "/proc/self/fd/%ld", fd);
	n = sys(SYS_readlink, (uint64_t)link, (uint64_t)out, len - 1, 0, 0);
	if (n < 0)
		return n;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	out[n] = 0;
	return 0;
}

/*
 * @dirfd/@path (flags as execveat's): the file Linux would open, its
 * checks, into t->abs; the first HDR_SIZE bytes into @hdr.
 */
static long check_file(struct box_ctx *c, long dirfd, const char *path,
		       int flags, struct target *t, char *hdr, long *hlen,
		       const char *what)
{
	struct stat st;
	long fd, rfd, r;

	if (!path[0] && !(flags & AT_EMPTY_PATH))
		return -ENOENT;
	if (!path[0])
		fd = sys(SYS_fcntl, dirfd, F_DUPFD_CLOEXEC, 0, 0, 0);
	else
		fd = sys(SYS_openat, dirfd, (uint64_t)path,
			 O_PATH | O_CLOEXEC |
			 ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0), 0, 0);
	if (fd < 0)
		return fd;
	r = sys(SYS_fstat, fd, (uint64_t)&st, 0, 0, 0);
	if (!r && S_ISLNK(st.st_mode))
		r = -ELOOP;
	else if (!r && !S_ISREG(st.st_mode))
		r = -EACCES;
	if (!r)
		/* execute permission, noexec mounts included (as access(2)) */
		r = sys(SYS_faccessat2, fd, (uint64_t)"", X_OK,
			AT_EACCESS | AT_EMPTY_PATH, 0);
	if (!r)
		r = fd_path(fd, t->abs, sizeof(t->abs));
	sys(SYS_close, fd, 0, 0, 0, 0);
	if (r)
		return r;
	r = deny_path(c, what, t->abs);
	if (r)
		return r;
	rfd = sys(SYS_open, (uint64_t)t->abs, O_RDONLY | O_CLOEXEC, 0, 0, 0);
	if (rfd < 0) {
		c->refusal = "dune-box loads a program by reading it: the file is not readable";
		return rfd;
	}
	*hlen = sys(SYS_pread64, rfd, (uint64_t)hdr, HDR_SIZE, 0, 0);
	sys(SYS_close, rfd, 0, 0, 0, 0);
	return *hlen < 0 ? *hlen : 0;
}

/* A `#!` line as fs/binfmt_script.c reads it: interpreter, optional arg. */
static long parse_script(const char *hdr, long hlen, char *interp,
			 char *arg)
{
	const char *p = hdr + 2, *end = hdr + hlen, *nl, *s;

	nl = memchr(p, '\n', end - p);
	if (nl)
		end = nl;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	/* the interpreter must end within the buffer (or the line) */
	for (s = p; s < end && *s != ' ' && *s != '\t' && *s; s++)
		;
	if (s == p || (!nl && s == hdr + hlen))
		return -ENOEXEC;
	memcpy(interp, p, s - p);
	interp[s - p] = 0;
	p = s;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	s = memchr(p, 0, end - p);
	if (s)
		end = s;
	memcpy(arg, p, end - p);
	arg[end - p] = 0;
	return 0;
}

static long resolve(struct box_ctx *c, long dirfd, const char *path,
		    int flags, struct target *t)
{
	char hdr[HDR_SIZE + 1], interp[PATH_MAX], err[256];
	const char *what = "program";
	int depth;
	long hlen, r;

	for (depth = 0;; depth++) {
		r = check_file(c, dirfd, path, flags, t, hdr, &hlen, what);
		if (r)
			return r;
		if (hlen >= 4 && !memcmp(hdr, "\177ELF", 4)) {
			if (!box_load_check_interp(t->abs, interp,
						   sizeof(interp), err,
						   sizeof(err)))
				return 0;
			if (interp[0] &&
			    sys(SYS_access, (uint64_t)interp, F_OK, 0, 0, 0))
				return -ENOENT;
			return -ENOEXEC;
		}
		if (hlen < 2 || hdr[0] != '#' || hdr[1] != '!')
			return -ENOEXEC;
		if (depth >= MAX_INTERP_DEPTH)
			return -ELOOP;
		r = parse_script(hdr, hlen, t->argv_pre[depth][0],
				 t->argv_pre[depth][1]);
		if (r)
			return r;
		t->npre = depth + 1;
		path = t->argv_pre[depth][0];
		dirfd = AT_FDCWD;
		flags = 0;
		what = "interpreter";
	}
}

/* ---- execve ---- */

/* Clear @fd's close-on-exec flag; its old flags, or -1. */
static long keep_open(long fd)
{
	long old = fd >= 0 ? sys(SYS_fcntl, fd, F_GETFD, 0, 0, 0) : -1;

	if (old >= 0)
		sys(SYS_fcntl, fd, F_SETFD, old & ~FD_CLOEXEC, 0, 0);
	return old;
}

/*
 * The stack's size limit for arguments (fs/exec.c bprm_stack_limits):
 * a quarter of RLIMIT_STACK, at most 3/4 of _STK_LIM, at least ARG_MAX.
 */
static uint64_t args_limit(void)
{
	struct rlimit rl;
	uint64_t lim = (8ull << 20) / 4 * 3;	/* _STK_LIM / 4 * 3 */

	if (!sys(SYS_getrlimit, RLIMIT_STACK, (uint64_t)&rl, 0, 0, 0) &&
	    rl.rlim_cur / 4 < lim)
		lim = rl.rlim_cur / 4;
	if (lim < 32 * BOX_PG)
		lim = 32 * BOX_PG;
	return lim;
}

static struct target tgt;
static struct box_wr wr;

static uint64_t w_str_len(struct box_wr *w, const char *s)
{
	box_wr_str(w, s);
	return strlen(s) + 1;
}

/* How many strings the new program's argv has. */
static uint64_t out_argc(const struct target *t, uint64_t argc)
{
	uint64_t n = argc ? argc : 1;	/* Linux adds "" to an empty argv */
	int i;

	if (!t->npre)
		return n;
	n = n - 1 + 1;			/* argv[0] out, the interpreter in */
	for (i = 0; i < t->npre; i++)
		n += 1 + !!t->argv_pre[i][1][0];	/* its path, [arg] */
	return n;
}

/*
 * The state for the new dune-box (proc-state.h) into @w: the policy and
 * options, the program, argv and envp as the kernel would build them.
 * Run twice: writing, then (w->verify) comparing with the sealed file.
 */
static long write_state(struct box_wr *w, uint64_t argc, uint64_t argv,
			uint64_t envc, uint64_t envp, uint64_t ptrs)
{
	uint64_t total, len;
	long r, i, j;

	/* AT_EXECFN: the path as given; /proc/self/exe: the file */
	box_wr_head(w, box_mon.o.log_fd, box_mon.o.stats, box_mon.o.quiet,
		    box_mon.o.kill_on_deny, box_mon.pol, tgt.abs, tgt.filename,
		    tgt.abs);
	total = strlen(tgt.filename) + 1;
	box_wr_u64(w, out_argc(&tgt, argc));
	/*
	 * fs/binfmt_script.c, once per level: argv[0] dropped, then the
	 * path the script was opened as, its #! argument and interpreter
	 * put in front.  Two levels: I2 [A2] I1 [A1] SCRIPT argv[1]...
	 */
	if (tgt.npre) {
		total += w_str_len(w, tgt.argv_pre[tgt.npre - 1][0]);
		for (i = tgt.npre - 1; i >= 0; i--) {
			if (tgt.argv_pre[i][1][0])
				total += w_str_len(w, tgt.argv_pre[i][1]);
			total += w_str_len(w, i ? tgt.argv_pre[i - 1][0] :
						    tgt.filename);
		}
	}
	r = 0;
	for (j = tgt.npre ? 1 : 0; !r && j < (long)argc; j++) {
		r = w_user_str(w, ((const uint64_t *)argv)[j], &len);
		total += len;
	}
	if (!tgt.npre && !argc)
		box_wr_str(w, "");		/* Linux adds "" for an empty argv */
	box_wr_u64(w, envc);
	for (j = 0; !r && j < (long)envc; j++) {
		r = w_user_str(w, ((const uint64_t *)envp)[j], &len);
		total += len;
	}
	if (!r && total + ptrs > args_limit())
		r = -E2BIG;
	box_wr_flush(w);
	if (!r)
		r = w->err;
	return r;
}

long box_exec(struct box_ctx *c)
{
	long dirfd = AT_FDCWD, r, memfd, logfl;
	uint64_t argv, envp, argc, envc, ptrs;
	const char *path = c->path[0];
	int flags = 0;
	char fdarg[24];
	char *eargv[4] = { "dune-box", "--exec-state", fdarg, NULL };
	char *eenvp[1] = { NULL };

	if (c->nr == SYS_execve) {
		argv = c->a[1];
		envp = c->a[2];
	} else {
		dirfd = (int)c->a[0];
		argv = c->a[2];
		envp = c->a[3];
		flags = c->a[4];
		if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return -EINVAL;
	}
	r = count_vec(argv, &argc);
	if (!r)
		r = count_vec(envp, &envc);
	if (r)
		return r;
	ptrs = ((argc ? argc : 1) + envc) * 8;
	memset(&tgt, 0, sizeof(tgt));
	/* the program's /proc/self/exe is the program, not dune-box */
	r = resolve(c, dirfd, box_proc_exe[0] && path[0] == '/' &&
			   box_proc_is_self_exe(path) ? box_proc_exe : path,
		    flags, &tgt);
	if (r)
		return r;
	/* what a script gets as its path: execveat's is /dev/fd/N/... */
	if (dirfd == AT_FDCWD || path[0] == '/')
		snprintf(tgt.filename, sizeof(tgt.filename), "%s", path);
	else if (!path[0])
		snprintf(tgt.filename, sizeof(tgt.filename), "/dev/fd/%ld",
			 dirfd);
	else
		snprintf(tgt.filename, sizeof(tgt.filename), "/dev/fd/%ld/%s",
			 dirfd, path);
	/* libdune's set-up in the new dune-box reads its own maps */
	r = sys(SYS_open, (uint64_t)"/proc/self/maps", O_RDONLY | O_CLOEXEC,
		0, 0, 0);
	if (r < 0) {
		c->refusal = "exec needs /proc/self/maps readable (dune-box's own set-up reads it)";
		return r;
	}
	sys(SYS_close, r, 0, 0, 0, 0);
	if (!box_proc_self_path()[0]) {
		c->refusal = "dune-box does not know its own path";
		return -ENOSYS;
	}

	memfd = sys(SYS_memfd_create, (uint64_t)"dune-box-exec",
		    MFD_ALLOW_SEALING, 0, 0, 0);
	if (memfd < 0)
		return memfd;
	/*
	 * Out of ring 3's sight and reach (ownfd.c), high so that the new
	 * program's fds are numbered as natively; not close-on-exec: the
	 * new dune-box reads it (and closes it before the program runs).
	 */
	memfd = box_fd_high(memfd);
	box_fd_own(memfd, NULL);
	sys(SYS_fcntl, memfd, F_SETFD, 0, 0, 0);
	memset(&wr, 0, sizeof(wr));
	wr.fd = memfd;
	r = write_state(&wr, argc, argv, envc, envp, ptrs);
	/*
	 * Sealed, the file cannot change any more: check that it holds
	 * what the monitor wrote, byte for byte and nothing after.
	 */
	if (!r)
		r = sys(SYS_fcntl, memfd, F_ADD_SEALS, SEALS, 0, 0);
	if (!r) {
		struct stat st;

		memset(&wr, 0, sizeof(wr));
		wr.fd = memfd;
		wr.verify = true;
		r = write_state(&wr, argc, argv, envc, envp, ptrs);
		if (!r && (sys(SYS_fstat, memfd, (uint64_t)&st, 0, 0, 0) ||
			   (uint64_t)st.st_size != wr.off))
			r = -EIO;
		if (r == -EIO)
			c->refusal = "the exec state changed while the monitor wrote it";
	}
	if (!r)
		r = sys(SYS_lseek, memfd, 0, SEEK_SET, 0, 0);
	if (r) {
		box_fd_disown(memfd);
		sys(SYS_close, memfd, 0, 0, 0, 0);
		return r;
	}
	snprintf(fdarg, sizeof(fdarg), "%ld", memfd);
	/* --log's fd goes on into the new dune-box (fd 2 for "-") */
	logfl = keep_open(box_mon.o.log_fd);
	c->ret = 0;
	box_log_call(c);
	/*
	 * Everything is in the sealed state now.  A vfork child shares the
	 * memory lock with its parent and never comes back to release it:
	 * a read hold kept across the exec would stop the parent's next
	 * memory call for good (thread.c).
	 */
	box_unlock();
	/*
	 * A vfork child has a table of its own but the parent's memory:
	 * the memfd's number must not stay hidden in the parent's view
	 * once the child's exec has taken the memfd away.
	 */
	if (box_thread_is_vfork_child())
		box_fd_disown(memfd);
	r = sys(SYS_execve, (uint64_t)box_proc_self_path(), (uint64_t)eargv,
		(uint64_t)eenvp, 0, 0);
	/* still here: nothing happened to the process */
	if (logfl >= 0)
		sys(SYS_fcntl, box_mon.o.log_fd, F_SETFD, logfl, 0, 0);
	box_fd_disown(memfd);
	sys(SYS_close, memfd, 0, 0, 0, 0);
	c->refusal = "re-executing dune-box failed";
	return r;
}
