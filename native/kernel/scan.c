// SPDX-License-Identifier: GPL-2.0
/* Directory scans (scan.h) on the kernel in lkl.o. */
#include "fs.h"
#include "../copy/scan.h"

static long k_lstat(long dir, const char *name, struct lkl_statx *st)
{
	return lkl_sys5(LKL___NR_statx, dir, name,
			LKL_AT_SYMLINK_NOFOLLOW | LKL_AT_STATX_SYNC_AS_STAT,
			LKL_STATX_BASIC_STATS | LKL_STATX_BTIME, st);
}

static long k_open_file(long dir, const char *name)
{
	return lkl_sys4(LKL___NR_openat, dir, name,
			LKL_O_RDONLY | LKL_O_NOFOLLOW | LKL_O_CLOEXEC, 0);
}

static long k_pread(long fd, void *buf, size_t len, long long off)
{
	return lkl_sys4(LKL___NR_pread64, fd, buf, len, off);
}

static long k_readahead(long fd, size_t len)
{
	return lkl_sys3(LKL___NR_readahead, fd, 0, len);
}

static long k_close(long fd)
{
	return lkl_sys1(LKL___NR_close, fd);
}

static long k_getdents64(long dir, void *buf, size_t len)
{
	return lkl_sys3(LKL___NR_getdents64, dir, buf, len);
}

static long k_readlinkat(long dir, const char *name, char *buf, size_t len)
{
	return lkl_sys4(LKL___NR_readlinkat, dir, name, buf, len);
}

static long k_llistxattr(const char *path, char *list, size_t len)
{
	return lkl_sys3(LKL___NR_llistxattr, path, list, len);
}

static long k_lgetxattr(const char *path, const char *name, void *value,
			size_t len)
{
	return lkl_sys4(LKL___NR_lgetxattr, path, name, value, len);
}

static const struct scan_sys kernel_scan_sys = {
	.lstat = k_lstat,
	.open_file = k_open_file,
	.pread = k_pread,
	.readahead = k_readahead,
	.close = k_close,
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
	k_close(dir);
	return ret;
}
