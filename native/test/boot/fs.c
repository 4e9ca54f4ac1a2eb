// SPDX-License-Identifier: GPL-2.0
/*
 * boot_test: every filesystem's image.  A read-only mount of the pristine
 * image is compared with its source tree (and the image left untouched);
 * a read-write mount of a copy is changed, checked by the filesystem's
 * own fsck, and mounted again to see the changes persist.
 */
#include "harness.h"
#include "../../disk/file_disk.h"

const struct fs_case fs_cases[] = {
	{
		.name = "ext4", .tree = "tree", .magic = LKL_EXT4_SUPER_MAGIC,
		.posix = true, .image_hardlinks = true, .mtime = true,
		.lost_found = true, .time_gran = 1,
		.fsck = { "e2fsck", "-fn" },
	},
	{
		.name = "btrfs", .tree = "tree",
		.magic = LKL_BTRFS_SUPER_MAGIC,
		.posix = true, .image_hardlinks = true, .mtime = true,
		.dir_nlink_one = true, .time_gran = 1,
		.fsck = { "btrfs", "check" },
	},
	{
		.name = "xfs", .tree = "tree", .magic = LKL_XFS_SUPER_MAGIC,
		/* mkfs.xfs -p stamps every inode with the time it runs. */
		.posix = true, .time_gran = 1,
		.fsck = { "xfs_repair", "-n" },
	},
	{
		.name = "vfat", .tree = "tree-vfat",
		.magic = LKL_MSDOS_SUPER_MAGIC,
		.mtime = true, .time_gran = 2 * NSEC_PER_SEC,
		.fsck = { "fsck.vfat", "-n" },
	},
};

/* Host inode -> kernel inode, to check which names share an inode. */
struct ino_pair {
	uint64_t host;
	uint64_t kernel;
	char *rel;
};

struct walk {
	const struct fs_case *fs;
	size_t entries;
	unsigned long long bytes;
	struct ino_pair *inos;
	size_t ninos;
	size_t cap;
	unsigned char *hbuf;
	unsigned char *kbuf;
};

static void walk_inode(struct walk *w, const char *rel, uint64_t hino,
		       uint64_t kino)
{
	size_t i;

	for (i = 0; i < w->ninos; i++) {
		struct ino_pair *p = &w->inos[i];

		if (p->host == hino && w->fs->image_hardlinks &&
		    p->kernel != kino)
			fail("%s: a hard link of %s on the host, but inode %llu, not %llu",
			     rel, p->rel, (unsigned long long)kino,
			     (unsigned long long)p->kernel);
		if (p->host != hino && p->kernel == kino)
			fail("%s: shares inode %llu with %s, unlike on the host",
			     rel, (unsigned long long)kino, p->rel);
	}
	if (w->ninos == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct ino_pair *v = realloc(w->inos, cap * sizeof(*v));

		if (!v) {
			fail("out of memory");
			return;
		}
		w->inos = v;
		w->cap = cap;
	}
	w->inos[w->ninos].host = hino;
	w->inos[w->ninos].kernel = kino;
	w->inos[w->ninos].rel = strdup(rel);
	if (w->inos[w->ninos].rel)
		w->ninos++;
}

static void compare_contents(struct walk *w, const char *hpath,
			     const char *kpath, const char *rel)
{
	unsigned long long off = 0;
	long fd;
	int hfd;

	hfd = open(hpath, O_RDONLY | O_CLOEXEC);
	if (hfd < 0) {
		fail("host: open %s: %s", hpath, strerror(errno));
		return;
	}
	fd = k_open(kpath, LKL_O_RDONLY, 0);
	if (fd < 0) {
		fail("%s: open: %s", rel, err_name(fd));
		close(hfd);
		return;
	}
	for (;;) {
		ssize_t hn = host_read_all(hfd, w->hbuf, CHUNK);
		long kn = k_read_all(fd, w->kbuf, CHUNK);

		if (hn < 0) {
			fail("host: read %s: %s", hpath, strerror(errno));
			break;
		}
		if (kn < 0) {
			fail("%s: read at %llu: %s", rel, off, err_name(kn));
			break;
		}
		if (kn != hn) {
			fail("%s: read %ld bytes at %llu, the source has %zd",
			     rel, kn, off, hn);
			break;
		}
		if (memcmp(w->hbuf, w->kbuf, hn)) {
			fail("%s: contents differ from byte %llu on", rel,
			     off + first_difference(w->hbuf, w->kbuf, hn));
			break;
		}
		off += hn;
		w->bytes += hn;
		if (hn < CHUNK)
			break;
	}
	CHECK(k_close(fd));
	close(hfd);
}

static unsigned int mode_type(unsigned int mode)
{
	return mode & S_IFMT;
}

