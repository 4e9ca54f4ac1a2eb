// SPDX-License-Identifier: GPL-2.0
/*
 * boot_test: boot the kernel library once and put it through its paces.
 *
 *   boot_test FIXTURES
 *
 * FIXTURES is a directory filled by test/fixtures/make-images.sh: the source
 * trees (tree, tree-vfat), one pristine image per filesystem and each
 * image's SHA-256.  In one process and one boot the test checks the
 * in-memory root, then for every filesystem: a read-only mount of the
 * pristine image compared with its source tree (and the image left
 * untouched), a read-write mount of a copy that is changed, checked by the
 * filesystem's own fsck and mounted again to see the changes persist.  Last
 * come several host threads making system calls at once, and the halt.
 *
 * Output is TAP version 13 on stdout; the kernel console goes to stderr
 * when LKL_PRINTK=1.  Exit status 1 when any test failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kernel/kernel.h"

#define MIB			(1024 * 1024)
#define CHUNK			MIB	/* file contents compare this much at once */
#define KPATH_MAX		512
#define NSEC_PER_SEC		1000000000LL

#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* linux_dirent64, as getdents64 fills it. */
struct k_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

/* d_type values of the kernel ABI. */
#define K_DT_UNKNOWN	0
#define K_DT_FIFO	1
#define K_DT_DIR	4
#define K_DT_REG	8
#define K_DT_LNK	10

/* ------------------------------------------------------------------ TAP */

static int tap_count;
static int tap_failed;

/* Diagnostics of the test point in progress; threads may add to them. */
static struct {
	pthread_mutex_t lock;
	char buf[16384];
	size_t len;
	int lines;
	int dropped;
	bool failed;
} diag = { .lock = PTHREAD_MUTEX_INITIALIZER };

#define DIAG_MAX_LINES	25

static void __printf(1, 2) fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(line, sizeof(line), "(unprintable diagnostic)");

	pthread_mutex_lock(&diag.lock);
	diag.failed = true;
	if (diag.lines < DIAG_MAX_LINES) {
		n = snprintf(diag.buf + diag.len, sizeof(diag.buf) - diag.len,
			     "# %s\n", line);
		if (n > 0 && (size_t)n < sizeof(diag.buf) - diag.len) {
			diag.len += n;
			diag.lines++;
		} else {
			diag.dropped++;
		}
	} else {
		diag.dropped++;
	}
	pthread_mutex_unlock(&diag.lock);
}

static bool failed_so_far(void)
{
	bool failed;

	pthread_mutex_lock(&diag.lock);
	failed = diag.failed;
	pthread_mutex_unlock(&diag.lock);
	return failed;
}

/* Close the test point in progress: ok unless fail() was called since. */
static bool __printf(1, 2) report(const char *fmt, ...)
{
	char desc[512];
	bool ok;
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(desc, sizeof(desc), fmt, ap) < 0)
		snprintf(desc, sizeof(desc), "(unprintable description)");
	va_end(ap);

	pthread_mutex_lock(&diag.lock);
	ok = !diag.failed;
	tap_count++;
	printf("%sok %d - %s\n", ok ? "" : "not ", tap_count, desc);
	if (!ok) {
		tap_failed++;
		fputs(diag.buf, stdout);
		if (diag.dropped)
			printf("# ... and %d more\n", diag.dropped);
	}
	diag.len = 0;
	diag.buf[0] = '\0';
	diag.lines = 0;
	diag.dropped = 0;
	diag.failed = false;
	pthread_mutex_unlock(&diag.lock);
	fflush(stdout);
	return ok;
}

static void __printf(1, 2) note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static const char *err_name(long r)
{
	return strerror((int)-r);
}

/* A kernel call that must succeed: its result, after fail() if negative. */
#define CHECK(expr)	check_call((expr), #expr, __LINE__)

static long check_call(long r, const char *what, int line)
{
	if (r < 0)
		fail("line %d: %s: %ld (%s)", line, what, r, err_name(r));
	return r;
}

/* A kernel call that must fail with -@err. */
#define EXPECT_ERR(expr, err)	expect_err((expr), (err), #expr, __LINE__)

static bool expect_err(long r, long err, const char *what, int line)
{
	if (r == -err)
		return true;
	if (r >= 0)
		fail("line %d: %s: %ld, expected %s", line, what, r,
		     strerror((int)err));
	else
		fail("line %d: %s: %s, expected %s", line, what, err_name(r),
		     strerror((int)err));
	return false;
}

static double ms_since(const struct timespec *start)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now))
		return -1;
	return (now.tv_sec - start->tv_sec) * 1e3 +
	       (now.tv_nsec - start->tv_nsec) / 1e6;
}

/* ---------------------------------------------------------- host helpers */

/*
 * Run @argv with stdout and stderr into @out (the first @outlen - 1 bytes,
 * NUL-terminated).  Returns the exit status, 128 + the signal that killed
 * it, or -1 if it could not run at all.
 */
static int run_cmd(char *const argv[], char *out, size_t outlen)
{
	size_t len = 0;
	int pipefd[2];
	int status;
	pid_t pid;

	if (outlen)
		out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(pipefd[1], STDOUT_FILENO) < 0 ||
		    dup2(pipefd[1], STDERR_FILENO) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		char sink[4096];
		char *dst = len + 1 < outlen ? out + len : sink;
		size_t room = len + 1 < outlen ? outlen - len - 1 : sizeof(sink);
		ssize_t n = read(pipefd[0], dst, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != sink)
			len += n;
	}
	if (outlen)
		out[len] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* The last @lines lines of @text, for a diagnostic. */
static void fail_tail(const char *what, const char *text, int lines)
{
	const char *p = text + strlen(text);
	const char *end;
	int n = 0;

	while (p > text && n <= lines) {
		p--;
		if (*p == '\n')
			n++;
	}
	if (*p == '\n')
		p++;
	while (*p) {
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		if (end > p)
			fail("%s: %.*s", what, (int)(end - p), p);
		p = *end ? end + 1 : end;
	}
}

/* @path's SHA-256 in hex, through sha256sum(1); false after fail(). */
static bool sha256_file(const char *path, char hex[65])
{
	char *argv[] = { "sha256sum", (char *)path, NULL };
	char out[4096];
	int st = run_cmd(argv, out, sizeof(out));

	if (st != 0 || strlen(out) < 64) {
		fail("sha256sum %s: status %d: %s", path, st, out);
		return false;
	}
	memcpy(hex, out, 64);
	hex[64] = '\0';
	return true;
}

static bool read_host_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fail("%s: %s", path, strerror(errno));
		return false;
	}
	n = fread(buf, 1, len - 1, f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (ferror(f)) {
		fail("%s: read error", path);
		fclose(f);
		return false;
	}
	fclose(f);
	return true;
}

static ssize_t host_read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

/* -------------------------------------------------------- kernel helpers */

static long k_open(const char *path, int flags, int mode)
{
	return lkl_sys4(LKL___NR_openat, LKL_AT_FDCWD, path, flags, mode);
}

static long k_close(long fd)
{
	return lkl_sys1(LKL___NR_close, fd);
}

static long k_statx(const char *path, int flags, struct lkl_statx *stx)
{
	memset(stx, 0, sizeof(*stx));
	return lkl_sys5(LKL___NR_statx, LKL_AT_FDCWD, path, flags,
			LKL_STATX_BASIC_STATS | LKL_STATX_BTIME, stx);
}

static long k_lstatx(const char *path, struct lkl_statx *stx)
{
	return k_statx(path, LKL_AT_SYMLINK_NOFOLLOW, stx);
}

static long k_mkdir(const char *path, int mode)
{
	return lkl_sys3(LKL___NR_mkdirat, LKL_AT_FDCWD, path, mode);
}

static long k_unlink(const char *path)
{
	return lkl_sys3(LKL___NR_unlinkat, LKL_AT_FDCWD, path, 0);
}

static long k_rmdir(const char *path)
{
	return lkl_sys3(LKL___NR_unlinkat, LKL_AT_FDCWD, path,
			LKL_AT_REMOVEDIR);
}

static long k_rename(const char *from, const char *to, unsigned int flags)
{
	return lkl_sys5(LKL___NR_renameat2, LKL_AT_FDCWD, from, LKL_AT_FDCWD,
			to, flags);
}

static long k_readlink(const char *path, char *buf, size_t len)
{
	return lkl_sys4(LKL___NR_readlinkat, LKL_AT_FDCWD, path, buf, len);
}

/* Write all of @buf (looping over short writes): @len or a negative errno. */
static long k_write_all(long fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n = lkl_sys3(LKL___NR_write, fd, (const char *)buf + done,
				  len - done);

		if (n < 0)
			return n;
		if (n == 0)
			return -LKL_EIO;
		done += n;
	}
	return done;
}

