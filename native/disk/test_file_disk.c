// SPDX-License-Identifier: GPL-2.0
/*
 * Standalone test of the file disk backend, with a stub lkl_blk_complete().
 *
 * Build and run (from native/; "make check" does it):
 *
 *	gcc -Wall -Wextra -Werror -O2 -g -fPIC -pthread \
 *		-I../build/include \
 *		-fsanitize=address,undefined -fno-sanitize-recover=all \
 *		disk/test_file_disk.c disk/file_disk.c -o /tmp/test_file_disk
 *	/tmp/test_file_disk [DIR...]
 *
 * DIR defaults to $TMPDIR or /tmp.  Pass several (for example /tmp and
 * /dev/shm) to cover file systems with and without FALLOC_FL_ZERO_RANGE.
 * Without the sanitizer flags it also runs under
 * valgrind --error-exitcode=1.  With LKL_TEST_BLKDEV=/dev/loopN it first
 * tests that block device too, destroying its contents.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "file_disk.h"
#include "../test/unit.h"

#define MAX_SEGS	8
#define NCONC		32

struct treq {
	struct lkl_blk_req req;
	struct lkl_blk_seg segs[MAX_SEGS];
	bool done;
};

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static pthread_t main_thread;
static unsigned long completions;

/* The kernel's completion, stubbed: checks the worker, wakes the waiter. */
void lkl_blk_complete(struct lkl_blk_req *req)
{
	struct treq *t = (struct treq *)((char *)req - offsetof(struct treq, req));
	sigset_t mask;

	CHECK(!pthread_equal(pthread_self(), main_thread));
	CHECK(!pthread_sigmask(SIG_BLOCK, NULL, &mask));
	CHECK(sigismember(&mask, SIGINT) == 1);
	CHECK(sigismember(&mask, SIGTERM) == 1);
	CHECK(sigismember(&mask, SIGUSR1) == 1);
	CHECK(sigismember(&mask, SIGALRM) == 1);

	CHECK(!pthread_mutex_lock(&done_lock));
	CHECK(!t->done);
	t->done = true;
	completions++;
	CHECK(!pthread_cond_broadcast(&done_cond));
	CHECK(!pthread_mutex_unlock(&done_lock));
}

/* Split @len bytes of @buf into @nsegs uneven segments. */
static void prep(struct treq *t, unsigned int op, unsigned int fua,
		 unsigned long long off, void *buf, unsigned long long len,
		 unsigned int nsegs)
{
	unsigned long long left = len;
	unsigned char *p = buf;
	unsigned int i;

	CHECK(nsegs <= MAX_SEGS);
	memset(t, 0, sizeof(*t));
	t->req.op = op;
	t->req.fua = fua;
	t->req.offset = off;
	t->req.len = len;
	t->req.error = 12345;
	t->req.nsegs = nsegs;
	t->req.segs = nsegs ? t->segs : NULL;
	for (i = 0; i < nsegs; i++) {
		/* the first segments get odd sizes, the last one the rest */
		unsigned long long n = i + 1 < nsegs ? left / 3 + (i & 1) : left;

		if (n > left)
			n = left;
		t->segs[i].base = p;
		t->segs[i].len = n;
		p += n;
		left -= n;
	}
}

static void submit(struct lkl_disk *disk, struct treq *t)
{
	disk->submit(disk->priv, &t->req);
}

static void wait_req(struct treq *t)
{
	CHECK(!pthread_mutex_lock(&done_lock));
	while (!t->done)
		CHECK(!pthread_cond_wait(&done_cond, &done_lock));
	CHECK(!pthread_mutex_unlock(&done_lock));
	CHECK(t->req.error != 12345);
}

static int run(struct lkl_disk *disk, unsigned int op, unsigned int fua,
	       unsigned long long off, void *buf, unsigned long long len,
	       unsigned int nsegs)
{
	struct treq t;

	prep(&t, op, fua, off, buf, len, nsegs);
	submit(disk, &t);
	wait_req(&t);
	return t.req.error;
}

static unsigned long long rng_state = 0x2545f4914f6cdd1dULL;

static void fill_random(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		buf[i] = rng_state >> 24;
	}
}

static bool all_zero(const unsigned char *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CHECK(fd >= 0);
	CHECK_EQ(pwrite(fd, buf, len, 0), (long long)len);
	CHECK(!close(fd));
}

