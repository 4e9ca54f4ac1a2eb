// SPDX-License-Identifier: GPL-2.0
/*
 * The FUSE low-level operations, each one or a few system calls into the
 * kernel on the O_PATH descriptors of the inode table.  Names come one
 * component at a time and are never followed if they are symlinks; a file
 * is opened again through /proc/self/fd/N of its O_PATH descriptor.
 *
 * Kernel results are negative errnos with the host's numbers, so an error
 * reply is just the result negated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ops.h"
#include "../kernel/kcall.h"

#define DIRBUF_LEN	(32 * 1024)	/* getdents64 per open directory */
#define SCRATCH_MIN	(64 * 1024)

/* A buffer of @len bytes for this thread, kept for its next request. */
struct scratch {
	size_t len;
	char data[];
};

char *lklfuse_scratch(struct lklfuse *lf, size_t len)
{
	struct scratch *s = pthread_getspecific(lf->scratch_key);

	if (s && s->len >= len)
		return s->data;
	free(s);
	if (len < SCRATCH_MIN)
		len = SCRATCH_MIN;
	s = malloc(sizeof(*s) + len);
	if (s)
		s->len = len;
	if (pthread_setspecific(lf->scratch_key, s)) {
		free(s);
		return NULL;
	}
	return s ? s->data : NULL;
}

static void stat_from_statx(struct stat *st, const struct lkl_statx *x)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x->stx_dev_major, x->stx_dev_minor);
	st->st_ino = x->stx_ino;
	st->st_mode = x->stx_mode;
	st->st_nlink = x->stx_nlink;
	st->st_uid = x->stx_uid;
	st->st_gid = x->stx_gid;
	st->st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
	st->st_size = x->stx_size;
	st->st_blksize = x->stx_blksize;
	st->st_blocks = x->stx_blocks;
	st->st_atim.tv_sec = x->stx_atime.tv_sec;
	st->st_atim.tv_nsec = x->stx_atime.tv_nsec;
	st->st_mtim.tv_sec = x->stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = x->stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = x->stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = x->stx_ctime.tv_nsec;
}

/* What the host is shown of @x: with -o uid=, gid=, umask= applied. */
static void shown_stat(const struct lklfuse *lf, struct stat *st,
		       const struct lkl_statx *x)
{
	stat_from_statx(st, x);
	if (lf->set_mode)
		st->st_mode = (st->st_mode & S_IFMT) | (0777 & ~lf->umask);
	if (lf->set_uid)
		st->st_uid = lf->uid;
	if (lf->set_gid)
		st->st_gid = lf->gid;
}

static void fill_entry(struct lklfuse *lf, const struct lklfuse_node *node,
		       const struct lkl_statx *stx, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = lklfuse_node_id(&lf->inodes, node);
	e->generation = node->generation;
	e->attr_timeout = lf->timeout;
	e->entry_timeout = lf->timeout;
	shown_stat(lf, &e->attr, stx);
}

/* Whether an entry was found, or just made and where. */
enum made { FOUND, MADE, MADE_IN_SETGID_DIR };

/* What is made in the directory @dirfd now: in a set-group-ID one? */
static enum made made_in(long dirfd)
{
	struct lkl_statx stx;

	if (k_fstatx(dirfd, &stx) >= 0 && (stx.stx_mode & S_ISGID))
		return MADE_IN_SETGID_DIR;
	return MADE;
}

/*
 * A new inode made for the caller of @req: theirs, not root's (the kernel
 * made it as root), and in their group unless the directory's
 * set-group-ID bit gave it the directory's (@made).  Best effort: a
 * filesystem without owners says no.
 */
static void give_to_caller(fuse_req_t req, int fd, struct lkl_statx *stx,
			   enum made made)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	unsigned int mode = stx->stx_mode;
	long uid = -1, gid = -1, restored = 0;

	if (ctx->uid != stx->stx_uid)
		uid = ctx->uid;
	if (made != MADE_IN_SETGID_DIR && ctx->gid != stx->stx_gid)
		gid = ctx->gid;
	if (uid == -1 && gid == -1)
		return;
	if (k_fchownat(fd, "", uid, gid,
		       LKL_AT_EMPTY_PATH | LKL_AT_SYMLINK_NOFOLLOW) < 0)
		return;
	/*
	 * chown dropped set-user/group-ID bits the caller asked for; if
	 * they cannot be put back, the file stays without them.
	 */
	if (S_ISREG(mode) && (mode & (S_ISUID | S_ISGID)))
		restored = k_fchmodat2(fd, "", mode & 07777,
				       LKL_AT_EMPTY_PATH);
	if (k_fstatx(fd, stx) < 0) {
		/* What chown set and cleared; the rest is as it was. */
		if (uid != -1)
			stx->stx_uid = uid;
		if (gid != -1)
			stx->stx_gid = gid;
		if (restored < 0)
			stx->stx_mode &= ~(S_ISUID | S_ISGID);
	}
}

