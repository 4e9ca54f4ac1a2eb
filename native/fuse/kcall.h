/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel calls the FUSE server makes, typed.  Each returns its result
 * or a negative errno; the kernel's errno, AT_* and S_* numbers are the
 * host's on Linux x86-64 and arm64, so results pass straight on to FUSE.
 * Its O_* numbers are x86-64's, not arm64's: open flags from FUSE go
 * through lkl_host_open_flags().
 */
#ifndef LKLFUSE_KCALL_H
#define LKLFUSE_KCALL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "../kernel/kernel.h"
#include "../kernel/dirent64.h"

/* Room for "/proc/self/fd/" and any int. */
#define K_FDPATH_LEN	32

/*
 * "/proc/self/fd/@fd": following it reaches the file @fd refers to, even
 * an O_PATH descriptor of a symlink (the symlink itself, not its target).
 */
static inline void k_fd_path(char buf[K_FDPATH_LEN], int fd)
{
	snprintf(buf, K_FDPATH_LEN, "/proc/self/fd/%d", fd);
}

static inline long k_openat(int dirfd, const char *name, int flags, int mode)
{
	return lkl_sys4(LKL___NR_openat, dirfd, name, flags, mode);
}

static inline long k_close(int fd)
{
	return lkl_sys1(LKL___NR_close, fd);
}

static inline long k_statx(int dirfd, const char *name, int flags,
			   unsigned int mask, struct lkl_statx *stx)
{
	return lkl_sys5(LKL___NR_statx, dirfd, name, flags, mask, stx);
}

/* The attributes of what @fd refers to, symlinks included. */
static inline long k_fstatx(int fd, struct lkl_statx *stx)
{
	return k_statx(fd, "", LKL_AT_EMPTY_PATH | LKL_AT_SYMLINK_NOFOLLOW,
		       LKL_STATX_BASIC_STATS, stx);
}

static inline long k_pread(int fd, void *buf, size_t len, int64_t off)
{
	return lkl_sys4(LKL___NR_pread64, fd, buf, len, off);
}

static inline long k_pwrite(int fd, const void *buf, size_t len, int64_t off)
{
	return lkl_sys4(LKL___NR_pwrite64, fd, buf, len, off);
}

static inline long k_lseek(int fd, int64_t off, int whence)
{
	return lkl_sys3(LKL___NR_lseek, fd, off, whence);
}

static inline long k_getdents64(int fd, void *buf, size_t len)
{
	return lkl_sys3(LKL___NR_getdents64, fd, buf, len);
}

/* struct file_handle, as name_to_handle_at fills it. */
struct k_file_handle {
	uint32_t bytes;
	int32_t type;
	unsigned char f[];
};

#define K_MAX_HANDLE_SZ	128

/* The file handle of what @fd refers to. */
static inline long k_name_to_handle(int fd, struct k_file_handle *h,
				    int *mount_id)
{
	return lkl_sys5(LKL___NR_name_to_handle_at, fd, "", h, mount_id,
			LKL_AT_EMPTY_PATH);
}

static inline long k_open_by_handle(int mount_fd, struct k_file_handle *h,
				    int flags)
{
	return lkl_sys3(LKL___NR_open_by_handle_at, mount_fd, h, flags);
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

#endif /* LKLFUSE_KCALL_H */
