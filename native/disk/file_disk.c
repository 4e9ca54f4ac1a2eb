// SPDX-License-Identifier: GPL-2.0
/*
 * Raw image file disk backend for LKL, see file_disk.h.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "file_disk.h"
#include "image_lock.h"

#define DISK_WORKERS		4
#define DISK_SECTOR_SIZE	512ULL
/* iovecs kept on the stack; longer requests allocate */
#define IOV_STACK		32
/* iovecs per pwritev when writing zeroes by hand */
#define ZERO_IOVS		64

#define COW_BLOCK_SHIFT		12
#define COW_BLOCK_SIZE		(1U << COW_BLOCK_SHIFT)
#define COW_MIN_BUCKETS		256

static const unsigned char zero_block[COW_BLOCK_SIZE];

struct cow_block {
	struct cow_block *next;
	unsigned long long index;	/* disk offset / COW_BLOCK_SIZE */
	unsigned char data[COW_BLOCK_SIZE];
};

/* The overlay of a read-only disk: block index -> block, chained hash. */
struct cow_map {
	pthread_mutex_t lock;		/* held for a whole request */
	struct cow_block **buckets;	/* NULL until the first write */
	size_t nbuckets;		/* a power of two */
	size_t count;
};

struct file_disk {
	int fd;
	bool read_only;
	unsigned long long capacity;

	pthread_mutex_t lock;		/* the queue and the fields below */
	pthread_cond_t work;		/* a request was queued, or stopping */
	pthread_cond_t idle;		/* inflight dropped to zero */
	struct lkl_blk_req *head;
	struct lkl_blk_req **tail;
	unsigned int inflight;		/* submitted, not yet completed */
	bool stopping;
	unsigned int nworkers;
	pthread_t workers[DISK_WORKERS];

	struct cow_map cow;

	/*
	 * Reads [0] and writes [1] the file's filesystem refuses RWF_NOWAIT
	 * for; only try_now() uses them, on the kernel's CPU, one at a time.
	 */
	bool nowait_refused[2];
};

/* pthread calls that cannot fail on valid objects. */
static inline void must(int err)
{
	if (err)
		abort();
}

/* Walks the segments of a request in increasing request positions. */
struct seg_iter {
	const struct lkl_blk_seg *seg;
	const struct lkl_blk_seg *end;
	unsigned long long start;	/* request position where *seg starts */
};

static void seg_iter_init(struct seg_iter *it, const struct lkl_blk_req *req)
{
	it->seg = req->segs;
	it->end = req->segs + req->nsegs;
	it->start = 0;
}

/*
 * Copy @n bytes between @buf and the request's memory at request position
 * @pos, into the segments if @to_segs.  @pos never goes backwards.
 */
static void seg_iter_copy(struct seg_iter *it, unsigned long long pos,
			  void *buf, size_t n, bool to_segs)
{
	unsigned char *p = buf;

	while (n && it->seg < it->end) {
		size_t in, chunk;
		unsigned char *mem;

		if (pos >= it->start + it->seg->len) {
			it->start += it->seg->len;
			it->seg++;
			continue;
		}
		in = pos - it->start;
		chunk = it->seg->len - in;
		if (chunk > n)
			chunk = n;
		mem = (unsigned char *)it->seg->base + in;
		if (to_segs)
			memcpy(mem, p, chunk);
		else
			memcpy(p, mem, chunk);
		p += chunk;
		pos += chunk;
		n -= chunk;
	}
}

/*
 * Transfer all of @iov (@cnt entries, none empty) at @off, retrying short
 * transfers and EINTR.  A read reaching the end of the file zero-fills
 * the rest.  @iov is consumed.  Returns 0 or a negative errno.
 */
