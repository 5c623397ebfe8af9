// SPDX-License-Identifier: MIT
/*
 * dune-box: the policy language's parser (grammar: docs/sandbox.md).
 *
 * A policy is a list of statements, one a line; later statements
 * override earlier ones, so a file that includes a profile first can
 * change any part of it.  The parser works on plain strings and values
 * only: unit-tested on the host (test/unit/box_policy_test.c).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "policy-int.h"

/* A reason that names the policy file and line (none: the command line). */
static int perr(char *err, size_t errlen, const char *file, int line,
		const char *fmt, ...)
{
	int n = 0;
	va_list ap;

	if (file)
		n = snprintf(err, errlen, "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	box_verr(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

struct box_policy *box_policy_new(const char *cwd)
{
	struct box_policy *p = calloc(1, sizeof(*p));
	int i;

	if (!p)
		return NULL;
	p->cwd = strdup(cwd ? cwd : "/");
	if (!p->cwd) {
		free(p);
		return NULL;
	}
	/* A policy that never says "default" allows nothing it does not name. */
	p->def_verdict = BOX_DENY;
	p->def_err = EPERM;
	p->net = BOX_NET_ON;
	for (i = 0; i < BOX_LIMIT_N; i++)
		p->limit[i] = BOX_UNLIMITED;
	return p;
}

void box_policy_free(struct box_policy *p)
{
	struct box_name *n, *next;
	int i;

	if (!p)
		return;
	for (i = 0; i < p->npaths; i++)
		free(p->paths[i].path);
	for (n = p->names; n; n = next) {
		next = n->next;
		free(n);
	}
	free(p->paths);
	free(p->rules);
	free(p->cwd);
	free(p);
}

/* A copy of @s that lives as long as @p (decisions point into it). */
static const char *intern(struct box_policy *p, const char *s)
{
	struct box_name *n;

	for (n = p->names; n; n = n->next)
		if (!strcmp(n->s, s))
			return n->s;
	n = malloc(sizeof(*n) + strlen(s) + 1);
	if (!n)
		return NULL;
	strcpy(n->s, s);
	n->next = p->names;
	p->names = n;
	return n->s;
}

void box_policy_set_net(struct box_policy *p, enum box_net net)
{
	p->net = net;
}

void box_policy_set_limit(struct box_policy *p, enum box_limit l,
			  uint64_t value)
{
	if ((unsigned int)l < BOX_LIMIT_N)
		p->limit[l] = value;
}

void box_policy_set_kill_on_deny(struct box_policy *p, int on)
{
	p->kill_on_deny = on;
}

enum box_net box_policy_net(const struct box_policy *p)
{
	return p->net;
}

uint64_t box_policy_limit(const struct box_policy *p, enum box_limit l)
{
	return (unsigned int)l < BOX_LIMIT_N ? p->limit[l] : BOX_UNLIMITED;
}

int box_policy_npaths(const struct box_policy *p)
{
	return p->npaths;
}

const char *box_policy_path(const struct box_policy *p, int i,
			    enum box_access *acc)
{
	if (i < 0 || i >= p->npaths)
		return NULL;
	if (acc)
		*acc = p->paths[i].acc;
	return p->paths[i].path;
}

int box_policy_add_path(struct box_policy *p, enum box_access acc,
			const char *path, const char *file, int line,
			char *err, size_t errlen)
{
	char norm[4096];
	struct box_prule *r;
	const char *f = intern(p, file);
	int i;

	if (!f)
		return perr(err, errlen, file, line, "out of memory");
	if (!*path)
		return perr(err, errlen, file, line, "empty path");
	if (box_path_normalise(p->cwd, path, norm, sizeof(norm)))
		return perr(err, errlen, file, line, "path too long");
	/* The same path again: the later statement replaces the earlier. */
	for (i = 0; i < p->npaths; i++) {
		if (!strcmp(p->paths[i].path, norm)) {
			p->paths[i].acc = acc;
			p->paths[i].file = f;
			p->paths[i].line = line;
			return 0;
		}
	}
	if (p->npaths == p->paths_cap) {
		int cap = p->paths_cap ? 2 * p->paths_cap : 16;
		void *n = realloc(p->paths, cap * sizeof(*p->paths));

		if (!n)
			return perr(err, errlen, file, line, "out of memory");
		p->paths = n;
		p->paths_cap = cap;
	}
	r = &p->paths[p->npaths];
	r->path = strdup(norm);
	if (!r->path)
		return perr(err, errlen, file, line, "out of memory");
	r->acc = acc;
	r->file = f;
	r->line = line;
	p->npaths++;
	return 0;
}

static int add_rule(struct box_policy *p, const struct box_rule *r)
{
	if (p->nrules == p->rules_cap) {
		int cap = p->rules_cap ? 2 * p->rules_cap : 64;
		void *n = realloc(p->rules, cap * sizeof(*p->rules));

		if (!n)
			return -1;
		p->rules = n;
		p->rules_cap = cap;
	}
	p->rules[p->nrules++] = *r;
	if (r->nr >= 0 && r->nr < BOX_NAMED_NR)
		p->named[r->nr / 64] |= 1ULL << (r->nr % 64);
	return 0;
}

/* ---- the line scanner ---- */

struct scan {
	const char *s;		/* rest of the line */
	const char *file;
	int line;
	char *err;
	size_t errlen;
	char tok[4096];
};

static bool word_char(int c)
{
	return c && (isalnum(c) || strchr("_*./-+~:@%,", c));
}

static void skip_space(struct scan *sc)
{
	while (*sc->s == ' ' || *sc->s == '\t' || *sc->s == '\r')
		sc->s++;
	if (*sc->s == '#')
		sc->s += strlen(sc->s);
}

static bool at_end(struct scan *sc)
{
	skip_space(sc);
	return !*sc->s;
}

/*
 * Next word into sc->tok: a run of word characters, or a double-quoted
 * string.  0 if there is none; -1 on an error (reported).
 */
static int next_word(struct scan *sc)
{
	size_t n = 0;

	skip_space(sc);
	if (*sc->s == '"') {
		sc->s++;
		while (*sc->s && *sc->s != '"') {
			if (n + 1 >= sizeof(sc->tok))
				return perr(sc->err, sc->errlen, sc->file,
					    sc->line, "word too long");
			sc->tok[n++] = *sc->s++;
		}
		if (*sc->s != '"')
			return perr(sc->err, sc->errlen, sc->file, sc->line,
				    "unterminated quote");
		sc->s++;
		sc->tok[n] = '\0';
		return 1;
	}
	while (word_char((unsigned char)*sc->s)) {
		if (n + 1 >= sizeof(sc->tok))
			return perr(sc->err, sc->errlen, sc->file, sc->line,
				    "word too long");
		sc->tok[n++] = *sc->s++;
	}
	sc->tok[n] = '\0';
	return n > 0;
}

static int scan_err(struct scan *sc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return perr(sc->err, sc->errlen, sc->file, sc->line, "%s", msg);
}

/* The rest of the line must be empty. */
static int expect_end(struct scan *sc)
{
	if (at_end(sc))
		return 0;
	if (next_word(sc) > 0)
		return scan_err(sc, "unexpected '%s'", sc->tok);
	return scan_err(sc, "unexpected '%c'", *sc->s);
}

/* Decimal, 0x hex or 0 octal, optionally negative; with K/M/G if @sfx. */
static int parse_number(const char *s, bool sfx, uint64_t *v)
{
	bool neg = *s == '-';
	unsigned long long n;
	char *end;

	if (neg)
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno)
		return -1;
	if (sfx && *end && !end[1]) {
		int sh = *end == 'K' || *end == 'k' ? 10 :
			 *end == 'M' || *end == 'm' ? 20 :
			 *end == 'G' || *end == 'g' ? 30 :
			 *end == 'T' || *end == 't' ? 40 : -1;

		if (sh < 0 || n > (UINT64_MAX >> sh))
			return -1;
		n <<= sh;
		end++;
	}
	if (*end)
		return -1;
	*v = neg ? -(uint64_t)n : n;
	return 0;
}

static int parse_errno(const char *s)
{
	int e;

	for (e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcmp(n, s))
			return e;
	}
	return -1;
}

