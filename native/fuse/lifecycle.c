// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's lifecycle in lklfuse-server: the image opened and locked,
 * the kernel booted, the disk added and mounted, the root opened for the
 * inode table; then unmounted, removed and halted, so that the image is
 * consistent when the server exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lklfuse.h"
#include "console.h"
#include "../disk/file_disk.h"
#include "../disk/image_lock.h"
#include "../kernel/detect.h"
#include "../kernel/kcall.h"

#define NOFILE_LIMIT		(1024 * 1024)

/*
 * Kept apart from src/commands/image.ts's mountFailure() on purpose: the
 * server words its own failures for its own options (-o type=, -o part=),
 * and the launcher shows them as they are.
 */
static const char *mount_error(int err, const struct lklfuse_opts *o)
{
	switch (err) {
	case -ENODEV:
		return o->type ? "the kernel has no such filesystem type" :
		       "not a filesystem this kernel knows (try -o type=)";
	case -ENOENT:
		return o->part ? "no such partition" : strerror(-err);
	case -EINVAL:
		return o->type ? "not that filesystem, or bad mount options" :
		       "bad filesystem or mount options";
	default:
		return strerror(-err);
	}
}

/* The image is locked by another opener: who, where it can be seen. */
static void in_use_error(struct lklfuse *lf)
{
	const struct lklfuse_opts *o = &lf->opts;
	struct image_lock_holder h;

	if (image_lock_holder(o->image, &h))
		lklfuse_setup_error(lf, "%s: in use by another program%s (-o wait_lock waits for it)",
			    o->image, o->ro ? " that can write it" : "");
	else
		lklfuse_setup_error(lf, "%s: in use by process %d (%s), which %s it (-o wait_lock waits for it)",
			    o->image, (int)h.pid, h.comm[0] ? h.comm : "?",
			    h.writing ? "can write" : "reads");
}

