// SPDX-License-Identifier: MIT
/*
 * How a program ends, for dune-box's differential tests (no libdune):
 *   box-ends exit N | segv | abort | ud2 | cli | hlt | vmcall | int3
 * prints a line first, so the output shows the program ran.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "exit";

	printf("ending by %s\n", how);
	fflush(stdout);
	if (strcmp(how, "exit") == 0)
		return argc > 2 ? atoi(argv[2]) : 0;
	if (strcmp(how, "segv") == 0) {
		volatile int *volatile p = (int *)16;

		*p = 1;
	}
	else if (strcmp(how, "abort") == 0)
		abort();
	else if (strcmp(how, "ud2") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(how, "cli") == 0)
		__asm__ volatile("cli");
	else if (strcmp(how, "hlt") == 0)
		__asm__ volatile("hlt");
	else if (strcmp(how, "vmcall") == 0)
		__asm__ volatile("vmcall");
	else if (strcmp(how, "int3") == 0)
		__asm__ volatile("int3");
	printf("still here\n");
	return 99;
}
