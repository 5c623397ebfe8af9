/* SPDX-License-Identifier: MIT */
/*
 * dune-box: the argument checks of the SysV IPC calls whose layout
 * depends on another argument (box/ipc.c): msgsnd, msgrcv, msgctl,
 * semctl, shmctl.  0 or -errno.
 */
#ifndef BOX_IPC_H
#define BOX_IPC_H

struct box_ctx;

int box_ipc_check(struct box_ctx *c);

#endif