/* Read @path into a new buffer and return it; its size goes to *@len. */
static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0);
	CHECK(!fstat(fd, &st));
	buf = malloc(st.st_size + 1);
	CHECK(buf);
	CHECK_EQ(pread(fd, buf, st.st_size, 0), st.st_size);
	CHECK(!close(fd));
	*len = st.st_size;
	return buf;
}

static unsigned long long fnv1a(const unsigned char *p, size_t len)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Read the whole disk in one request and compare with @model. */
static void check_disk(struct lkl_disk *disk, const unsigned char *model)
{
	unsigned char *buf = malloc(disk->capacity);

	CHECK(buf);
	memset(buf, 0xa5, disk->capacity);
	CHECK_EQ(run(disk, LKL_BLK_READ, 0, 0, buf, disk->capacity, 7), 0);
	CHECK(!memcmp(buf, model, disk->capacity));
	free(buf);
}

static void test_open_errors(const char *dir)
{
	struct file_disk *d = (struct file_disk *)1;
	char path[4096];

	snprintf(path, sizeof(path), "%s/lkl-test-does-not-exist", dir);
	CHECK_EQ(file_disk_open(path, 1, &d), -ENOENT);
	CHECK(d == NULL);
	CHECK_EQ(file_disk_open(path, 0, &d), -ENOENT);
	CHECK_EQ(file_disk_open(dir, 1, &d), -EISDIR);
	CHECK_EQ(file_disk_open(dir, 0, &d), -EISDIR);
	CHECK_EQ(file_disk_open("/dev/null", 0, &d), -EINVAL);

	snprintf(path, sizeof(path), "%s/lkl-test-fifo-%d", dir, getpid());
	CHECK(!mkfifo(path, 0600));
	CHECK_EQ(file_disk_open(path, 1, &d), -EINVAL);
	CHECK_EQ(file_disk_open(path, 0, &d), -EINVAL);
	CHECK(!unlink(path));
}

