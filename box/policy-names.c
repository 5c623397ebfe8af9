// SPDX-License-Identifier: MIT
/*
 * dune-box: the names the policy language knows: system calls (from
 * the generated box-sysnames.h) and the constants conditions may use
 * (values from the C headers, never retyped).
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "policy-int.h"

static const struct {
	const char *name;
	int nr;
} sysnames[] = {
#define BOX_SYSCALL(n, nr) { #n, nr },
#include "box-sysnames.h"
#undef BOX_SYSCALL
};
#define NSYS (sizeof(sysnames) / sizeof(sysnames[0]))

int box_syscall_nr(const char *name)
{
	size_t i;

	for (i = 0; i < NSYS; i++)
		if (!strcmp(sysnames[i].name, name))
			return sysnames[i].nr;
	return -1;
}

const char *box_syscall_name(int nr)
{
	size_t i;

	for (i = 0; i < NSYS; i++)
		if (sysnames[i].nr == nr)
			return sysnames[i].name;
	return NULL;
}

#define C(x) { #x, (uint64_t)(x) }
static const struct {
	const char *name;
	uint64_t value;
} constants[] = {
	C(AF_UNSPEC), C(AF_UNIX), C(AF_LOCAL), C(AF_INET), C(AF_INET6),
	C(AF_NETLINK), C(AF_PACKET), C(AF_VSOCK), C(AF_BLUETOOTH),
	C(AF_ALG), C(AF_KEY),
	C(SOCK_STREAM), C(SOCK_DGRAM), C(SOCK_RAW), C(SOCK_SEQPACKET),
	C(SOCK_NONBLOCK), C(SOCK_CLOEXEC),
	C(O_RDONLY), C(O_WRONLY), C(O_RDWR), C(O_ACCMODE), C(O_CREAT),
	C(O_EXCL), C(O_TRUNC), C(O_APPEND), C(O_NONBLOCK), C(O_DIRECTORY),
	C(O_NOFOLLOW), C(O_CLOEXEC), C(O_PATH), C(O_TMPFILE), C(O_NOCTTY),
	C(O_SYNC), C(O_DIRECT),
	C(PROT_NONE), C(PROT_READ), C(PROT_WRITE), C(PROT_EXEC),
	C(MAP_SHARED), C(MAP_PRIVATE), C(MAP_FIXED), C(MAP_ANONYMOUS),
	C(MAP_FIXED_NOREPLACE), C(MAP_GROWSDOWN), C(MAP_NORESERVE),
	C(PR_SET_MM), C(PR_SET_NAME), C(PR_GET_NAME), C(PR_SET_PDEATHSIG),
	C(PR_SET_DUMPABLE), C(PR_GET_DUMPABLE), C(PR_SET_NO_NEW_PRIVS),
	C(PR_SET_SECCOMP), C(PR_CAPBSET_READ), C(PR_SET_CHILD_SUBREAPER),
	C(PR_SET_PTRACER), C(PR_SET_VMA),
	C(CLONE_VM), C(CLONE_FS), C(CLONE_FILES), C(CLONE_SIGHAND),
	C(CLONE_THREAD), C(CLONE_VFORK), C(CLONE_NEWNS), C(CLONE_NEWUSER),
	C(CLONE_NEWNET), C(CLONE_NEWPID), C(CLONE_NEWIPC), C(CLONE_NEWUTS),
	C(CLONE_NEWCGROUP), C(CLONE_NEWTIME),
	C(PER_LINUX), C(PER_MASK), C(ADDR_NO_RANDOMIZE), C(ADDR_COMPAT_LAYOUT),
	C(ADDR_LIMIT_32BIT), C(ADDR_LIMIT_3GB), C(MMAP_PAGE_ZERO),
	C(READ_IMPLIES_EXEC), C(UNAME26),
	C(TIOCSTI), C(TIOCLINUX), C(FIONREAD), C(FIONBIO), C(FIOCLEX),
	C(TCGETS), C(TIOCGWINSZ),
	C(SIGHUP), C(SIGINT), C(SIGQUIT), C(SIGKILL), C(SIGTERM), C(SIGSTOP),
	C(SIGCONT), C(SIGCHLD), C(SIGUSR1), C(SIGUSR2), C(SIGSEGV), C(SIGSYS),
	C(AT_FDCWD), C(AT_EMPTY_PATH), C(AT_SYMLINK_NOFOLLOW),
};
#undef C
#define NCONST (sizeof(constants) / sizeof(constants[0]))

int box_syscall_at(size_t i, const char **name)
{
	if (i >= NSYS)
		return -1;
	*name = sysnames[i].name;
	return sysnames[i].nr;
}

int box_constant(const char *name, uint64_t *v)
{
	size_t i;

	for (i = 0; i < NCONST; i++) {
		if (!strcmp(constants[i].name, name)) {
			*v = constants[i].value;
			return 0;
		}
	}
	return -1;
}
