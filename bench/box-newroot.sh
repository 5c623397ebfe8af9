#!/bin/sh
# SPDX-License-Identifier: MIT
#
# box-newroot CMD [ARGS...]: run CMD where it can pivot_root.
#
# bwrap and runsc pivot_root into their new roots, which Linux refuses
# while / is the initial ramfs ("rootfs", as in tools/dune-vm's machine;
# pivot_root(2): EINVAL).  There CMD runs as after switch_root: in a
# mount namespace of its own, / bind-mounted onto itself and moved over
# the ramfs, chroot'ed into it.  Linux does not count that as a chroot
# (it looks through mounts stacked on the namespace's root), so user
# namespaces still work in it.  Elsewhere CMD runs directly.
if [ "$(awk '$2 == "/" { print $3; exit }' /proc/mounts)" = rootfs ]; then
	mkdir -p /.box-newroot &&
	exec busybox unshare -m sh -c 'mount -o rbind / /.box-newroot &&
		cd /.box-newroot && mount -o move . / &&
		exec chroot . "$@"' box-newroot "$@"
fi
exec "$@"
