# SPDX-License-Identifier: MIT
#
#   make              build everything: kern/dune.ko, libdune/libdune.a,
#                     build/lib/libdune.so, apps (build/bin/dune-run, ...),
#                     tests, benchmarks
#   make check        unit tests on the host + integration tests in the
#                     emulated VT-x machine (all configurations)
#   make check-unit   host unit tests only (seconds)
#   make check-vm     integration tests; VM=6.1:1 picks a configuration
#                     (kernel:cpus), T=name picks one test
#   make check-fidelity  every Python regression suite natively and in
#                     Dune mode (its own boot; VM= as above, default 6.12:1)
#   make kmod KVER=v  build dune.ko for installed kernel headers v into
#                     build/kmod/v/ (used by tools/dune-vm)
#   make WERROR=0     do not turn warnings into errors
#   make install      dune.ko to /lib/modules/<kver>/extra (then depmod),
#                     libdune.a, libdune.so, dune-run, headers and dune.pc
#                     under PREFIX (/usr/local); DESTDIR=dir stages it all
#                     (no depmod)
#   make dkms-install sources to /usr/src/dune-<version> for dkms, which
#                     builds and installs dune.ko for every kernel
#   make uninstall, make dkms-uninstall: the reverse

ROOT := $(CURDIR)
B := build

# The running kernel's build dir when there is one, else the newest Debian
# 6.1 headers installed (this is what a development machine here has).
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-6.1.0-*-amd64))))
# Debian splits headers into -amd64 (generated) and -common (the sources).
KSRC := $(firstword $(wildcard $(patsubst %-amd64,%-common,$(realpath $(KDIR)))) \
	$(realpath $(KDIR)))

WERROR ?= 1
CC ?= gcc
CFLAGS ?= -O2 -g
WFLAGS := -Wall -Wextra -Wno-unused-parameter
ifeq ($(WERROR),1)
WFLAGS += -Werror
endif
override CFLAGS += -std=gnu11 $(WFLAGS) -Iinclude -Ilibdune -D_GNU_SOURCE

