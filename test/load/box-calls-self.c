// SPDX-License-Identifier: MIT
/*
 * What the program sees of itself in /proc (itest-box-calls): stat,
 * newfstatat, statx and access of /proc/self/exe and /proc/PID/exe
 * describe the program's file (lstat and AT_SYMLINK_NOFOLLOW the link),
 * and its thread name (/proc/self/comm, PR_GET_NAME, a new thread's) is
 * the program's.
 *
 * Usage: box-calls-self stat|comm
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "box-calls.h"

static struct stat prog;

static void same_file(const char *what, int r, const struct stat *st)
{
	printf("%s: ret %d program's file %s size %s\n", what, r,
	       yes(!r && st->st_ino == prog.st_ino &&
		   st->st_dev == prog.st_dev),
	       yes(!r && st->st_size == prog.st_size));
}

static void link_itself(const char *what, int r, const struct stat *st)
{
	printf("%s: ret %d symlink %s size %ld\n", what, r,
	       yes(!r && S_ISLNK(st->st_mode)), r ? -1L : (long)st->st_size);
}

static int t_stat(void)
{
	const char *exe = (const char *)getauxval(AT_EXECFN);
	struct statx sx;
	struct stat st;
	char pidexe[64];
	int r;

	if (stat(exe, &prog))
		return 1;
	snprintf(pidexe, sizeof(pidexe), "/proc/%d/exe", getpid());
	same_file("stat self", stat("/proc/self/exe", &st), &st);
	same_file("stat pid", stat(pidexe, &st), &st);
	same_file("fstatat", fstatat(AT_FDCWD, "/proc/self/exe", &st, 0), &st);
	r = statx(AT_FDCWD, "/proc/self/exe", 0, STATX_BASIC_STATS, &sx);
	printf("statx: ret %d program's file %s size %s\n", r,
	       yes(!r && sx.stx_ino == prog.st_ino),
	       yes(!r && (long long)sx.stx_size == (long long)prog.st_size));
	link_itself("lstat", lstat("/proc/self/exe", &st), &st);
	link_itself("fstatat nofollow",
		    fstatat(AT_FDCWD, "/proc/self/exe", &st,
			    AT_SYMLINK_NOFOLLOW), &st);
	r = statx(AT_FDCWD, pidexe, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
		  &sx);
	printf("statx nofollow: ret %d symlink %s\n", r,
	       yes(!r && S_ISLNK(sx.stx_mode)));
	printf("access X_OK: %d\n", access("/proc/self/exe", X_OK));
	printf("faccessat W_OK: %d\n",
	       faccessat(AT_FDCWD, "/proc/self/exe", W_OK, AT_EACCESS));
	return 0;
}

static void show_comm(const char *who)
{
	char buf[64], name[17];
	int fd = open("/proc/thread-self/comm", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	memset(name, 0, sizeof(name));
	prctl(PR_GET_NAME, name, 0, 0, 0);
	printf("%s: comm %s", who, buf);
	printf("%s: PR_GET_NAME %s\n", who, name);
}

static void *thread(void *arg)
{
	show_comm("thread");
	return NULL;
}

static int t_comm(void)
{
	pthread_t th;

	show_comm("main");
	if (pthread_create(&th, NULL, thread, NULL))
		return 1;
	pthread_join(th, NULL);
	prctl(PR_SET_NAME, "renamed", 0, 0, 0);
	show_comm("main");
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(c, "stat"))
		return t_stat();
	if (!strcmp(c, "comm"))
		return t_comm();
	fprintf(stderr, "usage: box-calls-self stat|comm\n");
	return 2;
}
