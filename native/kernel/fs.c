// SPDX-License-Identifier: GPL-2.0
/*
 * Filesystem operations confined to one mount (see fs.h).
 *
 * The kernel does the confining: openat2() with RESOLVE_IN_ROOT resolves
 * a path as if the mount's root were "/".  Operations on a path's last
 * component either take the parent directory opened that way plus the
 * base name, or an O_PATH descriptor of the object itself; operations
 * that only exist for paths (the xattr calls) reach the object through
 * /proc/self/fd/<fd>, which the kernel resolves without leaving it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"
#include "kcall.h"

long lkl_fs_open_how(int root, const char *path, int flags, int mode,
		     unsigned long long resolve)
{
	struct lkl_open_how how = {
		.flags = (unsigned int)flags | LKL_O_CLOEXEC,
		.mode = (flags & (LKL_O_CREAT | LKL_O_TMPFILE)) ? mode : 0,
		.resolve = LKL_RESOLVE_IN_ROOT | LKL_RESOLVE_NO_MAGICLINKS |
			   resolve,
	};

	/*
	 * Direct I/O would have the kernel pin the caller's buffer as user
	 * pages, which this kernel without an MMU cannot do: it crashed the
	 * process.  Refused, as a filesystem without direct I/O refuses it.
	 */
	if (flags & LKL_O_DIRECT)
		return -LKL_EINVAL;
	if (!*path)
		path = ".";
	return k_openat2(root, path, &how);
}

long lkl_fs_open(int root, const char *path, int flags, int mode)
{
	return lkl_fs_open_how(root, path, flags, mode, 0);
}

static long open_path(int root, const char *path, int follow)
{
	return lkl_fs_open(root, path, LKL_O_PATH |
			   (follow ? 0 : LKL_O_NOFOLLOW), 0);
}

/*
 * For the O_PATH and read-only descriptors of this file: closing them
 * cannot lose a write, so their result says nothing to the caller.
 */
static void close_fd(long fd)
{
	k_close(fd);
}

/*
 * Open the directory that holds @path's last component, and point *@base
 * at that component inside @buf.  A path naming the root itself has no
 * parent: -EBUSY, as the kernel answers for operations on "/".
 */
static long open_parent(int root, const char *path, char *buf, size_t len,
			const char **base)
{
	size_t n = strlen(path);
	char *slash;
	long fd;

	if (n >= len)
		return -LKL_ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = 0;

	slash = strrchr(buf, '/');
	if (!slash) {
		*base = buf;
		fd = open_path(root, ".", 1);
	} else {
		*base = slash + 1;
		if (slash == buf) {
			fd = open_path(root, "/", 1);
		} else {
			*slash = 0;
			fd = open_path(root, buf, 1);
		}
	}
	if (fd >= 0 && (!**base || !strcmp(*base, "/"))) {
		close_fd(fd);
		return -LKL_EBUSY;
	}
	return fd;
}

#define WITH_PARENT(root, path, base, call)				\
	({								\
		char __buf[4096];					\
		const char *base;					\
		long __dir = open_parent(root, path, __buf,		\
					 sizeof(__buf), &base);		\
		long __ret = __dir;					\
									\
		if (__dir >= 0) {					\
			__ret = (call);					\
			close_fd(__dir);				\
		}							\
		__ret;							\
	})

#define WITH_OBJECT(root, path, follow, fd, call)			\
	({								\
		long fd = open_path(root, path, follow);		\
		long __ret = fd;					\
									\
		if (fd >= 0) {						\
			__ret = (call);					\
			close_fd(fd);					\
		}							\
		__ret;							\
	})

/*
 * Dropped pages let the next file's reads reuse memory the host has
 * already faulted in, instead of touching new pages until the kernel's
 * memory is full, which also made it most of a copy's size.
 */
long lkl_fs_close_uncached(long fd)
{
	/* Only a hint: the pages stay cached where it fails. */
	k_fadvise(fd, 0, 0, K_FADV_DONTNEED);
	return k_close(fd);
}

/*
 * Page by page as read: a large file's pages would otherwise pile up
 * until it closes, in memory the host faults in fresh.
 */
