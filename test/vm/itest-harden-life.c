// SPDX-License-Identifier: MIT
/*
 * dune.ko living beside the rest of the kernel: CPU hotplug while Dune
 * contexts come and go, and Debian's kvm_intel loaded and unloaded in
 * every order around dune.ko and running Dune processes.  A kernel WARN
 * anywhere fails the run (tools/dune-vm exits 123); these tests also count
 * WARNING lines in dmesg themselves, to say which step caused one.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vcpu-guest.h"

#define KVM_DIR "/opt/dune/kvm"
#define KVM_CREATE_VM_IOCTL 0xAE01
#define CPU1_ONLINE "/sys/devices/system/cpu/cpu1/online"

/* vmcall */
static const uint8_t vmcall_code[] = { 0x0f, 0x01, 0xc1 };

/* Lines of dmesg that contain @pat. */
static int dmesg_count(const char *pat)
{
	char cmd[256];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "dmesg | grep -c '%s'", pat);
	fflush(NULL);
	p = popen(cmd, "r");
	IT_ASSERT(p);
	IT_ASSERT(fscanf(p, "%d", &n) == 1);
	pclose(p);
	return n;
}

/* Run the guest's vmcall (guest_run() runs again for DUNE_EXIT_SIGNAL). */
static void run_vmcall(int fd, struct dune_run *run)
{
	run->regs.rip = PG(P_CODE);
	IT_ASSERT_EQ(guest_run(fd, run), 0);
	IT_ASSERT_EQ(run->exit_reason, DUNE_EXIT_VMCALL);
}

/* ---- CPU hotplug ---- */

struct progress {
	volatile unsigned long iters[2];
	volatile int stop;
};

/*
 * One worker: make a Dune context, a vCPU, run it a few times, drop it
 * all; again and again.  Two of these take vmx_users through 0 -> 1 -> 2
 * and back while CPU 1 goes off and on line.
 */
static void hotplug_worker(struct progress *pg, int me)
{
	struct dune_slot s = { .index = 0, .gpa = BASE, .hva = BASE, .size = SIZE };
	struct dune_run run;
	int fd, i;

	guest_setup();
	close(dev_fd);
	while (!pg->stop) {
		dev_fd = dune_dev_open();
		IT_ASSERT(dev_fd >= 0);
		IT_ASSERT_EQ(ioctl(dev_fd, DUNE_SET_SLOT, &s), 0);
		fd = vcpu_new(vmcall_code, sizeof(vmcall_code), &run);
		for (i = 0; i < 3; i++)
			run_vmcall(fd, &run);
		close(fd);
		close(dev_fd);
		pg->iters[me]++;
	}
	_exit(0);
}

static void set_cpu1(int online)
{
	int fd = open(CPU1_ONLINE, O_WRONLY);

	IT_ASSERT(fd >= 0);
	IT_ASSERT_EQ(write(fd, online ? "1" : "0", 1), 1);
	close(fd);
}

/* Wait until both workers finished an iteration after this call. */
static void wait_progress(struct progress *pg, pid_t *pids)
{
	unsigned long start[2] = { pg->iters[0], pg->iters[1] };
	int k, st;

	for (k = 0; k < 2; k++)
		while (pg->iters[k] == start[k]) {
			/* a worker that failed fails the test now */
			if (waitpid(pids[k], &st, WNOHANG) == pids[k])
				IT_FAIL("worker %d ended early (status 0x%x)", k,
					st);
			usleep(1000);
		}
}

/*
 * CPU 1 offline and online in a loop while two processes create and drop
 * contexts and run vCPUs.  A lock-order inversion between the hotplug lock
 * and dune.ko's own lock hung this; it must finish, every context and
 * vCPU operation must succeed, and nothing may WARN.
 */
static void test_hotplug_stress(void)
{
	struct progress *pg;
	pid_t pids[2];
	int warns = dmesg_count("WARNING:"), k, round, st;

	if (sysconf(_SC_NPROCESSORS_CONF) < 2 || access(CPU1_ONLINE, W_OK)) {
		printf("    (one CPU: hotplug needs two; checked in the 2-CPU run)\n");
		return;
	}
	pg = mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	IT_ASSERT(pg != MAP_FAILED);
	memset((void *)pg, 0, sizeof(*pg));
	for (k = 0; k < 2; k++) {
		fflush(NULL);
		pids[k] = fork();
		IT_ASSERT(pids[k] >= 0);
		if (pids[k] == 0)
			hotplug_worker(pg, k);
	}
	wait_progress(pg, pids);
	for (round = 0; round < 12; round++) {
		/* progress lines: a hang shows where it stopped */
		printf("    round %d: %lu + %lu cycles\n", round, pg->iters[0],
		       pg->iters[1]);
		set_cpu1(0);
		wait_progress(pg, pids);
		set_cpu1(1);
		wait_progress(pg, pids);
	}
	pg->stop = 1;
	for (k = 0; k < 2; k++) {
		IT_ASSERT_EQ(waitpid(pids[k], &st, 0), pids[k]);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			IT_FAIL("worker %d: wait status 0x%x", k, st);
	}
	IT_ASSERT_EQ(dmesg_count("WARNING:"), warns);
}

