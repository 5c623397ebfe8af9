/* SPDX-License-Identifier: MIT */
/*
 * dune-box: load a program into the sandbox the way execve would.
 *
 * Owner: the loader (box/load.c and what it needs).  The loader maps
 * the program and its PT_INTERP loader with ordinary mmap calls in this
 * process, builds the initial stack (argv, envp, auxv as Linux lays it
 * out) in a fresh stack mapping, and records every range it mapped with
 * box_mem_add.  It does not enter Dune mode or run anything.
 */
#ifndef BOX_LOAD_H
#define BOX_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct box_mem;

struct box_image {
	uint64_t entry;		/* where ring 3 starts: the interpreter's
				 * entry, or the program's if static */
	uint64_t sp;		/* initial RSP: points at argc */
	uint64_t brk;		/* start of the emulated brk heap */
	uint64_t exe_base;	/* load bias of the program (0 if ET_EXEC) */
	uint64_t interp_base;	/* AT_BASE, 0 if none */
	uint64_t vdso;		/* AT_SYSINFO_EHDR, 0 if none */
	uint64_t stack_lo;	/* the fresh stack mapping [lo, hi) */
	uint64_t stack_hi;
};

/*
 * Check that @path is something box_load can run: it exists, is a
 * regular executable file, an x86-64 ELF executable (ET_EXEC or ET_DYN)
 * whose headers are consistent, with a loadable PT_INTERP if it has one.
 * 0, or -1 with a message naming the file and the reason in @err (what
 * dune-box prints before exiting with status 2).
 */
int box_load_check(const char *path, char *err, size_t errlen);
/* The same, and the PT_INTERP path into @interp ("" for a static one). */
int box_load_check_interp(const char *path, char *interp, size_t interp_len,
			  char *err, size_t errlen);

/*
 * Map @path (and its interpreter) and build the stack for @argv/@envp.
 * @execfn is AT_EXECFN's string (the path as given to execve).
 * 0, or -1 with the reason in @err; on failure nothing stays mapped.
 */
int box_load(const char *path, const char *execfn, char *const argv[],
	     char *const envp[], struct box_mem *mem, struct box_image *img,
	     char *err, size_t errlen);

#endif