/* Read until @len bytes or end of file: the count or a negative errno. */
static long k_read_all(long fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n = lkl_sys3(LKL___NR_read, fd, (char *)buf + done,
				  len - done);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static long k_pread_all(long fd, void *buf, size_t len, long long off)
{
	size_t done = 0;

	while (done < len) {
		long n = lkl_sys4(LKL___NR_pread64, fd, (char *)buf + done,
				  len - done, off + done);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

/* Create (or truncate) @path holding exactly @len bytes of @data. */
static bool k_put_file(const char *path, const void *data, size_t len,
		       int mode)
{
	long fd = CHECK(k_open(path, LKL_O_CREAT | LKL_O_WRONLY | LKL_O_TRUNC,
			       mode));
	long r;

	if (fd < 0)
		return false;
	r = CHECK(k_write_all(fd, data, len));
	if (r >= 0 && (size_t)r != len)
		fail("%s: wrote %ld of %zu bytes", path, r, len);
	CHECK(k_close(fd));
	return r >= 0 && (size_t)r == len;
}

/* @path must hold exactly the NUL-terminated @want. */
static bool k_expect_text(const char *path, const char *want)
{
	size_t len = strlen(want);
	char buf[4096];
	long fd, r;

	fd = k_open(path, LKL_O_RDONLY, 0);
	if (fd < 0) {
		fail("open %s: %s", path, err_name(fd));
		return false;
	}
	r = CHECK(k_read_all(fd, buf, sizeof(buf)));
	CHECK(k_close(fd));
	if (r < 0)
		return false;
	if ((size_t)r != len || memcmp(buf, want, len)) {
		fail("%s: holds \"%.*s\" (%ld bytes), expected \"%s\"", path,
		     (int)(r > 200 ? 200 : r), buf, r, want);
		return false;
	}
	return true;
}

static bool k_expect_missing(const char *path)
{
	struct lkl_statx stx;
	long r = k_lstatx(path, &stx);

	if (r == -LKL_ENOENT)
		return true;
	fail("%s: statx: %s, expected it gone (ENOENT)", path,
	     r < 0 ? err_name(r) : "exists");
	return false;
}

/* A deterministic byte pattern that differs for every @seed and offset. */
static void fill_pattern(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7)) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		buf[i] = (unsigned char)(x >> ((i & 7) * 8));
	}
}

static size_t first_difference(const unsigned char *a, const unsigned char *b,
			       size_t len)
{
	size_t i;

	for (i = 0; i < len && a[i] == b[i]; i++)
		;
	return i;
}

/* --------------------------------------------------------- directories */

struct dent {
	char *name;
	unsigned char type;
	uint64_t ino;
};

struct dlist {
	struct dent *v;
	size_t n;
	size_t cap;
};

static void dlist_free(struct dlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool dlist_add(struct dlist *l, const char *name, unsigned char type,
		      uint64_t ino)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct dent *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return false;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].name = strdup(name);
	if (!l->v[l->n].name)
		return false;
	l->v[l->n].type = type;
	l->v[l->n].ino = ino;
	l->n++;
	return true;
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name,
		      ((const struct dent *)b)->name);
}

/*
 * List a kernel directory with getdents64 into @buf_len-byte buffers (small
 * ones make many calls), sorted by name.  With @dots, "." and ".." stay in.
 */
static long k_list(const char *path, struct dlist *out, size_t buf_len,
		   bool dots)
{
	char *buf = malloc(buf_len);
	long fd, n, err = 0;

	memset(out, 0, sizeof(*out));
	if (!buf)
		return -LKL_ENOMEM;
	fd = k_open(path, LKL_O_RDONLY | LKL_O_DIRECTORY, 0);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	while ((n = lkl_sys3(LKL___NR_getdents64, fd, buf, buf_len)) > 0) {
		long off = 0;

		while (off < n) {
			struct k_dirent64 *d = (struct k_dirent64 *)(buf + off);

			if (d->d_reclen == 0 || off + d->d_reclen > n) {
				err = -LKL_EUCLEAN;
				break;
			}
			off += d->d_reclen;
			if (!dots && (!strcmp(d->d_name, ".") ||
				      !strcmp(d->d_name, "..")))
				continue;
			if (!dlist_add(out, d->d_name, d->d_type, d->d_ino)) {
				err = -LKL_ENOMEM;
				break;
			}
		}
		if (err)
			break;
	}
	if (n < 0)
		err = n;
	n = k_close(fd);
	if (!err && n < 0)
		err = n;
	free(buf);
	if (err) {
		dlist_free(out);
		return err;
	}
	qsort(out->v, out->n, sizeof(*out->v), dent_cmp);
	return 0;
}

static bool h_list(const char *path, struct dlist *out)
{
	struct dirent *d;
	DIR *dir;

	memset(out, 0, sizeof(*out));
	dir = opendir(path);
	if (!dir) {
		fail("host: opendir %s: %s", path, strerror(errno));
		return false;
	}
	errno = 0;
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (!dlist_add(out, d->d_name, d->d_type, d->d_ino)) {
			fail("host: out of memory");
			closedir(dir);
			dlist_free(out);
			return false;
		}
		errno = 0;
	}
	if (errno) {
		fail("host: readdir %s: %s", path, strerror(errno));
		closedir(dir);
		dlist_free(out);
		return false;
	}
	closedir(dir);
	qsort(out->v, out->n, sizeof(*out->v), dent_cmp);
	return true;
}

/* ---------------------------------------------------------- filesystems */

struct fs_case {
	const char *name;		/* the kernel's name for it */
	const char *tree;		/* source tree in FIXTURES */
	unsigned long magic;		/* statfs f_type */
	bool posix;			/* modes, owners, links, xattrs */
	bool image_hardlinks;		/* the image keeps hard links */
	bool mtime;			/* the image keeps mtimes */
	bool dir_nlink_one;		/* directories report nlink 1 */
	bool lost_found;		/* root has lost+found of its own */
	long long time_gran;		/* timestamp granularity, ns */
	const char *fsck[4];		/* fsck command, image appended */
};

static const struct fs_case fs_cases[] = {
	{
		.name = "ext4", .tree = "tree", .magic = LKL_EXT4_SUPER_MAGIC,
		.posix = true, .image_hardlinks = true, .mtime = true,
		.lost_found = true, .time_gran = 1,
		.fsck = { "e2fsck", "-fn" },
	},
	{
		.name = "btrfs", .tree = "tree",
		.magic = LKL_BTRFS_SUPER_MAGIC,
		.posix = true, .image_hardlinks = true, .mtime = true,
		.dir_nlink_one = true, .time_gran = 1,
		.fsck = { "btrfs", "check" },
	},
	{
		.name = "xfs", .tree = "tree", .magic = LKL_XFS_SUPER_MAGIC,
		/* mkfs.xfs -p stamps every inode with the time it runs. */
		.posix = true, .time_gran = 1,
		.fsck = { "xfs_repair", "-n" },
	},
	{
		.name = "vfat", .tree = "tree-vfat",
		.magic = LKL_MSDOS_SUPER_MAGIC,
		.mtime = true, .time_gran = 2 * NSEC_PER_SEC,
		.fsck = { "fsck.vfat", "-n" },
	},
};

static const char *fixtures;

/* Host inode -> kernel inode, to check which names share an inode. */
struct ino_pair {
	uint64_t host;
	uint64_t kernel;
	char *rel;
};

struct walk {
	const struct fs_case *fs;
	size_t entries;
	unsigned long long bytes;
	struct ino_pair *inos;
	size_t ninos;
	size_t cap;
	unsigned char *hbuf;
	unsigned char *kbuf;
};

static void walk_inode(struct walk *w, const char *rel, uint64_t hino,
		       uint64_t kino)
{
	size_t i;

	for (i = 0; i < w->ninos; i++) {
		struct ino_pair *p = &w->inos[i];

		if (p->host == hino && w->fs->image_hardlinks &&
		    p->kernel != kino)
			fail("%s: a hard link of %s on the host, but inode %llu, not %llu",
			     rel, p->rel, (unsigned long long)kino,
			     (unsigned long long)p->kernel);
		if (p->host != hino && p->kernel == kino)
			fail("%s: shares inode %llu with %s, unlike on the host",
			     rel, (unsigned long long)kino, p->rel);
	}
	if (w->ninos == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct ino_pair *v = realloc(w->inos, cap * sizeof(*v));

		if (!v) {
			fail("out of memory");
			return;
		}
		w->inos = v;
		w->cap = cap;
	}
	w->inos[w->ninos].host = hino;
	w->inos[w->ninos].kernel = kino;
	w->inos[w->ninos].rel = strdup(rel);
	if (w->inos[w->ninos].rel)
		w->ninos++;
}

static void compare_contents(struct walk *w, const char *hpath,
			     const char *kpath, const char *rel)
{
	unsigned long long off = 0;
	long fd;
	int hfd;

	hfd = open(hpath, O_RDONLY | O_CLOEXEC);
	if (hfd < 0) {
		fail("host: open %s: %s", hpath, strerror(errno));
		return;
	}
	fd = k_open(kpath, LKL_O_RDONLY, 0);
	if (fd < 0) {
		fail("%s: open: %s", rel, err_name(fd));
		close(hfd);
		return;
	}
	for (;;) {
		ssize_t hn = host_read_all(hfd, w->hbuf, CHUNK);
		long kn = k_read_all(fd, w->kbuf, CHUNK);

		if (hn < 0) {
			fail("host: read %s: %s", hpath, strerror(errno));
			break;
		}
		if (kn < 0) {
			fail("%s: read at %llu: %s", rel, off, err_name(kn));
			break;
		}
		if (kn != hn) {
			fail("%s: read %ld bytes at %llu, the source has %zd",
			     rel, kn, off, hn);
			break;
		}
		if (memcmp(w->hbuf, w->kbuf, hn)) {
			fail("%s: contents differ from byte %llu on", rel,
			     off + first_difference(w->hbuf, w->kbuf, hn));
			break;
		}
		off += hn;
		w->bytes += hn;
		if (hn < CHUNK)
			break;
	}
	CHECK(k_close(fd));
	close(hfd);
}

