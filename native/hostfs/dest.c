// SPDX-License-Identifier: GPL-2.0
/* A copy's destination on the host, written by descriptor (see dest.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "dest.h"
#include "../copy/xattr_pack.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* How many directories below the base stay open; deeper ones are reopened. */
#define DEST_DEPTH 32

struct hostfs_dest {
	pthread_mutex_t lock;
	int base;			/* O_PATH descriptor of the base */
	int depth;			/* directories held */
	int fds[DEST_DEPTH];		/* fds[i]: components 0..i of held */
	size_t ends[DEST_DEPTH];	/* where component i ends in held */
	char *held;			/* their path, "/"-separated */
	size_t held_cap;
	int no_openat2;			/* ENOSYS seen: O_NOFOLLOW opens */
};

long hostfs_dest_open(const char *base, struct hostfs_dest **out)
{
	struct hostfs_dest *d;
	int err;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	err = pthread_mutex_init(&d->lock, NULL);
	if (err) {
		free(d);
		return -err;
	}
	d->base = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d->base < 0) {
		err = -errno;
		pthread_mutex_destroy(&d->lock);
		free(d);
		return err;
	}
	*out = d;
	return 0;
}

/* Lets go of the held directories from the @keep'th on. */
static void dest_drop(struct hostfs_dest *d, int keep)
{
	while (d->depth > keep)
		close(d->fds[--d->depth]);
}

void hostfs_dest_close(struct hostfs_dest *d)
{
	if (!d)
		return;
	dest_drop(d, 0);
	close(d->base);
	pthread_mutex_destroy(&d->lock);
	free(d->held);
	free(d);
}

