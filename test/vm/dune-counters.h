/* SPDX-License-Identifier: MIT */
/*
 * dune.ko's object counters in debugfs (/sys/kernel/debug/dune/) and its
 * module parameters, for the leak and limit tests.
 */
#ifndef DUNE_COUNTERS_H
#define DUNE_COUNTERS_H

#include "itest.h"

#define DUNE_DEBUGFS "/sys/kernel/debug/dune"
#define DUNE_PARAMS "/sys/module/dune/parameters"

static const char *const dune_counter_names[] = {
	"contexts",   "vcpus",	    "vcpus_without_vpid",
	"vmcs_pages", "ept_tables", "ept_cache_pages",
};
#define DUNE_NR_COUNTERS \
	(sizeof(dune_counter_names) / sizeof(dune_counter_names[0]))

static inline long dune_read_file(const char *dir, const char *name)
{
	char path[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		IT_FAIL("cannot open %s: %s", path, strerror(errno));
	if (fscanf(f, "%ld", &v) != 1)
		IT_FAIL("cannot read %s", path);
	fclose(f);
	return v;
}

static inline void dune_debugfs_mount(void)
{
	IT_ASSERT_EQ(itest_sh("grep -q ' /sys/kernel/debug ' /proc/mounts || "
			      "mount -t debugfs none /sys/kernel/debug"), 0);
}

static inline long dune_counter(const char *name)
{
	return dune_read_file(DUNE_DEBUGFS, name);
}

static inline void dune_counters_read(long *v)
{
	size_t i;

	dune_debugfs_mount();
	for (i = 0; i < DUNE_NR_COUNTERS; i++)
		v[i] = dune_counter(dune_counter_names[i]);
}

/* Every counter has its value from @before again. */
static inline void dune_counters_expect(const long *before)
{
	long now[DUNE_NR_COUNTERS];
	size_t i;

	dune_counters_read(now);
	for (i = 0; i < DUNE_NR_COUNTERS; i++)
		if (now[i] != before[i])
			IT_FAIL("debugfs dune/%s is %ld, was %ld",
				dune_counter_names[i], now[i], before[i]);
}

static inline long dune_param(const char *name)
{
	return dune_read_file(DUNE_PARAMS, name);
}

static inline void dune_param_set(const char *name, long v)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", DUNE_PARAMS, name);
	f = fopen(path, "w");
	if (!f)
		IT_FAIL("cannot open %s: %s", path, strerror(errno));
	fprintf(f, "%ld\n", v);
	if (fclose(f))
		IT_FAIL("cannot write %s: %s", path, strerror(errno));
}

#endif
