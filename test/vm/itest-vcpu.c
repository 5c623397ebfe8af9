// SPDX-License-Identifier: MIT
/*
 * Integration tests of dune.ko's vCPU interface, without libdune: a tiny
 * hand-made guest (vcpu-guest.h).  This pins down the kernel side: VMCALL
 * exits, EPT faults, CPUID, fatal exits, stats, vCPU ownership, VT-x held
 * by kvm, migration and hotplug, tracepoints, and every kind of bad input
 * the ioctls must refuse.  The CPU features guests see are tested by
 * itest-vcpu-features.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vcpu-guest.h"

static void test_vmcall_roundtrip(void)
{
	/* vmcall; mov %rax,%rbx; vmcall; hlt; ud2 */
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1, 0x48, 0x89, 0xc3,
					0x0f, 0x01, 0xc1, 0xf4, 0x0f, 0x0b };
	struct dune_stats st;
	struct dune_run run;
	int fd;

	guest_setup();
	fd = vcpu_new(code, sizeof(code), &run);
	run.regs.rax = 39;
	run.regs.rdi = 0x1111;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 39);
	IT_ASSERT_EQ(run.regs.rdi, 0x1111);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE) + 3);
	run.regs.rax = 777;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rbx, 777);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE) + 9);
	/* hlt is skipped in the kernel; ud2 with no IDT is a triple fault */
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FATAL);
	IT_ASSERT_EQ(run.vmx_exit_reason, 2);
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_RUN, &run), -1);
	IT_ASSERT_EQ(errno, EIO);
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_STATS, &st), 0);
	IT_ASSERT_EQ(st.by_reason[18], 2);
	IT_ASSERT_EQ(st.by_reason[12], 1);
	IT_ASSERT_EQ(st.by_reason[2], 1);
	IT_ASSERT(st.exits >= 4);
	IT_ASSERT_EQ(st.user_exits, 3 + guest_signal_exits);
	IT_ASSERT(st.ept_maps >= 3);
	close(fd);
}

static void test_memory_shared_and_faults(void)
{
	/* mov (%rsi),%rax; vmcall; mov %rdx,(%rsi); vmcall */
	static const uint8_t code[] = { 0x48, 0x8b, 0x06, 0x0f, 0x01, 0xc1,
					0x48, 0x89, 0x16, 0x0f, 0x01, 0xc1 };
	volatile uint64_t *data = (uint64_t *)PG(P_DATA);
	struct dune_run run;
	int fd;

	guest_setup();
	*data = 0xfeedface;
	fd = vcpu_new(code, sizeof(code), &run);
	run.regs.rsi = PG(P_DATA);
	run.regs.rdx = 0xabcdef;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rax, 0xfeedface);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(*data, 0xabcdef);

	/* a read from a hole the process has no mapping for */
	run.regs.rip = PG(P_CODE);
	run.regs.rsi = PG(P_HOLE) + 8;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FAULT);
	IT_ASSERT_EQ(run.fault_addr, PG(P_HOLE) + 8);
	IT_ASSERT_EQ(run.fault_gpa, PG(P_HOLE) + 8);
	IT_ASSERT_EQ(run.fault_flags, DUNE_FAULT_READ | DUNE_FAULT_LINEAR);
	IT_ASSERT_EQ(run.regs.rip, PG(P_CODE));

	/* reading a read-only page works, writing it faults */
	*(volatile uint64_t *)PG(P_RO);
	run.regs.rsi = PG(P_RO);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FAULT);
	IT_ASSERT_EQ(run.fault_flags, DUNE_FAULT_WRITE | DUNE_FAULT_LINEAR);
	IT_ASSERT_EQ(run.fault_addr, PG(P_RO));

	/* once the process may write, so may the guest */
	IT_ASSERT(mprotect((void *)PG(P_RO), 4096, PROT_READ | PROT_WRITE) == 0);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(*(volatile uint64_t *)PG(P_RO), 0xabcdef);

	/* munmap under the guest: the old page must not stay reachable */
	run.regs.rip = PG(P_CODE);
	run.regs.rsi = PG(P_DATA);
	IT_ASSERT(munmap((void *)PG(P_DATA), 4096) == 0);
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_FAULT);
	IT_ASSERT_EQ(run.fault_addr, PG(P_DATA));
	close(fd);
}