static void test_rw(const char *dir)
{
	const size_t fsize = (1 << 20) + 100, cap = 1 << 20;
	unsigned char *model, *buf, *file;
	struct treq *reqs;
	struct lkl_disk disk;
	struct file_disk *d;
	char path[4096];
	size_t flen, i;
	int fd;

	snprintf(path, sizeof(path), "%s/lkl-test-rw-%d.img", dir, getpid());
	model = malloc(fsize);
	buf = malloc(fsize);
	reqs = calloc(NCONC, sizeof(*reqs));
	CHECK(model && buf && reqs);
	fill_random(model, fsize);
	write_file(path, model, fsize);

	CHECK_EQ(file_disk_open(path, 0, &d), 0);
	memset(&disk, 0, sizeof(disk));
	file_disk_fill(d, &disk);
	CHECK_EQ(disk.capacity, cap);
	CHECK_EQ(disk.read_only, 0);
	CHECK(disk.priv == d && disk.submit);
	check_disk(&disk, model);

	/* write in uneven segments, read back with other ones */
	fill_random(model + 4608, 3 * 4096);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, 4608, model + 4608, 3 * 4096, 3),
		 0);
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, 4096, buf, 4 * 4096, 5), 0);
	CHECK(!memcmp(buf, model + 4096, 4 * 4096));
	CHECK_EQ(run(&disk, LKL_BLK_FLUSH, 0, 0, NULL, 0, 0), 0);

	/* FUA write, zero-length segments in the middle */
	fill_random(model + 65536, 8192);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 1, 65536, model + 65536, 8192, 1),
		 0);
	{
		struct treq t;

		prep(&t, LKL_BLK_WRITE, 1, 73728, model + 73728, 1024, 3);
		fill_random(model + 73728, 1024);
		t.segs[2] = t.segs[1];
		t.segs[1].len = 0;
		t.segs[2].base = (char *)t.segs[0].base + t.segs[0].len;
		t.segs[2].len = 1024 - t.segs[0].len;
		submit(&disk, &t);
		wait_req(&t);
		CHECK_EQ(t.req.error, 0);
	}
	check_disk(&disk, model);

	/* write zeroes, with and without FUA; discard */
	memset(model + 131072, 0, 200704);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE_ZEROES, 0, 131072, NULL, 196608, 0),
		 0);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE_ZEROES, 1, 327680, NULL, 4096, 0),
		 0);
	check_disk(&disk, model);
	CHECK_EQ(run(&disk, LKL_BLK_DISCARD, 0, 524288, NULL, 65536, 0), 0);
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, 524288, model + 524288, 65536, 2),
		 0);

	/* out of range and unknown requests */
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, cap - 512, buf, 1024, 1), -EIO);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, cap, buf, 512, 1), -EIO);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE_ZEROES, 0, cap - 512, NULL, 4096, 0),
		 -EIO);
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, -4096ULL, buf, 4096, 1), -EIO);
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, 0, buf, 4096 + 1, 1), 0);
	{
		struct treq t;

		prep(&t, LKL_BLK_READ, 0, 0, buf, 4096, 2);
		t.req.len = 8192;	/* more than the segments hold */
		submit(&disk, &t);
		wait_req(&t);
		CHECK_EQ(t.req.error, -EINVAL);
	}
	CHECK_EQ(run(&disk, 99, 0, 0, NULL, 0, 0), -EOPNOTSUPP);
	CHECK_EQ(run(&disk, LKL_BLK_FLUSH, 0, -1ULL, NULL, -1ULL, 0), 0);

	/* NCONC requests in flight: writes, then reads */
	for (i = 0; i < NCONC; i++) {
		unsigned long long off = 600000 + i * 12288 + (i % 3) * 512;

		fill_random(model + off, 8192);
		prep(&reqs[i], LKL_BLK_WRITE, i % 5 == 0, off, model + off,
		     8192, 1 + i % MAX_SEGS);
	}
	for (i = 0; i < NCONC; i++)
		submit(&disk, &reqs[i]);
	for (i = 0; i < NCONC; i++) {
		wait_req(&reqs[i]);
		CHECK_EQ(reqs[i].req.error, 0);
	}
	memset(buf, 0, fsize);
	for (i = 0; i < NCONC; i++)
		prep(&reqs[i], LKL_BLK_READ, 0, i * 32768, buf + i * 32768,
		     32768, 1 + (i + 3) % MAX_SEGS);
	for (i = 0; i < NCONC; i++)
		submit(&disk, &reqs[i]);
	for (i = 0; i < NCONC; i++) {
		wait_req(&reqs[i]);
		CHECK_EQ(reqs[i].req.error, 0);
	}
	CHECK(!memcmp(buf, model, cap));

	/* the file shrinks behind our back: reads past its end give zeroes */
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	CHECK(!ftruncate(fd, cap - 1000));
	CHECK(!close(fd));
	memset(buf, 0xa5, 8192);
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, cap - 8192, buf, 8192, 3), 0);
	CHECK(!memcmp(buf, model + cap - 8192, 8192 - 1000));
	CHECK(all_zero(buf + 8192 - 1000, 1000));
	memset(model + cap - 1000, 0, 1000);

	/* close waits for what is still queued */
	for (i = 0; i < NCONC; i++)
		prep(&reqs[i], i & 1 ? LKL_BLK_READ : LKL_BLK_FLUSH, 0,
		     i * 4096, buf + i * 4096, i & 1 ? 4096 : 0, i & 1);
	for (i = 0; i < NCONC; i++)
		submit(&disk, &reqs[i]);
	file_disk_close(d);
	for (i = 0; i < NCONC; i++) {
		CHECK(reqs[i].done);
		CHECK_EQ(reqs[i].req.error, 0);
	}

	file = slurp(path, &flen);
	CHECK_EQ(flen, cap - 1000);
	CHECK(!memcmp(file, model, flen));
	free(file);
	CHECK(!unlink(path));
	free(reqs);
	free(buf);
	free(model);
}

struct race {
	struct lkl_disk *disk;
	unsigned long long off;
	int iterations;
};

/* Readers must see each 8 KiB overlay write whole: all bytes equal. */
static void *race_reader(void *p)
{
	struct race *r = p;
	unsigned char buf[8192];
	int i;

	for (i = 0; i < r->iterations; i++) {
		CHECK_EQ(run(r->disk, LKL_BLK_READ, 0, r->off, buf,
			     sizeof(buf), 3), 0);
		CHECK(!memcmp(buf, buf + 1, sizeof(buf) - 1));
	}
	return NULL;
}

