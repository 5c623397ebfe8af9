// SPDX-License-Identifier: MIT
/*
 * dune-run [--quiet] [--stats] [--] PROG [ARGS...]
 *
 * Runs an unmodified, dynamically linked program in Dune mode: it execs
 * PROG (same pid, same parent, same wait status) with libdune.so in
 * LD_PRELOAD and DUNE_RUN=1, so libdune.so's constructor (preload.c)
 * enters Dune mode before the program's own constructors and main().
 * The environment is inherited, so what PROG execs runs in Dune mode too.
 *
 * It refuses, before running anything, what would silently run natively:
 * a static program, or one for which ld.so ignores LD_PRELOAD (setuid,
 * setgid, file capabilities), a 32-bit program; and it checks that the
 * module is there and speaks libdune.so's API version.  Exit statuses
 * (besides PROG's own) are listed in usage() and in docs/api.md.
 *
 * dune-run links libdune.so itself (run path $ORIGIN/../lib) and
 * preloads the very file it was loaded with: the build tree's and an
 * installed tree's dune-run both find their own libdune.so.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "dune.h"

/* Keep in sync with usage(), libdune/preload.c and docs/api.md. */
#define ST_USAGE		2
#define ST_NOT_SUPPORTED	124	/* PROG cannot run in Dune mode */
#define ST_CANNOT_ENTER		125	/* Dune mode is not available */
#define ST_CANNOT_EXEC		126	/* like a shell: found, cannot run */
#define ST_NOT_FOUND		127	/* like a shell: no such program */

/* #! nesting the kernel follows (fs/binfmt_script.c allows a few). */
#define MAX_SCRIPT_DEPTH	4

static bool quiet;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fputs("dune-run: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dune-run [--quiet] [--stats] [--] PROG [ARGS...]\n"
		"Runs PROG (a dynamically linked x86-64 program) in Dune mode from before\n"
		"its own constructors until it exits; what it execs runs in Dune mode too.\n"
		"  --stats   each Dune process prints its VM exits by reason when it exits\n"
		"  --quiet   no messages from dune-run (the exit status still tells)\n"
		"Exit status: PROG's own, or\n"
		"  2    usage error\n"
		"  124  PROG cannot run in Dune mode: statically linked, setuid/setgid or\n"
		"       with file capabilities (ld.so would ignore LD_PRELOAD), not x86-64\n"
		"  125  Dune mode cannot be entered: dune.ko not loaded, API version\n"
		"       mismatch, VT-x held by another hypervisor, ...\n"
		"  126  PROG cannot be executed (permissions, format), as in a shell\n"
		"  127  PROG not found, as in a shell\n");
}

/* execvp's search, without running anything: 0, or the errno. */
static int find_prog(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH"), *p, *e;
	int err = ENOENT;

	if (!*name)
		return ENOENT;
	if (strchr(name, '/')) {
		if (snprintf(out, size, "%s", name) >= (int)size)
			return ENAMETOOLONG;
		return access(out, X_OK) ? errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/bin:/usr/bin";
	for (p = path;; p = e + 1) {
		struct stat st;

		e = strchrnul(p, ':');
		if (snprintf(out, size, "%.*s%s%s", (int)(e - p), p,
			     e == p ? "" : "/", name) < (int)size &&
		    !stat(out, &st) && S_ISREG(st.st_mode)) {
			if (!access(out, X_OK))
				return 0;
			err = EACCES;	/* keep looking, like execvp */
		}
		if (!*e)
			break;
	}
	return err;
}

/* Would ld.so run @path in secure mode (AT_SECURE), ignoring LD_PRELOAD? */
static const char *secure_exec_reason(const char *path, const struct stat *st)
{
	struct statvfs vfs;

	if (!statvfs(path, &vfs) && (vfs.f_flag & ST_NOSUID))
		return NULL;	/* the bits have no effect there */
	if ((st->st_mode & S_ISUID) && st->st_uid != getuid())
		return "it is setuid";
	if ((st->st_mode & S_ISGID) && (st->st_mode & S_IXGRP) &&
	    st->st_gid != getgid())
		return "it is setgid";
	if (getuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0)
		return "it has file capabilities";
	return NULL;
}

/*
 * Can LD_PRELOAD work for @path?  NULL if so, else why not.  A script
 * is judged by its interpreter; @depth counts #! levels.
 */
static const char *check_prog(const char *path, int depth, int *status)
{
	static char why[PATH_MAX + 128];
	static char interp[PATH_MAX];
	Elf64_Ehdr eh;
	struct stat st;
	const char *r;
	ssize_t n;
	int fd, i;

	*status = ST_NOT_SUPPORTED;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(why, sizeof(why), "cannot read %s: %s", path,
			 strerror(errno));
		*status = errno == ENOENT ? ST_NOT_FOUND : ST_CANNOT_EXEC;
		if (fd >= 0)
			close(fd);
		return why;
	}
	r = secure_exec_reason(path, &st);
	if (r) {
		snprintf(why, sizeof(why),
			 "%s: %s, so ld.so would ignore LD_PRELOAD and it would run natively",
			 path, r);
		close(fd);
		return why;
	}
	n = pread(fd, &eh, sizeof(eh), 0);
	if (n >= 2 && !memcmp(&eh, "#!", 2)) {
		char line[256], *s, *e;

		close(fd);
		/* The interpreter's path: the first word after "#!". */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : pread(fd, line, sizeof(line) - 1, 0);
		if (fd >= 0)
			close(fd);
		if (n < 2 || depth >= MAX_SCRIPT_DEPTH) {
			*status = ST_CANNOT_EXEC;
			return "cannot follow its #! line";
		}
		line[n] = 0;
		s = line + 2;
		s += strspn(s, " \t");
		e = s + strcspn(s, " \t\n");
		snprintf(interp, sizeof(interp), "%.*s", (int)(e - s), s);
		return check_prog(interp, depth + 1, status);
	}
	if (n != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		close(fd);
		return NULL;	/* execve decides (ENOEXEC: 126) */
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		close(fd);
		snprintf(why, sizeof(why),
			 "%s is not an x86-64 program: libdune.so cannot be loaded into it",
			 path);
		return why;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff +
			  (off_t)i * eh.e_phentsize) != sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP) {
			close(fd);
			return NULL;
		}
	}
	close(fd);
	snprintf(why, sizeof(why),
		 "%s is statically linked: LD_PRELOAD cannot load libdune.so into it (link it with libdune and call dune_init_and_enter() instead)",
		 path);
	return why;
}

