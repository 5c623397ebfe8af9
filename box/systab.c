// SPDX-License-Identifier: MIT
/*
 * dune-box: the system-call table (systab.h).  One line per call the
 * monitor lets through, emulates or refuses on purpose; everything else
 * is unknown and denied.  Sizes come from the C library's structures,
 * which match the kernel's on x86-64 for every type used here.
 *
 * Argument notation: V number, F fd, P path, S string, IN/OUT/IO(k)
 * buffer of arg[k] bytes, xF(T) a fixed-size T, xN(k, T) arg[k] Ts, an
 * O prefix: NULL allowed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* struct statx */
#endif
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sched.h>
#include <time.h>
#include <utime.h>

#include "systab.h"

#define N BOX_NOLEN
#define V { BA_VAL, 0, N, 0 }
#define F { BA_FD, 0, N, 0 }
#define P { BA_PATH, 0, N, 0 }
#define OP { BA_PATH, 1, N, 0 }
#define S { BA_STR, 0, N, 0 }
#define IN(k) { BA_IN, 0, k, 1 }
#define OIN(k) { BA_IN, 1, k, 1 }
#define OUT(k) { BA_OUT, 0, k, 1 }
#define OOUT(k) { BA_OUT, 1, k, 1 }
#define INF(T) { BA_IN, 0, N, sizeof(T) }
#define OINF(T) { BA_IN, 1, N, sizeof(T) }
#define OUTF(T) { BA_OUT, 0, N, sizeof(T) }
#define OOUTF(T) { BA_OUT, 1, N, sizeof(T) }
#define IOF(T) { BA_INOUT, 0, N, sizeof(T) }
#define OIOF(T) { BA_INOUT, 1, N, sizeof(T) }
#define INN(k, T) { BA_IN, 0, k, sizeof(T) }
#define OINN(k, T) { BA_IN, 1, k, sizeof(T) }
#define OUTN(k, T) { BA_OUT, 0, k, sizeof(T) }
#define OOUTN(k, T) { BA_OUT, 1, k, sizeof(T) }
#define ION(k, T) { BA_INOUT, 0, k, sizeof(T) }
#define IOVI(k) { BA_IOV_IN, 0, k, 0 }
#define IOVO(k) { BA_IOV_OUT, 0, k, 0 }
#define MSGI { BA_MSG_IN, 0, N, 0 }
#define MSGO { BA_MSG_OUT, 0, N, 0 }
#define SAO(k) { BA_SA_OUT, 0, k, 0 }
#define OSAO(k) { BA_SA_OUT, 1, k, 0 }
#define SP { BA_SPECIAL, 0, N, 0 }

#define NARGS(...) (sizeof((struct box_arg[]){ __VA_ARGS__ }) / \
		    sizeof(struct box_arg))
