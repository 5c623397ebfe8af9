/* SPDX-License-Identifier: MIT */
/*
 * How box/ code tells its caller why something failed: the reason is
 * formatted into the caller's buffer @err (at most @errlen bytes, always
 * terminated) and -1 returned, so that `return box_err(err, errlen, ...)`
 * ends a function that fails.  The caller prints it (exit status 2 for
 * bad input, box/main.c).
 */
#ifndef BOX_ERR_H
#define BOX_ERR_H

#include <stdarg.h>
#include <stddef.h>

int box_verr(char *err, size_t errlen, const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4)))
int box_err(char *err, size_t errlen, const char *fmt, ...);

#endif
