// SPDX-License-Identifier: MIT
/*
 * dune-box: argument layouts of the calls whose pointed-to size or
 * meaning depends on what another argument (or the structure itself)
 * says, beyond those in monitor.c: capget/capset (the data's length
 * follows the header's version) and clock_adjtime/adjtimex (read-only
 * use: a struct timex whose modes change nothing).
 */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/timex.h>

#include "calls.h"
#include "monitor-int.h"
#include "thread.h"

static bool owns(uint64_t p, uint64_t len, int prot)
{
	return box_mem_owns(box_mon.mem, p, len, prot);
}

/*
 * capget(hdr, data), capset(hdr, data).  Linux reads the header's
 * version first (and writes its own back when it does not know it);
 * version 1 moves one __user_cap_data_struct, versions 2 and 3 two.  A
 * NULL data pointer with capget asks only for the version.  The header
 * is copied, so the version the data was checked for is the one Linux
 * acts on.
 */
static int check_caps(struct box_ctx *c)
{
	struct __user_cap_header_struct *h = &c->caph;
	uint64_t n;

	if (!owns(c->a[0], sizeof(*h), PROT_READ | PROT_WRITE))
		return -EFAULT;
	memcpy(h, (const void *)c->a[0], sizeof(*h));
	c->x[0] = (uint64_t)h;
	switch (h->version) {
	case _LINUX_CAPABILITY_VERSION_1:
		n = _LINUX_CAPABILITY_U32S_1;
		break;
	case _LINUX_CAPABILITY_VERSION_2:
	case _LINUX_CAPABILITY_VERSION_3:
		n = _LINUX_CAPABILITY_U32S_3;
		break;
	default:
		return 0;	/* Linux answers EINVAL, data untouched */
	}
	if (!c->a[1])
		return 0;
	return owns(c->a[1], n * sizeof(struct __user_cap_data_struct),
		    c->nr == SYS_capget ? PROT_WRITE : PROT_READ) ? 0 :
		-EFAULT;
}

/*
 * adjtimex(buf), clock_adjtime(clock, buf): the struct timex is copied;
 * modes 0 (and ADJ_OFFSET_SS_READ, adjtime's query) only read the
 * clock.  Setting it is refused whatever the policy says (natively it
 * needs CAP_SYS_TIME, which a sandbox should never use).
 */
static int check_timex(struct box_ctx *c)
{
	int i = c->nr == SYS_adjtimex ? 0 : 1;
	struct timex *t = &c->tx;

	if (!owns(c->a[i], sizeof(*t), PROT_READ | PROT_WRITE))
		return -EFAULT;
	memcpy(t, (const void *)c->a[i], sizeof(*t));
	if (t->modes && t->modes != ADJ_OFFSET_SS_READ) {
		c->refusal = "setting the clock is not allowed in the sandbox";
		return -EPERM;
	}
	/* Linux reads our copy; what it writes is copied back after */
	c->x[i] = (uint64_t)t;
	return 0;
}

int box_calls_check(struct box_ctx *c)
{
	switch (c->nr) {
	case SYS_capget:
	case SYS_capset:
		return check_caps(c);
	case SYS_adjtimex:
	case SYS_clock_adjtime:
		return check_timex(c);
	}
	return 0;
}

/* What Linux wrote into the monitor's copies goes back to the program. */
void box_calls_done(struct box_ctx *c)
{
	uint64_t p = c->a[c->nr == SYS_clock_adjtime ? 1 : 0];
	const void *copy;
	size_t len;

	switch (c->nr) {
	case SYS_capget:
	case SYS_capset:
		/*
		 * Linux writes its version when it did not know the one
		 * given (EINVAL, or 0 for capget's version query).
		 */
		copy = &c->caph;
		len = sizeof(c->caph.version);
		box_lock_read();
		if (owns(p, len, PROT_READ | PROT_WRITE) &&
		    *(volatile uint32_t *)p != c->caph.version)
			memcpy((void *)p, copy, len);
		box_unlock();
		return;
	case SYS_adjtimex:
	case SYS_clock_adjtime:
		if (c->ret < 0)
			return;
		copy = &c->tx;
		len = sizeof(c->tx);
		break;
	default:
		return;
	}
	/* checked again: another thread may have unmapped it */
	box_lock_read();
	if (owns(p, len, PROT_READ | PROT_WRITE))
		memcpy((void *)p, copy, len);
	box_unlock();
}