static unsigned char type_to_dt(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return K_DT_DIR;
	case S_IFREG:
		return K_DT_REG;
	case S_IFLNK:
		return K_DT_LNK;
	case S_IFIFO:
		return K_DT_FIFO;
	default:
		return K_DT_UNKNOWN;
	}
}

static void compare_dir(struct walk *w, const char *hdir, const char *kdir,
			const char *reldir);

/* One entry: @hpath on the host against @kpath in the kernel. */
static void compare_entry(struct walk *w, const char *hpath,
			  const char *kpath, const char *rel,
			  const struct dent *kd, unsigned int subdirs)
{
	const struct fs_case *fs = w->fs;
	struct lkl_statx stx;
	struct stat hst;
	long r;

	w->entries++;
	if (lstat(hpath, &hst)) {
		fail("host: lstat %s: %s", hpath, strerror(errno));
		return;
	}
	r = k_lstatx(kpath, &stx);
	if (r < 0) {
		fail("%s: statx: %s", rel, err_name(r));
		return;
	}
	if ((stx.stx_mask & (LKL_STATX_TYPE | LKL_STATX_MODE | LKL_STATX_NLINK |
			     LKL_STATX_SIZE)) !=
	    (LKL_STATX_TYPE | LKL_STATX_MODE | LKL_STATX_NLINK | LKL_STATX_SIZE))
		fail("%s: statx mask %#x lacks basic fields", rel,
		     stx.stx_mask);
	if (mode_type(stx.stx_mode) != mode_type(hst.st_mode)) {
		fail("%s: mode %#o, the source has %#o", rel, stx.stx_mode,
		     hst.st_mode);
		return;
	}
	if (kd->type != K_DT_UNKNOWN && kd->type != type_to_dt(stx.stx_mode))
		fail("%s: getdents64 type %u, statx type %#o", rel, kd->type,
		     mode_type(stx.stx_mode));
	/* FAT makes up d_ino for inodes not in memory. */
	if (fs->posix && kd->ino != stx.stx_ino)
		fail("%s: getdents64 inode %llu, statx inode %llu", rel,
		     (unsigned long long)kd->ino,
		     (unsigned long long)stx.stx_ino);
	if (fs->posix && (stx.stx_mode & 07777) != (hst.st_mode & 07777) &&
	    !S_ISLNK(hst.st_mode))
		fail("%s: permissions %04o, the source has %04o", rel,
		     stx.stx_mode & 07777, hst.st_mode & 07777);
	if (fs->posix && (stx.stx_uid != hst.st_uid ||
			  stx.stx_gid != hst.st_gid))
		fail("%s: owner %u:%u, the source has %u:%u", rel,
		     stx.stx_uid, stx.stx_gid, hst.st_uid, hst.st_gid);
	if (fs->mtime && !S_ISLNK(hst.st_mode)) {
		long long want = hst.st_mtim.tv_sec * NSEC_PER_SEC +
				 hst.st_mtim.tv_nsec;
		long long got = stx.stx_mtime.tv_sec * NSEC_PER_SEC +
				stx.stx_mtime.tv_nsec;

		if (got / fs->time_gran != want / fs->time_gran)
			fail("%s: mtime %lld.%09u, the source has %lld.%09ld",
			     rel, (long long)stx.stx_mtime.tv_sec,
			     stx.stx_mtime.tv_nsec, (long long)hst.st_mtim.tv_sec,
			     hst.st_mtim.tv_nsec);
	}

	if (S_ISDIR(hst.st_mode)) {
		unsigned int want = fs->dir_nlink_one ? 1 : 2 + subdirs;

		if (stx.stx_nlink != want)
			fail("%s: directory nlink %u, expected %u", rel,
			     stx.stx_nlink, want);
		compare_dir(w, hpath, kpath, rel);
		return;
	}
	if (fs->posix) {
		unsigned int want = fs->image_hardlinks ? hst.st_nlink : 1;

		if (stx.stx_nlink != want)
			fail("%s: nlink %u, expected %u", rel, stx.stx_nlink,
			     want);
	}
	if (S_ISREG(hst.st_mode))
		walk_inode(w, rel, hst.st_ino, stx.stx_ino);
	if (!S_ISDIR(hst.st_mode) && !S_ISFIFO(hst.st_mode) &&
	    stx.stx_size != (uint64_t)hst.st_size) {
		fail("%s: size %llu, the source has %lld", rel,
		     (unsigned long long)stx.stx_size, (long long)hst.st_size);
		return;
	}
	if (S_ISREG(hst.st_mode)) {
		compare_contents(w, hpath, kpath, rel);
	} else if (S_ISLNK(hst.st_mode)) {
		char want[PATH_MAX], got[PATH_MAX];
		ssize_t hn = readlink(hpath, want, sizeof(want));

		r = k_readlink(kpath, got, sizeof(got));
		if (hn < 0)
			fail("host: readlink %s: %s", hpath, strerror(errno));
		else if (r < 0)
			fail("%s: readlinkat: %s", rel, err_name(r));
		else if (r != hn || memcmp(want, got, hn))
			fail("%s: symlink to \"%.*s\", the source to \"%.*s\"",
			     rel, (int)r, got, (int)hn, want);
	}
}

