// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the copies' directory scan (copy/scan.c) on the host's own
 * filesystem, in a temporary directory it makes under $TMPDIR (or /tmp)
 * and removes, even when a check fails.
 *
 * Build and run (from native/; "make check" does it):
 *
 *	gcc -Wall -Wextra -Werror -O1 -g -fPIC -pthread -I../build/include \
 *		-fsanitize=address,undefined -fno-sanitize-recover=all \
 *		copy/test_scan.c copy/scan.c -o /tmp/test_scan
 *	/tmp/test_scan
 *
 * The scan promises no order of entries (the copy engine sorts them), so
 * the checks look each name up and count it: every entry once, never "."
 * or "..".  Errors the host will not make on demand (an entry gone between
 * the listing and its status, a file that shrinks while read, a failing
 * getdents64) come from a struct scan_sys wrapping the host's own.
 */
#define _GNU_SOURCE
/*
 * hostfs/scan.c is part of this program rather than linked, so that the
 * fault injection below wraps its static calls instead of a copy of them.
 */
#include "../hostfs/scan.c"

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "scan.h"
#include "xattr_pack.h"
#include "../test/unit.h"

/* The callback's own non-zero return, which a scan hands back. */
#define STOP		7
/* More than one window of the scan (128) and one getdents64 buffer. */
#define MANY		1500

static char root[4096];
static bool have_xattrs;

/* One entry as the callback saw it, copied out of the scan's buffers. */
struct seen {
	char *name;
	unsigned int mode;
	unsigned long long size;
	long stat_err, xattrs_err, link_err, data_err;
	char *xattrs;
	size_t xattrs_len;
	char *link;
	size_t link_len;
	char *data;		/* taken over from the scan */
	size_t data_len;
};

struct scan_log {
	struct seen *v;
	size_t n, cap;
	size_t stop_at;		/* return STOP from this call on (1-based) */
};

static char *memdup(const void *p, size_t len)
{
	char *q = malloc(len + 1);

	CHECK(q);
	if (len)
		memcpy(q, p, len);
	q[len] = 0;
	return q;
}

static int collect(void *ctx, struct scan_entry *e)
{
	struct scan_log *log = ctx;
	struct seen *s;

	/* Called again after a stop would be the scan's bug. */
	CHECK(!log->stop_at || log->n < log->stop_at);
	if (log->n == log->cap) {
		log->cap = log->cap ? 2 * log->cap : 64;
		log->v = realloc(log->v, log->cap * sizeof(*log->v));
		CHECK(log->v);
	}
	s = &log->v[log->n++];
	s->name = strdup(e->name);
	CHECK(s->name);
	s->mode = e->st.stx_mode;
	s->size = e->st.stx_size;
	s->stat_err = e->stat_err;
	s->xattrs_err = e->xattrs_err;
	s->link_err = e->link_err;
	s->data_err = e->data_err;
	s->xattrs = memdup(e->xattrs, e->xattrs_len);
	s->xattrs_len = e->xattrs_len;
	s->link = memdup(e->link, e->link_len);
	s->link_len = e->link_len;
	/* Kept as scan.h allows; the sanitizer's leak check sees a double free. */
	s->data = e->data;
	s->data_len = e->data_len;
	e->data = NULL;
	CHECK(!s->data_err || !s->data);
	return log->stop_at && log->n >= log->stop_at ? STOP : 0;
}

static void log_free(struct scan_log *log)
{
	size_t i;

	for (i = 0; i < log->n; i++) {
		free(log->v[i].name);
		free(log->v[i].xattrs);
		free(log->v[i].link);
		free(log->v[i].data);
	}
	free(log->v);
	memset(log, 0, sizeof(*log));
}

/* The entry @name, which must have been seen exactly once. */
static const struct seen *find(const struct scan_log *log, const char *name)
{
	const struct seen *found = NULL;
	size_t i;

	for (i = 0; i < log->n; i++) {
		CHECK(strcmp(log->v[i].name, ".") && strcmp(log->v[i].name, ".."));
		if (strcmp(log->v[i].name, name))
			continue;
		if (found) {
			fprintf(stderr, "test_scan: %s seen twice\n", name);
			exit(1);
		}
		found = &log->v[i];
	}
	if (!found) {
		fprintf(stderr, "test_scan: %s not seen\n", name);
		exit(1);
	}
	return found;
}

