// SPDX-License-Identifier: MIT
/*
 * The escape tests for threads (itest-box-thread): one thread makes
 * system calls while another changes, in memory, what they name.  The
 * monitor checks a copy and gives Linux that copy, so a change after
 * the check changes nothing.
 *
 *   box-thr-race iov: writev(pipe, iov) while iov[0].iov_base flips
 *     between a sandbox buffer and 0x200000000, unmapped natively and
 *     libdune's page pool (the page tables) in dune-box.  Each call
 *     writes the buffer or fails with EFAULT; the bytes that reach the
 *     pipe are the buffer's.  Same output natively and in dune-box.
 *   box-thr-race path ALLOWED DENIED: open(path) while the path flips
 *     between two names of the same length; run in dune-box with a
 *     policy hiding DENIED, whose content is "secret": never read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* At most this many calls; the iovec test stops once it has seen each
 * outcome often enough. */
#define ROUNDS 20000
#define ENOUGH 300
#define FOREIGN ((void *)0x200000000ul)

static volatile int stop;
static volatile unsigned long flips;
static struct iovec iov[1] __attribute__((aligned(64)));
static char good[16] __attribute__((aligned(64)));
static char path[2][256], cur[256];

/* Hold each value a little while, so that either may be seen. */
static void hold(unsigned int n)
{
	while (n--)
		__asm__ volatile("pause" ::: "memory");
}

static void *flip_iov(void *arg)
{
	unsigned int n = 1;

	while (!stop) {
		n = n * 1103515245 + 12345;
		iov[0].iov_base = FOREIGN;
		hold((n >> 16) & 255);
		iov[0].iov_base = good;
		hold((n >> 8) & 255);
		flips++;
	}
	return NULL;
}

static int t_iov(void)
{
	int p[2], bad = 0, leaks = 0, i;
	long n, wrote = 0, failed = 0;
	pthread_t t;
	char back[16];

	memset(good, 'G', sizeof(good));
	iov[0].iov_base = good;
	iov[0].iov_len = sizeof(good);
	if (pipe(p))
		return 1;
	if (pthread_create(&t, NULL, flip_iov, NULL)) {
		printf("no second thread\n");
		return 1;
	}
	while (!flips)
		sched_yield();
	for (i = 0; i < ROUNDS && (wrote < ENOUGH || failed < ENOUGH); i++) {
		n = writev(p[1], iov, 1);
		if (n == sizeof(good)) {
			wrote++;
			if (read(p[0], back, sizeof(back)) != sizeof(back) ||
			    memcmp(back, good, sizeof(good)))
				leaks++;
		} else if (n < 0 && errno == EFAULT) {
			failed++;
		} else {
			bad++;
		}
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("every writev wrote the buffer or failed with EFAULT: %s\n",
	       bad ? "no" : "yes");
	printf("bytes from anywhere but the buffer: %s\n", leaks ? "yes" : "no");
	printf("calls: %s\n", wrote + failed == i ? "all accounted" : "lost");
	/* the monitor (and its page tables) still work */
	printf("after the race: pipe %s\n",
	       write(p[1], "x", 1) == 1 && read(p[0], back, 1) == 1 ? "ok" :
	       "broken");
	return 0;
}

static void *flip_path(void *arg)
{
	unsigned int n = 1;

	while (!stop) {
		n = n * 1103515245 + 12345;
		memcpy(cur, path[1], sizeof(cur));
		hold((n >> 16) & 255);
		memcpy(cur, path[0], sizeof(cur));
		hold((n >> 8) & 255);
		flips++;
	}
	return NULL;
}

static int t_path(const char *allowed, const char *denied)
{
	int i, fd, secret = 0, opened = 0;
	char buf[16];
	pthread_t t;
	ssize_t n;

	if (strlen(allowed) != strlen(denied) || strlen(allowed) >= 256)
		return 64;
	strcpy(path[0], allowed);
	strcpy(path[1], denied);
	strcpy(cur, allowed);
	if (pthread_create(&t, NULL, flip_path, NULL)) {
		printf("no second thread\n");
		return 1;
	}
	while (!flips)
		sched_yield();
	for (i = 0; i < ROUNDS; i++) {
		fd = open(cur, O_RDONLY);
		if (fd < 0)
			continue;
		opened++;
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		if (strstr(buf, "secret"))
			secret++;
		close(fd);
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("allowed file opened: %s\n", opened ? "yes" : "no");
	printf("secret read: %s\n", secret ? "yes" : "never");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "iov"))
		return t_iov();
	if (argc == 4 && !strcmp(argv[1], "path"))
		return t_path(argv[2], argv[3]);
	fprintf(stderr, "usage: box-thr-race iov | path ALLOWED DENIED\n");
	return 64;
}
