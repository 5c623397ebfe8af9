// SPDX-License-Identifier: MIT
/*
 * The original libdune's ELF API (libdune/elf.h), used as the original's
 * sandbox used it: dune_init(0) (pgroot supervisor-only), open a static
 * ELF (from its file, or from memory), map each PT_LOAD with
 * dune_elf_load_ph, make it ring-3 accessible in pgroot, and run it at
 * ring 3 with dune_jump_to_user; a system-call
 * handler serves its write and exit.  Its output and exit code are
 * checked.  Then the original's error behaviour for bad images (return
 * codes and the messages it printed on stdout), and the section walk.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "test/vm/itest.h"
#include "libdune/dune.h"
#include "libdune/elf.h"

#define PG 4096ul
#define PG_DOWN(x) ((uintptr_t)(x) & ~(PG - 1))
#define PG_UP(x) PG_DOWN((uintptr_t)(x) + PG - 1)
#define USTACK (64 * 1024)

static const char expected[] = "hello from an ELF at ring 3\n";

static char bin[512];

static const char *hello_path(void)
{
	ssize_t n = readlink("/proc/self/exe", bin, sizeof(bin) - 32);

	IT_ASSERT(n > 0);
	bin[n] = 0;
	strcpy(strrchr(bin, '/'), "/compat-elf-hello");
	return bin;
}

/* ---- ring 3 ---- */

static char out[256];
static size_t outlen;

static void syscall_handler(struct dune_tf *tf)
{
	switch (tf->rax) {
	case SYS_write:
		/* the handler runs at ring 0 and reads the ring-3 buffer */
		if (tf->rdi != 1 || tf->rdx > sizeof(out) - outlen) {
			tf->rax = -EINVAL;
			break;
		}
		memcpy(out + outlen, (void *)tf->rsi, tf->rdx);
		outlen += tf->rdx;
		tf->rax = tf->rdx;
		break;
	case SYS_exit:
	case SYS_exit_group:
		dune_ret_from_user((int)tf->rdi);
	default:
		tf->rax = -ENOSYS;
	}
}

static int load_segment(struct dune_elf *elf, Elf64_Phdr *phdr)
{
	int perm = PERM_U, ret;
	uintptr_t lo, hi;

	if (phdr->p_type != PT_LOAD)
		return 0;
	ret = dune_elf_load_ph(elf, phdr, 0);
	if (ret)
		return ret;
	if (phdr->p_flags & PF_R)
		perm |= PERM_R;
	if (phdr->p_flags & PF_W)
		perm |= PERM_W;
	if (phdr->p_flags & PF_X)
		perm |= PERM_X;
	lo = PG_DOWN(phdr->p_vaddr);
	hi = PG_UP(phdr->p_vaddr + phdr->p_memsz);
	return dune_vm_mprotect(pgroot, (void *)lo, hi - lo, perm);
}

