/* SPDX-License-Identifier: MIT */
/*
 * dune-box: the state an exec'ing monitor hands the new dune-box
 * (box/proc-state.c): written with these, read by box_exec_state_read.
 * Layout: magic, log fd, option bits, the policy, the file to load,
 * AT_EXECFN, /proc/self/exe, then argv and envp (a count, then the
 * strings), each string as its length with the NUL, then its bytes.
 */
#ifndef BOX_PROC_STATE_H
#define BOX_PROC_STATE_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct box_policy;

/* The seals the state carries before the new dune-box trusts it. */
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct box_wr {
	int fd;
	long err;		/* the first write error, -errno */
	/*
	 * Compare the file with what would be written instead of writing
	 * it (-EIO at the first difference): the fd is the process's, so
	 * another sandbox thread could write to it before it is sealed.
	 */
	bool verify;
	uint64_t off;		/* bytes written (or compared) so far */
	size_t n;
	char buf[4096];
};

void box_wr_put(struct box_wr *w, const void *p, size_t len);
void box_wr_u64(struct box_wr *w, uint64_t v);
void box_wr_str(struct box_wr *w, const char *s);
void box_wr_policy(struct box_wr *w, const struct box_policy *p);
void box_wr_flush(struct box_wr *w);
/* Everything up to argv. */
void box_wr_head(struct box_wr *w, int log_fd, bool stats, bool quiet,
		 bool kill_on_deny, const struct box_policy *pol,
		 const char *path, const char *execfn, const char *exe);

#endif