/*
 * The node of @fd (an O_PATH descriptor, taken over) as a FUSE entry;
 * @made: whether the caller just created it, and where.
 */
static long entry_of_fd(fuse_req_t req, int fd, fuse_ino_t parent,
			const char *name, enum made made,
			struct fuse_entry_param *e)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node;
	struct lkl_statx stx;
	long r;

	r = k_fstatx(fd, &stx);
	if (r < 0) {
		k_close(fd);
		return r;
	}
	if (made != FOUND)
		give_to_caller(req, fd, &stx, made);
	r = lklfuse_inodes_add(&lf->inodes, fd, &stx, parent, name, &node);
	if (r < 0)
		return r;
	fill_entry(lf, node, &stx, e);
	return 0;
}

/* @name in the directory @dirfd (node @parent), as a FUSE entry. */
static long lookup_at(fuse_req_t req, int dirfd, fuse_ino_t parent,
		      const char *name, enum made made,
		      struct fuse_entry_param *e)
{
	long fd = k_openat(dirfd, name,
			   LKL_O_PATH | LKL_O_NOFOLLOW | LKL_O_CLOEXEC, 0);

	if (fd < 0)
		return fd;
	return entry_of_fd(req, fd, parent, name, made, e);
}

/* Undo the lookup an entry reply stood for, if the reply failed. */
static void reply_entry_or_forget(fuse_req_t req,
				  const struct fuse_entry_param *e)
{
	struct lklfuse *lf = lf_of(req);

	if (fuse_reply_entry(req, e) && e->ino)
		lklfuse_node_forget(&lf->inodes,
				    lklfuse_node(&lf->inodes, e->ino), 1);
}

/* ------------------------------------------------------------- session */