static void test_cpuid_hides_vmx(void)
{
	/* cpuid; vmcall */
	static const uint8_t code[] = { 0x0f, 0xa2, 0x0f, 0x01, 0xc1 };
	struct dune_run run;
	int fd;

	guest_setup();
	fd = vcpu_new(code, sizeof(code), &run);
	run.regs.rax = 1;
	run.regs.rcx = 0;
	IT_ASSERT_EQ(guest_run(fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	IT_ASSERT_EQ(run.regs.rcx & (1 << 5), 0);
	/* SSE2 is there, as on the host */
	IT_ASSERT(run.regs.rdx & (1 << 26));
	close(fd);
}

static void test_bad_slots(void)
{
	struct dune_caps caps;
	struct dune_slot s;

	guest_setup();
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_GET_CAPS, &caps), 0);
#define BAD_SLOT(err, ...)                                            \
	do {                                                          \
		s = (struct dune_slot){ __VA_ARGS__ };                \
		errno = 0;                                            \
		IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, &s), -1);   \
		IT_ASSERT_EQ(errno, err);                             \
	} while (0)
	BAD_SLOT(EINVAL, .index = DUNE_MAX_SLOTS, .gpa = 0, .hva = BASE, .size = 4096);
	BAD_SLOT(EINVAL, .index = 1, .flags = 1, .gpa = 0, .hva = BASE, .size = 4096);
	BAD_SLOT(EINVAL, .index = 1, .gpa = 0x100, .hva = BASE, .size = 4096);
	BAD_SLOT(EINVAL, .index = 1, .gpa = 0, .hva = BASE + 1, .size = 4096);
	BAD_SLOT(EINVAL, .index = 1, .gpa = 0, .hva = BASE, .size = 100);
	BAD_SLOT(ERANGE, .index = 1, .gpa = 1ull << caps.maxphyaddr, .hva = BASE, .size = 4096);
	BAD_SLOT(ERANGE, .index = 1, .gpa = -4096ull, .hva = BASE, .size = 8192);
	BAD_SLOT(EINVAL, .index = 1, .gpa = 0, .hva = 0xffff800000000000ull, .size = 4096);
	BAD_SLOT(EEXIST, .index = 1, .gpa = BASE + 4096, .hva = BASE, .size = 4096);
	errno = 0;
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, NULL), -1);
	IT_ASSERT_EQ(errno, EFAULT);
	/* deleting and re-adding a slot works */
	s = (struct dune_slot){ .index = 0 };
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, &s), 0);
	s = (struct dune_slot){ .index = 0, .gpa = BASE, .hva = BASE, .size = SIZE };
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, &s), 0);
}

static void test_bad_vcpu_configs(void)
{
	struct dune_vcpu_config c;
	struct dune_caps caps;

	guest_setup();
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_GET_CAPS, &caps), 0);
#define BAD_CFG(field, val)                                              \
	do {                                                             \
		config_init(&c, (const uint8_t *)"\xf4", 1);             \
		c.field = val;                                           \
		errno = 0;                                               \
		IT_ASSERT_EQ(ioctl(dev_fd, DUNE_CREATE_VCPU, &c), -1);   \
		IT_ASSERT_EQ(errno, EINVAL);                             \
	} while (0)
	BAD_CFG(reserved[2], 1);
	BAD_CFG(reserved[0], 1);
	BAD_CFG(flags, 1ull << 2);
	BAD_CFG(flags, 1ull << 63);
	if (!(caps.flags & DUNE_CAP_PCID))
		BAD_CFG(flags, DUNE_VCPU_PCID);
	BAD_CFG(pad[0], 1);
	BAD_CFG(cs, 0);
	BAD_CFG(cs, 0x0b);
	BAD_CFG(tr, 0x100);
	BAD_CFG(cr3, PG(0) + 8);
	BAD_CFG(cr3, 1ull << 52);
	BAD_CFG(regs.rip, 0x0000800000000000ull);
	errno = 0;
	IT_ASSERT_EQ(ioctl(dev_fd, DUNE_CREATE_VCPU, (void *)8), -1);
	IT_ASSERT_EQ(errno, EFAULT);
}

static int shared_vcpu_fd;
static struct dune_run shared_run;

static void *other_thread_runs(void *arg)
{
	errno = 0;
	return (void *)(long)(ioctl(shared_vcpu_fd, DUNE_RUN, &shared_run) == -1 ?
				      errno : 0);
}