static void compare_dir(struct walk *w, const char *hdir, const char *kdir,
			const char *reldir)
{
	struct dlist hl, kl;
	size_t i, j;
	long r;

	if (!h_list(hdir, &hl))
		return;
	/* A small buffer: large directories take many getdents64 calls. */
	r = k_list(kdir, &kl, 1024, false);
	if (r < 0) {
		fail("%s/: getdents64: %s", reldir, err_name(r));
		dlist_free(&hl);
		return;
	}

	for (i = 0, j = 0; i < hl.n || j < kl.n;) {
		int c = i == hl.n ? 1 : j == kl.n ? -1 :
			strcmp(hl.v[i].name, kl.v[j].name);
		char hpath[PATH_MAX], kpath[KPATH_MAX], rel[PATH_MAX];
		unsigned int subdirs = 0;
		struct dlist sub;
		size_t k;

		if (c > 0) {
			if (!(w->fs->lost_found && !*reldir &&
			      !strcmp(kl.v[j].name, "lost+found")))
				fail("%s/%s: in the image, not in the source",
				     reldir, kl.v[j].name);
			j++;
			continue;
		}
		if (c < 0) {
			fail("%s/%s: missing from the image", reldir,
			     hl.v[i].name);
			i++;
			continue;
		}
		if ((size_t)snprintf(hpath, sizeof(hpath), "%s/%s", hdir,
				     hl.v[i].name) >= sizeof(hpath) ||
		    (size_t)snprintf(kpath, sizeof(kpath), "%s/%s", kdir,
				     kl.v[j].name) >= sizeof(kpath) ||
		    (size_t)snprintf(rel, sizeof(rel), "%s/%s", reldir,
				     hl.v[i].name) >= sizeof(rel)) {
			fail("%s/%s: path too long", reldir, hl.v[i].name);
			i++;
			j++;
			continue;
		}
		/* Subdirectories, for the directory's expected nlink. */
		if (hl.v[i].type == DT_DIR && h_list(hpath, &sub)) {
			for (k = 0; k < sub.n; k++) {
				char p[PATH_MAX];
				struct stat st;

				if ((size_t)snprintf(p, sizeof(p), "%s/%s",
						     hpath, sub.v[k].name) <
				    sizeof(p) && !lstat(p, &st) &&
				    S_ISDIR(st.st_mode))
					subdirs++;
			}
			dlist_free(&sub);
		}
		compare_entry(w, hpath, kpath, rel, &kl.v[j], subdirs);
		i++;
		j++;
	}
	dlist_free(&hl);
	dlist_free(&kl);
}

/* The whole tree under @kroot against the source tree @hroot. */
static void compare_tree(struct walk *w, const char *hroot, const char *kroot)
{
	struct lkl_statx stx;
	struct stat hst;
	long r;

	if (lstat(hroot, &hst)) {
		fail("host: lstat %s: %s", hroot, strerror(errno));
		return;
	}
	r = k_lstatx(kroot, &stx);
	if (r < 0) {
		fail("%s: statx: %s", kroot, err_name(r));
		return;
	}
	if (!S_ISDIR(stx.stx_mode))
		fail("%s: root is not a directory: %#o", kroot, stx.stx_mode);
	if (w->fs->posix && (stx.stx_mode & 07777) != (hst.st_mode & 07777))
		fail("/: permissions %04o, the source has %04o",
		     stx.stx_mode & 07777, hst.st_mode & 07777);
	compare_dir(w, hroot, kroot, "");
}

bool fixture_path(char *buf, size_t len, const char *fmt, ...)
{
	char name[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(name))
		return false;
	n = snprintf(buf, len, "%s/%s", fixtures, name);
	return n >= 0 && (size_t)n < len;
}

static bool kpath(char *buf, const char *mnt, const char *rel)
{
	int n = snprintf(buf, KPATH_MAX, "%s/%s", mnt, rel);

	if (n < 0 || n >= KPATH_MAX) {
		fail("%s/%s: path too long", mnt, rel);
		return false;
	}
	return true;
}

