/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Filesystem operations confined to one mount.
 *
 * Every path is resolved inside @root, an O_PATH descriptor of the mount's
 * root directory, as if that directory were "/": "..", absolute paths and
 * absolute symlinks never reach the kernel's own root or another mount.
 * Each function returns its result or a negative errno.
 */
#ifndef LKL_NATIVE_KERNEL_FS_H
#define LKL_NATIVE_KERNEL_FS_H

#include <stddef.h>
#include "kernel.h"

/* A descriptor for @path; @resolve adds LKL_RESOLVE_* flags. */
long lkl_fs_open(int root, const char *path, int flags, int mode);
long lkl_fs_open_how(int root, const char *path, int flags, int mode,
		     unsigned long long resolve);

long lkl_fs_statx(int root, const char *path, int follow,
		  struct lkl_statx *st);
long lkl_fs_fstatx(int fd, struct lkl_statx *st);
/*
 * Close @fd, first dropping the file's pages from the kernel's cache: a
 * copy reads each file once.
 */
long lkl_fs_close_uncached(long fd);
/* pread(), then drop the pages read from the kernel's cache, for the same reason. */
long lkl_fs_pread_once(long fd, void *buf, size_t len, long long off);
long lkl_fs_readlink(int root, const char *path, char *buf, size_t len);
long lkl_fs_mkdir(int root, const char *path, int mode);
long lkl_fs_rmdir(int root, const char *path);
long lkl_fs_unlink(int root, const char *path);
long lkl_fs_rename(int root, const char *from, const char *to,
		   unsigned int flags);
long lkl_fs_link(int root, const char *existing, const char *path);
long lkl_fs_symlink(int root, const char *target, const char *path);
long lkl_fs_mknod(int root, const char *path, int mode, unsigned int major,
		  unsigned int minor);
long lkl_fs_chmod(int root, const char *path, int mode, int follow);
long lkl_fs_chown(int root, const char *path, unsigned int uid,
		  unsigned int gid, int follow);
/* Times in nanoseconds since the epoch; LKL_UTIME_OMIT/NOW in @nsec. */
long lkl_fs_utimens(int root, const char *path,
		    const struct lkl___kernel_timespec times[2], int follow);
long lkl_fs_truncate(int root, const char *path, long long len);
long lkl_fs_access(int root, const char *path, int mode);
long lkl_fs_statfs(int root, const char *path, struct lkl_statfs64 *st);
long lkl_fs_realpath(int root, const char *path, char *buf, size_t len);

long lkl_fs_getxattr(int root, const char *path, const char *name,
		     void *value, size_t size, int follow);
long lkl_fs_setxattr(int root, const char *path, const char *name,
		     const void *value, size_t size, int flags, int follow);
long lkl_fs_listxattr(int root, const char *path, char *list, size_t size,
		      int follow);
long lkl_fs_removexattr(int root, const char *path, const char *name,
			int follow);

/* Calls back for each entry of a directory, "." and ".." left out. */
typedef int (*lkl_fs_dirent_fn)(void *ctx, const char *name,
				unsigned char type, unsigned long long ino);
long lkl_fs_readdir(int root, const char *path, lkl_fs_dirent_fn fn,
		    void *ctx);

#endif /* LKL_NATIVE_KERNEL_FS_H */
