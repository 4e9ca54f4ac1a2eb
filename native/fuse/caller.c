// SPDX-License-Identifier: GPL-2.0
/*
 * The caller of a request, and the kernel acting for them (see caller.h).
 *
 * FUSE gives the caller's fsuid, fsgid and thread ID.  Its capabilities
 * and groups come from /proc/TID/status, and count only when they mean
 * what the host kernel's checks mean by them:
 *
 * - The thread cannot be another one of the same number: a request the
 *   server has read keeps its caller waiting, killable by nothing, until
 *   the reply (the host's request_wait_answer()), so the thread stays
 *   and its ID is not reused meanwhile.  ID 0 (a caller outside the
 *   mount's PID namespace), a /proc/TID the server may not read (its
 *   ns/user wants ptrace access: another user's process, for a server
 *   that is not root) and a /proc that says otherwise than FUSE of the
 *   fsuid and fsgid (a /proc of another PID namespace) leave the rest
 *   unknown.
 * - Capabilities count for a caller in the server's user namespace when
 *   that is the initial one: the filesystems' checks are capable(),
 *   against the initial namespace, and a root of another namespace
 *   (a rootless container's) has none there.  Groups count for a caller
 *   in the server's user namespace.
 *
 * What cannot be known counts as nothing: no capabilities, no groups.
 * That errs on the side of refusing, and only where the host has not
 * decided already (caller.h keeps what it has).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caller.h"
#include "../kernel/kcall.h"

/* ------------------------------------------------ the server's namespace */

/*
 * A fact of the process, the same for every mount it serves: the user
 * namespace it runs in, and whether that is the initial one (whose
 * uid_map maps every ID to itself).
 */
static struct {
	pthread_once_t once;
	dev_t dev;
	ino_t ino;
	bool known, initial;
} own_ns = { .once = PTHREAD_ONCE_INIT };

static void own_ns_init(void)
{
	unsigned long inside, outside, count;
	struct stat st;
	FILE *f;

	if (stat("/proc/self/ns/user", &st))
		return;
	own_ns.dev = st.st_dev;
	own_ns.ino = st.st_ino;
	own_ns.known = true;
	f = fopen("/proc/self/uid_map", "re");
	if (!f)
		return;
	own_ns.initial = fscanf(f, "%lu %lu %lu", &inside, &outside,
				&count) == 3 && inside == 0 && outside == 0 &&
			 count == 4294967295UL && fgetc(f) == '\n' &&
			 fgetc(f) == EOF;
	fclose(f);
}

/* Whether /proc/PID (@dir) is a process of the server's user namespace. */
static bool in_own_ns(int dir)
{
	struct stat st;

	if (pthread_once(&own_ns.once, own_ns_init) || !own_ns.known)
		return false;
	/* Needs ptrace read access to the caller: else, not known. */
	if (fstatat(dir, "ns/user", &st, 0))
		return false;
	return st.st_dev == own_ns.dev && st.st_ino == own_ns.ino;
}

/* ----------------------------------------------------- /proc/TID/status */

/* The numbers after "Groups:" into @c: 0 or -ENOMEM. */
static int parse_groups(const char *s, struct lklfuse_caller *c)
{
	size_t n = 0, max = 0;
	uint32_t *g = NULL;
	char *end;

	for (;;) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s)
			break;
		if (n == max) {
			uint32_t *more;

			max = max ? 2 * max : 32;
			more = realloc(g, max * sizeof(*g));
			if (!more) {
				free(g);
				return -ENOMEM;
			}
			g = more;
		}
		g[n++] = v;
		s = end;
	}
	free(c->groups);
	c->groups = g;
	c->ngroups = n;
	return 0;
}

/*
 * The fsuid, fsgid, groups and effective capabilities of the process
 * /proc/PID (@dir), and its umask if said: 0, -ENOENT when any of the
 * others is missing, or -ENOMEM.
 */
static int read_status(int dir, struct lklfuse_caller *c, uint32_t *fsuid,
		       uint32_t *fsgid)
{
	unsigned int seen = 0, u[4], mask;
	unsigned long long caps;
	size_t cap = 0;
	char *line = NULL;
	int fd, r = 0;
	FILE *f;

	fd = openat(dir, "status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (!r && getline(&line, &cap, f) > 0) {
		if (sscanf(line, "Uid: %u %u %u %u", &u[0], &u[1], &u[2],
			   &u[3]) == 4) {
			*fsuid = u[3];
			seen |= 1;
		} else if (sscanf(line, "Gid: %u %u %u %u", &u[0], &u[1],
				  &u[2], &u[3]) == 4) {
			*fsgid = u[3];
			seen |= 2;
		} else if (!strncmp(line, "Groups:", 7)) {
			r = parse_groups(line + 7, c);
			seen |= 4;
		} else if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			c->caps = caps;
			seen |= 8;
		} else if (sscanf(line, "Umask: %o", &mask) == 1) {
			c->umask = mask & 0777;
		}
	}
	free(line);
	fclose(f);
	if (!r && seen != 15)
		r = -ENOENT;
	return r;
}

