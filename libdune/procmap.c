// SPDX-License-Identifier: MIT
/*
 * dune_procmap_iterate (the original libdune's): /proc/self/maps, one
 * callback per line.  A line reads
 *	begin-end perms offset major:minor inode [path]
 * with perms "rwxp" (or '-' for a missing right, 's' for shared).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int procmap_type(const char *path)
{
	if (!path[0])
		return PROCMAP_TYPE_ANONYMOUS;
	if (path[0] != '[')
		return PROCMAP_TYPE_FILE;
	/* "[stack]", and "[stack:tid]" of older kernels */
	if (!strncmp(path, "[stack", 6))
		return PROCMAP_TYPE_STACK;
	if (!strcmp(path, "[heap]"))
		return PROCMAP_TYPE_HEAP;
	if (!strcmp(path, "[vsyscall]"))
		return PROCMAP_TYPE_VSYSCALL;
	if (!strcmp(path, "[vdso]"))
		return PROCMAP_TYPE_VDSO;
	if (!strcmp(path, "[vvar]"))
		return PROCMAP_TYPE_VVAR;
	return PROCMAP_TYPE_UNKNOWN;
}

/* Parse one line into @e; @path receives the path (may be empty). */
static bool procmap_parse(char *line, struct dune_procmap_entry *e,
			  char *path)
{
	unsigned long begin, end, offset;
	char perms[5];
	int n = 0;

	if (sscanf(line, "%lx-%lx %4s %lx %*x:%*x %*u %n", &begin, &end,
		   perms, &offset, &n) < 4 || !n || strlen(perms) != 4)
		return false;
	e->begin = begin;
	e->end = end;
	e->offset = offset;
	e->r = perms[0] == 'r';
	e->w = perms[1] == 'w';
	e->x = perms[2] == 'x';
	e->p = perms[3] == 'p';
	/* The rest of the line, without its newline, is the path. */
	strcpy(path, line + n);
	path[strcspn(path, "\n")] = '\0';
	e->path = path;
	e->type = procmap_type(path);
	return true;
}

void dune_procmap_iterate(dune_procmap_cb cb)
{
	/* A path is at most PATH_MAX plus " (deleted)"; lines are shorter. */
	enum { LINE = 4096 + 256 };
	struct dune_procmap_entry e;
	char *line, *path;
	FILE *f;

	line = malloc(2 * LINE);
	f = line ? fopen("/proc/self/maps", "re") : NULL;
	if (!f) {
		perror("dune: /proc/self/maps");
		abort();
	}
	path = line + LINE;
	while (fgets(line, LINE, f))
		if (procmap_parse(line, &e, path))
			cb(&e);
	fclose(f);
	free(line);
}

static void procmap_print(const struct dune_procmap_entry *e)
{
	printf("0x%016lx-0x%016lx %c%c%c%c %08lx %s\n",
	       (unsigned long)e->begin, (unsigned long)e->end,
	       e->r ? 'R' : '-', e->w ? 'W' : '-', e->x ? 'X' : '-',
	       e->p ? 'P' : 'S', (unsigned long)e->offset, e->path);
}

void dune_procmap_dump(void)
{
	printf("--- Process Map Dump ---\n");
	dune_procmap_iterate(procmap_print);
}
