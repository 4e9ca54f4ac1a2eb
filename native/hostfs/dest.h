/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A copy's destination on the host's own filesystem (cpfromfs), written
 * only relative to directory descriptors.
 *
 * The destination is a descriptor of its base directory, opened once.
 * Every path below it comes from an image, which may be hostile, and
 * every directory on the way is opened one component at a time from the
 * base, never following a symlink (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, or O_NOFOLLOW where openat2 is missing).  The
 * last component is then made or changed with the *at() calls that do
 * not follow it, or through a descriptor of the node itself.  Nothing
 * is checked first and written by path after, so whatever another
 * process swaps into the destination meanwhile (a symlink for a
 * directory), nothing is written through a symlink or outside the base.
 *
 * The descriptors of the directories on the way to the last one used are
 * kept, as a copy fills one directory at a time, depth first: a file
 * costs one open, not one per component.  A directory that someone else
 * moves away while it is held keeps being written where it went (which
 * that someone must be able to write anyway); one moved out of the way
 * before it is reached is not followed.
 *
 * Every call takes the destination's lock; a destination is its own
 * state, so several can be used at once.  Calls return 0 (or a
 * descriptor) or a negative errno.  Paths are relative ("a/b/c"): an
 * empty, "." or ".." component is refused with -EPERM.
 */
#ifndef LKL_NATIVE_HOSTFS_DEST_H
#define LKL_NATIVE_HOSTFS_DEST_H

#include <stddef.h>
#include <sys/types.h>
#include "../kernel/put.h"

struct hostfs_dest;

/* What could not be kept: an unprivileged user may not chown or set trusted.* */
struct hostfs_meta_result {
	int chown_failed;
	int xattrs_failed;
};

/* Opens @base (following symlinks: it is the caller's own) as a destination. */
long hostfs_dest_open(const char *base, struct hostfs_dest **out);
void hostfs_dest_close(struct hostfs_dest *d);

/* A directory (mode 0700 until its metadata is set), or the one there. */
long hostfs_dest_mkdir(struct hostfs_dest *d, const char *rel);

/*
 * A new regular file (mode 0600), replacing a non-directory of that name:
 * returns a descriptor open for writing, which the caller closes.
 */
long hostfs_dest_create(struct hostfs_dest *d, const char *rel);

/* A symlink to @target, replacing a non-directory of that name. */
long hostfs_dest_symlink(struct hostfs_dest *d, const char *rel,
			 const char *target);

/* A hard link to @existing (never followed if a symlink), replacing as above. */
long hostfs_dest_link(struct hostfs_dest *d, const char *rel,
		      const char *existing);

/* A device node, fifo or socket, replacing as above. */
long hostfs_dest_mknod(struct hostfs_dest *d, const char *rel, mode_t mode,
		       dev_t dev);

/*
 * Owner, xattrs, mode and times of the node at @rel ("" for the base),
 * which must be of type @type (S_IFDIR, S_IFLNK, ...): -ESTALE if another
 * kind of node is there now.  An xattr refused with EPERM (trusted.* for
 * a user; user.* on a symlink) or EOPNOTSUPP (the host's filesystem
 * lacks them) is counted in @res instead of failing, and so, with
 * @lenient (not root), is a chown refused with EPERM.
 */
long hostfs_dest_set_meta(struct hostfs_dest *d, const char *rel,
			  mode_t type, const struct lkl_put_meta *m,
			  int lenient, struct hostfs_meta_result *res);

/* The same for a file open for writing (hostfs_dest_create's descriptor). */
long hostfs_fd_set_meta(int fd, const struct lkl_put_meta *m, int lenient,
			struct hostfs_meta_result *res);

#endif