void lklfuse_tell_ready(struct lklfuse *lf, const char *msg)
{
	char line[512];
	size_t len, done = 0;
	int n;

	if (lf->ready_fd < 0)
		return;
	if (msg)
		n = snprintf(line, sizeof(line), "error: %s\n", msg);
	else
		n = snprintf(line, sizeof(line), "ready\n");
	if (n < 0)
		n = 0;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (len && line[len - 1] != '\n')
		line[len - 1] = '\n';
	while (done < len) {
		ssize_t w = write(lf->ready_fd, line + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;	/* nobody listens any more: nothing to do */
		done += w;
	}
	close(lf->ready_fd);
	lf->ready_fd = -1;
}

static void want(struct fuse_conn_info *conn, unsigned int cap)
{
	if (conn->capable & cap)
		conn->want |= cap;
}

/* Whether the mounted filesystem has POSIX ACLs (ext4 without noacl). */
static bool has_acls(struct lklfuse *lf)
{
	char path[K_FDPATH_LEN];

	k_fd_path(path, lf->inodes.root.fd);
	return k_getxattr(path, "system.posix_acl_access", NULL, 0) !=
	       -EOPNOTSUPP;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct lklfuse *lf = userdata;

	want(conn, FUSE_CAP_ASYNC_READ);
	want(conn, FUSE_CAP_ATOMIC_O_TRUNC);
	want(conn, FUSE_CAP_READDIRPLUS);
	want(conn, FUSE_CAP_READDIRPLUS_AUTO);
	want(conn, FUSE_CAP_PARALLEL_DIROPS);
	/* Only this server changes the image: symlinks may be cached. */
	want(conn, FUSE_CAP_CACHE_SYMLINKS);
	/* chattr and lsattr of directories too (see op_ioctl). */
	want(conn, FUSE_CAP_IOCTL_DIR);
	/*
	 * Where the host checks permissions it must know the ACLs, or it
	 * checks the mode bits alone; it then also drops its cached mode
	 * and ACLs when an ACL is set (which changes the mode) or the mode
	 * is (which changes the ACL).  Not for a filesystem without ACLs:
	 * the host would refuse every access with its "not supported".
	 * Without host checks the host must not have them: it would then
	 * check permissions after all (the kernel library checks none).
	 * With ACLs the host must leave the caller's umask to us too: a
	 * directory's default ACL replaces it (create_mode()).
	 */
	if (lf->host_permissions && has_acls(lf) &&
	    (conn->capable & FUSE_CAP_POSIX_ACL) &&
	    (conn->capable & FUSE_CAP_DONT_MASK)) {
		conn->want |= FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK;
		lf->acls = true;
	} else {
		conn->want &= ~(FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK);
	}
	/*
	 * The host keeps written data in its page cache and writes it back
	 * in large requests: an untar's 5 KB writes no longer pass one by
	 * one.  The price is a copy more per byte written (into the host's
	 * cache, then out of it); so open_flags() opens write-only files
	 * read-write (the host may read a page to fill it) and drops
	 * O_APPEND (the host writes back at offsets it chose).
	 */
	if (!lf->opts.ro)
		want(conn, FUSE_CAP_WRITEBACK_CACHE);
	else
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/*
	 * The host sends an asynchronous direct write (io_submit) and
	 * returns, and when it completes drops none of the pages that a
	 * buffered read may have cached meanwhile: that read then kept old
	 * data (xfstests generic/451).  Synchronous, the host drops them
	 * after the write as it does for any filesystem.
	 */
	conn->want &= ~FUSE_CAP_ASYNC_DIO;
	conn->want &= ~(FUSE_CAP_EXPORT_SUPPORT |
			FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS |
			FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE);
	conn->max_write = LKLFUSE_MAX_IO;
	lf->writeback = conn->want & FUSE_CAP_WRITEBACK_CACHE;
	if (conn->max_background < 64)
		conn->max_background = 64;
	if (conn->congestion_threshold < 48)
		conn->congestion_threshold = 48;
	lklfuse_tell_ready(lf, NULL);
}

/* -------------------------------------------------------------- inodes */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *p = node_of(req, parent);
	struct fuse_entry_param e;
	long r = get_fd(lf, p);

	if (r >= 0) {
		r = lookup_at(req, r, parent, name, FOUND, &e);
		put_fd(lf, p);
	}

	if (r == -ENOENT) {
		/* Cache the miss: no one else changes the image. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = lf_of(req)->timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0) {
		reply_result(req, r);
		return;
	}
	reply_entry_or_forget(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	lklfuse_node_forget(&lf_of(req)->inodes, node_of(req, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct lklfuse *lf = lf_of(req);
	size_t i;

	for (i = 0; i < count; i++)
		lklfuse_node_forget(&lf->inodes,
				    lklfuse_node(&lf->inodes, forgets[i].ino),
				    forgets[i].nlookup);
	fuse_reply_none(req);
}

static void reply_attr_of(fuse_req_t req, int fd)
{
	struct lkl_statx stx;
	struct stat st;
	long r = k_fstatx(fd, &stx);

	if (r < 0) {
		reply_result(req, r);
		return;
	}
	shown_stat(lf_of(req), &st, &stx);
	fuse_reply_attr(req, &st, lf_of(req)->timeout);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node;
	int fd;

	if (fi) {
		reply_attr_of(req, file_of(fi)->fd);
		return;
	}
	node = node_of(req, ino);
	fd = get_fd(lf, node);
	if (fd < 0) {
		reply_result(req, fd);
		return;
	}
	reply_attr_of(req, fd);
	put_fd(lf, node);
}

static void set_time(struct lkl___kernel_timespec *ts, int to_set,
		     int set_bit, int now_bit, const struct timespec *t)
{
	ts->tv_sec = 0;
	if (to_set & now_bit) {
		ts->tv_nsec = UTIME_NOW;
	} else if (to_set & set_bit) {
		ts->tv_sec = t->tv_sec;
		ts->tv_nsec = t->tv_nsec;
	} else {
		ts->tv_nsec = UTIME_OMIT;
	}
}

void lklfuse_inval_attrs(fuse_req_t req, fuse_ino_t ino)
{
	/* -ENOENT: the host has no such inode cached, nothing to drop. */
	(void)fuse_lowlevel_notify_inval_inode(lf_of(req)->se, ino, -1, 0);
}

/* Whether the caller of @req is in the group @gid. */
static bool caller_in_group(fuse_req_t req, gid_t gid)
{
	gid_t few[64], *list = few;
	int n, i;
	bool in = false;

	if (fuse_req_ctx(req)->gid == gid)
		return true;
	n = fuse_req_getgroups(req, 64, few);
	if (n > 64) {
		list = calloc(n, sizeof(*list));
		if (!list)
			return false;
		n = fuse_req_getgroups(req, n, list);
	}
	for (i = 0; i < n && !in; i++)
		in = list[i] == gid;
	if (list != few)
		free(list);
	return in;
}

/*
 * Clear the set-ID bits of the regular file @fd after a change by the
 * caller of @req, who has no CAP_FSETID: set-user-ID always; set-group-ID
 * if group-executable, or if the caller is not in the file's group (the
 * host kernel's rules).  The kernel library, which runs with every
 * capability, keeps them.  1 if it cleared any, 0 if there were none, or
 * -errno.
 */
static long kill_suidgid(fuse_req_t req, long fd)
{
	struct lkl_statx stx;
	unsigned int kill = 0;
	long r = k_fstatx(fd, &stx);

	if (r < 0)
		return r;
	if (!S_ISREG(stx.stx_mode))
		return 0;
	if (stx.stx_mode & S_ISUID)
		kill |= S_ISUID;
	if ((stx.stx_mode & S_ISGID) &&
	    ((stx.stx_mode & S_IXGRP) || !caller_in_group(req, stx.stx_gid)))
		kill |= S_ISGID;
	if (!kill)
		return 0;
	r = k_fchmodat2(fd, "", stx.stx_mode & 07777 & ~kill,
			LKL_AT_EMPTY_PATH);
	return r < 0 ? r : 1;
}

/*
 * The host's writeback cache passes on the times of the writes it kept as
 * a change of mtime and ctime alone (never atime, never "now").  An
 * append-only file refuses times that are not now, and has the kernel
 * library's own from those writes, so that refusal is no error.  Any
 * other refusal stands, as the host kernel gives it: an immutable file's
 * times, or an append-only file's times set by a caller (utime() sets
 * atime too; only a caller's mtime alone reads as the host's, and is
 * ignored rather than refused).
 */
static bool writes_times_refused(int fd, int to_set)
{
	const int flushed = FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_CTIME;
	struct lkl_statx stx;

	if ((to_set & (flushed | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW |
		       FUSE_SET_ATTR_MTIME_NOW)) != flushed)
		return false;
	if (k_fstatx(fd, &stx) < 0)
		return false;
	return (stx.stx_attributes & LKL_STATX_ATTR_APPEND) &&
	       !(stx.stx_attributes & LKL_STATX_ATTR_IMMUTABLE);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node = node_of(req, ino);
	int fd = get_fd(lf, node);
	char path[K_FDPATH_LEN];
	long r;

	if (fd < 0) {
		reply_result(req, fd);
		return;
	}

	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		long uid = to_set & FUSE_SET_ATTR_UID ? (long)attr->st_uid : -1;
		long gid = to_set & FUSE_SET_ATTR_GID ? (long)attr->st_gid : -1;

		r = k_fchownat(fd, "", uid, gid,
			       LKL_AT_EMPTY_PATH | LKL_AT_SYMLINK_NOFOLLOW);
		if (r < 0)
			goto fail;
	}
	/* After the owner, which may clear set-ID bits asked for here. */
	if (to_set & FUSE_SET_ATTR_MODE) {
		r = k_fchmodat2(fd, "", attr->st_mode & 07777,
				LKL_AT_EMPTY_PATH);
		if (r < 0)
			goto fail;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (fi) {
			r = k_ftruncate(file_of(fi)->fd, attr->st_size);
		} else {
			k_fd_path(path, fd);
			r = k_truncate(path, attr->st_size);
		}
		if (r >= 0 && lklfuse_io_kill_suidgid())
			r = kill_suidgid(req, fd);
		if (r < 0)
			goto fail;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
		      FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) {
		struct lkl___kernel_timespec ts[2];

		set_time(&ts[0], to_set, FUSE_SET_ATTR_ATIME,
			 FUSE_SET_ATTR_ATIME_NOW, &attr->st_atim);
		set_time(&ts[1], to_set, FUSE_SET_ATTR_MTIME,
			 FUSE_SET_ATTR_MTIME_NOW, &attr->st_mtim);
		r = k_utimensat(fd, "", ts,
				LKL_AT_EMPTY_PATH | LKL_AT_SYMLINK_NOFOLLOW);
		/*
		 * With its writeback cache the host sends "now" as its own
		 * clock's time for mtime (atime still says now): utime(NULL),
		 * which an append-only file allows, unlike times given.
		 */
		if (r == -EPERM && lf->writeback &&
		    (to_set & FUSE_SET_ATTR_ATIME_NOW) &&
		    (to_set & FUSE_SET_ATTR_MTIME) &&
		    !(to_set & FUSE_SET_ATTR_MTIME_NOW)) {
			ts[1].tv_sec = 0;
			ts[1].tv_nsec = UTIME_NOW;
			r = k_utimensat(fd, "", ts, LKL_AT_EMPTY_PATH |
					LKL_AT_SYMLINK_NOFOLLOW);
		}
		if (r == -EPERM && writes_times_refused(fd, to_set))
			r = 0;
		if (r < 0)
			goto fail;
	}
	reply_attr_of(req, fd);
	put_fd(lf, node);
	return;
fail:
	reply_result(req, r);
	put_fd(lf, node);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node = node_of(req, ino);
	char buf[PATH_MAX + 1];
	long n = get_fd(lf, node);

	if (n >= 0) {
		n = k_readlinkat(n, "", buf, PATH_MAX);
		put_fd(lf, node);
	}
	if (n < 0) {
		reply_result(req, n);
		return;
	}
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

/*
 * The mode to create a file in the directory @dirfd with, for @req: the
 * caller's umask applies, unless the directory has a default ACL, which
 * takes its place.  The host applies the umask itself unless it knows
 * the ACLs; the kernel library's own umask is 0.
 */
static mode_t create_mode(fuse_req_t req, long dirfd, mode_t mode)
{
	char path[K_FDPATH_LEN];

	if (!lf_of(req)->acls)
		return mode;
	k_fd_path(path, dirfd);
	if (k_getxattr(path, "system.posix_acl_default", NULL, 0) > 0)
		return mode;
	return mode & ~fuse_req_ctx(req)->umask;
}

/* What op_make() makes. */
enum make_kind { MAKE_NODE, MAKE_DIR, MAKE_SYMLINK };

/* Make @name in @parent, then reply with its entry. */
static void op_make(fuse_req_t req, fuse_ino_t parent, const char *name,
		    enum make_kind kind, mode_t mode, dev_t rdev,
		    const char *link)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *p = node_of(req, parent);
	struct fuse_entry_param e;
	long pfd = get_fd(lf, p), r = pfd;

	if (pfd >= 0) {
		enum made made = made_in(pfd);

		if (kind == MAKE_NODE)
			r = k_mknodat(pfd, name, create_mode(req, pfd, mode),
				      (unsigned int)rdev);
		else if (kind == MAKE_DIR)
			r = k_mkdirat(pfd, name, create_mode(req, pfd, mode));
		else
			r = k_symlinkat(link, pfd, name);
		if (r >= 0)
			r = lookup_at(req, pfd, parent, name, made, &e);
		put_fd(lf, p);
	}
	if (r < 0) {
		reply_result(req, r);
		return;
	}
	reply_entry_or_forget(req, &e);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	op_make(req, parent, name, MAKE_NODE, mode, rdev, NULL);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	op_make(req, parent, name, MAKE_DIR, mode, 0, NULL);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	op_make(req, parent, name, MAKE_SYMLINK, 0, 0, link);
}

