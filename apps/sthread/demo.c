// SPDX-License-Identifier: MIT
/*
 * sthread-demo: a worker compartment that may read the request and
 * write the reply, and nothing else of the master's: not its secret.
 *
 *   worker:  reply = upper-case(request), printed with write(2)
 *   snooper: the same rights, but reads the secret: killed by the fault
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "libdune/dune.h"
#include "sthread.h"

struct msg {
	size_t len;
	char text[64];
};

static char *secret;	/* in a tag no sthread is granted */

/* Ring 3: only its stack, the request (read) and reply (read-write). */
STHREAD_CODE static long worker(void *arg)
{
	struct msg **io = arg;	/* io[0] request, io[1] reply */
	size_t i;

	for (i = 0; i < io[0]->len && i < sizeof(io[1]->text); i++) {
		char c = io[0]->text[i];

		io[1]->text[i] = c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
	}
	io[1]->len = i;
	return sthread_syscall(SYS_write, 1, (long)io[1]->text, i);
}

STHREAD_CODE static long snooper(void *arg)
{
	return *(volatile char *)arg;
}

int main(void)
{
	struct tag *req, *rep, *sec;
	struct msg **io;
	struct sthread st;
	struct sc sc;
	long ret;

	if (dune_init_and_enter())
		return 1;
	req = tag_new(PGSIZE);
	rep = tag_new(PGSIZE);
	sec = tag_new(PGSIZE);
	secret = smalloc(sec, 32);
	strcpy(secret, "the master's secret");

	/* the request tag holds the request and where to find both */
	io = smalloc(req, 2 * sizeof(*io));
	io[0] = smalloc(req, sizeof(struct msg));
	io[1] = smalloc(rep, sizeof(struct msg));
	strcpy(io[0]->text, "hello from the worker\n");
	io[0]->len = strlen(io[0]->text);

	sc_init(&sc);
	sc_mem_add(&sc, req, PROT_READ);
	sc_mem_add(&sc, rep, PROT_READ | PROT_WRITE);
	sc_sys_add(&sc, SYS_write);

	if (sthread_create(&st, &sc, worker, io) || sthread_join(&st, &ret))
		return 1;
	printf("worker: returned %ld, reply \"%.*s\" (%zu bytes)\n", ret,
	       (int)io[1]->len - 1, io[1]->text, io[1]->len);

	if (sthread_create(&st, &sc, snooper, secret))
		return 1;
	sthread_join(&st, &ret);
	printf("snooper: %s at the secret: %s\n", sthread_end_str(st.end),
	       st.addr == (uintptr_t)secret ? "yes" : "no");
	printf("master: secret intact: %s\n",
	       strcmp(secret, "the master's secret") ? "no" : "yes");
	return st.end == STH_FAULT ? 0 : 1;
}
