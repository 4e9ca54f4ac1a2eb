// SPDX-License-Identifier: GPL-2.0
/*
 * The FUSE request loop: a leader/follower pool of threads.
 *
 * Why not libfuse's multi-threaded loop: all its workers wait in read()
 * on /dev/fuse and the host kernel hands each request to the one that
 * has waited longest, so consecutive requests land on different threads.
 * Each of our threads is a task of its own in the kernel library, and a
 * change of thread costs a task switch there (through the idle task: two
 * host wake-ups in a row) plus the host's context switches; untarring a
 * tree made 197,000 task switches with libfuse's loop against 1,600 with
 * one thread (docs/benchmarks.md, "lklfuse (issue 5)").  But one thread
 * makes every request wait behind a slow one: a stat behind an fsync.
 *
 * So one thread at a time, the leader, reads a request and serves it
 * itself, then reads the next: a stream of quick requests stays on one
 * thread.  A monitor (the thread that called lklfuse_loop()) watches the
 * leader; when it has been serving one request for LKLFUSE_HANDOFF_NS,
 * another thread of the pool becomes leader and reads the next request,
 * and the old one, its request done, waits to lead again.
 *
 * Exit: the device is non-blocking and the leader waits for it with
 * poll(), together with an eventfd that the monitor makes readable when
 * the session ends, so no thread is cancelled; a thread busy with a
 * request finishes it first.
 *
 * Signals: SIGHUP, SIGINT and SIGTERM are blocked in every thread while
 * the loop runs, and the monitor reads them from a signalfd, one more
 * descriptor in its poll, so a stop signal never interrupts anything.
 * A signal does not mark the session ended, as libfuse's handlers do:
 * libfuse drops the next request it reads from an ended session, whose
 * caller then waits for an answer until the unmount.  Nor does the pool
 * stop at once: the caller's drain function runs first, on a thread of
 * its own, while the pool serves and the monitor goes on watching it,
 * because forget.c's thread must finish its notifications, and the host
 * makes a FUSE_NOTIFY_INVAL_ENTRY wait for the directory's lock, which a
 * lookup queued for us holds.  (Before, a signal stopped the pool with
 * such a notification waiting, and the server hung in its drain.)  Then
 * the pool stops between requests, reading none it would not serve.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "lklfuse.h"

/*
 * How long the leader may serve one request before another thread takes
 * over reading.  Most requests take tens of microseconds, and handing over
 * costs a task switch in the kernel library; a request that takes a
 * millisecond is waiting for the disk (an fsync, a cold read) and may take
 * much longer, and whatever arrives meanwhile should not wait for it.
 */
#define LKLFUSE_HANDOFF_NS	1000000L

struct lklfuse_loop {
	struct fuse_session *se;
	void (*drain)(void *);		/* run before a signalled stop */
	void *drain_arg;
	int dev_fd;			/* /dev/fuse, made non-blocking */
	int exit_fd;			/* eventfd: readable once we stop */
	int wake_fd;			/* eventfd: wakes a sleeping monitor */
	int sig_fd;			/* signalfd: SIGHUP, SIGINT, SIGTERM */
	pthread_t drainer;		/* runs drain after a stop signal */

	pthread_mutex_t lock;
	pthread_cond_t follow;		/* followers wait here to lead */
	/* The rest under lock. */
	bool have_leader;
	bool busy;			/* the leader is serving a request */
	bool monitor_asleep;		/* monitor waits for wake_fd only */
	bool exiting;
	bool draining;			/* drainer started */
	bool drained;			/* drainer done */
	unsigned int idle;		/* followers waiting on follow */
	unsigned long gen;		/* changes when the leader is deposed */
	unsigned long seq;		/* requests the leaders began */
	struct timespec start;		/* when the leader began its request */
	int error;			/* first fatal error, negative errno */
};

