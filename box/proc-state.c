// SPDX-License-Identifier: MIT
/*
 * dune-box --exec-state FD: the new dune-box reads what the exec'ing
 * monitor wrote (proc-exec.c): the sealed memfd is mapped, the policy
 * rebuilt with its FILE:LINE origins, the strings point into the map.
 * Apart from proc-exec.c and proc-wr.c so that the monitor does not
 * pull the policy parser into programs that link the monitor alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy-int.h"
#include "proc.h"
#include "proc-state.h"



struct rd {
	const char *p, *end;
	bool bad;
};

static uint64_t r_u64(struct rd *r)
{
	uint64_t v = 0;

	if (r->end - r->p < 8) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p, 8);
	r->p += 8;
	return v;
}

static const char *r_str(struct rd *r)
{
	uint64_t n = r_u64(r);
	const char *s = r->p;

	if (!n)
		return NULL;
	if ((uint64_t)(r->end - r->p) < n || s[n - 1]) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return s;
}

static void r_put(struct rd *r, void *out, size_t n)
{
	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
}

static char **r_vec(struct rd *r)
{
	uint64_t n = r_u64(r), i;
	char **v;

	if (r->bad || n > (uint64_t)(r->end - r->p) / 8)
		return r->bad = true, NULL;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return r->bad = true, NULL;
	for (i = 0; i < n && !r->bad; i++)
		v[i] = (char *)r_str(r);
	return v;
}

static struct box_policy *r_policy(struct rd *r)
{
	const char *cwd = r_str(r);
	struct box_policy *p = box_policy_new(cwd);
	int i;

	if (!p)
		return NULL;
	p->def_verdict = r_u64(r);
	p->def_err = r_u64(r);
	p->def_file = r_str(r);
	p->def_line = r_u64(r);
	p->net = r_u64(r);
	r_put(r, p->limit, sizeof(p->limit));
	p->kill_on_deny = r_u64(r);
	p->nrules = r_u64(r);
	if (r->bad || p->nrules < 0 || p->nrules > 1 << 20)
		return NULL;
	p->rules_cap = p->nrules;
	p->rules = calloc(p->nrules + 1, sizeof(*p->rules));
	for (i = 0; p->rules && i < p->nrules && !r->bad; i++) {
		struct box_rule *x = &p->rules[i];

		x->nr = r_u64(r);
		x->verdict = r_u64(r);
		x->err = r_u64(r);
		x->ncond = r_u64(r);
		r_put(r, x->cond, sizeof(x->cond));
		x->file = r_str(r);
		x->line = r_u64(r);
		if (x->ncond < 0 || x->ncond > BOX_MAX_COND)
			r->bad = true;
		/* the calls some rule names (policy-decide.c's shortcut) */
		if (x->nr >= 0 && x->nr < BOX_NAMED_NR)
			p->named[x->nr / 64] |= 1ULL << (x->nr % 64);
	}
	p->npaths = r_u64(r);
	if (!p->rules || r->bad || p->npaths < 0 || p->npaths > 1 << 20)
		return NULL;
	p->paths_cap = p->npaths;
	p->paths = calloc(p->npaths + 1, sizeof(*p->paths));
	for (i = 0; p->paths && i < p->npaths && !r->bad; i++) {
		struct box_prule *x = &p->paths[i];
		const char *s = r_str(r);

		x->path = strdup(s ? s : "/");
		x->acc = r_u64(r);
		x->file = r_str(r);
		x->line = r_u64(r);
	}
	return p->paths && !r->bad ? p : NULL;
}

int box_exec_state_read(int fd, struct box_exec_state *st, char *err,
			size_t errlen)
{
	struct stat sb;
	struct rd r;
	uint64_t f;
	char *m;

	memset(st, 0, sizeof(*st));
	if (fstat(fd, &sb) || sb.st_size < 8 ||
	    (fcntl(fd, F_GET_SEALS) & SEALS) != SEALS) {
		snprintf(err, errlen, "--exec-state %d: not a sealed state", fd);
		return -1;
	}
	/* kept mapped: the strings below point into it */
	m = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "--exec-state: %s", strerror(errno));
		return -1;
	}
	r.p = m;
	r.end = m + sb.st_size;
	r.bad = r_u64(&r) != BOX_EXEC_STATE_MAGIC;
	st->log_fd = r_u64(&r);
	f = r_u64(&r);
	st->stats = f & 1;
	st->quiet = f & 2;
	st->kill_on_deny = f & 4;
	if (!r.bad)
		st->pol = r_policy(&r);
	st->path = r_str(&r);
	st->execfn = r_str(&r);
	st->exe = r_str(&r);
	st->argv = r_vec(&r);
	st->envp = r_vec(&r);
	if (r.bad || !st->pol || !st->path || !st->execfn || !st->exe) {
		snprintf(err, errlen, "--exec-state: malformed state");
		return -1;
	}
	return 0;
}