static unsigned int mode_type(unsigned int mode)
{
	return mode & S_IFMT;
}

static unsigned char type_to_dt(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return K_DT_DIR;
	case S_IFREG:
		return K_DT_REG;
	case S_IFLNK:
		return K_DT_LNK;
	case S_IFIFO:
		return K_DT_FIFO;
	default:
		return K_DT_UNKNOWN;
	}
}

static void compare_dir(struct walk *w, const char *hdir, const char *kdir,
			const char *reldir);

/* One entry: @hpath on the host against @kpath in the kernel. */
static void compare_entry(struct walk *w, const char *hpath,
			  const char *kpath, const char *rel,
			  const struct dent *kd, unsigned int subdirs)
{
	const struct fs_case *fs = w->fs;
	struct lkl_statx stx;
	struct stat hst;
	long r;

	w->entries++;
	if (lstat(hpath, &hst)) {
		fail("host: lstat %s: %s", hpath, strerror(errno));
		return;
	}
	r = k_lstatx(kpath, &stx);
	if (r < 0) {
		fail("%s: statx: %s", rel, err_name(r));
		return;
	}
	if ((stx.stx_mask & (LKL_STATX_TYPE | LKL_STATX_MODE | LKL_STATX_NLINK |
			     LKL_STATX_SIZE)) !=
	    (LKL_STATX_TYPE | LKL_STATX_MODE | LKL_STATX_NLINK | LKL_STATX_SIZE))
		fail("%s: statx mask %#x lacks basic fields", rel,
		     stx.stx_mask);
	if (mode_type(stx.stx_mode) != mode_type(hst.st_mode)) {
		fail("%s: mode %#o, the source has %#o", rel, stx.stx_mode,
		     hst.st_mode);
		return;
	}
	if (kd->type != K_DT_UNKNOWN && kd->type != type_to_dt(stx.stx_mode))
		fail("%s: getdents64 type %u, statx type %#o", rel, kd->type,
		     mode_type(stx.stx_mode));
	/* FAT makes up d_ino for inodes not in memory. */
	if (fs->posix && kd->ino != stx.stx_ino)
		fail("%s: getdents64 inode %llu, statx inode %llu", rel,
		     (unsigned long long)kd->ino,
		     (unsigned long long)stx.stx_ino);
	if (fs->posix && (stx.stx_mode & 07777) != (hst.st_mode & 07777) &&
	    !S_ISLNK(hst.st_mode))
		fail("%s: permissions %04o, the source has %04o", rel,
		     stx.stx_mode & 07777, hst.st_mode & 07777);
	if (fs->posix && (stx.stx_uid != hst.st_uid ||
			  stx.stx_gid != hst.st_gid))
		fail("%s: owner %u:%u, the source has %u:%u", rel,
		     stx.stx_uid, stx.stx_gid, hst.st_uid, hst.st_gid);
	if (fs->mtime && !S_ISLNK(hst.st_mode)) {
		long long want = hst.st_mtim.tv_sec * NSEC_PER_SEC +
				 hst.st_mtim.tv_nsec;
		long long got = stx.stx_mtime.tv_sec * NSEC_PER_SEC +
				stx.stx_mtime.tv_nsec;

		if (got / fs->time_gran != want / fs->time_gran)
			fail("%s: mtime %lld.%09u, the source has %lld.%09ld",
			     rel, (long long)stx.stx_mtime.tv_sec,
			     stx.stx_mtime.tv_nsec, (long long)hst.st_mtim.tv_sec,
			     hst.st_mtim.tv_nsec);
	}

	if (S_ISDIR(hst.st_mode)) {
		unsigned int want = fs->dir_nlink_one ? 1 : 2 + subdirs;

		if (stx.stx_nlink != want)
			fail("%s: directory nlink %u, expected %u", rel,
			     stx.stx_nlink, want);
		compare_dir(w, hpath, kpath, rel);
		return;
	}
	if (fs->posix) {
		unsigned int want = fs->image_hardlinks ? hst.st_nlink : 1;

		if (stx.stx_nlink != want)
			fail("%s: nlink %u, expected %u", rel, stx.stx_nlink,
			     want);
	}
	if (S_ISREG(hst.st_mode))
		walk_inode(w, rel, hst.st_ino, stx.stx_ino);
	if (!S_ISDIR(hst.st_mode) && !S_ISFIFO(hst.st_mode) &&
	    stx.stx_size != (uint64_t)hst.st_size) {
		fail("%s: size %llu, the source has %lld", rel,
		     (unsigned long long)stx.stx_size, (long long)hst.st_size);
		return;
	}
	if (S_ISREG(hst.st_mode)) {
		compare_contents(w, hpath, kpath, rel);
	} else if (S_ISLNK(hst.st_mode)) {
		char want[PATH_MAX], got[PATH_MAX];
		ssize_t hn = readlink(hpath, want, sizeof(want));

		r = k_readlink(kpath, got, sizeof(got));
		if (hn < 0)
			fail("host: readlink %s: %s", hpath, strerror(errno));
		else if (r < 0)
			fail("%s: readlinkat: %s", rel, err_name(r));
		else if (r != hn || memcmp(want, got, hn))
			fail("%s: symlink to \"%.*s\", the source to \"%.*s\"",
			     rel, (int)r, got, (int)hn, want);
	}
}

static void compare_dir(struct walk *w, const char *hdir, const char *kdir,
			const char *reldir)
{
	struct dlist hl, kl;
	size_t i, j;
	long r;

	if (!h_list(hdir, &hl))
		return;
	/* A small buffer: large directories take many getdents64 calls. */
	r = k_list(kdir, &kl, 1024, false);
	if (r < 0) {
		fail("%s/: getdents64: %s", reldir, err_name(r));
		dlist_free(&hl);
		return;
	}

	for (i = 0, j = 0; i < hl.n || j < kl.n;) {
		int c = i == hl.n ? 1 : j == kl.n ? -1 :
			strcmp(hl.v[i].name, kl.v[j].name);
		char hpath[PATH_MAX], kpath[KPATH_MAX], rel[PATH_MAX];
		unsigned int subdirs = 0;
		struct dlist sub;
		size_t k;

		if (c > 0) {
			if (!(w->fs->lost_found && !*reldir &&
			      !strcmp(kl.v[j].name, "lost+found")))
				fail("%s/%s: in the image, not in the source",
				     reldir, kl.v[j].name);
			j++;
			continue;
		}
		if (c < 0) {
			fail("%s/%s: missing from the image", reldir,
			     hl.v[i].name);
			i++;
			continue;
		}
		if ((size_t)snprintf(hpath, sizeof(hpath), "%s/%s", hdir,
				     hl.v[i].name) >= sizeof(hpath) ||
		    (size_t)snprintf(kpath, sizeof(kpath), "%s/%s", kdir,
				     kl.v[j].name) >= sizeof(kpath) ||
		    (size_t)snprintf(rel, sizeof(rel), "%s/%s", reldir,
				     hl.v[i].name) >= sizeof(rel)) {
			fail("%s/%s: path too long", reldir, hl.v[i].name);
			i++;
			j++;
			continue;
		}
		/* Subdirectories, for the directory's expected nlink. */
		if (hl.v[i].type == DT_DIR && h_list(hpath, &sub)) {
			for (k = 0; k < sub.n; k++) {
				char p[PATH_MAX];
				struct stat st;

				if ((size_t)snprintf(p, sizeof(p), "%s/%s",
						     hpath, sub.v[k].name) <
				    sizeof(p) && !lstat(p, &st) &&
				    S_ISDIR(st.st_mode))
					subdirs++;
			}
			dlist_free(&sub);
		}
		compare_entry(w, hpath, kpath, rel, &kl.v[j], subdirs);
		i++;
		j++;
	}
	dlist_free(&hl);
	dlist_free(&kl);
}

/* The whole tree under @kroot against the source tree @hroot. */
static void compare_tree(struct walk *w, const char *hroot, const char *kroot)
{
	struct lkl_statx stx;
	struct stat hst;
	long r;

	if (lstat(hroot, &hst)) {
		fail("host: lstat %s: %s", hroot, strerror(errno));
		return;
	}
	r = k_lstatx(kroot, &stx);
	if (r < 0) {
		fail("%s: statx: %s", kroot, err_name(r));
		return;
	}
	if (!S_ISDIR(stx.stx_mode))
		fail("%s: root is not a directory: %#o", kroot, stx.stx_mode);
	if (w->fs->posix && (stx.stx_mode & 07777) != (hst.st_mode & 07777))
		fail("/: permissions %04o, the source has %04o",
		     stx.stx_mode & 07777, hst.st_mode & 07777);
	compare_dir(w, hroot, kroot, "");
}

static bool fixture_path(char *buf, size_t len, const char *fmt, ...)
	__printf(3, 4);

static bool fixture_path(char *buf, size_t len, const char *fmt, ...)
{
	char name[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(name))
		return false;
	n = snprintf(buf, len, "%s/%s", fixtures, name);
	return n >= 0 && (size_t)n < len;
}

