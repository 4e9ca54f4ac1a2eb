/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who sent a request, and the kernel acting for them (caller.c).
 *
 * The kernel serves every request as root.  The host kernel checks most
 * of what a request may do before it reaches us (owners and modes with
 * default_permissions, the capabilities its VFS asks for); what only a
 * filesystem decides, such as whether listxattr shows trusted.* names,
 * the kernel here decides, and it must decide it for the caller.  So the
 * requests concerned run with the caller's fsuid, fsgid, groups and
 * capabilities, keeping only the capabilities of what the host kernel
 * has already allowed.
 */
#ifndef LKLFUSE_CALLER_H
#define LKLFUSE_CALLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/capability.h>

#include "lklfuse.h"

#define LKLFUSE_CAP(c)	(UINT64_C(1) << (c))

/* What the host decides for every request: who may touch which file. */
#define LKLFUSE_CAPS_DAC (LKLFUSE_CAP(CAP_DAC_OVERRIDE) |		\
			  LKLFUSE_CAP(CAP_DAC_READ_SEARCH) |		\
			  LKLFUSE_CAP(CAP_FOWNER))

/*
 * And what its VFS checked before an xattr write or a flags ioctl reached
 * us: trusted.* and security.* (CAP_SYS_ADMIN), security.capability
 * (CAP_SETFCAP), the immutable and append-only flags
 * (CAP_LINUX_IMMUTABLE).  Kept, so that a caller whose capabilities
 * cannot be known is not refused what the host allowed it.
 */
#define LKLFUSE_CAPS_HOST_CHECKED (LKLFUSE_CAPS_DAC |			\
				   LKLFUSE_CAP(CAP_SYS_ADMIN) |		\
				   LKLFUSE_CAP(CAP_SETFCAP) |		\
				   LKLFUSE_CAP(CAP_LINUX_IMMUTABLE))

struct lklfuse_caller {
	uint32_t uid, gid;	/* fsuid and fsgid, as FUSE gives them */
	/*
	 * Effective capabilities and supplementary groups, from
	 * /proc/PID/status; no capabilities and no groups when that
	 * cannot be known (see caller.c).
	 */
	uint64_t caps;
	uint32_t *groups;
	size_t ngroups;
	/*
	 * The process's umask, where known; else 077, which shares
	 * nothing, as what cannot be known counts as nothing.
	 */
	unsigned int umask;
};

/* The caller of @req: 0, or -ENOMEM. */
int lklfuse_caller_get(fuse_req_t req, struct lklfuse_caller *c);
void lklfuse_caller_put(struct lklfuse_caller *c);

static inline bool lklfuse_caller_capable(const struct lklfuse_caller *c,
					  int cap)
{
	return c->caps & LKLFUSE_CAP(cap);
}

/* This thread's kernel credentials, to be put back. */
struct lklfuse_creds {
	uint32_t fsuid, fsgid;
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	uint32_t groups[16];
	int ngroups;
	int umask;		/* -1: left as it was */
};

/* lklfuse_caller_enter() flags */
#define LKLFUSE_CALLER_UMASK	1	/* the caller's umask too */

/*
 * From here on this thread's kernel calls run as @c: its fsuid, fsgid
 * and groups, and its capabilities and @keep; with LKLFUSE_CALLER_UMASK,
 * its umask too.  0, or -errno and nothing changed (should even the way
 * back fail, the session ends: see lklfuse_caller_leave()).  Every
 * success must be followed by lklfuse_caller_leave().
 */
int lklfuse_caller_enter(struct lklfuse *lf, struct lklfuse_creds *saved,
			 const struct lklfuse_caller *c, uint64_t keep,
			 unsigned int flags);
/*
 * Back to @saved.  Should that fail, the server stops serving (a thread
 * of lesser credentials would fail later requests): it says so and ends
 * the session, which unmounts the filesystem cleanly.
 */
void lklfuse_caller_leave(struct lklfuse *lf,
			  const struct lklfuse_creds *saved);

#endif /* LKLFUSE_CALLER_H */