static int rw_full(int fd, bool write, struct iovec *iov, int cnt, off_t off)
{
	while (cnt > 0) {
		int batch = cnt < IOV_MAX ? cnt : IOV_MAX;
		ssize_t n;

		if (write)
			n = pwritev(fd, iov, batch, off);
		else
			n = preadv(fd, iov, batch, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (write)
				return -EIO;
			for (; cnt > 0; iov++, cnt--)
				memset(iov->iov_base, 0, iov->iov_len);
			return 0;
		}
		off += n;
		while (n > 0) {
			if ((size_t)n >= iov->iov_len) {
				n -= iov->iov_len;
				iov++;
				cnt--;
			} else {
				iov->iov_base = (char *)iov->iov_base + n;
				iov->iov_len -= n;
				n = 0;
			}
		}
	}
	return 0;
}

static int file_sync(int fd)
{
	while (fdatasync(fd)) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Read or write the request's segments at its offset in the file. */
static int file_rw(struct file_disk *d, struct lkl_blk_req *req, bool write)
{
	struct iovec stack_iov[IOV_STACK], *iov = stack_iov;
	unsigned int i;
	int cnt = 0, err;

	if (req->nsegs > IOV_STACK) {
		iov = malloc(req->nsegs * sizeof(*iov));
		if (!iov)
			return -ENOMEM;
	}
	for (i = 0; i < req->nsegs; i++) {
		if (!req->segs[i].len)
			continue;
		iov[cnt].iov_base = req->segs[i].base;
		iov[cnt].iov_len = req->segs[i].len;
		cnt++;
	}
	err = rw_full(d->fd, write, iov, cnt, req->offset);
	if (iov != stack_iov)
		free(iov);
	return err;
}

static int file_fallocate(int fd, int mode, off_t off, off_t len)
{
	while (fallocate(fd, mode, off, len)) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int file_write_zeroes(struct file_disk *d, off_t off,
			     unsigned long long len)
{
	struct iovec iov[ZERO_IOVS];
	int err, cnt;

	if (!len)
		return 0;
	err = file_fallocate(d->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			     off, len);
	if (err != -EOPNOTSUPP && err != -ENOSYS && err != -EINVAL &&
	    err != -ENODEV)
		return err;

	/* Not supported here: write zeroes, ZERO_IOVS blocks at a time. */
	while (len) {
		off_t start = off;

		for (cnt = 0; cnt < ZERO_IOVS && len; cnt++) {
			size_t chunk = len < COW_BLOCK_SIZE ? len : COW_BLOCK_SIZE;

			iov[cnt].iov_base = (void *)zero_block;
			iov[cnt].iov_len = chunk;
			len -= chunk;
			off += chunk;
		}
		err = rw_full(d->fd, true, iov, cnt, start);
		if (err)
			return err;
	}
	return 0;
}

static int file_discard(struct file_disk *d, off_t off,
			unsigned long long len)
{
	int err;

	if (!len)
		return 0;
	err = file_fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     off, len);
	/* Discarded data may read back as anything: not punching is fine. */
	if (err == -EOPNOTSUPP || err == -ENOSYS)
		return 0;
	return err;
}

/* Copy-on-write overlay for read-only disks */

static size_t cow_slot(unsigned long long index, size_t nbuckets)
{
	unsigned long long h = index * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h ^ (h >> 32)) & (nbuckets - 1);
}

static struct cow_block *cow_find(struct cow_map *m, unsigned long long index)
{
	struct cow_block *b;

	if (!m->buckets)
		return NULL;
	for (b = m->buckets[cow_slot(index, m->nbuckets)]; b; b = b->next)
		if (b->index == index)
			return b;
	return NULL;
}

/* Double the table; on failure keep the old one, which still works. */
static void cow_grow(struct cow_map *m)
{
	size_t n = m->nbuckets * 2, i;
	struct cow_block **buckets, *b, *next;

	buckets = calloc(n, sizeof(*buckets));
	if (!buckets)
		return;
	for (i = 0; i < m->nbuckets; i++) {
		for (b = m->buckets[i]; b; b = next) {
			size_t slot = cow_slot(b->index, n);

			next = b->next;
			b->next = buckets[slot];
			buckets[slot] = b;
		}
	}
	free(m->buckets);
	m->buckets = buckets;
	m->nbuckets = n;
}