static bool kpath(char *buf, const char *mnt, const char *rel)
{
	int n = snprintf(buf, KPATH_MAX, "%s/%s", mnt, rel);

	if (n < 0 || n >= KPATH_MAX) {
		fail("%s/%s: path too long", mnt, rel);
		return false;
	}
	return true;
}

/* Add @img as a disk and mount it (fstype probed); false after fail(). */
static bool add_and_mount(const struct fs_case *fs, const char *img,
			  bool read_only, struct lkl_host_disk **disk,
			  char *mnt, size_t mnt_len)
{
	char used[32];
	struct lkl_statfs sfs;
	long r;

	r = lkl_host_disk_add(img, read_only, disk);
	if (r) {
		fail("lkl_host_disk_add(%s, %d): %s", img, read_only,
		     err_name(r));
		return false;
	}
	/*
	 * Read-write mounts do not update access times, so that reading the
	 * changes back leaves the times utimensat set.
	 */
	r = lkl_host_mount(*disk, 0, NULL,
			   read_only ? LKL_MS_RDONLY : LKL_MS_NOATIME, NULL,
			   mnt, mnt_len, used, sizeof(used));
	if (r) {
		fail("lkl_host_mount(%s): %s", lkl_host_disk_name(*disk),
		     err_name(r));
		r = lkl_host_disk_remove(*disk);
		if (r)
			fail("lkl_host_disk_remove: %s", err_name(r));
		*disk = NULL;
		return false;
	}
	if (strcmp(used, fs->name))
		fail("%s: probed as %s, expected %s", img, used, fs->name);
	r = lkl_sys2(LKL___NR_statfs, mnt, &sfs);
	if (r < 0)
		fail("statfs %s: %s", mnt, err_name(r));
	else if ((unsigned long)sfs.f_type != fs->magic)
		fail("statfs %s: f_type %#lx, expected %#lx", mnt,
		     (unsigned long)sfs.f_type, fs->magic);
	else if (!!(sfs.f_flags & 1 /* ST_RDONLY */) != read_only)
		fail("statfs %s: f_flags %#lx, expected read-%s", mnt,
		     (unsigned long)sfs.f_flags, read_only ? "only" : "write");
	return true;
}

static bool umount_and_remove(const char *mnt, struct lkl_host_disk *disk)
{
	long r = lkl_host_umount(mnt);

	if (r) {
		fail("umount %s: %s", mnt, err_name(r));
		return false;
	}
	r = lkl_host_disk_remove(disk);
	if (r) {
		fail("lkl_host_disk_remove: %s", err_name(r));
		return false;
	}
	return true;
}

static void run_fsck(const struct fs_case *fs, const char *img)
{
	char *argv[6] = { NULL };
	char out[65536];
	int i, st;

	for (i = 0; fs->fsck[i]; i++)
		argv[i] = (char *)fs->fsck[i];
	argv[i] = (char *)img;
	st = run_cmd(argv, out, sizeof(out));
	if (st != 0) {
		fail("%s %s exited with %d", fs->fsck[0], img, st);
		fail_tail(fs->fsck[0], out, 15);
	}
}

/* ---------------------------------------------- the read-write changes */

#define DATA_LEN	(3 * MIB + 12345)
#define PATCH_OFF	(MIB + 3)
#define PATCH		"PATCHED IN THE MIDDLE"
#define ATIME_SEC	1600000000LL
#define ATIME_NSEC	123456789
#define MTIME_SEC	1650000000LL
#define MTIME_NSEC	987654321
#define DIR_MTIME_SEC	1234567890LL
#define DIR_MTIME_NSEC	5
#define NEW_UID		1234
#define NEW_GID		5678
#define XATTR_NAME	"user.lkl.test"
#define XATTR_VALUE	"value with \0 a NUL"
#define XATTR_LEN	(sizeof(XATTR_VALUE) - 1)

static unsigned char *expected_data;

/* The name of the tree file moved to new/ and the file overwritten. */
static const char *leaf_rel = "dir/sub/deeper/deepest/leaf.txt";

static void rw_create(const char *mnt)
{
	char p[KPATH_MAX];
	size_t off = 0, step = 65536 + 7;
	long fd, r;

	if (!kpath(p, mnt, "new") || CHECK(k_mkdir(p, 0755)) < 0)
		return;
	if (kpath(p, mnt, "new/sub"))
		CHECK(k_mkdir(p, 0700));
	if (kpath(p, mnt, "new"))
		EXPECT_ERR(k_mkdir(p, 0755), LKL_EEXIST);

	fill_pattern(expected_data, DATA_LEN, 42);
	if (!kpath(p, mnt, "new/data.bin"))
		return;
	fd = CHECK(k_open(p, LKL_O_CREAT | LKL_O_EXCL | LKL_O_WRONLY, 0644));
	if (fd < 0)
		return;
	/* Odd-sized writes, so they straddle blocks and pages. */
	while (off < DATA_LEN) {
		size_t n = DATA_LEN - off < step ? DATA_LEN - off : step;

		r = CHECK(k_write_all(fd, expected_data + off, n));
		if (r < 0)
			break;
		off += n;
	}
	CHECK(lkl_sys1(LKL___NR_fsync, fd));
	memcpy(expected_data + PATCH_OFF, PATCH, strlen(PATCH));
	r = CHECK(lkl_sys4(LKL___NR_pwrite64, fd, PATCH, strlen(PATCH),
			   PATCH_OFF));
	if (r >= 0 && (size_t)r != strlen(PATCH))
		fail("pwrite64: %ld of %zu bytes", r, strlen(PATCH));
	CHECK(lkl_sys1(LKL___NR_fsync, fd));
	CHECK(k_close(fd));
	if (kpath(p, mnt, "new/data.bin"))
		EXPECT_ERR(k_open(p, LKL_O_CREAT | LKL_O_EXCL | LKL_O_WRONLY,
				  0644), LKL_EEXIST);

	if (kpath(p, mnt, "new/small.txt"))
		k_put_file(p, "small file\n", 11, 0644);
	/* Overwrite a file of the tree, and append to another. */
	if (kpath(p, mnt, "odd-size.bin"))
		k_put_file(p, "rewritten\n", 10, 0644);
	if (kpath(p, mnt, "dir/a.txt")) {
		fd = CHECK(k_open(p, LKL_O_WRONLY | LKL_O_APPEND, 0));
		if (fd >= 0) {
			r = CHECK(k_write_all(fd, "appended\n", 9));
			CHECK(lkl_sys1(LKL___NR_fdatasync, fd));
			CHECK(k_close(fd));
		}
	}
}

static void rw_namespace(const char *mnt)
{
	char p[KPATH_MAX], q[KPATH_MAX];
	int i;

	if (kpath(p, mnt, "new/small.txt") && kpath(q, mnt, "new/renamed.txt"))
		CHECK(k_rename(p, q, 0));
	if (kpath(p, mnt, "new/renamed.txt") && kpath(q, mnt, "new/data.bin"))
		EXPECT_ERR(k_rename(p, q, LKL_RENAME_NOREPLACE), LKL_EEXIST);
	/* Across directories. */
	if (kpath(p, mnt, leaf_rel) && kpath(q, mnt, "new/leaf.txt"))
		CHECK(k_rename(p, q, 0));
	if (kpath(p, mnt, "dir/sub/deeper/deepest"))
		CHECK(k_rmdir(p));
	if (kpath(p, mnt, "dir/empty-dir"))
		CHECK(k_rmdir(p));
	if (kpath(p, mnt, "dir"))
		EXPECT_ERR(k_rmdir(p), LKL_ENOTEMPTY);
	if (kpath(p, mnt, "hello.txt"))
		CHECK(k_unlink(p));
	for (i = 100; i < 200; i++) {
		char rel[32];

		snprintf(rel, sizeof(rel), "many/f%03d", i);
		if (kpath(p, mnt, rel))
			CHECK(k_unlink(p));
	}
	if (kpath(p, mnt, "new/tmpdir")) {
		CHECK(k_mkdir(p, 0755));
		CHECK(k_rmdir(p));
	}
}

