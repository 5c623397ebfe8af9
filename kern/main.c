// SPDX-License-Identifier: GPL-2.0-only
/*
 * dune.ko entry points: module load/unload and the /dev/dune ioctl surface.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>

#include "dune.h"

static long dune_dev_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DUNE_GET_CAPS:
		if (copy_to_user(uarg, &vmx_caps.uapi, sizeof(vmx_caps.uapi)))
			return -EFAULT;
		return 0;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations dune_dev_fops = {
	.owner = THIS_MODULE,
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
	r = misc_register(&dune_miscdev);
	if (r) {
		pr_err("dune: cannot register /dev/%s: %d\n", DUNE_DEVICE_NAME,
		       r);
		return r;
	}
	pr_info("dune: ready, API version %d\n", DUNE_API_VERSION);
	return 0;
}

static void __exit dune_exit(void)
{
	misc_deregister(&dune_miscdev);
	pr_info("dune: unloaded\n");
}

module_init(dune_init);
module_exit(dune_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Dune: run Linux processes in VMX non-root mode");
