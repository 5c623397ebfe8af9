// SPDX-License-Identifier: MIT
/*
 * Per-thread vCPU resources and the vCPU/slot ioctls.  Used by
 * dune_enter and by the host loop when the program makes a thread or
 * forks, so everything here is raw system calls and general registers
 * only (raw.h explains why).
 */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>

#include "fmt.h"
#include "internal.h"
#include "raw.h"

DUNE_NOFPU_BEGIN

static size_t round_page(size_t n)
{
	return (n + DUNE_PAGE - 1) & ~(DUNE_PAGE - 1);
}

static size_t thread_struct_size(void)
{
	return round_page(sizeof(struct dune_thread) + 64 + dune_proc.fpu_size);
}

static const size_t ist_sizes[DUNE_NR_IST] = {
	DUNE_IST_TRAP_STACK, DUNE_IST_SMALL_STACK, DUNE_IST_SMALL_STACK,
	DUNE_IST_SMALL_STACK,
};

struct dune_thread *dune_thread_alloc(void)
{
	size_t size = DUNE_PAGE + DUNE_HOST_STACK + thread_struct_size();
	struct dune_thread *t;
	char *b, *p;
	long r;
	int i;

	for (i = 0; i < DUNE_NR_IST; i++)
		size += DUNE_PAGE + ist_sizes[i];
	r = dune_sys6(SYS_mmap, 0, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r < 0 && r > -4096)
		return NULL;
	b = (char *)r;
	/* The guest must reach all of it: it lies in the mmap window. */
	if (!dune_layout_covers(&dune_proc.layout, (uint64_t)b,
				(uint64_t)b + size)) {
		dune_sys2(SYS_munmap, (long)b, size);
		return NULL;
	}

	t = (struct dune_thread *)(b + size - thread_struct_size());
	t->block = b;
	t->block_size = size;
	t->vcpu_fd = -1;
	/* Overflowing any stack hits a guard page, never its neighbour. */
	p = b;
	dune_sys3(SYS_mprotect, (long)p, DUNE_PAGE, PROT_NONE);
	p += DUNE_PAGE + DUNE_HOST_STACK;
	t->host_stack_top = p;
	for (i = 0; i < DUNE_NR_IST; i++) {
		uint64_t *top;

		dune_sys3(SYS_mprotect, (long)p, DUNE_PAGE, PROT_NONE);
		p += DUNE_PAGE + ist_sizes[i];
		top = (uint64_t *)(p - 16);
		top[0] = (uint64_t)t;
		top[1] = 0;
		t->ist_top[i] = (uint64_t)top;
	}
	t->fpu_area = (uint8_t *)(((uintptr_t)(t + 1) + 63) & ~63ul);
	dune_tss_init(&t->tss, t->ist_top, DUNE_NR_IST);
	dune_gdt_init(t->gdt, &t->tss);
	return t;
}

void dune_thread_free(struct dune_thread *t)
{
	dune_sys2(SYS_munmap, (long)t->block, t->block_size);
}

void dune_vcpu_config_fill(const struct dune_thread *t,
			   struct dune_vcpu_config *c)
{
	dune_bzero(c, sizeof(*c));
	dune_copy(&c->regs, &t->run.regs, sizeof(c->regs));
	/* A fork child resumes on the root its parent had (t->cr3). */
	c->cr3 = t->cr3 ? t->cr3 : dune_proc.cr3;
	/* The guest sees our virtual addresses 1:1 (same page tables). */
	c->gdt_base = (uint64_t)t->gdt;
	c->gdt_limit = sizeof(t->gdt) - 1;
	c->idt_base = (uint64_t)dune_idt;
	c->idt_limit = DUNE_IDT_ENTRIES * sizeof(struct dune_idt_gate) - 1;
	c->tss_base = (uint64_t)&t->tss;
	c->cs = DUNE_SEL_KCODE;
	c->ds = DUNE_SEL_KDATA;
	c->tr = DUNE_SEL_TSS;
	/* Ring 0 runs whenever the host loop does (user.c). */
	c->lstar = (uint64_t)dune_syscall_stub;
	c->star = DUNE_STAR;
	/*
	 * TF, DF, AC and NT off at the entry: ring 3 must not single-step
	 * into its stub.  IF stays on (it does not matter before the stub's
	 * VMCALL or int).  dune_syscall_stub returns with `jmp`, so the host
	 * loop puts the masked flags back from r11 (hostloop.c).
	 */
	c->sfmask = DUNE_SFMASK;
	/* CR3 with PCID 0 and bit 63 clear behaves as without PCIDE. */
	if (dune_proc.caps_flags & DUNE_CAP_PCID)
		c->flags |= DUNE_VCPU_PCID;
	/* WRFSBASE/WRGSBASE in the guest change the thread's bases. */
	c->flags |= DUNE_VCPU_THREAD_BASES;
}

