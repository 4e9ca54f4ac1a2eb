// SPDX-License-Identifier: GPL-2.0
/* Whole nodes in one call (see put.h). */
#include <string.h>

#include "fs.h"
#include "kcall.h"
#include "put.h"
#include "../copy/xattr_pack.h"

/*
 * Each xattr in @packed, through @set; those a filesystem does not
 * support (all of them on vfat) are let be, and the rest kept.
 */
static long set_xattrs(const char *packed, size_t len,
		       long (*set)(const void *obj, const struct xattr_pack_item *x),
		       const void *obj)
{
	struct xattr_pack_item x;
	size_t off = 0;
	long ret;
	int more;

	while ((more = xattr_pack_next(packed, len, &off, &x)) > 0) {
		ret = set(obj, &x);
		if (ret && ret != -LKL_EOPNOTSUPP)
			return ret;
	}
	return more < 0 ? -LKL_EINVAL : 0;
}

struct by_path {
	int root;
	const char *path;
	int follow;
};

static long set_xattr_by_path(const void *obj, const struct xattr_pack_item *x)
{
	const struct by_path *p = obj;

	return lkl_fs_setxattr(p->root, p->path, x->name, x->value, x->len, 0,
			       p->follow);
}

static long set_xattr_by_fd(const void *obj, const struct xattr_pack_item *x)
{
	return k_fsetxattr(*(const long *)obj, x->name, x->value, x->len, 0);
}

long lkl_fs_set_meta(int root, const char *path, int follow,
		     const struct lkl_put_meta *m)
{
	struct by_path p = { root, path, follow };
	long ret;

	ret = lkl_fs_chown(root, path, m->uid, m->gid, follow);
	if (!ret)
		ret = set_xattrs(m->xattrs, m->xattrs_len, set_xattr_by_path,
				 &p);
	if (!ret && m->mode >= 0)
		ret = lkl_fs_chmod(root, path, m->mode, follow);
	if (!ret)
		ret = lkl_fs_utimens(root, path, m->times, follow);
	return ret;
}

/*
 * lkl_fs_set_meta() through the file's own open descriptor: one path walk
 * for a small file rather than one per change (a copy of a tree of small
 * files made seven per file).
 */
static long set_meta_fd(long fd, const struct lkl_put_meta *m)
{
	long ret;

	ret = k_fchownat(fd, "", m->uid, m->gid, LKL_AT_EMPTY_PATH);
	if (!ret)
		ret = set_xattrs(m->xattrs, m->xattrs_len, set_xattr_by_fd, &fd);
	if (!ret && m->mode >= 0)
		ret = k_fchmodat2(fd, "", m->mode, LKL_AT_EMPTY_PATH);
	if (!ret)
		ret = k_utimensat(fd, "", m->times, LKL_AT_EMPTY_PATH);
	return ret;
}

/*
 * Whether @path, which a create found there (EEXIST), is a directory;
 * if it is not, it is removed, as cp removes what is in its way, and
 * the create may be tried again (returns 0).  A directory answers 1.
 */
static long clear_non_dir(int root, const char *path)
{
	struct lkl_statx st;
	long ret;

	ret = lkl_fs_statx(root, path, 0, &st);
	if (ret)
		return ret;
	if ((st.stx_mode & LKL_S_IFMT) == LKL_S_IFDIR)
		return 1;
	return lkl_fs_unlink(root, path);
}

static long create_excl(int root, const char *path)
{
	const int flags = LKL_O_WRONLY | LKL_O_CREAT | LKL_O_EXCL |
			  LKL_O_NOFOLLOW;
	long fd, ret;

	fd = lkl_fs_open(root, path, flags, 0600);
	if (fd != -LKL_EEXIST)
		return fd;
	ret = clear_non_dir(root, path);
	if (ret)
		return ret > 0 ? -LKL_EEXIST : ret;
	return lkl_fs_open(root, path, flags, 0600);
}

long lkl_fs_put_file(int root, const char *path, const void *data, size_t len,
		     const struct lkl_put_meta *m)
{
	size_t done = 0;
	long fd, n, ret = 0;

	fd = create_excl(root, path);
	if (fd < 0)
		return fd;
	while (done < len) {
		n = k_write(fd, (const char *)data + done, len - done);
		if (n <= 0) {
			ret = n ? n : -LKL_EIO;
			break;
		}
		done += n;
	}
	/* The times last: the writes above would change them. */
	if (!ret)
		ret = set_meta_fd(fd, m);
	n = k_close(fd);
	return ret ? ret : n;
}

long lkl_fs_put_symlink(int root, const char *path, const char *target,
			const struct lkl_put_meta *m)
{
	struct lkl_put_meta own = *m;
	long ret;

	ret = lkl_fs_symlink(root, target, path);
	if (ret == -LKL_EEXIST) {
		ret = clear_non_dir(root, path);
		if (ret)
			return ret > 0 ? -LKL_EEXIST : ret;
		ret = lkl_fs_symlink(root, target, path);
	}
	if (ret)
		return ret;
	own.mode = -1;
	return lkl_fs_set_meta(root, path, 0, &own);
}

long lkl_fs_put_dir(int root, const char *path, int mode)
{
	long ret;

	ret = lkl_fs_mkdir(root, path, mode);
	if (ret != -LKL_EEXIST)
		return ret;
	ret = clear_non_dir(root, path);
	if (ret)
		return ret > 0 ? 0 : ret;
	return lkl_fs_mkdir(root, path, mode);
}