#define E(nm, kind, ...) \
	[__NR_##nm] = { #nm, kind, NARGS(__VA_ARGS__), 0, { __VA_ARGS__ } }
#define E0(nm, kind) [__NR_##nm] = { #nm, kind, 0, 0, { V } }
#define PASS(nm, ...) E(nm, BK_PASS, __VA_ARGS__)
#define PASS0(nm) E0(nm, BK_PASS)
#define EMUL(nm, ...) E(nm, BK_EMUL, __VA_ARGS__)
#define MEM(nm, ...) E(nm, BK_MEM, __VA_ARGS__)
#define REFUSE(nm) E0(nm, BK_REFUSE)
#define REFUSE_QUIET(nm) [__NR_##nm] = { #nm, BK_REFUSE, 0, 1, { V } }

typedef int two_ints[2];
typedef struct timeval two_timevals[2];
typedef struct timespec two_timespecs[2];

static const struct box_sysent tab[] = {
	/* files */
	PASS(read, F, OUT(2), V),
	PASS(write, F, IN(2), V),
	PASS(pread64, F, OUT(2), V, V),
	PASS(pwrite64, F, IN(2), V, V),
	PASS(readv, F, IOVO(2), V),
	PASS(writev, F, IOVI(2), V),
	PASS(preadv, F, IOVO(2), V, V, V),
	PASS(pwritev, F, IOVI(2), V, V, V),
	PASS(preadv2, F, IOVO(2), V, V, V, V),
	PASS(pwritev2, F, IOVI(2), V, V, V, V),
	PASS(open, P, V, V),
	PASS(openat, F, P, V, V),
	PASS(creat, P, V),
	PASS(close, F),
	PASS(close_range, V, V, V),
	PASS(lseek, F, V, V),
	PASS(stat, P, OUTF(struct stat)),
	PASS(lstat, P, OUTF(struct stat)),
	PASS(fstat, F, OUTF(struct stat)),
	PASS(newfstatat, F, P, OUTF(struct stat), V),
	PASS(statx, F, P, V, V, OUTF(struct statx)),
	PASS(statfs, P, OUTF(struct statfs)),
	PASS(fstatfs, F, OUTF(struct statfs)),
	PASS(access, P, V),
	PASS(faccessat, F, P, V),
	PASS(faccessat2, F, P, V, V),
	PASS(getdents, F, OUT(2), V),
	PASS(getdents64, F, OUT(2), V),
	PASS(getcwd, OUT(1), V),
	PASS(chdir, P),
	PASS(fchdir, F),
	PASS(rename, P, P),
	PASS(renameat, F, P, F, P),
	PASS(renameat2, F, P, F, P, V),
	PASS(mkdir, P, V),
	PASS(mkdirat, F, P, V),
	PASS(rmdir, P),
	PASS(link, P, P),
	PASS(linkat, F, P, F, P, V),
	PASS(unlink, P),
	PASS(unlinkat, F, P, V),
	PASS(symlink, P, P),
	PASS(symlinkat, P, F, P),
	PASS(readlink, P, OUT(2), V),
	PASS(readlinkat, F, P, OUT(3), V),
	PASS(chmod, P, V),
	PASS(fchmod, F, V),
	PASS(fchmodat, F, P, V),
	PASS(chown, P, V, V),
	PASS(lchown, P, V, V),
	PASS(fchown, F, V, V),
	PASS(fchownat, F, P, V, V, V),
	PASS(mknod, P, V, V),
	PASS(mknodat, F, P, V, V),
	PASS(truncate, P, V),
	PASS(ftruncate, F, V),
	PASS(fallocate, F, V, V, V),
	PASS(fadvise64, F, V, V, V),
	PASS(readahead, F, V, V),
	PASS(utime, P, OINF(struct utimbuf)),
	PASS(utimes, P, OINF(two_timevals)),
	PASS(utimensat, F, OP, OINF(two_timespecs), V),
	PASS(flock, F, V),
	PASS(fsync, F),
	PASS(fdatasync, F),
	PASS0(sync),
	PASS(syncfs, F),
	PASS(umask, V),
	PASS(chroot, P),
	PASS(sendfile, F, F, OIOF(off_t), V),
	PASS(copy_file_range, F, OIOF(off_t), F, OIOF(off_t), V, V),
	PASS(splice, F, OIOF(off_t), F, OIOF(off_t), V, V),
	PASS(tee, F, F, V, V),
	PASS(ioctl, F, V, SP),
	PASS(fcntl, F, V, SP),
	PASS(dup, F),
	PASS(dup2, F, F),
	PASS(dup3, F, F, V),
	PASS(pipe, OUTF(two_ints)),
	PASS(pipe2, OUTF(two_ints), V),
	PASS(memfd_create, S, V),
	PASS(getxattr, P, S, OOUT(3), V),
	PASS(lgetxattr, P, S, OOUT(3), V),
	PASS(fgetxattr, F, S, OOUT(3), V),
	PASS(setxattr, P, S, OIN(3), V, V),
	PASS(lsetxattr, P, S, OIN(3), V, V),
	PASS(fsetxattr, F, S, OIN(3), V, V),
	PASS(listxattr, P, OOUT(2), V),
	PASS(llistxattr, P, OOUT(2), V),
	PASS(flistxattr, F, OOUT(2), V),
	PASS(removexattr, P, S),
	PASS(lremovexattr, P, S),
	PASS(fremovexattr, F, S),
	PASS(inotify_init1, V),
	PASS(inotify_add_watch, F, P, V),
	PASS(inotify_rm_watch, F, V),

	/* waiting for descriptors */
	PASS(poll, ION(1, struct pollfd), V, V),
	PASS(ppoll, ION(1, struct pollfd), V, OINF(struct timespec), OIN(4),
	     V),
	PASS(select, V, SP, SP, SP, OIOF(struct timeval)),
	PASS(pselect6, V, SP, SP, SP, OIOF(struct timespec), SP),
	PASS(epoll_create, V),
	PASS(epoll_create1, V),
	PASS(epoll_ctl, F, V, F, OINF(struct epoll_event)),
	PASS(epoll_wait, F, OUTN(2, struct epoll_event), V, V),
	PASS(epoll_pwait, F, OUTN(2, struct epoll_event), V, V, OIN(5), V),
	PASS(epoll_pwait2, F, OUTN(2, struct epoll_event), V,
	     OINF(struct timespec), OIN(5), V),
	PASS(eventfd, V),
	PASS(eventfd2, V, V),
	PASS(timerfd_create, V, V),
	PASS(timerfd_settime, F, V, INF(struct itimerspec),
	     OOUTF(struct itimerspec)),
	PASS(timerfd_gettime, F, OUTF(struct itimerspec)),
	PASS(signalfd4, F, IN(2), V, V),

	/* sockets */
	PASS(socket, V, V, V),
	PASS(socketpair, V, V, V, OUTF(two_ints)),
	PASS(connect, F, IN(2), V),
	PASS(bind, F, IN(2), V),
	PASS(listen, F, V),
	PASS(accept, F, OSAO(2), V),
	PASS(accept4, F, OSAO(2), V, V),
	PASS(getsockname, F, SAO(2), V),
	PASS(getpeername, F, SAO(2), V),
	PASS(sendto, F, IN(2), V, V, OIN(5), V),
	PASS(recvfrom, F, OUT(2), V, V, OSAO(5), V),
	PASS(sendmsg, F, MSGI, V),
	PASS(recvmsg, F, MSGO, V),
	PASS(shutdown, F, V),
	PASS(setsockopt, F, V, V, IN(4), V),
	PASS(getsockopt, F, V, V, SAO(4), V),

	/* time */
	PASS(clock_gettime, V, OUTF(struct timespec)),
	PASS(clock_getres, V, OOUTF(struct timespec)),
	PASS(clock_nanosleep, V, V, INF(struct timespec),
	     OOUTF(struct timespec)),
	PASS(nanosleep, INF(struct timespec), OOUTF(struct timespec)),
	PASS(gettimeofday, OOUTF(struct timeval), OOUTF(struct timezone)),
	PASS(time, OOUTF(time_t)),
	PASS(getitimer, V, OUTF(struct itimerval)),
	PASS(setitimer, V, OINF(struct itimerval), OOUTF(struct itimerval)),
	PASS(alarm, V),
	PASS(times, OOUTF(struct tms)),
	/* POSIX timers: the sigevent is copied and checked (timer.c) */
	PASS(timer_create, V, SP, OUTF(int)),
	PASS(timer_settime, V, V, INF(struct itimerspec),
	     OOUTF(struct itimerspec)),
	PASS(timer_gettime, V, OUTF(struct itimerspec)),
	PASS(timer_getoverrun, V),
	PASS(timer_delete, V),
	/* read-only: a struct timex that sets nothing (calls.c) */
	PASS(adjtimex, SP),
	PASS(clock_adjtime, V, SP),

	/* process */
	EMUL(exit, V),
	EMUL(exit_group, V),
	PASS(wait4, V, OOUTF(int), V, OOUTF(struct rusage)),
	PASS(waitid, V, V, OOUTF(siginfo_t), V, OOUTF(struct rusage)),
	PASS(kill, V, V),
	PASS(tgkill, V, V, V),
	PASS(tkill, V, V),
	PASS0(getpid),
	PASS0(getppid),
	PASS0(gettid),
	PASS0(getuid),
	PASS0(geteuid),
	PASS0(getgid),
	PASS0(getegid),
	PASS0(getpgrp),
	PASS0(setsid),
	PASS(getpgid, V),
	PASS(setpgid, V, V),
	PASS(getsid, V),
	PASS(setuid, V),
	PASS(setgid, V),
	PASS(setreuid, V, V),
	PASS(setregid, V, V),
	PASS(setresuid, V, V, V),
	PASS(setresgid, V, V, V),
	PASS(getresuid, OUTF(uid_t), OUTF(uid_t), OUTF(uid_t)),
	PASS(getresgid, OUTF(gid_t), OUTF(gid_t), OUTF(gid_t)),
	PASS(getgroups, V, OOUTN(0, gid_t)),
	PASS(setgroups, V, OINN(0, gid_t)),
	PASS(uname, OUTF(struct utsname)),
	PASS(sysinfo, OUTF(struct sysinfo)),
	PASS(getrlimit, V, OUTF(struct rlimit)),
	PASS(setrlimit, V, INF(struct rlimit)),
	PASS(prlimit64, V, V, OINF(struct rlimit), OOUTF(struct rlimit)),
	PASS(getrusage, V, OUTF(struct rusage)),
	PASS(getpriority, V, V),
	PASS(setpriority, V, V, V),
	PASS0(sched_yield),
	PASS(sched_getaffinity, V, V, OUT(1)),
	PASS(sched_setaffinity, V, V, IN(1)),
	PASS(sched_getparam, V, OUTF(struct sched_param)),
	PASS(sched_setparam, V, INF(struct sched_param)),
	PASS(sched_getscheduler, V),
	PASS(sched_setscheduler, V, V, INF(struct sched_param)),
	PASS(sched_get_priority_max, V),
	PASS(sched_get_priority_min, V),
	PASS(getcpu, OOUTF(unsigned int), OOUTF(unsigned int), V),
	PASS(ioprio_get, V, V),
	PASS(ioprio_set, V, V, V),
	/* the data's length follows the header's version (calls.c) */
	PASS(capget, SP, SP),
	PASS(capset, SP, SP),
	PASS(pidfd_open, V, V),
	PASS(pidfd_send_signal, F, V, OINF(siginfo_t), V),
	PASS(process_mrelease, F, V),
	PASS(getrandom, OUT(1), V, V),
	PASS(membarrier, V, V, V),
	PASS(futex, SP, V, V, SP, SP, V),
	PASS(prctl, V, SP, V, V, V),
	PASS0(pause),
	PASS0(restart_syscall),

	/* signals: ring-3 handlers (signal.c) */
	EMUL(rt_sigaction, V, SP, SP, V),
	PASS(rt_sigprocmask, V, OIN(3), OOUT(3), V),
	PASS(rt_sigpending, OUT(1), V),
	PASS(rt_sigtimedwait, IN(3), OOUTF(siginfo_t),
	     OINF(struct timespec), V),
	PASS(rt_sigsuspend, IN(1), V),
	PASS(rt_sigqueueinfo, V, V, INF(siginfo_t)),
	PASS(rt_tgsigqueueinfo, V, V, V, INF(siginfo_t)),
	EMUL(sigaltstack, OINF(stack_t), OOUTF(stack_t)),
	E0(rt_sigreturn, BK_EMUL),

	/* memory */
	MEM(brk, V),
	MEM(mmap, V, V, V, V, F, V),
	MEM(munmap, V, V),
	MEM(mprotect, V, V, V),
	MEM(mremap, V, V, V, V, V),
	MEM(madvise, V, V, V),
	MEM(msync, V, V, V),
	MEM(shmat, V, V, V),
	MEM(shmdt, V),
	EMUL(arch_prctl, V, SP),
	EMUL(set_robust_list, V, V),
	EMUL(get_robust_list, V, V, V),
	EMUL(set_tid_address, SP),
	EMUL(personality, V),

	/* glibc copes with ENOSYS; the kernel would write ring 0's rip */
	REFUSE_QUIET(rseq),

	/* processes (proc.c, proc-exec.c); CLONE_VM: threads */
	EMUL(clone, V, V, V, V, V),
	EMUL(clone3, V, V),
	E0(fork, BK_EMUL),
	E0(vfork, BK_EMUL),
	EMUL(execve, P, V, V),
	EMUL(execveat, F, P, V, V, V),
	/* SysV IPC: layouts by the command (ipc.c) */
	PASS(msgget, V, V),
	PASS(msgsnd, V, SP, V, V),
	PASS(msgrcv, V, SP, V, V, V),
	PASS(msgctl, V, V, SP),
	PASS(semget, V, V, V),
	PASS(semop, V, INN(2, struct sembuf), V),
	PASS(semtimedop, V, INN(2, struct sembuf), V,
	     OINF(struct timespec)),
	PASS(semctl, V, V, V, SP),
	PASS(shmget, V, V, V),
	PASS(shmctl, V, V, SP),

	/* the kernel would act on the address space behind the monitor */
	REFUSE(ptrace),
	REFUSE(process_vm_readv),
	REFUSE(process_vm_writev),
	REFUSE(process_madvise),
	REFUSE(io_uring_setup),
	REFUSE(io_uring_enter),
	REFUSE(io_uring_register),
	REFUSE(userfaultfd),
	REFUSE(perf_event_open),
	REFUSE(bpf),
	REFUSE(modify_ldt),
	REFUSE(vmsplice),
	REFUSE(remap_file_pages),
	REFUSE(mbind),
	REFUSE(move_pages),
	REFUSE(migrate_pages),
	REFUSE(kexec_load),
	REFUSE(kexec_file_load),
	REFUSE(iopl),
	REFUSE(ioperm),
	/* a file handle opens a file without its path: Landlock's rules
	 * and the policy's paths would not apply */
	REFUSE(name_to_handle_at),
	REFUSE(open_by_handle_at),
	/* pages taken out of the kernel's direct map; not reflected */
	REFUSE(memfd_secret),
};

const unsigned int box_systab_size = sizeof(tab) / sizeof(tab[0]);

const struct box_sysent *box_systab(long nr)
{
	static const struct box_sysent unknown;

	if (nr < 0 || (unsigned long)nr >= box_systab_size)
		return &unknown;
	return &tab[nr];
}