static void check_data(const struct seen *s, const char *want)
{
	CHECK_EQ(s->stat_err, 0);
	CHECK_EQ(s->data_err, 0);
	CHECK(s->data);
	CHECK_EQ(s->data_len, strlen(want));
	CHECK(!memcmp(s->data, want, s->data_len));
}

/* The value of the packed attribute @name, or NULL; its length in *@len. */
static const void *packed_xattr(const struct seen *s, const char *name,
				size_t *len)
{
	struct xattr_pack_item it;
	size_t off = 0;
	int r;

	while ((r = xattr_pack_next(s->xattrs, s->xattrs_len, &off, &it)) > 0) {
		if (!strcmp(it.name, name)) {
			*len = it.len;
			return it.value;
		}
	}
	CHECK_EQ(r, 0);
	return NULL;
}

static int count_xattrs(const struct seen *s)
{
	struct xattr_pack_item it;
	size_t off = 0;
	int r, n = 0;

	while ((r = xattr_pack_next(s->xattrs, s->xattrs_len, &off, &it)) > 0)
		n++;
	CHECK_EQ(r, 0);
	return n;
}

static void path_of(char *buf, size_t size, const char *dir, const char *name)
{
	CHECK((size_t)snprintf(buf, size, "%s/%s", dir, name) < size);
}

static void make_dir(char *buf, size_t size, const char *name)
{
	path_of(buf, size, root, name);
	CHECK(!mkdir(buf, 0755));
}

static void put(const char *dir, const char *name, const void *data,
		size_t len)
{
	char path[4096];
	FILE *f;

	path_of(path, sizeof(path), dir, name);
	f = fopen(path, "wx");
	CHECK(f);
	CHECK(fwrite(data, 1, len, f) == len);
	CHECK(!fclose(f));
}

static void put_str(const char *dir, const char *name, const char *s)
{
	put(dir, name, s, strlen(s));
}

static void put_size(const char *dir, const char *name, size_t len)
{
	char *buf = malloc(len + 1);

	CHECK(buf);
	memset(buf, 'x', len);
	put(dir, name, buf, len);
	free(buf);
}

static long scan(const char *dir, size_t inline_max, size_t budget,
		 struct scan_log *log)
{
	return hostfs_scan(dir, inline_max, budget, collect, log);
}

/* Each kind of node, with what the scan reads of it. */
static void test_kinds(void)
{
	static const char bin[] = { 'a', 0, 'b', (char)0xff };
	struct scan_log log = { 0 };
	const struct seen *s;
	char dir[4096], path[4096];
	const void *v;
	size_t len;

	make_dir(dir, sizeof(dir), "kinds");
	put_str(dir, "small", "hello, scan\n");
	put(dir, "empty", "", 0);
	put_size(dir, "at-max", 4096);
	put_size(dir, "over-max", 4097);
	path_of(path, sizeof(path), dir, "link");
	CHECK(!symlink("../some/where", path));
	path_of(path, sizeof(path), dir, "dangling");
	CHECK(!symlink("nowhere", path));
	path_of(path, sizeof(path), dir, "sub");
	CHECK(!mkdir(path, 0700));
	put_str(path, "inner", "not listed");
	path_of(path, sizeof(path), dir, "fifo");
	CHECK(!mkfifo(path, 0600));
	path_of(path, sizeof(path), dir, "small");
	if (have_xattrs) {
		CHECK(!setxattr(path, "user.plain", "1", 1, 0));
		CHECK(!setxattr(path, "user.binary", bin, sizeof(bin), 0));
		CHECK(!setxattr(path, "user.empty", "", 0, 0));
	}

	CHECK_EQ(scan(dir, 4096, 1 << 20, &log), 0);
	CHECK_EQ(log.n, 8);

	s = find(&log, "small");
	check_data(s, "hello, scan\n");
	CHECK_EQ(s->mode & S_IFMT, S_IFREG);
	CHECK_EQ(s->size, 12);
	CHECK_EQ(s->link_err, -EINVAL);
	CHECK_EQ(s->xattrs_err, 0);
	if (have_xattrs) {
		CHECK_EQ(count_xattrs(s), 3);
		v = packed_xattr(s, "user.plain", &len);
		CHECK(v && len == 1 && !memcmp(v, "1", 1));
		v = packed_xattr(s, "user.binary", &len);
		CHECK(v && len == sizeof(bin) && !memcmp(v, bin, len));
		v = packed_xattr(s, "user.empty", &len);
		CHECK(v && len == 0);
	}

	check_data(find(&log, "empty"), "");
	s = find(&log, "at-max");
	CHECK_EQ(s->data_err, 0);
	CHECK_EQ(s->data_len, 4096);
	CHECK(s->data[0] == 'x' && s->data[4095] == 'x');
	s = find(&log, "over-max");
	CHECK_EQ(s->data_err, -EFBIG);
	CHECK_EQ(s->size, 4097);

	s = find(&log, "link");
	CHECK_EQ(s->mode & S_IFMT, S_IFLNK);
	CHECK_EQ(s->link_err, 0);
	CHECK_EQ(s->link_len, strlen("../some/where"));
	CHECK(!memcmp(s->link, "../some/where", s->link_len));
	CHECK_EQ(s->data_err, -EINVAL);
	s = find(&log, "dangling");
	CHECK_EQ(s->link_err, 0);
	CHECK(!strcmp(s->link, "nowhere"));

	s = find(&log, "sub");
	CHECK_EQ(s->mode & S_IFMT, S_IFDIR);
	CHECK_EQ(s->stat_err, 0);
	CHECK_EQ(s->data_err, -EINVAL);
	CHECK_EQ(s->link_err, -EINVAL);
	s = find(&log, "fifo");
	CHECK_EQ(s->mode & S_IFMT, S_IFIFO);
	/* Never opened: a FIFO would block the scan. */
	CHECK_EQ(s->data_err, -EINVAL);
	log_free(&log);

	/* No inline contents at all, not even an empty file's. */
	CHECK_EQ(scan(dir, 0, 1 << 20, &log), 0);
	CHECK_EQ(find(&log, "small")->data_err, -EFBIG);
	CHECK_EQ(find(&log, "empty")->data_err, -EFBIG);
	CHECK_EQ(find(&log, "at-max")->data_err, -EFBIG);
	CHECK_EQ(find(&log, "link")->link_err, 0);
	log_free(&log);

	/* An empty directory: no calls. */
	path_of(path, sizeof(path), dir, "sub/empty");
	CHECK(!mkdir(path, 0700));
	CHECK_EQ(scan(path, 4096, 1 << 20, &log), 0);
	CHECK_EQ(log.n, 0);
}

