// SPDX-License-Identifier: GPL-2.0
/* Directory scans (scan.h) on the kernel in lkl.o. */
#include "fs.h"
#include "kcall.h"
#include "../copy/scan.h"

static long scan_open_file(long dir, const char *name)
{
	return k_openat(dir, name, LKL_O_RDONLY | LKL_O_NOFOLLOW | LKL_O_CLOEXEC,
			0);
}

static long scan_readahead(long fd, size_t len)
{
	return k_readahead(fd, 0, len);
}

static const struct scan_sys kernel_scan_sys = {
	.lstat = k_lstatat,
	.open_file = scan_open_file,
	.pread = k_pread,
	.readahead = scan_readahead,
	/* a scan reads each small file once, for a copy */
	.close = lkl_fs_close_uncached,
	.getdents64 = k_getdents64,
	.readlinkat = k_readlinkat,
	.llistxattr = k_llistxattr,
	.lgetxattr = k_lgetxattr,
};

long lkl_fs_scan(int root, const char *path, size_t inline_max, size_t budget,
		 scan_fn fn, void *ctx)
{
	long dir, ret;

	dir = lkl_fs_open(root, path, LKL_O_RDONLY | LKL_O_DIRECTORY, 0);
	if (dir < 0)
		return dir;
	ret = scan_dir(&kernel_scan_sys, dir, inline_max, budget, fn, ctx);
	/* Read only: its close cannot change what the scan found. */
	k_close(dir);
	return ret;
}