int lklfuse_caller_get(fuse_req_t req, struct lklfuse_caller *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct lklfuse_caller found = { .umask = 077 };
	uint32_t fsuid, fsgid;
	char path[32];
	int dir, r;

	memset(c, 0, sizeof(*c));
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->umask = 077;
	if (ctx->pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d", (int)ctx->pid);
	/* One directory for both reads: both are of the same process. */
	dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return 0;
	r = read_status(dir, &found, &fsuid, &fsgid);
	if (!r && fsuid == c->uid && fsgid == c->gid && in_own_ns(dir)) {
		c->groups = found.groups;
		c->ngroups = found.ngroups;
		c->umask = found.umask;
		found.groups = NULL;
		if (own_ns.initial)
			c->caps = found.caps;
	}
	close(dir);
	free(found.groups);
	return r == -ENOMEM ? r : 0;
}

void lklfuse_caller_put(struct lklfuse_caller *c)
{
	free(c->groups);
	c->groups = NULL;
	c->ngroups = 0;
}

/* ------------------------------------------- the kernel's credentials */

static long k_capget(struct __user_cap_data_struct *data)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return lkl_sys2(LKL___NR_capget, &h, data);
}

static long k_capset(const struct __user_cap_data_struct *data)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return lkl_sys2(LKL___NR_capset, &h, data);
}

/*
 * setfsuid() and setfsgid() say only what the ID was: set, then ask
 * (an invalid ID changes nothing), to know whether it took.
 */
static long k_setfsuid(uint32_t uid)
{
	lkl_sys1(LKL___NR_setfsuid, uid);
	return (uint32_t)lkl_sys1(LKL___NR_setfsuid, -1) == uid ? 0 : -EPERM;
}

static long k_setfsgid(uint32_t gid)
{
	lkl_sys1(LKL___NR_setfsgid, gid);
	return (uint32_t)lkl_sys1(LKL___NR_setfsgid, -1) == gid ? 0 : -EPERM;
}

static long k_setgroups(size_t n, const uint32_t *groups)
{
	return lkl_sys2(LKL___NR_setgroups, n, groups);
}

/* Back to @saved, each step tried whatever the others did: 0 or -errno. */
static long restore(const struct lklfuse_creds *saved)
{
	long r, err = 0;

	/* First, the capabilities that the other steps need. */
	r = k_capset(saved->caps);
	if (r < 0)
		err = r;
	r = k_setfsuid(saved->fsuid);
	if (r < 0 && !err)
		err = r;
	r = k_setfsgid(saved->fsgid);
	if (r < 0 && !err)
		err = r;
	r = k_setgroups(saved->ngroups, saved->groups);
	if (r < 0 && !err)
		err = r;
	if (saved->umask >= 0)
		lkl_sys1(LKL___NR_umask, saved->umask);
	return err;
}

/*
 * The kernel's tasks for the server's threads share one umask (pid 1's
 * filesystem context, CLONE_FS), 0: one set for a caller would apply to
 * other threads' requests meanwhile.  This task gets a copy of its own,
 * the same root and working directory (which the server never changes),
 * the first time; then only its umask.  The previous umask, or -errno.
 */
static long own_umask(unsigned int mask)
{
	long r = lkl_sys1(LKL___NR_unshare, CLONE_FS);

	return r < 0 ? r : lkl_sys1(LKL___NR_umask, mask);
}

int lklfuse_caller_enter(struct lklfuse *lf, struct lklfuse_creds *saved,
			 const struct lklfuse_caller *c, uint64_t keep,
			 unsigned int flags)
{
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	uint64_t eff;
	long r;

	saved->umask = -1;
	r = k_capget(saved->caps);
	if (r < 0)
		return r;
	/* Asking with an invalid ID changes nothing. */
	r = lkl_sys1(LKL___NR_setfsuid, -1);
	if (r < 0)
		return r;
	saved->fsuid = r;
	r = lkl_sys1(LKL___NR_setfsgid, -1);
	if (r < 0)
		return r;
	saved->fsgid = r;
	/* The kernel's own tasks have none; more would be unexpected. */
	r = lkl_sys2(LKL___NR_getgroups, 16, saved->groups);
	if (r < 0)
		return r;
	saved->ngroups = r;

	memcpy(caps, saved->caps, sizeof(caps));
	eff = (c->caps | keep) &
	      ((uint64_t)caps[1].permitted << 32 | caps[0].permitted);
	caps[0].effective = (uint32_t)eff;
	caps[1].effective = (uint32_t)(eff >> 32);

	if (flags & LKLFUSE_CALLER_UMASK) {
		r = own_umask(c->umask);
		if (r < 0)
			return r;
		saved->umask = r;
	}
	/* In this order: each needs capabilities the next may drop. */
	r = k_setgroups(c->ngroups, c->groups);
	if (!r)
		r = k_setfsgid(c->gid);
	if (!r)
		r = k_setfsuid(c->uid);
	if (!r)
		r = k_capset(caps);
	if (r < 0)
		lklfuse_caller_leave(lf, saved);
	return r;
}

void lklfuse_caller_leave(struct lklfuse *lf,
			  const struct lklfuse_creds *saved)
{
	long r;
	int i;

	/* Only memory can be short here; give the kernel a moment. */
	for (i = 0; i < 100; i++) {
		r = restore(saved);
		if (!r)
			return;
		usleep(10000);
	}
	fprintf(stderr, "%s: cannot take back root's credentials after a request (%s): stopping\n",
		LKLFUSE_PROG, strerror((int)-r));
	fuse_session_exit(lf->se);
}
