// SPDX-License-Identifier: MIT
/*
 * libdune's ELF API (elf.h): the original libdune's dune_elf_* with
 * their meaning, error codes and messages, reading the image with
 * libelf.  Plain process code: usable in and out of Dune mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"

/* The original's limits ("security checks"). */
#define MAX_SNAME 40
#define MAX_SHNUM 100
#define MAX_PHNUM 40

#define ELF_PAGE 4096ul
#define PAGE_DOWN(x) ((unsigned long)(x) & ~(ELF_PAGE - 1))
#define PAGE_UP(x) PAGE_DOWN((unsigned long)(x) + ELF_PAGE - 1)

static void elf_reset(struct dune_elf *elf)
{
	elf->phdr = NULL;
	elf->shdr = NULL;
	elf->shdrstr = NULL;
	elf->shdrstr_len = 0;
	elf->libelf = NULL;
}

static int do_elf_open(struct dune_elf *elf)
{
	unsigned char *id;
	Elf64_Ehdr *eh;
	uint64_t size;
	struct stat st;
	Elf *e;

	elf_reset(elf);
	if (elf->mem) {
		size = elf->len > 0 ? elf->len : 0;
	} else {
		size = fstat(elf->fd, &st) ? 0 : st.st_size;
	}
	if (size < sizeof(Elf64_Ehdr)) {
		printf("elf: failed to read header\n");
		dune_elf_close(elf);
		return -EIO;
	}
	elf_version(EV_CURRENT);
	e = elf->mem ? elf_memory((char *)elf->mem, size) :
		       elf_begin(elf->fd, ELF_C_READ, NULL);
	if (!e) {
		printf("elf: failed to read header\n");
		dune_elf_close(elf);
		return -EIO;
	}
	elf->libelf = e;
	id = (unsigned char *)elf_getident(e, NULL);
	if (elf_kind(e) != ELF_K_ELF || !id ||
	    id[EI_CLASS] != ELFCLASS64 || id[EI_DATA] != ELFDATA2LSB ||
	    id[EI_VERSION] != EV_CURRENT ||
	    !(eh = elf64_getehdr(e)) || eh->e_version != EV_CURRENT) {
		printf("elf: failed image sanity check\n");
		dune_elf_close(elf);
		return -EINVAL;
	}
	if (eh->e_machine != EM_X86_64) {
		printf("elf: unsupported architecture\n");
		dune_elf_close(elf);
		return -EINVAL;
	}
	elf->hdr = *eh;
	return 0;
}

int dune_elf_open(struct dune_elf *elf, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		printf("elf: unable to open '%s'\n", path);
		return -EIO;
	}
	elf->fd = fd;
	elf->mem = NULL;
	elf->len = 0;
	return do_elf_open(elf);
}

int dune_elf_open_mem(struct dune_elf *elf, void *mem, int len)
{
	elf->fd = -1;
	elf->mem = mem;
	elf->len = len;
	return do_elf_open(elf);
}

int dune_elf_close(struct dune_elf *elf)
{
	free(elf->phdr);
	free(elf->shdr);
	free(elf->shdrstr);
	if (elf->libelf)
		elf_end(elf->libelf);
	elf_reset(elf);
	if (!elf->mem && elf->fd >= 0)
		close(elf->fd);
	elf->fd = -1;
	return 0;
}

static int elf_open_phs(struct dune_elf *elf)
{
	Elf64_Phdr *ph;
	size_t len;

	if (elf->hdr.e_phentsize != sizeof(Elf64_Phdr)) {
		printf("elf: unexpected phdr size\n");
		return -EINVAL;
	}
	if (elf->hdr.e_phnum > MAX_PHNUM)
		return -EINVAL;
	len = elf->hdr.e_phnum * sizeof(Elf64_Phdr);
	ph = elf->hdr.e_phnum ? elf64_getphdr(elf->libelf) : NULL;
	if (elf->hdr.e_phnum && !ph) {
		printf("elf: failed to read program header table\n");
		return -EIO;
	}
	elf->phdr = malloc(len ? len : 1);
	if (!elf->phdr)
		return -ENOMEM;
	memcpy(elf->phdr, ph, len);
	return 0;
}

