// SPDX-License-Identifier: MIT
/*
 * dune-box: what the monitor says.  --log: one strace-like line per
 * system call with its decoded arguments, result and decision; deny
 * messages on stderr, once per call site; --stats at the end.
 *
 * Runs in the ring-0 system call handler: formatted into static buffers
 * and written with one raw write each (no stdio locks, no allocation).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "monitor-int.h"

static const char *const names[512] = {
#define BOX_SYSCALL(n, nr) [nr] = #n,
#include "box-sysnames.h"
#undef BOX_SYSCALL
};

const char *box_sysname(long nr)
{
	return nr >= 0 && nr < 512 ? names[nr] : NULL;
}

struct out {
	char *p;
	size_t left;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->left <= 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p, o->left, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= o->left)
		n = o->left - 1;
	o->p += n;
	o->left -= n;
}

static void put_str(struct out *o, const char *s)
{
	int i;

	put(o, "\"");
	for (i = 0; s[i] && i < 96; i++) {
		unsigned char ch = s[i];

		if (ch == '"' || ch == '\\')
			put(o, "\\%c", ch);
		else if (ch == '\n')
			put(o, "\\n");
		else if (ch < 32 || ch >= 127)
			put(o, "\\x%02x", ch);
		else
			put(o, "%c", ch);
	}
	put(o, s[i] ? "\"..." : "\"");
}

static void put_open_flags(struct out *o, uint64_t f)
{
	static const struct {
		int bit;
		const char *name;
	} fl[] = {
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" },
		{ O_NOCTTY, "O_NOCTTY" }, { O_TRUNC, "O_TRUNC" },
		{ O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" },
		{ O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" },
	};
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR",
					   "O_ACCMODE" };
	unsigned int i;

	put(o, "%s", acc[f & O_ACCMODE]);
	f &= ~(uint64_t)O_ACCMODE;
	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		if ((f & fl[i].bit) == (uint64_t)fl[i].bit) {
			put(o, "|%s", fl[i].name);
			f &= ~(uint64_t)fl[i].bit;
		}
	}
	if (f)
		put(o, "|%#llx", (unsigned long long)f);
}

static bool is_open_flags(long nr, int i)
{
	return (nr == SYS_open && i == 1) || (nr == SYS_openat && i == 2);
}

/*
 * The arguments (open's mode only with O_CREAT, as strace); @brief, for
 * deny messages: no AT_FDCWD either.
 */
static void put_args(struct out *o, const struct box_ctx *c, bool brief)
{
	const struct box_sysent *e = c->e;
	bool first = true;
	int i;

	put(o, "(");
	for (i = 0; i < e->nargs; i++) {
		const struct box_arg *a = &e->a[i];
		uint64_t v = c->a[i];

		if (a->ty == BA_FD && (int)v == AT_FDCWD && brief)
			continue;
		if ((c->nr == SYS_open || c->nr == SYS_openat) &&
		    i == e->nargs - 1 && !(c->a[i - 1] & O_CREAT))
			continue;
		put(o, first ? "" : ", ");
		first = false;
		if (a->ty == BA_FD && (int)v == AT_FDCWD)
			put(o, "AT_FDCWD");
		else if (a->ty == BA_FD)
			put(o, "%d", (int)v);
		else if ((a->ty == BA_PATH || a->ty == BA_STR) &&
			 c->x[i] != v)
			put_str(o, (const char *)c->x[i]);
		else if (is_open_flags(c->nr, i))
			put_open_flags(o, v);
		else if (a->ty == BA_VAL && (int64_t)v > -65536 &&
			 (int64_t)v < 65536)
			put(o, "%lld", (long long)v);
		else if (!v)
			put(o, "NULL");
		else
			put(o, "%#llx", (unsigned long long)v);
	}
	put(o, ")");
}

static void put_name(struct out *o, const struct box_ctx *c)
{
	const char *n = box_sysname(c->nr);

	if (n)
		put(o, "%s", n);
	else
		put(o, "syscall_%ld", c->nr);
}

