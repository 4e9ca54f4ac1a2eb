// SPDX-License-Identifier: GPL-2.0
/*
 * The host library over lkl.o: boot with the POSIX host operations, file
 * disks, mounts.  The kernel is one per process, so its boot options live
 * here once; disks and mounts are objects of their own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "detect.h"
#include "kcall.h"
#include "../host/posix_host.h"
#include "../disk/file_disk.h"

struct lkl_host_disk {
	struct file_disk *file;		/* NULL once the halt closed it */
	char name[32];
	struct lkl_host_disk *next;	/* in disks */
};

/* The kernel keeps a pointer to its host operations: they must outlive it. */
static struct lkl_host_ops host_ops;

/* What lkl_host_halt() must unmount first. */
static struct {
	pthread_mutex_t lock;
	int count;
	char paths[64][48];
} mounts = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * What lkl_host_halt() must close after the kernel stops: a disk's file
 * holds the image's lock (disk/image_lock.h), which must go with the
 * kernel, not with the process.
 */
static struct {
	pthread_mutex_t lock;
	struct lkl_host_disk *head;
	bool closed;			/* by the halt */
} disks = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * After the halt: every disk's file closed, its lock let go; a disk added
 * while the halt ran is closed as it joins (disks_link()).
 */
static void disks_close(void)
{
	struct lkl_host_disk *disk;

	pthread_mutex_lock(&disks.lock);
	for (disk = disks.head; disk; disk = disk->next) {
		file_disk_close(disk->file);
		disk->file = NULL;
	}
	disks.head = NULL;
	disks.closed = true;
	pthread_mutex_unlock(&disks.lock);
}

/* Onto the list, or -EINTR (and closed) if the halt has closed the rest. */
static int disks_link(struct lkl_host_disk *disk)
{
	bool closed;

	pthread_mutex_lock(&disks.lock);
	closed = disks.closed;
	if (!closed) {
		disk->next = disks.head;
		disks.head = disk;
	}
	pthread_mutex_unlock(&disks.lock);
	return closed ? -EINTR : 0;
}

/* Off the list, with its file, or NULL if the halt has closed it. */
static struct file_disk *disks_unlink(struct lkl_host_disk *disk)
{
	struct lkl_host_disk **p;
	struct file_disk *file;

	pthread_mutex_lock(&disks.lock);
	for (p = &disks.head; *p; p = &(*p)->next) {
		if (*p == disk) {
			*p = disk->next;
			break;
		}
	}
	file = disk->file;
	disk->file = NULL;
	pthread_mutex_unlock(&disks.lock);
	return file;
}

int lkl_host_boot(const struct lkl_boot_options *opts)
{
	unsigned long mib = opts && opts->memory_mib ? opts->memory_mib : 64;
	char cmdline[1024];
	int n;

	n = snprintf(cmdline, sizeof(cmdline), "mem=%luM %s%s", mib,
		     opts && opts->print ? "" : "quiet ",
		     opts && opts->boot_args ? opts->boot_args : "");
	if (n < 0 || (size_t)n >= sizeof(cmdline))
		return -E2BIG;

	host_ops = lkl_posix_host_ops;
	lkl_posix_host_set_print(&host_ops, opts ? opts->print : NULL);
	return lkl_start_kernel(&host_ops, cmdline);
}

/*
 * Other threads' calls end first, with an error (lkl_calls_stop()); then
 * every descriptor is closed, since one that a caller left open keeps its
 * filesystem busy, and every mount unmounted, writing it out.
 */
int lkl_host_halt(void)
{
	long err, closed;
	int i;

	err = lkl_calls_stop();
	if (err)
		return err;
	closed = k_close_range(0, ~0U, 0);
	pthread_mutex_lock(&mounts.lock);
	for (i = mounts.count - 1; i >= 0; i--)
		/* Busy or not, the halt below ends it: nothing to undo. */
		k_umount2(mounts.paths[i], 0);
	mounts.count = 0;
	pthread_mutex_unlock(&mounts.lock);
	err = lkl_halt();
	if (!err)
		disks_close();
	return err ? err : closed;
}

