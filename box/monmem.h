/* SPDX-License-Identifier: MIT */
/*
 * dune-box: the helpers of the memory calls (monmem.c), shared with the
 * System V shared memory calls (shm.c).  All run under the memory lock
 * held for writing.
 */
#ifndef BOX_MONMEM_H
#define BOX_MONMEM_H

#include <stdbool.h>
#include <stdint.h>

struct box_ctx;

/* A raw system call's return value is an error (-4095..-1). */
bool box_is_err(long r);

/* [lo, lo + len) page-aligned, non-empty, in the user half: *hi its end. */
bool box_range_ok(uint64_t lo, uint64_t len, uint64_t *hi);

/*
 * Every page of [lo, hi) becomes the sandbox's: owned pages stay as they
 * are, free ones are reserved.  -EPERM (nothing changed) if a page is
 * neither (the monitor's, libdune's).
 */
int box_claim(uint64_t lo, uint64_t hi);

/* 0: all owned and mapped; 1: some pages only reserved; 2: some not owned */
int box_range_state(uint64_t lo, uint64_t hi);

/* Replace [lo, hi) by a reservation (what the sandbox's munmap leaves). */
long box_unmap_keep(uint64_t lo, uint64_t hi);

/* A VMA as /proc/self/maps gives it (shm.c). */
struct box_vma {
	uint64_t lo, hi, off, ino;
	unsigned int dev_maj, dev_min;
	bool sysv;	/* a System V shared memory segment */
	bool named;	/* a file, or [heap], [stack], ... */
	bool shared;	/* MAP_SHARED ('s' in its perms) */
};

/* The VMA holding @addr: 0, -ENOENT (none), -ENOMEM (maps unreadable). */
int box_vma_at(uint64_t addr, struct box_vma *v);

/* shm.c: shmat, shmdt (memory calls; shmctl's layout is ipc.c's). */
long box_shm_at(struct box_ctx *c);
long box_shm_dt(struct box_ctx *c);

#endif