static void put_why(struct out *o, const struct box_ctx *c)
{
	if (c->refusal) {
		put(o, "%s", c->refusal);
		return;
	}
	put(o, "%s", c->d.why ? c->d.why : "denied by the policy");
	if (c->d.line > 0 && c->d.file &&
	    !strncmp(c->d.file, "profile ", 8))
		put(o, " (%s, line %d)", c->d.file, c->d.line);
	else if (c->d.line > 0 && c->d.file &&
		 !strcmp(c->d.file, "command line"))
		put(o, " (command line, argument %d)", c->d.line);
	else if (c->d.line > 0)
		put(o, " (policy line %d)", c->d.line);
	else if (c->d.file)
		put(o, " (built-in rule)");
}

static void emit(int fd, char *buf, struct out *o)
{
	size_t n = o->p - buf, off = 0;
	long r;

	while (off < n) {
		r = dune_sys6(SYS_write, fd, (uint64_t)buf + off, n - off, 0, 0,
			      0);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			break;
		off += r;
	}
}

void box_log_call(const struct box_ctx *c)
{
	static char buf[1024];
	struct out o = { buf, sizeof(buf) - 1 };

	if (box_mon.o.log_fd < 0)
		return;
	put_name(&o, c);
	put_args(&o, c, false);
	if (c->nr == SYS_exit || c->nr == SYS_exit_group) {
		put(&o, " = ?");
	} else if (c->ret < 0 && c->ret > -4096) {
		const char *en = strerrorname_np(-c->ret);

		put(&o, " = -1 %s", en ? en : "E?");
	} else if (c->nr == SYS_mmap || c->nr == SYS_brk ||
		   c->nr == SYS_mremap) {
		put(&o, " = %#lx", c->ret);
	} else {
		put(&o, " = %ld", c->ret);
	}
	if (c->refusal) {
		put(&o, " [refused: ");
		put_why(&o, c);
		put(&o, "]");
	} else if (c->d.verdict == BOX_DENY || c->d.verdict == BOX_KILL) {
		put(&o, c->d.verdict == BOX_KILL ? " [killed: " : " [denied: ");
		put_why(&o, c);
		put(&o, "]");
	} else {
		put(&o, " [allowed]");
	}
	/* the buffer keeps a byte for the newline even when full */
	o.left++;
	put(&o, "\n");
	emit(box_mon.o.log_fd, buf, &o);
}

void box_log_deny(struct box_ctx *c)
{
	static char buf[1024];
	struct out o = { buf, sizeof(buf) - 1 };

	put(&o, "dune-box: denied ");
	put_name(&o, c);
	put_args(&o, c, true);
	put(&o, ": ");
	put_why(&o, c);
	o.left++;
	put(&o, "\n");
	emit(box_mon.o.msg_fd, buf, &o);
}

void box_log_stats(const struct dune_stats *before,
		   const struct dune_stats *after)
{
	static char buf[256];
	unsigned long tot[3] = { 0, 0, 0 };
	int nr, k;

	for (nr = 0; nr < 512; nr++) {
		const unsigned long *n = box_mon.calls[nr];
		struct out o = { buf, sizeof(buf) };

		if (!n[0] && !n[1] && !n[2])
			continue;
		put(&o, "dune-box: %-20s %3d  allowed %lu  denied %lu  killed %lu\n",
		    names[nr] ? names[nr] : "?", nr, n[0], n[1], n[2]);
		emit(box_mon.o.msg_fd, buf, &o);
		for (k = 0; k < 3; k++)
			tot[k] += n[k];
	}
	{
		struct out o = { buf, sizeof(buf) };

		put(&o, "dune-box: total calls: allowed %lu  denied %lu  killed %lu  unknown numbers %lu\n",
		    tot[0], tot[1], tot[2], box_mon.unknown_calls);
		if (before && after)
			put(&o, "dune-box: VM exits %llu (entries %llu)\n",
			    (unsigned long long)(after->exits - before->exits),
			    (unsigned long long)(after->entries -
						 before->entries));
		emit(box_mon.o.msg_fd, buf, &o);
	}
}
