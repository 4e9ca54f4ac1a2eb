// SPDX-License-Identifier: GPL-2.0
/* Whole nodes in one call (see put.h). */
#include <string.h>

#include "fs.h"
#include "kcall.h"
#include "put.h"
#include "../copy/xattr_pack.h"

static long set_xattrs(int root, const char *path, int follow,
		       const char *packed, size_t len)
{
	struct xattr_pack_item x;
	size_t off = 0;
	long ret;
	int more;

	while ((more = xattr_pack_next(packed, len, &off, &x)) > 0) {
		ret = lkl_fs_setxattr(root, path, x.name, x.value, x.len, 0,
				      follow);
		/* A filesystem without this kind of xattr keeps the rest. */
		if (ret && ret != -LKL_EOPNOTSUPP)
			return ret;
	}
	return more < 0 ? -LKL_EINVAL : 0;
}

long lkl_fs_set_meta(int root, const char *path, int follow,
		     const struct lkl_put_meta *m)
{
	long ret;

	ret = lkl_fs_chown(root, path, m->uid, m->gid, follow);
	if (!ret)
		ret = set_xattrs(root, path, follow, m->xattrs, m->xattrs_len);
	if (!ret && m->mode >= 0)
		ret = lkl_fs_chmod(root, path, m->mode, follow);
	if (!ret)
		ret = lkl_fs_utimens(root, path, m->times, follow);
	return ret;
}

static long create_excl(int root, const char *path)
{
	struct lkl_statx st;
	long fd, ret;

	fd = lkl_fs_open(root, path, LKL_O_WRONLY | LKL_O_CREAT | LKL_O_EXCL |
			 LKL_O_NOFOLLOW, 0600);
	if (fd != -LKL_EEXIST)
		return fd;
	ret = lkl_fs_statx(root, path, 0, &st);
	if (ret)
		return ret;
	if ((st.stx_mode & LKL_S_IFMT) == LKL_S_IFDIR)
		return -LKL_EEXIST;
	ret = lkl_fs_unlink(root, path);
	if (ret)
		return ret;
	return lkl_fs_open(root, path, LKL_O_WRONLY | LKL_O_CREAT | LKL_O_EXCL |
			   LKL_O_NOFOLLOW, 0600);
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
	n = k_close(fd);
	if (!ret)
		ret = n;
	if (ret)
		return ret;
	return lkl_fs_set_meta(root, path, 0, m);
}
