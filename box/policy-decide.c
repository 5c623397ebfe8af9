// SPDX-License-Identifier: MIT
/*
 * dune-box: deciding one system call against the policy.
 *
 * System-call rules: the last rule naming the call whose conditions all
 * hold decides; none holds: the policy's default.  Path rules: the rule
 * of the longest path that is the call's path or one of its parent
 * directories decides (a later line wins over an earlier one for the
 * same path).  Paths are resolved lexically only: symlinks are
 * Landlock's business (box/enforce.c), this check exists to give the
 * clear message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>

#include "policy-int.h"

int box_path_normalise(const char *base, const char *path, char *out,
		       size_t outlen)
{
	size_t n = 0;
	const char *s;
	int pass;

	if (outlen < 2)
		return -1;
	out[0] = '\0';
	/* pass 0: the base (if @path is relative), pass 1: @path */
	for (pass = 0; pass < 2; pass++) {
		s = pass ? path : base;
		if (!pass && (path[0] == '/' || !base))
			continue;
		while (*s) {
			const char *e;
			size_t len;

			while (*s == '/')
				s++;
			e = strchrnul(s, '/');
			len = e - s;
			if (!len)
				break;
			if (len == 1 && s[0] == '.') {
				/* nothing */
			} else if (len == 2 && s[0] == '.' && s[1] == '.') {
				while (n > 0 && out[n - 1] != '/')
					n--;
				if (n > 0)
					n--;
			} else {
				if (n + 1 + len + 1 > outlen)
					return -1;
				out[n++] = '/';
				memcpy(out + n, s, len);
				n += len;
			}
			s = e;
		}
	}
	if (!n)
		out[n++] = '/';
	out[n] = '\0';
	return 0;
}

/* Is @dir (normalised) @path or a parent directory of it? */
static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1)		/* "/" */
		return true;
	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

int box_path_rule(const struct box_policy *p, const char *path)
{
	size_t best_len = 0;
	int i, best = -1;

	for (i = 0; i < p->npaths; i++) {
		size_t n = strlen(p->paths[i].path);

		if (path_under(path, p->paths[i].path) &&
		    (best < 0 || n >= best_len)) {
			best = i;
			best_len = n;
		}
	}
	return best;
}

/* What a path argument needs. */
enum need { N_NONE, N_SEE, N_READ, N_WRITE, N_EXEC };

/*
 * The path arguments of each call the policy checks, and what each
 * needs; an open's need comes from its flags (flags_arg).
 */
static const struct path_call {
	int nr;
	signed char arg[2];
	unsigned char need[2];
	signed char flags_arg;
} path_calls[] = {
	{ SYS_open, { 0, -1 }, { N_READ }, 1 },
	{ SYS_openat, { 1, -1 }, { N_READ }, 2 },
	{ SYS_openat2, { 1, -1 }, { N_READ }, -1 },
	{ SYS_creat, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_execve, { 0, -1 }, { N_EXEC }, -1 },
	{ SYS_execveat, { 1, -1 }, { N_EXEC }, -1 },
	{ SYS_stat, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_lstat, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_newfstatat, { 1, -1 }, { N_SEE }, -1 },
	{ SYS_statx, { 1, -1 }, { N_SEE }, -1 },
	{ SYS_access, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_faccessat, { 1, -1 }, { N_SEE }, -1 },
	{ SYS_faccessat2, { 1, -1 }, { N_SEE }, -1 },
	{ SYS_readlink, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_readlinkat, { 1, -1 }, { N_SEE }, -1 },
	{ SYS_statfs, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_chdir, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_chroot, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_getxattr, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_lgetxattr, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_listxattr, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_llistxattr, { 0, -1 }, { N_SEE }, -1 },
	{ SYS_inotify_add_watch, { 1, -1 }, { N_READ }, -1 },
	{ SYS_truncate, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_mkdir, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_mkdirat, { 1, -1 }, { N_WRITE }, -1 },
	{ SYS_rmdir, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_unlink, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_unlinkat, { 1, -1 }, { N_WRITE }, -1 },
	{ SYS_mknod, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_mknodat, { 1, -1 }, { N_WRITE }, -1 },
	{ SYS_symlink, { 1, -1 }, { N_WRITE }, -1 },
	{ SYS_symlinkat, { 2, -1 }, { N_WRITE }, -1 },
	{ SYS_link, { 0, 1 }, { N_WRITE, N_WRITE }, -1 },
	{ SYS_linkat, { 1, 3 }, { N_WRITE, N_WRITE }, -1 },
	{ SYS_rename, { 0, 1 }, { N_WRITE, N_WRITE }, -1 },
	{ SYS_renameat, { 1, 3 }, { N_WRITE, N_WRITE }, -1 },
	{ SYS_renameat2, { 1, 3 }, { N_WRITE, N_WRITE }, -1 },
	{ SYS_chmod, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_fchmodat, { 1, -1 }, { N_WRITE }, -1 },
	{ SYS_chown, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_lchown, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_fchownat, { 1, -1 }, { N_WRITE }, -1 },
	{ SYS_utime, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_utimes, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_futimesat, { 1, -1 }, { N_WRITE }, -1 },
	{ SYS_utimensat, { 1, -1 }, { N_WRITE }, -1 },
	{ SYS_setxattr, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_lsetxattr, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_removexattr, { 0, -1 }, { N_WRITE }, -1 },
	{ SYS_lremovexattr, { 0, -1 }, { N_WRITE }, -1 },
};
#define NPATHCALLS (sizeof(path_calls) / sizeof(path_calls[0]))

