// SPDX-License-Identifier: MIT
/*
 * dune-box: writing the state an exec'ing monitor hands the new
 * dune-box (layout: proc-state.h; read by proc-state.c).  A buffered
 * writer to an fd; the policy with every pointer replaced by what it
 * points to, so decisions in the new dune-box name the same FILE:LINE.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "../libdune/raw.h"
#include "policy-int.h"
#include "proc.h"
#include "proc-state.h"

void box_wr_flush(struct box_wr *w)
{
	char back[sizeof(w->buf)];
	size_t off = 0;
	long r;

	while (!w->err && off < w->n) {
		if (w->verify)
			r = dune_sys6(SYS_pread64, w->fd, (uint64_t)back,
				      w->n - off, w->off + off, 0, 0);
		else
			r = dune_sys6(SYS_write, w->fd, (uint64_t)w->buf + off,
				      w->n - off, 0, 0, 0);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			w->err = r < 0 ? r : -EIO;
		else if (w->verify && memcmp(back, w->buf + off, r))
			w->err = -EIO;
		else
			off += r;
	}
	w->off += off;
	w->n = 0;
}

void box_wr_put(struct box_wr *w, const void *p, size_t len)
{
	const char *s = p;

	while (len) {
		size_t k = sizeof(w->buf) - w->n;

		if (k > len)
			k = len;
		memcpy(w->buf + w->n, s, k);
		w->n += k;
		s += k;
		len -= k;
		if (w->n == sizeof(w->buf))
			box_wr_flush(w);
	}
}

void box_wr_u64(struct box_wr *w, uint64_t v)
{
	box_wr_put(w, &v, sizeof(v));
}

void box_wr_str(struct box_wr *w, const char *s)
{
	uint64_t n = s ? strlen(s) + 1 : 0;

	box_wr_u64(w, n);
	if (n)
		box_wr_put(w, s, n);
}

/* The policy, every pointer replaced by what it points to. */
void box_wr_policy(struct box_wr *w, const struct box_policy *p)
{
	int i;

	box_wr_str(w, p->cwd);
	box_wr_u64(w, p->def_verdict);
	box_wr_u64(w, p->def_err);
	box_wr_str(w, p->def_file);
	box_wr_u64(w, p->def_line);
	box_wr_u64(w, p->net);
	box_wr_put(w, p->limit, sizeof(p->limit));
	box_wr_u64(w, p->kill_on_deny);
	box_wr_u64(w, p->nrules);
	for (i = 0; i < p->nrules; i++) {
		const struct box_rule *r = &p->rules[i];

		box_wr_u64(w, r->nr);
		box_wr_u64(w, r->verdict);
		box_wr_u64(w, r->err);
		box_wr_u64(w, r->ncond);
		box_wr_put(w, r->cond, sizeof(r->cond));
		box_wr_str(w, r->file);
		box_wr_u64(w, r->line);
	}
	box_wr_u64(w, p->npaths);
	for (i = 0; i < p->npaths; i++) {
		const struct box_prule *r = &p->paths[i];

		box_wr_str(w, r->path);
		box_wr_u64(w, r->acc);
		box_wr_str(w, r->file);
		box_wr_u64(w, r->line);
	}
}

void box_wr_head(struct box_wr *w, int log_fd, bool stats, bool quiet,
		 bool kill_on_deny, const struct box_policy *pol,
		 const char *path, const char *execfn, const char *exe)
{
	box_wr_u64(w, BOX_EXEC_STATE_MAGIC);
	box_wr_u64(w, log_fd);
	box_wr_u64(w, stats | quiet << 1 | kill_on_deny << 2);
	box_wr_policy(w, pol);
	box_wr_str(w, path);
	box_wr_str(w, execfn);
	box_wr_str(w, exe);
}

