/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whole nodes written in one call, for copies into an image: a small
 * file with its contents and metadata, a symbolic link with its metadata,
 * a directory, or the metadata of a node already made.  Each is a row of the calls in fs.h, made from one host thread
 * so that a copy costs one trip through Node's thread pool per node.
 */
#ifndef LKL_NATIVE_KERNEL_PUT_H
#define LKL_NATIVE_KERNEL_PUT_H

#include <stddef.h>
#include "kernel.h"

struct lkl_put_meta {
	unsigned int uid;
	unsigned int gid;
	int mode;			/* permission bits; -1 leaves them (symlinks) */
	struct lkl___kernel_timespec times[2];	/* atime, mtime */
	/* packed as xattr_pack.h says */
	const char *xattrs;
	size_t xattrs_len;
};

/*
 * Owner, xattrs (those a filesystem does not support, such as all of
 * them on vfat, are let be),
 * mode and times, in that order: chown clears set-id bits and chmod
 * would not restore them after it, and times go last because every
 * other change touches them.
 */
long lkl_fs_set_meta(int root, const char *path, int follow,
		     const struct lkl_put_meta *m);

/*
 * Create the regular file @path with @len bytes of @data, replacing a
 * non-directory of that name (never writing through a symlink), then
 * set its metadata.
 */
long lkl_fs_put_file(int root, const char *path, const void *data, size_t len,
		     const struct lkl_put_meta *m);

/*
 * Create the symbolic link @path to @target, replacing a non-directory
 * of that name, then set its owner, xattrs and times (never following
 * it; @m's mode is not used: a link has none of its own).
 */
long lkl_fs_put_symlink(int root, const char *path, const char *target,
			const struct lkl_put_meta *m);

/*
 * Make the directory @path with @mode, replacing a non-directory of that
 * name; one already there is kept as it is.
 */
long lkl_fs_put_dir(int root, const char *path, int mode);

#endif
