// SPDX-License-Identifier: GPL-2.0
/*
 * The FUSE ioctls passed on to the kernel: those of chattr and lsattr,
 * of xfs_io's lsattr, chattr and chproj, fstrim's, and btrfs subvolume
 * creation.
 *
 * The host passes only ioctls whose argument is a plain buffer of the
 * size the command encodes (a restricted ioctl), and only such are
 * passed on: the kernel library has no user/kernel boundary, so an
 * argument holding a pointer would point the kernel at the server's own
 * memory, and a descriptor in it is the caller's, meaningless here.
 * That leaves out btrfs snapshots (the source is a descriptor), a new
 * subvolume's quota group inheritance (a pointer), and the ioctls the
 * host does not pass at all.
 *
 * What the host checks first: the flags and fsxattr ioctls come to us
 * through its vfs_fileattr_set(), which wants the owner or CAP_FOWNER,
 * CAP_LINUX_IMMUTABLE to change the immutable or append-only flag, and
 * the initial user namespace to change a project ID.  What the
 * filesystem decides (ext4's data journalling flag wants
 * CAP_SYS_RESOURCE; XFS drops set-user-ID and set-group-ID bits on a
 * change without CAP_FSETID) it decides for the caller: those ioctls run
 * as the caller, keeping the capabilities of what the host checked.
 * FITRIM and the btrfs ioctls come unchecked.  The filesystems want
 * CAP_SYS_ADMIN for FITRIM, and subvolume creation write and search
 * permission on the directory, and makes the new subvolume its
 * creator's: those run entirely as the caller, as on the host's own
 * mount.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
/* The host's: the kernel library's uapi headers leave btrfs out. */
#include <linux/btrfs.h>

#include "caller.h"
#include "ops.h"
#include "../kernel/kcall.h"

enum ioctl_run {
	RUN_AS_ROOT,		/* a read: nothing to check */
	RUN_AS_CALLER,		/* keeping what the host checked */
	RUN_ENTIRELY_AS_CALLER,	/* the host checked nothing */
};

struct carried_ioctl {
	unsigned int cmd;
	size_t size;
	enum ioctl_run run;
};

static const struct carried_ioctl carried[] = {
	/* Declared long, but an int is what the kernels pass. */
	{ LKL_FS_IOC_GETFLAGS, sizeof(int), RUN_AS_ROOT },
	{ LKL_FS_IOC_SETFLAGS, sizeof(int), RUN_AS_CALLER },
	{ LKL_FS_IOC_FSGETXATTR, sizeof(struct lkl_fsxattr), RUN_AS_ROOT },
	{ LKL_FS_IOC_FSSETXATTR, sizeof(struct lkl_fsxattr), RUN_AS_CALLER },
	{ LKL_FITRIM, sizeof(struct lkl_fstrim_range), RUN_ENTIRELY_AS_CALLER },
	{ BTRFS_IOC_SUBVOL_CREATE, sizeof(struct btrfs_ioctl_vol_args),
	  RUN_ENTIRELY_AS_CALLER },
	{ BTRFS_IOC_SUBVOL_CREATE_V2, sizeof(struct btrfs_ioctl_vol_args_v2),
	  RUN_ENTIRELY_AS_CALLER },
};

union ioctl_arg {
	int flags;
	struct lkl_fsxattr fsx;
	struct lkl_fstrim_range trim;
	struct btrfs_ioctl_vol_args vol;
	struct btrfs_ioctl_vol_args_v2 vol2;
};

static const struct carried_ioctl *carried_ioctl(unsigned int cmd)
{
	size_t i;

	for (i = 0; i < sizeof(carried) / sizeof(carried[0]); i++)
		if (carried[i].cmd == cmd)
			return &carried[i];
	return NULL;
}

/* What a carried argument may not hold: 0, or -errno. */
static long check_arg(unsigned int cmd, const union ioctl_arg *arg)
{
	/* qgroup_inherit is a pointer into the caller's memory. */
	if (cmd == BTRFS_IOC_SUBVOL_CREATE_V2 &&
	    (arg->vol2.flags & BTRFS_SUBVOL_QGROUP_INHERIT))
		return -EOPNOTSUPP;
	return 0;
}

static long ioctl_as(fuse_req_t req, int fd, const struct carried_ioctl *c,
		     union ioctl_arg *arg)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_caller caller;
	struct lklfuse_creds saved;
	long r;

	if (c->run == RUN_AS_ROOT)
		return k_ioctl(fd, c->cmd, arg);
	r = lklfuse_caller_get(req, &caller);
	if (r < 0)
		return r;
	if (c->run == RUN_AS_CALLER)
		r = lklfuse_caller_enter(lf, &saved, &caller,
					 LKLFUSE_CAPS_HOST_CHECKED, 0);
	else
		r = lklfuse_caller_enter(lf, &saved, &caller, 0,
					 LKLFUSE_CALLER_UMASK);
	if (!r) {
		r = k_ioctl(fd, c->cmd, arg);
		lklfuse_caller_leave(lf, &saved);
	}
	lklfuse_caller_put(&caller);
	return r;
}

void lklfuse_op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		     void *arg, struct fuse_file_info *fi, unsigned int flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	const struct carried_ioctl *c = carried_ioctl(cmd);
	union ioctl_arg buf;
	long r;

	(void)arg;
	if (!c || (flags & FUSE_IOCTL_COMPAT)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	memset(&buf, 0, sizeof(buf));
	if (LKL__IOC_DIR(cmd) & LKL__IOC_WRITE) {
		if (in_bufsz < c->size) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		memcpy(&buf, in_buf, c->size);
	}
	r = check_arg(cmd, &buf);
	if (!r)
		r = ioctl_as(req, file_of(fi)->fd, c, &buf);
	/*
	 * The host keeps the attributes it has for a second, and an ioctl
	 * does not make it forget them: a new ctime, a set-user-ID bit XFS
	 * took away, a directory's new subvolume (FITRIM changes none, and
	 * costs nothing more).  Attributes only: that
	 * takes no lock the caller may hold.  Whether the host had them
	 * at all does not matter.
	 */
	if (r >= 0 && c->run != RUN_AS_ROOT)
		(void)fuse_lowlevel_notify_inval_inode(lf_of(req)->se, ino,
						       -1, 0);
	if (r < 0)
		reply_result(req, r);
	else if (LKL__IOC_DIR(cmd) & LKL__IOC_READ)
		fuse_reply_ioctl(req, r, &buf, c->size < out_bufsz ? c->size :
				 out_bufsz);
	else
		fuse_reply_ioctl(req, r, NULL, 0);
}
