// SPDX-License-Identifier: GPL-2.0
/*
 * boot_test's harness (harness.h): TAP output, checks of kernel calls,
 * host and kernel helpers, directory listings on either side.
 */
#include "harness.h"

/* ------------------------------------------------------------------ TAP */

int tap_count;
int tap_failed;
const char *fixtures;

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

void __printf(1, 2) fail(const char *fmt, ...)
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

bool failed_so_far(void)
{
	bool failed;

	pthread_mutex_lock(&diag.lock);
	failed = diag.failed;
	pthread_mutex_unlock(&diag.lock);
	return failed;
}

/* Close the test point in progress: ok unless fail() was called since. */
bool __printf(1, 2) report(const char *fmt, ...)
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

void __printf(1, 2) note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

const char *err_name(long r)
{
	return strerror((int)-r);
}

long check_call(long r, const char *what, int line)
{
	if (r < 0)
		fail("line %d: %s: %ld (%s)", line, what, r, err_name(r));
	return r;
}

bool expect_err(long r, long err, const char *what, int line)
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

double ms_since(const struct timespec *start)
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
int run_cmd(char *const argv[], char *out, size_t outlen)
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
void fail_tail(const char *what, const char *text, int lines)
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
bool sha256_file(const char *path, char hex[65])
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

bool read_host_text(const char *path, char *buf, size_t len)
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

ssize_t host_read_all(int fd, void *buf, size_t len)
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

/* ---------------------------- kernel helpers, by path (kcall.h beneath) */

long k_open(const char *path, int flags, int mode)
{
	return k_openat(LKL_AT_FDCWD, path, flags, mode);
}

long k_path_statx(const char *path, int flags, struct lkl_statx *stx)
{
	memset(stx, 0, sizeof(*stx));
	return k_statx(LKL_AT_FDCWD, path, flags, K_STATX_MASK, stx);
}

long k_lstatx(const char *path, struct lkl_statx *stx)
{
	return k_path_statx(path, LKL_AT_SYMLINK_NOFOLLOW, stx);
}

long k_mkdir(const char *path, int mode)
{
	return k_mkdirat(LKL_AT_FDCWD, path, mode);
}

long k_unlink(const char *path)
{
	return k_unlinkat(LKL_AT_FDCWD, path, 0);
}

long k_rmdir(const char *path)
{
	return k_unlinkat(LKL_AT_FDCWD, path, LKL_AT_REMOVEDIR);
}

long k_rename(const char *from, const char *to, unsigned int flags)
{
	return k_renameat2(LKL_AT_FDCWD, from, LKL_AT_FDCWD, to, flags);
}

long k_readlink(const char *path, char *buf, size_t len)
{
	return k_readlinkat(LKL_AT_FDCWD, path, buf, len);
}

/* Write all of @buf (looping over short writes): @len or a negative errno. */
long k_write_all(long fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n = k_write(fd, (const char *)buf + done, len - done);

		if (n < 0)
			return n;
		if (n == 0)
			return -LKL_EIO;
		done += n;
	}
	return done;
}

/* Read until @len bytes or end of file: the count or a negative errno. */
long k_read_all(long fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n = k_read(fd, (char *)buf + done, len - done);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

long k_pread_all(long fd, void *buf, size_t len, long long off)
{
	size_t done = 0;

	while (done < len) {
		long n = k_pread(fd, (char *)buf + done, len - done,
				 off + done);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

/* Create (or truncate) @path holding exactly @len bytes of @data. */
bool k_put_file(const char *path, const void *data, size_t len,
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
bool k_expect_text(const char *path, const char *want)
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

bool k_expect_missing(const char *path)
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
void fill_pattern(unsigned char *buf, size_t len, uint64_t seed)
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

size_t first_difference(const unsigned char *a, const unsigned char *b,
			size_t len)
{
	size_t i;

	for (i = 0; i < len && a[i] == b[i]; i++)
		;
	return i;
}

/* --------------------------------------------------------- directories */

void dlist_free(struct dlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

bool dlist_add(struct dlist *l, const char *name, unsigned char type,
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

int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name,
		      ((const struct dent *)b)->name);
}

/*
 * List a kernel directory with getdents64 into @buf_len-byte buffers (small
 * ones make many calls), sorted by name.  With @dots, "." and ".." stay in.
 */
long k_list(const char *path, struct dlist *out, size_t buf_len,
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
	while ((n = k_getdents64(fd, buf, buf_len)) > 0) {
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

bool h_list(const char *path, struct dlist *out)
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