static void do_unlink(fuse_req_t req, fuse_ino_t parent, const char *name,
		      int flags)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *p = node_of(req, parent);
	long r = get_fd(lf, p);

	if (r >= 0) {
		r = k_unlinkat(r, name, flags);
		put_fd(lf, p);
	}
	reply_result(req, r);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	do_unlink(req, parent, name, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	do_unlink(req, parent, name, LKL_AT_REMOVEDIR);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *p = node_of(req, parent);
	struct lklfuse_node *np = node_of(req, newparent);
	long pfd, npfd, r;

	pfd = get_fd(lf, p);
	if (pfd < 0) {
		reply_result(req, pfd);
		return;
	}
	npfd = get_fd(lf, np);
	r = npfd;
	if (npfd >= 0) {
		r = k_renameat2(pfd, name, npfd, newname, flags);
		put_fd(lf, np);
	}
	put_fd(lf, p);
	reply_result(req, r);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node = node_of(req, ino);
	struct lklfuse_node *np = node_of(req, newparent);
	struct fuse_entry_param e;
	struct lkl_statx stx;
	long fd, npfd, r;

	fd = get_fd(lf, node);
	if (fd < 0) {
		reply_result(req, fd);
		return;
	}
	npfd = get_fd(lf, np);
	r = npfd;
	if (npfd >= 0) {
		r = k_linkat(fd, "", npfd, newname, LKL_AT_EMPTY_PATH);
		put_fd(lf, np);
	}
	if (r >= 0)
		r = k_fstatx(fd, &stx);
	put_fd(lf, node);
	if (r < 0) {
		reply_result(req, r);
		return;
	}
	lklfuse_node_ref(&lf->inodes, node);
	fill_entry(lf, node, &stx, &e);
	reply_entry_or_forget(req, &e);
}

