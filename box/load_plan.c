// SPDX-License-Identifier: MIT
/*
 * dune-box's loader, the pure part (load_plan.h): ELF header checks,
 * segment planning and the initial stack image, following what Linux's
 * fs/binfmt_elf.c (load_elf_binary, create_elf_tables) and fs/exec.c
 * (copy_strings) do.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "load_plan.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

static const char *machine_name(unsigned int m)
{
	switch (m) {
	case EM_386: return "i386";
	case EM_ARM: return "ARM";
	case EM_AARCH64: return "AArch64";
	case EM_RISCV: return "RISC-V";
	case EM_PPC64: return "PowerPC64";
	case EM_S390: return "s390";
	case EM_MIPS: return "MIPS";
	case EM_SPARCV9: return "SPARC64";
	default: return NULL;
	}
}

static const char *type_name(unsigned int t)
{
	switch (t) {
	case ET_NONE: return "ET_NONE";
	case ET_REL: return "ET_REL, a relocatable object";
	case ET_CORE: return "ET_CORE, a core dump";
	default: return "unknown";
	}
}

int box_check_ehdr(const unsigned char *buf, size_t n, char *why,
		   size_t whylen)
{
	const Elf64_Ehdr *eh = (const void *)buf;
	const char *name;

	if (n < SELFMAG || memcmp(buf, ELFMAG, SELFMAG)) {
		if (n >= 2 && buf[0] == '#' && buf[1] == '!')
			WHY("not an ELF file (a script: run its interpreter as the program)");
		else
			WHY("not an ELF file");
		return -1;
	}
	if (n < EI_NIDENT) {
		WHY("corrupt ELF header: truncated");
		return -1;
	}
	if (buf[EI_CLASS] == ELFCLASS32) {
		WHY("32-bit ELF (ELFCLASS32): only x86-64 programs run");
		return -1;
	}
	if (buf[EI_CLASS] != ELFCLASS64) {
		WHY("corrupt ELF header: unknown class %u", buf[EI_CLASS]);
		return -1;
	}
	if (buf[EI_DATA] != ELFDATA2LSB) {
		WHY("big-endian or unknown data encoding (EI_DATA %u): only x86-64 programs run",
		    buf[EI_DATA]);
		return -1;
	}
	if (n < sizeof(Elf64_Ehdr)) {
		WHY("corrupt ELF header: truncated");
		return -1;
	}
	if (eh->e_machine != EM_X86_64) {
		name = machine_name(eh->e_machine);
		WHY("ELF for another architecture (e_machine %u%s%s): only x86-64 programs run",
		    eh->e_machine, name ? ", " : "", name ? name : "");
		return -1;
	}
	if (buf[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT) {
		WHY("corrupt ELF header: version %u", eh->e_version);
		return -1;
	}
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN) {
		WHY("not an executable (ELF type %u: %s)", eh->e_type,
		    type_name(eh->e_type));
		return -1;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr)) {
		WHY("corrupt ELF header: e_phentsize %u, expected %zu",
		    eh->e_phentsize, sizeof(Elf64_Phdr));
		return -1;
	}
	if (eh->e_phnum == 0 || eh->e_phnum > BOX_MAX_PHDRS) {
		WHY("corrupt ELF header: %u program headers", eh->e_phnum);
		return -1;
	}
	return 0;
}

static int prot_of(uint32_t flags)
{
	return (flags & PF_R ? PROT_READ : 0) |
	       (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

static int plan_load(const Elf64_Phdr *ph, unsigned int i,
		     uint64_t file_size, struct box_plan *p, char *why,
		     size_t whylen)
{
	struct box_seg *s;
	uint64_t end;

	if (ph->p_memsz == 0)
		return 0;	/* Linux maps nothing for it either */
	if (ph->p_filesz > ph->p_memsz) {
		WHY("corrupt program header %u: p_filesz > p_memsz", i);
		return -1;
	}
	/* mmap needs the file offset and the address congruent. */
	if ((ph->p_vaddr - ph->p_offset) % BOX_PAGE) {
		WHY("corrupt program header %u: p_vaddr and p_offset differ modulo the page size",
		    i);
		return -1;
	}
	if (ph->p_offset > file_size ||
	    ph->p_filesz > file_size - ph->p_offset) {
		WHY("corrupt program header %u: segment beyond the end of the file",
		    i);
		return -1;
	}
	if (ph->p_vaddr >= BOX_USER_TOP ||
	    ph->p_memsz > BOX_USER_TOP - ph->p_vaddr) {
		WHY("corrupt program header %u: segment outside user space", i);
		return -1;
	}
	if (p->nseg && ph->p_vaddr < p->seg[p->nseg - 1].lo) {
		WHY("corrupt program header %u: PT_LOAD segments not in address order",
		    i);
		return -1;
	}
	if (p->nseg == BOX_MAX_SEGS) {
		WHY("corrupt program headers: more than %d PT_LOAD segments",
		    BOX_MAX_SEGS);
		return -1;
	}
	s = &p->seg[p->nseg++];
	end = ph->p_vaddr + ph->p_memsz;
	s->lo = BOX_PAGE_DOWN(ph->p_vaddr);
	s->hi = BOX_PAGE_UP(end);
	s->file_off = BOX_PAGE_DOWN(ph->p_offset);
	s->prot = prot_of(ph->p_flags);
	if (ph->p_filesz) {
		s->file_hi = BOX_PAGE_UP(ph->p_vaddr + ph->p_filesz);
		/*
		 * Like Linux, the rest of the last file page is zeroed only
		 * when the segment has a bss; otherwise it shows the file.
		 */
		s->zero_lo = ph->p_memsz > ph->p_filesz ?
			     ph->p_vaddr + ph->p_filesz : s->file_hi;
	} else {
		s->file_hi = s->lo;
		s->zero_lo = s->lo;
	}
	/* Only powers of two count, as in Linux's maximum_alignment. */
	if (ph->p_align > p->align && !(ph->p_align & (ph->p_align - 1)))
		p->align = ph->p_align;
	return 0;
}

