/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host library: boot the kernel, give it disk images, mount them and
 * make system calls.  Everything reaches the kernel through the lkl_*
 * entry points of lkl.o.
 */
#ifndef LKL_NATIVE_KERNEL_H
#define LKL_NATIVE_KERNEL_H

#include <stddef.h>
#include <lkl/host_ops.h>
#include <lkl/uapi.h>

struct lkl_boot_options {
	unsigned long memory_mib;	/* 0: 64 MiB */
	const char *boot_args;		/* extra kernel command line, or NULL */
	void (*print)(const char *str, int len); /* console; NULL: silent */
};

/* Boot once per process; returns 0 or a negative errno. */
int lkl_host_boot(const struct lkl_boot_options *opts);
/*
 * End the calls other threads are inside (with -EINTR, or what the kernel
 * had done: see lkl_calls_stop() in host_ops.h), close every descriptor,
 * unmount what lkl_host_mount() mounted, sync and halt.  Calls from other
 * threads fail with -EINTR from the start of the halt on.
 */
int lkl_host_halt(void);

struct lkl_host_disk;

/*
 * Serve an image file (or block device) as a disk, opened with
 * file_disk_open()'s @flags (FILE_DISK_*, disk/file_disk.h): locked
 * against other openers, -EBUSY if one holds it.  A read-only disk never
 * writes its file: blocks the kernel must still write (a journal replay)
 * stay in memory.
 */
int lkl_host_disk_add(const char *path, unsigned int flags,
		      struct lkl_host_disk **out);
const char *lkl_host_disk_name(const struct lkl_host_disk *disk);
int lkl_host_disk_remove(struct lkl_host_disk *disk);

/**
 * lkl_host_mount - mount a disk, or one of its partitions, in the kernel
 * @partition: 0 for the whole disk, else the partition number
 * @fstype: a filesystem name, or NULL to recognise ext2/3/4, btrfs, xfs
 *	or vfat from the superblock; -ENODEV when none is there, -ENOENT
 *	when the disk has no such partition
 * @flags: LKL_MS_* mount flags
 * @data: the filesystem's mount options, or NULL
 * @mnt/@mnt_len: receives the mount point inside the kernel
 * @used_fstype/@fstype_len: receives the filesystem that mounted (or NULL)
 */
int lkl_host_mount(struct lkl_host_disk *disk, int partition,
		   const char *fstype, unsigned long flags, const char *data,
		   char *mnt, size_t mnt_len, char *used_fstype,
		   size_t fstype_len);
int lkl_host_umount(const char *mnt);
/*
 * The filesystem lkl_host_mount() would recognise on the disk or one of
 * its partitions, into @buf; -ENODEV when none.
 */
int lkl_host_fstype(struct lkl_host_disk *disk, int partition, char *buf,
		    size_t len);

/*
 * The kernel's O_* flags for the host's open flags @flags (from the host's
 * <fcntl.h>, or from FUSE, which passes on the host kernel's).  The kernel
 * in lkl.o always numbers them as asm-generic/fcntl.h does; some hosts do
 * not: arm64 has O_DIRECTORY, O_NOFOLLOW, O_DIRECT and O_LARGEFILE of its
 * own.  Flags the kernel does not know are left out, as open(2) ignores
 * them.
 */
int lkl_host_open_flags(int flags);

/* System calls: arguments as longs, result or negative errno. */
static inline long lkl_sys6(long nr, long a, long b, long c, long d, long e,
			    long f)
{
	long params[6] = { a, b, c, d, e, f };

	return lkl_syscall(nr, params);
}

#define lkl_sys0(nr)			lkl_sys6(nr, 0, 0, 0, 0, 0, 0)
#define lkl_sys1(nr, a)			lkl_sys6(nr, (long)(a), 0, 0, 0, 0, 0)
#define lkl_sys2(nr, a, b)		lkl_sys6(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define lkl_sys3(nr, a, b, c)		lkl_sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define lkl_sys4(nr, a, b, c, d)	lkl_sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define lkl_sys5(nr, a, b, c, d, e)	lkl_sys6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#endif /* LKL_NATIVE_KERNEL_H */