/* --------------------------------------------------------------- files */

/* An open file of @node, on the kernel descriptor @fd. */
static struct lklfuse_file *file_new(struct lklfuse *lf,
				     struct lklfuse_node *node, int fd,
				     bool dir)
{
	struct lklfuse_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (dir) {
		f->dbuf = malloc(DIRBUF_LEN);
		if (!f->dbuf) {
			free(f);
			return NULL;
		}
	}
	f->fd = fd;
	f->node = node;
	lklfuse_node_open(&lf->inodes, node);
	pthread_mutex_lock(&lf->files_lock);
	f->next = lf->files.next;
	f->prev = &lf->files;
	f->next->prev = f;
	lf->files.next = f;
	pthread_mutex_unlock(&lf->files_lock);
	return f;
}

static long file_close(struct lklfuse *lf, struct lklfuse_file *f)
{
	long r;

	pthread_mutex_lock(&lf->files_lock);
	f->prev->next = f->next;
	f->next->prev = f->prev;
	pthread_mutex_unlock(&lf->files_lock);
	r = k_close(f->fd);
	lklfuse_node_close(&lf->inodes, f->node);
	free(f->dbuf);
	free(f);
	return r;
}

void lklfuse_close_files(struct lklfuse *lf)
{
	while (lf->files.next != &lf->files)
		file_close(lf, lf->files.next);
}

