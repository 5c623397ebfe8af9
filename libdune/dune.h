/* SPDX-License-Identifier: MIT */
/*
 * libdune: run this process in VMX non-root mode through dune.ko.
 * Names follow the original Dune's libdune so programs port easily.
 */
#ifndef LIBDUNE_DUNE_H
#define LIBDUNE_DUNE_H

#include <stdio.h>
#include <dune/uapi.h>

/*
 * Open /dev/dune and check that the module speaks our API version.
 * Returns an fd, or -1 with errno set after printing to stderr what the
 * user should do about it.
 */
int dune_dev_open(void);

/* Fill @caps from the module.  0 on success, -1 with errno and a message. */
int dune_get_caps(struct dune_caps *caps);

/* Write a human-readable description of @caps to @f. */
void dune_caps_print(const struct dune_caps *caps, FILE *f);

#endif
