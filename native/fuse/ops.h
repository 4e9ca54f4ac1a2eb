/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of FUSE operations share (ops.c, xattr.c, ioctl.c): the
 * request's server, node and open file, and the replies every one makes.
 */
#ifndef LKLFUSE_OPS_H
#define LKLFUSE_OPS_H

#include <stdint.h>

#include "lklfuse.h"

static inline struct lklfuse *lf_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static inline struct lklfuse_node *node_of(fuse_req_t req, fuse_ino_t ino)
{
	return lklfuse_node(&lf_of(req)->inodes, ino);
}

/*
 * The O_PATH descriptor of @node for this request, or -errno; every
 * descriptor got must be put.
 */
static inline int get_fd(struct lklfuse *lf, struct lklfuse_node *node)
{
	return lklfuse_node_get(&lf->inodes, node);
}

/* Takes @lf, not the request: a reply may have freed that already. */
static inline void put_fd(struct lklfuse *lf, struct lklfuse_node *node)
{
	lklfuse_node_put(&lf->inodes, node);
}

static inline struct lklfuse_file *file_of(const struct fuse_file_info *fi)
{
	return (struct lklfuse_file *)(uintptr_t)fi->fh;
}

static inline void reply_result(fuse_req_t req, long r)
{
	fuse_reply_err(req, r < 0 ? (int)-r : 0);
}

/*
 * The host drops what it cached of @ino's attributes (and ACLs), for an
 * operation whose reply does not carry the attributes it changed.
 */
void lklfuse_inval_attrs(fuse_req_t req, fuse_ino_t ino);

/* A buffer of @len bytes for this thread, kept for its next request. */
char *lklfuse_scratch(struct lklfuse *lf, size_t len);

void lklfuse_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 const char *value, size_t size, int flags);
void lklfuse_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 size_t size);
void lklfuse_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void lklfuse_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
void lklfuse_op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		      void *arg, struct fuse_file_info *fi, unsigned int flags,
		      const void *in_buf, size_t in_bufsz, size_t out_bufsz);

#endif /* LKLFUSE_OPS_H */