static int cow_insert(struct cow_map *m, struct cow_block *b)
{
	size_t slot;

	if (!m->buckets) {
		m->buckets = calloc(COW_MIN_BUCKETS, sizeof(*m->buckets));
		if (!m->buckets)
			return -ENOMEM;
		m->nbuckets = COW_MIN_BUCKETS;
	} else if (m->count >= m->nbuckets) {
		cow_grow(m);
	}
	slot = cow_slot(b->index, m->nbuckets);
	b->next = m->buckets[slot];
	m->buckets[slot] = b;
	m->count++;
	return 0;
}

static void cow_clear(struct cow_map *m)
{
	struct cow_block *b, *next;
	size_t i;

	for (i = 0; i < m->nbuckets; i++) {
		for (b = m->buckets[i]; b; b = next) {
			next = b->next;
			free(b);
		}
	}
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = 0;
	m->count = 0;
}

/*
 * The overlay block @index, created if missing.  A new block starts with
 * the file's data unless @overwrite says the caller replaces all of it.
 * Called with the overlay lock held.
 */
static int cow_get(struct file_disk *d, unsigned long long index,
		   bool overwrite, struct cow_block **out)
{
	struct cow_block *b = cow_find(&d->cow, index);
	struct iovec iov;
	int err;

	if (b) {
		*out = b;
		return 0;
	}
	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->index = index;
	if (!overwrite) {
		iov.iov_base = b->data;
		iov.iov_len = COW_BLOCK_SIZE;
		err = rw_full(d->fd, false, &iov, 1,
			      (off_t)(index << COW_BLOCK_SHIFT));
		if (err)
			goto free_block;
	}
	err = cow_insert(&d->cow, b);
	if (err)
		goto free_block;
	*out = b;
	return 0;

free_block:
	free(b);
	return err;
}

/* Write the request's data, or zeroes if @zero, into the overlay. */
static int cow_write(struct file_disk *d, struct lkl_blk_req *req, bool zero)
{
	unsigned long long pos = 0;
	struct seg_iter it;
	int err = 0;

	seg_iter_init(&it, req);
	must(pthread_mutex_lock(&d->cow.lock));
	while (pos < req->len) {
		unsigned long long off = req->offset + pos;
		size_t in = off & (COW_BLOCK_SIZE - 1);
		size_t chunk = COW_BLOCK_SIZE - in;
		struct cow_block *b;

		if (chunk > req->len - pos)
			chunk = req->len - pos;
		err = cow_get(d, off >> COW_BLOCK_SHIFT,
			      chunk == COW_BLOCK_SIZE, &b);
		if (err)
			break;
		if (zero)
			memset(b->data + in, 0, chunk);
		else
			seg_iter_copy(&it, pos, b->data + in, chunk, false);
		pos += chunk;
	}
	must(pthread_mutex_unlock(&d->cow.lock));
	return err;
}

/*
 * Read from the file (which never changes), then copy in the overlay
 * blocks of the range.  The overlay pass holds the lock as a whole, as
 * writes do, so a read sees each overlapping write entirely or not at all.
 */
static int cow_read(struct file_disk *d, struct lkl_blk_req *req)
{
	unsigned long long pos = 0;
	struct seg_iter it;
	int err;

	err = file_rw(d, req, false);
	if (err)
		return err;

	seg_iter_init(&it, req);
	must(pthread_mutex_lock(&d->cow.lock));
	while (d->cow.count && pos < req->len) {
		unsigned long long off = req->offset + pos;
		size_t in = off & (COW_BLOCK_SIZE - 1);
		size_t chunk = COW_BLOCK_SIZE - in;
		struct cow_block *b;

		if (chunk > req->len - pos)
			chunk = req->len - pos;
		b = cow_find(&d->cow, off >> COW_BLOCK_SHIFT);
		if (b)
			seg_iter_copy(&it, pos, b->data + in, chunk, true);
		pos += chunk;
	}
	must(pthread_mutex_unlock(&d->cow.lock));
	return 0;
}

