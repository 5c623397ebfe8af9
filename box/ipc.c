// SPDX-License-Identifier: MIT
/*
 * dune-box: SysV IPC argument layouts (message queues, semaphores, the
 * shared-memory control call; shmat and shmdt are memory calls, shm.c).
 *
 * msgsnd and msgrcv move a struct msgbuf: a long mtype then msgsz bytes.
 * The *ctl calls' buffer depends on the command (x86-64 Linux knows no
 * IPC_64 flag there: a command with it is EINVAL, as here); semctl's
 * GETALL/SETALL move one unsigned short per semaphore of the set, a
 * number the monitor asks Linux for (IPC_STAT into its own memory; a
 * set's size never changes).  A size Linux rejects with EINVAL before
 * touching anything (a negative msgsz) is answered here.
 */
#include <errno.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#include "ipc.h"
#include "monitor-int.h"

static int need(uint64_t p, uint64_t len, int prot)
{
	return box_mem_owns(box_mon.mem, p, len, prot) ? 0 : -EFAULT;
}

static int check_msg(struct box_ctx *c)
{
	uint64_t len;

	/*
	 * A msgsz over LONG_MAX: msgrcv fails with EINVAL before anything,
	 * msgsnd after reading mtype.  Answered here: Linux never gets a
	 * pointer the monitor did not check.
	 */
	if ((int64_t)c->a[2] < 0) {
		if (c->nr == SYS_msgsnd && need(c->a[1], sizeof(long),
						 PROT_READ))
			return -EFAULT;
		return -EINVAL;
	}
	if (__builtin_add_overflow(c->a[2], sizeof(long), &len))
		return -EFAULT;
	/*
	 * msgrcv into memory the program does not own: EFAULT here, with
	 * the message left on the queue (Linux would take it off, then
	 * fail to copy it, and drop it).
	 */
	return need(c->a[1], len, c->nr == SYS_msgsnd ? PROT_READ :
		    PROT_WRITE);
}

/*
 * What each kind's own STAT, STAT_ANY and INFO commands are (their
 * numbers differ between msg, sem and shm).
 */
struct kind {
	int stat, stat_any, info;
	size_t ds, infosz;
};

/*
 * IPC_STAT-like commands write the ds, IPC_SET reads it, the INFO ones
 * write an info structure.  1: not one of these.
 */
static int stat_set(const struct kind *k, int cmd, uint64_t p)
{
	if (cmd == IPC_STAT || cmd == k->stat || cmd == k->stat_any)
		return need(p, k->ds, PROT_WRITE);
	if (cmd == IPC_SET)
		return need(p, k->ds, PROT_READ);
	if (cmd == IPC_INFO || cmd == k->info)
		return need(p, k->infosz, PROT_WRITE);
	if (cmd == IPC_RMID)
		return 0;
	return 1;
}

static int check_msgctl(struct box_ctx *c)
{
	int cmd = (int)c->a[1], r;

	static const struct kind k = { MSG_STAT, MSG_STAT_ANY, MSG_INFO,
				       sizeof(struct msqid_ds),
				       sizeof(struct msginfo) };

	r = stat_set(&k, cmd, c->a[2]);
	if (r <= 0)
		return r;
	return -EINVAL;		/* Linux's answer for an unknown command */
}

static int check_shmctl(struct box_ctx *c)
{
	int cmd = (int)c->a[1], r;

	static const struct kind k = { SHM_STAT, SHM_STAT_ANY, -1,
				       sizeof(struct shmid_ds),
				       sizeof(struct shminfo) };

	/* SHM_INFO writes a struct shm_info, IPC_INFO a struct shminfo */
	if (cmd == SHM_INFO)
		return need(c->a[2], sizeof(struct shm_info), PROT_WRITE);
	r = stat_set(&k, cmd, c->a[2]);
	if (r <= 0)
		return r;
	if (cmd == SHM_LOCK || cmd == SHM_UNLOCK)
		return 0;
	return -EINVAL;
}

static int check_semctl(struct box_ctx *c)
{
	int cmd = (int)c->a[2], r;
	struct semid_ds ds;
	long n;

	static const struct kind k = { SEM_STAT, SEM_STAT_ANY, SEM_INFO,
				       sizeof(struct semid_ds),
				       sizeof(struct seminfo) };

	r = stat_set(&k, cmd, c->a[3]);
	if (r <= 0)
		return r;
	switch (cmd) {
	case GETVAL: case GETPID: case GETNCNT: case GETZCNT: case SETVAL:
		return 0;	/* arg is a number */
	case GETALL:
	case SETALL:
		n = dune_sys6(SYS_semctl, c->a[0], 0, IPC_STAT,
			      (uint64_t)&ds, 0, 0);
		/*
		 * Linux's own answer for GETALL/SETALL of that id (both need
		 * the read right IPC_STAT needs); never an unchecked pointer.
		 */
		if (n < 0)
			return n;
		return need(c->a[3], ds.sem_nsems * sizeof(unsigned short),
			    cmd == GETALL ? PROT_WRITE : PROT_READ);
	}
	return -EINVAL;
}

int box_ipc_check(struct box_ctx *c)
{
	switch (c->nr) {
	case SYS_msgsnd:
	case SYS_msgrcv:
		return check_msg(c);
	case SYS_msgctl:
		return check_msgctl(c);
	case SYS_semctl:
		return check_semctl(c);
	case SYS_shmctl:
		return check_shmctl(c);
	}
	return 0;
}
