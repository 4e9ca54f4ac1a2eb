// SPDX-License-Identifier: GPL-2.0
/*
 * lklfuse-server: mount a disk image's filesystem through the kernel
 * library, served to the host over FUSE.
 *
 *   lklfuse-server IMAGE MOUNTPOINT [-o opt[,opt...]] [-f] [-d] [-s]
 *
 * Options of our own (the rest go to libfuse: allow_other,
 * default_permissions, max_read=, fsname=, ...; allow_other implies
 * default_permissions):
 *   type=FS     the filesystem (default: recognised from the superblock)
 *   part=N      partition N of the image (default: the whole image)
 *   ro          read-only, in the kernel and for FUSE; the image is never
 *               written
 *   mb=N        kernel memory in MiB (default 128)
 *   opts=OPTS   the kernel mount's options (escape "," as "\,")
 *   log=FILE    append the kernel console to FILE
 *   -f          accepted; the server always runs in the foreground
 *   -d          FUSE debug output
 *   -s          one thread serves every request (by default one thread
 *               serves them too, but a request that runs long lets
 *               another thread serve the next ones: loop.c)
 *
 * If LKLFUSE_READY_FD=N is in the environment, the server writes to
 * descriptor N either "ready\n" once the mount serves requests, or
 * "error: MESSAGE\n" before it exits with status 1, and closes it.
 * Errors before the mount is ready also go to stderr, one line each.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lklfuse.h"
#include "console.h"
#include "../kernel/kcall.h"

#define PROG			"lklfuse-server"
#define DEFAULT_MB		128
#define ENTRY_TIMEOUT		1.0
#define NOFILE_LIMIT		(1024 * 1024)
/*
 * Threads serving requests (without -s): one reads and serves while the
 * others wait, and each request that runs long lets one more read (loop.c);
 * this many slow requests at once make the rest wait.
 */
#define LKLFUSE_THREADS		8

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

/* What option parsing learns: the options and a little more. */
struct parse_state {
	struct lklfuse_opts opts;
	int extra_args;		/* more than two non-option arguments */
	bool fsname, subtype;	/* given by the user */
	bool allow_other, default_permissions;
};

#define OPT(t, field, v) { t, offsetof(struct parse_state, opts.field), v }

static const struct fuse_opt opt_spec[] = {
	OPT("type=%s", type, 0),
	OPT("part=%d", part, 0),
	OPT("mb=%lu", mb, 0),
	OPT("opts=%s", kopts, 0),
	OPT("log=%s", log, 0),
	OPT("uid=%s", uid, 0),
	OPT("gid=%s", gid, 0),
	OPT("umask=%s", umask, 0),
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

/*
 * libfuse's last message line, kept to explain a failure to the launcher.
 * libfuse's log hook is process-wide, so is this.  A line may come in
 * pieces: they gather in fuse_line until its new line.
 */
static char fuse_last_msg[256];
static char fuse_line[256];

static void fuse_log_to_stderr(enum fuse_log_level level, const char *fmt,
			       va_list ap)
{
	size_t used = strlen(fuse_line), len;
	char msg[256];

	(void)level;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	fputs(msg, stderr);
	snprintf(fuse_line + used, sizeof(fuse_line) - used, "%s", msg);
	len = strlen(fuse_line);
	if (!len || fuse_line[len - 1] != '\n')
		return;
	while (len && (fuse_line[len - 1] == '\n' || fuse_line[len - 1] == ' '))
		fuse_line[--len] = '\0';
	/* "fuse: " says nothing a reader of our messages needs. */
	if (!strncmp(fuse_line, "fuse: ", 6))
		snprintf(fuse_last_msg, sizeof(fuse_last_msg), "%s",
			 fuse_line + 6);
	else if (len)
		memcpy(fuse_last_msg, fuse_line, len + 1);
	fuse_line[0] = '\0';
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct parse_state *ps = data;

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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " IMAGE MOUNTPOINT [-o opt[,opt...]] [-f] [-d] [-s]\n"
		"\n"
		"  -o type=FS     filesystem type (default: recognised)\n"
		"  -o part=N      partition N of the image\n"
		"  -o ro          read-only\n"
		"  -o mb=N        kernel memory in MiB (default %d)\n"
		"  -o opts=OPTS   kernel mount options (\\, for a comma)\n"
		"  -o log=FILE    append the kernel console to FILE\n"
		"  -o uid=N       every file shows owner N\n"
		"  -o gid=N       every file shows group N\n"
		"  -o umask=M     every file shows mode 0777 & ~M (octal)\n"
		"  -f             foreground (always)\n"
		"  -d             FUSE debug output\n"
		"  -s             single-threaded\n"
		"  other -o options go to FUSE (allow_other, default_permissions, ...)\n",
		DEFAULT_MB);
}