/*
 * Drop the overlay blocks lying wholly inside the range: they read back
 * as the file's data again, which a discard allows.
 */
static void cow_discard(struct file_disk *d, struct lkl_blk_req *req)
{
	unsigned long long first, end;
	struct cow_block **pb, *b;
	size_t i;

	first = (req->offset + COW_BLOCK_SIZE - 1) >> COW_BLOCK_SHIFT;
	end = (req->offset + req->len) >> COW_BLOCK_SHIFT;
	if (first >= end)
		return;

	must(pthread_mutex_lock(&d->cow.lock));
	for (i = 0; i < d->cow.nbuckets; i++) {
		pb = &d->cow.buckets[i];
		while ((b = *pb)) {
			if (b->index >= first && b->index < end) {
				*pb = b->next;
				free(b);
				d->cow.count--;
			} else {
				pb = &b->next;
			}
		}
	}
	must(pthread_mutex_unlock(&d->cow.lock));
}

/* Requests */

static int req_check(struct file_disk *d, struct lkl_blk_req *req)
{
	unsigned long long sum = 0;
	unsigned int i;

	if (req->op == LKL_BLK_FLUSH)
		return 0;	/* no range */
	if (req->offset > d->capacity || req->len > d->capacity - req->offset)
		return -EIO;
	if (req->op != LKL_BLK_READ && req->op != LKL_BLK_WRITE)
		return 0;
	if (req->nsegs > INT_MAX || (req->nsegs && !req->segs))
		return -EINVAL;
	for (i = 0; i < req->nsegs; i++)
		sum += req->segs[i].len;
	return sum == req->len ? 0 : -EINVAL;
}

static int handle_rw(struct file_disk *d, struct lkl_blk_req *req)
{
	int err;

	switch (req->op) {
	case LKL_BLK_READ:
		return file_rw(d, req, false);
	case LKL_BLK_WRITE:
		err = file_rw(d, req, true);
		if (!err && req->fua)
			err = file_sync(d->fd);
		return err;
	case LKL_BLK_FLUSH:
		return file_sync(d->fd);
	case LKL_BLK_DISCARD:
		return file_discard(d, req->offset, req->len);
	case LKL_BLK_WRITE_ZEROES:
		err = file_write_zeroes(d, req->offset, req->len);
		if (!err && req->fua)
			err = file_sync(d->fd);
		return err;
	}
	return -EOPNOTSUPP;
}

static int handle_ro(struct file_disk *d, struct lkl_blk_req *req)
{
	switch (req->op) {
	case LKL_BLK_READ:
		return cow_read(d, req);
	case LKL_BLK_WRITE:
		return cow_write(d, req, false);
	case LKL_BLK_FLUSH:
		return 0;
	case LKL_BLK_DISCARD:
		cow_discard(d, req);
		return 0;
	case LKL_BLK_WRITE_ZEROES:
		return cow_write(d, req, true);
	}
	return -EOPNOTSUPP;
}

static int handle(struct file_disk *d, struct lkl_blk_req *req)
{
	int err = req_check(d, req);

	if (err)
		return err;
	return d->read_only ? handle_ro(d, req) : handle_rw(d, req);
}

static void *disk_worker(void *p)
{
	struct file_disk *d = p;
	struct lkl_blk_req *req;

	must(pthread_mutex_lock(&d->lock));
	for (;;) {
		while (!d->head && !d->stopping)
			must(pthread_cond_wait(&d->work, &d->lock));
		req = d->head;
		if (!req)
			break;
		d->head = req->next;
		if (!d->head)
			d->tail = &d->head;
		must(pthread_mutex_unlock(&d->lock));

		req->error = handle(d, req);
		lkl_blk_complete(req);

		must(pthread_mutex_lock(&d->lock));
		if (!--d->inflight)
			must(pthread_cond_broadcast(&d->idle));
	}
	must(pthread_mutex_unlock(&d->lock));
	return NULL;
}