/* dune.ko loaded, and speaking our API?  0, or an exit status. */
static int check_module(void)
{
	struct dune_caps caps;
	int fd = open(DUNE_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	int err = errno;

	if (fd < 0) {
		if (err == ENOENT || err == ENXIO || err == ENODEV)
			say("%s not found: load the module (sudo modprobe dune, or sudo insmod dune.ko; dmesg says why it would not load)",
			    DUNE_DEVICE_PATH);
		else
			say("cannot open %s: %s%s", DUNE_DEVICE_PATH,
			    strerror(err),
			    err == EACCES ? " (check its permissions)" : "");
		return ST_CANNOT_ENTER;
	}
	if (ioctl(fd, DUNE_GET_CAPS, &caps)) {
		say("%s does not answer DUNE_GET_CAPS (%s): is it really dune.ko?",
		    DUNE_DEVICE_PATH, strerror(errno));
		close(fd);
		return ST_CANNOT_ENTER;
	}
	close(fd);
	if (caps.api_version != DUNE_API_VERSION) {
		say("dune.ko speaks API version %u, this libdune.so version %u: load the dune.ko that matches this libdune.so",
		    caps.api_version, DUNE_API_VERSION);
		return ST_CANNOT_ENTER;
	}
	return 0;
}

/* The libdune.so this program was loaded with. */
static int own_libdune(char out[PATH_MAX])
{
	Dl_info info;

	if (!dladdr((void *)dune_init_and_enter, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, out))
		return -1;
	return 0;
}

static int set_env(const char *lib, bool stats)
{
	const char *old = getenv("LD_PRELOAD");
	char *v;
	int r;

	/* First, so libdune.so initializes before other preloaded code. */
	if (old && *old) {
		if (asprintf(&v, "%s:%s", lib, old) < 0)
			return -1;
	} else {
		v = strdup(lib);
		if (!v)
			return -1;
	}
	r = setenv("LD_PRELOAD", v, 1) || setenv("DUNE_RUN", "1", 1);
	free(v);
	if (r)
		return -1;
	if (stats)
		r = setenv("DUNE_RUN_STATS", "1", 1);
	else
		r = unsetenv("DUNE_RUN_STATS");
	if (quiet)
		r |= setenv("DUNE_RUN_QUIET", "1", 1);
	else
		r |= unsetenv("DUNE_RUN_QUIET");
	return r;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], lib[PATH_MAX];
	bool stats = false;
	const char *why;
	int i, err, st;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q"))
			quiet = true;
		else if (!strcmp(argv[i], "--stats"))
			stats = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "dune-run: unknown option %s\n", argv[i]);
			usage(stderr);
			return ST_USAGE;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return ST_USAGE;
	}

	err = find_prog(argv[i], path, sizeof(path));
	if (err) {
		say("%s: %s", argv[i], err == ENOENT ? "command not found" :
		    strerror(err));
		return err == ENOENT ? ST_NOT_FOUND : ST_CANNOT_EXEC;
	}
	why = check_prog(path, 0, &st);
	if (why) {
		say("refusing to run %s: %s", argv[i], why);
		return st;
	}
	st = check_module();
	if (st)
		return st;
	if (own_libdune(lib)) {
		say("cannot find the libdune.so this dune-run was loaded with");
		return ST_CANNOT_ENTER;
	}
	if (set_env(lib, stats)) {
		say("cannot set the environment: %s", strerror(errno));
		return ST_CANNOT_ENTER;
	}
	execv(path, argv + i);
	err = errno;
	say("%s: %s", argv[i], strerror(err));
	return err == ENOENT ? ST_NOT_FOUND : ST_CANNOT_EXEC;
}