static void test_cow_race(struct lkl_disk *disk)
{
	unsigned char buf[8192];
	struct race r = { disk, 16384 + 4096, 300 };
	pthread_t readers[3];
	int i;

	memset(buf, 0, sizeof(buf));
	CHECK_EQ(run(disk, LKL_BLK_WRITE, 0, r.off, buf, sizeof(buf), 1), 0);
	for (i = 0; i < 3; i++)
		CHECK(!pthread_create(&readers[i], NULL, race_reader, &r));
	for (i = 1; i <= 600; i++) {
		memset(buf, i, sizeof(buf));
		CHECK_EQ(run(disk, LKL_BLK_WRITE, 0, r.off, buf, sizeof(buf),
			     1 + i % 4), 0);
	}
	for (i = 0; i < 3; i++)
		CHECK(!pthread_join(readers[i], NULL));
}

static void test_cow(const char *dir)
{
	const size_t fsize = 262144 + 800, cap = 262144 + 512;
	unsigned char *orig, *model, *buf, *file;
	struct stat st_before, st_after;
	unsigned long long sum;
	struct lkl_disk disk;
	struct treq *reqs;
	struct file_disk *d;
	char path[4096];
	size_t flen, i;

	snprintf(path, sizeof(path), "%s/lkl-test-cow-%d.img", dir, getpid());
	orig = malloc(fsize);
	model = malloc(fsize);
	buf = malloc(fsize);
	reqs = calloc(NCONC, sizeof(*reqs));
	CHECK(orig && model && buf && reqs);
	fill_random(orig, fsize);
	memcpy(model, orig, fsize);
	write_file(path, orig, fsize);
	sum = fnv1a(orig, fsize);
	CHECK(!stat(path, &st_before));

	CHECK_EQ(file_disk_open(path, 1, &d), 0);
	file_disk_fill(d, &disk);
	CHECK_EQ(disk.capacity, cap);
	CHECK_EQ(disk.read_only, 1);
	check_disk(&disk, model);

	/* a whole block */
	fill_random(model + 8192, 4096);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, 8192, model + 8192, 4096, 2), 0);
	check_disk(&disk, model);
	/* part of a block not yet in the overlay */
	fill_random(model + 5000, 100);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, 5000, model + 5000, 100, 1), 0);
	check_disk(&disk, model);
	/* across a block in the overlay and one that is not */
	fill_random(model + 12288 - 10, 20);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, 12288 - 10, model + 12288 - 10,
		     20, 2), 0);
	check_disk(&disk, model);
	/* unaligned, several blocks, several segments, with FUA */
	fill_random(model + 20000, 10000);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 1, 20000, model + 20000, 10000, 4),
		 0);
	/* the partial last block, beyond the end of the capacity's blocks */
	fill_random(model + cap - 256, 256);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, cap - 256, model + cap - 256,
		     256, 1), 0);
	CHECK_EQ(run(&disk, LKL_BLK_FLUSH, 0, 0, NULL, 0, 0), 0);
	check_disk(&disk, model);
	/* unaligned reads of overlay data */
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, 4608, buf, 30000, 5), 0);
	CHECK(!memcmp(buf, model + 4608, 30000));

	/* write zeroes */
	memset(model + 40960 - 512, 0, 8192 + 1024);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE_ZEROES, 0, 40960 - 512, NULL,
		     8192 + 1024, 0), 0);
	check_disk(&disk, model);

	/*
	 * Discard may read back as anything; this backend forgets overlay
	 * blocks wholly inside the range (here block 2) and keeps the rest.
	 */
	CHECK_EQ(run(&disk, LKL_BLK_DISCARD, 0, 8192 - 512, NULL, 4096 + 1024,
		     0), 0);
	memcpy(model + 8192, orig + 8192, 4096);
	check_disk(&disk, model);

	/* NCONC writes at once, pairs of them sharing a block */
	for (i = 0; i < NCONC; i++) {
		unsigned long long off = 65536 + (i / 2) * 8192 + (i & 1) * 2048
					 + 100;

		fill_random(model + off, 1900);
		prep(&reqs[i], LKL_BLK_WRITE, 0, off, model + off, 1900,
		     1 + i % 3);
	}
	for (i = 0; i < NCONC; i++)
		submit(&disk, &reqs[i]);
	for (i = 0; i < NCONC; i++) {
		wait_req(&reqs[i]);
		CHECK_EQ(reqs[i].req.error, 0);
	}
	/* and NCONC reads at once */
	memset(buf, 0xa5, fsize);
	for (i = 0; i < NCONC; i++)
		prep(&reqs[i], LKL_BLK_READ, 0, i * 8192, buf + i * 8192,
		     8192, 1 + i % MAX_SEGS);
	for (i = 0; i < NCONC; i++)
		submit(&disk, &reqs[i]);
	for (i = 0; i < NCONC; i++) {
		wait_req(&reqs[i]);
		CHECK_EQ(reqs[i].req.error, 0);
	}
	CHECK(!memcmp(buf, model, NCONC * 8192));

	/* enough blocks to grow the overlay's table a few times */
	for (i = 0; i < 64; i++) {
		fill_random(model + i * 4096 + 7, 1);
		CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, i * 4096 + 7,
			     model + i * 4096 + 7, 1, 1), 0);
	}
	check_disk(&disk, model);

	test_cow_race(&disk);
	file_disk_close(d);

	/* the file never changed */
	file = slurp(path, &flen);
	CHECK_EQ(flen, fsize);
	CHECK_EQ(fnv1a(file, flen), sum);
	CHECK(!stat(path, &st_after));
	CHECK(st_after.st_mtim.tv_sec == st_before.st_mtim.tv_sec &&
	      st_after.st_mtim.tv_nsec == st_before.st_mtim.tv_nsec);
	free(file);

	/* a fresh open forgets the overlay */
	CHECK_EQ(file_disk_open(path, 1, &d), 0);
	file_disk_fill(d, &disk);
	check_disk(&disk, orig);
	file_disk_close(d);

	CHECK(!unlink(path));
	free(reqs);
	free(buf);
	free(model);
	free(orig);
}