/*
 * What the kernel is asked to open with, from the flags FUSE gives: in
 * the host's numbering, which is not the kernel's everywhere (arm64 has
 * its own O_DIRECTORY, O_NOFOLLOW, O_DIRECT and O_LARGEFILE).
 */
static int open_flags(const struct lklfuse *lf, int flags)
{
	if (lf->writeback) {
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	/*
	 * /proc/self/fd/N is a symlink to follow; O_DIRECT would ask the
	 * image's filesystem for aligned buffers for no gain; creation was
	 * the caller's kernel's business.
	 */
	flags &= ~(O_NOFOLLOW | O_DIRECT | O_CREAT | O_EXCL | O_NOCTTY);
	return lkl_host_open_flags(flags) | LKL_O_CLOEXEC |
	       (lf->noatime ? LKL_O_NOATIME : 0);
}

/*
 * What the host may cache of the open file @f, which FUSE's handle now
 * points at.  All changes come through this server, so what is cached
 * stays valid until the host's own kernel makes a change, and drops it.
 */
static void set_open(struct fuse_file_info *fi, struct lklfuse_file *f,
		     bool dir)
{
	fi->fh = (uintptr_t)f;
	fi->keep_cache = 1;
	if (dir)
		fi->cache_readdir = 1;
	else
		fi->noflush = 1;
}

/*
 * open and opendir: a descriptor really open, from the node's O_PATH
 * one.  A directory is opened as "." below it; a file through
 * /proc/self/fd/N, the one way to reopen an O_PATH descriptor with other
 * flags.
 */
static void open_node(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi, bool dir)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node = node_of(req, ino);
	char path[K_FDPATH_LEN];
	struct lklfuse_file *f;
	bool append_only = false;
	long fd = get_fd(lf, node);

	if (fd >= 0) {
		long opath = fd;

		if (dir) {
			fd = k_openat(opath, ".", LKL_O_RDONLY |
				      LKL_O_DIRECTORY | LKL_O_CLOEXEC |
				      (lf->noatime ? LKL_O_NOATIME : 0), 0);
		} else {
			k_fd_path(path, opath);
			fd = k_openat(LKL_AT_FDCWD, path,
				      open_flags(lf, fi->flags),
				      0);
			/*
			 * An append-only file opens for writing with it,
			 * and then its writes must not be the host's
			 * writeback of whole pages, at their offsets:
			 * direct I/O passes each write(2) as it comes.
			 */
			if (fd == -EPERM && lf->writeback &&
			    (fi->flags & O_APPEND)) {
				fd = k_openat(LKL_AT_FDCWD, path,
					      open_flags(lf, fi->flags) |
					      LKL_O_APPEND, 0);
				append_only = fd >= 0;
			}
			/*
			 * O_TRUNC by a caller without CAP_FSETID.  The reply
			 * carries no mode: the host must ask again.
			 */
			if (fd >= 0 && lklfuse_io_kill_suidgid()) {
				long r = kill_suidgid(req, fd);

				if (r < 0) {
					k_close(fd);
					fd = r;
				} else if (r) {
					lklfuse_inval_attrs(req, ino);
				}
			}
		}
		put_fd(lf, node);
	}
	if (fd < 0) {
		reply_result(req, fd);
		return;
	}
	f = file_new(lf, node, fd, dir);
	if (!f) {
		k_close(fd);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	set_open(fi, f, dir);
	if (append_only)
		fi->direct_io = 1;
	if (fuse_reply_open(req, fi))
		file_close(lf, f);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	open_node(req, ino, fi, false);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *p = node_of(req, parent);
	char path[K_FDPATH_LEN];
	struct fuse_entry_param e;
	struct lklfuse_file *f;
	enum made made = MADE;
	long fd, pfd, r;

	fd = get_fd(lf, p);
	if (fd >= 0) {
		long dirfd = fd;

		made = made_in(dirfd);
		fd = k_openat(dirfd, name,
			      open_flags(lf, fi->flags) |
			      LKL_O_CREAT | LKL_O_NOFOLLOW,
			      create_mode(req, dirfd, mode));
		put_fd(lf, p);
	}
	if (fd < 0) {
		reply_result(req, fd);
		return;
	}
	k_fd_path(path, fd);
	pfd = k_openat(LKL_AT_FDCWD, path, LKL_O_PATH | LKL_O_CLOEXEC, 0);
	r = pfd < 0 ? pfd : entry_of_fd(req, pfd, parent, name, made, &e);
	if (r < 0) {
		k_close(fd);
		reply_result(req, r);
		return;
	}
	f = file_new(lf, lklfuse_node(&lf->inodes, e.ino), fd, false);
	if (!f) {
		k_close(fd);
		lklfuse_node_forget(&lf->inodes,
				    lklfuse_node(&lf->inodes, e.ino), 1);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	set_open(fi, f, false);
	if (fuse_reply_create(req, &e, fi)) {
		file_close(lf, f);
		lklfuse_node_forget(&lf->inodes,
				    lklfuse_node(&lf->inodes, e.ino), 1);
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	int fd = file_of(fi)->fd;
	char *buf = lklfuse_scratch(lf_of(req), size);
	size_t done = 0;

	(void)ino;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	while (done < size) {
		long n = k_pread(fd, buf + done, size - done, off + done);

		if (n < 0 && !done) {
			reply_result(req, n);
			return;
		}
		if (n <= 0)
			break;
		done += n;
	}
	fuse_reply_buf(req, buf, done);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	int fd = file_of(fi)->fd;
	size_t done = 0;
	long r;

	/* The reply carries no mode: if it changed, the host must ask. */
	if (lklfuse_io_kill_suidgid()) {
		r = kill_suidgid(req, fd);
		if (r < 0) {
			reply_result(req, r);
			return;
		}
		if (r)
			lklfuse_inval_attrs(req, ino);
	}
	while (done < size) {
		long n = k_pwrite(fd, buf + done, size - done, off + done);

		if (n < 0 && !done) {
			reply_result(req, n);
			return;
		}
		if (n <= 0)
			break;
		done += n;
	}
	fuse_reply_write(req, done);
}

/*
 * Nothing to do on close: the kernel library writes back by itself, and
 * POSIX locks are the host's.  ENOSYS, so that the host sends no more:
 * with the writeback cache it asks at every close (noflush does not stop
 * it there), after writing back what it kept.
 */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	reply_result(req, file_close(lf_of(req), file_of(fi)));
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)ino;
	reply_result(req, k_fsync(file_of(fi)->fd, datasync));
}

/*
 * An fallocate that may change the file's data or size clears its set-ID
 * bits, as a write does, unless the caller has CAP_FSETID; the host says
 * nothing about that here (as it does for writes), so a caller other
 * than root is taken to lack it.
 */
static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t off, off_t len, struct fuse_file_info *fi)
{
	int fd = file_of(fi)->fd;
	long r = k_fallocate(fd, mode, off, len);

	if (r >= 0 && fuse_req_ctx(req)->uid != 0 &&
	    (!(mode & FALLOC_FL_KEEP_SIZE) ||
	     (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)))) {
		r = kill_suidgid(req, fd);
		if (r > 0)
			lklfuse_inval_attrs(req, ino);
	}
	reply_result(req, r);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in,
			       off_t off_in, struct fuse_file_info *fi_in,
			       fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	long long in = off_in, out = off_out;
	long n;

	(void)ino_in;
	(void)ino_out;
	n = k_copy_file_range(file_of(fi_in)->fd, &in, file_of(fi_out)->fd,
			      &out, len, flags);
	if (n < 0)
		reply_result(req, n);
	else
		fuse_reply_write(req, n);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	long r = k_lseek(file_of(fi)->fd, off, whence);

	(void)ino;
	if (r < 0)
		reply_result(req, r);
	else
		fuse_reply_lseek(req, r);
}

