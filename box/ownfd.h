/* SPDX-License-Identifier: MIT */
/*
 * dune-box: the monitor's own file descriptors, hidden from ring 3
 * (box/ownfd.c, docs/sandbox.md "Isolation").  Natively they do not
 * exist, so to the program every one of them is a closed fd.
 */
#ifndef BOX_OWNFD_H
#define BOX_OWNFD_H

#include <stdbool.h>

struct box_ctx;

/*
 * @fd moved above the numbers a program uses (as libdune's own,
 * libdune/fdguard.c); the fd it has now (@fd itself if it is high
 * already or there is no room up there).
 */
int box_fd_high(int fd);
/*
 * Take @fd as the monitor's, hidden from then on; box_fd_high first
 * keeps the program's numbering native.  With @owner, a dup2 onto it
 * moves it to another high number and *owner follows; without, such a
 * dup2 fails with EBUSY (a short-lived fd, as the kernel's own race
 * with open).
 */
void box_fd_own(int fd, int *owner);
/* No longer the monitor's (before it is closed or handed on). */
void box_fd_disown(int fd);
/* Is @fd the monitor's or libdune's (the program must not see it)? */
bool box_fd_hidden(long fd);

/*
 * Before the call goes to Linux: true if it named a hidden fd and
 * c->ret holds the closed fd's answer; dup2/dup3 onto an fd of ours
 * move it first; close_range steps around ours.
 */
bool box_fd_call(struct box_ctx *c);
/* After it: reopened monitor files refused, /proc/self/fd listings. */
long box_fd_after(struct box_ctx *c, long ret);

#endif
