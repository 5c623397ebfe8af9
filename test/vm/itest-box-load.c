// SPDX-License-Identifier: MIT
/*
 * Integration tests for dune-box's loader (box/load.c), natively: no
 * Dune mode is needed to load a program.  A child calls box_load and
 * then starts the loaded image in itself ("userland exec": the
 * registers as the kernel leaves them), and its output and wait status
 * must be those of the same program started with execve.  Static and
 * dynamic, PIE and non-PIE; box-auxv-* print what they find on their
 * initial stack (test/load/box-auxv.c).  Also every error of
 * box_load_check, bss zeroing, and that a failed box_load leaves
 * nothing mapped.  Runs on the host as well (build/bin/itest-box-load).
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <stddef.h>
#include <sys/auxv.h>
#include <sys/stat.h>

#include "itest.h"
#include "load.h"
#include "mem.h"
#include "../unit/box_load_exec.h"

/*
 * A test-only box_mem (the monitor's box/mem.c is not needed to load):
 * it records what box_load hands it.
 */
struct box_mem {
	unsigned int n;
	struct {
		uint64_t lo, hi;
		int prot;
	} r[256];
};

int box_mem_add(struct box_mem *m, uint64_t lo, uint64_t hi, int prot)
{
	if (m->n == 256 || lo >= hi || lo % 4096 || hi % 4096)
		return -1;
	m->r[m->n].lo = lo;
	m->r[m->n].hi = hi;
	m->r[m->n].prot = prot;
	m->n++;
	return 0;
}

static char bindir[PATH_MAX / 2];
static char *const test_env[] = { "BOX_LOAD=1", "LANG=C", "PATH=/bin",
				  NULL };

static void find_bindir(void)
{
	ssize_t n = readlink("/proc/self/exe", bindir, sizeof(bindir) - 1);

	IT_ASSERT(n > 0);
	bindir[n] = 0;
	*strrchr(bindir, '/') = 0;
}

static char *binpath(const char *name)
{
	static char p[4][PATH_MAX];
	static int i;

	find_bindir();
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", bindir, name);
	return p[i];
}

/*
 * Run @path with @argv in a child, by execve or by box_load and a
 * userland exec; its stdout and stderr in @out, its wait status.
 */
static int run(bool box, const char *path, char *const argv[], char *out,
	       size_t outlen)
{
	int pfd[2], st;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	IT_ASSERT(pipe(pfd) == 0);
	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		static struct box_mem mem;
		struct box_image img;
		char err[512];

		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		if (!box) {
			execve(path, argv, test_env);
			_exit(98);
		}
		if (box_load(path, path, argv, test_env, &mem, &img, err,
			     sizeof(err))) {
			dprintf(2, "box_load: %s\n", err);
			_exit(99);
		}
		box_userland_exec(img.entry, img.sp);
	}
	close(pfd[1]);
	while (len < outlen - 1 &&
	       (n = read(pfd[0], out + len, outlen - 1 - len)) > 0)
		len += n;
	out[len] = 0;
	close(pfd[0]);
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	return st;
}

/* The same output and status by execve and by box_load. */
static void same_as_execve(const char *path, char *const argv[],
			   int status)
{
	static char a[65536], b[65536];
	int sa, sb;

	sa = run(false, path, argv, a, sizeof(a));
	sb = run(true, path, argv, b, sizeof(b));
	if (!WIFEXITED(sa) || WEXITSTATUS(sa) != status)
		IT_FAIL("execve %s: status %#x, output:\n%s", path, sa, a);
	if (sa != sb || strcmp(a, b))
		IT_FAIL("%s: execve gave status %#x and\n%s\nbox_load gave status %#x and\n%s",
			path, sa, a, sb, b);
	/* box-auxv's relations must all hold */
	if (strstr(a, ": no\n"))
		IT_FAIL("%s: a relation does not hold:\n%s", path, a);
}

static void test_static_busybox(void)
{
	char *argv[] = { "echo", "hello", "from", "busybox", NULL };

	same_as_execve("/bin/busybox", argv, 0);
}

static void test_dynamic_echo(void)
{
	char *argv[] = { "dyn-echo", "hello", "dynamic", "world", NULL };

	same_as_execve(binpath("dyn-echo"), argv, 0);
}

static void auxv(const char *name)
{
	char *argv[] = { (char *)name, "first arg", "", "third", NULL };

	same_as_execve(binpath(name), argv, 3);
}

static void test_auxv_static(void)
{
	auxv("box-auxv-static");
}