static void rw_attributes(const struct fs_case *fs, const char *mnt)
{
	struct lkl___kernel_timespec ts[2] = {
		{ .tv_sec = ATIME_SEC, .tv_nsec = ATIME_NSEC },
		{ .tv_sec = MTIME_SEC, .tv_nsec = MTIME_NSEC },
	};
	char p[KPATH_MAX], q[KPATH_MAX], val[64];
	long r, fd;

	if (!kpath(p, mnt, "new/renamed.txt"))
		return;
	CHECK(lkl_sys4(LKL___NR_utimensat, LKL_AT_FDCWD, p, ts, 0));
	if (!fs->posix)
		return;

	CHECK(lkl_sys3(LKL___NR_fchmodat, LKL_AT_FDCWD, p, 0600));
	CHECK(lkl_sys5(LKL___NR_fchownat, LKL_AT_FDCWD, p, NEW_UID, NEW_GID,
		       0));
	r = CHECK(lkl_sys5(LKL___NR_setxattr, p, XATTR_NAME, XATTR_VALUE,
			   XATTR_LEN, LKL_XATTR_CREATE));
	if (r >= 0)
		EXPECT_ERR(lkl_sys5(LKL___NR_setxattr, p, XATTR_NAME, "x", 1,
				    LKL_XATTR_CREATE), LKL_EEXIST);
	r = CHECK(lkl_sys4(LKL___NR_getxattr, p, XATTR_NAME, val,
			   sizeof(val)));
	if (r >= 0 && (r != (long)XATTR_LEN || memcmp(val, XATTR_VALUE,
						      XATTR_LEN)))
		fail("getxattr %s: %ld bytes back, not the %zu set", XATTR_NAME,
		     r, XATTR_LEN);

	if (kpath(q, mnt, "new/link.txt"))
		CHECK(lkl_sys5(LKL___NR_linkat, LKL_AT_FDCWD, p, LKL_AT_FDCWD,
			       q, 0));
	if (kpath(q, mnt, "new/sym"))
		CHECK(lkl_sys3(LKL___NR_symlinkat, "renamed.txt",
			       LKL_AT_FDCWD, q));
	if (kpath(q, mnt, "new/sub")) {
		ts[0].tv_sec = DIR_MTIME_SEC;
		ts[0].tv_nsec = DIR_MTIME_NSEC;
		ts[1] = ts[0];
		CHECK(lkl_sys3(LKL___NR_fchmodat, LKL_AT_FDCWD, q, 0751));
		CHECK(lkl_sys4(LKL___NR_utimensat, LKL_AT_FDCWD, q, ts, 0));
	}
	if (kpath(q, mnt, "new")) {
		fd = CHECK(k_open(q, LKL_O_RDONLY | LKL_O_DIRECTORY, 0));
		if (fd >= 0) {
			CHECK(lkl_sys1(LKL___NR_fsync, fd));
			CHECK(k_close(fd));
		}
	}
}

static void expect_time(const char *what, const struct lkl_statx_timestamp *t,
			long long sec, long nsec, long long gran)
{
	long long got = t->tv_sec * NSEC_PER_SEC + t->tv_nsec;
	long long want = sec * NSEC_PER_SEC + nsec;

	if (got / gran != want / gran && got != want)
		fail("%s: %lld.%09u, expected %lld.%09ld", what,
		     (long long)t->tv_sec, t->tv_nsec, sec, nsec);
}

static void compare_file(const char *kp, const unsigned char *want,
			 size_t len, unsigned char *buf)
{
	size_t off = 0;
	long fd, r;

	fd = k_open(kp, LKL_O_RDONLY, 0);
	if (fd < 0) {
		fail("open %s: %s", kp, err_name(fd));
		return;
	}
	for (;;) {
		r = k_read_all(fd, buf, CHUNK);
		if (r < 0) {
			fail("read %s at %zu: %s", kp, off, err_name(r));
			break;
		}
		if (off + r > len) {
			fail("%s: longer than %zu bytes", kp, len);
			break;
		}
		if (memcmp(buf, want + off, r)) {
			fail("%s: differs from byte %zu on", kp,
			     off + first_difference(buf, want + off, r));
			break;
		}
		off += r;
		if (r < CHUNK) {
			if (off != len)
				fail("%s: %zu bytes, expected %zu", kp, off,
				     len);
			break;
		}
	}
	CHECK(k_close(fd));
}

/* Everything rw_*() did, read back; after a remount too. */
static void rw_verify(const struct fs_case *fs, const char *mnt,
		      unsigned char *buf, unsigned char *hbuf)
{
	char p[KPATH_MAX], hp[PATH_MAX], val[64];
	struct lkl_statx stx;
	struct dlist l;
	long r;
	int i;

	if (kpath(p, mnt, "new/data.bin") && CHECK(k_statx(p, 0, &stx)) >= 0) {
		if (stx.stx_size != DATA_LEN)
			fail("new/data.bin: size %llu, expected %d",
			     (unsigned long long)stx.stx_size, DATA_LEN);
		compare_file(p, expected_data, DATA_LEN, buf);
	}
	if (kpath(p, mnt, "new/renamed.txt"))
		k_expect_text(p, "small file\n");
	if (kpath(p, mnt, "new/small.txt"))
		k_expect_missing(p);
	if (kpath(p, mnt, "new/leaf.txt"))
		k_expect_text(p, "the leaf\n");
	if (kpath(p, mnt, "dir/sub/deeper/deepest"))
		k_expect_missing(p);
	if (kpath(p, mnt, "dir/sub/deeper") &&
	    CHECK(k_statx(p, 0, &stx)) >= 0 && !fs->dir_nlink_one &&
	    stx.stx_nlink != 2)
		fail("dir/sub/deeper: nlink %u after rmdir of its subdirectory, expected 2",
		     stx.stx_nlink);
	if (kpath(p, mnt, "dir/empty-dir"))
		k_expect_missing(p);
	if (kpath(p, mnt, "new/tmpdir"))
		k_expect_missing(p);
	if (kpath(p, mnt, "hello.txt"))
		k_expect_missing(p);
	if (kpath(p, mnt, "odd-size.bin"))
		k_expect_text(p, "rewritten\n");
	if (kpath(p, mnt, "dir/a.txt"))
		k_expect_text(p, "a is for apple\nappended\n");
	if (fs->image_hardlinks && kpath(p, mnt, "hardlink.txt"))
		k_expect_text(p, "a is for apple\nappended\n");

	if (kpath(p, mnt, "many")) {
		r = k_list(p, &l, 32768, false);
		if (r < 0) {
			fail("getdents64 %s: %s", p, err_name(r));
		} else {
			for (i = 0; i < 300; i++) {
				char name[16];
				bool gone = i >= 100 && i < 200;
				struct dent key = { .name = name };

				snprintf(name, sizeof(name), "f%03d", i);
				if (!bsearch(&key, l.v, l.n, sizeof(*l.v),
					     dent_cmp) != gone)
					fail("many/%s: %s", name, gone ?
					     "still listed after unlink" :
					     "no longer listed");
			}
			if (l.n != 200)
				fail("many/: %zu entries, expected 200", l.n);
			dlist_free(&l);
		}
	}
	if (kpath(p, mnt, "new")) {
		static const char *const posix_names[] = {
			"data.bin", "leaf.txt", "link.txt", "renamed.txt",
			"sub", "sym",
		};
		static const char *const fat_names[] = {
			"data.bin", "leaf.txt", "renamed.txt", "sub",
		};
		const char *const *names = fs->posix ? posix_names : fat_names;
		size_t n = fs->posix ? 6 : 4;
		size_t k;

		r = k_list(p, &l, 4096, false);
		if (r < 0) {
			fail("getdents64 %s: %s", p, err_name(r));
		} else {
			bool same = l.n == n;

			for (k = 0; same && k < n; k++)
				same = !strcmp(l.v[k].name, names[k]);
			if (!same) {
				char got[512] = "";

				for (k = 0; k < l.n; k++) {
					strncat(got, " ", sizeof(got) - strlen(got) - 1);
					strncat(got, l.v[k].name,
						sizeof(got) - strlen(got) - 1);
				}
				fail("new/ lists:%s", got);
			}
			dlist_free(&l);
		}
	}

	/* Times, and the rest of what rw_attributes() set. */
	if (kpath(p, mnt, "new/renamed.txt") &&
	    CHECK(k_statx(p, 0, &stx)) >= 0) {
		expect_time("new/renamed.txt mtime", &stx.stx_mtime,
			    MTIME_SEC, MTIME_NSEC, fs->time_gran);
		/* FAT keeps the access date only. */
		if (fs->posix)
			expect_time("new/renamed.txt atime", &stx.stx_atime,
				    ATIME_SEC, ATIME_NSEC, fs->time_gran);
		if (fs->posix) {
			if ((stx.stx_mode & 07777) != 0600)
				fail("new/renamed.txt: mode %04o, expected 0600",
				     stx.stx_mode & 07777);
			if (stx.stx_uid != NEW_UID || stx.stx_gid != NEW_GID)
				fail("new/renamed.txt: owner %u:%u, expected %u:%u",
				     stx.stx_uid, stx.stx_gid, NEW_UID,
				     NEW_GID);
			if (stx.stx_nlink != 2)
				fail("new/renamed.txt: nlink %u, expected 2",
				     stx.stx_nlink);
		}
	}
	if (fs->posix) {
		struct lkl_statx stx2;

		if (kpath(p, mnt, "new/renamed.txt")) {
			r = CHECK(lkl_sys4(LKL___NR_getxattr, p, XATTR_NAME,
					   val, sizeof(val)));
			if (r >= 0 && (r != (long)XATTR_LEN ||
				       memcmp(val, XATTR_VALUE, XATTR_LEN)))
				fail("getxattr %s: %ld bytes, not what was set",
				     XATTR_NAME, r);
		}
		if (kpath(p, mnt, "new/link.txt") &&
		    CHECK(k_statx(p, 0, &stx2)) >= 0 &&
		    kpath(p, mnt, "new/renamed.txt") &&
		    CHECK(k_statx(p, 0, &stx)) >= 0 &&
		    stx.stx_ino != stx2.stx_ino)
			fail("new/link.txt: inode %llu, new/renamed.txt %llu",
			     (unsigned long long)stx2.stx_ino,
			     (unsigned long long)stx.stx_ino);
		if (kpath(p, mnt, "new/sym")) {
			r = CHECK(k_readlink(p, val, sizeof(val)));
			if (r >= 0 && (r != 11 || memcmp(val, "renamed.txt", 11)))
				fail("new/sym: points to \"%.*s\"", (int)r, val);
			k_expect_text(p, "small file\n");
		}
		if (kpath(p, mnt, "new/sub") &&
		    CHECK(k_statx(p, 0, &stx)) >= 0) {
			if (stx.stx_mode != (S_IFDIR | 0751))
				fail("new/sub: mode %#o, expected %#o",
				     stx.stx_mode, S_IFDIR | 0751);
			expect_time("new/sub mtime", &stx.stx_mtime,
				    DIR_MTIME_SEC, DIR_MTIME_NSEC, 1);
			expect_time("new/sub atime", &stx.stx_atime,
				    DIR_MTIME_SEC, DIR_MTIME_NSEC, 1);
		}
	}

	/* An untouched file of the tree is still what the source holds. */
	if (kpath(p, mnt, "big.bin") &&
	    fixture_path(hp, sizeof(hp), "%s/big.bin", fs->tree)) {
		int hfd = open(hp, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (hfd < 0) {
			fail("host: open %s: %s", hp, strerror(errno));
			return;
		}
		n = host_read_all(hfd, hbuf, 5 * MIB);
		close(hfd);
		if (n != 5 * MIB)
			fail("host: %s: read %zd bytes", hp, n);
		else
			compare_file(p, hbuf, n, buf);
	}
}

/* ---------------------------------------------------------- the tests */

static void test_uname(void)
{
	struct lkl_new_utsname u;
	long r;

	memset(&u, 0, sizeof(u));
	r = CHECK(lkl_sys1(LKL___NR_uname, &u));
	if (r >= 0 && strncmp(u.release, "6.12", 4))
		fail("release is \"%s\"", u.release);
	if (r >= 0 && strcmp(u.sysname, "Linux"))
		fail("sysname is \"%s\"", u.sysname);
	report("uname: %s %s", u.sysname, u.release);
}

/*
 * Host O_* flags, through lkl_host_open_flags(), must mean to the kernel
 * what they mean to the host: on arm64 four of them have other numbers.
 */
static void test_open_flags(void)
{
	static const struct {
		int host;
		int lkl;
	} pairs[] = {
		{ O_RDONLY, LKL_O_RDONLY },
		{ O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_APPEND,
		  LKL_O_WRONLY | LKL_O_CREAT | LKL_O_EXCL | LKL_O_TRUNC |
		  LKL_O_APPEND },
		{ O_RDWR | O_SYNC, LKL_O_RDWR | LKL_O_SYNC },
		{ O_RDWR | O_DSYNC, LKL_O_RDWR | LKL_O_DSYNC },
		{ O_RDWR | O_TMPFILE, LKL_O_RDWR | LKL_O_TMPFILE },
		{ O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		  LKL_O_RDONLY | LKL_O_DIRECTORY | LKL_O_NOFOLLOW |
		  LKL_O_CLOEXEC },
		{ O_RDONLY | O_DIRECT | O_NOATIME | O_NONBLOCK | O_NOCTTY,
		  LKL_O_RDONLY | LKL_O_DIRECT | LKL_O_NOATIME |
		  LKL_O_NONBLOCK | LKL_O_NOCTTY },
		{ O_PATH | O_NOFOLLOW, LKL_O_PATH | LKL_O_NOFOLLOW },
	};
	size_t i;
	long fd;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		int got = lkl_host_open_flags(pairs[i].host);

		if (got != pairs[i].lkl)
			fail("host flags %#o: %#o, expected %#o", pairs[i].host,
			     got, pairs[i].lkl);
	}

	CHECK(lkl_sys3(LKL___NR_symlinkat, "c", LKL_AT_FDCWD,
		       "/ramtest/link"));
	fd = CHECK(k_open("/ramtest/sub", lkl_host_open_flags(O_RDONLY |
			  O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), 0));
	if (fd >= 0)
		CHECK(k_close(fd));
	EXPECT_ERR(k_open("/ramtest/c", lkl_host_open_flags(O_RDONLY |
			  O_DIRECTORY), 0), LKL_ENOTDIR);
	EXPECT_ERR(k_open("/ramtest/link", lkl_host_open_flags(O_RDONLY |
			  O_NOFOLLOW), 0), LKL_ELOOP);
	fd = CHECK(k_open("/ramtest/link", lkl_host_open_flags(O_RDONLY), 0));
	if (fd >= 0)
		CHECK(k_close(fd));
	CHECK(k_unlink("/ramtest/link"));
	report("ramfs: host O_* flags mean the same to the kernel");
}

