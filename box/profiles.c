// SPDX-License-Identifier: MIT
/*
 * dune-box's built-in profiles, in the policy language itself
 * (docs/sandbox.md lists them).  A policy file starts from one with
 * "include NAME"; --profile NAME uses one as the base of the command.
 */
#include <string.h>

#include "policy.h"

/*
 * Calls that let the kernel act on the sandbox's address space behind
 * the monitor's back, or read the monitor (issue 9, "Isolation").  Every
 * profile refuses them.
 */
#define ISOLATION							\
	"# The kernel must not act on the address space behind the monitor.\n" \
	"deny ptrace process_vm_readv process_vm_writev\n"		\
	"deny io_uring_setup io_uring_enter io_uring_register\n"	\
	"deny userfaultfd perf_event_open bpf modify_ldt\n"		\
	"deny prctl if arg0 == PR_SET_MM\n"				\
	"# personality: only asking, or plain Linux (no address-space flags)\n" \
	"deny personality\n"						\
	"allow personality if arg0 == 0xffffffff\n"			\
	"allow personality if arg0 == PER_LINUX\n"

static const char strict_text[] =
	"# strict: one process computing on its input; nothing written,\n"
	"# no network, no new processes.\n"
	"default deny\n"
	"allow read write readv writev pread64 pwrite64 lseek close\n"
	"allow fstat stat lstat newfstatat statx access faccessat faccessat2\n"
	"allow open openat readlink readlinkat getcwd getdents64\n"
	"allow fcntl dup dup2 dup3 pipe pipe2 poll ppoll select pselect6\n"
	"allow ioctl if arg1 == TCGETS\n"
	"allow ioctl if arg1 == TIOCGWINSZ\n"
	"allow ioctl if arg1 == FIONREAD\n"
	"allow mmap munmap mprotect mremap brk madvise\n"
	"allow rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack\n"
	"allow exit exit_group getpid gettid getppid\n"
	"allow getuid geteuid getgid getegid getgroups getrlimit\n"
	"allow prlimit64 if arg2 == 0\n"
	"allow arch_prctl set_tid_address set_robust_list get_robust_list\n"
	"allow rseq futex\n"
	"allow clock_gettime clock_getres gettimeofday time\n"
	"allow nanosleep clock_nanosleep uname getrandom sched_yield\n"
	"allow sched_getaffinity\n"
	"allow prctl if arg0 == PR_GET_NAME\n"
	"allow prctl if arg0 == PR_SET_NAME\n"
	ISOLATION
	"ro /usr /bin /lib /lib64\n"
	"ro /etc/ld.so.cache /etc/localtime /dev/urandom\n"
	"rw /dev/null\n"
	"net off\n"
	"limit procs 1\n"
	"limit files 64\n"
	"limit fsize 0\n"
	"limit memory 1G\n"
	"limit cpu 60\n";

static const char default_text[] =
	"# default: shell scripts, coreutils, compilers and Python run\n"
	"# unchanged; the system is read-only, the working directory and\n"
	"# /tmp writable, the network loopback only.\n"
	"default allow\n"
	ISOLATION
	"# Administration of the machine\n"
	"deny mount umount2 pivot_root chroot swapon swapoff acct quotactl\n"
	"deny fsopen fsconfig fsmount fspick move_mount open_tree mount_setattr\n"
	"deny reboot kexec_load kexec_file_load init_module finit_module\n"
	"deny delete_module iopl ioperm uselib\n"
	"# adjtimex and clock_adjtime: the monitor lets only reads through\n"
	"deny settimeofday clock_settime\n"
	"deny sethostname setdomainname\n"
	"deny add_key request_key keyctl\n"
	"deny open_by_handle_at name_to_handle_at setns\n"
	"deny unshare if arg0 & CLONE_NEWUSER != 0\n"
	"deny clone if arg0 & CLONE_NEWUSER != 0\n"
	"# clone3's flags are in memory no condition sees; the monitor\n"
	"# refuses new namespaces in clone and clone3 (box/proc.c).\n"
	"# Typing into the terminal of the user\n"
	"deny ioctl if arg1 == TIOCSTI\n"
	"deny ioctl if arg1 == TIOCLINUX\n"
	"ro /usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc /opt\n"
	"ro /proc /sys /dev /run /var/lib\n"
	"rw /dev/null /dev/zero /dev/full /dev/tty /dev/pts /dev/ptmx\n"
	"rw /dev/random /dev/urandom /dev/shm\n"
	"rw /tmp /var/tmp\n"
	"rw .\n"
	"net loopback\n"
	"limit files 4096\n";

static const char permissive_text[] =
	"# permissive: everything but what the monitor's isolation needs.\n"
	"default allow\n"
	ISOLATION
	"rw /\n"
	"net on\n";

const char *const box_profile_names[] = { "strict", "default", "permissive",
					   NULL };

const char *box_profile_text(const char *name)
{
	if (!strcmp(name, "strict"))
		return strict_text;
	if (!strcmp(name, "default"))
		return default_text;
	if (!strcmp(name, "permissive"))
		return permissive_text;
	return NULL;
}