static void test_auxv_static_pie(void)
{
	auxv("box-auxv-static-pie");
}

static void test_auxv_pie(void)
{
	auxv("box-auxv-pie");
}

static void test_auxv_nopie(void)
{
	auxv("box-auxv-nopie");
}

/* Where box_load put things, and what it recorded. */
static void test_image(void)
{
	char *argv[] = { "box-auxv-pie", NULL };
	static struct box_mem mem;
	struct box_image img;
	bool stack = false, vdso = false, exe = false;
	char err[512];
	unsigned int i;

	struct rlimit rl;

	/* the stack's size follows RLIMIT_STACK */
	IT_ASSERT(getrlimit(RLIMIT_STACK, &rl) == 0);
	rl.rlim_cur = 4 << 20;
	IT_ASSERT(setrlimit(RLIMIT_STACK, &rl) == 0);
	IT_ASSERT(box_load(binpath("box-auxv-pie"), "box-auxv-pie", argv,
			   test_env, &mem, &img, err, sizeof(err)) == 0);
	/* a PIE with an interpreter: at 2/3 of user space, plus < 1 TiB */
	IT_ASSERT(img.exe_base >= 0x555555554000ull &&
		  img.exe_base < 0x555555554000ull + (1ull << 40));
	IT_ASSERT(img.interp_base && img.interp_base % 4096 == 0);
	IT_ASSERT(img.entry != img.exe_base);
	IT_ASSERT(img.brk % 4096 == 0 && img.brk > img.exe_base &&
		  img.brk < img.exe_base + (64ull << 20));
	IT_ASSERT(img.sp % 16 == 0 && img.sp > img.stack_lo &&
		  img.sp < img.stack_hi);
	IT_ASSERT_EQ(*(uint64_t *)img.sp, 1);		/* argc */
	IT_ASSERT_EQ(img.stack_hi - img.stack_lo, 4 << 20);
	IT_ASSERT_EQ(img.vdso, getauxval(AT_SYSINFO_EHDR));
	for (i = 0; i < mem.n; i++) {
		if (i)
			IT_ASSERT(mem.r[i].lo >= mem.r[i - 1].hi);
		if (mem.r[i].lo == img.stack_lo)
			stack = mem.r[i].hi == img.stack_hi &&
				mem.r[i].prot == (PROT_READ | PROT_WRITE);
		if (mem.r[i].lo <= img.vdso && img.vdso < mem.r[i].hi)
			vdso = mem.r[i].prot == (PROT_READ | PROT_EXEC);
		if (mem.r[i].lo <= img.entry && img.entry < mem.r[i].hi)
			exe = mem.r[i].prot == (PROT_READ | PROT_EXEC);
	}
	IT_ASSERT(stack && vdso && exe);
}

/* ---- synthetic programs ---- */

#define SYN_VA 0x10000000ull

/*
 * A tiny ET_EXEC file: one RW segment at SYN_VA whose file part ends
 * mid-page (the rest of that page in the file is 0xaa) followed by a
 * bss, and one read-only segment with a bss of its own.
 */
static void make_synthetic(const char *path)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[2];
	} h;
	static unsigned char file[3 * 4096];
	int fd;

	memset(&h, 0, sizeof(h));
	memset(file, 0xaa, sizeof(file));
	memcpy(h.eh.e_ident, ELFMAG, SELFMAG);
	h.eh.e_ident[EI_CLASS] = ELFCLASS64;
	h.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	h.eh.e_ident[EI_VERSION] = EV_CURRENT;
	h.eh.e_type = ET_EXEC;
	h.eh.e_machine = EM_X86_64;
	h.eh.e_version = EV_CURRENT;
	h.eh.e_entry = SYN_VA + 0x100;
	h.eh.e_phoff = sizeof(Elf64_Ehdr);
	h.eh.e_ehsize = sizeof(Elf64_Ehdr);
	h.eh.e_phentsize = sizeof(Elf64_Phdr);
	h.eh.e_phnum = 2;
	h.ph[0].p_type = PT_LOAD;
	h.ph[0].p_flags = PF_R | PF_W | PF_X;
	h.ph[0].p_offset = 0;
	h.ph[0].p_vaddr = SYN_VA;
	h.ph[0].p_filesz = 0x1800;
	h.ph[0].p_memsz = 0x3000;
	h.ph[0].p_align = 4096;
	h.ph[1].p_type = PT_LOAD;
	h.ph[1].p_flags = PF_R;
	h.ph[1].p_offset = 0x2000;
	h.ph[1].p_vaddr = SYN_VA + 0x10000;
	h.ph[1].p_filesz = 0x100;
	h.ph[1].p_memsz = 0x2000;
	h.ph[1].p_align = 4096;
	memcpy(file, &h, sizeof(h));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(write(fd, file, sizeof(file)), sizeof(file));
	close(fd);
}