bool add_and_mount(const struct fs_case *fs, const char *img,
		   bool read_only, struct lkl_host_disk **disk, char *mnt,
		   size_t mnt_len)
{
	char used[32];
	struct lkl_statfs sfs;
	long r;

	r = lkl_host_disk_add(img, read_only ? FILE_DISK_READ_ONLY : 0, disk);
	if (r) {
		fail("lkl_host_disk_add(%s, %d): %s", img, read_only,
		     err_name(r));
		return false;
	}
	/*
	 * Read-write mounts do not update access times, so that reading the
	 * changes back leaves the times utimensat set.
	 */
	r = lkl_host_mount(*disk, 0, NULL,
			   read_only ? LKL_MS_RDONLY : LKL_MS_NOATIME, NULL,
			   mnt, mnt_len, used, sizeof(used));
	if (r) {
		fail("lkl_host_mount(%s): %s", lkl_host_disk_name(*disk),
		     err_name(r));
		r = lkl_host_disk_remove(*disk);
		if (r)
			fail("lkl_host_disk_remove: %s", err_name(r));
		*disk = NULL;
		return false;
	}
	if (strcmp(used, fs->name))
		fail("%s: probed as %s, expected %s", img, used, fs->name);
	r = lkl_sys2(LKL___NR_statfs, mnt, &sfs);
	if (r < 0)
		fail("statfs %s: %s", mnt, err_name(r));
	else if ((unsigned long)sfs.f_type != fs->magic)
		fail("statfs %s: f_type %#lx, expected %#lx", mnt,
		     (unsigned long)sfs.f_type, fs->magic);
	else if (!!(sfs.f_flags & 1 /* ST_RDONLY */) != read_only)
		fail("statfs %s: f_flags %#lx, expected read-%s", mnt,
		     (unsigned long)sfs.f_flags, read_only ? "only" : "write");
	return true;
}

bool umount_and_remove(const char *mnt, struct lkl_host_disk *disk)
{
	long r = lkl_host_umount(mnt);

	if (r) {
		fail("umount %s: %s", mnt, err_name(r));
		return false;
	}
	r = lkl_host_disk_remove(disk);
	if (r) {
		fail("lkl_host_disk_remove: %s", err_name(r));
		return false;
	}
	return true;
}

void run_fsck(const struct fs_case *fs, const char *img)
{
	char *argv[6] = { NULL };
	char out[65536];
	int i, st;

	for (i = 0; fs->fsck[i]; i++)
		argv[i] = (char *)fs->fsck[i];
	argv[i] = (char *)img;
	st = run_cmd(argv, out, sizeof(out));
	if (st != 0) {
		fail("%s %s exited with %d", fs->fsck[0], img, st);
		fail_tail(fs->fsck[0], out, 15);
	}
}

/* ---------------------------------------------- the read-write changes */

#define DATA_LEN	(3 * MIB + 12345)
#define PATCH_OFF	(MIB + 3)
#define PATCH		"PATCHED IN THE MIDDLE"
#define ATIME_SEC	1600000000LL
#define ATIME_NSEC	123456789
#define MTIME_SEC	1650000000LL
#define MTIME_NSEC	987654321
#define DIR_MTIME_SEC	1234567890LL
#define DIR_MTIME_NSEC	5
#define NEW_UID		1234
#define NEW_GID		5678
#define XATTR_NAME	"user.lkl.test"
#define XATTR_VALUE	"value with \0 a NUL"
#define XATTR_LEN	(sizeof(XATTR_VALUE) - 1)

static unsigned char *expected_data;

/* The name of the tree file moved to new/ and the file overwritten. */
static const char *leaf_rel = "dir/sub/deeper/deepest/leaf.txt";

static void rw_create(const char *mnt)
{
	char p[KPATH_MAX];
	size_t off = 0, step = 65536 + 7;
	long fd, r;

	if (!kpath(p, mnt, "new") || CHECK(k_mkdir(p, 0755)) < 0)
		return;
	if (kpath(p, mnt, "new/sub"))
		CHECK(k_mkdir(p, 0700));
	if (kpath(p, mnt, "new"))
		EXPECT_ERR(k_mkdir(p, 0755), LKL_EEXIST);

	fill_pattern(expected_data, DATA_LEN, 42);
	if (!kpath(p, mnt, "new/data.bin"))
		return;
	fd = CHECK(k_open(p, LKL_O_CREAT | LKL_O_EXCL | LKL_O_WRONLY, 0644));
	if (fd < 0)
		return;
	/* Odd-sized writes, so they straddle blocks and pages. */
	while (off < DATA_LEN) {
		size_t n = DATA_LEN - off < step ? DATA_LEN - off : step;

		r = CHECK(k_write_all(fd, expected_data + off, n));
		if (r < 0)
			break;
		off += n;
	}
	CHECK(k_fsync(fd, 0));
	memcpy(expected_data + PATCH_OFF, PATCH, strlen(PATCH));
	r = CHECK(k_pwrite(fd, PATCH, strlen(PATCH), PATCH_OFF));
	if (r >= 0 && (size_t)r != strlen(PATCH))
		fail("pwrite64: %ld of %zu bytes", r, strlen(PATCH));
	CHECK(k_fsync(fd, 0));
	CHECK(k_close(fd));
	if (kpath(p, mnt, "new/data.bin"))
		EXPECT_ERR(k_open(p, LKL_O_CREAT | LKL_O_EXCL | LKL_O_WRONLY,
				  0644), LKL_EEXIST);

	if (kpath(p, mnt, "new/small.txt"))
		k_put_file(p, "small file\n", 11, 0644);
	/* Overwrite a file of the tree, and append to another. */
	if (kpath(p, mnt, "odd-size.bin"))
		k_put_file(p, "rewritten\n", 10, 0644);
	if (kpath(p, mnt, "dir/a.txt")) {
		fd = CHECK(k_open(p, LKL_O_WRONLY | LKL_O_APPEND, 0));
		if (fd >= 0) {
			r = CHECK(k_write_all(fd, "appended\n", 9));
			CHECK(k_fsync(fd, 1));
			CHECK(k_close(fd));
		}
	}
}

