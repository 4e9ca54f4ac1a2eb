/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One directory's entries with everything a copy needs of each (status,
 * extended attributes, a symlink's target, a small file's contents), in
 * one pass on one host thread.  Copying a tree of small files is bound by
 * the number of calls into the kernel and, from Node, by the number of
 * trips through the thread pool; this makes that one trip per directory.
 */
#ifndef LKL_NATIVE_LKL_SCAN_H
#define LKL_NATIVE_LKL_SCAN_H

#include <stddef.h>
#include "lkl_host.h"

/*
 * What the scan learnt about one entry.  Each part comes with its own
 * error (0, or a negative errno), so that one unreadable entry costs its
 * caller a second look at that entry only, through the usual calls that
 * report the error with its path.  Pointers are valid during the callback.
 */
struct lkl_scan_entry {
	const char *name;
	struct lkl_statx st;
	long stat_err;
	/* "name\0" followed by a 4-byte little-endian length and the value */
	const char *xattrs;
	size_t xattrs_len;
	long xattrs_err;
	const char *link;		/* a symlink's target */
	size_t link_len;
	long link_err;
	const char *data;		/* a small regular file's contents */
	size_t data_len;
	long data_err;			/* -LKL_EFBIG: not read, too large */
};

typedef int (*lkl_scan_fn)(void *ctx, const struct lkl_scan_entry *e);

/*
 * Scan the directory at @path inside @root.  Regular files of up to
 * @inline_max bytes are read while @budget bytes of contents remain;
 * none are if @inline_max is 0.
 * Returns 0, the callback's non-zero return, or a negative errno for the
 * directory itself.
 */
long lkl_fs_scan(int root, const char *path, size_t inline_max, size_t budget,
		 lkl_scan_fn fn, void *ctx);

#endif