static int valid_name(const char *name, size_t len)
{
	if (!len || (len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EPERM;
	return len > NAME_MAX ? -ENAMETOOLONG : 0;
}

/*
 * @name (one component) in @dir, never following a symlink, not even a
 * last one unless @flags has O_PATH | O_NOFOLLOW (which opens the link
 * itself).  A symlink in the way is -ELOOP.
 */
static int dest_openat(struct hostfs_dest *d, int dir, const char *name,
		       int flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!d->no_openat2) {
		fd = syscall(SYS_openat2, dir, name, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		/*
		 * Older container seccomp profiles refuse openat2 with EPERM
		 * rather than ENOSYS; a real EPERM (an immutable file, say)
		 * comes back again from the plain open below.
		 */
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		if (errno == ENOSYS)
			d->no_openat2 = 1;
	}
	/* One checked component with O_NOFOLLOW resolves the same way. */
	fd = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * The directory of the first @len bytes of @rel ("" for the base), held
 * or opened from the deepest held directory that leads to it.  *@owned
 * is set if the caller must close it (deeper than DEST_DEPTH).  Called
 * with the lock held.
 */
static int dest_dir(struct hostfs_dest *d, const char *rel, size_t len,
		    int *owned)
{
	char name[NAME_MAX + 1], *held;
	size_t start = 0, end;
	const char *slash;
	int i, fd, next, err, keep;

	*owned = 0;
	for (i = 0; i < d->depth; i++) {
		end = d->ends[i];
		if (end > len || (end < len && rel[end] != '/') ||
		    memcmp(rel + start, d->held + start, end - start))
			break;
		start = end + 1;
	}
	dest_drop(d, i);
	fd = i ? d->fds[i - 1] : d->base;
	while (start < len) {
		slash = memchr(rel + start, '/', len - start);
		end = slash ? (size_t)(slash - rel) : len;
		err = valid_name(rel + start, end - start);
		if (err)
			goto fail;
		keep = !*owned && d->depth < DEST_DEPTH;
		if (keep && end > d->held_cap) {
			held = realloc(d->held, end + PATH_MAX);
			if (!held) {
				err = -ENOMEM;
				goto fail;
			}
			d->held = held;
			d->held_cap = end + PATH_MAX;
		}
		memcpy(name, rel + start, end - start);
		name[end - start] = 0;
		next = dest_openat(d, fd, name, O_PATH | O_DIRECTORY);
		if (next < 0) {
			/* A symlink on the way is refused, as is a file. */
			err = next == -ELOOP ? -ENOTDIR : next;
			goto fail;
		}
		if (*owned)
			close(fd);
		fd = next;
		if (keep) {
			d->fds[d->depth] = fd;
			d->ends[d->depth++] = end;
			if (start)
				d->held[start - 1] = '/';
			memcpy(d->held + start, rel + start, end - start);
		} else {
			*owned = 1;
		}
		start = end + 1;
	}
	return fd;
fail:
	if (*owned)
		close(fd);
	return err;
}

/* Splits @rel into the length of its directory part and its last name. */
static int dest_split(const char *rel, size_t *dir_len, const char **name)
{
	const char *slash = strrchr(rel, '/');

	*name = slash ? slash + 1 : rel;
	*dir_len = slash ? (size_t)(slash - rel) : 0;
	return valid_name(*name, strlen(*name));
}

enum make_kind { MAKE_DIR, MAKE_FILE, MAKE_SYMLINK, MAKE_LINK, MAKE_NODE };

struct make_args {
	enum make_kind kind;
	const char *target;		/* MAKE_SYMLINK */
	int old_dir;			/* MAKE_LINK */
	const char *old_name;
	mode_t mode;			/* MAKE_NODE */
	dev_t dev;
};

/* Makes @name in @dir: none of these calls follows a symlink there. */
static int make_at(int dir, const char *name, const struct make_args *a)
{
	int ret = 0;

	switch (a->kind) {
	case MAKE_DIR:
		ret = mkdirat(dir, name, 0700);
		break;
	case MAKE_FILE:
		ret = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL |
			     O_NOFOLLOW | O_CLOEXEC, 0600);
		return ret < 0 ? -errno : ret;
	case MAKE_SYMLINK:
		ret = symlinkat(a->target, dir, name);
		break;
	case MAKE_LINK:
		ret = linkat(a->old_dir, a->old_name, dir, name, 0);
		break;
	case MAKE_NODE:
		ret = mknodat(dir, name, a->mode, a->dev);
		break;
	}
	return ret ? -errno : 0;
}

/*
 * Makes @name in @dir, replacing a non-directory there as cp does; a
 * directory there is -EEXIST (adopted by MAKE_DIR).
 */
static int make_replacing(int dir, const char *name, const struct make_args *a)
{
	struct stat st;
	int ret;

	ret = make_at(dir, name, a);
	if (ret != -EEXIST)
		return ret;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return a->kind == MAKE_DIR ? 0 : -EEXIST;
	/* Removes the name, whatever it is now; a directory would fail. */
	if (unlinkat(dir, name, 0))
		return -errno;
	return make_at(dir, name, a);
}

static long dest_make(struct hostfs_dest *d, const char *rel,
		      struct make_args *a)
{
	const char *name, *old_name;
	size_t dir_len, old_len;
	int dir, owned, old_owned = 0;
	long ret;

	ret = dest_split(rel, &dir_len, &name);
	if (ret)
		return ret;
	if (a->kind == MAKE_LINK) {
		ret = dest_split(a->old_name, &old_len, &old_name);
		if (ret)
			return ret;
	}
	pthread_mutex_lock(&d->lock);
	if (a->kind == MAKE_LINK) {
		/* Its own descriptor: the second dest_dir() may drop it. */
		a->old_dir = dest_dir(d, a->old_name, old_len, &old_owned);
		if (a->old_dir >= 0 && !old_owned) {
			a->old_dir = fcntl(a->old_dir, F_DUPFD_CLOEXEC, 0);
			if (a->old_dir < 0)
				a->old_dir = -errno;
		}
		if (a->old_dir < 0) {
			ret = a->old_dir;
			goto out;
		}
		a->old_name = old_name;
	}
	dir = dest_dir(d, rel, dir_len, &owned);
	if (dir < 0) {
		ret = dir;
		goto out;
	}
	ret = make_replacing(dir, name, a);
	if (owned)
		close(dir);
out:
	if (a->kind == MAKE_LINK && a->old_dir >= 0)
		close(a->old_dir);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

long hostfs_dest_mkdir(struct hostfs_dest *d, const char *rel)
{
	struct make_args a = { .kind = MAKE_DIR };

	/* The base itself is there. */
	return *rel ? dest_make(d, rel, &a) : 0;
}

long hostfs_dest_create(struct hostfs_dest *d, const char *rel)
{
	struct make_args a = { .kind = MAKE_FILE };

	return dest_make(d, rel, &a);
}

long hostfs_dest_symlink(struct hostfs_dest *d, const char *rel,
			 const char *target)
{
	struct make_args a = { .kind = MAKE_SYMLINK, .target = target };

	return dest_make(d, rel, &a);
}

long hostfs_dest_link(struct hostfs_dest *d, const char *rel,
		      const char *existing)
{
	struct make_args a = { .kind = MAKE_LINK, .old_dir = -1,
			       .old_name = existing };

	return dest_make(d, rel, &a);
}

long hostfs_dest_mknod(struct hostfs_dest *d, const char *rel, mode_t mode,
		       dev_t dev)
{
	struct make_args a = { .kind = MAKE_NODE, .mode = mode, .dev = dev };

	return dest_make(d, rel, &a);
}

/*
 * Metadata through @fd: a descriptor open for reading or writing, or
 * with @opath an O_PATH one (symlinks, devices, fifos, directories we
 * may not read), for which xattrs and the mode go through
 * /proc/self/fd/N: that names the node the descriptor holds, a symlink
 * itself included, whatever its name is now.
 */
static long fd_meta(int fd, int opath, const struct lkl_put_meta *m,
		    int lenient, struct hostfs_meta_result *res)
{
	struct xattr_pack_item x;
	struct timespec times[2];
	char proc[32];
	size_t off = 0;
	int more, ret;

	memset(res, 0, sizeof(*res));
	ret = snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (ret < 0 || (size_t)ret >= sizeof(proc))
		return -EINVAL;
	ret = opath ? fchownat(fd, "", m->uid, m->gid,
			       AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) :
		fchown(fd, m->uid, m->gid);
	if (ret) {
		/*
		 * EINVAL: an id with no mapping in this user namespace (root in
		 * a rootless container); no one here could give the file to it.
		 */
		if (errno != EINVAL && (!lenient || errno != EPERM))
			return -errno;
		res->chown_failed = 1;
	}
	while ((more = xattr_pack_next(m->xattrs, m->xattrs_len, &off, &x)) > 0) {
		ret = opath ? setxattr(proc, x.name, x.value, x.len, 0) :
			fsetxattr(fd, x.name, x.value, x.len, 0);
		if (ret) {
			if (errno != EPERM && errno != EOPNOTSUPP)
				return -errno;
			res->xattrs_failed++;
		}
	}
	if (more < 0)
		return -EINVAL;
	/* After chown, which clears set-id bits; -1 for symlinks. */
	if (m->mode >= 0) {
		if (!opath)
			ret = fchmod(fd, m->mode);
		else if ((ret = syscall(SYS_fchmodat2, fd, "", m->mode,
					AT_EMPTY_PATH)) && errno == ENOSYS)
			ret = chmod(proc, m->mode);
		if (ret)
			return -errno;
	}
	/* Last: every other change touches them. */
	times[0].tv_sec = m->times[0].tv_sec;
	times[0].tv_nsec = m->times[0].tv_nsec;
	times[1].tv_sec = m->times[1].tv_sec;
	times[1].tv_nsec = m->times[1].tv_nsec;
	ret = opath ? utimensat(fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) :
		futimens(fd, times);
	if (ret)
		return -errno;
	return 0;
}

long hostfs_fd_set_meta(int fd, const struct lkl_put_meta *m, int lenient,
			struct hostfs_meta_result *res)
{
	return fd_meta(fd, 0, m, lenient, res);
}

long hostfs_dest_set_meta(struct hostfs_dest *d, const char *rel,
			  mode_t type, const struct lkl_put_meta *m,
			  int lenient, struct hostfs_meta_result *res)
{
	const char *name = ".";
	size_t dir_len = 0;
	int dir, owned, fd, opath = 1;
	struct stat st;
	long ret;

	memset(res, 0, sizeof(*res));
	if (*rel) {
		ret = dest_split(rel, &dir_len, &name);
		if (ret)
			return ret;
	}
	pthread_mutex_lock(&d->lock);
	dir = dest_dir(d, rel, dir_len, &owned);
	if (dir < 0) {
		pthread_mutex_unlock(&d->lock);
		return dir;
	}
	if (S_ISDIR(type)) {
		/* Readable, for the f*() calls; if not, as O_PATH. */
		fd = dest_openat(d, dir, name, O_RDONLY | O_DIRECTORY |
				 O_NOFOLLOW);
		opath = fd == -EACCES;
		if (opath)
			fd = dest_openat(d, dir, name, O_PATH | O_DIRECTORY |
					 O_NOFOLLOW);
	} else {
		/* The node itself, a symlink included; opening a device would act on it. */
		fd = dest_openat(d, dir, name, O_PATH | O_NOFOLLOW);
	}
	if (owned)
		close(dir);
	pthread_mutex_unlock(&d->lock);
	/* A symlink or another kind where this node was made. */
	if (fd == -ELOOP || (fd == -ENOTDIR && S_ISDIR(type)))
		return -ESTALE;
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		ret = -errno;
	} else if ((st.st_mode & S_IFMT) != (type & S_IFMT)) {
		ret = -ESTALE;
	} else {
		ret = fd_meta(fd, opath, m, lenient, res);
	}
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}
