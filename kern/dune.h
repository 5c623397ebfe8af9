/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal interfaces between the files of dune.ko. */
#ifndef DUNE_H
#define DUNE_H

#include "caps.h"

/* probe.c: capabilities, filled once at load and read-only afterwards. */
extern struct vmx_caps vmx_caps;
int dune_probe_caps(void);

#endif