int dune_elf_iter_ph(struct dune_elf *elf, dune_elf_phcb cb)
{
	int i, ret;

	if (!elf->phdr) {
		ret = elf_open_phs(elf);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < elf->hdr.e_phnum; i++) {
		ret = cb(elf, &elf->phdr[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int elf_open_shs(struct dune_elf *elf)
{
	unsigned int n = elf->hdr.e_shnum, i, str = elf->hdr.e_shstrndx;
	Elf64_Shdr *sh, *s;
	Elf_Data *data;
	char *tab;

	if (elf->hdr.e_shentsize != sizeof(Elf64_Shdr)) {
		printf("elf: unexpected shdr size\n");
		return -EINVAL;
	}
	if (n > MAX_SHNUM)
		return -EINVAL;
	sh = calloc(n ? n : 1, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		s = elf64_getshdr(elf_getscn(elf->libelf, i));
		if (!s) {
			printf("elf: failed to read section header table\n");
			free(sh);
			return -EIO;
		}
		sh[i] = *s;
	}
	if (str >= n) {
		free(sh);
		return -EINVAL;
	}
	if (sh[str].sh_type != SHT_STRTAB) {
		printf("elf: invalid section type for string table\n");
		free(sh);
		return -EINVAL;
	}
	data = elf_rawdata(elf_getscn(elf->libelf, str), NULL);
	tab = malloc(sh[str].sh_size ? sh[str].sh_size : 1);
	if (!data || data->d_size < sh[str].sh_size || !tab) {
		printf("elf: failed to read section header string table\n");
		free(sh);
		free(tab);
		return -EIO;
	}
	memcpy(tab, data->d_buf, sh[str].sh_size);
	elf->shdr = sh;
	elf->shdrstr = tab;
	elf->shdrstr_len = sh[str].sh_size;
	return 0;
}

int dune_elf_iter_sh(struct dune_elf *elf, dune_elf_shcb cb)
{
	int i, ret;

	if (!elf->shdr) {
		ret = elf_open_shs(elf);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < elf->hdr.e_shnum; i++) {
		size_t off = elf->shdr[i].sh_name, max;
		char *sname = elf->shdrstr + off;

		/* the name must end inside the table, within MAX_SNAME */
		max = off < elf->shdrstr_len ? elf->shdrstr_len - off : 0;
		if (max > MAX_SNAME)
			max = MAX_SNAME;
		if (!max || strnlen(sname, max) == max) {
			printf("elf: section name too long\n");
			return -EINVAL;
		}
		ret = cb(elf, sname, i, &elf->shdr[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int prot_of(const Elf64_Phdr *ph)
{
	return (ph->p_flags & PF_R ? PROT_READ : 0) |
	       (ph->p_flags & PF_W ? PROT_WRITE : 0) |
	       (ph->p_flags & PF_X ? PROT_EXEC : 0);
}

int dune_elf_load_ph(struct dune_elf *elf, Elf64_Phdr *phdr, off_t off)
{
	unsigned long va = phdr->p_vaddr + off, lo = PAGE_DOWN(va);
	unsigned long file_end = va + phdr->p_filesz;
	unsigned long end = PAGE_UP(va + phdr->p_memsz);
	unsigned long file_hi = phdr->p_filesz ? PAGE_UP(file_end) : lo;
	int prot = prot_of(phdr);
	unsigned long n;
	void *m;

	if (phdr->p_type != PT_LOAD || phdr->p_filesz > phdr->p_memsz)
		return -EINVAL;
	if (elf->mem && (phdr->p_offset > (unsigned long)elf->len ||
			 phdr->p_filesz > elf->len - phdr->p_offset))
		return -EINVAL;

	if (file_hi > lo) {
		if (elf->mem) {
			/* a memory image: copy into anonymous memory */
			m = mmap((void *)lo, file_hi - lo,
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
				 0);
			if (m != (void *)lo)
				return -ENOMEM;
			/* the whole pages, as mmap of the file would map */
			n = elf->len - PAGE_DOWN(phdr->p_offset);
			if (n > file_hi - lo)
				n = file_hi - lo;
			memcpy((void *)lo,
			       elf->mem + PAGE_DOWN(phdr->p_offset), n);
		} else {
			m = mmap((void *)lo, file_hi - lo,
				 prot | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
				 elf->fd, PAGE_DOWN(phdr->p_offset));
			if (m != (void *)lo)
				return -ENOMEM;
		}
		/* the bss's start in the last file page */
		if (phdr->p_memsz > phdr->p_filesz)
			memset((void *)file_end, 0, file_hi - file_end);
		if (mprotect((void *)lo, file_hi - lo, prot))
			return -ENOMEM;
	}
	if (end > file_hi) {
		m = mmap((void *)file_hi, end - file_hi, prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (m != (void *)file_hi)
			return -ENOMEM;
	}
	return 0;
}

static int dump_sh(struct dune_elf *elf, const char *sname, int snum,
		   Elf64_Shdr *sh)
{
	printf("  [%2d] %-16s %-10u %016llx %08llx\n", snum, sname,
	       sh->sh_type, (unsigned long long)sh->sh_addr,
	       (unsigned long long)sh->sh_offset);
	printf("       %016llx %016llx %c%c%c %4u %4u %5llu\n",
	       (unsigned long long)sh->sh_size,
	       (unsigned long long)sh->sh_entsize,
	       sh->sh_flags & SHF_WRITE ? 'W' : ' ',
	       sh->sh_flags & SHF_ALLOC ? 'A' : ' ',
	       sh->sh_flags & SHF_EXECINSTR ? 'X' : ' ', sh->sh_link,
	       sh->sh_info, (unsigned long long)sh->sh_addralign);
	return 0;
}

static int dump_ph(struct dune_elf *elf, Elf64_Phdr *ph)
{
	printf("  %-10u 0x%016llx 0x%016llx 0x%016llx\n", ph->p_type,
	       (unsigned long long)ph->p_offset,
	       (unsigned long long)ph->p_vaddr,
	       (unsigned long long)ph->p_paddr);
	printf("  %-10s 0x%016llx 0x%016llx %c%c%c %llx\n", "",
	       (unsigned long long)ph->p_filesz,
	       (unsigned long long)ph->p_memsz,
	       ph->p_flags & PF_R ? 'R' : ' ', ph->p_flags & PF_W ? 'W' : ' ',
	       ph->p_flags & PF_X ? 'X' : ' ',
	       (unsigned long long)ph->p_align);
	return 0;
}

int dune_elf_dump(struct dune_elf *elf)
{
	int ret;

	printf("--- ELF Dump ---\nSection Headers:\n");
	ret = dune_elf_iter_sh(elf, dump_sh);
	if (ret) {
		printf("elf: failed to dump section headers\n");
		return ret;
	}
	printf("Program Headers:\n");
	ret = dune_elf_iter_ph(elf, dump_ph);
	if (ret)
		printf("elf: failed to dump program headers\n");
	return ret;
}
