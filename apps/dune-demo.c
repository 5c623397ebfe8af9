// SPDX-License-Identifier: MIT
/*
 * dune-demo: what the module sees, then this very process entering Dune
 * mode and going on as an ordinary program: stdio, malloc, files, time,
 * a thread, all while running in VMX non-root ring 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dune.h"

static void *thread_main(void *arg)
{
	printf("  a new thread: in Dune mode: %s\n", dune_active() ? "yes" : "no");
	return NULL;
}

int main(void)
{
	struct dune_caps caps;
	struct dune_stats st;
	struct timespec ts;
	pthread_t t;
	char *buf;
	FILE *f;

	if (dune_get_caps(&caps))
		return EXIT_FAILURE;
	printf("dune.ko found VT-x:\n");
	dune_caps_print(&caps, stdout);

	printf("\nentering Dune mode ...\n");
	fflush(stdout);
	if (dune_init_and_enter())
		return EXIT_FAILURE;
	printf("hello from VMX non-root mode, ring 0 (dune_active: %s)\n",
	       dune_active() ? "yes" : "no");

	buf = malloc(1 << 20);
	memset(buf, 'x', 1 << 20);
	f = fopen("/tmp/dune-demo.txt", "w+");
	fprintf(f, "written in Dune mode by pid %d\n", getpid());
	rewind(f);
	fgets(buf, 128, f);
	fclose(f);
	printf("  file round trip: %s", buf);
	free(buf);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("  clock_gettime: %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	pthread_create(&t, NULL, thread_main, NULL);
	pthread_join(t, NULL);

	if (dune_get_stats(&st) == 0)
		printf("  this thread so far: %llu VM exits, %llu system calls forwarded, %llu EPT entries made\n",
		       (unsigned long long)st.exits,
		       (unsigned long long)st.by_reason[18],
		       (unsigned long long)st.ept_maps);
	printf("bye\n");
	return EXIT_SUCCESS;
}
