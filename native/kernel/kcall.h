/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The system calls made into the kernel in lkl.o, typed: one place for
 * the argument order and casts of each, for kernel/ (fs.c, scan.c, put.c,
 * kernel.c) and the FUSE server.  Each returns its result or a negative
 * errno.  The kernel's errno, AT_* and S_* numbers are the host's on
 * Linux x86-64 and arm64; its O_* numbers are x86-64's, not arm64's, so
 * open flags from the host go through lkl_host_open_flags() first.
 *
 * Descriptors are longs, as struct scan_sys takes them, so that a scan
 * can point at these directly where the signatures match.
 */
#ifndef LKL_NATIVE_KERNEL_KCALL_H
#define LKL_NATIVE_KERNEL_KCALL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "kernel.h"
#include "dirent64.h"

/* Room for "/proc/self/fd/", any long and a NUL. */
#define K_FDPATH_LEN	40

/*
 * "/proc/self/fd/@fd": following it reaches the file @fd refers to, even
 * an O_PATH descriptor of a symlink (the symlink itself, not its target).
 * The path calls (xattrs, truncate) take it for descriptors they refuse.
 */
static inline void k_fd_path(char buf[K_FDPATH_LEN], long fd)
{
	snprintf(buf, K_FDPATH_LEN, "/proc/self/fd/%ld", fd);
}

/* ------------------------------------------------------------ open/close */

static inline long k_openat(long dir, const char *name, int flags, int mode)
{
	return lkl_sys4(LKL___NR_openat, dir, name, flags, mode);
}

static inline long k_openat2(long dir, const char *name,
			     const struct lkl_open_how *how)
{
	return lkl_sys4(LKL___NR_openat2, dir, name, how, sizeof(*how));
}

static inline long k_close(long fd)
{
	return lkl_sys1(LKL___NR_close, fd);
}

/* Close every descriptor from @first to @last (flags: 0, or CLOSE_RANGE_*). */
static inline long k_close_range(unsigned int first, unsigned int last,
				 unsigned int flags)
{
	return lkl_sys3(LKL___NR_close_range, first, last, flags);
}

/* struct file_handle, as name_to_handle_at fills it. */
struct k_file_handle {
	uint32_t bytes;
	int32_t type;
	unsigned char f[];
};

#define K_MAX_HANDLE_SZ	128

/* The file handle of what @fd refers to. */
static inline long k_name_to_handle(long fd, struct k_file_handle *h,
				    int *mount_id)
{
	return lkl_sys5(LKL___NR_name_to_handle_at, fd, "", h, mount_id,
			LKL_AT_EMPTY_PATH);
}

static inline long k_open_by_handle(long mount_fd, struct k_file_handle *h,
				    int flags)
{
	return lkl_sys3(LKL___NR_open_by_handle_at, mount_fd, h, flags);
}

/* ---------------------------------------------------------------- status */

/* Everything a copy or a FUSE reply shows; btime where the fs keeps it. */
#define K_STATX_MASK	(LKL_STATX_BASIC_STATS | LKL_STATX_BTIME)

static inline long k_statx(long dir, const char *name, int flags,
			   unsigned int mask, struct lkl_statx *stx)
{
	return lkl_sys5(LKL___NR_statx, dir, name, flags, mask, stx);
}

/* The status of @name in @dir, not following a symlink. */
static inline long k_lstatat(long dir, const char *name, struct lkl_statx *stx)
{
	return k_statx(dir, name,
		       LKL_AT_SYMLINK_NOFOLLOW | LKL_AT_STATX_SYNC_AS_STAT,
		       K_STATX_MASK, stx);
}

/* The status of what @fd refers to, an O_PATH symlink's included. */
static inline long k_fstatx(long fd, struct lkl_statx *stx)
{
	return k_statx(fd, "", LKL_AT_EMPTY_PATH | LKL_AT_STATX_SYNC_AS_STAT,
		       K_STATX_MASK, stx);
}

