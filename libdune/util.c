// SPDX-License-Identifier: MIT
/*
 * The original libdune's small utilities (dune.h): dune_printf,
 * dune_die, dune_mmap.  Written from its documented behaviour.  They
 * make their system calls directly (raw.h), so they work where libc's
 * wrappers or stdio cannot, e.g. in trap handlers while the program
 * holds stdio's lock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "raw.h"

int dune_printf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return n;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return dune_sys3(SYS_write, 1, (long)buf, n);
}

void dune_die(void)
{
	for (;;)
		dune_sys1(SYS_exit_group, EXIT_FAILURE);
}

void *dune_mmap(void *addr, size_t length, int prot, int flags, int fd,
		off_t offset)
{
	return (void *)dune_sys6(SYS_mmap, (long)addr, (long)length, prot,
				 flags, fd, offset);
}
