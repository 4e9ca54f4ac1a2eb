/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One directory's entries with everything a copy needs of each (status,
 * extended attributes, a symlink's target, a small file's contents), in
 * one pass on one thread.  Copying a tree of small files is bound by the
 * number of calls and, from Node, by the number of trips through the
 * thread pool; this makes that one trip per directory.  It runs on the
 * kernel in lkl.o (kernel/scan.c) or on the host's filesystem (hostfs/scan.c).
 */
#ifndef LKL_NATIVE_COPY_SCAN_H
#define LKL_NATIVE_COPY_SCAN_H

#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>
#include <lkl/uapi.h>

/*
 * The system calls a scan makes, each returning its result or a negative
 * errno.  struct lkl_statx has the layout of the host's struct statx.
 */
struct scan_sys {
	long (*lstat)(long dir, const char *name, struct lkl_statx *st);
	/* opens a regular file for reading, not following a symlink */
	long (*open_file)(long dir, const char *name);
	long (*pread)(long fd, void *buf, size_t len, long long off);
	long (*readahead)(long fd, size_t len);
	long (*close)(long fd);
	long (*getdents64)(long dir, void *buf, size_t len);
	long (*readlinkat)(long dir, const char *name, char *buf, size_t len);
	long (*llistxattr)(const char *path, char *list, size_t len);
	long (*lgetxattr)(const char *path, const char *name, void *value,
			  size_t len);
};

/*
 * What the scan learnt about one entry.  Each part comes with its own
 * error (0, or a negative errno), so that one unreadable entry costs its
 * caller a second look at that entry only, through the usual calls that
 * report the error with its path.  Pointers are valid during the callback;
 * the callback may keep @data (a malloc()ed buffer) by setting it to NULL.
 */
struct scan_entry {
	const char *name;
	struct lkl_statx st;
	long stat_err;
	/* packed as xattr_pack.h says */
	const char *xattrs;
	size_t xattrs_len;
	long xattrs_err;
	const char *link;		/* a symlink's target */
	size_t link_len;
	long link_err;
	char *data;			/* a small regular file's contents */
	size_t data_len;
	long data_err;			/* -EFBIG: not read, too large */
};

typedef int (*scan_fn)(void *ctx, struct scan_entry *e);

/*
 * Scan the open directory @dir.  Regular files of up to @inline_max bytes
 * are read while @budget bytes of contents remain; none are if
 * @inline_max is 0.  Returns 0, the callback's non-zero return, or a
 * negative errno for the directory itself.
 */
long scan_dir(const struct scan_sys *sys, long dir, size_t inline_max,
	      size_t budget, scan_fn fn, void *ctx);

/* The directory at @path inside the mount @root, on the kernel in lkl.o. */
long lkl_fs_scan(int root, const char *path, size_t inline_max, size_t budget,
		 scan_fn fn, void *ctx);

/* The directory at @path on the host (not following a final symlink). */
long hostfs_scan(const char *path, size_t inline_max, size_t budget,
	       scan_fn fn, void *ctx);

#endif