/* --------------------------------------------------------- directories */

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	open_node(req, ino, fi, true);
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (!name[1] || (name[1] == '.' && !name[2]));
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi, bool plus)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_file *f = file_of(fi);
	char *out = lklfuse_scratch(lf, size);
	size_t used = 0;
	long r = 0;

	if (!out) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/*
	 * Offset 0 is opendir's or rewinddir's, which the host does not
	 * pass on: seek there all the same, for rewinddir must show what
	 * was made since opendir, and a filesystem may remember where the
	 * directory ended until a seek (btrfs: xfstests generic/471).
	 */
	if (off != f->doff || off == 0) {
		r = k_lseek(f->fd, off, SEEK_SET);
		if (r < 0) {
			reply_result(req, r);
			return;
		}
		f->doff = off;
		f->dlen = 0;
		f->dpos = 0;
	}
	for (;;) {
		struct fuse_entry_param e;
		struct linux_dirent64 *d;
		size_t len;

		if (f->dpos >= f->dlen) {
			r = k_getdents64(f->fd, f->dbuf, DIRBUF_LEN);
			if (r <= 0)
				break;
			f->dlen = r;
			f->dpos = 0;
		}
		d = (struct linux_dirent64 *)(f->dbuf + f->dpos);
		memset(&e, 0, sizeof(e));
		if (plus && !is_dot_or_dotdot(d->d_name)) {
			/* The open directory serves as its O_PATH fd. */
			r = lookup_at(req, f->fd, ino, d->d_name, FOUND, &e);
			if (r < 0) {
				if (r != -ENOENT)
					break;
				/* Gone since getdents64: skip it. */
				f->dpos += d->d_reclen;
				f->doff = d->d_off;
				continue;
			}
		} else {
			e.attr.st_ino = d->d_ino;
			e.attr.st_mode = (unsigned int)d->d_type << 12;
		}
		if (plus)
			len = fuse_add_direntry_plus(req, out + used,
						     size - used, d->d_name,
						     &e, d->d_off);
		else
			len = fuse_add_direntry(req, out + used, size - used,
						d->d_name, &e.attr, d->d_off);
		if (len > size - used) {
			if (e.ino)
				lklfuse_node_forget(&lf->inodes,
						    lklfuse_node(&lf->inodes,
								 e.ino), 1);
			r = 0;
			break;
		}
		used += len;
		f->dpos += d->d_reclen;
		f->doff = d->d_off;
	}
	/* Entries already added must reach the caller: they hold lookups. */
	if (r < 0 && !used)
		reply_result(req, r);
	else
		fuse_reply_buf(req, out, used);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	reply_result(req, file_close(lf_of(req), file_of(fi)));
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	(void)ino;
	reply_result(req, k_fsync(file_of(fi)->fd, datasync));
}

