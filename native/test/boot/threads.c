// SPDX-License-Identifier: GPL-2.0
/*
 * boot_test: several host threads making system calls at once, and
 * threads that live for one call (each a host task of the kernel's).
 */
#include "harness.h"

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
		r = k_statx(fd, "", LKL_AT_EMPTY_PATH, LKL_STATX_BASIC_STATS,
			    &stx);
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

void test_threads(void)
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
void test_short_lived_threads(void)
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