static void rw_namespace(const char *mnt)
{
	char p[KPATH_MAX], q[KPATH_MAX];
	int i;

	if (kpath(p, mnt, "new/small.txt") && kpath(q, mnt, "new/renamed.txt"))
		CHECK(k_rename(p, q, 0));
	if (kpath(p, mnt, "new/renamed.txt") && kpath(q, mnt, "new/data.bin"))
		EXPECT_ERR(k_rename(p, q, LKL_RENAME_NOREPLACE), LKL_EEXIST);
	/* Across directories. */
	if (kpath(p, mnt, leaf_rel) && kpath(q, mnt, "new/leaf.txt"))
		CHECK(k_rename(p, q, 0));
	if (kpath(p, mnt, "dir/sub/deeper/deepest"))
		CHECK(k_rmdir(p));
	if (kpath(p, mnt, "dir/empty-dir"))
		CHECK(k_rmdir(p));
	if (kpath(p, mnt, "dir"))
		EXPECT_ERR(k_rmdir(p), LKL_ENOTEMPTY);
	if (kpath(p, mnt, "hello.txt"))
		CHECK(k_unlink(p));
	for (i = 100; i < 200; i++) {
		char rel[32];

		snprintf(rel, sizeof(rel), "many/f%03d", i);
		if (kpath(p, mnt, rel))
			CHECK(k_unlink(p));
	}
	if (kpath(p, mnt, "new/tmpdir")) {
		CHECK(k_mkdir(p, 0755));
		CHECK(k_rmdir(p));
	}
}

static void rw_attributes(const struct fs_case *fs, const char *mnt)
{
	struct lkl___kernel_timespec ts[2] = {
		{ .tv_sec = ATIME_SEC, .tv_nsec = ATIME_NSEC },
		{ .tv_sec = MTIME_SEC, .tv_nsec = MTIME_NSEC },
	};
	char p[KPATH_MAX], q[KPATH_MAX], val[64];
	long r, fd;

	if (!kpath(p, mnt, "new/renamed.txt"))
		return;
	CHECK(k_utimensat(LKL_AT_FDCWD, p, ts, 0));
	if (!fs->posix)
		return;

	CHECK(lkl_sys3(LKL___NR_fchmodat, LKL_AT_FDCWD, p, 0600));
	CHECK(k_fchownat(LKL_AT_FDCWD, p, NEW_UID, NEW_GID, 0));
	r = CHECK(k_setxattr(p, XATTR_NAME, XATTR_VALUE, XATTR_LEN,
			     LKL_XATTR_CREATE));
	if (r >= 0)
		EXPECT_ERR(k_setxattr(p, XATTR_NAME, "x", 1, LKL_XATTR_CREATE),
			   LKL_EEXIST);
	r = CHECK(k_getxattr(p, XATTR_NAME, val, sizeof(val)));
	if (r >= 0 && (r != (long)XATTR_LEN || memcmp(val, XATTR_VALUE,
						      XATTR_LEN)))
		fail("getxattr %s: %ld bytes back, not the %zu set", XATTR_NAME,
		     r, XATTR_LEN);

	if (kpath(q, mnt, "new/link.txt"))
		CHECK(k_linkat(LKL_AT_FDCWD, p, LKL_AT_FDCWD, q, 0));
	if (kpath(q, mnt, "new/sym"))
		CHECK(k_symlinkat("renamed.txt", LKL_AT_FDCWD, q));
	if (kpath(q, mnt, "new/sub")) {
		ts[0].tv_sec = DIR_MTIME_SEC;
		ts[0].tv_nsec = DIR_MTIME_NSEC;
		ts[1] = ts[0];
		CHECK(lkl_sys3(LKL___NR_fchmodat, LKL_AT_FDCWD, q, 0751));
		CHECK(k_utimensat(LKL_AT_FDCWD, q, ts, 0));
	}
	if (kpath(q, mnt, "new")) {
		fd = CHECK(k_open(q, LKL_O_RDONLY | LKL_O_DIRECTORY, 0));
		if (fd >= 0) {
			CHECK(k_fsync(fd, 0));
			CHECK(k_close(fd));
		}
	}
}