/* path_calls' index + 1 by call number: every call asks, most are not */
static unsigned char path_call_idx[BOX_NAMED_NR];

static __attribute__((constructor)) void path_call_index(void)
{
	size_t i;

	/* backwards: the first entry for a number wins, as in a search */
	for (i = NPATHCALLS; i-- > 0;)
		path_call_idx[path_calls[i].nr] = i + 1;
}

static const struct path_call *path_call(int nr)
{
	if (nr < 0 || nr >= BOX_NAMED_NR || !path_call_idx[nr])
		return NULL;
	return &path_calls[path_call_idx[nr] - 1];
}

int box_policy_path_args(int nr, int argidx[2])
{
	const struct path_call *pc = path_call(nr);

	argidx[0] = pc ? pc->arg[0] : -1;
	argidx[1] = pc ? pc->arg[1] : -1;
	return !pc ? 0 : pc->arg[1] >= 0 ? 2 : 1;
}

static bool cond_holds(const struct box_cond *c, const uint64_t arg[6])
{
	uint64_t a = arg[c->arg] & c->mask;

	switch (c->op) {
	case BOX_EQ: return a == c->value;
	case BOX_NE: return a != c->value;
	case BOX_LT: return a < c->value;
	case BOX_LE: return a <= c->value;
	case BOX_GT: return a > c->value;
	case BOX_GE: return a >= c->value;
	}
	return false;
}

static void set(struct box_decision *d, enum box_verdict v, int err,
		const char *file, int line, const char *why)
{
	d->verdict = v;
	d->err = v == BOX_DENY ? err : 0;
	d->file = file;
	d->line = line;
	d->why = why;
	d->absent = false;
}

/* /proc/PID/mem, /proc/self/mem, /proc/thread-self/mem, .../task/TID/mem */
static bool is_proc_mem(const char *path)
{
	size_t n = strlen(path);

	return !strncmp(path, "/proc/", 6) && n > 10 &&
	       !strcmp(path + n - 4, "/mem");
}

/*
 * Names of a file the program already has open: Landlock checks the
 * file they lead to, which a lexical check cannot know.
 */
static bool is_open_file(const char *path)
{
	static const char *const pre[] = {
		"/proc/self/fd/", "/proc/thread-self/fd/", "/dev/fd/",
	};
	size_t i;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (!strncmp(path, pre[i], strlen(pre[i])))
			return true;
	return !strcmp(path, "/dev/stdin") || !strcmp(path, "/dev/stdout") ||
	       !strcmp(path, "/dev/stderr");
}

static const char *const why_need[] = {
	[N_SEE] = "path hidden", [N_READ] = "path not readable",
	[N_WRITE] = "path not writable", [N_EXEC] = "path not executable",
};

/* Is @path a proper ancestor of a path the policy makes visible? */
static bool leads_to_rule(const struct box_policy *p, const char *path)
{
	size_t n = strlen(path);
	int i;

	for (i = 0; i < p->npaths; i++) {
		const char *r = p->paths[i].path;

		if (p->paths[i].acc == BOX_HIDDEN || strlen(r) <= n)
			continue;
		if (n == 1 || (!strncmp(r, path, n) && r[n] == '/'))
			return true;
	}
	return false;
}