/*
 * The largest request done at once on the kernel's CPU.  A small one
 * (metadata: btrfs's 16 KiB nodes, ext4's 4 KiB blocks) costs less than
 * the hand-off to a worker and back; a large one's copy is better made
 * by a worker, beside the kernel's work, than on its CPU.
 */
#define NOW_MAX_BYTES		(64U << 10)

/*
 * A read or write, without FUA, when the host's page cache serves it
 * with no wait for its disk (RWF_NOWAIT): -EAGAIN when it cannot, or
 * served only part, which a worker then does whole again.
 */
static int file_rw_now(struct file_disk *d, struct lkl_blk_req *req)
{
	struct iovec iov[IOV_STACK];
	bool write = req->op == LKL_BLK_WRITE;
	unsigned int i;
	int cnt = 0;
	ssize_t n;

	if (req->nsegs > IOV_STACK)
		return -EAGAIN;
	for (i = 0; i < req->nsegs; i++) {
		if (!req->segs[i].len)
			continue;
		iov[cnt].iov_base = req->segs[i].base;
		iov[cnt].iov_len = req->segs[i].len;
		cnt++;
	}
	if (d->nowait_refused[write])
		return -EAGAIN;
	if (write)
		n = pwritev2(d->fd, iov, cnt, req->offset, RWF_NOWAIT);
	else
		n = preadv2(d->fd, iov, cnt, req->offset, RWF_NOWAIT);
	/*
	 * A filesystem without RWF_NOWAIT for this (ext4's buffered writes,
	 * tmpfs's reads in older kernels) will not take it next time either.
	 */
	if (n < 0 && errno == EOPNOTSUPP)
		d->nowait_refused[write] = true;
	return n >= 0 && (unsigned long long)n == req->len ? 0 : -EAGAIN;
}

/*
 * A read-only disk's read, at once: only while no write has gone to its
 * overlay (the overlay's lock may be held across a worker's file read,
 * so it is only tried).
 */
static int cow_read_now(struct file_disk *d, struct lkl_blk_req *req)
{
	int err = -EAGAIN;

	if (pthread_mutex_trylock(&d->cow.lock))
		return -EAGAIN;
	if (!d->cow.count)
		err = file_rw_now(d, req);
	must(pthread_mutex_unlock(&d->cow.lock));
	return err;
}

static int file_disk_try_now(void *priv, struct lkl_blk_req *req)
{
	struct file_disk *d = priv;

	if ((req->op != LKL_BLK_READ && req->op != LKL_BLK_WRITE) ||
	    req->fua || req->len > NOW_MAX_BYTES || req_check(d, req))
		return -EAGAIN;
	if (d->read_only) {
		if (req->op != LKL_BLK_READ)
			return -EAGAIN;
		if (cow_read_now(d, req))
			return -EAGAIN;
	} else if (file_rw_now(d, req)) {
		return -EAGAIN;
	}
	req->error = 0;
	return 0;
}

static void file_disk_submit(void *priv, struct lkl_blk_req *req)
{
	struct file_disk *d = priv;

	req->next = NULL;
	must(pthread_mutex_lock(&d->lock));
	*d->tail = req;
	d->tail = &req->next;
	d->inflight++;
	must(pthread_cond_signal(&d->work));
	must(pthread_mutex_unlock(&d->lock));
}

/* Start a worker with every signal blocked; 0 or a positive errno. */
static int start_worker(struct file_disk *d, pthread_t *thread)
{
	sigset_t all, old;
	int err;

	if (sigfillset(&all))
		return errno;
	err = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (err)
		return err;
	err = pthread_create(thread, NULL, disk_worker, d);
	must(pthread_sigmask(SIG_SETMASK, &old, NULL));
	return err;
}