static bool is_errno_word(const char *s)
{
	const char *q;

	if (s[0] != 'E' || !s[1])
		return false;
	for (q = s; *q; q++)
		if (!isupper((unsigned char)*q) && !isdigit((unsigned char)*q))
			return false;
	return true;
}

/* value := atom { '|' atom }, atom := number | CONSTANT */
static int parse_value(struct scan *sc, const char *after, uint64_t *v)
{
	*v = 0;
	for (;;) {
		uint64_t a;
		int r = next_word(sc);

		if (r < 0)
			return -1;
		if (!r)
			return scan_err(sc, "expected a value after '%s'", after);
		if (parse_number(sc->tok, false, &a) &&
		    box_constant(sc->tok, &a))
			return scan_err(sc, "unknown constant '%s'", sc->tok);
		*v |= a;
		skip_space(sc);
		if (*sc->s != '|')
			return 0;
		sc->s++;
		after = "|";
	}
}

static int parse_op(struct scan *sc, enum box_op *op)
{
	static const struct {
		const char *s;
		enum box_op op;
	} ops[] = {
		{ "==", BOX_EQ }, { "!=", BOX_NE }, { "<=", BOX_LE },
		{ ">=", BOX_GE }, { "<", BOX_LT }, { ">", BOX_GT },
	};
	size_t i;

	skip_space(sc);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].s);

		if (!strncmp(sc->s, ops[i].s, n)) {
			sc->s += n;
			*op = ops[i].op;
			return 0;
		}
	}
	return -1;
}

