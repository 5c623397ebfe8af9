// SPDX-License-Identifier: MIT
/*
 * libdune.so only: the constructor dune-run relies on.  dune-run puts
 * libdune.so into LD_PRELOAD and sets DUNE_RUN=1; this constructor then
 * enters Dune mode before the program's own constructors and main() run.
 * Without DUNE_RUN=1 it does nothing, so linking libdune.so (or
 * preloading it) changes nothing by itself.
 *
 * The environment is inherited: a program the Dune process execs enters
 * Dune mode again from here, as long as it keeps LD_PRELOAD and DUNE_RUN.
 *
 * When Dune mode cannot be entered the process must not go on natively
 * (the user asked for Dune mode): one line says why and what to do, and
 * the process exits with DUNE_RUN_CANNOT_ENTER.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Documented in dune-run --help and docs/api.md. */
#define DUNE_RUN_CANNOT_ENTER 125

static bool env_on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

static const char *fix_for(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return "dune.ko is not loaded: sudo modprobe dune (or sudo insmod kern/dune.ko)";
	case EPROTO:
		return "dune.ko and libdune.so speak different API versions: load the dune.ko built with this libdune.so";
	case EBUSY:
		return "VT-x is held by another hypervisor: unload kvm_intel (on 6.12 kernels also kvm.enable_virt_at_load=0)";
	case EACCES:
	case EPERM:
		return "no permission to open /dev/dune";
	default:
		return "see the libdune message above";
	}
}

/*
 * Priority 101, the first one a program may use: in this library it
 * runs before any other constructor of libdune.so; the program's own
 * constructors run later (the main program initializes last).
 */
static void __attribute__((constructor(101))) dune_run_preload(void)
{
	int err;

	if (!env_on("DUNE_RUN"))
		return;
	if (env_on("DUNE_RUN_STATS"))
		dune_stats_enable();
	if (!dune_init_and_enter())
		return;
	err = errno;
	if (!env_on("DUNE_RUN_QUIET"))
		fprintf(stderr,
			"dune-run: cannot enter Dune mode (%s): %s\n",
			strerror(err), fix_for(err));
	_exit(DUNE_RUN_CANNOT_ENTER);
}