int box_plan_segments(const Elf64_Ehdr *eh, const Elf64_Phdr *ph,
		      uint64_t file_size, struct box_plan *p, char *why,
		      size_t whylen)
{
	bool have_phdr = false;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->type = eh->e_type;
	p->entry = eh->e_entry;
	p->phnum = eh->e_phnum;
	p->align = BOX_PAGE;
	for (i = 0; i < eh->e_phnum; i++) {
		switch (ph[i].p_type) {
		case PT_LOAD:
			if (plan_load(&ph[i], i, file_size, p, why, whylen))
				return -1;
			/*
			 * AT_PHDR: where the segment that holds the program
			 * headers in the file puts them (Linux 6.x).
			 */
			if (!have_phdr && ph[i].p_offset <= eh->e_phoff &&
			    eh->e_phoff < ph[i].p_offset + ph[i].p_filesz) {
				p->phdr = eh->e_phoff - ph[i].p_offset +
					  ph[i].p_vaddr;
				have_phdr = true;
			}
			break;
		case PT_INTERP:
			if (p->interp_len)
				break;	/* Linux uses the first one */
			if (ph[i].p_filesz < 2 ||
			    ph[i].p_filesz > BOX_INTERP_MAX) {
				WHY("bad PT_INTERP: length %llu",
				    (unsigned long long)ph[i].p_filesz);
				return -1;
			}
			if (ph[i].p_offset > file_size ||
			    ph[i].p_filesz > file_size - ph[i].p_offset) {
				WHY("bad PT_INTERP: beyond the end of the file");
				return -1;
			}
			p->interp_off = ph[i].p_offset;
			p->interp_len = ph[i].p_filesz;
			break;
		case PT_GNU_STACK:
			p->exec_stack = !!(ph[i].p_flags & PF_X);
			break;
		}
	}
	if (!p->nseg) {
		WHY("corrupt program headers: no loadable segment");
		return -1;
	}
	p->lo = p->seg[0].lo;
	for (i = 0; i < p->nseg; i++)
		if (p->seg[i].hi > p->hi)
			p->hi = p->seg[i].hi;
	if (p->entry < p->lo || p->entry >= p->hi) {
		WHY("corrupt ELF header: entry point outside the loadable segments");
		return -1;
	}
	return 0;
}