static bool all(const unsigned char *p, size_t n, unsigned char v)
{
	while (n--)
		if (*p++ != v)
			return false;
	return true;
}

static void test_bss(void)
{
	const char *path = "/tmp/box-load-syn";
	char *argv[] = { "syn", NULL };
	static struct box_mem mem;
	struct box_image img;
	const unsigned char *va = (const unsigned char *)SYN_VA;
	char err[512], line[256], want[64];
	bool ro = false;
	FILE *maps;

	make_synthetic(path);
	IT_ASSERT(box_load(path, path, argv, test_env, &mem, &img, err,
			   sizeof(err)) == 0);
	IT_ASSERT_EQ(img.exe_base, 0);
	IT_ASSERT_EQ(img.interp_base, 0);
	IT_ASSERT_EQ(img.entry, SYN_VA + 0x100);
	IT_ASSERT(all(va + sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr),
		      0x1800 - sizeof(Elf64_Ehdr) - 2 * sizeof(Elf64_Phdr),
		      0xaa));
	IT_ASSERT(all(va + 0x1800, 0x3000 - 0x1800, 0));	/* bss */
	IT_ASSERT(all(va + 0x10000, 0x100, 0xaa));
	IT_ASSERT(all(va + 0x10100, 0x2000 - 0x100, 0));	/* RO bss */
	/* the gap between the segments is recorded PROT_NONE */
	IT_ASSERT_EQ(mem.r[0].lo, SYN_VA);
	IT_ASSERT_EQ(mem.r[0].hi, SYN_VA + 0x3000);
	IT_ASSERT_EQ(mem.r[0].prot, PROT_READ | PROT_WRITE | PROT_EXEC);
	IT_ASSERT_EQ(mem.r[1].lo, SYN_VA + 0x3000);
	IT_ASSERT_EQ(mem.r[1].prot, 0);
	IT_ASSERT_EQ(mem.r[2].lo, SYN_VA + 0x10000);
	IT_ASSERT_EQ(mem.r[2].hi, SYN_VA + 0x12000);
	IT_ASSERT_EQ(mem.r[2].prot, PROT_READ);
	/* and the read-only segment is read-only again after zeroing */
	snprintf(want, sizeof(want), "%llx-%llx r--p",
		 SYN_VA + 0x10000, SYN_VA + 0x11000);
	maps = fopen("/proc/self/maps", "r");
	IT_ASSERT(maps);
	while (fgets(line, sizeof(line), maps))
		ro |= !strncmp(line, want, strlen(want));
	fclose(maps);
	IT_ASSERT(ro);
	unlink(path);
}