long lkl_fs_pread_once(long fd, void *buf, size_t len, long long off)
{
	long n = k_pread(fd, buf, len, off);

	/* Only a hint, as above. */
	if (n > 0)
		k_fadvise(fd, off, n, K_FADV_DONTNEED);
	return n;
}

long lkl_fs_fstatx(int fd, struct lkl_statx *st)
{
	return k_fstatx(fd, st);
}

long lkl_fs_statx(int root, const char *path, int follow,
		  struct lkl_statx *st)
{
	return WITH_OBJECT(root, path, follow, fd, lkl_fs_fstatx(fd, st));
}

long lkl_fs_readlink(int root, const char *path, char *buf, size_t len)
{
	/* By name in its directory, so a non-link gives EINVAL as it should. */
	return WITH_PARENT(root, path, base,
			   k_readlinkat(__dir, base, buf, len));
}

long lkl_fs_mkdir(int root, const char *path, int mode)
{
	return WITH_PARENT(root, path, base,
			   k_mkdirat(__dir, base, mode));
}

long lkl_fs_rmdir(int root, const char *path)
{
	return WITH_PARENT(root, path, base,
			   k_unlinkat(__dir, base, LKL_AT_REMOVEDIR));
}

long lkl_fs_unlink(int root, const char *path)
{
	return WITH_PARENT(root, path, base,
			   k_unlinkat(__dir, base, 0));
}

long lkl_fs_rename(int root, const char *from, const char *to,
		   unsigned int flags)
{
	char buf[4096];
	const char *base;
	long dir, ret;

	dir = open_parent(root, to, buf, sizeof(buf), &base);
	if (dir < 0)
		return dir;
	ret = WITH_PARENT(root, from, from_base,
			  k_renameat2(__dir, from_base, dir, base,
					      flags));
	close_fd(dir);
	return ret;
}

long lkl_fs_link(int root, const char *existing, const char *path)
{
	char buf[4096];
	const char *base;
	long dir, ret;

	dir = open_parent(root, path, buf, sizeof(buf), &base);
	if (dir < 0)
		return dir;
	/* Hard links are never followed through a symlink: link it itself. */
	ret = WITH_PARENT(root, existing, old_base,
			  k_linkat(__dir, old_base, dir, base, 0));
	close_fd(dir);
	return ret;
}

long lkl_fs_symlink(int root, const char *target, const char *path)
{
	return WITH_PARENT(root, path, base,
			   k_symlinkat(target, __dir, base));
}

long lkl_fs_mknod(int root, const char *path, int mode, unsigned int major,
		  unsigned int minor)
{
	/* The user-space encoding of a dev_t, as mknod(2) takes it. */
	unsigned int dev = (minor & 0xff) | (major << 8) |
			   ((minor & ~0xffU) << 12);

	return WITH_PARENT(root, path, base,
			   k_mknodat(__dir, base, mode, dev));
}

long lkl_fs_chmod(int root, const char *path, int mode, int follow)
{
	return WITH_OBJECT(root, path, follow, fd,
			   k_fchmodat2(fd, "", mode, LKL_AT_EMPTY_PATH));
}

long lkl_fs_chown(int root, const char *path, unsigned int uid,
		  unsigned int gid, int follow)
{
	return WITH_OBJECT(root, path, follow, fd,
			   k_fchownat(fd, "", uid, gid,
				      LKL_AT_EMPTY_PATH));
}

long lkl_fs_utimens(int root, const char *path,
		    const struct lkl___kernel_timespec times[2], int follow)
{
	return WITH_OBJECT(root, path, follow, fd,
			   k_utimensat(fd, "", times,
				       LKL_AT_EMPTY_PATH));
}

long lkl_fs_truncate(int root, const char *path, long long len)
{
	long fd = lkl_fs_open(root, path, LKL_O_WRONLY, 0);
	long ret, n;

	if (fd < 0)
		return fd;
	ret = k_ftruncate(fd, len);
	/* Open for writing: its close has a say. */
	n = k_close(fd);
	return ret ? ret : n;
}