int lkl_host_disk_add(const char *path, unsigned int flags,
		      struct lkl_host_disk **out)
{
	struct lkl_host_disk *disk;
	struct lkl_disk desc;
	int err;

	disk = calloc(1, sizeof(*disk));
	if (!disk)
		return -ENOMEM;
	err = file_disk_open(path, flags, &disk->file);
	if (err) {
		free(disk);
		return err;
	}
	file_disk_fill(disk->file, &desc);
	/*
	 * The kernel sees a writable device even for a read-only file: ext4
	 * must replay a dirty journal before it mounts, even read-only, and
	 * the copy-on-write layer keeps those writes off the file.
	 */
	desc.read_only = 0;

	err = lkl_disk_add(&desc, disk->name, sizeof(disk->name));
	if (err < 0) {
		file_disk_close(disk->file);
		free(disk);
		return err;
	}
	err = disks_link(disk);
	if (err) {
		/* The kernel has halted: nothing to detach it from. */
		file_disk_close(disk->file);
		free(disk);
		return err;
	}
	*out = disk;
	return 0;
}

const char *lkl_host_disk_name(const struct lkl_host_disk *disk)
{
	return disk->name;
}

int lkl_host_disk_remove(struct lkl_host_disk *disk)
{
	struct file_disk *file;
	bool halted;
	int err;

	pthread_mutex_lock(&disks.lock);
	halted = !disk->file;
	pthread_mutex_unlock(&disks.lock);
	/* Halted: the kernel has no disks left, and the file is closed. */
	if (halted) {
		free(disk);
		return 0;
	}
	err = lkl_disk_remove(disk->name);
	if (err)
		return err;
	/* A halt may have closed it meanwhile. */
	file = disks_unlink(disk);
	if (file)
		file_disk_close(file);
	free(disk);
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[64];
	char *p;
	long err;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		char saved = *p;

		*p = 0;
		err = k_mkdirat(LKL_AT_FDCWD, buf, 0700);
		if (err && err != -LKL_EEXIST)
			return err;
		*p = saved;
		if (!saved)
			return 0;
	}
}

/*
 * Which filesystem is on @dev (detect.c), from its first bytes, read
 * through the kernel's own view of the device (so partitions just work).
 */
static const char *detect_fstype(const char *dev, long *err)
{
	const char *fstype = NULL;
	unsigned char *buf;
	size_t have = 0;
	long fd, n = 0;

	buf = malloc(DETECT_BYTES);
	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	fd = k_openat(LKL_AT_FDCWD, dev, LKL_O_RDONLY | LKL_O_CLOEXEC, 0);
	if (fd < 0) {
		*err = fd;
		free(buf);
		return NULL;
	}
	/* Short only at the end of a small device. */
	while (have < DETECT_BYTES) {
		n = k_pread(fd, buf + have, DETECT_BYTES - have, have);
		if (n <= 0)
			break;
		have += n;
	}
	/* Read only: nothing to lose in its close. */
	k_close(fd);
	if (n < 0)
		*err = n;
	else
		fstype = detect_fstype_in(buf, have);
	if (n >= 0 && !fstype)
		*err = -LKL_ENODEV;
	free(buf);
	return fstype;
}

/*
 * Whether the ext2/3/4 superblock on @dev asks for a panic on the first
 * error it finds: s_errors (at 60) is 3, or s_mount_opts (the default
 * mount options, 64 bytes at 512) says errors=panic.  A damaged image
 * would then end the whole process at the first bad block, as it would
 * end the host.
 */
