// SPDX-License-Identifier: MIT
/*
 * Linked into fid-NAME.dune only: enters Dune mode before main() (and
 * before the constructors of the program itself, which run after ours
 * at this priority), so the same source runs natively as fid-NAME and
 * in Dune mode as fid-NAME.dune.  A failure to enter is loud and has
 * its own exit status: the harness must never compare a native run with
 * another native run.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dune.h"

#define FID_CANNOT_ENTER 125
#define FID_LEFT_DUNE 126

static void __attribute__((constructor(101))) fid_enter(void)
{
	if (dune_init_and_enter()) {
		fprintf(stderr, "fid: cannot enter Dune mode (see above)\n");
		_exit(FID_CANNOT_ENTER);
	}
}

/*
 * A program that returns from main (or calls exit) must still be in Dune
 * mode: a signal handler that leaves it silently (the old siglongjmp
 * trap) would otherwise compare a native run with a native run.
 */
static void __attribute__((destructor(101))) fid_check_still_in_dune(void)
{
	if (!dune_active()) {
		fprintf(stderr, "fid: the main thread left Dune mode\n");
		_exit(FID_LEFT_DUNE);
	}
}