/* ---------------------------------------------------- the filesystem */

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node = node_of(req, ino);
	struct lkl_statfs64 k;
	struct statvfs st;
	long r;

	memset(&k, 0, sizeof(k));
	r = get_fd(lf, node);
	if (r >= 0) {
		r = k_fstatfs(r, &k);
		put_fd(lf, node);
	}
	if (r < 0) {
		reply_result(req, r);
		return;
	}
	memset(&st, 0, sizeof(st));
	st.f_bsize = k.f_bsize;
	st.f_frsize = k.f_frsize ? k.f_frsize : k.f_bsize;
	st.f_blocks = k.f_blocks;
	st.f_bfree = k.f_bfree;
	st.f_bavail = k.f_bavail;
	st.f_files = k.f_files;
	st.f_ffree = k.f_ffree;
	st.f_favail = k.f_ffree;
	st.f_namemax = k.f_namelen;
	fuse_reply_statfs(req, &st);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct lklfuse *lf = lf_of(req);
	struct lklfuse_node *node = node_of(req, ino);
	long r = get_fd(lf, node);

	if (r >= 0) {
		r = k_faccessat2(r, "", mask, LKL_AT_EMPTY_PATH);
		put_fd(lf, node);
	}
	reply_result(req, r);
}

const struct fuse_lowlevel_ops lklfuse_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.access = op_access,
	.setxattr = lklfuse_op_setxattr,
	.getxattr = lklfuse_op_getxattr,
	.listxattr = lklfuse_op_listxattr,
	.removexattr = lklfuse_op_removexattr,
	.fallocate = op_fallocate,
	.copy_file_range = op_copy_file_range,
	.lseek = op_lseek,
	.ioctl = lklfuse_op_ioctl,
};
