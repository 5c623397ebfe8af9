// SPDX-License-Identifier: MIT
/*
 * box-auxv: print what a freshly exec'd program finds on its initial
 * stack, as relations and values that do not change between runs (no
 * addresses): argv, envp, the auxiliary vector's types in order, and how
 * the pieces lie relative to each other and to the program.  Built
 * static, static-pie, dynamic PIE and dynamic non-PIE (Makefile); the
 * loader test (itest-box-load) compares its output after box_load with
 * its output after execve.  Exits with status 3.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern const ElfW(Ehdr) __ehdr_start;
extern char _start[];
extern char **environ;

static const char *yes(int c)
{
	return c ? "yes" : "no";
}

static uintptr_t ldso_base;

static int find_ldso(struct dl_phdr_info *info, size_t size, void *data)
{
	if (strstr(info->dlpi_name, "ld-linux"))
		ldso_base = info->dlpi_addr;
	return 0;
}

int main(int argc, char **argv)
{
	char **envp = argv + argc + 1, *end;
	const char *execfn, *platform;
	const unsigned char *random;
	ElfW(auxv_t) *av, *a;
	uintptr_t sp = (uintptr_t)argv - sizeof(long);
	int envc, i;

	printf("argc %d\n", argc);
	for (i = 0; i < argc; i++)
		printf("argv[%d] \"%s\"\n", i, argv[i]);
	for (envc = 0; envp[envc]; envc++)
		printf("envp[%d] \"%s\"\n", envc, envp[envc]);
	printf("environ == envp: %s\n", yes(environ == envp));
	av = (ElfW(auxv_t) *)(envp + envc + 1);
	printf("auxv types:");
	for (a = av; a->a_type != AT_NULL; a++)
		printf(" %lu", (unsigned long)a->a_type);
	printf("\n");

	printf("initial rsp %% 16 == 0: %s\n", yes(sp % 16 == 0));
	printf("AT_PHDR == program headers: %s\n",
	       yes(getauxval(AT_PHDR) ==
		   (uintptr_t)&__ehdr_start + __ehdr_start.e_phoff));
	printf("AT_PHENT %lu\n", getauxval(AT_PHENT));
	printf("AT_PHNUM == e_phnum: %s\n",
	       yes(getauxval(AT_PHNUM) == __ehdr_start.e_phnum));
	printf("AT_ENTRY == _start: %s\n",
	       yes(getauxval(AT_ENTRY) == (uintptr_t)_start));
	dl_iterate_phdr(find_ldso, NULL);
	if (ldso_base)
		printf("AT_BASE == ld.so's load address: %s\n",
		       yes(getauxval(AT_BASE) == ldso_base));
	else
		printf("AT_BASE %lu\n", getauxval(AT_BASE));
	printf("AT_PAGESZ %lu AT_CLKTCK %lu AT_FLAGS %lu AT_SECURE %lu\n",
	       getauxval(AT_PAGESZ), getauxval(AT_CLKTCK),
	       getauxval(AT_FLAGS), getauxval(AT_SECURE));
	printf("AT_UID/EUID/GID/EGID are ours: %s\n",
	       yes(getauxval(AT_UID) == getuid() &&
		   getauxval(AT_EUID) == geteuid() &&
		   getauxval(AT_GID) == getgid() &&
		   getauxval(AT_EGID) == getegid()));
	printf("AT_HWCAP %#lx AT_HWCAP2 %#lx AT_MINSIGSTKSZ %lu\n",
	       getauxval(AT_HWCAP), getauxval(AT_HWCAP2), getauxval(51));
	printf("AT_RSEQ_FEATURE_SIZE %lu AT_RSEQ_ALIGN %lu\n",
	       getauxval(27), getauxval(28));
	printf("AT_SYSINFO_EHDR is an ELF image: %s\n",
	       yes(getauxval(AT_SYSINFO_EHDR) &&
		   !memcmp((void *)getauxval(AT_SYSINFO_EHDR), ELFMAG,
			   SELFMAG)));

	/* The strings: argv, envp, AT_EXECFN, contiguous, at the top. */
	execfn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN \"%s\"\n", execfn);
	end = argv[0];
	for (i = 0; i < argc; i++) {
		if (argv[i] != end)
			break;
		end += strlen(argv[i]) + 1;
	}
	for (i = 0; i < envc && i >= 0; i++) {
		if (envp[i] != end)
			break;
		end += strlen(envp[i]) + 1;
	}
	printf("argv, envp, AT_EXECFN strings contiguous: %s\n",
	       yes(end == execfn));
	end = (char *)execfn + strlen(execfn) + 1;
	printf("one zero word, then the page-aligned top: %s\n",
	       yes(*(long *)end == 0 &&
		   ((uintptr_t)end + sizeof(long)) % 4096 == 0));

	/* Below the strings: the platform string, then AT_RANDOM. */
	platform = (const char *)getauxval(AT_PLATFORM);
	random = (const unsigned char *)getauxval(AT_RANDOM);
	printf("AT_PLATFORM \"%s\"\n", platform ? platform : "(none)");
	printf("AT_PLATFORM right above AT_RANDOM's 16 bytes: %s\n",
	       yes(platform && (uintptr_t)platform == (uintptr_t)random + 16));
	printf("gap below the strings < 8192 + 16: %s\n",
	       yes(platform && (uintptr_t)argv[0] > (uintptr_t)platform &&
		   (uintptr_t)argv[0] - ((uintptr_t)platform +
					 strlen(platform) + 1) < 8192 + 16));
	printf("auxv ends less than 16 bytes below AT_RANDOM: %s\n",
	       yes((uintptr_t)random >= (uintptr_t)(a + 1) &&
		   (uintptr_t)random - (uintptr_t)(a + 1) < 16));
	for (i = 0; i < 16 && random && !random[i]; i++)
		;
	printf("AT_RANDOM not all zero: %s\n", yes(i < 16));
	fflush(stdout);
	return 3;
}