static void run_ring3(struct dune_elf *elf)
{
	struct dune_tf tf;
	char *stack;

	IT_ASSERT_EQ(elf->hdr.e_type, ET_EXEC);
	IT_ASSERT_EQ(dune_elf_iter_ph(elf, load_segment), 0);
	stack = mmap(NULL, USTACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	IT_ASSERT(stack != MAP_FAILED);
	IT_ASSERT_EQ(dune_vm_mprotect(pgroot, stack, USTACK, PERM_USTACK), 0);
	dune_register_syscall_handler(syscall_handler);

	memset(&tf, 0, sizeof(tf));
	tf.rip = elf->hdr.e_entry;
	tf.rsp = (uint64_t)stack + USTACK;
	tf.rflags = 0x202;
	IT_ASSERT_EQ(dune_jump_to_user(&tf), 42);
	out[outlen] = 0;
	if (strcmp(out, expected))
		IT_FAIL("ring 3 wrote \"%s\"", out);
}

static void test_run_file(void)
{
	struct dune_elf elf;

	IT_ASSERT_EQ(dune_init(0), 0);
	IT_ASSERT_EQ(dune_enter(), 0);
	IT_ASSERT_EQ(dune_elf_open(&elf, hello_path()), 0);
	run_ring3(&elf);
	IT_ASSERT_EQ(dune_elf_close(&elf), 0);
}

static unsigned char *read_all(const char *path, int *len)
{
	struct stat st;
	unsigned char *p;
	int fd = open(path, O_RDONLY);

	IT_ASSERT(fd >= 0 && fstat(fd, &st) == 0);
	p = malloc(st.st_size);
	IT_ASSERT(p && read(fd, p, st.st_size) == st.st_size);
	close(fd);
	*len = st.st_size;
	return p;
}

static void test_run_mem(void)
{
	struct dune_elf elf;
	unsigned char *img;
	int len;

	img = read_all(hello_path(), &len);
	IT_ASSERT_EQ(dune_init(0), 0);
	IT_ASSERT_EQ(dune_enter(), 0);
	IT_ASSERT_EQ(dune_elf_open_mem(&elf, img, len), 0);
	run_ring3(&elf);
	IT_ASSERT_EQ(dune_elf_close(&elf), 0);
	free(img);
}

/* ---- the original's error behaviour ---- */

static char printed[16384];

/* @fn's return value; what it printed on stdout in printed[]. */
static int stdout_of(int (*fn)(const void *), const void *arg)
{
	char path[] = "/tmp/compat-elf-XXXXXX";
	int fd = mkstemp(path), saved, ret;
	ssize_t n;

	IT_ASSERT(fd >= 0);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	ret = fn(arg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, printed, sizeof(printed) - 1, 0);
	printed[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(path);
	return ret;
}

static int open_path(const void *path)
{
	struct dune_elf elf;
	int ret = dune_elf_open(&elf, path);

	if (!ret)
		dune_elf_close(&elf);
	return ret;
}

struct image {
	unsigned char *p;
	int len;
};

static int open_image(const void *arg)
{
	const struct image *im = arg;
	struct dune_elf elf;
	int ret = dune_elf_open_mem(&elf, im->p, im->len);

	if (!ret)
		dune_elf_close(&elf);
	return ret;
}

/* dune_elf_iter_ph on a good header with a patched e_phentsize/e_phnum */
static int count_ph(struct dune_elf *elf, Elf64_Phdr *ph)
{
	(*(int *)elf->priv)++;
	return 0;
}

static int iter_image(const void *arg)
{
	const struct image *im = arg;
	struct dune_elf elf;
	int n = 0, ret;

	IT_ASSERT_EQ(dune_elf_open_mem(&elf, im->p, im->len), 0);
	elf.priv = &n;
	ret = dune_elf_iter_ph(&elf, count_ph);
	dune_elf_close(&elf);
	return ret ? ret : n;
}

static void expect(int ret, int want, const char *msg)
{
	if (ret != want || strcmp(printed, msg))
		IT_FAIL("returned %d, printed \"%s\"; expected %d and \"%s\"",
			ret, printed, want, msg);
}

static void test_bad_images(void)
{
	struct image im, bad;
	Elf64_Ehdr *eh;
	char path[] = "/tmp/compat-elf-short-XXXXXX";
	char msg[600];
	int fd;

	im.p = read_all(hello_path(), &im.len);
	bad.p = malloc(im.len);
	IT_ASSERT(bad.p);
	eh = (Elf64_Ehdr *)bad.p;

	expect(stdout_of(open_path, "/nonexistent/elf"), -EIO,
	       "elf: unable to open '/nonexistent/elf'\n");
	fd = mkstemp(path);
	IT_ASSERT(fd >= 0 && write(fd, im.p, 10) == 10);
	close(fd);
	expect(stdout_of(open_path, path), -EIO,
	       "elf: failed to read header\n");
	unlink(path);
	snprintf(msg, sizeof(msg), "%s", hello_path());
	expect(stdout_of(open_path, msg), 0, "");

	bad.len = im.len;
	memcpy(bad.p, im.p, im.len);
	expect(stdout_of(open_image, &bad), 0, "");
	bad.len = sizeof(Elf64_Ehdr) - 1;
	expect(stdout_of(open_image, &bad), -EIO,
	       "elf: failed to read header\n");
	bad.len = im.len;
	bad.p[EI_CLASS] = ELFCLASS32;
	expect(stdout_of(open_image, &bad), -EINVAL,
	       "elf: failed image sanity check\n");
	memcpy(bad.p, im.p, im.len);
	bad.p[0] = 'X';
	expect(stdout_of(open_image, &bad), -EINVAL,
	       "elf: failed image sanity check\n");
	memcpy(bad.p, im.p, im.len);
	bad.p[EI_DATA] = ELFDATA2MSB;
	expect(stdout_of(open_image, &bad), -EINVAL,
	       "elf: failed image sanity check\n");
	memcpy(bad.p, im.p, im.len);
	eh->e_machine = EM_AARCH64;
	expect(stdout_of(open_image, &bad), -EINVAL,
	       "elf: unsupported architecture\n");

	/* program headers */
	memcpy(bad.p, im.p, im.len);
	expect(stdout_of(iter_image, &bad), eh->e_phnum, "");
	eh->e_phentsize = 32;
	expect(stdout_of(iter_image, &bad), -EINVAL,
	       "elf: unexpected phdr size\n");
	memcpy(bad.p, im.p, im.len);
	eh->e_phnum = 41;
	expect(stdout_of(iter_image, &bad), -EINVAL, "");
	memcpy(bad.p, im.p, im.len);
	eh->e_phoff = im.len - 8;
	expect(stdout_of(iter_image, &bad), -EIO,
	       "elf: failed to read program header table\n");
	free(bad.p);
	free(im.p);
}

static void test_load_ph_errors(void)
{
	struct dune_elf elf;
	Elf64_Phdr ph;

	IT_ASSERT_EQ(dune_elf_open(&elf, hello_path()), 0);
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_NOTE;
	IT_ASSERT_EQ(dune_elf_load_ph(&elf, &ph, 0), -EINVAL);
	ph.p_type = PT_LOAD;
	ph.p_filesz = 2;
	ph.p_memsz = 1;
	IT_ASSERT_EQ(dune_elf_load_ph(&elf, &ph, 0), -EINVAL);
	IT_ASSERT_EQ(dune_elf_close(&elf), 0);
}

/* The section walk, with names, as the original's dune_elf_iter_sh. */
static int find_sections(struct dune_elf *elf, const char *name, int n,
			 Elf64_Shdr *sh)
{
	int *seen = elf->priv;

	if (!strcmp(name, ".text") && sh->sh_type == SHT_PROGBITS &&
	    sh->sh_addr <= elf->hdr.e_entry &&
	    elf->hdr.e_entry < sh->sh_addr + sh->sh_size)
		seen[0] = n;
	if (!strcmp(name, ".bss") && sh->sh_type == SHT_NOBITS)
		seen[1] = n;
	return 0;
}

static int dump(const void *path)
{
	struct dune_elf elf;
	int ret;

	IT_ASSERT_EQ(dune_elf_open(&elf, path), 0);
	ret = dune_elf_dump(&elf);
	dune_elf_close(&elf);
	return ret;
}

static void test_sections(void)
{
	struct dune_elf elf;
	int seen[2] = { 0, 0 };

	IT_ASSERT_EQ(dune_elf_open(&elf, hello_path()), 0);
	elf.priv = seen;
	IT_ASSERT_EQ(dune_elf_iter_sh(&elf, find_sections), 0);
	IT_ASSERT(seen[0] > 0 && seen[1] > 0);
	IT_ASSERT_EQ(dune_elf_close(&elf), 0);
	IT_ASSERT_EQ(stdout_of(dump, hello_path()), 0);
	IT_ASSERT(strstr(printed, "Section Headers:") &&
		  strstr(printed, "Program Headers:") &&
		  strstr(printed, " .text "));
}

static const struct itest tests[] = {
	{ "run_file", test_run_file },
	{ "run_mem", test_run_mem },
	{ "bad_images", test_bad_images },
	{ "load_ph_errors", test_load_ph_errors },
	{ "sections", test_sections },
};

ITEST_MAIN(tests)
