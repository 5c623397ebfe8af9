// SPDX-License-Identifier: MIT
/*
 * dune-box: what Linux enforces for the policy by itself, applied to the
 * process before the program runs (docs/sandbox.md "Enforcement").
 *
 *  - the network: a network namespace of its own (with a user namespace
 *    when not root), loopback brought up for "net loopback";
 *  - the limits: rlimits, lowered only;
 *  - the path rules: Landlock, whose checks are made on the file the
 *    kernel actually reached, so a symlink or rename race cannot get
 *    around them; the monitor's lexical check only gives the message.
 *
 * Order matters: the namespace first (its uid_map is written through
 * /proc, which Landlock would then refuse), Landlock last.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dune/uapi.h>

#include "err.h"
#include "policy-int.h"

/*
 * Rights newer than the uapi header Debian 12 ships (Linux 6.1, ABI 2);
 * values from include/uapi/linux/landlock.h of later kernels.
 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)	/* ABI 5 */
#endif

/* ---- network ---- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * A user namespace in which this process keeps its uid and gid (so
 * files and `id` look the same), owning the new network namespace.
 */
static int unshare_user_net(char *err, size_t errlen)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return box_err(err, errlen,
			    "cannot make a network namespace: unshare: %s",
			    strerror(errno));
	/* setgroups must be denied before an unprivileged gid_map. */
	if (write_file("/proc/self/setgroups", "deny"))
		return box_err(err, errlen, "/proc/self/setgroups: %s",
			    strerror(errno));
	snprintf(map, sizeof(map), "%u %u 1", (unsigned int)uid,
		 (unsigned int)uid);
	if (write_file("/proc/self/uid_map", map))
		return box_err(err, errlen, "/proc/self/uid_map: %s",
			    strerror(errno));
	snprintf(map, sizeof(map), "%u %u 1", (unsigned int)gid,
		 (unsigned int)gid);
	if (write_file("/proc/self/gid_map", map))
		return box_err(err, errlen, "/proc/self/gid_map: %s",
			    strerror(errno));
	return 0;
}

static int loopback_up(char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return box_err(err, errlen, "loopback: socket: %s",
			    strerror(errno));
	r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (!r) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (r)
		r = box_err(err, errlen, "cannot bring lo up: %s",
			 strerror(errno));
	close(s);
	return r;
}

static int enforce_net(enum box_net net, char *err, size_t errlen)
{
	if (net == BOX_NET_ON)
		return 0;
	/* Root may make one directly; anyone else through a user one. */
	if (geteuid() != 0 || unshare(CLONE_NEWNET)) {
		if (unshare_user_net(err, errlen))
			return -1;
	}
	/* A new network namespace has only lo, and it is down. */
	return net == BOX_NET_LOOPBACK ? loopback_up(err, errlen) : 0;
}

/* ---- rlimits ---- */

/*
 * What dune-box itself counts in RLIMIT_DATA before the program starts
 * (the monitor, libdune's windows and pool, the sandbox's reservations),
 * in bytes; 0 if /proc/self/status cannot tell.
 */