long dune_vcpu_create(struct dune_thread *t)
{
	struct dune_vcpu_config c;

	dune_vcpu_config_fill(t, &c);
	return dune_sys3(SYS_ioctl, dune_proc.dev_fd, DUNE_CREATE_VCPU,
			 (long)&c);
}

long dune_slots_set(int fd, unsigned int *bad)
{
	const struct dune_layout *l = &dune_proc.layout;
	unsigned int i;

	for (i = 0; i < l->nr; i++) {
		struct dune_slot s = {
			.index = i,
			.gpa = l->w[i].gpa,
			.hva = l->w[i].va,
			.size = l->w[i].size,
		};
		long r = dune_sys3(SYS_ioctl, fd, DUNE_SET_SLOT, (long)&s);

		if (r < 0) {
			if (bad)
				*bad = i;
			return r;
		}
	}
	return 0;
}

/*
 * After fork the child holds the parent's /dev/dune and vCPU fds; they
 * are bound to the parent's mm and only keep its resources alive here.
 */
void dune_close_inherited_fds(int keep)
{
	long fd;

	while ((fd = dune_fdguard_next(0, DUNE_FDGUARD_MAX - 1)) >= 0) {
		dune_fdguard_del(fd);
		if (fd != keep)
			dune_sys1(SYS_close, fd);
	}
}

__attribute__((noreturn)) void dune_die_signal(int sig)
{
	struct dune_ksigaction sa = { .handler = SIG_DFL };
	uint64_t set = 1ull << (sig - 1);

	dune_sys4(SYS_rt_sigaction, sig, (long)&sa, 0, sizeof(set));
	dune_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&set, 0, sizeof(set));
	dune_sys3(SYS_tgkill, dune_sys0(SYS_getpid), dune_sys0(SYS_gettid),
		  sig);
	/* Only if the signal did not end us (it should have). */
	dune_sys1(SYS_exit_group, 128 + sig);
	for (;;)
		;
}

const char *dune_errno_name(long err)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
		{ EIO, "EIO" }, { ENXIO, "ENXIO" }, { EBADF, "EBADF" },
		{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
		{ EINVAL, "EINVAL" }, { EMFILE, "EMFILE" },
		{ ENOTTY, "ENOTTY" }, { ENOSPC, "ENOSPC" },
		{ ERANGE, "ERANGE" }, { ENOSYS, "ENOSYS" },
		{ EOVERFLOW, "EOVERFLOW" }, { EPROTO, "EPROTO" },
		{ EOPNOTSUPP, "EOPNOTSUPP" },
	};
	unsigned int i;

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == err)
			return names[i].name;
	return "error";
}

__attribute__((noreturn)) void dune_die_errno(const char *what, long err)
{
	struct dune_out o;

	dune_out_init(&o, 2);
	dune_out_str(&o, "libdune: ");
	dune_out_str(&o, what);
	dune_out_str(&o, " failed: ");
	dune_out_str(&o, dune_errno_name(err));
	dune_out_str(&o, " (");
	dune_out_dec(&o, err < 0 ? -err : err);
	dune_out_str(&o, "); ending the process with SIGSEGV\n");
	dune_out_flush(&o);
	dune_die_signal(SIGSEGV);
}

DUNE_NOFPU_END