static void *thread_creates_vcpu(void *arg)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };

	shared_vcpu_fd = vcpu_new(code, sizeof(code), &shared_run);
	return NULL;
}

static void test_vcpu_owner_only(void)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
	struct dune_run run;
	pthread_t t;
	void *ret;
	int st;

	guest_setup();
	/* another thread may not drive my vCPU */
	shared_vcpu_fd = vcpu_new(code, sizeof(code), &shared_run);
	IT_ASSERT_EQ(pthread_create(&t, NULL, other_thread_runs, NULL), 0);
	IT_ASSERT_EQ(pthread_join(t, &ret), 0);
	IT_ASSERT_EQ((long)ret, EPERM);
	IT_ASSERT_EQ(guest_run(shared_vcpu_fd, &shared_run), 0);
	close(shared_vcpu_fd);

	/* a vCPU whose owner thread exited cannot be run by anyone */
	IT_ASSERT_EQ(pthread_create(&t, NULL, thread_creates_vcpu, NULL), 0);
	IT_ASSERT_EQ(pthread_join(t, NULL), 0);
	errno = 0;
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_RUN, &shared_run), -1);
	IT_ASSERT_EQ(errno, EPERM);
	close(shared_vcpu_fd);

	/* after fork, the child may use neither the context nor the vCPU */
	shared_vcpu_fd = vcpu_new(code, sizeof(code), &run);
	pid_t pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		struct dune_vcpu_config c;
		struct dune_slot s = { .index = 1, .gpa = 0, .hva = BASE, .size = 4096 };

		config_init(&c, code, sizeof(code));
		if (ioctl(dev_fd, DUNE_SET_SLOT, &s) != -1 || errno != EBADFD)
			_exit(1);
		if (ioctl(dev_fd, DUNE_CREATE_VCPU, &c) != -1 || errno != EBADFD)
			_exit(2);
		if (ioctl(shared_vcpu_fd, DUNE_RUN, &run) != -1 || errno != EPERM)
			_exit(3);
		if (ioctl(shared_vcpu_fd, DUNE_GET_STATS, &run) != -1 || errno != EPERM)
			_exit(4);
		/* but a fresh open works in the child */
		int fd = dune_dev_open();
		s.index = 0;
		s.gpa = BASE;
		s.size = SIZE;
		if (fd < 0 || ioctl(fd, DUNE_SET_SLOT, &s))
			_exit(5);
		_exit(0);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFEXITED(st));
	IT_ASSERT_EQ(WEXITSTATUS(st), 0);
	IT_ASSERT_EQ(guest_run(shared_vcpu_fd, &run), 0);
	IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
	/* bad pointers and unknown commands on a vCPU fd */
	errno = 0;
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_RUN, NULL), -1);
	IT_ASSERT_EQ(errno, EFAULT);
	errno = 0;
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_GET_STATS, (void *)1), -1);
	IT_ASSERT_EQ(errno, EFAULT);
	errno = 0;
	IT_ASSERT_EQ(ioctl(shared_vcpu_fd, DUNE_GET_CAPS, &run), -1);
	IT_ASSERT_EQ(errno, ENOTTY);
	close(shared_vcpu_fd);
}

/* Many vCPUs and contexts made and dropped: nothing may leak. */
static void test_create_destroy_many(void)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
	struct dune_run run;
	int i, fd;

	guest_setup();
	for (i = 0; i < 200; i++) {
		fd = vcpu_new(code, sizeof(code), &run);
		IT_ASSERT_EQ(guest_run(fd, &run), 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
		close(fd);
	}
	close(dev_fd);
}

/*
 * VT-x held by another hypervisor: Debian's kvm_intel with a VM (on 6.12
 * kvm holds VT-x from load on).  dune.ko must refuse with EBUSY and say
 * why, never crash, and work again once kvm is gone.
 */