static bool ext_panics(const char *dev)
{
	unsigned char sb[1024];
	char opts[65];
	long fd, n;

	fd = k_openat(LKL_AT_FDCWD, dev, LKL_O_RDONLY | LKL_O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	n = k_pread(fd, sb, sizeof(sb), 1024);
	k_close(fd);
	if (n != sizeof(sb) || sb[56] != 0x53 || sb[57] != 0xef)
		return false;
	memcpy(opts, sb + 512, 64);
	opts[64] = '\0';
	return (sb[60] == 3 && sb[61] == 0) || strstr(opts, "errors=panic");
}

/*
 * @data, with errors=remount-ro first if the filesystem would panic and
 * the caller did not choose errors= itself; NULL if out of memory.
 */
static char *mount_data(const char *dev, const char *fstype, const char *data)
{
	char *out;

	if (strncmp(fstype, "ext", 3) || (data && strstr(data, "errors=")) ||
	    !ext_panics(dev))
		return strdup(data ? data : "");
	if (asprintf(&out, "errors=remount-ro%s%s", data && *data ? "," : "",
		     data ? data : "") < 0)
		return NULL;
	return out;
}

/* statfs's f_flags bit for a read-only mount (include/linux/statfs.h). */
#define K_ST_RDONLY	0x0001

/*
 * A read-write mount asked for, @err what k_mount() said of it: -EROFS
 * if the kernel would mount @path's filesystem read-only only.  Some
 * refuse to be mounted read-write (iso9660, and udf on a read-only
 * medium, with EACCES); others make the mount read-only without a word
 * (squashfs and erofs always, hfsplus with a journal or not cleanly
 * unmounted, ntfs3 on a short device): such a mount is undone, so that
 * the caller learns at once that nothing can be written rather than at
 * its first write.
 */
static long refuse_read_only(const char *path, long err)
{
	struct lkl_statfs64 st;
	long fd, r;

	if (err == -LKL_EACCES)
		return -LKL_EROFS;
	if (err)
		return err;
	fd = k_openat(LKL_AT_FDCWD, path,
		      LKL_O_PATH | LKL_O_DIRECTORY | LKL_O_CLOEXEC, 0);
	r = fd < 0 ? fd : k_fstatfs(fd, &st);
	if (fd >= 0)
		k_close(fd);
	if (!r && !(st.f_flags & K_ST_RDONLY))
		return 0;
	/* Read-only, or unknown: nothing was written, nothing to lose. */
	k_umount2(path, 0);
	return r ? r : -LKL_EROFS;
}

/* The kernel's device node of @disk, or of its partition @partition. */
static int dev_path(struct lkl_host_disk *disk, int partition, char *dev,
		    size_t len)
{
	int n;

	if (partition < 0)
		return -EINVAL;
	if (partition)
		n = snprintf(dev, len, "/dev/%s%d", disk->name, partition);
	else
		n = snprintf(dev, len, "/dev/%s", disk->name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int lkl_host_fstype(struct lkl_host_disk *disk, int partition, char *buf,
		    size_t len)
{
	const char *fstype;
	char dev[48];
	long err;

	err = dev_path(disk, partition, dev, sizeof(dev));
	if (err)
		return err;
	fstype = detect_fstype(dev, &err);
	if (!fstype)
		return err;
	if (strlen(fstype) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, fstype);
	return 0;
}

int lkl_host_mount(struct lkl_host_disk *disk, int partition,
		   const char *fstype, unsigned long flags, const char *data,
		   char *mnt, size_t mnt_len, char *used_fstype,
		   size_t fstype_len)
{
	char dev[48], path[48], *opts;
	long err;
	int n;

	err = dev_path(disk, partition, dev, sizeof(dev));
	if (err)
		return err;
	n = snprintf(path, sizeof(path), "/mnt/%s%s%.0d", disk->name,
		     partition ? "p" : "", partition);
	if (n < 0 || (size_t)n >= sizeof(path) || (size_t)n >= mnt_len)
		return -ENAMETOOLONG;

	err = mkdir_p(path);
	if (err)
		return err;

	if (!fstype) {
		fstype = detect_fstype(dev, &err);
		if (!fstype)
			return err;
	}
	/* The kernel's NTFS is ntfs3; "ntfs" is what mount -t users type. */
	if (!strcmp(fstype, "ntfs"))
		fstype = "ntfs3";
	opts = mount_data(dev, fstype, data);
	if (!opts)
		return -ENOMEM;
	/*
	 * Held across the mount, so that a halt beginning meanwhile finds
	 * the new mount on the list it unmounts.
	 */
	pthread_mutex_lock(&mounts.lock);
	err = k_mount(dev, path, fstype, flags, opts);
	free(opts);
	if (!(flags & LKL_MS_RDONLY))
		err = refuse_read_only(path, err);
	if (!err && mounts.count <
		    (int)(sizeof(mounts.paths) / sizeof(mounts.paths[0])))
		strcpy(mounts.paths[mounts.count++], path);
	pthread_mutex_unlock(&mounts.lock);
	if (err)
		return err;

	strcpy(mnt, path);
	if (used_fstype && fstype_len)
		snprintf(used_fstype, fstype_len, "%s", fstype);
	return 0;
}

int lkl_host_umount(const char *mnt)
{
	long err = k_umount2(mnt, 0);
	int i;

	if (err)
		return err;
	pthread_mutex_lock(&mounts.lock);
	for (i = 0; i < mounts.count; i++) {
		if (!strcmp(mounts.paths[i], mnt)) {
			memmove(mounts.paths[i], mounts.paths[i + 1],
				sizeof(mounts.paths[0]) * (mounts.count - i - 1));
			mounts.count--;
			break;
		}
	}
	pthread_mutex_unlock(&mounts.lock);
	return 0;
}

/*
 * Host and kernel O_* flags, one pair per flag.  O_SYNC includes O_DSYNC
 * and O_TMPFILE includes O_DIRECTORY: a flag is taken only when all its
 * bits are set, so each is found whole and its parts too.  A 64-bit C
 * library's O_LARGEFILE is 0, so the host kernel's bit for it (which FUSE
 * passes on) is left out: harmless, as a 64-bit kernel forces it anyway.
 */
static const struct {
	int host;
	int lkl;
} open_flags[] = {
	{ O_CREAT, LKL_O_CREAT },
	{ O_EXCL, LKL_O_EXCL },
	{ O_NOCTTY, LKL_O_NOCTTY },
	{ O_TRUNC, LKL_O_TRUNC },
	{ O_APPEND, LKL_O_APPEND },
	{ O_NONBLOCK, LKL_O_NONBLOCK },
	{ O_DSYNC, LKL_O_DSYNC },
	{ O_SYNC, LKL_O_SYNC },
	{ O_ASYNC, LKL_FASYNC },
	{ O_DIRECT, LKL_O_DIRECT },
	{ O_LARGEFILE, LKL_O_LARGEFILE },
	{ O_DIRECTORY, LKL_O_DIRECTORY },
	{ O_NOFOLLOW, LKL_O_NOFOLLOW },
	{ O_NOATIME, LKL_O_NOATIME },
	{ O_CLOEXEC, LKL_O_CLOEXEC },
	{ O_PATH, LKL_O_PATH },
	{ O_TMPFILE, LKL_O_TMPFILE },
};

int lkl_host_open_flags(int flags)
{
	/* O_RDONLY, O_WRONLY and O_RDWR are 0, 1 and 2 everywhere. */
	int lkl = flags & O_ACCMODE;
	size_t i;

	for (i = 0; i < sizeof(open_flags) / sizeof(open_flags[0]); i++) {
		if (open_flags[i].host &&
		    (flags & open_flags[i].host) == open_flags[i].host)
			lkl |= open_flags[i].lkl;
	}
	return lkl;
}