/* cond := argN [ '&' value ] op value */
static int parse_cond(struct scan *sc, struct box_cond *c)
{
	char argname[16];
	int r = next_word(sc);

	if (r < 0)
		return -1;
	if (!r || strncmp(sc->tok, "arg", 3) || !isdigit((unsigned char)sc->tok[3]) ||
	    sc->tok[4])
		return scan_err(sc, "expected arg0..arg5, got '%s'",
			   r ? sc->tok : sc->s);
	c->arg = sc->tok[3] - '0';
	if (c->arg > 5)
		return scan_err(sc, "no argument %s (arg0..arg5)", sc->tok);
	snprintf(argname, sizeof(argname), "%.15s", sc->tok);
	c->mask = ~0ULL;
	skip_space(sc);
	if (*sc->s == '&') {
		sc->s++;
		if (parse_value(sc, "&", &c->mask))
			return -1;
	}
	if (parse_op(sc, &c->op))
		return scan_err(sc, "expected ==, !=, <, <=, > or >= after '%s'",
			   argname);
	return parse_value(sc, "comparison", &c->value);
}

/* action CALL... [if COND {and COND}] */
static int parse_calls(struct box_policy *p, struct scan *sc,
		       enum box_verdict v, const char *action)
{
	struct box_rule proto = { .verdict = v, .err = EPERM };
	int nrs[512], n = 0, i, r;
	bool have_err = false;

	proto.file = intern(p, sc->file);
	proto.line = sc->line;
	if (!proto.file)
		return scan_err(sc, "out of memory");
	for (;;) {
		char *t;

		r = next_word(sc);
		if (r < 0)
			return -1;
		if (!r) {
			if (*sc->s && *sc->s != '#')
				return scan_err(sc, "unexpected '%c'", *sc->s);
			break;
		}
		if (!strcmp(sc->tok, "if"))
			break;
		if (v == BOX_DENY && n == 0 && !have_err &&
		    is_errno_word(sc->tok)) {
			have_err = true;
			proto.err = parse_errno(sc->tok);
			if (proto.err < 0)
				return scan_err(sc, "unknown errno '%s'", sc->tok);
			continue;
		}
		/* "read, write" and "read write" alike */
		for (t = strtok(sc->tok, ","); t; t = strtok(NULL, ",")) {
			size_t len = strlen(t), k, matched = 0;

			if (len && t[len - 1] == '*') {
				const char *name;
				int nr;

				for (k = 0; (nr = box_syscall_at(k, &name)) >= 0; k++) {
					if (strncmp(name, t, len - 1))
						continue;
					if (n == 512)
						return scan_err(sc, "too many system calls");
					nrs[n++] = nr;
					matched++;
				}
				if (!matched)
					return scan_err(sc, "no system call matches '%s'", t);
				continue;
			}
			if (box_syscall_nr(t) < 0)
				return scan_err(sc, "unknown system call '%s'", t);
			if (n == 512)
				return scan_err(sc, "too many system calls");
			nrs[n++] = box_syscall_nr(t);
		}
	}
	if (!n)
		return scan_err(sc, "'%s' needs a system call name", action);
	if (r > 0) {	/* "if" */
		for (;;) {
			if (proto.ncond == BOX_MAX_COND)
				return scan_err(sc, "too many conditions (at most %d)",
					   BOX_MAX_COND);
			if (parse_cond(sc, &proto.cond[proto.ncond++]))
				return -1;
			if (at_end(sc))
				break;
			r = next_word(sc);
			if (r < 0)
				return -1;
			if (!r || strcmp(sc->tok, "and"))
				return scan_err(sc, "expected 'and' or the end of the line, got '%s'",
					   r ? sc->tok : sc->s);
		}
	}
	for (i = 0; i < n; i++) {
		proto.nr = nrs[i];
		if (add_rule(p, &proto))
			return scan_err(sc, "out of memory");
	}
	return 0;
}