LIBDUNE_SRCS := $(filter-out libdune/asm-offsets.c,$(wildcard libdune/*.c)) \
	$(wildcard libdune/*.S)
# preload.c (dune-run's constructor) goes into libdune.so only.
LIBDUNE_SRCS := $(filter-out libdune/preload.c,$(LIBDUNE_SRCS))
LIBDUNE_OBJS := $(patsubst %,$(B)/obj/%.o,$(LIBDUNE_SRCS))
LIBDUNE := libdune/libdune.a

# libdune.so: the same sources (plus preload.c) built as PIC in their own
# tree.  Internals are hidden (only dune.h's API is exported) and TLS is
# initial-exec, and the library is linked with -z now and
# -Bsymbolic-functions (its calls to itself are direct): the host loop
# and the trap code must never reach __tls_get_addr or a lazily bound PLT
# entry, both of which may use vector registers (raw.h).
SO_NAME := libdune.so.0
LIBDUNE_SO := $(B)/lib/$(SO_NAME)
LIBDUNE_PIC_OBJS := $(patsubst %,$(B)/pic/%.o,$(LIBDUNE_SRCS) libdune/preload.c)
PIC_CFLAGS := -fPIC -fvisibility=hidden -ftls-model=initial-exec
SO_LDFLAGS := -shared -Wl,-soname,$(SO_NAME) -Wl,-z,now -Wl,-z,relro \
	-Wl,-Bsymbolic-functions \
	-Wl,-z,noexecstack -Wl,--no-undefined

# Every .c in these folders is one program, installed into build/bin/ and
# copied into the emulated machine by tools/dune-vm.
PROG_SRCS := $(wildcard apps/*.c) $(wildcard test/vm/*.c) $(wildcard bench/*.c)
PROGS := $(patsubst %.c,$(B)/bin/%,$(notdir $(PROG_SRCS)))
# libdune's ELF API (elf.c) uses libelf.
ELF_LIBS := $(shell pkg-config --libs libelf 2>/dev/null || echo -lelf)
PROG_LIBS := -lpthread $(ELF_LIBS)

# Fidelity programs (test/fidelity/fid-NAME.c) know nothing of Dune: each
# is built as fid-NAME (native) and fid-NAME.dune (the same object plus
# enter.c, which enters Dune mode from a constructor); itest-fidelity
# compares the two runs.
FID_SRCS := $(wildcard test/fidelity/fid-*.c)
FID_PROGS := $(patsubst test/fidelity/%.c,$(B)/bin/%,$(FID_SRCS))
FID_PROGS += $(addsuffix .dune,$(FID_PROGS))
FID_LIBS := -lpthread -lrt -lm $(ELF_LIBS)

UNIT_SRCS := $(wildcard test/unit/*_test.c)
UNIT_BINS := $(patsubst test/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))
# kern/ files that are pure logic and unit-tested on the host
KERN_PURE := kern/caps.c kern/ept_pt.c
UNIT_CFLAGS := -std=gnu11 $(WFLAGS) -O1 -g -Iinclude -Ikern -Ilibdune \
	-Itest/unit/kshim -idirafter $(KSRC)/arch/x86/include \
	-DKSHIM_ASM_VMX='"$(KSRC)/arch/x86/include/asm/vmx.h"' \
	-DKSHIM_ASM_MSR_INDEX='"$(KSRC)/arch/x86/include/asm/msr-index.h"' \
	$(shell pkg-config --cflags check 2>/dev/null)
UNIT_LIBS := $(shell pkg-config --libs check 2>/dev/null)

.PHONY: all module kmod lib progs unit check check-unit check-vm clean deps demo \
	python check-fidelity \
	install install-module install-lib uninstall dkms-install dkms-uninstall
all: module lib progs python

deps:
	tools/install-deps

module:
	@test -d "$(KDIR)" || { echo "no kernel headers at '$(KDIR)': run tools/install-deps or pass KDIR=/path/to/kernel/build" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(ROOT)/kern DUNE_ROOT=$(ROOT) WERROR=$(WERROR) modules

# Sources only: kern/ also holds what a `make module` build generated
# (dune.mod.c among them), which belongs to that kernel alone.
KERN_SOURCES := $(filter-out %.mod.c,$(wildcard kern/*.c)) $(filter-out kern/dune-asm-offsets.h,$(wildcard kern/*.h)) \
	$(wildcard kern/*.S) kern/Kbuild

# One build tree per kernel version, made of links to kern/, so builds
# for different kernels never overwrite each other's objects.
kmod:
	@test -n "$(KVER)" || { echo "usage: make kmod KVER=<kernel version>" >&2; exit 2; }
	@test -d /usr/src/linux-headers-$(KVER) || { echo "no headers for $(KVER): run tools/install-deps" >&2; exit 1; }
	@mkdir -p $(B)/kmod/$(KVER)
	@find $(B)/kmod/$(KVER) -maxdepth 1 -type l -delete
	@for f in $(KERN_SOURCES); do ln -sfn $(ROOT)/$$f $(B)/kmod/$(KVER)/; done
	@$(MAKE) -s -C /usr/src/linux-headers-$(KVER) M=$(ROOT)/$(B)/kmod/$(KVER) \
		DUNE_ROOT=$(ROOT) WERROR=$(WERROR) modules

lib: $(LIBDUNE) $(LIBDUNE_SO)
progs: $(PROGS) $(FID_PROGS)

$(LIBDUNE): $(LIBDUNE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBDUNE_SO): $(LIBDUNE_PIC_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SO_LDFLAGS) $^ -o $@ -lpthread $(ELF_LIBS)
	ln -sfn $(SO_NAME) $(B)/lib/libdune.so

$(B)/pic/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PIC_CFLAGS) -MMD -MP -c $< -o $@

$(B)/pic/%.S.o: %.S $(B)/gen/asm-offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PIC_CFLAGS) -I$(B)/gen -MMD -MP -c $< -o $@

$(B)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%.S.o: %.S $(B)/gen/asm-offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(B)/gen -MMD -MP -c $< -o $@

# Structure offsets for libdune's assembly, generated from the C layout
# (libdune/asm-offsets.c) the way Kbuild makes the kernel's asm-offsets.h.
$(B)/gen/asm-offsets.h: libdune/asm-offsets.c libdune/internal.h libdune/dune.h \
		include/dune/uapi.h include/dune/regs-offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -S $< -o $(B)/gen/asm-offsets.s
	{ echo '/* Generated from libdune/asm-offsets.c: do not edit. */'; \
	  echo '#ifndef LIBDUNE_ASM_OFFSETS_H'; echo '#define LIBDUNE_ASM_OFFSETS_H'; \
	  sed -ne 's:^[[:space:]]*\.ascii[[:space:]]*"->\([^ ]*\) [$$#]*\([^ ]*\) \(.*\)".*:#define \1 \2 /* \3 */:p' \
		$(B)/gen/asm-offsets.s; \
	  echo '#endif'; } >$@.tmp && mv $@.tmp $@

vpath %.c apps test/vm bench
$(B)/obj/prog/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I. -Itest/vm -MMD -MP -c $< -o $@

$(B)/bin/%: $(B)/obj/prog/%.o $(LIBDUNE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ $(LIBDUNE) $(PROG_LIBS)

# Programs in the original Dune's style (test/compat/*.c) are built as
# the original's were (docs/porting.md): its include path only, the top
# of the tree, so "libdune/dune.h" and "libdune/cpu-x86.h" resolve (and
# include/ for <dune/uapi.h>), -O3, static.  Not libdune/ itself, and
# not CFLAGS.  The itest-compat-* among them report PASS/FAIL lines
# (test/vm/itest.h) and run-itests runs them like test/vm's.
COMPAT_SRCS := $(wildcard test/compat/*.c)
COMPAT_PROGS := $(patsubst test/compat/%.c,$(B)/bin/%,$(COMPAT_SRCS))
COMPAT_CFLAGS := $(WFLAGS) -g -O3 -I. -Iinclude
progs: $(COMPAT_PROGS)
$(B)/obj/compat/%.o: test/compat/%.c
	@mkdir -p $(dir $@)
	$(CC) $(COMPAT_CFLAGS) -MMD -MP -c $< -o $@
$(COMPAT_PROGS): $(B)/bin/%: $(B)/obj/compat/%.o $(LIBDUNE)
	@mkdir -p $(dir $@)
	$(CC) $(COMPAT_CFLAGS) -static $< -o $@ $(LIBDUNE) $(PROG_LIBS) -lz

# dune-box's per-call benchmark is an ordinary static program (no libdune:
# it runs inside the sandbox, under ptrace, seccomp, bwrap and gVisor);
# bench/box-*.sh, the benchmarks' drivers, run in the emulated machine.
$(B)/bin/box-bench-call: override CFLAGS += -static
BENCH_SCRIPTS := $(patsubst bench/%.sh,$(B)/bin/%,$(wildcard bench/box-*.sh))
progs: $(BENCH_SCRIPTS)
$(BENCH_SCRIPTS): $(B)/bin/%: bench/%.sh
	@mkdir -p $(dir $@)
	install -m 755 $< $@

# The sthreads library (apps/sthread: one folder, not one program per
# file), in the original's style too; sthread-demo and itest-sthread use it.
STH_OBJ := $(B)/obj/sthread/sthread.o
$(B)/obj/sthread/%.o: apps/sthread/%.c apps/sthread/sthread.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I. -O3 -MMD -MP -c $< -o $@
progs: $(B)/bin/sthread-demo
$(B)/bin/sthread-demo: $(B)/obj/sthread/demo.o $(STH_OBJ) $(LIBDUNE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static $(filter %.o,$^) -o $@ $(LIBDUNE) $(PROG_LIBS)
$(B)/obj/prog/itest-sthread.o: override CFLAGS += -O3 -Iapps/sthread
$(B)/bin/itest-sthread: $(B)/obj/prog/itest-sthread.o $(STH_OBJ) $(LIBDUNE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static $(filter %.o,$^) -o $@ $(LIBDUNE) $(PROG_LIBS)

# Programs linked with libdune.so instead of libdune.a (run path
# $ORIGIN/../lib: build/lib next to build/bin, PREFIX/lib next to
# PREFIX/bin); tools/dune-vm ships the library with them.
SO_PROGS := $(B)/bin/dune-run $(B)/bin/dune-run-probe
$(SO_PROGS): $(B)/bin/%: $(B)/obj/prog/%.o $(LIBDUNE_SO)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ -L$(B)/lib -ldune -Wl,-rpath,'$$ORIGIN/../lib'

# The emulated machine's busybox is static, which dune-run refuses: the
# host's dynamically linked true, cat, echo and dash go with the tests as
# dyn-true, dyn-cat, dyn-echo, dyn-sh and dyn-bash (dune-vm ships their
# libraries).
DYN_PROGS := $(addprefix $(B)/bin/dyn-,true cat echo sh bash)
progs: $(DYN_PROGS)
$(B)/bin/dyn-sh: /bin/dash
$(B)/bin/dyn-%: /bin/%
	@mkdir -p $(dir $@)
	cp $< $@

# Shared libraries for the tests (test/vm/lib/NAME.c), shipped with them.
TEST_SOS := $(patsubst test/vm/lib/%.c,$(B)/bin/%.so,$(wildcard test/vm/lib/*.c))
progs: $(TEST_SOS)
$(B)/bin/%.so: test/vm/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -fPIC $< -o $@

.SECONDARY: $(B)/obj/fid/enter.o
$(B)/obj/fid/%.o: test/fidelity/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/bin/fid-%: $(B)/obj/fid/fid-%.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ $(FID_LIBS)

$(B)/bin/fid-%.dune: $(B)/obj/fid/fid-%.o $(B)/obj/fid/enter.o $(LIBDUNE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(B)/obj/fid/enter.o $< -o $@ $(LIBDUNE) $(FID_LIBS)

# dune-box (box/, docs/sandbox.md): the monitor, its loader and its
# policy.  Everything but main.c goes into libbox.a, which the box's
# integration tests (test/vm/itest-box*.c) link as well; unit tests
# (test/unit/box_*_test.c) include the pure sources.
BOX_SRCS := $(filter-out box/main.c,$(wildcard box/*.c))
BOX_OBJS := $(patsubst %,$(B)/obj/%.o,$(BOX_SRCS))
BOX_LIB := $(B)/lib/libbox.a
BOX_LIBS := $(shell pkg-config --libs libelf 2>/dev/null || echo -lelf) -lpthread
BOX_CFLAGS := -Ibox -I$(B)/gen
$(BOX_OBJS): override CFLAGS += $(BOX_CFLAGS)
$(BOX_OBJS): $(B)/gen/box-sysnames.h

lib: $(BOX_LIB)
$(BOX_LIB): $(BOX_OBJS) $(B)/gen/box-sysnames.h
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $(BOX_OBJS)

ifneq ($(wildcard box/main.c),)
progs: $(B)/bin/dune-box
$(B)/bin/dune-box: $(B)/obj/box/main.c.o $(BOX_LIB) $(LIBDUNE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(BOX_LIBS)
$(B)/obj/box/main.c.o: override CFLAGS += $(BOX_CFLAGS)
$(B)/obj/box/main.c.o: $(B)/gen/box-sysnames.h
endif

# The loader's test programs (test/load/box-auxv.c, no libdune): what a
# loader must handle, static, static PIE, dynamic PIE and non-PIE.
LOAD_PROGS := $(addprefix $(B)/bin/box-auxv-,static static-pie pie nopie)
progs: $(LOAD_PROGS)
$(B)/bin/box-auxv-static: LOAD_LDFLAGS := -static -no-pie
$(B)/bin/box-auxv-static-pie: LOAD_LDFLAGS := -static-pie -fPIE
$(B)/bin/box-auxv-pie: LOAD_LDFLAGS := -pie -fPIE
$(B)/bin/box-auxv-nopie: LOAD_LDFLAGS := -no-pie -fno-PIE
$(LOAD_PROGS): test/load/box-auxv.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LOAD_LDFLAGS) $< -o $@

# Programs the dune-box itests run natively and boxed and compare, each
# static and dynamic: how programs end (itest-box), their view of their
# fds (itest-box-fds), processes (itest-box-proc), memory calls
# (itest-box-mem), ring-3 signal handlers (itest-box-signal).
BOX_PAIR := $(addprefix $(B)/bin/,box-ends box-fds box-proc box-mem) \
	$(patsubst test/load/%.c,$(B)/bin/%,$(wildcard test/load/box-sig-*.c))
progs: $(BOX_PAIR) $(addsuffix -static,$(BOX_PAIR))
$(BOX_PAIR): $(B)/bin/%: test/load/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@
$(addsuffix -static,$(BOX_PAIR)): $(B)/bin/%-static: test/load/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static $< -o $@

# Threads and CLONE_VM children (test/load/box-thr*.c), static and
# dynamic, for itest-box-thread's comparisons with native runs.
BOX_THR_NAMES := box-thr box-thr-race box-thr-vfork box-robust
BOX_THR_DYN := $(addprefix $(B)/bin/,$(BOX_THR_NAMES))
progs: $(BOX_THR_DYN) $(addsuffix -static,$(BOX_THR_DYN))
# libgcc_s named outright: pthread_exit dlopens it to unwind, and the
# machine gets only the libraries ldd lists (without it, pthread_exit
# aborts, racing the other thread's output).
$(BOX_THR_DYN): $(B)/bin/%: test/load/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ -lpthread -Wl,--push-state,--no-as-needed \
		-lgcc_s -Wl,--pop-state
$(addsuffix -static,$(BOX_THR_DYN)): $(B)/bin/%-static: test/load/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static $< -o $@ -lpthread

# System calls the monitor's table gained (test/load/box-calls-*.c),
# static and dynamic, for itest-box-calls' comparisons with native runs.
BOX_CALLS_PROGS := $(patsubst test/load/%.c,$(B)/bin/%,$(wildcard test/load/box-calls-*.c))
progs: $(BOX_CALLS_PROGS) $(addsuffix -static,$(BOX_CALLS_PROGS))
$(B)/bin/box-calls-%-static: test/load/box-calls-%.c test/load/box-calls.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static $< -o $@ -lpthread
$(B)/bin/box-calls-%: test/load/box-calls-%.c test/load/box-calls.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ -lpthread -Wl,--push-state,--no-as-needed \
		-lgcc_s -Wl,--pop-state

# The same tests' view of a musl program (test/load/box-musl.c), built
# with musl-gcc (tools/install-deps installs musl-tools), static and
# dynamic (its loader, /lib/ld-musl-x86_64.so.1, is shipped by dune-vm).
MUSL_CC ?= musl-gcc
progs: $(B)/bin/box-musl $(B)/bin/box-musl-static
$(B)/bin/box-musl: test/load/box-musl.c
	@mkdir -p $(dir $@)
	$(MUSL_CC) -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror $< -o $@
$(B)/bin/box-musl-static: test/load/box-musl.c
	@mkdir -p $(dir $@)
	$(MUSL_CC) -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -static $< -o $@

# A libc-free static ET_EXEC image for itest-compat-elf (libdune's ELF
# API loads it and runs it at ring 3, in the original's style).  Linked
# at 512 MiB: itest-compat-elf, static and not PIE like the original's
# programs, has the usual 0x400000 (the original's sandbox moved itself
# with a linker script instead).
progs: $(B)/bin/compat-elf-hello
$(B)/bin/compat-elf-hello: test/load/compat-elf-hello.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -nostdlib -no-pie -fno-pie -fno-stack-protector \
		-fno-asynchronous-unwind-tables -Wl,-Ttext-segment=0x20000000 \
		$< -o $@

$(B)/obj/prog/itest-box%.o: override CFLAGS += $(BOX_CFLAGS)
$(B)/obj/prog/itest-box%.o: $(B)/gen/box-sysnames.h
$(B)/bin/itest-box%: $(B)/obj/prog/itest-box%.o $(BOX_LIB) $(LIBDUNE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(BOX_LIBS)

# box-bench-mon runs the monitor's code natively (libbox.a).
$(B)/obj/prog/box-bench-mon.o: override CFLAGS += $(BOX_CFLAGS)
$(B)/obj/prog/box-bench-mon.o: $(B)/gen/box-sysnames.h
$(B)/bin/box-bench-mon: $(B)/obj/prog/box-bench-mon.o $(BOX_LIB) $(LIBDUNE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@ $(BOX_LIBS)

# x86-64 system call names from the installed uapi header, as
# BOX_SYSCALL(name, nr) lines: the one list the policy parser, the
# monitor's table and the log share.
UNISTD_64 := $(firstword $(wildcard /usr/include/x86_64-linux-gnu/asm/unistd_64.h /usr/include/asm/unistd_64.h))
$(B)/gen/box-sysnames.h: $(UNISTD_64)
	@mkdir -p $(dir $@)
	{ echo '/* Generated from $(UNISTD_64): do not edit. */'; \
	  sed -ne 's/^#define __NR_\([a-z0-9_]*\)[[:space:]]\{1,\}\([0-9]\{1,\}\)$$/BOX_SYSCALL(\1, \2)/p' $<; } >$@.tmp
	mv $@.tmp $@

# Sources a unit test links rather than includes (their headers clash
# with the test's: sigframe.c uses the kernel's uapi signal headers).
UNIT_LINK_sigframe_test := libdune/sigframe.c

$(B)/unit/%: test/unit/%.c test/unit/unit.h $(KERN_PURE) $(LIBDUNE_SRCS) $(wildcard kern/*.h libdune/*.h include/dune/*.h box/*.[ch]) $(B)/gen/box-sysnames.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -I$(B)/gen $< $(UNIT_LINK_$*) $(KERN_PURE) -o $@ $(UNIT_LIBS) $(UNIT_LIBS_$*)

unit: $(UNIT_BINS)

# Python's regression suites in the emulated machine (docs/fidelity.md):
# itest-python runs them; build/python holds python3.11, the stdlib part
# they need and the suites, and vm-args the dune-vm options that add it.
# Skipped with a note when Debian's libpython3.11-testsuite is missing
# (tools/install-deps installs it); itest-python then fails in the machine.
PY_TESTSUITE := /usr/lib/python3.11/test/test_signal.py
python: $(B)/bin/itest-python
ifneq ($(wildcard $(PY_TESTSUITE)),)
python: $(B)/python/vm-args
$(B)/python/vm-args: test/python/stage test/python/itest-python \
		test/python/dune_pyhook.py $(PY_TESTSUITE)
	test/python/stage $(ROOT)/$(B)/python
else
python:
	@echo "note: no $(PY_TESTSUITE) (libpython3.11-testsuite): run tools/install-deps for itest-python" >&2
endif

$(B)/bin/itest-python: test/python/itest-python
	@mkdir -p $(dir $@)
	install -m 755 $< $@

# check and demo install what they need first (idempotent, quiet), then
# re-read this Makefile so KDIR sees freshly installed headers.
check:
	tools/install-deps
	$(MAKE) all unit
	test/run-checks
	test/check-install

demo:
	tools/install-deps
	$(MAKE) all
	tools/dune-vm -- dune-demo

check-unit: unit
	test/run-checks --unit
	test/check-install

check-vm: all
	test/run-checks --vm $(if $(VM),--config $(VM)) $(if $(T),--test $(T))

check-fidelity: all
	test/run-checks --fidelity $(if $(VM),--config $(VM)) $(if $(T),--test $(T))

# ---- installing ----
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
# dune-run finds libdune.so.0 through its run path $ORIGIN/../lib, else
# through the loader's own search (LIBDIR in /etc/ld.so.conf).
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
# The version dkms and pkg-config see: follows the uapi version.
VERSION := 0.$(shell sed -n 's/^\#define DUNE_API_VERSION //p' include/dune/uapi.h)
# The release of the kernel KDIR builds for (Debian's kernel.release file
# holds the upstream version, utsrelease.h the one uname -r shows).
KREL = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h)
MODDIR ?= /lib/modules/$(KREL)/extra
# What a program needs: dune.h includes layout.h, mmu.h (mmu-x86.h),
# fpu.h and <dune/uapi.h>; elf.h and cpu-x86.h as in the original.
PUBLIC_HEADERS := libdune/dune.h libdune/layout.h libdune/mmu.h \
	libdune/mmu-x86.h libdune/elf.h libdune/cpu-x86.h libdune/fpu.h \
	include/dune/uapi.h

install: install-module install-lib

install-module: module
	install -D -m 644 kern/dune.ko $(DESTDIR)$(MODDIR)/dune.ko
	$(if $(DESTDIR),,depmod -a $(KREL))

install-lib: lib $(B)/bin/dune-run
	install -D -m 644 $(LIBDUNE) $(DESTDIR)$(LIBDIR)/libdune.a
	install -m 755 $(LIBDUNE_SO) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sfn $(SO_NAME) $(DESTDIR)$(LIBDIR)/libdune.so
	install -D -m 755 $(B)/bin/dune-run $(DESTDIR)$(BINDIR)/dune-run
	install -d $(DESTDIR)$(INCLUDEDIR)/dune $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(INCLUDEDIR)/dune/
	# "libdune/dune.h", as the original's programs include it
	ln -sfn . $(DESTDIR)$(INCLUDEDIR)/dune/libdune
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		libdune/dune.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/dune.pc

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/dune.ko $(DESTDIR)$(LIBDIR)/libdune.a \
		$(DESTDIR)$(LIBDIR)/$(SO_NAME) $(DESTDIR)$(LIBDIR)/libdune.so \
		$(DESTDIR)$(BINDIR)/dune-run $(DESTDIR)$(LIBDIR)/pkgconfig/dune.pc
	rm -rf $(DESTDIR)$(INCLUDEDIR)/dune
	$(if $(DESTDIR),,depmod -a $(KREL))

# dkms builds from a copy of what the module needs, with the top Kbuild.
DKMS_SRC = $(DESTDIR)/usr/src/dune-$(VERSION)
DKMS_FILES := Kbuild $(KERN_SOURCES) include/dune/uapi.h include/dune/regs-offsets.h

dkms-install:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)/kern $(DKMS_SRC)/include/dune
	for f in $(DKMS_FILES); do install -m 644 $$f $(DKMS_SRC)/$$f || exit 1; done
	sed 's|@VERSION@|$(VERSION)|' dkms.conf >$(DKMS_SRC)/dkms.conf
	$(if $(DESTDIR),,dkms add -m dune -v $(VERSION) && dkms install -m dune -v $(VERSION))

dkms-uninstall:
	-dkms remove -m dune -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

clean:
	rm -rf $(B) $(LIBDUNE)
	-$(MAKE) -C $(KDIR) M=$(ROOT)/kern clean >/dev/null 2>&1

-include $(shell find $(B)/obj $(B)/pic -name '*.d' 2>/dev/null)

# Shell helpers that run inside the emulated machine
SCRIPTS := $(patsubst test/vm/%.sh,$(B)/bin/%,$(wildcard test/vm/*.sh))
progs: $(SCRIPTS)
$(B)/bin/%: test/vm/%.sh
	@mkdir -p $(dir $@)
	install -m 755 $< $@