/* ---- kvm_intel ---- */

static const char *dune_ko(void)
{
	const char *p = getenv("DUNE_KO");

	return p ? p : "/opt/dune/dune.ko";
}

static int module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return access(path, F_OK) == 0;
}

/* irqbypass and kvm (with @kvm_params), then kvm_intel's insmod status. */
static int kvm_load(const char *kvm_params)
{
	IT_ASSERT_EQ(itest_sh("insmod " KVM_DIR "/irqbypass.ko && "
			      "insmod " KVM_DIR "/kvm.ko %s", kvm_params), 0);
	return itest_sh("insmod " KVM_DIR "/kvm-intel.ko 2>&1 | sed 's/^/    /'; "
			"grep -q '^kvm_intel ' /proc/modules");
}

static void kvm_unload(void)
{
	if (module_loaded("kvm_intel"))
		IT_ASSERT_EQ(itest_sh("rmmod kvm_intel"), 0);
	IT_ASSERT_EQ(itest_sh("rmmod kvm && rmmod irqbypass"), 0);
}

/* 6.12's kvm: virtualization enabled at load unless told otherwise. */
static int kvm_has_virt_at_load(void)
{
	return access("/sys/module/kvm/parameters/enable_virt_at_load",
		      F_OK) == 0;
}

/* A VM: its fd, or -errno. */
static int kvm_vm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm;

	IT_ASSERT(kvm >= 0);
	vm = ioctl(kvm, KVM_CREATE_VM_IOCTL, 0);
	if (vm < 0)
		vm = -errno;
	close(kvm);
	return vm;
}

/*
 * A fresh process makes a context and runs a vCPU: 0, or the errno of
 * the ioctl that makes the context (EBUSY when VT-x is taken).
 */