static int parse_default(struct box_policy *p, struct scan *sc)
{
	int r = next_word(sc);

	if (r < 0)
		return -1;
	if (r && !strcmp(sc->tok, "allow")) {
		p->def_verdict = BOX_ALLOW;
	} else if (r && !strcmp(sc->tok, "kill")) {
		p->def_verdict = BOX_KILL;
	} else if (r && !strcmp(sc->tok, "deny")) {
		p->def_verdict = BOX_DENY;
		p->def_err = EPERM;
		skip_space(sc);
		if (*sc->s && next_word(sc) > 0) {
			p->def_err = parse_errno(sc->tok);
			if (p->def_err < 0)
				return scan_err(sc, "unknown errno '%s'", sc->tok);
		}
	} else {
		return scan_err(sc, "'default' takes allow, deny [ERRNO] or kill, not '%s'",
			   r ? sc->tok : sc->s);
	}
	p->def_file = intern(p, sc->file);
	p->def_line = sc->line;
	return expect_end(sc);
}

static int parse_path(struct box_policy *p, struct scan *sc,
		      enum box_access acc, const char *kw)
{
	int r = next_word(sc);

	if (r < 0)
		return -1;
	if (!r)
		return scan_err(sc, "'%s' needs a path", kw);
	if (box_policy_add_path(p, acc, sc->tok, sc->file, sc->line,
				sc->err, sc->errlen))
		return -1;
	/* several paths on one line */
	while (!at_end(sc)) {
		r = next_word(sc);
		if (r <= 0)
			return r < 0 ? -1 : scan_err(sc, "unexpected '%c'", *sc->s);
		if (box_policy_add_path(p, acc, sc->tok, sc->file, sc->line,
					sc->err, sc->errlen))
			return -1;
	}
	return 0;
}

static const char *const limit_names[BOX_LIMIT_N] = {
	[BOX_LIMIT_MEMORY] = "memory", [BOX_LIMIT_PROCS] = "procs",
	[BOX_LIMIT_FILES] = "files", [BOX_LIMIT_CPU] = "cpu",
	[BOX_LIMIT_FSIZE] = "fsize",
};

static int parse_limit(struct box_policy *p, struct scan *sc)
{
	int r = next_word(sc), l;
	uint64_t v;

	if (r < 0)
		return -1;
	for (l = 0; r && l < BOX_LIMIT_N; l++)
		if (!strcmp(sc->tok, limit_names[l]))
			break;
	if (!r || l == BOX_LIMIT_N)
		return scan_err(sc, "unknown limit '%s' (memory, procs, files, cpu, fsize)",
			   r ? sc->tok : "");
	r = next_word(sc);
	if (r < 0)
		return -1;
	if (!r)
		return scan_err(sc, "'limit %s' needs a value", limit_names[l]);
	if (!strcmp(sc->tok, "unlimited"))
		v = BOX_UNLIMITED;
	else if (parse_number(sc->tok, l == BOX_LIMIT_MEMORY ||
				       l == BOX_LIMIT_FSIZE, &v) ||
		 sc->tok[0] == '-')
		return scan_err(sc, "bad value '%s' for limit %s", sc->tok,
			   limit_names[l]);
	p->limit[l] = v;
	return expect_end(sc);
}

static int parse_net(struct box_policy *p, struct scan *sc)
{
	int r = next_word(sc);

	if (r < 0)
		return -1;
	if (r && !strcmp(sc->tok, "off"))
		p->net = BOX_NET_OFF;
	else if (r && !strcmp(sc->tok, "loopback"))
		p->net = BOX_NET_LOOPBACK;
	else if (r && !strcmp(sc->tok, "on"))
		p->net = BOX_NET_ON;
	else
		return scan_err(sc, "'net' takes off, loopback or on, not '%s'",
			   r ? sc->tok : "");
	return expect_end(sc);
}

