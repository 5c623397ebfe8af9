// SPDX-License-Identifier: MIT
/* dune-box: failure reasons for the caller to print (err.h). */
#include <stdio.h>

#include "err.h"

int box_verr(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	return -1;
}

int box_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	box_verr(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