/*
 * A path no rule covers is outside the sandbox's view: it fails as if
 * it did not exist (ENOENT, as in a bubblewrap sandbox where it is not
 * bound), so that programs probing for optional files behave as they
 * do natively.  The directories leading to a visible path can be
 * looked at (stat, readlink, chdir: realpath() and getcwd-style walks
 * need them) but not listed, read or written (EACCES, as Landlock).
 */
static bool decide_uncovered(const struct box_policy *p, const char *norm,
			     enum need need, struct box_decision *d)
{
	if (!leads_to_rule(p, norm)) {
		set(d, BOX_DENY, ENOENT, NULL, 0,
		    "path outside the sandbox (no ro or rw rule covers it)");
		d->absent = true;
		return false;
	}
	if (need == N_SEE)
		return true;
	set(d, BOX_DENY, EACCES, NULL, 0, need == N_WRITE ?
	    "path not writable (a parent of the policy's paths)" :
	    "path not readable (a parent of the policy's paths)");
	return false;
}

/* The path part of the decision; false if it denied. */
static bool decide_path(const struct box_policy *p, const struct box_call *c,
			const struct path_call *pc, int i,
			struct box_decision *d)
{
	char norm[4096];
	enum need need = pc->need[0];
	const struct box_prule *r;
	int k, idx = -1;

	for (k = 0; k < 2; k++)
		if (pc->arg[k] == c->path_arg[i] && pc->arg[k] >= 0)
			idx = k;
	if (idx < 0 || !c->path[i])
		return true;
	need = pc->need[idx];
	if (pc->flags_arg >= 0) {
		uint64_t fl = c->arg[pc->flags_arg];

		if ((fl & O_ACCMODE) != O_RDONLY ||
		    (fl & (O_CREAT | O_TRUNC)) || (fl & O_TMPFILE) == O_TMPFILE)
			need = N_WRITE;
		else if (fl & O_PATH)
			need = N_SEE;
	}
	if (c->path[i][0] != '/' && !c->base[i])
		return true;
	if (box_path_normalise(c->base[i], c->path[i], norm, sizeof(norm)))
		return true;
	/*
	 * Writing another process's memory through procfs is the kernel
	 * acting on the address space behind the monitor (issue 9,
	 * "Isolation"): refused whatever the policy says.
	 */
	if (need == N_WRITE && is_proc_mem(norm)) {
		set(d, BOX_DENY, EACCES, "built-in rule", 0,
		    "/proc/PID/mem opened for writing");
		return false;
	}
	if (!p->npaths || is_open_file(norm))
		return true;
	k = box_path_rule(p, norm);
	if (k < 0)
		return decide_uncovered(p, norm, need, d);
	r = &p->paths[k];
	if (r->acc == BOX_RW || (r->acc == BOX_RO && need != N_WRITE))
		return true;
	set(d, BOX_DENY, EACCES, r->file, r->line, why_need[need]);
	return false;
}

void box_policy_decide(const struct box_policy *p, const struct box_call *c,
		       struct box_decision *d)
{
	const struct path_call *pc;
	int i, j;

	set(d, p->def_verdict, p->def_err, p->def_file, p->def_line,
	    p->def_verdict == BOX_ALLOW ? "allowed by default" :
					  "system call not allowed");
	if (!p->def_file)
		d->file = "built-in rule";
	/* a call no rule names: the default (most calls of most policies) */
	if (c->nr >= 0 && c->nr < BOX_NAMED_NR &&
	    !(p->named[c->nr / 64] & (1ULL << (c->nr % 64))))
		i = -1;
	else
		i = p->nrules - 1;
	for (; i >= 0; i--) {
		const struct box_rule *r = &p->rules[i];

		if (r->nr != c->nr)
			continue;
		for (j = 0; j < r->ncond; j++)
			if (!cond_holds(&r->cond[j], c->arg))
				break;
		if (j < r->ncond)
			continue;
		set(d, r->verdict, r->err, r->file, r->line,
		    r->verdict == BOX_ALLOW ? "allowed" :
		    r->ncond ? "arguments not allowed" :
			       "system call not allowed");
		break;
	}
	if (d->verdict == BOX_ALLOW && (pc = path_call(c->nr)))
		for (i = 0; i < 2; i++)
			if (!decide_path(p, c, pc, i, d))
				break;
	if (d->verdict == BOX_DENY && p->kill_on_deny && !d->absent)
		d->verdict = BOX_KILL;
}