static void expect_time(const char *what, const struct lkl_statx_timestamp *t,
			long long sec, long nsec, long long gran)
{
	long long got = t->tv_sec * NSEC_PER_SEC + t->tv_nsec;
	long long want = sec * NSEC_PER_SEC + nsec;

	if (got / gran != want / gran && got != want)
		fail("%s: %lld.%09u, expected %lld.%09ld", what,
		     (long long)t->tv_sec, t->tv_nsec, sec, nsec);
}

static void compare_file(const char *kp, const unsigned char *want,
			 size_t len, unsigned char *buf)
{
	size_t off = 0;
	long fd, r;

	fd = k_open(kp, LKL_O_RDONLY, 0);
	if (fd < 0) {
		fail("open %s: %s", kp, err_name(fd));
		return;
	}
	for (;;) {
		r = k_read_all(fd, buf, CHUNK);
		if (r < 0) {
			fail("read %s at %zu: %s", kp, off, err_name(r));
			break;
		}
		if (off + r > len) {
			fail("%s: longer than %zu bytes", kp, len);
			break;
		}
		if (memcmp(buf, want + off, r)) {
			fail("%s: differs from byte %zu on", kp,
			     off + first_difference(buf, want + off, r));
			break;
		}
		off += r;
		if (r < CHUNK) {
			if (off != len)
				fail("%s: %zu bytes, expected %zu", kp, off,
				     len);
			break;
		}
	}
	CHECK(k_close(fd));
}

