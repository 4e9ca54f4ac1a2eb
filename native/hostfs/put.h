/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small file copied out of an image, made whole on the host in one
 * call: contents, owner, xattrs, mode and times (cpfromfs).  The path
 * comes from the image, which may be hostile: it is made in a
 * destination (dest.h), so nothing is written outside it or through a
 * symlink.
 */
#ifndef LKL_NATIVE_HOSTFS_PUT_H
#define LKL_NATIVE_HOSTFS_PUT_H

#include <stddef.h>
#include "dest.h"

/*
 * Create @rel in @d, replacing a non-directory of that name, with @len
 * bytes of @data and the metadata @m, kept as hostfs_fd_set_meta() says.
 * Returns 0 or a negative errno.
 */
long hostfs_put_file(struct hostfs_dest *d, const char *rel, const void *data,
		     size_t len, const struct lkl_put_meta *m, int lenient,
		     struct hostfs_meta_result *res);

#endif