/* The budget caps the contents read in one scan, across windows. */
static void test_budget(void)
{
	struct scan_log log = { 0 };
	size_t i, inlined = 0, bytes = 0;
	char dir[4096], name[32];

	make_dir(dir, sizeof(dir), "budget");
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%03zu", i);
		put_size(dir, name, 100);
	}
	/* Room for 150 whole files and half of one more. */
	CHECK_EQ(scan(dir, 4096, 150 * 100 + 50, &log), 0);
	CHECK_EQ(log.n, 300);
	for (i = 0; i < log.n; i++) {
		const struct seen *s = &log.v[i];

		if (s->data_err == -EFBIG)
			continue;
		CHECK_EQ(s->data_err, 0);
		CHECK_EQ(s->data_len, 100);
		inlined++;
		bytes += s->data_len;
	}
	CHECK_EQ(inlined, 150);
	CHECK_EQ(bytes, 15000);
	log_free(&log);

	CHECK_EQ(scan(dir, 4096, 99, &log), 0);
	for (i = 0; i < log.n; i++)
		CHECK_EQ(log.v[i].data_err, -EFBIG);
	log_free(&log);
}

/*
 * More entries than one window and one getdents64 buffer hold: each
 * file's contents are its own name, so a slot mixed up between windows
 * shows.
 */
static void test_many(void)
{
	struct scan_log log = { 0 };
	char dir[4096], name[64];
	size_t i;

	make_dir(dir, sizeof(dir), "many");
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name),
			 "entry-%04zu-with-a-name-long-enough-to-fill", i);
		put_str(dir, name, name);
	}
	CHECK_EQ(scan(dir, 4096, 1 << 30, &log), 0);
	CHECK_EQ(log.n, MANY);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name),
			 "entry-%04zu-with-a-name-long-enough-to-fill", i);
		check_data(find(&log, name), name);
	}
	log_free(&log);

	/* A stop in the first window, then one in a later window. */
	log.stop_at = 3;
	CHECK_EQ(scan(dir, 4096, 1 << 30, &log), STOP);
	CHECK_EQ(log.n, 3);
	log_free(&log);
	log.stop_at = 1000;
	CHECK_EQ(scan(dir, 4096, 1 << 30, &log), STOP);
	CHECK_EQ(log.n, 1000);
	log_free(&log);
}

