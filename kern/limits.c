// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a user may make the kernel hold: contexts and vCPUs counted per
 * process (per mm, which is what a context is bound to) and per user (the
 * real uid of the caller, as RLIMIT_NPROC counts), bounded by module
 * parameters; and counters of every kind of object dune.ko allocates, in
 * debugfs (/sys/kernel/debug/dune/), so leaks show up in tests.
 */
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "dune.h"

/*
 * Defaults: far more than a program has threads in practice (one vCPU per
 * thread), far less than what exhausts the 16-bit VPID space or kernel
 * memory (a vCPU costs about 6 KiB: VMCS page, struct, file).
 */
static unsigned int max_vcpus_per_process = 1024;
module_param(max_vcpus_per_process, uint, 0644);
MODULE_PARM_DESC(max_vcpus_per_process, "vCPUs one process may have (EMFILE beyond)");
static unsigned int max_vcpus_per_user = 4096;
module_param(max_vcpus_per_user, uint, 0644);
MODULE_PARM_DESC(max_vcpus_per_user, "vCPUs one user (real uid) may have (EAGAIN beyond)");
static unsigned int max_contexts_per_process = 64;
module_param(max_contexts_per_process, uint, 0644);
MODULE_PARM_DESC(max_contexts_per_process, "Dune contexts (/dev/dune opens in use) one process may have (EMFILE beyond)");
static unsigned int max_contexts_per_user = 1024;
module_param(max_contexts_per_user, uint, 0644);
MODULE_PARM_DESC(max_contexts_per_user, "Dune contexts one user (real uid) may have (EAGAIN beyond)");

struct dune_stat_counters dune_stats;

/* A process (mm) or a user (uid) and what it holds. */
struct dune_acct {
	struct hlist_node node;
	struct mm_struct *mm;		/* NULL for a user */
	kuid_t uid;
	unsigned int nr_contexts, nr_vcpus;
};

static DEFINE_HASHTABLE(acct_table, 7);
static DEFINE_MUTEX(acct_lock);

static unsigned long acct_key(struct mm_struct *mm, kuid_t uid)
{
	return mm ? (unsigned long)mm : __kuid_val(uid);
}

/* Find or make the entry; NULL if out of memory.  Under acct_lock. */
static struct dune_acct *acct_get(struct mm_struct *mm, kuid_t uid)
{
	unsigned long key = acct_key(mm, uid);
	struct dune_acct *a;

	hash_for_each_possible(acct_table, a, node, key)
		if (a->mm == mm && (mm || uid_eq(a->uid, uid)))
			return a;
	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return NULL;
	a->mm = mm;
	a->uid = uid;
	hash_add(acct_table, &a->node, key);
	return a;
}

/* Drop an entry nothing is counted in any more.  Under acct_lock. */
static void acct_drop(struct dune_acct *a)
{
	if (a && !a->nr_contexts && !a->nr_vcpus) {
		hash_del(&a->node);
		kfree(a);
	}
}

/*
 * One more object in a process's count @proc and a user's count @user,
 * each within its limit: -EMFILE over the process's, -EAGAIN over the
 * user's.  Under acct_lock.
 */
static int acct_add(unsigned int *proc, unsigned int proc_max,
		    unsigned int *user, unsigned int user_max)
{
	if (*proc >= proc_max)
		return -EMFILE;
	if (*user >= user_max)
		return -EAGAIN;
	(*proc)++;
	(*user)++;
	return 0;
}

int acct_ctx_charge(struct dune_ctx *ctx)
{
	struct dune_acct *proc, *user;
	int r = -ENOMEM;

	mutex_lock(&acct_lock);
	proc = acct_get(ctx->mm, GLOBAL_ROOT_UID);
	user = acct_get(NULL, current_uid());
	if (!proc || !user)
		goto out;
	r = acct_add(&proc->nr_contexts, READ_ONCE(max_contexts_per_process),
		     &user->nr_contexts, READ_ONCE(max_contexts_per_user));
	if (r)
		goto out;
	ctx->acct_proc = proc;
	ctx->acct_user = user;
	atomic_inc(&dune_stats.contexts);
	r = 0;
out:
	if (r) {
		acct_drop(proc);
		acct_drop(user);
	}
	mutex_unlock(&acct_lock);
	return r;
}

void acct_ctx_uncharge(struct dune_ctx *ctx)
{
	mutex_lock(&acct_lock);
	ctx->acct_proc->nr_contexts--;
	ctx->acct_user->nr_contexts--;
	acct_drop(ctx->acct_proc);
	acct_drop(ctx->acct_user);
	atomic_dec(&dune_stats.contexts);
	mutex_unlock(&acct_lock);
}

int acct_vcpu_charge(struct dune_ctx *ctx, struct dune_acct **userp)
{
	struct dune_acct *proc = ctx->acct_proc, *user;
	int r = -ENOMEM;

	mutex_lock(&acct_lock);
	user = acct_get(NULL, current_uid());
	if (!user)
		goto out;
	r = acct_add(&proc->nr_vcpus, READ_ONCE(max_vcpus_per_process),
		     &user->nr_vcpus, READ_ONCE(max_vcpus_per_user));
	if (r)
		goto out;
	*userp = user;
	atomic_inc(&dune_stats.vcpus);
	r = 0;
out:
	if (r)
		acct_drop(user);
	mutex_unlock(&acct_lock);
	return r;
}

void acct_vcpu_uncharge(struct dune_ctx *ctx, struct dune_acct *user)
{
	mutex_lock(&acct_lock);
	ctx->acct_proc->nr_vcpus--;
	user->nr_vcpus--;
	acct_drop(user);
	atomic_dec(&dune_stats.vcpus);
	mutex_unlock(&acct_lock);
}

static struct dentry *dune_debugfs;

void dune_debugfs_init(void)
{
	struct dentry *d = debugfs_create_dir("dune", NULL);

	/* debugfs is optional: counters for tests and curious admins. */
	if (IS_ERR_OR_NULL(d))
		return;
	dune_debugfs = d;
	debugfs_create_atomic_t("contexts", 0444, d, &dune_stats.contexts);
	debugfs_create_atomic_t("vcpus", 0444, d, &dune_stats.vcpus);
	debugfs_create_atomic_t("vcpus_without_vpid", 0444, d,
				&dune_stats.vcpus_without_vpid);
	debugfs_create_atomic_t("vmcs_pages", 0444, d, &dune_stats.vmcs_pages);
	debugfs_create_atomic_t("ept_tables", 0444, d, &dune_stats.ept_tables);
	debugfs_create_atomic_t("ept_cache_pages", 0444, d,
				&dune_stats.ept_cache_pages);
}

void dune_debugfs_exit(void)
{
	debugfs_remove(dune_debugfs);
}
