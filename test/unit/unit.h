/* SPDX-License-Identifier: MIT */
/* What every host unit-test program shares. */
#ifndef DUNE_UNIT_H
#define DUNE_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Run @s; exit status 0 only if every test passed. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
