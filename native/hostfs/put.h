/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small file copied out of an image, made whole on the host in one
 * call: contents, owner, xattrs, mode and times (cpfromfs).  The path
 * comes from the image, which may be hostile: it is walked from the
 * destination one component at a time, never following a symlink, so
 * nothing is written outside the destination or through a link.
 */
#ifndef LKL_NATIVE_HOSTFS_PUT_H
#define LKL_NATIVE_HOSTFS_PUT_H

#include <stddef.h>
#include "../kernel/put.h"

/* What could not be kept, as an unprivileged user may not chown or set trusted.* */
struct hostfs_put_result {
	int chown_failed;
	int xattrs_failed;
};

/*
 * Create @rel (relative, "/"-separated, no "", "." or ".." components)
 * under the directory @base, replacing a non-directory of that name.
 * An xattr refused with EPERM (trusted.* for a user) or EOPNOTSUPP (the
 * host's filesystem lacks it) is counted in @res instead of failing, and
 * so, with @lenient (not root), is a chown refused with EPERM.  Returns 0
 * or a negative errno.
 */
long hostfs_put_file(const char *base, const char *rel, const void *data,
		   size_t len, const struct lkl_put_meta *m, int lenient,
		   struct hostfs_put_result *res);

#endif
