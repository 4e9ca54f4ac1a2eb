// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/fuse reads and writes, through libfuse's custom I/O hooks, for
 * one thing libfuse 3.14 cannot do: ask the host for kill-priv v2
 * (FUSE_HANDLE_KILLPRIV_V2, protocol 7.33).
 *
 * Without it the host kernel asks for security.capability (a GETXATTR
 * round trip) before every write(2) to a FUSE file, to see whether it has
 * privileges to drop: an untar of 6,000 files made 44,000 of them, a third
 * of its requests.  With it the host marks the superblock SB_NOSEC and
 * leaves the dropping to the server, which is the kernel library's own
 * code for the most part: its write and truncate remove security.capability
 * themselves, and its chown clears the set-ID bits.  What it does not do,
 * as it runs with every capability, is clear the set-user-ID and
 * set-group-ID bits on a write or truncate by a caller without CAP_FSETID;
 * the host says when to, with FUSE_WRITE_KILL_SUIDGID, FATTR_KILL_SUIDGID
 * and FUSE_OPEN_KILL_SUIDGID, which libfuse 3.14 drops.  So the read hook
 * notes them for the request just read, and ops.c asks, on the same
 * thread: every thread that reads a request serves it before it reads
 * another (loop.c, and libfuse's single-threaded loop).
 *
 * The INIT reply gets the flag only if the host offered it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/fuse.h>

#include "lklfuse.h"

/* The request this thread read last asks to clear set-ID bits. */
static __thread bool kill_suidgid;

bool lklfuse_io_kill_suidgid(void)
{
	return kill_suidgid;
}

/*
 * The 32-bit field at @off of a request's @alen bytes of arguments @arg,
 * into *@v: false if the request is too short to hold it.
 */
static bool arg_u32(const char *arg, size_t alen, size_t off, uint32_t *v)
{
	if (alen < off + sizeof(*v))
		return false;
	memcpy(v, arg + off, sizeof(*v));
	return true;
}

/* What the request @buf of @len bytes asks that libfuse will not tell. */
static void note_request(struct lklfuse *lf, const char *buf, size_t len)
{
	const struct fuse_in_header *in = (const void *)buf;
	const char *arg = buf + sizeof(*in);
	size_t alen = len - sizeof(*in);
	uint32_t v;

	kill_suidgid = false;
	if (len < sizeof(*in))
		return;
	switch (in->opcode) {
	case FUSE_INIT:
		if (arg_u32(arg, alen, offsetof(struct fuse_init_in, flags), &v) &&
		    (v & FUSE_HANDLE_KILLPRIV_V2)) {
			lf->init_unique = in->unique;
			lf->init_seen = true;
		}
		return;
	case FUSE_WRITE:
		if (arg_u32(arg, alen, offsetof(struct fuse_write_in, write_flags),
			    &v))
			kill_suidgid = v & FUSE_WRITE_KILL_SUIDGID;
		return;
	case FUSE_SETATTR:
		if (arg_u32(arg, alen, offsetof(struct fuse_setattr_in, valid), &v))
			kill_suidgid = v & FATTR_KILL_SUIDGID;
		return;
	case FUSE_OPEN:
		if (arg_u32(arg, alen, offsetof(struct fuse_open_in, open_flags),
			    &v))
			kill_suidgid = v & FUSE_OPEN_KILL_SUIDGID;
		return;
	}
}

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);

	if (n > 0)
		note_request(userdata, buf, n);
	return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count,
			 void *userdata)
{
	struct lklfuse *lf = userdata;
	const struct fuse_out_header *out = iov[0].iov_base;

	if (lf->init_seen && count >= 2 &&
	    iov[0].iov_len >= sizeof(*out) && out->unique == lf->init_unique &&
	    !out->error &&
	    iov[1].iov_len >= offsetof(struct fuse_init_out, flags) +
			      sizeof(uint32_t)) {
		char *flags = (char *)iov[1].iov_base +
			      offsetof(struct fuse_init_out, flags);
		uint32_t v;

		memcpy(&v, flags, sizeof(v));
		v |= FUSE_HANDLE_KILLPRIV_V2;
		memcpy(flags, &v, sizeof(v));
		lf->init_seen = false;
	}
	return writev(fd, iov, count);
}

static const struct fuse_custom_io lklfuse_io = {
	.read = io_read,
	.writev = io_writev,
};

int lklfuse_io_start(struct lklfuse *lf)
{
	return fuse_session_custom_io(lf->se, &lklfuse_io,
				      fuse_session_fd(lf->se));
}
