// SPDX-License-Identifier: MIT
/*
 * SysV IPC boxed and native (itest-box-calls): a message queue (msgsnd,
 * msgrcv, msgctl), a semaphore set (semop, semtimedop, semctl's GETALL,
 * SETALL, GETVAL, IPC_STAT), a shared-memory segment's shmctl, the INFO
 * commands, and every pointer at an address the program does not own
 * (EFAULT).  Raw calls: the C library would touch the pointers itself.
 *
 * Usage: box-calls-ipc msg|sem|shm
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "box-calls.h"

static void *bad;

static int t_msg(void)
{
	struct { long type; char text[16]; } m = { 7, "hello" }, in;
	struct msqid_ds ds;
	struct msginfo info;
	long q = syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600);
	long r;

	printf("msgget: %s\n", yes(q >= 0));
	SHOW("msgsnd", syscall(SYS_msgsnd, q, &m, 6, 0));
	SHOW("msgsnd bad", syscall(SYS_msgsnd, q, bad, 6, 0));
	SHOW("msgsnd negative size", syscall(SYS_msgsnd, q, bad, -1L, 0));
	SHOW("msgctl IPC_STAT", syscall(SYS_msgctl, q, IPC_STAT, &ds));
	printf("qnum %lu cbytes %lu\n", (unsigned long)ds.msg_qnum,
	       (unsigned long)ds.__msg_cbytes);
	SHOW("msgctl IPC_STAT bad", syscall(SYS_msgctl, q, IPC_STAT, bad));
	SHOW("msgctl IPC_STAT|IPC_64",
	     syscall(SYS_msgctl, q, IPC_STAT | 0x100, &ds));
	r = syscall(SYS_msgctl, 0, IPC_INFO, &info);
	printf("msgctl IPC_INFO: ok %s msgmax %d\n", yes(r >= 0), info.msgmax);
	SHOW("msgctl IPC_INFO bad", syscall(SYS_msgctl, 0, IPC_INFO, bad));
	SHOW("msgctl bad command", syscall(SYS_msgctl, q, 99, &ds));
	memset(&in, 0, sizeof(in));
	SHOW("msgrcv", syscall(SYS_msgrcv, q, &in, 16, 0, 0));
	printf("type %ld text %s\n", in.type, in.text);
	SHOW("msgrcv empty", syscall(SYS_msgrcv, q, &in, 16, 0, IPC_NOWAIT));
	ds.msg_perm.mode = 0640;
	SHOW("msgctl IPC_SET", syscall(SYS_msgctl, q, IPC_SET, &ds));
	SHOW("msgctl IPC_SET bad", syscall(SYS_msgctl, q, IPC_SET, bad));
	SHOW("msgrcv negative size", syscall(SYS_msgrcv, q, &in, -1L, 0, 0));
	/* last: Linux takes the message off the queue, then fails */
	SHOW("msgsnd", syscall(SYS_msgsnd, q, &m, 6, 0));
	SHOW("msgrcv bad", syscall(SYS_msgrcv, q, bad, 16, 0, 0));
	SHOW("msgctl IPC_RMID", syscall(SYS_msgctl, q, IPC_RMID, NULL));
	return 0;
}

static int t_sem(void)
{
	unsigned short v[3] = { 1, 2, 3 }, got[3];
	struct sembuf op[2] = { { 0, -1, 0 }, { 2, 4, 0 } };
	struct timespec ts = { 0, 1000000 };
	struct semid_ds ds;
	struct seminfo info;
	long s = syscall(SYS_semget, IPC_PRIVATE, 3, IPC_CREAT | 0600);
	long r;

	printf("semget: %s\n", yes(s >= 0));
	SHOW("semctl SETALL", syscall(SYS_semctl, s, 0, SETALL, v));
	SHOW("semctl SETALL bad", syscall(SYS_semctl, s, 0, SETALL, bad));
	SHOW("semop", syscall(SYS_semop, s, op, 2));
	SHOW("semop bad", syscall(SYS_semop, s, bad, 2));
	SHOW("semctl GETALL", syscall(SYS_semctl, s, 0, GETALL, got));
	printf("values %u %u %u\n", got[0], got[1], got[2]);
	SHOW("semctl GETALL bad", syscall(SYS_semctl, s, 0, GETALL, bad));
	SHOW("semctl GETVAL", syscall(SYS_semctl, s, 2, GETVAL, 0));
	SHOW("semctl SETVAL", syscall(SYS_semctl, s, 1, SETVAL, 9));
	SHOW("semctl GETNCNT", syscall(SYS_semctl, s, 1, GETNCNT, 0));
	/* semaphore 0 is 0 now: would block */
	op[0].sem_flg = IPC_NOWAIT;
	SHOW("semtimedop nowait", syscall(SYS_semtimedop, s, op, 1, &ts));
	op[0].sem_flg = 0;
	SHOW("semtimedop timeout", syscall(SYS_semtimedop, s, op, 1, &ts));
	SHOW("semtimedop bad timeout", syscall(SYS_semtimedop, s, op, 1, bad));
	SHOW("semctl IPC_STAT", syscall(SYS_semctl, s, 0, IPC_STAT, &ds));
	printf("nsems %lu\n", (unsigned long)ds.sem_nsems);
	SHOW("semctl IPC_STAT bad", syscall(SYS_semctl, s, 0, IPC_STAT, bad));
	r = syscall(SYS_semctl, 0, 0, IPC_INFO, &info);
	printf("semctl IPC_INFO: ok %s semmsl %d\n", yes(r >= 0), info.semmsl);
	SHOW("semctl SEM_INFO bad", syscall(SYS_semctl, 0, 0, SEM_INFO, bad));
	SHOW("semctl IPC_RMID", syscall(SYS_semctl, s, 0, IPC_RMID, 0));
	SHOW("semctl GETALL removed", syscall(SYS_semctl, s, 0, GETALL, got));
	return 0;
}

static int t_shm(void)
{
	long id = syscall(SYS_shmget, IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	struct shm_info si;
	struct shminfo info;
	struct shmid_ds ds;
	long r;

	printf("shmget: %s\n", yes(id >= 0));
	SHOW("shmctl IPC_STAT", syscall(SYS_shmctl, id, IPC_STAT, &ds));
	printf("size %lu nattch %lu\n", (unsigned long)ds.shm_segsz,
	       (unsigned long)ds.shm_nattch);
	SHOW("shmctl IPC_STAT bad", syscall(SYS_shmctl, id, IPC_STAT, bad));
	r = syscall(SYS_shmctl, 0, IPC_INFO, &info);
	printf("shmctl IPC_INFO: ok %s shmmni %lu\n", yes(r >= 0),
	       (unsigned long)info.shmmni);
	r = syscall(SYS_shmctl, 0, SHM_INFO, &si);
	printf("shmctl SHM_INFO: ok %s\n", yes(r >= 0));
	SHOW("shmctl SHM_INFO bad", syscall(SYS_shmctl, 0, SHM_INFO, bad));
	SHOW("shmctl IPC_SET bad", syscall(SYS_shmctl, id, IPC_SET, bad));
	SHOW("shmctl IPC_RMID", syscall(SYS_shmctl, id, IPC_RMID, NULL));
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	bad = foreign_address();
	if (!strcmp(c, "msg"))
		return t_msg();
	if (!strcmp(c, "sem"))
		return t_sem();
	if (!strcmp(c, "shm"))
		return t_shm();
	fprintf(stderr, "usage: box-calls-ipc msg|sem|shm\n");
	return 2;
}
