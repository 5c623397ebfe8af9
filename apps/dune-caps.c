// SPDX-License-Identifier: MIT
/* dune-caps: print what dune.ko found out about this CPU's VT-x. */
#include <stdio.h>
#include <stdlib.h>

#include "dune.h"

int main(void)
{
	struct dune_caps caps;

	if (dune_get_caps(&caps))
		return EXIT_FAILURE;
	dune_caps_print(&caps, stdout);
	return EXIT_SUCCESS;
}
