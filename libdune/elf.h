/* SPDX-License-Identifier: MIT */
/*
 * libdune's ELF API, with the original libdune's names and meaning
 * (struct dune_elf, dune_elf_open, dune_elf_iter_ph, dune_elf_load_ph,
 * ...), built on libelf: link with -lelf (pkg-config dune does).
 *
 * The original's libdune/elf.h was a copy of the C library's <elf.h>,
 * and programs include it as "elf.h" or get it through dune.h.  On
 * libdune's include path this file also answers <elf.h>, so it pulls
 * the system's <elf.h> in with #include_next, before its own guard:
 * whichever way it is reached first, the second (search-path) lookup
 * goes on to the system header, and Elf64_* and the ELF constants are
 * always the system's.
 */
#include_next <elf.h>

#ifndef LIBDUNE_ELF_H
#define LIBDUNE_ELF_H

#include <sys/types.h>

#pragma GCC visibility push(default)

/*
 * An open ELF image, a file (mem == NULL) or a memory buffer.  The
 * fields up to priv are the original's, in its order; priv is the
 * program's.  phdr, shdr and shdrstr are read on first use by
 * dune_elf_iter_ph / dune_elf_iter_sh and freed by dune_elf_close.
 */
struct dune_elf {
	int		fd;
	unsigned char	*mem;
	int		len;
	Elf64_Ehdr	hdr;
	Elf64_Phdr	*phdr;
	Elf64_Shdr	*shdr;
	char		*shdrstr;
	void		*priv;
	/* libdune's own: the libelf handle, shdrstr's length */
	void		*libelf;
	size_t		shdrstr_len;
};

typedef int (*dune_elf_phcb)(struct dune_elf *elf, Elf64_Phdr *phdr);
typedef int (*dune_elf_shcb)(struct dune_elf *elf, const char *sname,
			     int snum, Elf64_Shdr *shdr);

/*
 * Open the ELF file @path / the image @mem of @len bytes and read its
 * header.  0, or a negative errno (the object is then closed): -EIO if
 * the file cannot be opened or is shorter than an ELF header, -EINVAL
 * if it is not a little-endian 64-bit ELF of the current version
 * ("elf: failed image sanity check") or not for x86-64 ("elf:
 * unsupported architecture").  As in the original, the reason is also
 * printed on stdout.
 */
int dune_elf_open(struct dune_elf *elf, const char *path);
int dune_elf_open_mem(struct dune_elf *elf, void *mem, int len);

/* Free what the object holds and close its file.  Returns 0. */
int dune_elf_close(struct dune_elf *elf);

/*
 * Call @cb for each program header in order; a non-zero return stops
 * the walk and is returned.  -EINVAL if e_phentsize is not
 * sizeof(Elf64_Phdr) or there are more than 40 headers, -EIO if the
 * table cannot be read.
 */
int dune_elf_iter_ph(struct dune_elf *elf, dune_elf_phcb cb);

/*
 * Call @cb for each section header with its name (from the section
 * header string table).  -EINVAL for a bad e_shentsize, more than 100
 * sections, a string table that is not SHT_STRTAB or a name that is
 * out of range or 40 characters or longer; -EIO if a table cannot be
 * read.
 */
int dune_elf_iter_sh(struct dune_elf *elf, dune_elf_shcb cb);

/*
 * Map the PT_LOAD segment @phdr at p_vaddr + @off with MAP_FIXED (over
 * whatever is there), with the segment's permissions; the bss after
 * p_filesz is zero (the partial page too).  An image opened with
 * dune_elf_open_mem is copied into anonymous memory.  0, -EINVAL if
 * @phdr is not PT_LOAD, p_filesz > p_memsz or (memory image) the
 * segment is outside the image, -ENOMEM if a mapping fails.  It maps in
 * the process: in Dune mode make the pages ring-3 accessible in the page
 * tables yourself (dune_vm_mprotect with PERM_U).
 */
int dune_elf_load_ph(struct dune_elf *elf, Elf64_Phdr *phdr, off_t off);

/* Print the section and program headers on stdout.  0 or an error. */
int dune_elf_dump(struct dune_elf *elf);

#pragma GCC visibility pop

#endif
