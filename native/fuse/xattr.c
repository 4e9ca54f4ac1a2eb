// SPDX-License-Identifier: GPL-2.0
/* The FUSE xattr operations: set, get, list and remove. */
#define _GNU_SOURCE
#include <errno.h>

#include "ops.h"
#include "../kernel/kcall.h"

enum xattr_op { XATTR_SET, XATTR_GET, XATTR_LIST, XATTR_REMOVE };

/*
 * An xattr call on inode @ino, through its /proc/self/fd/ name: the
 * f*xattr() calls refuse O_PATH descriptors.  @value is what a set
 * writes, @buf what a get or a list fills.
 */
static long xattr_call(fuse_req_t req, fuse_ino_t ino, enum xattr_op op,
		       const char *name, const void *value, char *buf,
		       size_t size, int flags)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node = node_of(req, ino);
	char path[K_FDPATH_LEN];
	long r = get_fd(lf, node);

	if (r < 0)
		return r;
	k_fd_path(path, r);
	switch (op) {
	case XATTR_SET:
		r = k_setxattr(path, name, value, size, flags);
		break;
	case XATTR_GET:
		r = k_getxattr(path, name, buf, size);
		break;
	case XATTR_LIST:
		r = k_listxattr(path, buf, size);
		break;
	default:
		r = k_removexattr(path, name);
		break;
	}
	put_fd(lf, node);
	return r;
}

void lklfuse_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	reply_result(req, xattr_call(req, ino, XATTR_SET, name, value, NULL,
				     size, flags));
}

/* getxattr and listxattr: a size query, or the value itself. */
static void reply_xattr_result(fuse_req_t req, size_t size, const char *buf,
			       long n)
{
	if (n < 0)
		reply_result(req, n);
	else if (!size)
		fuse_reply_xattr(req, n);
	else
		fuse_reply_buf(req, buf, n);
}

/* getxattr (@name) and listxattr (NULL), into this thread's scratch. */
static void get_or_list(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	char *buf = NULL;

	if (size) {
		buf = lklfuse_scratch(lf_of(req), size);
		if (!buf) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	reply_xattr_result(req, size, buf,
			   xattr_call(req, ino, name ? XATTR_GET : XATTR_LIST,
				      name, NULL, buf, size, 0));
}

void lklfuse_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	get_or_list(req, ino, name, size);
}

void lklfuse_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	get_or_list(req, ino, NULL, size);
}

void lklfuse_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	reply_result(req, xattr_call(req, ino, XATTR_REMOVE, name, NULL, NULL,
				     0, 0));
}
