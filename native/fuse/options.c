// SPDX-License-Identifier: GPL-2.0
/*
 * lklfuse-server's command line and environment.
 *
 *   lklfuse-server IMAGE MOUNTPOINT [-o opt[,opt...]] [-f] [-d] [-s]
 *
 * (bin/lklfuse and lkl lklfuse run it with the command line they got.)
 *
 * Options of our own (the rest go to libfuse: allow_other,
 * default_permissions, max_read=, fsname=, ...; allow_other implies
 * default_permissions):
 *   type=FS     the filesystem (default: recognised from the superblock)
 *   part=N      partition N of the image (default: the whole image)
 *   ro          read-only, in the kernel and for FUSE; the image is never
 *               written
 *   wait_lock   if another program has the image open (a writer, or any
 *               program for a read-write mount), wait for it to close
 *               the image rather than fail
 *   discard     the kernel mount's "discard": blocks the filesystem frees
 *               become holes in the image file as they are freed (fstrim
 *               on the mount does it for all the free space at once)
 *   norecovery  mount without replaying the journal or log (ext4, xfs:
 *               "norecovery"; btrfs: "rescue=nologreplay"), as their
 *               own mounts take it; the filesystems want ro with it
 *   mb=N        kernel memory in MiB (default 128)
 *   opts=OPTS   the kernel mount's options (escape "," as "\,")
 *   log=FILE    append the kernel console to FILE
 *   uid=N, gid=N, umask=M
 *               what every file shows as its owner, group and mode
 *   -f          stay in the foreground, serving, until unmounted (else
 *               the server goes on in the background once it serves:
 *               launch.c)
 *   -d          FUSE debug output (in the foreground)
 *   -s          one thread serves every request (by default one thread
 *               serves them too, but a request that runs long lets
 *               another thread serve the next ones: loop.c)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lklfuse.h"

enum {
	KEY_RO,
	KEY_DEBUG,
	KEY_HELP,
	KEY_VERSION,
	KEY_FSNAME,
	KEY_SUBTYPE,
	KEY_ALLOW_OTHER,
	KEY_DEFAULT_PERMISSIONS,
};

#define OPT(t, field, v) \
	{ t, offsetof(struct lklfuse_cmdline, opts.field), v }

static const struct fuse_opt opt_spec[] = {
	OPT("type=%s", type, 0),
	OPT("part=%d", part, 0),
	OPT("mb=%lu", mb, 0),
	OPT("opts=%s", kopts, 0),
	OPT("log=%s", log, 0),
	OPT("uid=%s", uid, 0),
	OPT("gid=%s", gid, 0),
	OPT("umask=%s", umask, 0),
	OPT("wait_lock", wait_lock, 1),
	OPT("discard", discard, 1),
	OPT("norecovery", norecovery, 1),
	OPT("-f", foreground, 1),
	OPT("-s", single, 1),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("fsname=", KEY_FSNAME),
	FUSE_OPT_KEY("subtype=", KEY_SUBTYPE),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("default_permissions", KEY_DEFAULT_PERMISSIONS),
	FUSE_OPT_END
};

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct lklfuse_cmdline *ps = data;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!ps->opts.image)
			ps->opts.image = strdup(arg);
		else if (!ps->opts.mountpoint)
			ps->opts.mountpoint = strdup(arg);
		else
			ps->extra_args++;
		return 0;
	case KEY_RO:
		ps->opts.ro = 1;
		return 1;	/* FUSE mounts read-only too */
	case KEY_DEBUG:
		ps->opts.debug = 1;
		return 1;
	case KEY_HELP:
		ps->opts.help = 1;
		return 0;
	case KEY_VERSION:
		ps->opts.version = 1;
		return 0;
	case KEY_FSNAME:
		ps->fsname = true;
		return 1;
	case KEY_SUBTYPE:
		ps->subtype = true;
		return 1;
	case KEY_ALLOW_OTHER:
		ps->allow_other = true;
		return 1;
	case KEY_DEFAULT_PERMISSIONS:
		ps->default_permissions = true;
		return 1;
	default:
		return 1;	/* libfuse's, or an error it will report */
	}
}

int lklfuse_parse_args(struct fuse_args *args, struct lklfuse_cmdline *cl)
{
	memset(cl, 0, sizeof(*cl));
	return fuse_opt_parse(args, cl, opt_spec, opt_proc) ? -1 : 0;
}

void lklfuse_usage(FILE *f)
{
	fprintf(f,
		"usage: lklfuse IMAGE MOUNTPOINT [-o opt[,opt...]] [-f] [-d] [-s]\n"
		"\n"
		"Mounts IMAGE's filesystem on MOUNTPOINT through FUSE and returns once\n"
		"it serves; the server goes on in the background until unmounted\n"
		"(fusermount3 -u MOUNTPOINT, or lkl unmount MOUNTPOINT, which returns\n"
		"once the image is written back).\n"
		"\n"
		"  -o type=FS     filesystem type (default: recognised)\n"
		"  -o part=N      partition N of the image\n"
		"  -o ro          read-only\n"
		"  -o wait_lock   wait while another program uses the image\n"
		"  -o discard     freed blocks become holes in the image\n"
		"  -o norecovery  do not replay the journal (with ro)\n"
		"  -o mb=N        kernel memory in MiB (default %d)\n"
		"  -o opts=OPTS   kernel mount options (\\, for a comma)\n"
		"  -o log=FILE    append the kernel console to FILE\n"
		"  -o uid=N       every file shows owner N\n"
		"  -o gid=N       every file shows group N\n"
		"  -o umask=M     every file shows mode 0777 & ~M (octal)\n"
		"  -f             stay in the foreground until unmounted\n"
		"  -d             FUSE debug output (implies -f)\n"
		"  -s             single-threaded\n"
		"  other -o options go to FUSE (allow_other, default_permissions, ...)\n",
		LKLFUSE_DEFAULT_MB);
}