static void test_kvm_holds_vtx(void)
{
	struct dune_slot s = { .index = 0, .gpa = BASE, .hva = BASE, .size = SIZE };
	int kvm, vm, fd;

	IT_ASSERT_EQ(itest_sh("insmod /opt/dune/kvm/irqbypass.ko && "
			      "insmod /opt/dune/kvm/kvm.ko && "
			      "insmod /opt/dune/kvm/kvm-intel.ko"), 0);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	IT_ASSERT(kvm >= 0);
	vm = ioctl(kvm, 0xAE01 /* KVM_CREATE_VM */, 0);
	IT_ASSERT(vm >= 0);

	fd = dune_dev_open();
	IT_ASSERT(fd >= 0);
	errno = 0;
	IT_ASSERT_EQ(ioctl(fd, DUNE_SET_SLOT, &s), -1);
	IT_ASSERT_EQ(errno, EBUSY);
	IT_ASSERT_EQ(itest_sh("dmesg | grep -q 'in use by another hypervisor'"), 0);
	/* capabilities still answer */
	struct dune_caps caps;
	IT_ASSERT_EQ(ioctl(fd, DUNE_GET_CAPS, &caps), 0);
	close(fd);

	close(vm);
	close(kvm);
	IT_ASSERT_EQ(itest_sh("rmmod kvm_intel && rmmod kvm && rmmod irqbypass"), 0);
	guest_setup();
	{
		static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
		struct dune_run run;

		fd = vcpu_new(code, sizeof(code), &run);
		IT_ASSERT_EQ(guest_run(fd, &run), 0);
		IT_ASSERT_EQ(run.exit_reason, DUNE_EXIT_VMCALL);
		close(fd);
	}
}

static void run_on_cpu(int fd, struct dune_run *run, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	IT_ASSERT_EQ(sched_setaffinity(0, sizeof(set), &set), 0);
	run->regs.rip = PG(P_CODE);
	IT_ASSERT_EQ(guest_run(fd, run), 0);
	IT_ASSERT_EQ(run->exit_reason, DUNE_EXIT_VMCALL);
}

/*
 * The vCPU follows its thread from CPU to CPU, and CPU hotplug while a
 * vCPU exists: the VMCS active on a CPU going offline is cleared there,
 * and a CPU coming online joins VMX operation.  Needs 2 CPUs.
 */
static void test_migration_and_hotplug(void)
{
	static const uint8_t code[] = { 0x0f, 0x01, 0xc1 };
	struct dune_run run;
	int fd, i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("    (one CPU: migration and hotplug need two; checked in the 2-CPU run)\n");
		return;
	}
	guest_setup();
	fd = vcpu_new(code, sizeof(code), &run);
	for (i = 0; i < 20; i++)
		run_on_cpu(fd, &run, i & 1);
	/* offline the CPU whose VMCS is active, then run elsewhere */
	IT_ASSERT_EQ(itest_sh("echo 0 > /sys/devices/system/cpu/cpu1/online"), 0);
	run_on_cpu(fd, &run, 0);
	IT_ASSERT_EQ(itest_sh("echo 1 > /sys/devices/system/cpu/cpu1/online"), 0);
	for (i = 0; i < 10; i++)
		run_on_cpu(fd, &run, 1 - (i & 1));
	close(fd);
}

/* perf / trace-cmd users see VM exits through the dune tracepoints. */
static void test_tracepoints(void)
{
	IT_ASSERT_EQ(itest_sh("grep -q ' /sys/kernel/tracing ' /proc/mounts || "
			      "mount -t tracefs nodev /sys/kernel/tracing"), 0);
	IT_ASSERT_EQ(itest_sh("cd /sys/kernel/tracing && echo > trace && "
			      "echo 1 > events/dune/enable && "
			      "dune-bench 1 > /dev/null; "
			      "echo 0 > /sys/kernel/tracing/events/dune/enable"), 0);
	/* VMCALL is basic exit reason 18 */
	IT_ASSERT_EQ(itest_sh("grep -q 'dune_exit: reason 18 ' /sys/kernel/tracing/trace"), 0);
	IT_ASSERT_EQ(itest_sh("grep -q 'dune_user_exit: dune exit 1 ' /sys/kernel/tracing/trace"), 0);
}

static const struct itest tests[] = {
	{ "vmcall_roundtrip", test_vmcall_roundtrip },
	{ "memory_shared_and_faults", test_memory_shared_and_faults },
	{ "cpuid_hides_vmx", test_cpuid_hides_vmx },
	{ "bad_slots", test_bad_slots },
	{ "bad_vcpu_configs", test_bad_vcpu_configs },
	{ "vcpu_owner_only", test_vcpu_owner_only },
	{ "create_destroy_many", test_create_destroy_many },
	{ "kvm_holds_vtx", test_kvm_holds_vtx },
	{ "migration_and_hotplug", test_migration_and_hotplug },
	{ "tracepoints", test_tracepoints },
};

ITEST_MAIN(tests)
