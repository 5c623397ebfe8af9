// SPDX-License-Identifier: MIT
/*
 * dune-box's enforcement by Linux itself (box/enforce.c), natively: after
 * box_enforce with a policy, Landlock keeps hidden paths unreadable and
 * read-only ones unwritable (symlinks and renames included), the network
 * namespace cuts the network, and each rlimit bites.  Every test first
 * checks that what it forbids works without box_enforce, so it fails
 * when the enforcement does nothing.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dune/uapi.h>

#include "itest.h"
#include "policy.h"

#define NOBODY 65534

static char dir[64];

/* A fresh directory tree: ro/ rw/ hid/, each with a file "f". */
static void make_tree(void)
{
	static const char *const sub[] = { "ro", "rw", "hid" };
	char path[256];
	size_t i;

	snprintf(dir, sizeof(dir), "/tmp/boxpol.XXXXXX");
	IT_ASSERT(mkdtemp(dir));
	IT_ASSERT(!chmod(dir, 0755));
	for (i = 0; i < 3; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		IT_ASSERT(!mkdir(path, 0777));
		IT_ASSERT(!chmod(path, 0777));
		snprintf(path, sizeof(path), "%s/%s/f", dir, sub[i]);
		fd = open(path, O_WRONLY | O_CREAT, 0666);
		IT_ASSERT(fd >= 0);
		IT_ASSERT_EQ(write(fd, sub[i], strlen(sub[i])), (long)strlen(sub[i]));
		IT_ASSERT(!fchmod(fd, 0666));
		close(fd);
	}
}

static const char *P(const char *rel)
{
	static char buf[4][256];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, rel);
	return buf[n];
}

/* Parse @text (with "%s" standing for the tree) and enforce it. */
static void enforce(const char *text, const char *const exec[])
{
	char err[512], buf[2048];
	struct box_policy *p = box_policy_new(dir[0] ? dir : "/tmp");

	IT_ASSERT(p);
	snprintf(buf, sizeof(buf), text, dir, dir, dir, dir, dir);
	if (box_policy_parse(p, "test", buf, err, sizeof(err)))
		IT_FAIL("policy: %s", err);
	if (box_enforce(p, exec, err, sizeof(err)))
		IT_FAIL("box_enforce: %s", err);
	box_policy_free(p);
}