/* Report a failure before the mount serves: stderr and the launcher. */
static void __attribute__((format(printf, 2, 3)))
setup_error(struct lklfuse *lf, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		snprintf(msg, sizeof(msg), "failed");
	va_end(ap);
	fprintf(stderr, PROG ": %s\n", msg);
	lklfuse_tell_ready(lf, msg);
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
			setup_error(lf, "uid=%s: not a user ID", o->uid);
			return -1;
		}
		lf->set_uid = true;
		lf->uid = n;
	}
	if (o->gid) {
		if (parse_number(o->gid, 10, 0xfffffffeUL, &n)) {
			setup_error(lf, "gid=%s: not a group ID", o->gid);
			return -1;
		}
		lf->set_gid = true;
		lf->gid = n;
	}
	if (o->umask) {
		if (parse_number(o->umask, 8, 0777, &n)) {
			setup_error(lf, "umask=%s: not an octal mask up to 777",
				    o->umask);
			return -1;
		}
		lf->set_mode = true;
		lf->umask = n;
	}
	return 0;
}

/* LKLFUSE_READY_FD, if set and a descriptor: kept from any child. */
static int ready_fd_from_env(void)
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
		fprintf(stderr, PROG ": LKLFUSE_READY_FD=%s: not a descriptor\n",
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

static const char *mount_error(int err, const struct lklfuse_opts *o)
{
	switch (err) {
	case -ENODEV:
		return o->type ? "the kernel has no such filesystem type" :
		       "no ext2/3/4, btrfs, xfs or vfat filesystem found (try -o type=)";
	case -ENOENT:
		return o->part ? "no such partition" : strerror(-err);
	case -EINVAL:
		return o->type ? "not that filesystem, or bad mount options" :
		       "bad filesystem or mount options";
	default:
		return strerror(-err);
	}
}

/*
 * Lock the whole image for as long as we live: shared for a read-only
 * mount, exclusive for a read-write one, which another mount of ours
 * (reading or writing) would corrupt or misread.  The lock belongs to the
 * open file description, so only our exit drops it, after the last write
 * to the image; "lkl unmount" waits for exactly that.
 */
static int lock_image(struct lklfuse *lf, int fd)
{
	struct flock fl = {
		.l_type = lf->opts.ro ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};

	if (!fcntl(fd, F_OFD_SETLK, &fl))
		return 0;
	if (errno == EAGAIN || errno == EACCES) {
		setup_error(lf, "%s: in use by another lklfuse mount%s",
			    lf->opts.image,
			    lf->opts.ro ? " that can write it" : "");
		return -1;
	}
	/*
	 * A filesystem without such locks (some network ones): mount all
	 * the same; "lkl unmount" then waits for our process instead.
	 */
	return 0;
}

/* Check what can be checked before the kernel boots. */
static int check_paths(struct lklfuse *lf)
{
	struct lklfuse_opts *o = &lf->opts;
	struct stat st;
	int fd;

	fd = open(o->image, (o->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		setup_error(lf, "%s: %s", o->image, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		setup_error(lf, "%s: %s", o->image, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		setup_error(lf, "%s: not a regular file or block device",
			    o->image);
		close(fd);
		return -1;
	}
	if (lock_image(lf, fd)) {
		close(fd);
		return -1;
	}
	lf->image_lock = fd;
	if (stat(o->mountpoint, &st)) {
		setup_error(lf, "%s: %s", o->mountpoint, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		setup_error(lf, "%s: %s", o->mountpoint, strerror(ENOTDIR));
		return -1;
	}
	return 0;
}

static bool is_fat(const char *fstype)
{
	return fstype && (!strcmp(fstype, "vfat") || !strcmp(fstype, "msdos"));
}

/*
 * Whether the mounted filesystem's file handles find an inode that has
 * left memory, so that the inode table may close descriptors and reopen
 * them by handle.  FAT's find only cached inodes, unless mounted
 * nfs=nostale_ro (read-only: see mount_data()).
 */
static bool lasting_handles(const struct lklfuse *lf)
{
	static const char *const yes[] = {
		"ext2", "ext3", "ext4", "btrfs", "xfs",
	};
	size_t i;

	if (is_fat(lf->fstype))
		return lf->fat_nostale;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(lf->fstype, yes[i]))
			return true;
	}
	return false;
}

/*
 * The kernel mount's options: opts=, after ours for FAT, so that it
 * still wins.
 *
 * FAT has no owners: the kernel gives every file to uid 0 unless told.
 * Give them to the user who mounts, as desktop automounters do, so that
 * ls shows their files and, with default_permissions, lets them write.
 *
 * A read-only FAT mount gets nfs=nostale_ro, whose file handles are the
 * entries' places on the disk and so outlive the inodes: the inode table
 * can then close descriptors as on ext4 (a read-write mount cannot have
 * it: the kernel makes nostale_ro mounts read-only, since a rename could
 * move a handle to another file).
 *
 * NULL if out of memory.
 */
static char *mount_data(struct lklfuse *lf, const char *fstype)
{
	const char *kopts = lf->opts.kopts ? lf->opts.kopts : "";
	char owner[48] = "";
	char *data;

	if (!is_fat(fstype))
		return strdup(kopts);
	if (getuid() != 0)
		snprintf(owner, sizeof(owner), "uid=%u,gid=%u,",
			 (unsigned int)getuid(), (unsigned int)getgid());
	lf->fat_nostale = lf->opts.ro && !strstr(kopts, "nfs=");
	if (asprintf(&data, "%s%s%s", owner,
		     lf->fat_nostale ? "nfs=nostale_ro," : "", kopts) < 0)
		return NULL;
	/* No trailing comma when opts= is empty. */
	if (*data && data[strlen(data) - 1] == ',')
		data[strlen(data) - 1] = '\0';
	return data;
}

/* Boot, add the disk, mount it and open its root. */
static int start_kernel(struct lklfuse *lf)
{
	struct lklfuse_opts *o = &lf->opts;
	struct lkl_boot_options boot = {
		.memory_mib = o->mb ? o->mb : DEFAULT_MB,
		.print = lklfuse_console_print,
	};
	struct k_rlimit64 lim = { NOFILE_LIMIT, NOFILE_LIMIT };
	const char *type = o->type;
	unsigned long long mark;
	char found[32], *data;
	struct lkl_statx stx;
	char kmsg[200];
	long r, fd;

	r = lklfuse_console_open(o->log);
	if (r) {
		setup_error(lf, "%s: %s", o->log, strerror(-r));
		return -1;
	}
	r = lkl_host_boot(&boot);
	if (r) {
		setup_error(lf, "cannot start the kernel (%lu MiB): %s",
			    boot.memory_mib, strerror(-r));
		return -1;
	}
	lf->kernel_up = true;

	/*
	 * New files get the mode FUSE asks for (the caller's kernel applied
	 * the caller's umask).  Every file open on the host, and up to
	 * LKLFUSE_NODE_FDS inodes it knows (all of them on vfat), hold a
	 * descriptor: allow many, for this task and those pid 1 makes for
	 * new threads.
	 */
	k_umask(0);
	r = k_prlimit64(0, K_RLIMIT_NOFILE, &lim, NULL);
	if (!r)
		r = k_prlimit64(1, K_RLIMIT_NOFILE, &lim, NULL);
	if (r) {
		setup_error(lf, "cannot raise the kernel's open file limit: %s",
			    strerror(-r));
		return -1;
	}

	r = lkl_host_disk_add(o->image, o->ro, &lf->disk);
	if (r) {
		setup_error(lf, "%s: cannot open the image: %s", o->image,
			    strerror(-r));
		return -1;
	}
	mark = lklfuse_console_mark();
	/* Unrecognised: lkl_host_mount() says so, in its own words. */
	if (!o->type && !lkl_host_fstype(lf->disk, o->part, found,
					 sizeof(found)))
		type = found;
	data = mount_data(lf, type);
	if (!data) {
		setup_error(lf, "%s: %s", o->image, strerror(ENOMEM));
		return -1;
	}
	r = lkl_host_mount(lf->disk, o->part, type, o->ro ? LKL_MS_RDONLY : 0,
			   data, lf->kmnt, sizeof(lf->kmnt), lf->fstype,
			   sizeof(lf->fstype));
	free(data);
	if (r) {
		char part[32] = "";

		if (o->part)
			snprintf(part, sizeof(part), " partition %d", o->part);
		if (lklfuse_console_last_line(mark, kmsg, sizeof(kmsg)))
			setup_error(lf, "%s%s: cannot mount%s%s: %s (kernel: %s)",
				    o->image, part, o->type ? " as " : "",
				    o->type ? o->type : "", mount_error(r, o),
				    kmsg);
		else
			setup_error(lf, "%s%s: cannot mount%s%s: %s", o->image,
				    part, o->type ? " as " : "",
				    o->type ? o->type : "", mount_error(r, o));
		return -1;
	}
	lf->kmounted = true;

	fd = k_openat(LKL_AT_FDCWD, lf->kmnt,
		      LKL_O_PATH | LKL_O_DIRECTORY | LKL_O_CLOEXEC, 0);
	r = fd < 0 ? fd : k_fstatx(fd, &stx);
	if (!r)
		r = lklfuse_inodes_init(&lf->inodes, fd, &stx,
					lasting_handles(lf),
					LKLFUSE_NODE_FDS);
	if (r) {
		if (fd >= 0)
			k_close(fd);
		setup_error(lf, "%s: cannot open the filesystem's root: %s",
			    o->image, strerror(-r));
		return -1;
	}
	return 0;
}

/* Unmount and halt so that the image is consistent; 0 or -1. */
static int stop_kernel(struct lklfuse *lf)
{
	int ret = 0;
	long r;

	if (!lf->kernel_up)
		return 0;
	lklfuse_close_files(lf);
	lklfuse_inodes_destroy(&lf->inodes);
	if (lf->kmounted) {
		r = lkl_host_umount(lf->kmnt);
		if (r) {
			fprintf(stderr, PROG ": %s: unmount in the kernel: %s\n",
				lf->opts.image, strerror(-r));
			ret = -1;
		} else {
			lf->kmounted = false;
		}
	}
	/* Still mounted: the halt syncs and unmounts what it can. */
	if (lf->disk && !lf->kmounted) {
		r = lkl_host_disk_remove(lf->disk);
		if (r) {
			fprintf(stderr, PROG ": %s: remove the disk: %s\n",
				lf->opts.image, strerror(-r));
			ret = -1;
		}
	}
	r = lkl_host_halt();
	if (r) {
		fprintf(stderr, PROG ": halting the kernel: %s\n",
			strerror(-r));
		ret = -1;
	}
	lf->kernel_up = false;
	return ret;
}

static void drain(void *arg)
{
	lklfuse_forget_stop(arg);
}

/*
 * Serve until unmounted or signalled.  Single-threaded, nothing serves
 * the host while the forget thread would wait for it: no forgetting.
 */
static int serve(struct lklfuse *lf)
{
	int r;

	if (lf->opts.single)
		return fuse_session_loop(lf->se);
	r = lklfuse_forget_start(lf);
	if (r)
		return r;
	r = lklfuse_loop(lf->se, LKLFUSE_THREADS, drain, lf);
	lklfuse_forget_stop(lf);
	return r;
}

static void free_opts(struct lklfuse_opts *o)
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

/*
 * fuse_session_mount(), keeping what it prints on stderr.  For a user who
 * may not mount, libfuse runs fusermount3, whose reason to refuse (such as
 * allow_other without user_allow_other in /etc/fuse.conf) goes straight
 * to stderr, where the launcher does not look: @why gets its last line,
 * for the one line that explains the failure; any other output is passed
 * on.  The pipe is non-blocking, so a long message cannot hang us.
 */
static int mount_fuse(struct lklfuse *lf, char *why, size_t size)
{
	char buf[1024], *line;
	int p[2], saved = -1, r;
	ssize_t n, len = 0;

	why[0] = '\0';
	if (!pipe2(p, O_CLOEXEC | O_NONBLOCK)) {
		fflush(stderr);
		saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
		if (saved < 0 || dup2(p[1], 2) < 0) {
			if (saved >= 0)
				close(saved);
			saved = -1;
			close(p[0]);
		}
		close(p[1]);
	}
	r = fuse_session_mount(lf->se, lf->opts.mountpoint);
	if (saved < 0)
		return r;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	while (len < (ssize_t)sizeof(buf) - 1) {
		n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(p[0]);
	buf[len] = '\0';
	if (!r) {
		n = len ? write(2, buf, len) : 0;
		(void)n;	/* if it fails, there is nowhere to say so */
		return 0;
	}
	/* The last non-empty line, without its program's name. */
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (!strncmp(line, "fuse: ", 6))
		line += 6;
	else if (!strncmp(line, "fusermount3: ", 13))
		line += 13;
	n = strlen(line);
	if ((size_t)n >= size)
		n = size - 1;
	memcpy(why, line, n);
	why[n] = '\0';
	return r;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct lklfuse lf_storage, *lf = &lf_storage;
	struct parse_state ps;
	char *image_abs = NULL, why[256] = "";
	bool fuse_mounted = false, signals = false;
	int status = 1, r;

	memset(lf, 0, sizeof(*lf));
	lf->image_lock = -1;
	memset(&ps, 0, sizeof(ps));
	lf->ready_fd = ready_fd_from_env();
	lf->timeout = ENTRY_TIMEOUT;
	lf->files.next = lf->files.prev = &lf->files;
	if (pthread_mutex_init(&lf->files_lock, NULL)) {
		setup_error(lf, "pthread_mutex_init failed");
		return 1;
	}
	fuse_set_log_func(fuse_log_to_stderr);

	r = fuse_opt_parse(&args, &ps, opt_spec, opt_proc);
	lf->opts = ps.opts;
	if (r) {
		setup_error(lf, "bad options (see --help)");
		goto out;
	}
	if (lf->opts.help) {
		usage(stdout);
		status = 0;
		goto out;
	}
	if (lf->opts.version) {
		printf(PROG " (libfuse %s)\n", fuse_pkgversion());
		status = 0;
		goto out;
	}
	if (!lf->opts.image || !lf->opts.mountpoint || ps.extra_args) {
		usage(stderr);
		setup_error(lf, "expected an image and a mount point, got %s",
			    !lf->opts.image ? "neither" :
			    !lf->opts.mountpoint ? "no mount point" :
			    "more arguments");
		goto out;
	}
	if (lf->opts.part < 0) {
		setup_error(lf, "part=%d: not a partition number",
			    lf->opts.part);
		goto out;
	}
	if (lf->opts.mb && (lf->opts.mb < 16 || lf->opts.mb > 65536)) {
		setup_error(lf, "mb=%lu: between 16 and 65536, please",
			    lf->opts.mb);
		goto out;
	}
	if (shown_attrs(lf))
		goto out;
	if (check_paths(lf) || start_kernel(lf))
		goto out;

	image_abs = realpath(lf->opts.image, NULL);
	if ((!ps.fsname &&
	     add_escaped_opt(&args, "fsname=",
			     image_abs ? image_abs : lf->opts.image)) ||
	    (!ps.subtype && add_escaped_opt(&args, "subtype=", lf->fstype)) ||
	    /*
	     * Every request runs as root in the kernel, which checks no
	     * permission for us: with allow_other, the host kernel must,
	     * or any user could read and change every file of the image.
	     */
	    (ps.allow_other && !ps.default_permissions &&
	     fuse_opt_add_arg(&args, "-odefault_permissions"))) {
		setup_error(lf, "out of memory");
		goto out;
	}
	r = pthread_key_create(&lf->scratch_key, free);
	if (r) {
		setup_error(lf, "pthread_key_create: %s", strerror(r));
		goto out;
	}
	lf->scratch_key_made = true;

	fuse_last_msg[0] = '\0';
	lf->se = fuse_session_new(&args, &lklfuse_ops, sizeof(lklfuse_ops),
				  lf);
	if (!lf->se) {
		setup_error(lf, "FUSE options: %s",
			    fuse_last_msg[0] ? fuse_last_msg : "not accepted");
		goto out;
	}
	/*
	 * libfuse leaves alone a signal that is ignored, as a shell ignores
	 * SIGINT for a background command; SIGINT and SIGTERM must still
	 * end the server.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (fuse_set_signal_handlers(lf->se)) {
		setup_error(lf, "cannot set signal handlers");
		goto out;
	}
	signals = true;
	fuse_last_msg[0] = '\0';
	if (mount_fuse(lf, why, sizeof(why))) {
		setup_error(lf, "%s: cannot mount: %s", lf->opts.mountpoint,
			    why[0] ? why : fuse_last_msg[0] ? fuse_last_msg :
			    "FUSE mount failed");
		goto out;
	}
	fuse_mounted = true;

	r = serve(lf);
	if (lf->ready_fd >= 0)
		setup_error(lf, "%s: the FUSE session ended before it started",
			    lf->opts.mountpoint);
	else if (r < 0)
		fprintf(stderr, PROG ": %s: serving FUSE: %s\n",
			lf->opts.mountpoint, strerror(-r));
	else
		status = 0;

out:
	if (fuse_mounted)
		fuse_session_unmount(lf->se);
	if (signals) {
		/*
		 * The kernel has yet to write back and unmount the image: a
		 * second SIGINT (a terminal's Ctrl-C reaches the launcher
		 * too, which passes it on; or an impatient user) must not
		 * kill us half-way, leaving the journal to replay and the
		 * last writes lost.  Nor may a closed stderr.  SIGKILL still
		 * works.  Ignored before libfuse's handlers go: removing
		 * them restores the default action, which for a SIGINT in
		 * between was death (seen: a 24 MiB file lost).  libfuse
		 * then leaves the ignored signals as they are, except
		 * SIGPIPE, which it ignored itself and so takes back; only
		 * this thread's own writes can raise it here (the others
		 * block every signal).
		 */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		fuse_remove_signal_handlers(lf->se);
		signal(SIGPIPE, SIG_IGN);
	}
	if (lf->se)
		fuse_session_destroy(lf->se);
	if (stop_kernel(lf))
		status = 1;
	lklfuse_console_close();
	if (lf->scratch_key_made) {
		free(pthread_getspecific(lf->scratch_key));
		pthread_key_delete(lf->scratch_key);
	}
	if (lf->ready_fd >= 0)
		lklfuse_tell_ready(lf, "exited before the mount was ready");
	pthread_mutex_destroy(&lf->files_lock);
	free(image_abs);
	free_opts(&lf->opts);
	fuse_opt_free_args(&args);
	return status;
}