long lkl_fs_access(int root, const char *path, int mode)
{
	return WITH_OBJECT(root, path, 1, fd,
			   k_faccessat2(fd, "", mode, LKL_AT_EMPTY_PATH));
}

long lkl_fs_statfs(int root, const char *path, struct lkl_statfs64 *st)
{
	return WITH_OBJECT(root, path, 1, fd,
			   k_fstatfs(fd, st));
}

long lkl_fs_realpath(int root, const char *path, char *buf, size_t len)
{
	char link[K_FDPATH_LEN], root_path[4096];
	long fd, n, rn;

	k_fd_path(link, root);
	rn = k_readlinkat(LKL_AT_FDCWD, link, root_path,
			  sizeof(root_path) - 1);
	if (rn < 0)
		return rn;
	root_path[rn] = 0;

	fd = open_path(root, path, 1);
	if (fd < 0)
		return fd;
	k_fd_path(link, fd);
	n = k_readlinkat(LKL_AT_FDCWD, link, buf, len - 1);
	close_fd(fd);
	if (n < 0)
		return n;
	buf[n] = 0;

	/* The kernel's path of the object, made relative to the mount. */
	if (strcmp(root_path, "/")) {
		if (strncmp(buf, root_path, rn) ||
		    (buf[rn] && buf[rn] != '/'))
			return -LKL_EXDEV;
		memmove(buf, buf + rn, n - rn + 1);
		if (!buf[0])
			strcpy(buf, "/");
	}
	return strlen(buf);
}

/*
 * The xattr calls take only paths.  /proc/self/fd/<dir>/<base> names the
 * entry, for the l* calls that do not follow it; /proc/self/fd/<fd> names
 * an object already resolved inside the root, for the calls that follow
 * that magic link to it.
 */
#define WITH_XATTR_PATH(root, path, follow, xpath, call)		\
	({								\
		char xpath[K_FDPATH_LEN + 4096];			\
		long __ret;						\
									\
		if (follow) {						\
			long __fd = open_path(root, path, 1);		\
									\
			__ret = __fd;					\
			if (__fd >= 0) {				\
				k_fd_path(xpath, __fd);		\
				__ret = (call);				\
				close_fd(__fd);				\
			}						\
		} else {						\
			__ret = WITH_PARENT(root, path, base, ({	\
				snprintf(xpath, sizeof(xpath),		\
					 "/proc/self/fd/%ld/%s",	\
					 __dir, base);			\
				(call);					\
			}));						\
		}							\
		__ret;							\
	})

long lkl_fs_getxattr(int root, const char *path, const char *name,
		     void *value, size_t size, int follow)
{
	return WITH_XATTR_PATH(root, path, follow, xpath,
			       (follow ? k_getxattr : k_lgetxattr)(xpath,
						name, value, size));
}

long lkl_fs_setxattr(int root, const char *path, const char *name,
		     const void *value, size_t size, int flags, int follow)
{
	return WITH_XATTR_PATH(root, path, follow, xpath,
			       (follow ? k_setxattr : k_lsetxattr)(xpath,
						name, value, size, flags));
}

long lkl_fs_listxattr(int root, const char *path, char *list, size_t size,
		      int follow)
{
	return WITH_XATTR_PATH(root, path, follow, xpath,
			       (follow ? k_listxattr : k_llistxattr)(xpath,
						list, size));
}

long lkl_fs_removexattr(int root, const char *path, const char *name,
			int follow)
{
	return WITH_XATTR_PATH(root, path, follow, xpath,
			       (follow ? k_removexattr :
				k_lremovexattr)(xpath, name));
}

long lkl_fs_readdir(int root, const char *path, lkl_fs_dirent_fn fn,
		    void *ctx)
{
	char buf[32768] __attribute__((aligned(8)));
	long fd, n, ret = 0;

	fd = lkl_fs_open(root, path, LKL_O_RDONLY | LKL_O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	while ((n = k_getdents64(fd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < n) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			ret = fn(ctx, d->d_name, d->d_type, d->d_ino);
			if (ret)
				goto out;
		}
	}
	ret = n;
out:
	close_fd(fd);
	return ret;
}
