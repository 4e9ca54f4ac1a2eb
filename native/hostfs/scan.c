// SPDX-License-Identifier: GPL-2.0
/*
 * Directory scans (scan.h) on the host, for copies from host trees into
 * an image: the same one-trip-per-directory shape as on the image side.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../copy/scan.h"

static long result(long r)
{
	return r < 0 ? -errno : r;
}

static long h_lstat(long dir, const char *name, struct lkl_statx *st)
{
	return result(syscall(SYS_statx, (int)dir, name,
			      AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
			      STATX_BASIC_STATS | STATX_BTIME, st));
}

static long h_open_file(long dir, const char *name)
{
	return result(openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
}

static long h_pread(long fd, void *buf, size_t len, long long off)
{
	return result(pread(fd, buf, len, off));
}

static long h_readahead(long fd, size_t len)
{
	return result(readahead(fd, 0, len));
}

static long h_close(long fd)
{
	return result(close(fd));
}

static long h_getdents64(long dir, void *buf, size_t len)
{
	return result(syscall(SYS_getdents64, (int)dir, buf, len));
}

static long h_readlinkat(long dir, const char *name, char *buf, size_t len)
{
	return result(readlinkat(dir, name, buf, len));
}

static long h_llistxattr(const char *path, char *list, size_t len)
{
	return result(llistxattr(path, list, len));
}

static long h_lgetxattr(const char *path, const char *name, void *value,
			size_t len)
{
	return result(lgetxattr(path, name, value, len));
}

static const struct scan_sys hostfs_scan_sys = {
	.lstat = h_lstat,
	.open_file = h_open_file,
	.pread = h_pread,
	.readahead = h_readahead,
	.close = h_close,
	.getdents64 = h_getdents64,
	.readlinkat = h_readlinkat,
	.llistxattr = h_llistxattr,
	.lgetxattr = h_lgetxattr,
};

long hostfs_scan(const char *path, size_t inline_max, size_t budget,
	       scan_fn fn, void *ctx)
{
	long dir, ret;

	dir = result(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (dir < 0)
		return dir;
	ret = scan_dir(&hostfs_scan_sys, dir, inline_max, budget, fn, ctx);
	close(dir);
	return ret;
}