/* Everything rw_*() did, read back; after a remount too. */
static void rw_verify(const struct fs_case *fs, const char *mnt,
		      unsigned char *buf, unsigned char *hbuf)
{
	char p[KPATH_MAX], hp[PATH_MAX], val[64];
	struct lkl_statx stx;
	struct dlist l;
	long r;
	int i;

	if (kpath(p, mnt, "new/data.bin") &&
	    CHECK(k_path_statx(p, 0, &stx)) >= 0) {
		if (stx.stx_size != DATA_LEN)
			fail("new/data.bin: size %llu, expected %d",
			     (unsigned long long)stx.stx_size, DATA_LEN);
		compare_file(p, expected_data, DATA_LEN, buf);
	}
	if (kpath(p, mnt, "new/renamed.txt"))
		k_expect_text(p, "small file\n");
	if (kpath(p, mnt, "new/small.txt"))
		k_expect_missing(p);
	if (kpath(p, mnt, "new/leaf.txt"))
		k_expect_text(p, "the leaf\n");
	if (kpath(p, mnt, "dir/sub/deeper/deepest"))
		k_expect_missing(p);
	if (kpath(p, mnt, "dir/sub/deeper") &&
	    CHECK(k_path_statx(p, 0, &stx)) >= 0 && !fs->dir_nlink_one &&
	    stx.stx_nlink != 2)
		fail("dir/sub/deeper: nlink %u after rmdir of its subdirectory, expected 2",
		     stx.stx_nlink);
	if (kpath(p, mnt, "dir/empty-dir"))
		k_expect_missing(p);
	if (kpath(p, mnt, "new/tmpdir"))
		k_expect_missing(p);
	if (kpath(p, mnt, "hello.txt"))
		k_expect_missing(p);
	if (kpath(p, mnt, "odd-size.bin"))
		k_expect_text(p, "rewritten\n");
	if (kpath(p, mnt, "dir/a.txt"))
		k_expect_text(p, "a is for apple\nappended\n");
	if (fs->image_hardlinks && kpath(p, mnt, "hardlink.txt"))
		k_expect_text(p, "a is for apple\nappended\n");

	if (kpath(p, mnt, "many")) {
		r = k_list(p, &l, 32768, false);
		if (r < 0) {
			fail("getdents64 %s: %s", p, err_name(r));
		} else {
			for (i = 0; i < 300; i++) {
				char name[16];
				bool gone = i >= 100 && i < 200;
				struct dent key = { .name = name };

				snprintf(name, sizeof(name), "f%03d", i);
				if (!bsearch(&key, l.v, l.n, sizeof(*l.v),
					     dent_cmp) != gone)
					fail("many/%s: %s", name, gone ?
					     "still listed after unlink" :
					     "no longer listed");
			}
			if (l.n != 200)
				fail("many/: %zu entries, expected 200", l.n);
			dlist_free(&l);
		}
	}
	if (kpath(p, mnt, "new")) {
		static const char *const posix_names[] = {
			"data.bin", "leaf.txt", "link.txt", "renamed.txt",
			"sub", "sym",
		};
		static const char *const fat_names[] = {
			"data.bin", "leaf.txt", "renamed.txt", "sub",
		};
		const char *const *names = fs->posix ? posix_names : fat_names;
		size_t n = fs->posix ? 6 : 4;
		size_t k;

		r = k_list(p, &l, 4096, false);
		if (r < 0) {
			fail("getdents64 %s: %s", p, err_name(r));
		} else {
			bool same = l.n == n;

			for (k = 0; same && k < n; k++)
				same = !strcmp(l.v[k].name, names[k]);
			if (!same) {
				char got[512] = "";

				for (k = 0; k < l.n; k++) {
					strncat(got, " ", sizeof(got) - strlen(got) - 1);
					strncat(got, l.v[k].name,
						sizeof(got) - strlen(got) - 1);
				}
				fail("new/ lists:%s", got);
			}
			dlist_free(&l);
		}
	}

	/* Times, and the rest of what rw_attributes() set. */
	if (kpath(p, mnt, "new/renamed.txt") &&
	    CHECK(k_path_statx(p, 0, &stx)) >= 0) {
		expect_time("new/renamed.txt mtime", &stx.stx_mtime,
			    MTIME_SEC, MTIME_NSEC, fs->time_gran);
		/* FAT keeps the access date only. */
		if (fs->posix)
			expect_time("new/renamed.txt atime", &stx.stx_atime,
				    ATIME_SEC, ATIME_NSEC, fs->time_gran);
		if (fs->posix) {
			if ((stx.stx_mode & 07777) != 0600)
				fail("new/renamed.txt: mode %04o, expected 0600",
				     stx.stx_mode & 07777);
			if (stx.stx_uid != NEW_UID || stx.stx_gid != NEW_GID)
				fail("new/renamed.txt: owner %u:%u, expected %u:%u",
				     stx.stx_uid, stx.stx_gid, NEW_UID,
				     NEW_GID);
			if (stx.stx_nlink != 2)
				fail("new/renamed.txt: nlink %u, expected 2",
				     stx.stx_nlink);
		}
	}
	if (fs->posix) {
		struct lkl_statx stx2;

		if (kpath(p, mnt, "new/renamed.txt")) {
			r = CHECK(k_getxattr(p, XATTR_NAME, val, sizeof(val)));
			if (r >= 0 && (r != (long)XATTR_LEN ||
				       memcmp(val, XATTR_VALUE, XATTR_LEN)))
				fail("getxattr %s: %ld bytes, not what was set",
				     XATTR_NAME, r);
		}
		if (kpath(p, mnt, "new/link.txt") &&
		    CHECK(k_path_statx(p, 0, &stx2)) >= 0 &&
		    kpath(p, mnt, "new/renamed.txt") &&
		    CHECK(k_path_statx(p, 0, &stx)) >= 0 &&
		    stx.stx_ino != stx2.stx_ino)
			fail("new/link.txt: inode %llu, new/renamed.txt %llu",
			     (unsigned long long)stx2.stx_ino,
			     (unsigned long long)stx.stx_ino);
		if (kpath(p, mnt, "new/sym")) {
			r = CHECK(k_readlink(p, val, sizeof(val)));
			if (r >= 0 && (r != 11 || memcmp(val, "renamed.txt", 11)))
				fail("new/sym: points to \"%.*s\"", (int)r, val);
			k_expect_text(p, "small file\n");
		}
		if (kpath(p, mnt, "new/sub") &&
		    CHECK(k_path_statx(p, 0, &stx)) >= 0) {
			if (stx.stx_mode != (S_IFDIR | 0751))
				fail("new/sub: mode %#o, expected %#o",
				     stx.stx_mode, S_IFDIR | 0751);
			expect_time("new/sub mtime", &stx.stx_mtime,
				    DIR_MTIME_SEC, DIR_MTIME_NSEC, 1);
			expect_time("new/sub atime", &stx.stx_atime,
				    DIR_MTIME_SEC, DIR_MTIME_NSEC, 1);
		}
	}

	/* An untouched file of the tree is still what the source holds. */
	if (kpath(p, mnt, "big.bin") &&
	    fixture_path(hp, sizeof(hp), "%s/big.bin", fs->tree)) {
		int hfd = open(hp, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (hfd < 0) {
			fail("host: open %s: %s", hp, strerror(errno));
			return;
		}
		n = host_read_all(hfd, hbuf, 5 * MIB);
		close(hfd);
		if (n != 5 * MIB)
			fail("host: %s: read %zd bytes", hp, n);
		else
			compare_file(p, hbuf, n, buf);
	}
}


static void test_fs(const struct fs_case *fs, unsigned char *buf,
		    unsigned char *hbuf, struct walk *w)
{
	char img[PATH_MAX], copy[PATH_MAX], tree[PATH_MAX], shafile[PATH_MAX];
	char mnt[64], p[KPATH_MAX], want[80], got[65];
	struct lkl_host_disk *disk;
	bool mounted;
	size_t i;

	if (!fixture_path(img, sizeof(img), "%s.img", fs->name) ||
	    !fixture_path(copy, sizeof(copy), "%s-rw.img", fs->name) ||
	    !fixture_path(tree, sizeof(tree), "%s", fs->tree) ||
	    !fixture_path(shafile, sizeof(shafile), "%s.img.sha256",
			  fs->name)) {
		fail("fixture paths too long");
		report("%s: fixtures", fs->name);
		return;
	}

	/* The pristine image, read-only. */
	if (!read_host_text(shafile, want, sizeof(want)))
		want[0] = '\0';
	else if (sha256_file(img, got) && strncmp(want, got, 64))
		fail("%s: sha256 %s, but make-images.sh recorded %.64s", img,
		     got, want);
	mounted = add_and_mount(fs, img, true, &disk, mnt, sizeof(mnt));
	report("%s: pristine image mounts read-only, probed as %s", fs->name,
	       fs->name);
	if (!mounted)
		return;

	w->fs = fs;
	w->entries = 0;
	w->bytes = 0;
	for (i = 0; i < w->ninos; i++)
		free(w->inos[i].rel);
	w->ninos = 0;
	compare_tree(w, tree, mnt);
	report("%s: tree matches the source (%zu entries, %llu bytes compared)",
	       fs->name, w->entries, w->bytes);

	if (kpath(p, mnt, "should-not-exist"))
		EXPECT_ERR(k_open(p, LKL_O_CREAT | LKL_O_WRONLY, 0644),
			   LKL_EROFS);
	if (kpath(p, mnt, "new-dir"))
		EXPECT_ERR(k_mkdir(p, 0755), LKL_EROFS);
	if (kpath(p, mnt, "empty"))
		EXPECT_ERR(k_open(p, LKL_O_WRONLY, 0), LKL_EROFS);
	report("%s: writes to the read-only mount fail with EROFS", fs->name);

	umount_and_remove(mnt, disk);
	if (want[0] && sha256_file(img, got) && strncmp(want, got, 64))
		fail("%s: sha256 now %s, was %.64s", img, got, want);
	report("%s: umount, disk removed, pristine image unchanged (sha256)",
	       fs->name);

	/* A copy, read-write. */
	{
		char *argv[] = { "cp", "--sparse=always", img, copy, NULL };
		char out[4096];
		int st = run_cmd(argv, out, sizeof(out));

		if (st) {
			fail("cp %s %s: status %d: %s", img, copy, st, out);
			report("%s: copy the image", fs->name);
			return;
		}
	}
	mounted = add_and_mount(fs, copy, false, &disk, mnt, sizeof(mnt));
	report("%s: copy mounts read-write", fs->name);
	if (!mounted)
		return;
	rw_create(mnt);
	report("%s: mkdir, create, write, pwrite, append, truncate, fsync",
	       fs->name);
	rw_namespace(mnt);
	report("%s: rename, rename NOREPLACE, unlink, rmdir, mkdir+rmdir",
	       fs->name);
	rw_attributes(fs, mnt);
	report(fs->posix ?
	       "%s: utimensat, fchmodat, fchownat, setxattr/getxattr, linkat, symlinkat" :
	       "%s: utimensat", fs->name);
	rw_verify(fs, mnt, buf, hbuf);
	report("%s: the changes read back", fs->name);
	if (!umount_and_remove(mnt, disk)) {
		report("%s: umount and remove the disk", fs->name);
		return;
	}
	report("%s: umount and remove the disk", fs->name);

	run_fsck(fs, copy);
	report("%s: %s %s finds the changed copy clean", fs->name, fs->fsck[0],
	       fs->fsck[1]);

	mounted = add_and_mount(fs, copy, true, &disk, mnt, sizeof(mnt));
	if (mounted) {
		rw_verify(fs, mnt, buf, hbuf);
		umount_and_remove(mnt, disk);
	}
	report("%s: the changes persist after a remount", fs->name);
}


void test_filesystems(void)
{
	unsigned char *buf, *hbuf;
	struct walk w = { 0 };
	size_t i;

	buf = malloc(5 * MIB);
	hbuf = malloc(5 * MIB);
	w.hbuf = malloc(CHUNK);
	w.kbuf = malloc(CHUNK);
	expected_data = malloc(DATA_LEN);
	if (buf && hbuf && w.hbuf && w.kbuf && expected_data) {
		for (i = 0; i < ARRAY_SIZE(fs_cases); i++)
			test_fs(&fs_cases[i], buf, hbuf, &w);
	} else {
		fail("out of memory");
		report("filesystems");
	}
	for (i = 0; i < w.ninos; i++)
		free(w.inos[i].rel);
	free(w.inos);
	free(w.hbuf);
	free(w.kbuf);
	free(buf);
	free(hbuf);
	free(expected_data);
	expected_data = NULL;
}