static void test_errors(void)
{
	struct scan_log log = { 0 };
	char dir[4096], path[4096];

	make_dir(dir, sizeof(dir), "errors");
	put_str(dir, "file", "x");
	path_of(path, sizeof(path), dir, "missing");
	CHECK_EQ(scan(path, 4096, 4096, &log), -ENOENT);
	path_of(path, sizeof(path), dir, "file");
	CHECK_EQ(scan(path, 4096, 4096, &log), -ENOTDIR);
	path_of(path, sizeof(path), dir, "file/below");
	CHECK_EQ(scan(path, 4096, 4096, &log), -ENOTDIR);
	CHECK_EQ(log.n, 0);
}

/*
 * Faults injected into the host's calls (hostfs_scan_sys), by entry name
 * or by attribute name.  Open descriptors are counted, so that every path
 * out of the scan is seen to close what it opened.
 */
static struct {
	const char *lstat_name;
	const char *open_name;
	const char *short_name;	/* reads as empty: the file shrank */
	long short_fd;
	const char *readlink_name;
	const char *getxattr_name;
	long getxattr_err;
	long listxattr_err;
	int dents_call;		/* fail this call of getdents64 (1-based) */
	int dents_calls;
	bool readahead_fails;
	int open_fds;
} fault;

static long f_lstat(long dir, const char *name, struct lkl_statx *st)
{
	if (fault.lstat_name && !strcmp(name, fault.lstat_name))
		return -ENOENT;
	return hostfs_scan_sys.lstat(dir, name, st);
}

static long f_open_file(long dir, const char *name)
{
	long fd;

	if (fault.open_name && !strcmp(name, fault.open_name))
		return -EACCES;
	fd = hostfs_scan_sys.open_file(dir, name);
	if (fd >= 0)
		fault.open_fds++;
	if (fault.short_name && !strcmp(name, fault.short_name))
		fault.short_fd = fd;
	return fd;
}

static long f_pread(long fd, void *buf, size_t len, long long off)
{
	if (fd == fault.short_fd)
		return 0;
	return hostfs_scan_sys.pread(fd, buf, len, off);
}

static long f_readahead(long fd, size_t len)
{
	if (fault.readahead_fails)
		return -EINVAL;
	return hostfs_scan_sys.readahead(fd, len);
}

static long f_close(long fd)
{
	fault.open_fds--;
	return hostfs_scan_sys.close(fd);
}

static long f_getdents64(long dir, void *buf, size_t len)
{
	if (++fault.dents_calls == fault.dents_call)
		return -EIO;
	return hostfs_scan_sys.getdents64(dir, buf, len);
}

static long f_readlinkat(long dir, const char *name, char *buf, size_t len)
{
	if (fault.readlink_name && !strcmp(name, fault.readlink_name))
		return -EIO;
	return hostfs_scan_sys.readlinkat(dir, name, buf, len);
}

static long f_llistxattr(const char *path, char *list, size_t len)
{
	if (fault.listxattr_err)
		return fault.listxattr_err;
	return hostfs_scan_sys.llistxattr(path, list, len);
}

static long f_lgetxattr(const char *path, const char *name, void *value,
			size_t len)
{
	if (fault.getxattr_name && !strcmp(name, fault.getxattr_name))
		return fault.getxattr_err;
	return hostfs_scan_sys.lgetxattr(path, name, value, len);
}

static const struct scan_sys faulty_sys = {
	.lstat = f_lstat,
	.open_file = f_open_file,
	.pread = f_pread,
	.readahead = f_readahead,
	.close = f_close,
	.getdents64 = f_getdents64,
	.readlinkat = f_readlinkat,
	.llistxattr = f_llistxattr,
	.lgetxattr = f_lgetxattr,
};

static long scan_faulty(const char *path, struct scan_log *log)
{
	long dir, ret;

	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dir >= 0);
	fault.short_fd = -1;
	fault.dents_calls = 0;
	fault.open_fds = 0;
	ret = scan_dir(&faulty_sys, dir, 4096, 1 << 20, collect, log);
	CHECK(!close(dir));
	CHECK_EQ(fault.open_fds, 0);
	memset(&fault, 0, sizeof(fault));
	return ret;
}

