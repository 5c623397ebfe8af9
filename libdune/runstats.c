// SPDX-License-Identifier: MIT
/*
 * dune-run --stats: the process's VM exits by reason, printed on stderr
 * when it calls exit_group.
 *
 * The counters are per vCPU (DUNE_GET_STATS) and a vCPU dies with its
 * thread, so each thread adds its counters to the process's sum as it
 * exits; at exit_group the sum, plus the counters of the vCPUs still
 * alive (any thread of the mm may read them), is the process's total.
 * A fork child starts from zero.
 *
 * The report goes to a copy of stderr made when the process entered Dune
 * mode: many programs close stderr on their way out (coreutils' close_
 * stdout does).  The copy sits high in the fd table, close-on-exec, and
 * is guarded like libdune's other fds (hostsys.c).
 *
 * Host-loop code: raw system calls and general registers only (raw.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>

#include "fmt.h"
#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

bool dune_run_stats;
int dune_run_stats_fd = -1;

static void copy_stderr(void)
{
	long fd = dune_sys3(SYS_fcntl, 2, F_DUPFD_CLOEXEC, 3);

	dune_run_stats_fd = fd < 0 ? -1 : dune_fd_own(fd);
}

void dune_stats_enable(void)
{
	dune_run_stats = true;
	copy_stderr();
}

/* The counters of the vCPUs that are gone (threads that exited). */
static struct dune_stats gone;

static bool read_stats(long fd, struct dune_stats *s)
{
	return fd >= 0 &&
	       !dune_sys3(SYS_ioctl, fd, DUNE_GET_STATS, (long)s);
}

static void add(struct dune_stats *sum, const struct dune_stats *s,
		bool atomic)
{
	const uint64_t *from = (const uint64_t *)s;
	uint64_t *to = (uint64_t *)sum;
	size_t i;

	for (i = 0; i < sizeof(*s) / sizeof(uint64_t); i++) {
		if (atomic)
			__atomic_fetch_add(&to[i], from[i], __ATOMIC_RELAXED);
		else
			to[i] += from[i];
	}
}

void dune_stats_thread_exit(struct dune_thread *t)
{
	struct dune_stats s;

	if (dune_run_stats && read_stats(t->vcpu_fd, &s))
		add(&gone, &s, true);
}

void dune_stats_fork_child(void)
{
	if (!dune_run_stats)
		return;
	dune_bzero(&gone, sizeof(gone));
	/* dune_close_inherited_fds closed the parent's copy */
	copy_stderr();
}

void dune_stats_exit_group(struct dune_thread *t)
{
	struct dune_stats sum, s;
	char comm[17];
	struct dune_out o;
	bool self_seen = false;
	long fd = -1;
	unsigned int i;

	/* A vfork child shares the parent's memory and counters. */
	if (!dune_run_stats || (t->flags & DUNE_THREAD_VFORK))
		return;
	dune_copy(&sum, &gone, sizeof(sum));
	/* Every live vCPU of the process is in the guarded set... */
	while ((fd = dune_fdguard_next(fd + 1, DUNE_FDGUARD_MAX - 1)) >= 0) {
		if (fd == dune_proc.dev_fd || fd == dune_run_stats_fd)
			continue;
		self_seen |= fd == t->vcpu_fd;
		if (read_stats(fd, &s))
			add(&sum, &s, false);
	}
	/* ...but that of a thread with its own fd table. */
	if (!self_seen && read_stats(t->vcpu_fd, &s))
		add(&sum, &s, false);

	dune_bzero(comm, sizeof(comm));
	dune_sys2(SYS_prctl, PR_GET_NAME, (long)comm);
	dune_out_init(&o, dune_run_stats_fd >= 0 ? dune_run_stats_fd : 2);
	dune_out_str(&o, "dune-run: stats of pid ");
	dune_out_dec(&o, dune_sys0(SYS_getpid));
	dune_out_str(&o, " (");
	dune_out_str(&o, comm);
	dune_out_str(&o, "): ");
	dune_out_dec(&o, sum.exits);
	dune_out_str(&o, " VM exits, ");
	dune_out_dec(&o, sum.entries);
	dune_out_str(&o, " VM entries, ");
	dune_out_dec(&o, sum.user_exits);
	dune_out_str(&o, " returns to the host loop\n");
	for (i = 0; i < DUNE_NR_EXIT_REASONS; i++) {
		if (!sum.by_reason[i])
			continue;
		/* One write per line fills the buffer no further than this. */
		if (o.len > sizeof(o.buf) - 128)
			dune_out_flush(&o);
		dune_out_str(&o, "dune-run:   ");
		dune_out_dec(&o, sum.by_reason[i]);
		dune_out_str(&o, " ");
		dune_out_str(&o, dune_exit_reason_name(i));
		dune_out_str(&o, "\n");
	}
	dune_out_flush(&o);
}

DUNE_NOFPU_END