static inline long k_fstatfs(long fd, struct lkl_statfs64 *st)
{
	return lkl_sys2(LKL___NR_fstatfs, fd, st);
}

static inline long k_faccessat2(long dir, const char *name, int mode,
				int flags)
{
	return lkl_sys4(LKL___NR_faccessat2, dir, name, mode, flags);
}

static inline long k_readlinkat(long dir, const char *name, char *buf,
				size_t len)
{
	return lkl_sys4(LKL___NR_readlinkat, dir, name, buf, len);
}

/* ------------------------------------------------------------------ data */

static inline long k_pread(long fd, void *buf, size_t len, long long off)
{
	return lkl_sys4(LKL___NR_pread64, fd, buf, len, off);
}

static inline long k_pwrite(long fd, const void *buf, size_t len,
			    long long off)
{
	return lkl_sys4(LKL___NR_pwrite64, fd, buf, len, off);
}

static inline long k_read(long fd, void *buf, size_t len)
{
	return lkl_sys3(LKL___NR_read, fd, buf, len);
}

static inline long k_write(long fd, const void *buf, size_t len)
{
	return lkl_sys3(LKL___NR_write, fd, buf, len);
}

static inline long k_lseek(long fd, long long off, int whence)
{
	return lkl_sys3(LKL___NR_lseek, fd, off, whence);
}

static inline long k_readahead(long fd, long long off, size_t len)
{
	return lkl_sys3(LKL___NR_readahead, fd, off, len);
}

/* POSIX_FADV_DONTNEED, the same number on every architecture but s390 */
#define K_FADV_DONTNEED 4

static inline long k_fadvise(long fd, long long off, long long len, int advice)
{
	return lkl_sys4(LKL___NR_fadvise64, fd, off, len, advice);
}

static inline long k_getdents64(long fd, void *buf, size_t len)
{
	return lkl_sys3(LKL___NR_getdents64, fd, buf, len);
}

static inline long k_ftruncate(long fd, long long len)
{
	return lkl_sys2(LKL___NR_ftruncate, fd, len);
}

static inline long k_truncate(const char *path, long long len)
{
	return lkl_sys2(LKL___NR_truncate, path, len);
}

static inline long k_fsync(long fd, int data_only)
{
	return lkl_sys1(data_only ? LKL___NR_fdatasync : LKL___NR_fsync, fd);
}

static inline long k_fallocate(long fd, int mode, long long off,
			       long long len)
{
	return lkl_sys4(LKL___NR_fallocate, fd, mode, off, len);
}

static inline long k_copy_file_range(long in, long long *off_in, long out,
				     long long *off_out, size_t len,
				     unsigned int flags)
{
	return lkl_sys6(LKL___NR_copy_file_range, in, (long)off_in, out,
			(long)off_out, len, flags);
}

static inline long k_ioctl(long fd, unsigned int cmd, void *arg)
{
	return lkl_sys3(LKL___NR_ioctl, fd, cmd, arg);
}

/* ------------------------------------------------------- names and nodes */

static inline long k_mkdirat(long dir, const char *name, int mode)
{
	return lkl_sys3(LKL___NR_mkdirat, dir, name, mode);
}

/* @dev in the user-space encoding of a dev_t, as mknod(2) takes it. */
static inline long k_mknodat(long dir, const char *name, int mode,
			     unsigned int dev)
{
	return lkl_sys4(LKL___NR_mknodat, dir, name, mode, dev);
}

static inline long k_symlinkat(const char *target, long dir, const char *name)
{
	return lkl_sys3(LKL___NR_symlinkat, target, dir, name);
}

static inline long k_linkat(long old_dir, const char *old_name, long new_dir,
			    const char *new_name, int flags)
{
	return lkl_sys5(LKL___NR_linkat, old_dir, old_name, new_dir, new_name,
			flags);
}

static inline long k_unlinkat(long dir, const char *name, int flags)
{
	return lkl_sys3(LKL___NR_unlinkat, dir, name, flags);
}

