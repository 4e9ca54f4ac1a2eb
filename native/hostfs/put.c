// SPDX-License-Identifier: GPL-2.0
/* Small files made whole on the host (see put.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "put.h"
#include "../copy/xattr_pack.h"

/* The directory holding @rel's last component; *@name points at it. */
static int open_parent(const char *base, char *rel, const char **name)
{
	char *slash, *part = rel;
	int dir, next;

	dir = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	while ((slash = strchr(part, '/'))) {
		*slash = 0;
		if (!*part || !strcmp(part, ".") || !strcmp(part, "..")) {
			close(dir);
			return -EPERM;
		}
		next = openat(dir, part, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		if (next < 0) {
			next = -errno;
			close(dir);
			/* A symlink on the way is refused, as is a file. */
			return next == -ELOOP ? -ENOTDIR : next;
		}
		close(dir);
		dir = next;
		part = slash + 1;
	}
	if (!*part || !strcmp(part, ".") || !strcmp(part, "..")) {
		close(dir);
		return -EPERM;
	}
	*name = part;
	return dir;
}

static int create_excl(int dir, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EEXIST)
		return fd < 0 ? -errno : fd;
	/* What is there goes, as cp replaces it, unless it is a directory. */
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EEXIST;
	if (unlinkat(dir, name, 0))
		return -errno;
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

static int write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= n;
	}
	return 0;
}

static int set_xattrs(int fd, const struct lkl_put_meta *m,
		      struct hostfs_put_result *res)
{
	struct xattr_pack_item x;
	size_t off = 0;
	int more;

	while ((more = xattr_pack_next(m->xattrs, m->xattrs_len, &off, &x)) > 0) {
		if (fsetxattr(fd, x.name, x.value, x.len, 0)) {
			if (errno != EPERM && errno != EOPNOTSUPP)
				return -errno;
			res->xattrs_failed++;
		}
	}
	return more < 0 ? -EINVAL : 0;
}

long hostfs_put_file(const char *base, const char *rel, const void *data,
		   size_t len, const struct lkl_put_meta *m, int lenient,
		   struct hostfs_put_result *res)
{
	struct timespec times[2];
	const char *name = NULL;
	char *path;
	int dir, fd, ret;

	memset(res, 0, sizeof(*res));
	path = strdup(rel);
	if (!path)
		return -ENOMEM;
	dir = open_parent(base, path, &name);
	if (dir < 0) {
		free(path);
		return dir;
	}
	fd = create_excl(dir, name);
	close(dir);
	free(path);
	if (fd < 0)
		return fd;

	ret = write_all(fd, data, len);
	if (!ret && fchown(fd, m->uid, m->gid)) {
		if (lenient && errno == EPERM)
			res->chown_failed = 1;
		else
			ret = -errno;
	}
	if (!ret)
		ret = set_xattrs(fd, m, res);
	/* After chown, which clears set-id bits. */
	if (!ret && fchmod(fd, m->mode))
		ret = -errno;
	times[0].tv_sec = m->times[0].tv_sec;
	times[0].tv_nsec = m->times[0].tv_nsec;
	times[1].tv_sec = m->times[1].tv_sec;
	times[1].tv_nsec = m->times[1].tv_nsec;
	if (!ret && futimens(fd, times))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}