static long elapsed_ns(const struct timespec *from)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now))
		return 0;
	return (now.tv_sec - from->tv_sec) * 1000000000L +
	       (now.tv_nsec - from->tv_nsec);
}

static void must(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "lklfuse-server: %s: %s\n", what, strerror(err));
		abort();
	}
}

static void lock(struct lklfuse_loop *lp)
{
	must(pthread_mutex_lock(&lp->lock), "pthread_mutex_lock");
}

static void unlock(struct lklfuse_loop *lp)
{
	must(pthread_mutex_unlock(&lp->lock), "pthread_mutex_unlock");
}

static void poke(int fd)
{
	uint64_t one = 1;

	/* Only fails if the counter would overflow: it is readable then. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		must(errno, "eventfd write");
}

/* With lp->lock held: the session ends, with @err (0 or -errno). */
static void stop_locked(struct lklfuse_loop *lp, int err)
{
	if (err && !lp->error)
		lp->error = err;
	if (lp->exiting)
		return;
	lp->exiting = true;
	must(pthread_cond_broadcast(&lp->follow), "pthread_cond_broadcast");
	poke(lp->exit_fd);
	poke(lp->wake_fd);
}

/*
 * Wait until the device has a request (or is gone: read() then says so)
 * or the loop stops.  0, or -errno if poll() failed.
 */
static int wait_request(struct lklfuse_loop *lp)
{
	struct pollfd p[2] = {
		{ .fd = lp->dev_fd, .events = POLLIN },
		{ .fd = lp->exit_fd, .events = POLLIN },
	};

	if (poll(p, 2, -1) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/*
 * Lead: read and serve requests until deposed or the loop stops.  Called
 * and returns with lp->lock held.
 */
static void lead(struct lklfuse_loop *lp, struct fuse_buf *fbuf)
{
	unsigned long gen = lp->gen;
	bool wake;
	int res;

	while (!lp->exiting) {
		unlock(lp);
		res = fuse_session_receive_buf(lp->se, fbuf);
		if (res == -EAGAIN)
			res = wait_request(lp) ?: -EINTR;
		lock(lp);
		if (res == -EINTR || res == -EAGAIN) {
			/* Ended before the loop began: libfuse's handler. */
			if (fuse_session_exited(lp->se))
				stop_locked(lp, 0);
			continue;
		}
		if (res <= 0) {
			/* 0: the session ended (unmounted). */
			stop_locked(lp, res);
			break;
		}
		lp->busy = true;
		lp->seq++;
		if (clock_gettime(CLOCK_MONOTONIC, &lp->start))
			must(errno, "clock_gettime");
		wake = lp->monitor_asleep;
		lp->monitor_asleep = false;
		unlock(lp);
		if (wake)
			poke(lp->wake_fd);

		fuse_session_process_buf(lp->se, fbuf);

		lock(lp);
		if (lp->gen != gen)
			break;		/* another thread leads now */
		lp->busy = false;
	}
}

static void *worker(void *arg)
{
	struct lklfuse_loop *lp = arg;
	struct fuse_buf fbuf = { .mem = NULL };

	lock(lp);
	while (!lp->exiting) {
		if (lp->have_leader) {
			lp->idle++;
			must(pthread_cond_wait(&lp->follow, &lp->lock),
			     "pthread_cond_wait");
			lp->idle--;
			continue;
		}
		lp->have_leader = true;
		lead(lp, &fbuf);
		/* Deposed, our place taken; or stopping (nobody leads). */
		if (lp->exiting)
			lp->have_leader = false;
	}
	unlock(lp);
	free(fbuf.mem);
	return NULL;
}

/* The drainer: the caller's drain, then the monitor stops the loop. */
static void *drainer(void *arg)
{
	struct lklfuse_loop *lp = arg;

	lp->drain(lp->drain_arg);
	lock(lp);
	lp->drained = true;
	unlock(lp);
	poke(lp->wake_fd);
	return NULL;
}

/*
 * With lp->lock held: a stop signal came.  The loop stops now, or once
 * the drain has run; 0, or -errno if the drainer could not start.
 */
static int signalled_locked(struct lklfuse_loop *lp)
{
	int err;

	if (lp->draining || lp->exiting)
		return 0;	/* stopping already: a second signal waits */
	if (!lp->drain) {
		stop_locked(lp, 0);
		return 0;
	}
	if (!lklfuse_start_threads(&lp->drainer, 1, drainer, lp, &err))
		return -err;
	lp->draining = true;
	return 0;
}

/* Read the signals that came; whether there were any.  -errno on error. */
static int take_signals(struct lklfuse_loop *lp)
{
	struct signalfd_siginfo si[4];
	ssize_t n;
	int got = 0;

	for (;;) {
		n = read(lp->sig_fd, si, sizeof(si));
		if (n > 0) {
			got = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		return got;
	}
}

/*
 * The monitor, until the session ends: hands reading over when the leader
 * is slow.  Ticks every LKLFUSE_HANDOFF_NS while requests come; after a
 * tick with none, sleeps until the next leader's request wakes it (one
 * eventfd write at the start of a burst, none within it), a stop signal
 * comes or the drain ends.
 */
static void monitor(struct lklfuse_loop *lp)
{
	struct pollfd p[3] = {
		{ .fd = lp->wake_fd, .events = POLLIN },
		{ .fd = lp->exit_fd, .events = POLLIN },
		{ .fd = lp->sig_fd, .events = POLLIN },
	};
	unsigned long seen = lp->seq;
	struct timespec ts, *timeout;
	uint64_t count;
	int sig = 0;
	long ns;

	lock(lp);
	while (!lp->exiting) {
		ns = LKLFUSE_HANDOFF_NS;
		if (lp->busy) {
			ns -= elapsed_ns(&lp->start);
			if (ns <= 0 && lp->idle) {
				/* Depose the leader; a follower leads. */
				lp->gen++;
				lp->busy = false;
				lp->have_leader = false;
				must(pthread_cond_signal(&lp->follow),
				     "pthread_cond_signal");
				ns = LKLFUSE_HANDOFF_NS;
			} else if (ns <= 0) {
				/* Every thread is busy: look again later. */
				ns = LKLFUSE_HANDOFF_NS;
			}
			timeout = &ts;
		} else if (lp->seq != seen) {
			seen = lp->seq;
			timeout = &ts;
		} else {
			lp->monitor_asleep = true;
			timeout = NULL;
		}
		unlock(lp);
		ts.tv_sec = ns / 1000000000L;
		ts.tv_nsec = ns % 1000000000L;
		if (ppoll(p, 3, timeout, NULL) < 0 && errno != EINTR) {
			lock(lp);
			stop_locked(lp, -errno);
			break;
		}
		if (p[0].revents & POLLIN &&
		    read(lp->wake_fd, &count, sizeof(count)) < 0 &&
		    errno != EAGAIN)
			must(errno, "eventfd read");
		if (p[2].revents & POLLIN)
			sig = take_signals(lp);
		lock(lp);
		lp->monitor_asleep = false;
		if (sig > 0)
			sig = signalled_locked(lp);
		if (sig < 0) {
			stop_locked(lp, sig);
			break;
		}
		sig = 0;
		/* The drain is over; or the session ended before we began. */
		if (lp->drained || (fuse_session_exited(lp->se) &&
				    !lp->draining))
			stop_locked(lp, 0);
	}
	unlock(lp);
}

unsigned int lklfuse_start_threads(pthread_t *threads, unsigned int n,
				   void *(*fn)(void *), void *arg, int *err)
{
	sigset_t all, old;
	unsigned int i;

	if (sigfillset(&all)) {
		*err = errno;
		return 0;
	}
	*err = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (*err)
		return 0;
	for (i = 0; i < n; i++) {
		*err = pthread_create(&threads[i], NULL, fn, arg);
		if (*err)
			break;
	}
	must(pthread_sigmask(SIG_SETMASK, &old, NULL), "pthread_sigmask");
	return i;
}

/* Make the pool; the number of threads made, or -errno if none. */
static int start_pool(struct lklfuse_loop *lp, pthread_t *threads,
		      unsigned int nthreads)
{
	unsigned int i;
	int err;

	i = lklfuse_start_threads(threads, nthreads, worker, lp, &err);
	if (!i)
		return -err;
	if (err)
		fprintf(stderr, "lklfuse-server: %u threads of %u: %s\n", i,
			nthreads, strerror(err));
	return i;
}

int lklfuse_loop(struct fuse_session *se, unsigned int nthreads,
		 void (*drain)(void *), void *drain_arg)
{
	struct lklfuse_loop *lp;
	pthread_t *threads = NULL;
	sigset_t stops, old;
	int flags, made = 0, r, i;

	lp = calloc(1, sizeof(*lp));
	if (!lp)
		return -ENOMEM;
	lp->se = se;
	lp->drain = drain;
	lp->drain_arg = drain_arg;
	lp->dev_fd = fuse_session_fd(se);
	lp->exit_fd = lp->wake_fd = lp->sig_fd = -1;
	r = -pthread_mutex_init(&lp->lock, NULL);
	if (r)
		goto out_free;
	r = -pthread_cond_init(&lp->follow, NULL);
	if (r)
		goto out_mutex;
	r = -ENOMEM;
	threads = calloc(nthreads, sizeof(*threads));
	if (!threads)
		goto out_cond;
	lp->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	lp->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (lp->exit_fd < 0 || lp->wake_fd < 0) {
		r = -errno;
		goto out_fds;
	}
	/* The leader waits in poll(), where it can also hear of the exit. */
	flags = fcntl(lp->dev_fd, F_GETFL);
	if (flags < 0 || fcntl(lp->dev_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		r = -errno;
		goto out_fds;
	}
	/*
	 * The stop signals stay pending (every other thread blocks them
	 * too) until the monitor reads them from the signalfd.
	 */
	if (sigemptyset(&stops) || sigaddset(&stops, SIGHUP) ||
	    sigaddset(&stops, SIGINT) || sigaddset(&stops, SIGTERM)) {
		r = -errno;
		goto out_fds;
	}
	r = -pthread_sigmask(SIG_BLOCK, &stops, &old);
	if (r)
		goto out_fds;
	lp->sig_fd = signalfd(-1, &stops, SFD_CLOEXEC | SFD_NONBLOCK);
	if (lp->sig_fd < 0) {
		r = -errno;
		goto out_mask;
	}
	made = start_pool(lp, threads, nthreads);
	if (made > 0)
		monitor(lp);
	for (i = 0; i < made; i++)
		must(pthread_join(threads[i], NULL), "pthread_join");
	/* The pool has stopped: a drain still running (unmounted) ends. */
	if (lp->draining)
		must(pthread_join(lp->drainer, NULL), "pthread_join");
	r = made < 0 ? made : lp->error;
	/* As fuse_session_loop() leaves it, for whoever looks next. */
	if (made > 0)
		fuse_session_reset(se);
out_mask:
	/* A signal still pending now finds libfuse's handler: harmless. */
	must(pthread_sigmask(SIG_SETMASK, &old, NULL), "pthread_sigmask");
out_fds:
	if (lp->sig_fd >= 0)
		close(lp->sig_fd);
	if (lp->exit_fd >= 0)
		close(lp->exit_fd);
	if (lp->wake_fd >= 0)
		close(lp->wake_fd);
	free(threads);
out_cond:
	pthread_cond_destroy(&lp->follow);
out_mutex:
	pthread_mutex_destroy(&lp->lock);
out_free:
	free(lp);
	return r;
}