static int can_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0666);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* What the file holds, or "-ERRNO" */
static const char *content(const char *path)
{
	static char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(buf, sizeof(buf), "-%d", errno);
		return buf;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

#define TREE_POLICY "default allow\nro %s/ro\nrw %s/rw\nhide %s/hid\n"

static void test_landlock_abi(void)
{
	/* Both Debian kernels have Landlock on (6.1: ABI 2). */
	IT_ASSERT(box_landlock_abi() >= 2);
}

static void test_hidden_unreadable(void)
{
	make_tree();
	IT_ASSERT(!strcmp(content(P("hid/f")), "hid"));
	enforce(TREE_POLICY, NULL);
	IT_ASSERT_EQ(can_open(P("hid/f"), O_RDONLY), -EACCES);
	IT_ASSERT_EQ(can_open(P("hid"), O_RDONLY | O_DIRECTORY), -EACCES);
	IT_ASSERT_EQ(can_open(P("hid/new"), O_WRONLY | O_CREAT), -EACCES);
	/* outside every rule: hidden too */
	IT_ASSERT_EQ(can_open(dir, O_RDONLY | O_DIRECTORY), -EACCES);
	IT_ASSERT(!strcmp(content(P("ro/f")), "ro"));
}

static void test_ro_unwritable(void)
{
	make_tree();
	IT_ASSERT_EQ(can_open(P("ro/f"), O_WRONLY), 0);
	enforce(TREE_POLICY, NULL);
	IT_ASSERT(!strcmp(content(P("ro/f")), "ro"));
	IT_ASSERT_EQ(can_open(P("ro"), O_RDONLY | O_DIRECTORY), 0);
	IT_ASSERT_EQ(can_open(P("ro/f"), O_WRONLY), -EACCES);
	IT_ASSERT_EQ(can_open(P("ro/f"), O_RDWR | O_APPEND), -EACCES);
	IT_ASSERT_EQ(can_open(P("ro/new"), O_WRONLY | O_CREAT), -EACCES);
	IT_ASSERT_EQ(unlink(P("ro/f")), -1);
	IT_ASSERT_EQ(errno, EACCES);
	IT_ASSERT_EQ(mkdir(P("ro/d"), 0777), -1);
	IT_ASSERT_EQ(rename(P("ro/f"), P("ro/g")), -1);
	/* truncate(2) is a Landlock right from ABI 3 (Linux 6.2) on */
	if (box_landlock_abi() >= 3) {
		IT_ASSERT_EQ(truncate(P("ro/f"), 0), -1);
		IT_ASSERT_EQ(errno, EACCES);
	}
	IT_ASSERT(!strcmp(content(P("ro/f")), "ro"));
}

static void test_rw_writable(void)
{
	int fd;

	make_tree();
	enforce(TREE_POLICY, NULL);
	fd = open(P("rw/new"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(write(fd, "x", 1), 1);
	close(fd);
	IT_ASSERT(!strcmp(content(P("rw/new")), "x"));
	IT_ASSERT(!mkdir(P("rw/d"), 0777));
	IT_ASSERT(!rename(P("rw/new"), P("rw/d/new")));
	IT_ASSERT(!unlink(P("rw/d/new")));
	IT_ASSERT(!rmdir(P("rw/d")));
	IT_ASSERT_EQ(can_open(P("rw/f"), O_RDWR | O_TRUNC), 0);
}

/* Symlinks and hard links from a rw directory into a hidden one. */
static void test_symlink_into_hidden(void)
{
	make_tree();
	IT_ASSERT(!symlink(P("hid/f"), P("rw/lf")));
	IT_ASSERT(!symlink(P("hid"), P("rw/ld")));
	IT_ASSERT(!symlink("../hid/f", P("rw/rel")));
	IT_ASSERT(!strcmp(content(P("rw/lf")), "hid"));
	IT_ASSERT(!strcmp(content(P("rw/ld/f")), "hid"));
	enforce(TREE_POLICY, NULL);
	IT_ASSERT_EQ(can_open(P("rw/lf"), O_RDONLY), -EACCES);
	IT_ASSERT_EQ(can_open(P("rw/ld/f"), O_RDONLY), -EACCES);
	IT_ASSERT_EQ(can_open(P("rw/rel"), O_RDONLY), -EACCES);
	IT_ASSERT_EQ(can_open(P("rw/lf"), O_WRONLY | O_TRUNC), -EACCES);
	/* a new symlink made after the rules: the same */
	IT_ASSERT(!symlink(P("hid/f"), P("rw/late")));
	IT_ASSERT_EQ(can_open(P("rw/late"), O_RDONLY), -EACCES);
	/* a hard link would make the hidden file a rw one: refused */
	IT_ASSERT_EQ(link(P("hid/f"), P("rw/hl")), -1);
	IT_ASSERT_EQ(rename(P("hid/f"), P("rw/moved")), -1);
	IT_ASSERT(!strcmp(content(P("hid/f")), "-13"));
}

static volatile int racing;

static void *swapper(void *arg)
{
	while (racing)
		syscall(SYS_renameat2, AT_FDCWD, P("rw/a"), AT_FDCWD,
			P("rw/b"), RENAME_EXCHANGE);
	return NULL;
}

/* A name switching between a file and a symlink to a hidden one. */
static void test_symlink_race(void)
{
	int i, good = 0, denied = 0;
	pthread_t t;
	int fd;

	make_tree();
	fd = open(P("rw/a"), O_WRONLY | O_CREAT, 0666);
	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(write(fd, "rw", 2), 2);
	close(fd);
	IT_ASSERT(!symlink(P("hid/f"), P("rw/b")));
	enforce(TREE_POLICY, NULL);
	racing = 1;
	IT_ASSERT(!pthread_create(&t, NULL, swapper, NULL));
	for (i = 0; i < 400; i++) {
		const char *c = content(P("rw/a"));

		if (!strcmp(c, "rw"))
			good++;
		else if (!strcmp(c, "-13"))
			denied++;
		else if (strcmp(c, "-2"))	/* between the two names */
			IT_FAIL("read through the race: '%s'", c);
	}
	racing = 0;
	pthread_join(t, NULL);
	IT_ASSERT(good + denied > 0);
}

/* Narrower rules inside wider ones hold under Landlock too. */
static void test_nested_rules(void)
{
	make_tree();
	IT_ASSERT(!mkdir(P("rw/sub"), 0777));
	IT_ASSERT_EQ(can_open(P("rw/sub/x"), O_WRONLY | O_CREAT), 0);
	IT_ASSERT(!mkdir(P("ro/secret"), 0777));
	IT_ASSERT_EQ(can_open(P("ro/secret/x"), O_WRONLY | O_CREAT), 0);
	enforce("ro %s/ro\nhide %s/ro/secret\nhide %s/ro/f\n"
		"rw %s/rw\nro %s/rw/sub\n", NULL);
	IT_ASSERT_EQ(can_open(P("ro/f"), O_RDONLY), -EACCES);
	IT_ASSERT_EQ(can_open(P("ro/secret/x"), O_RDONLY), -EACCES);
	IT_ASSERT_EQ(can_open(P("rw/sub/x"), O_RDONLY), 0);
	IT_ASSERT_EQ(can_open(P("rw/sub/x"), O_WRONLY), -EACCES);
	IT_ASSERT_EQ(can_open(P("rw/f"), O_RDWR), 0);
}

/* Run @path with @arg in a child: its exit status, 100 + errno if exec failed. */
static int run(const char *path, const char *arg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		execl(path, path, arg, (char *)NULL);
		_exit(100 + errno);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The program named in exec[] stays runnable when its directory is hidden. */
static void test_exec_kept(void)
{
	char self[256], sib[300];
	const char *exec[] = { self, NULL };
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	IT_ASSERT(n > 0);
	self[n] = '\0';
	/* dyn-true: the host's /bin/true, shipped next to this program */
	snprintf(sib, sizeof(sib), "%.*s/dyn-true",
		 (int)(strrchr(self, '/') - self), self);
	IT_ASSERT_EQ(run(sib, NULL), 0);
	enforce("default allow\nro /lib /lib64 /usr /etc\n", exec);
	IT_ASSERT_EQ(run(self, "-l"), 0);
	IT_ASSERT_EQ(run(sib, NULL), 100 + EACCES);
}

/* libdune opens /dev/dune again in fork children: Landlock lets it. */
static void test_dune_device_kept(void)
{
	IT_ASSERT_EQ(can_open("/dev/null", O_RDWR), 0);
	IT_ASSERT_EQ(can_open(DUNE_DEVICE_PATH, O_RDWR), 0);
	enforce("ro /usr\n", NULL);
	IT_ASSERT_EQ(can_open("/dev/null", O_RDWR), -EACCES);
	IT_ASSERT_EQ(can_open(DUNE_DEVICE_PATH, O_RDWR), 0);
}

/* A listener in the namespace we start in, on 127.0.0.1. */
static int outside_listener(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	IT_ASSERT(s >= 0);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	IT_ASSERT(!bind(s, (struct sockaddr *)a, sizeof(*a)));
	IT_ASSERT(!listen(s, 4));
	IT_ASSERT(!getsockname(s, (struct sockaddr *)a, &len));
	return s;
}

static int try_connect(const struct sockaddr_in *a)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	IT_ASSERT(s >= 0);
	r = connect(s, (const struct sockaddr *)a, sizeof(*a)) ? -errno : 0;
	close(s);
	return r;
}

static void ino_of(const char *path, ino_t *ino)
{
	struct stat st;

	IT_ASSERT(!stat(path, &st));
	*ino = st.st_ino;
}

/*
 * The emulated machine boots with lo down: bring it up (we are root) so
 * that the checks before box_enforce see a working loopback.
 */
static void machine_lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	IT_ASSERT(s >= 0);
	IT_ASSERT(!ioctl(s, SIOCGIFFLAGS, &ifr));
	ifr.ifr_flags |= IFF_UP;
	IT_ASSERT(!ioctl(s, SIOCSIFFLAGS, &ifr));
	close(s);
}

static void net_off(void)
{
	struct sockaddr_in a;
	ino_t before, after;
	int l = outside_listener(&a);

	IT_ASSERT_EQ(try_connect(&a), 0);
	ino_of("/proc/self/ns/net", &before);
	enforce("default allow\nnet off\n", NULL);
	ino_of("/proc/self/ns/net", &after);
	IT_ASSERT(before != after);
	/* lo is down in the new namespace: nothing is reachable */
	IT_ASSERT_EQ(try_connect(&a), -ENETUNREACH);
	a.sin_addr.s_addr = inet_addr("192.0.2.1");
	IT_ASSERT_EQ(try_connect(&a), -ENETUNREACH);
	close(l);
}

static void test_net_off(void)
{
	IT_ASSERT_EQ(geteuid(), 0);	/* the CLONE_NEWNET path */
	machine_lo_up();
	net_off();
}

/* Not root: through a user namespace, keeping the uid. */
static void test_net_off_unprivileged(void)
{
	machine_lo_up();
	IT_ASSERT(!setgid(NOBODY));
	IT_ASSERT(!setuid(NOBODY));
	/* setuid made us undumpable: /proc/self would stay root's */
	IT_ASSERT(!prctl(PR_SET_DUMPABLE, 1));
	net_off();
	IT_ASSERT_EQ(getuid(), NOBODY);
	IT_ASSERT_EQ(getgid(), NOBODY);
}

static void test_net_loopback(void)
{
	struct sockaddr_in a, in;
	int l = outside_listener(&a), l2, c;
	char ch = 0;

	machine_lo_up();
	IT_ASSERT_EQ(try_connect(&a), 0);
	enforce("default allow\nnet loopback\n", NULL);
	/* lo is up, but the listener outside is not reachable */
	IT_ASSERT_EQ(try_connect(&a), -ECONNREFUSED);
	l2 = outside_listener(&in);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	IT_ASSERT(!connect(c, (struct sockaddr *)&in, sizeof(in)));
	IT_ASSERT_EQ(write(c, "k", 1), 1);
	close(c);
	c = accept(l2, NULL, NULL);
	IT_ASSERT(c >= 0);
	IT_ASSERT_EQ(read(c, &ch, 1), 1);
	IT_ASSERT_EQ(ch, 'k');
	close(c);
	close(l2);
	close(l);
}

static void expect_rlimit(int res, rlim_t v)
{
	struct rlimit rl;

	IT_ASSERT(!getrlimit(res, &rl));
	IT_ASSERT_EQ(rl.rlim_cur, v);
}

static uint64_t vm_data(void)
{
	char line[128];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/self/status", "re");

	IT_ASSERT(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmData: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

/*
 * "limit memory" is the program's own: RLIMIT_DATA gets it on top of
 * what the process has when the limits are applied, plus 64 MiB for the
 * monitor's own later allocations.
 */
static void test_limit_memory(void)
{
	size_t small = 32 << 20, big = 256 << 20;
	uint64_t own = vm_data();
	struct rlimit rl;
	void *m;

	enforce("limit memory 64M\n", NULL);
	IT_ASSERT(!getrlimit(RLIMIT_DATA, &rl));
	IT_ASSERT(rl.rlim_cur == rl.rlim_max);
	if (rl.rlim_cur < own + (128 << 20) || rl.rlim_cur > own + (129 << 20))
		IT_FAIL("RLIMIT_DATA %llu, VmData before %llu",
			(unsigned long long)rl.rlim_cur,
			(unsigned long long)own);
	m = mmap(NULL, small, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(m != MAP_FAILED);
	IT_ASSERT(!munmap(m, small));
	m = mmap(NULL, big, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(m == MAP_FAILED);
	IT_ASSERT_EQ(errno, ENOMEM);
	IT_ASSERT(!malloc(big));
}

static int fork_pausers(int n, pid_t *pids)
{
	int i;

	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			break;
		if (pids[i] == 0) {
			pause();
			_exit(0);
		}
	}
	return i;
}

static void kill_all(int n, pid_t *pids)
{
	int i;

	for (i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
}

static void test_limit_procs(void)
{
	pid_t pids[8];
	int n;

	/* RLIMIT_NPROC does not hold for root: be someone else */
	IT_ASSERT(!setgid(NOBODY));
	IT_ASSERT(!setuid(NOBODY));
	n = fork_pausers(4, pids);
	IT_ASSERT_EQ(n, 4);
	kill_all(n, pids);
	enforce("limit procs 3\n", NULL);
	expect_rlimit(RLIMIT_NPROC, 3);
	/* this process is one of the three */
	n = fork_pausers(4, pids);
	IT_ASSERT_EQ(errno, EAGAIN);
	kill_all(n, pids);
	IT_ASSERT_EQ(n, 2);
}

static void test_limit_files(void)
{
	int fd, last = -1;

	enforce("limit files 16\n", NULL);
	expect_rlimit(RLIMIT_NOFILE, 16);
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		last = fd;
	IT_ASSERT_EQ(errno, EMFILE);
	IT_ASSERT_EQ(last, 15);
}

static void spin(void)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
}

static void test_limit_cpu(void)
{
	pid_t pid;
	int st;

	enforce("limit cpu 1\n", NULL);
	expect_rlimit(RLIMIT_CPU, 1);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0)
		spin();
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFSIGNALED(st));
	IT_ASSERT_EQ(WTERMSIG(st), SIGXCPU);
}

static void write_big(void)
{
	char buf[8192] = { 0 };
	int fd = open(P("rw/big"), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(write(fd, buf, sizeof(buf)), 4096);
	IT_ASSERT_EQ(write(fd, buf, 1), -1);
	IT_ASSERT_EQ(errno, EFBIG);
	_exit(0);
}

static void test_limit_fsize(void)
{
	char err[256] = "";
	int st;

	make_tree();
	enforce("limit fsize 4K\n", NULL);
	expect_rlimit(RLIMIT_FSIZE, 4096);
	/* past the limit: SIGXFSZ, or EFBIG where it is ignored */
	st = itest_in_child(write_big);
	EXPECT_SIGNAL(st, SIGXFSZ);
	signal(SIGXFSZ, SIG_IGN);
	st = itest_in_child(write_big);
	EXPECT_EXIT(st, 0);
}

/* The default profile: a shell script works in the cwd, not elsewhere. */
static void test_default_profile(void)
{
	char err[512];
	struct box_policy *p;

	make_tree();
	/* outside what the profile names, unlike /tmp */
	IT_ASSERT(!mkdir("/var", 0755) || errno == EEXIST);
	IT_ASSERT_EQ(itest_sh("echo s > /var/box-secret"), 0);
	IT_ASSERT(!chdir(P("rw")));
	p = box_policy_new(P("rw"));
	IT_ASSERT(p);
	if (box_policy_include(p, "default", err, sizeof(err)) ||
	    box_enforce(p, NULL, err, sizeof(err)))
		IT_FAIL("%s", err);
	box_policy_free(p);
	IT_ASSERT_EQ(itest_sh("for i in 1 2 3; do echo $i; done | sort -r > out && "
			      "test \"$(head -1 out)\" = 3 && "
			      "ls /usr >/dev/null && echo tmp > /tmp/box-default-$$"), 0);
	IT_ASSERT(itest_sh("echo x > /usr/box-x 2>/dev/null") != 0);
	IT_ASSERT(itest_sh("cat /var/box-secret >/dev/null 2>&1") != 0);
}

static const struct itest tests[] = {
	{ "landlock_abi", test_landlock_abi },
	{ "hidden_unreadable", test_hidden_unreadable },
	{ "ro_unwritable", test_ro_unwritable },
	{ "rw_writable", test_rw_writable },
	{ "symlink_into_hidden", test_symlink_into_hidden },
	{ "symlink_race", test_symlink_race },
	{ "nested_rules", test_nested_rules },
	{ "exec_kept", test_exec_kept },
	{ "dune_device_kept", test_dune_device_kept },
	{ "net_off", test_net_off },
	{ "net_off_unprivileged", test_net_off_unprivileged },
	{ "net_loopback", test_net_loopback },
	{ "limit_memory", test_limit_memory },
	{ "limit_procs", test_limit_procs },
	{ "limit_files", test_limit_files },
	{ "limit_cpu", test_limit_cpu },
	{ "limit_fsize", test_limit_fsize },
	{ "default_profile", test_default_profile },
};

ITEST_MAIN(tests)