static void test_ramfs(void)
{
	unsigned char data[10000], back[10000];
	struct lkl_statx stx, stx2;
	struct lkl_statfs sfs;
	struct dlist l;
	char p[64];
	long fd, r;
	int i;

	CHECK(lkl_sys2(LKL___NR_statfs, "/", &sfs));
	if ((unsigned long)sfs.f_type != LKL_RAMFS_MAGIC)
		fail("/: f_type %#lx, expected ramfs", (unsigned long)sfs.f_type);
	CHECK(k_mkdir("/ramtest", 0755));
	EXPECT_ERR(k_mkdir("/ramtest", 0755), LKL_EEXIST);
	if (CHECK(k_statx("/ramtest", 0, &stx)) >= 0 &&
	    (stx.stx_mode != (S_IFDIR | 0755) || stx.stx_nlink != 2))
		fail("/ramtest: mode %#o nlink %u", stx.stx_mode,
		     stx.stx_nlink);
	CHECK(k_mkdir("/ramtest/sub", 0700));
	report("ramfs: mkdir");

	fill_pattern(data, sizeof(data), 1);
	fd = CHECK(k_open("/ramtest/a", LKL_O_CREAT | LKL_O_EXCL | LKL_O_RDWR,
			  0640));
	if (fd >= 0) {
		r = CHECK(k_write_all(fd, data, sizeof(data)));
		CHECK(lkl_sys3(LKL___NR_lseek, fd, 0, LKL_SEEK_SET));
		r = CHECK(k_read_all(fd, back, sizeof(back)));
		if (r >= 0 && (r != sizeof(back) || memcmp(data, back, r)))
			fail("read back %ld bytes, different", r);
		CHECK(k_close(fd));
		EXPECT_ERR(k_close(fd), LKL_EBADF);
	}
	fd = CHECK(k_open("/ramtest/a", LKL_O_RDONLY, 0));
	if (fd >= 0) {
		memset(back, 0, sizeof(back));
		r = CHECK(k_read_all(fd, back, sizeof(back)));
		if (r >= 0 && (r != sizeof(back) || memcmp(data, back, r)))
			fail("read after reopen: %ld bytes, different", r);
		r = CHECK(k_read_all(fd, back, 1));
		if (r != 0)
			fail("read at end of file: %ld, expected 0", r);
		EXPECT_ERR(lkl_sys3(LKL___NR_write, fd, data, 1), LKL_EBADF);
		CHECK(k_close(fd));
	}
	report("ramfs: openat, write, read, close");

	if (CHECK(k_statx("/ramtest/a", LKL_AT_SYMLINK_NOFOLLOW, &stx)) >= 0) {
		if (stx.stx_mode != (S_IFREG | 0640))
			fail("mode %#o, expected %#o", stx.stx_mode,
			     S_IFREG | 0640);
		if (stx.stx_size != sizeof(data))
			fail("size %llu", (unsigned long long)stx.stx_size);
		if (stx.stx_nlink != 1 || stx.stx_uid || stx.stx_gid)
			fail("nlink %u uid %u gid %u", stx.stx_nlink,
			     stx.stx_uid, stx.stx_gid);
		if (!(stx.stx_mask & LKL_STATX_INO) || !stx.stx_ino)
			fail("no inode number: mask %#x", stx.stx_mask);
		if (stx.stx_mtime.tv_sec < 1600000000)
			fail("mtime %lld: the clock is not the host's",
			     (long long)stx.stx_mtime.tv_sec);
	}
	EXPECT_ERR(k_statx("/ramtest/none", 0, &stx), LKL_ENOENT);
	report("ramfs: statx");

	if (k_put_file("/ramtest/b", "bee\n", 4, 0644) &&
	    CHECK(k_statx("/ramtest/a", 0, &stx)) >= 0) {
		CHECK(k_rename("/ramtest/a", "/ramtest/c", 0));
		k_expect_missing("/ramtest/a");
		if (CHECK(k_statx("/ramtest/c", 0, &stx2)) >= 0 &&
		    stx2.stx_ino != stx.stx_ino)
			fail("renamed file has another inode");
		EXPECT_ERR(k_rename("/ramtest/c", "/ramtest/b",
				    LKL_RENAME_NOREPLACE), LKL_EEXIST);
		CHECK(k_rename("/ramtest/c", "/ramtest/b",
			       LKL_RENAME_EXCHANGE));
		k_expect_text("/ramtest/c", "bee\n");
		CHECK(k_rename("/ramtest/b", "/ramtest/sub/moved", 0));
		if (CHECK(k_statx("/ramtest/sub/moved", 0, &stx2)) >= 0 &&
		    (stx2.stx_ino != stx.stx_ino ||
		     stx2.stx_size != sizeof(data)))
			fail("moved file: inode %llu size %llu",
			     (unsigned long long)stx2.stx_ino,
			     (unsigned long long)stx2.stx_size);
	}
	report("ramfs: renameat2 (plain, NOREPLACE, EXCHANGE, across directories)");

	for (i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "/ramtest/file-%02d", i);
		k_put_file(p, p, strlen(p), 0600);
	}
	/* 200 bytes a call: many calls, each returning a few entries. */
	r = k_list("/ramtest", &l, 200, true);
	if (r < 0) {
		fail("getdents64: %s", err_name(r));
	} else {
		/* Sorted: ".", "..", c, file-00 .. file-49, sub */
		if (l.n != 54)
			fail("%zu entries, expected 54", l.n);
		for (i = 0; i < (int)l.n && l.n == 54; i++) {
			const char *want;
			char name[16];
			unsigned char type = K_DT_REG;

			if (i == 0) {
				want = ".";
				type = K_DT_DIR;
			} else if (i == 1) {
				want = "..";
				type = K_DT_DIR;
			} else if (i == 2) {
				want = "c";
			} else if (i == 53) {
				want = "sub";
				type = K_DT_DIR;
			} else {
				snprintf(name, sizeof(name), "file-%02d", i - 3);
				want = name;
			}
			if (strcmp(l.v[i].name, want) || l.v[i].type != type)
				fail("entry %d: \"%s\" type %u, expected \"%s\" type %u",
				     i, l.v[i].name, l.v[i].type, want, type);
		}
		dlist_free(&l);
	}
	EXPECT_ERR(lkl_sys3(LKL___NR_getdents64, 9999, p, sizeof(p)),
		   LKL_EBADF);
	report("ramfs: getdents64");

	test_open_flags();

	EXPECT_ERR(k_rmdir("/ramtest/sub"), LKL_ENOTEMPTY);
	EXPECT_ERR(k_unlink("/ramtest/sub"), LKL_EISDIR);
	CHECK(k_unlink("/ramtest/sub/moved"));
	CHECK(k_rmdir("/ramtest/sub"));
	CHECK(k_unlink("/ramtest/c"));
	for (i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "/ramtest/file-%02d", i);
		CHECK(k_unlink(p));
	}
	EXPECT_ERR(k_unlink("/ramtest/c"), LKL_ENOENT);
	r = k_list("/ramtest", &l, 4096, false);
	if (r < 0)
		fail("getdents64: %s", err_name(r));
	else if (l.n)
		fail("/ramtest: %zu entries left, first \"%s\"", l.n,
		     l.v[0].name);
	if (r >= 0)
		dlist_free(&l);
	CHECK(k_rmdir("/ramtest"));
	k_expect_missing("/ramtest");
	report("ramfs: unlinkat (files and directories)");
}

