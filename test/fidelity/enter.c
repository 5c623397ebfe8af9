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

static void __attribute__((constructor(101))) fid_enter(void)
{
	if (dune_init_and_enter()) {
		fprintf(stderr, "fid: cannot enter Dune mode (see above)\n");
		_exit(FID_CANNOT_ENTER);
	}
}