static void stop_workers(struct file_disk *d)
{
	unsigned int i;

	must(pthread_mutex_lock(&d->lock));
	while (d->inflight)
		must(pthread_cond_wait(&d->idle, &d->lock));
	d->stopping = true;
	must(pthread_cond_broadcast(&d->work));
	must(pthread_mutex_unlock(&d->lock));

	for (i = 0; i < d->nworkers; i++)
		must(pthread_join(d->workers[i], NULL));
	d->nworkers = 0;
}

static int disk_size(int fd, unsigned long long *size)
{
	struct stat st;
	uint64_t bytes;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISREG(st.st_mode)) {
		*size = st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes))
			return -errno;
		*size = bytes;
		return 0;
	}
	return -EINVAL;
}

static int disk_init_locks(struct file_disk *d)
{
	int err;

	err = pthread_mutex_init(&d->lock, NULL);
	if (err)
		return -err;
	err = pthread_cond_init(&d->work, NULL);
	if (err)
		goto destroy_lock;
	err = pthread_cond_init(&d->idle, NULL);
	if (err)
		goto destroy_work;
	err = pthread_mutex_init(&d->cow.lock, NULL);
	if (err)
		goto destroy_idle;
	return 0;

destroy_idle:
	must(pthread_cond_destroy(&d->idle));
destroy_work:
	must(pthread_cond_destroy(&d->work));
destroy_lock:
	must(pthread_mutex_destroy(&d->lock));
	return -err;
}

static void disk_destroy_locks(struct file_disk *d)
{
	must(pthread_mutex_destroy(&d->cow.lock));
	must(pthread_cond_destroy(&d->idle));
	must(pthread_cond_destroy(&d->work));
	must(pthread_mutex_destroy(&d->lock));
}

int file_disk_open(const char *path, unsigned int flags,
		   struct file_disk **out)
{
	bool read_only = flags & FILE_DISK_READ_ONLY;
	unsigned long long size = 0;
	struct file_disk *d;
	int fd, fl, err;

	*out = NULL;
	/* O_NONBLOCK so that opening a FIFO cannot hang before it is refused */
	fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		  O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/*
	 * Before the kernel reads a byte, and before the size: what it reads
	 * must not be changing, and a holder waited for may have resized it.
	 */
	err = image_lock(fd, !read_only, flags & FILE_DISK_WAIT_LOCK);
	if (err)
		goto close_fd;
	err = disk_size(fd, &size);
	if (err)
		goto close_fd;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
		err = -errno;
		goto close_fd;
	}

	d = calloc(1, sizeof(*d));
	if (!d) {
		err = -ENOMEM;
		goto close_fd;
	}
	d->fd = fd;
	d->read_only = read_only;
	d->capacity = size & ~(DISK_SECTOR_SIZE - 1);
	d->tail = &d->head;
	err = disk_init_locks(d);
	if (err)
		goto free_disk;

	for (d->nworkers = 0; d->nworkers < DISK_WORKERS; d->nworkers++) {
		err = start_worker(d, &d->workers[d->nworkers]);
		if (err) {
			err = -err;
			stop_workers(d);
			goto destroy_locks;
		}
	}
	*out = d;
	return 0;

destroy_locks:
	disk_destroy_locks(d);
free_disk:
	free(d);
close_fd:
	close(fd);
	return err;
}

void file_disk_fill(struct file_disk *d, struct lkl_disk *out)
{
	out->capacity = d->capacity;
	out->read_only = d->read_only;
	out->priv = d;
	out->submit = file_disk_submit;
	out->try_now = file_disk_try_now;
}

void file_disk_close(struct file_disk *d)
{
	stop_workers(d);
	/*
	 * Nothing can be done about an error here: every write was already
	 * completed, and made durable if the kernel asked for it.
	 */
	close(d->fd);
	cow_clear(&d->cow);
	disk_destroy_locks(d);
	free(d);
}