static uint64_t own_data(void)
{
	char line[128];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmData: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

/*
 * The monitor's own allocations after this point: a vCPU's host and
 * exception stacks per thread, its buffers.
 */
#define MONITOR_SLACK (64ull << 20)

static int enforce_limits(const struct box_policy *p, char *err,
			  size_t errlen)
{
	static const struct {
		int res;
		const char *name;
	} res[BOX_LIMIT_N] = {
		[BOX_LIMIT_MEMORY] = { RLIMIT_DATA, "memory" },
		[BOX_LIMIT_PROCS] = { RLIMIT_NPROC, "procs" },
		[BOX_LIMIT_FILES] = { RLIMIT_NOFILE, "files" },
		[BOX_LIMIT_CPU] = { RLIMIT_CPU, "cpu" },
		[BOX_LIMIT_FSIZE] = { RLIMIT_FSIZE, "fsize" },
	};
	int l;

	for (l = 0; l < BOX_LIMIT_N; l++) {
		uint64_t v = p->limit[l];
		struct rlimit rl;
		rlim_t orig;

		if (v == BOX_UNLIMITED)
			continue;
		/*
		 * "memory" is the program's: RLIMIT_DATA counts the whole
		 * process, so it goes on top of what dune-box has already.
		 */
		if (l == BOX_LIMIT_MEMORY) {
			uint64_t own = own_data() + MONITOR_SLACK;

			v = v < BOX_UNLIMITED - own ? v + own : BOX_UNLIMITED;
		}
		if (getrlimit(res[l].res, &rl))
			return box_err(err, errlen, "getrlimit(%s): %s",
				    res[l].name, strerror(errno));
		/* Only ever lower a limit, soft and hard alike. */
		orig = rl.rlim_max;
		if (v < orig)
			rl.rlim_max = v;
		rl.rlim_cur = rl.rlim_max;
		/*
		 * CPU: SIGXCPU at the soft limit (which a program may
		 * catch), SIGKILL a second later at the hard one.
		 */
		if (res[l].res == RLIMIT_CPU && v < orig && v + 1 < orig)
			rl.rlim_max = v + 1;
		if (setrlimit(res[l].res, &rl))
			return box_err(err, errlen, "setrlimit(%s): %s",
				    res[l].name, strerror(errno));
	}
	return 0;
}

/* ---- Landlock ---- */

int box_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

/* Rights a rule may give a file that is not a directory. */
#define FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE |		\
		     LANDLOCK_ACCESS_FS_WRITE_FILE |		\
		     LANDLOCK_ACCESS_FS_READ_FILE |		\
		     LANDLOCK_ACCESS_FS_TRUNCATE |		\
		     LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define RO_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE |			\
		   LANDLOCK_ACCESS_FS_READ_FILE |			\
		   LANDLOCK_ACCESS_FS_READ_DIR)

struct ll {
	const struct box_policy *p;
	int fd;			/* the ruleset */
	uint64_t handled;	/* every right this kernel knows */
	char *err;
	size_t errlen;
};

static uint64_t rights(const struct ll *ll, enum box_access acc)
{
	switch (acc) {
	case BOX_RW:
		return ll->handled;
	case BOX_RO:
		return RO_RIGHTS & ll->handled;
	default:
		return 0;
	}
}

static int add_rule(struct ll *ll, const char *path, uint64_t access,
		    bool follow)
{
	struct landlock_path_beneath_attr pb = { 0 };
	struct stat st;
	int fd;

	if (!access)
		return 0;
	fd = open(path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return 0;	/* nothing there: nothing to grant */
	if (fstat(fd, &st) || S_ISLNK(st.st_mode)) {
		/* A symlink's target is checked, never the link itself. */
		close(fd);
		return 0;
	}
	pb.parent_fd = fd;
	pb.allowed_access = access & (S_ISDIR(st.st_mode) ? ll->handled :
					  FILE_RIGHTS & ll->handled);
	if (syscall(SYS_landlock_add_rule, ll->fd, LANDLOCK_RULE_PATH_BENEATH,
		    &pb, 0)) {
		int e = errno;

		close(fd);
		return box_err(ll->err, ll->errlen, "landlock_add_rule(%s): %s",
			    path, strerror(e));
	}
	close(fd);
	return 0;
}

/* Is there a rule strictly below @dir that grants less than @r? */
static bool narrower_below(const struct ll *ll, const char *dir, uint64_t r)
{
	size_t n = strlen(dir);
	int i;

	for (i = 0; i < ll->p->npaths; i++) {
		const struct box_prule *pr = &ll->p->paths[i];

		if ((rights(ll, pr->acc) & r) == r)
			continue;
		if (n == 1 ? pr->path[1] != '\0' :
		    !strncmp(pr->path, dir, n) && pr->path[n] == '/')
			return true;
	}
	return false;
}

static bool is_rule_path(const struct box_policy *p, const char *path)
{
	int i;

	for (i = 0; i < p->npaths; i++)
		if (!strcmp(p->paths[i].path, path))
			return true;
	return false;
}

/*
 * Give @dir the rights @r.  Landlock's rights are the union of those of
 * every rule on the way down, so a rule cannot take rights away below a
 * directory it was given for.  When a narrower rule lies below @dir,
 * @dir's entries get @r one by one instead (descending towards the
 * narrower rule), and @dir itself gets nothing: it cannot be listed,
 * and nothing can be created directly in it.
 */
static int grant(struct ll *ll, const char *dir, uint64_t r, bool follow)
{
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (!narrower_below(ll, dir, r))
		return add_rule(ll, dir, r, follow);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!ret && (de = readdir(d))) {
		char child[4096];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(child, sizeof(child), "%s/%s",
			     strcmp(dir, "/") ? dir : "", de->d_name) >=
		    (int)sizeof(child))
			continue;
		if (is_rule_path(ll->p, child))
			continue;	/* its own rule decides */
		ret = grant(ll, child, r, false);
	}
	closedir(d);
	return ret;
}