static int parse_line(struct box_policy *p, struct scan *sc)
{
	char kw[32];
	int r = next_word(sc);

	if (r <= 0)
		return r < 0 ? -1 : at_end(sc) ? 0 :
			scan_err(sc, "unexpected '%c'", *sc->s);
	snprintf(kw, sizeof(kw), "%.31s", sc->tok);
	if (!strcmp(kw, "allow"))
		return parse_calls(p, sc, BOX_ALLOW, kw);
	if (!strcmp(kw, "deny"))
		return parse_calls(p, sc, BOX_DENY, kw);
	if (!strcmp(kw, "kill"))
		return parse_calls(p, sc, BOX_KILL, kw);
	if (!strcmp(kw, "default"))
		return parse_default(p, sc);
	if (!strcmp(kw, "ro"))
		return parse_path(p, sc, BOX_RO, kw);
	if (!strcmp(kw, "rw"))
		return parse_path(p, sc, BOX_RW, kw);
	if (!strcmp(kw, "hide"))
		return parse_path(p, sc, BOX_HIDDEN, kw);
	if (!strcmp(kw, "net"))
		return parse_net(p, sc);
	if (!strcmp(kw, "limit"))
		return parse_limit(p, sc);
	if (!strcmp(kw, "include")) {
		char name[64];

		r = next_word(sc);
		if (r <= 0)
			return r < 0 ? -1 : scan_err(sc, "'include' needs a profile name");
		snprintf(name, sizeof(name), "%.63s", sc->tok);
		if (!box_profile_text(name))
			return scan_err(sc, "unknown profile '%s' (strict, default, permissive)",
				   name);
		if (expect_end(sc))
			return -1;
		if (p->depth >= 4)
			return scan_err(sc, "include nested too deeply");
		return box_policy_include(p, name, sc->err, sc->errlen);
	}
	return scan_err(sc, "unknown statement '%s'", kw);
}

int box_policy_parse(struct box_policy *p, const char *file,
		     const char *text, char *err, size_t errlen)
{
	struct scan *sc = malloc(sizeof(*sc));
	const char *s = text;
	char *line = NULL;
	int lineno = 0, ret = 0;

	if (!sc)
		return perr(err, errlen, file, 0, "out of memory");
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		lineno++;
		free(line);
		line = strndup(s, len);
		if (!line) {
			ret = perr(err, errlen, file, lineno, "out of memory");
			break;
		}
		if (strlen(line) != len) {
			ret = perr(err, errlen, file, lineno, "NUL character");
			break;
		}
		sc->s = line;
		sc->file = file;
		sc->line = lineno;
		sc->err = err;
		sc->errlen = errlen;
		if (parse_line(p, sc)) {
			ret = -1;
			break;
		}
		s += len + (nl != NULL);
	}
	free(line);
	free(sc);
	return ret;
}

int box_policy_parse_file(struct box_policy *p, const char *path,
			  char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int ret;

	if (!f)
		return perr(err, errlen, NULL, 0, "%s: %s", path,
			    strerror(errno));
	for (;;) {
		size_t n;

		if (len + 4096 + 1 > cap) {
			char *t = realloc(text, cap = 2 * cap + 8192);

			if (!t) {
				fclose(f);
				free(text);
				return perr(err, errlen, NULL, 0,
					    "%s: out of memory", path);
			}
			text = t;
		}
		n = fread(text + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	if (ferror(f)) {
		ret = perr(err, errlen, NULL, 0, "%s: %s", path,
			   strerror(errno));
	} else {
		text[len] = '\0';
		if (strlen(text) != len)
			ret = perr(err, errlen, NULL, 0,
				   "%s: not a text file (NUL byte)", path);
		else
			ret = box_policy_parse(p, path, text, err, errlen);
	}
	fclose(f);
	free(text);
	return ret;
}

int box_policy_include(struct box_policy *p, const char *name,
		       char *err, size_t errlen)
{
	const char *text = box_profile_text(name);
	char file[80];
	int r;

	if (!text)
		return perr(err, errlen, NULL, 0,
			    "unknown profile '%s' (strict, default, permissive)",
			    name);
	snprintf(file, sizeof(file), "profile %s", name);
	p->depth++;
	r = box_policy_parse(p, file, text, err, errlen);
	p->depth--;
	return r;
}
