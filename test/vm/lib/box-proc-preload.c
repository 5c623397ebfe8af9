// SPDX-License-Identifier: MIT
/*
 * For itest-box-proc: a library a sandboxed program puts in LD_PRELOAD
 * of the program it execs.  That program's loader runs it (as
 * natively); dune-box's own loader, re-executed for the exec, must not
 * (it would print a second line, and run code in the monitor).
 */
#include <stdio.h>

static void __attribute__((constructor)) ctor(void)
{
	fputs("box-proc-preload.so: constructor ran\n", stderr);
}