/* $LKL_TEST_BLKDEV names a scratch block device; its data is destroyed. */
/* Whether @path's filesystem takes RWF_NOWAIT reads (tmpfs did not). */
static bool reads_nowait(const char *path)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	int fd = open(path, O_RDONLY);
	bool ok;

	CHECK(fd >= 0);
	ok = preadv2(fd, &iov, 1, 0, RWF_NOWAIT) == 1;
	CHECK(!close(fd));
	return ok;
}

/*
 * try_now: what it does at once is right, what it cannot do is left for
 * submit, and nothing it refuses is half done in a way the worker could
 * not repair.  A read of a file just written is in the host's page cache,
 * so it must be done at once where the filesystem takes RWF_NOWAIT; a
 * buffered write may or may not be, as the host's filesystem allows.
 */
static void test_try_now(const char *dir)
{
	enum { SIZE = 1 << 20, SMALL = 16 << 10 };
	unsigned char *model = malloc(SIZE), *buf = malloc(SIZE), *got;
	struct file_disk *fd_rw, *fd_ro;
	struct lkl_disk disk;
	struct treq t;
	char path[4096];
	size_t len;
	int ret, now;

	CHECK(model && buf);
	snprintf(path, sizeof(path), "%s/lkl-file-disk-now-%d.img", dir, (int)getpid());
	fill_random(model, SIZE);
	write_file(path, model, SIZE);

	now = reads_nowait(path) ? 0 : -EAGAIN;
	CHECK_EQ(file_disk_open(path, 0, &fd_rw), 0);
	file_disk_fill(fd_rw, &disk);
	CHECK(disk.try_now);

	prep(&t, LKL_BLK_READ, 0, 8192, buf, SMALL, 3);
	CHECK_EQ(disk.try_now(disk.priv, &t.req), now);
	if (!now) {
		CHECK_EQ(t.req.error, 0);
		CHECK(!memcmp(buf, model + 8192, SMALL));
	}

	prep(&t, LKL_BLK_READ, 0, 0, buf, SIZE, 2);
	CHECK_EQ(disk.try_now(disk.priv, &t.req), -EAGAIN);	/* too large */
	prep(&t, LKL_BLK_READ, 0, SIZE - 4096, buf, 8192, 1);
	CHECK_EQ(disk.try_now(disk.priv, &t.req), -EAGAIN);	/* past the end */
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, SIZE - 4096, buf, 8192, 1), -EIO);

	fill_random(buf, SMALL);
	prep(&t, LKL_BLK_WRITE, 1, 4096, buf, SMALL, 2);
	CHECK_EQ(disk.try_now(disk.priv, &t.req), -EAGAIN);	/* FUA */
	prep(&t, LKL_BLK_WRITE, 0, 4096, buf, SMALL, 2);
	ret = disk.try_now(disk.priv, &t.req);
	CHECK(ret == 0 || ret == -EAGAIN);
	if (ret)
		CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, 4096, buf, SMALL, 2), 0);
	memcpy(model + 4096, buf, SMALL);
	file_disk_close(fd_rw);
	got = slurp(path, &len);
	CHECK(len == SIZE && !memcmp(got, model, SIZE));
	free(got);

	CHECK_EQ(file_disk_open(path, FILE_DISK_READ_ONLY, &fd_ro), 0);
	file_disk_fill(fd_ro, &disk);
	prep(&t, LKL_BLK_READ, 0, 0, buf, SMALL, 1);
	CHECK_EQ(disk.try_now(disk.priv, &t.req), now);
	if (!now)
		CHECK(!memcmp(buf, model, SMALL));
	prep(&t, LKL_BLK_WRITE, 0, 0, buf, 4096, 1);
	CHECK_EQ(disk.try_now(disk.priv, &t.req), -EAGAIN);	/* the overlay's */
	fill_random(buf, 4096);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, 0, buf, 4096, 1), 0);
	prep(&t, LKL_BLK_READ, 0, 0, buf + 4096, 4096, 1);
	CHECK_EQ(disk.try_now(disk.priv, &t.req), -EAGAIN);	/* overlaid now */
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, 0, buf + 4096, 4096, 1), 0);
	CHECK(!memcmp(buf, buf + 4096, 4096));
	file_disk_close(fd_ro);
	got = slurp(path, &len);	/* the file never written */
	CHECK(len == SIZE && !memcmp(got, model, SIZE));
	free(got);

	CHECK(!unlink(path));
	free(model);
	free(buf);
}