/* ---- the initial stack ---- */

static size_t count(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int box_stack_build(const struct box_stack_args *a, unsigned char *buf,
		    uint64_t top, size_t size, uint64_t *sp, char *why,
		    size_t whylen)
{
	size_t argc = count(a->argv), envc = count(a->envp);
	uint64_t base = top - size, p, str, args, rnd, plat = 0, *w;
	uint64_t auxv[2 * (BOX_AUXV_MAX + 1)];
	size_t strings = 0, items, len, i, n;

	if (a->nauxv > BOX_AUXV_MAX) {
		WHY("too many auxiliary vector entries");
		return -1;
	}
	/* Linux's limit on argument and environment strings: 1/4 stack. */
	for (i = 0; i < argc; i++)
		strings += strlen(a->argv[i]) + 1;
	for (i = 0; i < envc; i++)
		strings += strlen(a->envp[i]) + 1;
	strings += strlen(a->execfn) + 1;
	if (strings > size / 4 ||
	    (argc + envc + 3 + 2 * (BOX_AUXV_MAX + 1)) * 8 > size / 4) {
		WHY("argument list too long");
		return -1;
	}
#define AT(va) (buf + ((va) - base))
	/* fs/exec.c: the top word stays zero, then the file name. */
	p = top - sizeof(uint64_t);
	memset(AT(p), 0, sizeof(uint64_t));
	len = strlen(a->execfn) + 1;
	p -= len;
	memcpy(AT(p), a->execfn, len);
	str = p;
	/* copy_strings goes from the last string down: envp, then argv. */
	for (i = envc; i-- > 0;) {
		len = strlen(a->envp[i]) + 1;
		p -= len;
		memcpy(AT(p), a->envp[i], len);
	}
	for (i = argc; i-- > 0;) {
		len = strlen(a->argv[i]) + 1;
		p -= len;
		memcpy(AT(p), a->argv[i], len);
	}
	args = p;
	/* create_elf_tables: arch_align_stack, then platform, random. */
	p = (p - a->align_rnd % 8192) & ~15ull;
	if (a->platform) {
		len = strlen(a->platform) + 1;
		p -= len;
		memcpy(AT(p), a->platform, len);
		plat = p;
	}
	p -= 16;
	memcpy(AT(p), a->random, 16);
	rnd = p;

	n = 0;
	for (i = 0; i < a->nauxv; i++) {
		uint64_t v = a->auxv[i].val;

		if (a->auxv[i].type == AT_RANDOM)
			v = rnd;
		else if (a->auxv[i].type == AT_EXECFN)
			v = str;
		else if (a->auxv[i].type == AT_PLATFORM)
			v = plat;
		auxv[n++] = a->auxv[i].type;
		auxv[n++] = v;
	}
	auxv[n++] = AT_NULL;
	auxv[n++] = 0;

	/* STACK_ADD(p, ei_index), then STACK_ROUND(sp, items). */
	items = (argc + 1) + (envc + 1) + 1;
	p = ((p - n * 8) - items * 8) & ~15ull;
	*sp = p;
	w = (uint64_t *)AT(p);
	*w++ = argc;
	/* The strings again, in order, for the pointers. */
	str = args;
	for (i = 0; i < argc; i++) {
		*w++ = str;
		str += strlen(a->argv[i]) + 1;
	}
	*w++ = 0;
	for (i = 0; i < envc; i++) {
		*w++ = str;
		str += strlen(a->envp[i]) + 1;
	}
	*w++ = 0;
	memcpy(w, auxv, n * 8);
#undef AT
	return 0;
}
