// SPDX-License-Identifier: GPL-2.0
/* The FUSE ioctls passed on to the kernel: those of chattr and lsattr. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "ops.h"
#include "../kernel/kcall.h"

/*
 * The size of @cmd's argument if it is one of the ioctls passed on, or 0.
 * Only those of chattr and lsattr (through the host kernel's fileattr
 * calls), whose argument is a plain value: the kernel library has no
 * user/kernel boundary, so an argument holding a pointer would let the
 * caller point the kernel at the server's own memory.
 */
static size_t ioctl_arg_size(unsigned int cmd)
{
	switch (cmd) {
	case LKL_FS_IOC_GETFLAGS:
	case LKL_FS_IOC_SETFLAGS:
		/* Declared long, but an int is what the kernels pass. */
		return sizeof(int);
	case LKL_FS_IOC_FSGETXATTR:
	case LKL_FS_IOC_FSSETXATTR:
		return sizeof(struct lkl_fsxattr);
	default:
		return 0;
	}
}

/*
 * The host kernel checked already that the caller may change the flags
 * (owner, CAP_LINUX_IMMUTABLE for immutable and append-only).
 */
void lklfuse_op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		     void *arg, struct fuse_file_info *fi, unsigned int flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	size_t size = ioctl_arg_size(cmd);
	union {
		int flags;
		struct lkl_fsxattr fsx;
	} buf;
	long r;

	(void)ino;
	(void)arg;
	if (!size || (flags & FUSE_IOCTL_COMPAT)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	memset(&buf, 0, sizeof(buf));
	if (LKL__IOC_DIR(cmd) & LKL__IOC_WRITE) {
		if (in_bufsz < size) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		memcpy(&buf, in_buf, size);
	}
	r = k_ioctl(file_of(fi)->fd, cmd, &buf);
	if (r < 0)
		reply_result(req, r);
	else if (LKL__IOC_DIR(cmd) & LKL__IOC_READ)
		fuse_reply_ioctl(req, r, &buf, size < out_bufsz ? size :
				 out_bufsz);
	else
		fuse_reply_ioctl(req, r, NULL, 0);
}
