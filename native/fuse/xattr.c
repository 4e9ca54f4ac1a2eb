// SPDX-License-Identifier: GPL-2.0
/*
 * The FUSE xattr operations: set, get, list and remove.
 *
 * What the host kernel checks before such a request reaches us (its
 * fs/xattr.c, fs/posix_acl.c and security/commoncap.c), for the caller:
 *
 * - trusted.*: getting, setting and removing need CAP_SYS_ADMIN (the
 *   host answers ENODATA or EPERM itself).  Whether a list shows the
 *   names is the filesystem's to say: ext4 and XFS show them only to
 *   CAP_SYS_ADMIN, btrfs to everyone.
 * - security.*: setting and removing need CAP_SYS_ADMIN, and
 *   security.capability CAP_SETFCAP; reading is free.
 * - system.posix_acl_*: setting needs the owner or CAP_FOWNER.  Whether
 *   it also clears the set-group-ID bit (a caller outside the file's
 *   group, without CAP_FSETID) is the filesystem's to do.
 * - user.*: only on regular files and directories; on a sticky
 *   directory, only by its owner or CAP_FOWNER; the file's modes with
 *   default_permissions.
 * - No write to an immutable or append-only inode: the host does not
 *   know the flags, the kernel here refuses whoever asks.
 *
 * So a get runs as root; a set or a remove runs as the caller, keeping
 * the capabilities of what the host checked (caller.h), for what the
 * filesystem decides (that bit, and root's reserved blocks); and a list
 * runs as root, and again as the caller when it has trusted.* names and
 * the caller lacks CAP_SYS_ADMIN, for the filesystem to leave them out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "caller.h"
#include "ops.h"
#include "../kernel/kcall.h"

enum xattr_op { XATTR_SET, XATTR_GET, XATTR_LIST, XATTR_REMOVE };

/*
 * An xattr call on inode @ino, through its /proc/self/fd/ name: the
 * f*xattr() calls refuse O_PATH descriptors.  @value is what a set
 * writes, @buf what a get or a list fills.  As @caller, keeping @keep,
 * unless @caller is NULL.
 */
static long xattr_call(fuse_req_t req, fuse_ino_t ino, enum xattr_op op,
		       const char *name, const void *value, char *buf,
		       size_t size, int flags,
		       const struct lklfuse_caller *caller, uint64_t keep)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node = node_of(req, ino);
	struct lklfuse_creds saved;
	char path[K_FDPATH_LEN];
	long r = get_fd(lf, node);
	int fd;

	if (r < 0)
		return r;
	fd = r;
	if (caller) {
		r = lklfuse_caller_enter(lf, &saved, caller, keep, 0);
		if (r < 0)
			goto out;
	}
	k_fd_path(path, fd);
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
	if (caller)
		lklfuse_caller_leave(lf, &saved);
out:
	put_fd(lf, node);
	return r;
}

/* A set or a remove, as the caller. */
static long change_as_caller(fuse_req_t req, fuse_ino_t ino,
			     enum xattr_op op, const char *name,
			     const void *value, size_t size, int flags)
{
	struct lklfuse_caller caller;
	long r = lklfuse_caller_get(req, &caller);

	if (r < 0)
		return r;
	r = xattr_call(req, ino, op, name, value, NULL, size, flags, &caller,
		       LKLFUSE_CAPS_HOST_CHECKED);
	lklfuse_caller_put(&caller);
	/*
	 * An ACL changes the mode too (and may take the set-group-ID bit
	 * away), which the host, keeping its own ctime with the writeback
	 * cache, would not ask for again for a second.  Attributes only:
	 * that takes no lock the caller holds.  Whether the host had them
	 * at all does not matter.
	 */
	if (r >= 0)
		(void)fuse_lowlevel_notify_inval_inode(lf_of(req)->se, ino,
						       -1, 0);
	return r;
}

void lklfuse_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	reply_result(req, change_as_caller(req, ino, XATTR_SET, name, value,
					   size, flags));
}

void lklfuse_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	reply_result(req, change_as_caller(req, ino, XATTR_REMOVE, name, NULL,
					   0, 0));
}

/* getxattr and listxattr: a size query, or the value itself. */
static void reply_xattr_result(fuse_req_t req, size_t size, const char *buf,
			       long n)
{
	if (n < 0)
		reply_result(req, n);
	else if (!size)
		fuse_reply_xattr(req, n);
	else if ((size_t)n > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, n);
}

void lklfuse_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
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
			   xattr_call(req, ino, XATTR_GET, name, NULL, buf,
				      size, 0, NULL, 0));
}

static bool lists_trusted(const char *list, size_t len)
{
	static const char prefix[] = LKL_XATTR_TRUSTED_PREFIX;
	size_t i = 0;

	while (i < len) {
		if (!strncmp(list + i, prefix, sizeof(prefix) - 1))
			return true;
		i += strnlen(list + i, len - i) + 1;
	}
	return false;
}

/*
 * Always the whole list, as root, whatever @size: a list for the caller
 * may be shorter than root's, and fit where root's would not.
 */
void lklfuse_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf = lklfuse_scratch(lf_of(req), LKL_XATTR_LIST_MAX);
	struct lklfuse_caller caller;
	long n, r;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = xattr_call(req, ino, XATTR_LIST, NULL, NULL, buf,
		       LKL_XATTR_LIST_MAX, 0, NULL, 0);
	if (n > 0 && lists_trusted(buf, n)) {
		r = lklfuse_caller_get(req, &caller);
		if (r < 0)
			n = r;
		else if (!lklfuse_caller_capable(&caller, CAP_SYS_ADMIN))
			n = xattr_call(req, ino, XATTR_LIST, NULL, NULL, buf,
				       LKL_XATTR_LIST_MAX, 0, &caller,
				       LKLFUSE_CAPS_DAC);
		lklfuse_caller_put(&caller);
	}
	reply_xattr_result(req, size, buf, n);
}