static void test_fs(const struct fs_case *fs, unsigned char *buf,
		    unsigned char *hbuf, struct walk *w)
{
	char img[PATH_MAX], copy[PATH_MAX], tree[PATH_MAX], shafile[PATH_MAX];
	char mnt[64], p[KPATH_MAX], want[80], got[65];
	struct lkl_host_disk *disk;
	bool mounted;
	size_t i;

	if (!fixture_path(img, sizeof(img), "%s.img", fs->name) ||
	    !fixture_path(copy, sizeof(copy), "%s-rw.img", fs->name) ||
	    !fixture_path(tree, sizeof(tree), "%s", fs->tree) ||
	    !fixture_path(shafile, sizeof(shafile), "%s.img.sha256",
			  fs->name)) {
		fail("fixture paths too long");
		report("%s: fixtures", fs->name);
		return;
	}

	/* The pristine image, read-only. */
	if (!read_host_text(shafile, want, sizeof(want)))
		want[0] = '\0';
	else if (sha256_file(img, got) && strncmp(want, got, 64))
		fail("%s: sha256 %s, but make-images.sh recorded %.64s", img,
		     got, want);
	mounted = add_and_mount(fs, img, true, &disk, mnt, sizeof(mnt));
	report("%s: pristine image mounts read-only, probed as %s", fs->name,
	       fs->name);
	if (!mounted)
		return;

	w->fs = fs;
	w->entries = 0;
	w->bytes = 0;
	for (i = 0; i < w->ninos; i++)
		free(w->inos[i].rel);
	w->ninos = 0;
	compare_tree(w, tree, mnt);
	report("%s: tree matches the source (%zu entries, %llu bytes compared)",
	       fs->name, w->entries, w->bytes);

	if (kpath(p, mnt, "should-not-exist"))
		EXPECT_ERR(k_open(p, LKL_O_CREAT | LKL_O_WRONLY, 0644),
			   LKL_EROFS);
	if (kpath(p, mnt, "new-dir"))
		EXPECT_ERR(k_mkdir(p, 0755), LKL_EROFS);
	if (kpath(p, mnt, "empty"))
		EXPECT_ERR(k_open(p, LKL_O_WRONLY, 0), LKL_EROFS);
	report("%s: writes to the read-only mount fail with EROFS", fs->name);

	umount_and_remove(mnt, disk);
	if (want[0] && sha256_file(img, got) && strncmp(want, got, 64))
		fail("%s: sha256 now %s, was %.64s", img, got, want);
	report("%s: umount, disk removed, pristine image unchanged (sha256)",
	       fs->name);

	/* A copy, read-write. */
	{
		char *argv[] = { "cp", "--sparse=always", img, copy, NULL };
		char out[4096];
		int st = run_cmd(argv, out, sizeof(out));

		if (st) {
			fail("cp %s %s: status %d: %s", img, copy, st, out);
			report("%s: copy the image", fs->name);
			return;
		}
	}
	mounted = add_and_mount(fs, copy, false, &disk, mnt, sizeof(mnt));
	report("%s: copy mounts read-write", fs->name);
	if (!mounted)
		return;
	rw_create(mnt);
	report("%s: mkdir, create, write, pwrite, append, truncate, fsync",
	       fs->name);
	rw_namespace(mnt);
	report("%s: rename, rename NOREPLACE, unlink, rmdir, mkdir+rmdir",
	       fs->name);
	rw_attributes(fs, mnt);
	report(fs->posix ?
	       "%s: utimensat, fchmodat, fchownat, setxattr/getxattr, linkat, symlinkat" :
	       "%s: utimensat", fs->name);
	rw_verify(fs, mnt, buf, hbuf);
	report("%s: the changes read back", fs->name);
	if (!umount_and_remove(mnt, disk)) {
		report("%s: umount and remove the disk", fs->name);
		return;
	}
	report("%s: umount and remove the disk", fs->name);

	run_fsck(fs, copy);
	report("%s: %s %s finds the changed copy clean", fs->name, fs->fsck[0],
	       fs->fsck[1]);

	mounted = add_and_mount(fs, copy, true, &disk, mnt, sizeof(mnt));
	if (mounted) {
		rw_verify(fs, mnt, buf, hbuf);
		umount_and_remove(mnt, disk);
	}
	report("%s: the changes persist after a remount", fs->name);
}

/* ------------------------------------------------------ host threads */

/* Defaults; BOOT_TEST_THREADS and BOOT_TEST_ITERATIONS may change them. */
#define THREADS		8
#define MAX_THREADS	64
#define SHORT_LIVED	200
#define ITERATIONS	300
#define THREAD_BUF	20000

static int iterations = ITERATIONS;

struct worker {
	pthread_t thread;
	int id;
	char dir[KPATH_MAX];
	unsigned long ops;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	unsigned char *data = malloc(THREAD_BUF), *back = malloc(THREAD_BUF);
	char p[KPATH_MAX + 32];
	struct lkl_statx stx;
	int i;

	if (!data || !back) {
		fail("thread %d: out of memory", wk->id);
		goto out;
	}
	if (k_mkdir(wk->dir, 0755) < 0) {
		fail("thread %d: mkdir %s failed", wk->id, wk->dir);
		goto out;
	}
	for (i = 0; i < iterations && !failed_so_far(); i++) {
		size_t len = 1 + (i * 7919u + wk->id * 131u) % THREAD_BUF;
		long fd, r;

		snprintf(p, sizeof(p), "%s/f%d", wk->dir, i % 5);
		fill_pattern(data, len, wk->id * 100000 + i);
		fd = k_open(p, LKL_O_CREAT | LKL_O_RDWR | LKL_O_TRUNC, 0644);
		if (fd < 0) {
			fail("thread %d: open %s: %s", wk->id, p, err_name(fd));
			break;
		}
		r = k_write_all(fd, data, len);
		if (r != (long)len)
			fail("thread %d: write %s: %ld of %zu", wk->id, p, r,
			     len);
		r = k_pread_all(fd, back, THREAD_BUF, 0);
		if (r != (long)len || memcmp(data, back, len))
			fail("thread %d, iteration %d: %s reads back %ld bytes, %s",
			     wk->id, i, p, r, r == (long)len ? "different" :
			     "wrong length");
		memset(&stx, 0, sizeof(stx));
		r = lkl_sys5(LKL___NR_statx, fd, "", LKL_AT_EMPTY_PATH,
			     LKL_STATX_BASIC_STATS, &stx);
		if (r < 0 || stx.stx_size != len)
			fail("thread %d: statx %s: %ld, size %llu, expected %zu",
			     wk->id, p, r, (unsigned long long)stx.stx_size,
			     len);
		r = k_close(fd);
		if (r < 0)
			fail("thread %d: close: %s", wk->id, err_name(r));
		wk->ops += 5;
		if (i % 7 == 0) {
			r = k_unlink(p);
			if (r < 0 || k_lstatx(p, &stx) != -LKL_ENOENT)
				fail("thread %d: unlink %s: %ld", wk->id, p, r);
			wk->ops += 2;
		}
		if (i % 10 == 0) {
			snprintf(p, sizeof(p), "%s/d%d", wk->dir, i);
			r = k_mkdir(p, 0700);
			if (r == 0)
				r = k_rmdir(p);
			if (r < 0)
				fail("thread %d: mkdir/rmdir %s: %s", wk->id,
				     p, err_name(r));
			wk->ops += 2;
		}
		if (i % 25 == 0) {
			struct dlist l;
			size_t k;

			r = k_list(wk->dir, &l, 512, false);
			if (r < 0) {
				fail("thread %d: getdents64 %s: %s", wk->id,
				     wk->dir, err_name(r));
				continue;
			}
			for (k = 0; k < l.n; k++)
				if (strlen(l.v[k].name) != 2 ||
				    l.v[k].name[0] != 'f')
					fail("thread %d: stray entry %s/%s",
					     wk->id, wk->dir, l.v[k].name);
			dlist_free(&l);
			wk->ops++;
		}
	}
	for (i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/f%d", wk->dir, i);
		k_unlink(p);
	}
	if (k_rmdir(wk->dir) < 0)
		fail("thread %d: rmdir %s failed", wk->id, wk->dir);
out:
	free(data);
	free(back);
	return NULL;
}