static void test_faults(void)
{
	struct scan_log log = { 0 };
	const struct seen *s;
	char dir[4096], path[4096];
	size_t len;

	make_dir(dir, sizeof(dir), "faults");
	put_str(dir, "gone", "was here");
	put_str(dir, "locked", "no entry");
	put_str(dir, "shrinks", "twelve bytes");
	put_str(dir, "fine", "fine");
	path_of(path, sizeof(path), dir, "link");
	CHECK(!symlink("target", path));
	if (have_xattrs) {
		path_of(path, sizeof(path), dir, "fine");
		CHECK(!setxattr(path, "user.kept", "k", 1, 0));
		CHECK(!setxattr(path, "user.removed", "r", 1, 0));
	}

	/* Per entry: each failure is that entry's, the rest read as usual. */
	fault.lstat_name = "gone";
	fault.open_name = "locked";
	fault.short_name = "shrinks";
	fault.readlink_name = "link";
	fault.getxattr_name = "user.removed";
	fault.getxattr_err = -ENODATA;
	fault.readahead_fails = true;
	CHECK_EQ(scan_faulty(dir, &log), 0);
	CHECK_EQ(log.n, 5);
	s = find(&log, "gone");
	CHECK_EQ(s->stat_err, -ENOENT);
	CHECK_EQ(s->data_err, -EINVAL);
	CHECK_EQ(s->xattrs_len, 0);
	CHECK_EQ(find(&log, "locked")->data_err, -EACCES);
	/* Not the bytes of a shorter file: the caller looks again. */
	CHECK_EQ(find(&log, "shrinks")->data_err, -EAGAIN);
	s = find(&log, "link");
	CHECK_EQ(s->link_err, -EIO);
	CHECK_EQ(s->link_len, 0);
	s = find(&log, "fine");
	check_data(s, "fine");
	CHECK_EQ(s->xattrs_err, 0);
	if (have_xattrs) {
		/* One removed between the listing and its read: left out. */
		CHECK_EQ(count_xattrs(s), 1);
		CHECK(packed_xattr(s, "user.kept", &len) && len == 1);
	}
	log_free(&log);

	/* A filesystem without xattrs has none to copy: not an error. */
	fault.listxattr_err = -EOPNOTSUPP;
	CHECK_EQ(scan_faulty(dir, &log), 0);
	s = find(&log, "fine");
	CHECK_EQ(s->xattrs_err, 0);
	CHECK_EQ(s->xattrs_len, 0);
	log_free(&log);

	fault.listxattr_err = -EACCES;
	CHECK_EQ(scan_faulty(dir, &log), 0);
	CHECK_EQ(find(&log, "fine")->xattrs_err, -EACCES);
	log_free(&log);

	if (have_xattrs) {
		fault.getxattr_name = "user.kept";
		fault.getxattr_err = -E2BIG;
		CHECK_EQ(scan_faulty(dir, &log), 0);
		CHECK_EQ(find(&log, "fine")->xattrs_err, -E2BIG);
		log_free(&log);
	}

	/* The directory's own errors end the scan. */
	fault.dents_call = 1;
	CHECK_EQ(scan_faulty(dir, &log), -EIO);
	CHECK_EQ(log.n, 0);
	log_free(&log);

	/* Entries listed before the failure still reach the callback. */
	fault.dents_call = 2;
	CHECK_EQ(scan_faulty(dir, &log), -EIO);
	CHECK_EQ(log.n, 5);
	log_free(&log);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_root(void)
{
	if (root[0] && nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS))
		fprintf(stderr, "test_scan: cannot remove %s: %s\n", root,
			strerror(errno));
}

static void probe_xattrs(void)
{
	char path[4096];

	put(root, "probe", "", 0);
	path_of(path, sizeof(path), root, "probe");
	have_xattrs = !setxattr(path, "user.probe", "1", 1, 0);
	if (!have_xattrs)
		printf("test_scan: no user xattrs under %s (%s): their checks skipped\n",
		       root, strerror(errno));
	CHECK(!unlink(path));
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp)
		tmp = "/tmp";
	path_of(root, sizeof(root), tmp, "lkl-test-scan-XXXXXX");
	if (!mkdtemp(root)) {
		fprintf(stderr, "test_scan: mkdtemp %s: %s\n", root,
			strerror(errno));
		return 1;
	}
	/* Runs after a failed CHECK's exit(1) too. */
	atexit(remove_root);

	probe_xattrs();
	test_kinds();
	test_budget();
	test_many();
	test_errors();
	test_faults();
	printf("test_scan: all passed\n");
	return 0;
}