static inline long k_renameat2(long old_dir, const char *old_name,
			       long new_dir, const char *new_name,
			       unsigned int flags)
{
	return lkl_sys5(LKL___NR_renameat2, old_dir, old_name, new_dir,
			new_name, flags);
}

/* --------------------------------------------------------------- metadata */

static inline long k_fchmodat2(long dir, const char *name, int mode,
			       int flags)
{
	return lkl_sys4(LKL___NR_fchmodat2, dir, name, mode, flags);
}

/* (unsigned int)-1 leaves the owner or the group as it is. */
static inline long k_fchownat(long dir, const char *name, unsigned int uid,
			      unsigned int gid, int flags)
{
	return lkl_sys5(LKL___NR_fchownat, dir, name, uid, gid, flags);
}

static inline long k_utimensat(long dir, const char *name,
			       const struct lkl___kernel_timespec times[2],
			       int flags)
{
	return lkl_sys4(LKL___NR_utimensat, dir, name, times, flags);
}

/*
 * The xattr calls take paths (the f* ones refuse O_PATH descriptors): a
 * k_fd_path(), or one of a name below it; k_fsetxattr() is for a file
 * opened for real.  The l* ones do not follow a final symlink.
 */
static inline long k_getxattr(const char *path, const char *name,
			      void *value, size_t size)
{
	return lkl_sys4(LKL___NR_getxattr, path, name, value, size);
}

static inline long k_lgetxattr(const char *path, const char *name,
			       void *value, size_t size)
{
	return lkl_sys4(LKL___NR_lgetxattr, path, name, value, size);
}

static inline long k_setxattr(const char *path, const char *name,
			      const void *value, size_t size, int flags)
{
	return lkl_sys5(LKL___NR_setxattr, path, name, value, size, flags);
}

static inline long k_lsetxattr(const char *path, const char *name,
			       const void *value, size_t size, int flags)
{
	return lkl_sys5(LKL___NR_lsetxattr, path, name, value, size, flags);
}

static inline long k_fsetxattr(long fd, const char *name, const void *value,
			       size_t size, int flags)
{
	return lkl_sys5(LKL___NR_fsetxattr, fd, name, value, size, flags);
}

static inline long k_listxattr(const char *path, char *list, size_t size)
{
	return lkl_sys3(LKL___NR_listxattr, path, list, size);
}

static inline long k_llistxattr(const char *path, char *list, size_t size)
{
	return lkl_sys3(LKL___NR_llistxattr, path, list, size);
}

static inline long k_removexattr(const char *path, const char *name)
{
	return lkl_sys2(LKL___NR_removexattr, path, name);
}

static inline long k_lremovexattr(const char *path, const char *name)
{
	return lkl_sys2(LKL___NR_lremovexattr, path, name);
}

/* ------------------------------------------------------ mounts, process */

static inline long k_mount(const char *dev, const char *path,
			   const char *fstype, unsigned long flags,
			   const void *data)
{
	return lkl_sys5(LKL___NR_mount, dev, path, fstype, flags, data);
}

static inline long k_umount2(const char *path, int flags)
{
	return lkl_sys2(LKL___NR_umount2, path, flags);
}

/* The old mask; it cannot fail. */
static inline long k_umask(int mask)
{
	return lkl_sys1(LKL___NR_umask, mask);
}

/* prlimit64(): the uapi headers of the build leave resource.h out. */
#define K_RLIMIT_NOFILE	7	/* asm-generic/resource.h */

struct k_rlimit64 {
	uint64_t cur;
	uint64_t max;
};

static inline long k_prlimit64(int pid, int resource,
			       const struct k_rlimit64 *set,
			       struct k_rlimit64 *old)
{
	return lkl_sys4(LKL___NR_prlimit64, pid, resource, set, old);
}

#endif /* LKL_NATIVE_KERNEL_KCALL_H */