static void test_threads(void)
{
	static struct worker workers[MAX_THREADS];
	const char *env_threads = getenv("BOOT_TEST_THREADS");
	const char *env_iterations = getenv("BOOT_TEST_ITERATIONS");
	int threads = env_threads ? atoi(env_threads) : THREADS;
	char img[PATH_MAX], copy[PATH_MAX], mnt[64];
	struct lkl_host_disk *disk = NULL;
	const struct fs_case *ext4 = &fs_cases[0];
	struct timespec start, deadline;
	unsigned long ops = 0;
	bool hung = false;
	int i, started = 0;

	if (!fixture_path(img, sizeof(img), "ext4.img") ||
	    !fixture_path(copy, sizeof(copy), "ext4-threads.img")) {
		fail("fixture paths too long");
		report("threads: setup");
		return;
	}
	{
		char *argv[] = { "cp", "--sparse=always", img, copy, NULL };
		char out[4096];
		int st = run_cmd(argv, out, sizeof(out));

		if (st)
			fail("cp %s %s: status %d: %s", img, copy, st, out);
	}
	if (!failed_so_far() &&
	    add_and_mount(ext4, copy, false, &disk, mnt, sizeof(mnt)))
		CHECK(k_mkdir("/threads", 0755));
	if (!report("threads: ramfs and an ext4 copy ready"))
		return;

	if (clock_gettime(CLOCK_MONOTONIC, &start) ||
	    clock_gettime(CLOCK_REALTIME, &deadline)) {
		fail("clock_gettime: %s", strerror(errno));
		report("threads");
		return;
	}
	if (threads < 1 || threads > MAX_THREADS)
		threads = THREADS;
	if (env_iterations && atoi(env_iterations) > 0)
		iterations = atoi(env_iterations);
	deadline.tv_sec += 120;
	for (i = 0; i < threads; i++) {
		struct worker *wk = &workers[i];
		int err;

		memset(wk, 0, sizeof(*wk));
		wk->id = i;
		/* Half in the ramfs, half on ext4. */
		snprintf(wk->dir, sizeof(wk->dir), "%s/t%d",
			 i % 2 ? "/threads" : mnt, i);
		err = pthread_create(&wk->thread, NULL, worker_main, wk);
		if (err) {
			fail("pthread_create: %s", strerror(err));
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		int err = pthread_timedjoin_np(workers[i].thread, NULL,
					       &deadline);

		if (err == ETIMEDOUT) {
			fail("thread %d still running after 120 s: hung", i);
			hung = true;
			break;
		}
		if (err)
			fail("pthread_join: %s", strerror(err));
		ops += workers[i].ops;
	}
	report("threads: %d host threads x %d iterations at once (%lu calls in %.0f ms)",
	       threads, iterations, ops, ms_since(&start));
	if (hung) {
		/* Nothing sane can follow; keep the process for a debugger? */
		printf("Bail out! kernel threads hung\n");
		fflush(stdout);
		_exit(1);
	}

	CHECK(k_rmdir("/threads"));
	if (umount_and_remove(mnt, disk))
		run_fsck(ext4, copy);
	report("threads: the ext4 copy is clean afterwards (e2fsck -fn)");
}

/* Tasks in the kernel: the numeric names in /proc. */
static long count_tasks(void)
{
	struct dlist l;
	long n = 0;
	size_t i;

	if (k_list("/proc", &l, 8192, false) < 0)
		return -1;
	for (i = 0; i < l.n; i++)
		n += l.v[i].name[0] >= '0' && l.v[i].name[0] <= '9';
	dlist_free(&l);
	return n;
}

static void *short_lived(void *arg)
{
	long *ret = arg;

	*ret = lkl_sys0(LKL___NR_getpid);
	return NULL;
}

/*
 * A thread pool that grows and shrinks (libfuse's) starts host threads
 * all the time: each ended thread's host task must serve the next new
 * one, not stay behind.
 */
static void test_short_lived_threads(void)
{
	long before = count_tasks(), after, ret;
	int i, bad = 0;

	for (i = 0; i < SHORT_LIVED; i++) {
		pthread_t th;
		int err = pthread_create(&th, NULL, short_lived, &ret);

		if (err) {
			fail("pthread_create: %s", strerror(err));
			break;
		}
		err = pthread_join(th, NULL);
		if (err)
			fail("pthread_join: %s", strerror(err));
		bad += ret <= 0;
	}
	after = count_tasks();
	if (bad)
		fail("%d of the threads' getpid calls failed", bad);
	if (before < 0 || after < 0)
		fail("cannot list /proc");
	else if (after > before + 1)
		fail("%ld tasks before, %ld after: host tasks of ended threads stay behind",
		     before, after);
	report("threads: %d short-lived host threads one after another leave the task count at %ld (was %ld)",
	       SHORT_LIVED, after, before);
}

/* -------------------------------------------------------------- main */

static void on_alarm(int sig)
{
	static const char msg[] = "Bail out! boot_test: timed out\n";
	ssize_t r;

	(void)sig;
	r = write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	_exit(1);
}

static void console(const char *str, int len)
{
	fwrite(str, 1, len, stderr);
}

int main(int argc, char **argv)
{
	struct lkl_boot_options opts = { .memory_mib = 256 };
	const char *env_timeout = getenv("BOOT_TEST_TIMEOUT");
	const char *printk = getenv("LKL_PRINTK");
	const char *path = getenv("PATH");
	unsigned char *buf, *hbuf;
	struct walk w = { 0 };
	struct timespec start;
	char newpath[4096];
	double ms;
	size_t i;
	long r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURES\n", argv[0]);
		return 2;
	}
	fixtures = argv[1];
	/* The fsck programs live in sbin, which a user's PATH may lack. */
	snprintf(newpath, sizeof(newpath), "%s:/usr/sbin:/sbin",
		 path ? path : "/usr/bin:/bin");
	if (setenv("PATH", newpath, 1)) {
		perror("setenv");
		return 2;
	}
	signal(SIGALRM, on_alarm);
	alarm(env_timeout ? atoi(env_timeout) : 600);

	buf = malloc(5 * MIB);
	hbuf = malloc(5 * MIB);
	w.hbuf = malloc(CHUNK);
	w.kbuf = malloc(CHUNK);
	expected_data = malloc(DATA_LEN);
	if (!buf || !hbuf || !w.hbuf || !w.kbuf || !expected_data) {
		fprintf(stderr, "out of memory\n");
		return 2;
	}

	printf("TAP version 13\n");
	if (printk && !strcmp(printk, "1"))
		opts.print = console;
	if (clock_gettime(CLOCK_MONOTONIC, &start))
		return 2;
	r = lkl_host_boot(&opts);
	ms = ms_since(&start);
	if (r)
		fail("lkl_host_boot: %s", err_name(r));
	if (!report("boot")) {
		printf("1..%d\n", tap_count);
		return 1;
	}
	note("boot time: %.1f ms", ms);

	test_uname();
	test_ramfs();
	for (i = 0; i < ARRAY_SIZE(fs_cases); i++)
		test_fs(&fs_cases[i], buf, hbuf, &w);
	test_threads();
	test_short_lived_threads();

	if (clock_gettime(CLOCK_MONOTONIC, &start))
		return 2;
	r = lkl_host_halt();
	ms = ms_since(&start);
	if (r)
		fail("lkl_host_halt: %s", err_name(r));
	report("halt");
	note("halt time: %.1f ms", ms);

	printf("1..%d\n", tap_count);
	for (i = 0; i < w.ninos; i++)
		free(w.inos[i].rel);
	free(w.inos);
	free(w.hbuf);
	free(w.kbuf);
	free(buf);
	free(hbuf);
	free(expected_data);
	return tap_failed ? 1 : 0;
}
