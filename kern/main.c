// SPDX-License-Identifier: GPL-2.0-only
/*
 * dune.ko entry points: module load/unload and the /dev/dune ioctl surface.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>

#include "dune.h"

/*
 * An open /dev/dune.  The Dune context (and VMX operation) is made on the
 * first ioctl that needs it, bound to the caller's address space: a mere
 * DUNE_GET_CAPS works even while another hypervisor holds VT-x.
 */
struct dune_file {
	struct mutex lock;
	struct dune_ctx *ctx;
};

static int dune_dev_open(struct inode *inode, struct file *filp)
{
	struct dune_file *df = kzalloc(sizeof(*df), GFP_KERNEL_ACCOUNT);

	if (!df)
		return -ENOMEM;
	mutex_init(&df->lock);
	filp->private_data = df;
	return 0;
}

static int dune_dev_release(struct inode *inode, struct file *filp)
{
	struct dune_file *df = filp->private_data;

	if (df->ctx) {
		ctx_destroy(df->ctx);
		vmx_put();
	}
	kfree(df);
	return 0;
}

/* The caller's context, made on first use; only its own mm may use it. */
static struct dune_ctx *dune_file_ctx(struct dune_file *df)
{
	struct dune_ctx *ctx;
	int r;

	if (!current->mm)
		return ERR_PTR(-EINVAL);
	mutex_lock(&df->lock);
	ctx = df->ctx;
	if (!ctx) {
		r = vmx_get();
		if (r) {
			ctx = ERR_PTR(r);
			goto out;
		}
		ctx = ctx_create();
		if (IS_ERR(ctx)) {
			vmx_put();
			goto out;
		}
		df->ctx = ctx;
	} else if (ctx->mm != current->mm) {
		/* e.g. a child after fork: it must open /dev/dune itself */
		ctx = ERR_PTR(-EBADFD);
	}
out:
	mutex_unlock(&df->lock);
	return ctx;
}

static long dune_dev_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct dune_file *df = filp->private_data;
	void __user *uarg = (void __user *)arg;
	struct dune_slot slot;
	struct dune_ctx *ctx;

	switch (cmd) {
	case DUNE_GET_CAPS:
		if (copy_to_user(uarg, &vmx_caps.uapi, sizeof(vmx_caps.uapi)))
			return -EFAULT;
		return 0;
	case DUNE_SET_SLOT:
		if (copy_from_user(&slot, uarg, sizeof(slot)))
			return -EFAULT;
		ctx = dune_file_ctx(df);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		return ctx_set_slot(ctx, &slot);
	case DUNE_CREATE_VCPU:
		ctx = dune_file_ctx(df);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		return vcpu_create(filp, ctx, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations dune_dev_fops = {
	.owner = THIS_MODULE,
	.open = dune_dev_open,
	.release = dune_dev_release,
	.unlocked_ioctl = dune_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice dune_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = DUNE_DEVICE_NAME,
	.fops = &dune_dev_fops,
	.mode = 0666,
};

static int __init dune_init(void)
{
	int r;

	r = dune_probe_caps();
	if (r)
		return r;
	r = vcpu_init();
	if (r)
		return r;
	r = vmx_init();
	if (r)
		goto exit_vcpu;
	r = misc_register(&dune_miscdev);
	if (r) {
		pr_err("dune: cannot register /dev/%s: %d\n", DUNE_DEVICE_NAME,
		       r);
		goto exit_vmx;
	}
	dune_debugfs_init();
	pr_info("dune: ready, API version %d\n", DUNE_API_VERSION);
	return 0;

exit_vmx:
	vmx_exit();
exit_vcpu:
	vcpu_exit();
	return r;
}

static void __exit dune_exit(void)
{
	misc_deregister(&dune_miscdev);
	dune_debugfs_exit();
	vmx_exit();
	vcpu_exit();
	pr_info("dune: unloaded\n");
}

module_init(dune_init);
module_exit(dune_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Dune: run Linux processes in VMX non-root mode");