/* @text as a number in @base no greater than @max: 0, or -1. */
static int parse_number(const char *text, int base, unsigned long max,
			unsigned long *out)
{
	char *end;

	if (!*text || *text == '-' || *text == '+' || *text == ' ')
		return -1;
	errno = 0;
	*out = strtoul(text, &end, base);
	return errno || *end || *out > max ? -1 : 0;
}

/* -o uid=, gid=, umask= into lf: 0, or -1 said. */
static int shown_attrs(struct lklfuse *lf)
{
	const struct lklfuse_opts *o = &lf->opts;
	unsigned long n;

	if (o->uid) {
		if (parse_number(o->uid, 10, 0xfffffffeUL, &n)) {
			lklfuse_setup_error(lf, "uid=%s: not a user ID",
					    o->uid);
			return -1;
		}
		lf->set_uid = true;
		lf->uid = n;
	}
	if (o->gid) {
		if (parse_number(o->gid, 10, 0xfffffffeUL, &n)) {
			lklfuse_setup_error(lf, "gid=%s: not a group ID",
					    o->gid);
			return -1;
		}
		lf->set_gid = true;
		lf->gid = n;
	}
	if (o->umask) {
		if (parse_number(o->umask, 8, 0777, &n)) {
			lklfuse_setup_error(lf,
					    "umask=%s: not an octal mask up to 777",
					    o->umask);
			return -1;
		}
		lf->set_mode = true;
		lf->umask = n;
	}
	return 0;
}

int lklfuse_check_opts(struct lklfuse *lf, const struct lklfuse_cmdline *cl)
{
	const struct lklfuse_opts *o = &lf->opts;

	if (!o->image || !o->mountpoint || cl->extra_args) {
		lklfuse_setup_error(lf,
				    "expected an image and a mount point, got %s (see --help)",
				    !o->image ? "neither" :
				    !o->mountpoint ? "no mount point" :
				    "more arguments");
		return 2;
	}
	if (o->part < 0) {
		lklfuse_setup_error(lf, "part=%d: not a partition number",
				    o->part);
		return 1;
	}
	if (o->mb && (o->mb < 16 || o->mb > 65536)) {
		lklfuse_setup_error(lf, "mb=%lu: between 16 and 65536, please",
				    o->mb);
		return 1;
	}
	return shown_attrs(lf) ? 1 : 0;
}

/* LKLFUSE_READY_FD, if set and a descriptor: kept from any child. */
int lklfuse_ready_fd_from_env(void)
{
	const char *s = getenv("LKLFUSE_READY_FD");
	char *end;
	long fd;

	if (!s || !*s)
		return -1;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno || *end || fd < 0 || fd > INT_MAX ||
	    fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, LKLFUSE_PROG ": LKLFUSE_READY_FD=%s: not a descriptor\n",
			s);
		return -1;
	}
	unsetenv("LKLFUSE_READY_FD");
	return (int)fd;
}

/* "-o NAME=VALUE" with "," and "\" in VALUE escaped for fuse_opt. */
static int add_escaped_opt(struct fuse_args *args, const char *name,
			   const char *value)
{
	size_t n = strlen(name), len = 2 + n + 2 * strlen(value) + 1;
	char *s = malloc(len), *p;
	int err;

	if (!s)
		return -1;
	p = s + snprintf(s, len, "-o%s", name);
	for (; *value; value++) {
		if (*value == ',' || *value == '\\')
			*p++ = '\\';
		*p++ = *value;
	}
	*p = '\0';
	err = fuse_opt_add_arg(args, s);
	free(s);
	return err;
}

int lklfuse_add_fuse_opts(struct fuse_args *args,
			  const struct lklfuse_cmdline *cl, const char *fsname,
			  const char *fstype)
{
	if (!cl->fsname && add_escaped_opt(args, "fsname=", fsname))
		return -1;
	if (!cl->subtype && add_escaped_opt(args, "subtype=", fstype))
		return -1;
	/*
	 * Every request runs as root in the kernel, which checks no
	 * permission for us: with allow_other, the host kernel must, or
	 * any user could read and change every file of the image.
	 */
	if (cl->allow_other && !cl->default_permissions &&
	    fuse_opt_add_arg(args, "-odefault_permissions"))
		return -1;
	return 0;
}

bool lklfuse_has_fuse_opt(const struct fuse_args *args, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 1; i < args->argc; i++) {
		const char *s = args->argv[i];

		if (strncmp(s, "-o", 2))
			continue;
		s = s[2] ? s + 2 : i + 1 < args->argc ? args->argv[++i] : "";
		while (*s) {
			size_t len = strcspn(s, ",");

			if (len == n && !strncmp(s, name, n))
				return true;
			s += len;
			if (*s)
				s++;
		}
	}
	return false;
}

void lklfuse_free_opts(struct lklfuse_opts *o)
{
	free(o->image);
	free(o->mountpoint);
	free(o->type);
	free(o->kopts);
	free(o->log);
	free(o->uid);
	free(o->gid);
	free(o->umask);
}