static void test_blockdev(const char *dev)
{
	unsigned char *model, *buf;
	struct lkl_disk disk;
	struct file_disk *d;
	size_t cap;

	CHECK_EQ(file_disk_open(dev, 0, &d), 0);
	file_disk_fill(d, &disk);
	cap = disk.capacity;
	CHECK(cap >= 65536 && cap % 512 == 0);
	model = malloc(cap);
	buf = malloc(cap);
	CHECK(model && buf);
	fill_random(model, cap);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 1, 0, model, cap, 4), 0);
	CHECK_EQ(run(&disk, LKL_BLK_FLUSH, 0, 0, NULL, 0, 0), 0);
	memset(model + 4096, 0, 16384);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE_ZEROES, 0, 4096, NULL, 16384, 0), 0);
	check_disk(&disk, model);
	CHECK_EQ(run(&disk, LKL_BLK_DISCARD, 0, 32768, NULL, 8192, 0), 0);
	CHECK_EQ(run(&disk, LKL_BLK_READ, 0, 32768, model + 32768, 8192, 1),
		 0);
	file_disk_close(d);

	CHECK_EQ(file_disk_open(dev, 1, &d), 0);
	file_disk_fill(d, &disk);
	CHECK_EQ(disk.capacity, cap);
	check_disk(&disk, model);
	memcpy(buf, model, cap);
	fill_random(model + 1000, 5000);
	CHECK_EQ(run(&disk, LKL_BLK_WRITE, 0, 1000, model + 1000, 5000, 2), 0);
	check_disk(&disk, model);
	file_disk_close(d);

	CHECK_EQ(file_disk_open(dev, 1, &d), 0);
	file_disk_fill(d, &disk);
	check_disk(&disk, buf);
	file_disk_close(d);
	free(buf);
	free(model);
	printf("test_file_disk: %s: ok\n", dev);
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	const char *dev = getenv("LKL_TEST_BLKDEV");
	int i;

	main_thread = pthread_self();
	if (dev && *dev)
		test_blockdev(dev);
	if (!tmp || !*tmp)
		tmp = "/tmp";
	for (i = 1; i < argc || i == 1; i++) {
		const char *dir = argc > 1 ? argv[i] : tmp;

		test_open_errors(dir);
		test_rw(dir);
		test_cow(dir);
		test_try_now(dir);
		printf("test_file_disk: %s: ok\n", dir);
	}
	printf("test_file_disk: all passed, %lu requests\n", completions);
	return 0;
}