/* A failed box_load leaves nothing mapped and nothing recorded. */
static void test_failure_unmaps(void)
{
	const char *path = "/tmp/box-load-syn2";
	static char big[3 << 20];
	char *argv[] = { "syn", big, NULL };
	static struct box_mem mem;
	struct box_image img;
	char err[512];
	void *m;

	make_synthetic(path);
	memset(big, 'x', sizeof(big) - 1);
	IT_ASSERT(box_load(path, path, argv, test_env, &mem, &img, err,
			   sizeof(err)) == -1);
	if (!strstr(err, path) || !strstr(err, "argument list too long"))
		IT_FAIL("message: %s", err);
	IT_ASSERT_EQ(mem.n, 0);
	m = mmap((void *)SYN_VA, 0x20000, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	IT_ASSERT(m == (void *)SYN_VA);
	unlink(path);
}

/* ---- box_load_check's errors ---- */

static char dir[] = "/tmp/box-load-XXXXXX";

static void copy_file(const char *from, const char *to, int mode)
{
	static char buf[1 << 16];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	IT_ASSERT(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	IT_ASSERT(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		IT_ASSERT_EQ(write(out, buf, n), n);
	close(in);
	close(out);
	IT_ASSERT(chmod(to, mode) == 0);
}

static void patch(const char *path, off_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY);

	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(pwrite(fd, p, n, off), n);
	close(fd);
}

static void read_ehdr(const char *path, Elf64_Ehdr *eh)
{
	int fd = open(path, O_RDONLY);

	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(pread(fd, eh, sizeof(*eh), 0), sizeof(*eh));
	close(fd);
}

/* Index of the first program header of @type in @path, and it. */
static int find_ph(const char *path, unsigned int type, Elf64_Phdr *ph)
{
	Elf64_Ehdr eh;
	int fd, i;

	read_ehdr(path, &eh);
	fd = open(path, O_RDONLY);
	IT_ASSERT(fd >= 0);
	for (i = 0; i < eh.e_phnum; i++) {
		IT_ASSERT_EQ(pread(fd, ph, sizeof(*ph),
				   eh.e_phoff + i * sizeof(*ph)),
			     sizeof(*ph));
		if (ph->p_type == type) {
			close(fd);
			return i;
		}
	}
	IT_FAIL("%s has no program header of type %u", path, type);
}

static void expect_error(const char *path, const char *reason)
{
	char err[1024];

	err[0] = 0;
	if (box_load_check(path, err, sizeof(err)) != -1)
		IT_FAIL("box_load_check(%s) accepted it", path);
	if (strncmp(err, path, strlen(path)) || !strstr(err, reason))
		IT_FAIL("box_load_check(%s): \"%s\", expected the path and \"%s\"",
			path, err, reason);
	printf("    %s\n", err);
}

static char *tmp(const char *name)
{
	static char p[8][PATH_MAX];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void test_check_errors(void)
{
	const char *stat = binpath("box-auxv-static");
	const char *pie = binpath("box-auxv-pie");
	unsigned char b;
	uint16_t h;
	uint64_t q;
	Elf64_Phdr ph;
	Elf64_Ehdr eh;
	char err[512];
	int i, fd;

	IT_ASSERT(mkdtemp(dir));
	IT_ASSERT(box_load_check(stat, err, sizeof(err)) == 0);
	IT_ASSERT(box_load_check(pie, err, sizeof(err)) == 0);
	IT_ASSERT(box_load_check("/bin/busybox", err, sizeof(err)) == 0);

	expect_error(tmp("missing"), "No such file or directory");
	expect_error(dir, "not a regular file");
	copy_file(stat, tmp("noexec"), 0644);
	expect_error(tmp("noexec"), "not executable");
	fd = open(tmp("text"), O_WRONLY | O_CREAT, 0755);
	IT_ASSERT(fd >= 0 && write(fd, "hello\n", 6) == 6);
	close(fd);
	expect_error(tmp("text"), "not an ELF file");
	fd = open(tmp("script"), O_WRONLY | O_CREAT, 0755);
	IT_ASSERT(fd >= 0 && write(fd, "#!/bin/sh\necho\n", 15) == 15);
	close(fd);
	expect_error(tmp("script"), "not an ELF file (a script");
	fd = open(tmp("short"), O_WRONLY | O_CREAT, 0755);
	IT_ASSERT(fd >= 0 && write(fd, "\177ELF\2\1\1", 7) == 7);
	close(fd);
	expect_error(tmp("short"), "corrupt ELF header: truncated");

	copy_file(stat, tmp("elf32"), 0755);
	b = ELFCLASS32;
	patch(tmp("elf32"), EI_CLASS, &b, 1);
	expect_error(tmp("elf32"), "32-bit ELF");
	copy_file(stat, tmp("bigendian"), 0755);
	b = ELFDATA2MSB;
	patch(tmp("bigendian"), EI_DATA, &b, 1);
	expect_error(tmp("bigendian"), "big-endian");
	copy_file(stat, tmp("aarch64"), 0755);
	h = EM_AARCH64;
	patch(tmp("aarch64"), offsetof(Elf64_Ehdr, e_machine), &h, 2);
	expect_error(tmp("aarch64"), "another architecture (e_machine 183, AArch64)");
	copy_file(stat, tmp("rel"), 0755);
	h = ET_REL;
	patch(tmp("rel"), offsetof(Elf64_Ehdr, e_type), &h, 2);
	expect_error(tmp("rel"), "not an executable (ELF type 1: ET_REL");
	copy_file(stat, tmp("phentsize"), 0755);
	h = 32;
	patch(tmp("phentsize"), offsetof(Elf64_Ehdr, e_phentsize), &h, 2);
	expect_error(tmp("phentsize"), "corrupt ELF header: e_phentsize 32");
	copy_file(stat, tmp("phoff"), 0755);
	q = 1ull << 40;
	patch(tmp("phoff"), offsetof(Elf64_Ehdr, e_phoff), &q, 8);
	expect_error(tmp("phoff"), "program headers beyond the end of the file");
	copy_file(stat, tmp("entry"), 0755);
	q = 0x1000;
	patch(tmp("entry"), offsetof(Elf64_Ehdr, e_entry), &q, 8);
	expect_error(tmp("entry"), "entry point outside");

	/* program headers */
	read_ehdr(stat, &eh);
	copy_file(stat, tmp("segment"), 0755);
	i = find_ph(stat, PT_LOAD, &ph);
	ph.p_filesz = 1ull << 40;
	ph.p_memsz = 1ull << 41;
	patch(tmp("segment"), eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
	expect_error(tmp("segment"), "segment beyond the end of the file");
	copy_file(stat, tmp("filesz"), 0755);
	i = find_ph(stat, PT_LOAD, &ph);
	ph.p_filesz = ph.p_memsz + 1;
	patch(tmp("filesz"), eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
	expect_error(tmp("filesz"), "p_filesz > p_memsz");
	copy_file(stat, tmp("congruent"), 0755);
	i = find_ph(stat, PT_LOAD, &ph);
	ph.p_offset += 8;
	patch(tmp("congruent"), eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
	expect_error(tmp("congruent"), "differ modulo the page size");
	copy_file(stat, tmp("noload"), 0755);
	for (i = 0; i < eh.e_phnum; i++) {
		uint32_t t = PT_NULL;

		patch(tmp("noload"), eh.e_phoff + i * sizeof(ph), &t, 4);
	}
	expect_error(tmp("noload"), "no loadable segment");

	/* PT_INTERP */
	read_ehdr(pie, &eh);
	copy_file(pie, tmp("interp-missing"), 0755);
	i = find_ph(pie, PT_INTERP, &ph);
	patch(tmp("interp-missing"), ph.p_offset, "/nonexistent/ld.so", 19);
	ph.p_filesz = 19;
	patch(tmp("interp-missing"), eh.e_phoff + i * sizeof(ph), &ph,
	      sizeof(ph));
	expect_error(tmp("interp-missing"),
		     "bad PT_INTERP: /nonexistent/ld.so: No such file or directory");
	copy_file(pie, tmp("interp-nul"), 0755);
	patch(tmp("interp-nul"), ph.p_offset + 3, "", 1);
	expect_error(tmp("interp-nul"), "bad PT_INTERP: not a NUL-terminated path");
	copy_file(pie, tmp("interp-len"), 0755);
	ph.p_filesz = 1;
	patch(tmp("interp-len"), eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
	expect_error(tmp("interp-len"), "bad PT_INTERP: length 1");
	/* an interpreter that is itself a dynamic program, or not ELF */
	copy_file(pie, tmp("interp-dyn"), 0755);
	find_ph(pie, PT_INTERP, &ph);
	snprintf(err, sizeof(err), "%s", pie);
	ph.p_filesz = strlen(err) + 1;
	{
		int fd2 = open(tmp("interp-dyn"), O_WRONLY | O_APPEND);
		off_t end = lseek(fd2, 0, SEEK_END);

		IT_ASSERT(write(fd2, err, ph.p_filesz) == (ssize_t)ph.p_filesz);
		close(fd2);
		ph.p_offset = end;
		patch(tmp("interp-dyn"), eh.e_phoff + i * sizeof(ph), &ph,
		      sizeof(ph));
	}
	expect_error(tmp("interp-dyn"), "has a PT_INTERP of its own");
	copy_file(tmp("interp-dyn"), tmp("interp-text"), 0755);
	patch(tmp("interp-text"), ph.p_offset, tmp("text"),
	      strlen(tmp("text")) + 1);
	ph.p_filesz = strlen(tmp("text")) + 1;
	patch(tmp("interp-text"), eh.e_phoff + i * sizeof(ph), &ph,
	      sizeof(ph));
	expect_error(tmp("interp-text"), "bad PT_INTERP: ");
	expect_error(tmp("interp-text"), "/text: not an ELF file");
	IT_ASSERT(itest_sh("rm -rf %s", dir) == 0);
}

static const struct itest tests[] = {
	{ "static_busybox", test_static_busybox },
	{ "dynamic_echo", test_dynamic_echo },
	{ "auxv_static", test_auxv_static },
	{ "auxv_static_pie", test_auxv_static_pie },
	{ "auxv_pie", test_auxv_pie },
	{ "auxv_nopie", test_auxv_nopie },
	{ "image", test_image },
	{ "bss", test_bss },
	{ "failure_unmaps", test_failure_unmaps },
	{ "check_errors", test_check_errors },
};

ITEST_MAIN(tests)