int lklfuse_check_paths(struct lklfuse *lf)
{
	struct lklfuse_opts *o = &lf->opts;
	struct stat st;
	int fd;

	fd = open(o->image, (o->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		lklfuse_setup_error(lf, "%s: %s", o->image, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		lklfuse_setup_error(lf, "%s: %s", o->image, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		lklfuse_setup_error(lf, "%s: not a regular file or block device",
			    o->image);
		close(fd);
		return -1;
	}
	close(fd);
	if (stat(o->mountpoint, &st)) {
		lklfuse_setup_error(lf, "%s: %s", o->mountpoint, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		lklfuse_setup_error(lf, "%s: %s", o->mountpoint, strerror(ENOTDIR));
		return -1;
	}
	return 0;
}

static bool is_fat(const char *fstype)
{
	return fstype && (!strcmp(fstype, "vfat") || !strcmp(fstype, "msdos"));
}

/*
 * Filesystems whose files have no owner of their own (FAT, exFAT), or
 * may have none (NTFS: only files that Linux made carry one, in WSL's
 * extended attributes): the kernel gives those to whoever mounts, as
 * its uid=/gid= say.  Others keep their owners (ISO 9660 without Rock
 * Ridge, UDF and HFS+ files without one are readable by all: uid=
 * there would override every owner, not fill in the missing ones).
 */
static bool ownerless(const char *fstype)
{
	return is_fat(fstype) || (fstype && (!strcmp(fstype, "exfat") ||
					     !strcmp(fstype, "ntfs3") ||
					     !strcmp(fstype, "ntfs")));
}

/*
 * Whether the mounted filesystem's file handles find an inode that has
 * left memory, so that the inode table may close descriptors and reopen
 * them by handle.  FAT's find only cached inodes, unless mounted
 * nfs=nostale_ro (read-only: see mount_data()).
 */
static bool lasting_handles(const struct lklfuse *lf)
{
	static const char *const yes[] = {
		"ext2", "ext3", "ext4", "btrfs", "xfs",
	};
	size_t i;

	if (is_fat(lf->fstype))
		return lf->fat_nostale;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(lf->fstype, yes[i]))
			return true;
	}
	return false;
}

/*
 * The kernel mount's options: opts=, after ours for FAT, so that it
 * still wins.
 *
 * FAT, exFAT and (mostly) NTFS have no owners: the kernel gives every
 * file to uid 0 unless told.  Give them to the user who mounts, as
 * desktop automounters do, so that ls shows their files and, with
 * default_permissions, lets them write.
 *
 * A read-only FAT mount gets nfs=nostale_ro, whose file handles are the
 * entries' places on the disk and so outlive the inodes: the inode table
 * can then close descriptors as on ext4 (a read-write mount cannot have
 * it: the kernel makes nostale_ro mounts read-only, since a rename could
 * move a handle to another file).
 *
 * NULL if out of memory.
 */
/*
 * -o norecovery in the words of @fstype's own mount options: "" where it
 * has no journal to leave alone.
 */
static const char *norecovery_option(const char *fstype)
{
	if (!fstype)
		return "";
	if (!strncmp(fstype, "ext", 3) || !strcmp(fstype, "xfs"))
		return "norecovery,";
	if (!strcmp(fstype, "btrfs"))
		return "rescue=nologreplay,";
	return "";
}

static char *mount_data(struct lklfuse *lf, const char *fstype)
{
	const char *kopts = lf->opts.kopts ? lf->opts.kopts : "";
	bool fat = is_fat(fstype);
	char owner[48] = "";
	char *data;

	if (ownerless(fstype) && getuid() != 0)
		snprintf(owner, sizeof(owner), "uid=%u,gid=%u,",
			 (unsigned int)getuid(), (unsigned int)getgid());
	lf->fat_nostale = fat && lf->opts.ro && !strstr(kopts, "nfs=");
	/* -o discard: freed blocks become holes in the image as they go. */
	if (asprintf(&data, "%s%s%s%s%s", owner,
		     lf->fat_nostale ? "nfs=nostale_ro," : "",
		     lf->opts.discard ? "discard," : "",
		     lf->opts.norecovery ? norecovery_option(fstype) : "",
		     kopts) < 0)
		return NULL;
	/* No trailing comma when opts= is empty. */
	if (*data && data[strlen(data) - 1] == ',')
		data[strlen(data) - 1] = '\0';
	return data;
}

int lklfuse_kernel_start(struct lklfuse *lf)
{
	struct lklfuse_opts *o = &lf->opts;
	struct lkl_boot_options boot = {
		.memory_mib = o->mb ? o->mb : LKLFUSE_DEFAULT_MB,
		.print = lklfuse_console_print,
	};
	struct k_rlimit64 lim = { NOFILE_LIMIT, NOFILE_LIMIT };
	const char *type = o->type;
	unsigned long long mark;
	char found[32], *data;
	struct lkl_statx stx;
	char kmsg[200];
	long r, fd;

	r = lklfuse_console_open(o->log);
	if (r) {
		lklfuse_setup_error(lf, "%s: %s", o->log, strerror(-r));
		return -1;
	}
	r = lkl_host_boot(&boot);
	if (r) {
		lklfuse_setup_error(lf, "cannot start the kernel (%lu MiB): %s",
			    boot.memory_mib, strerror(-r));
		return -1;
	}
	lf->kernel_up = true;

	/*
	 * New files get the mode FUSE asks for (the caller's kernel applied
	 * the caller's umask).  Every file open on the host, and up to
	 * LKLFUSE_NODE_FDS inodes it knows (all of them on vfat), hold a
	 * descriptor: allow many, for this task and those pid 1 makes for
	 * new threads.
	 */
	k_umask(0);
	r = k_prlimit64(0, K_RLIMIT_NOFILE, &lim, NULL);
	if (!r)
		r = k_prlimit64(1, K_RLIMIT_NOFILE, &lim, NULL);
	if (r) {
		lklfuse_setup_error(lf, "cannot raise the kernel's open file limit: %s",
			    strerror(-r));
		return -1;
	}

	/*
	 * The disk's lock (shared read-only, else exclusive) lasts until the
	 * disk is removed or the process ends, after the last write to the
	 * image, so "lkl unmount" waits for it to go.
	 */
	r = lkl_host_disk_add(o->image, (o->ro ? FILE_DISK_READ_ONLY : 0) |
			      (o->wait_lock ? FILE_DISK_WAIT_LOCK : 0),
			      &lf->disk);
	if (r == -EBUSY) {
		in_use_error(lf);
		return -1;
	}
	if (r) {
		lklfuse_setup_error(lf, "%s: cannot open the image: %s", o->image,
			    strerror(-r));
		return -1;
	}
	mark = lklfuse_console_mark();
	/* Unrecognised: lkl_host_mount() says so, in its own words. */
	if (!o->type && !lkl_host_fstype(lf->disk, o->part, found,
					 sizeof(found)))
		type = found;
	data = mount_data(lf, type);
	if (!data) {
		lklfuse_setup_error(lf, "%s: %s", o->image, strerror(ENOMEM));
		return -1;
	}
	r = lkl_host_mount(lf->disk, o->part, type, o->ro ? LKL_MS_RDONLY : 0,
			   data, lf->kmnt, sizeof(lf->kmnt), lf->fstype,
			   sizeof(lf->fstype));
	free(data);
	if (r) {
		char part[32] = "", why[96];
		const char *what = mount_error(r, o);

		if (o->part)
			snprintf(part, sizeof(part), " partition %d", o->part);
		if (r == -EROFS) {
			snprintf(why, sizeof(why), fstype_read_only(type) ?
				 "%s is read-only in this kernel (-o ro mounts it)" :
				 "this %s filesystem is read-only in this kernel (-o ro mounts it)",
				 type ? type : "unknown");
			what = why;
		}
		/*
		 * A filesystem that is read-only whatever its state says
		 * nothing about it; the kernel's last line would be about
		 * something else.
		 */
		if (!(r == -EROFS && fstype_read_only(type)) &&
		    lklfuse_console_last_line(mark, kmsg, sizeof(kmsg)))
			lklfuse_setup_error(lf, "%s%s: cannot mount%s%s: %s (kernel: %s)",
				    o->image, part, o->type ? " as " : "",
				    o->type ? o->type : "", what, kmsg);
		else
			lklfuse_setup_error(lf, "%s%s: cannot mount%s%s: %s", o->image,
				    part, o->type ? " as " : "",
				    o->type ? o->type : "", what);
		return -1;
	}
	lf->kmounted = true;

	fd = k_openat(LKL_AT_FDCWD, lf->kmnt,
		      LKL_O_PATH | LKL_O_DIRECTORY | LKL_O_CLOEXEC, 0);
	r = fd < 0 ? fd : k_fstatx(fd, &stx);
	if (!r)
		r = lklfuse_inodes_init(&lf->inodes, fd, &stx,
					lasting_handles(lf),
					LKLFUSE_NODE_FDS);
	if (r) {
		if (fd >= 0)
			k_close(fd);
		lklfuse_setup_error(lf, "%s: cannot open the filesystem's root: %s",
			    o->image, strerror(-r));
		return -1;
	}
	return 0;
}

int lklfuse_kernel_stop(struct lklfuse *lf)
{
	int ret = 0;
	long r;

	if (!lf->kernel_up)
		return 0;
	lklfuse_close_files(lf);
	lklfuse_inodes_destroy(&lf->inodes);
	if (lf->kmounted) {
		r = lkl_host_umount(lf->kmnt);
		if (r) {
			fprintf(stderr, LKLFUSE_PROG ": %s: unmount in the kernel: %s\n",
				lf->opts.image, strerror(-r));
			ret = -1;
		} else {
			lf->kmounted = false;
		}
	}
	/* Still mounted: the halt syncs and unmounts what it can. */
	if (lf->disk && !lf->kmounted) {
		r = lkl_host_disk_remove(lf->disk);
		if (r) {
			fprintf(stderr, LKLFUSE_PROG ": %s: remove the disk: %s\n",
				lf->opts.image, strerror(-r));
			ret = -1;
		}
	}
	r = lkl_host_halt();
	if (r) {
		fprintf(stderr, LKLFUSE_PROG ": halting the kernel: %s\n",
			strerror(-r));
		ret = -1;
	}
	lf->kernel_up = false;
	return ret;
}