static int dune_try(void)
{
	struct dune_slot s = { .index = 0, .gpa = BASE, .hva = BASE, .size = SIZE };
	struct dune_run run;
	pid_t pid;
	int st, fd;

	fflush(NULL);
	pid = fork();
	IT_ASSERT(pid >= 0);
	if (pid == 0) {
		IT_ASSERT(mmap((void *)BASE, SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			       -1, 0) == (void *)BASE);
		fd = dune_dev_open();
		IT_ASSERT(fd >= 0);
		if (ioctl(fd, DUNE_SET_SLOT, &s) < 0)
			_exit(errno);
		close(fd);
		IT_ASSERT(munmap((void *)BASE, SIZE) == 0);
		guest_setup();
		fd = vcpu_new(vmcall_code, sizeof(vmcall_code), &run);
		run_vmcall(fd, &run);
		_exit(0);
	}
	IT_ASSERT_EQ(waitpid(pid, &st, 0), pid);
	IT_ASSERT(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* A Dune process that keeps its context and vCPU and runs it on request. */
struct holder {
	pid_t pid;
	int cmd, ack;
};

static void holder_start(struct holder *h)
{
	int to[2], from[2];
	char c;

	IT_ASSERT(pipe(to) == 0 && pipe(from) == 0);
	fflush(NULL);
	h->pid = fork();
	IT_ASSERT(h->pid >= 0);
	if (h->pid == 0) {
		struct dune_run run;
		int fd;

		close(to[1]);
		close(from[0]);
		guest_setup();
		fd = vcpu_new(vmcall_code, sizeof(vmcall_code), &run);
		run_vmcall(fd, &run);
		IT_ASSERT_EQ(write(from[1], "k", 1), 1);
		while (read(to[0], &c, 1) == 1 && c == 'r') {
			run_vmcall(fd, &run);
			IT_ASSERT_EQ(write(from[1], "k", 1), 1);
		}
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	h->cmd = to[1];
	h->ack = from[0];
	IT_ASSERT_EQ(read(h->ack, &c, 1), 1);
}

/* The holder's vCPU still runs. */
static void holder_run(struct holder *h)
{
	char c;

	IT_ASSERT_EQ(write(h->cmd, "r", 1), 1);
	IT_ASSERT_EQ(read(h->ack, &c, 1), 1);
}

static void holder_stop(struct holder *h)
{
	int st;

	IT_ASSERT_EQ(write(h->cmd, "q", 1), 1);
	IT_ASSERT_EQ(waitpid(h->pid, &st, 0), h->pid);
	IT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(h->cmd);
	close(h->ack);
}

static void dune_reload(void)
{
	IT_ASSERT_EQ(itest_sh("rmmod dune"), 0);
	IT_ASSERT_EQ(itest_sh("insmod %s", dune_ko()), 0);
}

/*
 * The orders for a kvm that takes VT-x only for VMs (6.1, or 6.12 with
 * kvm.enable_virt_at_load=0); kvm.ko is loaded with @kvm_params.
 */
static void kvm_idle_orders(const char *kvm_params)
{
	struct holder h;
	int vm;

	/*
	 * A Dune process first (dune.ko holds the emergency callback), then
	 * kvm_intel loads (6.1's takes the callback at load, 6.12's when it
	 * tries to enable VT-x for a VM) and unloads under it.
	 */
	holder_start(&h);
	IT_ASSERT_EQ(kvm_load(kvm_params), 0);
	holder_run(&h);
	IT_ASSERT(kvm_vm() < 0);
	holder_run(&h);
	kvm_unload();
	holder_run(&h);
	holder_stop(&h);

	/* kvm_intel first, then dune.ko: both usable, one at a time */
	IT_ASSERT_EQ(itest_sh("rmmod dune"), 0);
	IT_ASSERT_EQ(kvm_load(kvm_params), 0);
	IT_ASSERT_EQ(itest_sh("insmod %s", dune_ko()), 0);
	IT_ASSERT_EQ(dune_try(), 0);
	vm = kvm_vm();
	IT_ASSERT(vm >= 0);
	IT_ASSERT_EQ(dune_try(), EBUSY);
	close(vm);
	IT_ASSERT_EQ(dune_try(), 0);

	/* a Dune process, then a VM: KVM refuses, Dune goes on */
	holder_start(&h);
	vm = kvm_vm();
	IT_ASSERT(vm < 0);
	printf("    KVM_CREATE_VM while Dune runs: %s\n", strerror(-vm));
	holder_run(&h);
	/* kvm_intel unloaded under a running Dune process */
	kvm_unload();
	holder_run(&h);
	/* and loaded again under it */
	IT_ASSERT_EQ(kvm_load(kvm_params), 0);
	holder_run(&h);
	IT_ASSERT(kvm_vm() < 0);
	holder_stop(&h);
	/* VT-x is free again: KVM gets it */
	vm = kvm_vm();
	IT_ASSERT(vm >= 0);
	close(vm);

	/* dune.ko unloaded and loaded with kvm_intel there */
	dune_reload();
	IT_ASSERT_EQ(dune_try(), 0);
	kvm_unload();
	IT_ASSERT_EQ(dune_try(), 0);
}

/*
 * 6.12's kvm with enable_virt_at_load=1 (the default) holds VT-x from
 * kvm_intel's load to its unload.
 */
static void kvm_at_load_orders(void)
{
	struct holder h;

	/* kvm_intel first: Dune gets a clean EBUSY, dune.ko reloads fine */
	IT_ASSERT_EQ(itest_sh("rmmod dune"), 0);
	IT_ASSERT_EQ(kvm_load(""), 0);
	IT_ASSERT_EQ(itest_sh("insmod %s", dune_ko()), 0);
	IT_ASSERT_EQ(dune_try(), EBUSY);
	dune_reload();
	IT_ASSERT_EQ(dune_try(), EBUSY);
	kvm_unload();
	IT_ASSERT_EQ(dune_try(), 0);

	/* a Dune process first: kvm_intel cannot enable VT-x, fails to load */
	holder_start(&h);
	IT_ASSERT(kvm_load("") != 0);
	IT_ASSERT(!module_loaded("kvm_intel"));
	holder_run(&h);
	kvm_unload();
	holder_run(&h);
	holder_stop(&h);
	IT_ASSERT_EQ(dune_try(), 0);
}

/*
 * Debian's kvm_intel and dune.ko loaded and unloaded in every order, with
 * and without Dune processes running, twice.  They share the kernel's one
 * emergency-virtualization callback, which WARNs on a second user: no
 * WARN, clean errors, and each usable once the other is gone.
 */
static void test_kvm_orders(void)
{
	int warns = dmesg_count("WARNING:"), round, at_load;

	IT_ASSERT(module_loaded("dune"));
	IT_ASSERT(!module_loaded("kvm"));
	/* which kvm is this? */
	IT_ASSERT_EQ(itest_sh("insmod " KVM_DIR "/irqbypass.ko && "
			      "insmod " KVM_DIR "/kvm.ko"), 0);
	at_load = kvm_has_virt_at_load();
	IT_ASSERT_EQ(itest_sh("rmmod kvm && rmmod irqbypass"), 0);
	printf("    kvm %s enable_virt_at_load\n", at_load ? "has" : "has no");

	for (round = 0; round < 2; round++) {
		if (at_load) {
			kvm_at_load_orders();
			kvm_idle_orders("enable_virt_at_load=0");
		} else {
			kvm_idle_orders("");
		}
		IT_ASSERT_EQ(dmesg_count("WARNING:"), warns);
	}
	IT_ASSERT(module_loaded("dune"));
	IT_ASSERT(!module_loaded("kvm"));
}

static const struct itest tests[] = {
	{ "hotplug_stress", test_hotplug_stress },
	{ "kvm_orders", test_kvm_orders },
};

ITEST_MAIN(tests)