/* Does the policy restrict the filesystem at all? */
static bool paths_restrict(const struct box_policy *p)
{
	int i;
	bool root_rw = false;

	for (i = 0; i < p->npaths; i++) {
		if (p->paths[i].acc != BOX_RW)
			return true;
		if (!strcmp(p->paths[i].path, "/"))
			root_rw = true;
	}
	return p->npaths && !root_rw;
}

static int enforce_landlock(const struct box_policy *p,
			    const char *const exec[], char *err,
			    size_t errlen)
{
	struct landlock_ruleset_attr attr = { 0 };
	struct ll ll = { .p = p, .err = err, .errlen = errlen };
	int abi, i, ret = 0;

	if (!paths_restrict(p))
		return 0;
	abi = box_landlock_abi();
	if (abi < 1)
		return box_err(err, errlen,
			    "Landlock is not available in this kernel: the path rules cannot be enforced");
	/* Every right of this ABI is handled: what is not granted is denied. */
	ll.handled = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		ll.handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		ll.handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		ll.handled |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	attr.handled_access_fs = ll.handled;
	ll.fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ll.fd < 0)
		return box_err(err, errlen, "landlock_create_ruleset: %s",
			    strerror(errno));
	for (i = 0; !ret && i < p->npaths; i++)
		ret = grant(&ll, p->paths[i].path, rights(&ll, p->paths[i].acc),
			    true);
	for (i = 0; !ret && exec && exec[i]; i++)
		ret = add_rule(&ll, exec[i], LANDLOCK_ACCESS_FS_READ_FILE |
			       LANDLOCK_ACCESS_FS_EXECUTE, true);
	/*
	 * The monitor's own device: libdune opens it again in every fork
	 * child (libdune/clone.c).  The program's own opens of it are
	 * still refused by the monitor's path check unless a rule grants
	 * the device.
	 */
	if (!ret)
		ret = add_rule(&ll, DUNE_DEVICE_PATH,
			       LANDLOCK_ACCESS_FS_READ_FILE |
			       LANDLOCK_ACCESS_FS_WRITE_FILE |
			       LANDLOCK_ACCESS_FS_IOCTL_DEV, true);
	/* Without privileges, Landlock requires no_new_privs. */
	if (!ret && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		ret = box_err(err, errlen, "PR_SET_NO_NEW_PRIVS: %s",
			   strerror(errno));
	if (!ret && syscall(SYS_landlock_restrict_self, ll.fd, 0))
		ret = box_err(err, errlen, "landlock_restrict_self: %s",
			   strerror(errno));
	close(ll.fd);
	return ret;
}

int box_enforce(const struct box_policy *p, const char *const exec[],
		char *err, size_t errlen)
{
	if (enforce_net(p->net, err, errlen))
		return -1;
	if (enforce_limits(p, err, errlen))
		return -1;
	return enforce_landlock(p, exec, err, errlen);
}
