// SPDX-License-Identifier: GPL-2.0
/*
 * split_poll(): a look at both sides without waiting; if nothing is
 * ready, the host side waits on the calling thread, the kernel side on a
 * helper thread.  The eventfds are the calling thread's own, made on
 * its first mixed wait and kept until the thread ends: most programs
 * that mix wait in a loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>

#include "hijack.h"
#include "kcalls.h"
#include "real.h"
#include "wait.h"

struct kernel_side {
	struct pollfd *fds;
	nfds_t n;
	struct timespec *timeout;	/* the kernel writes the time left */
	int host_wake;
	long result;
};

static __thread int host_wake = -1;
static __thread int kernel_wake = -1;
static pthread_key_t wake_key;
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;
static int wake_key_err;

/* The thread ends: its eventfds go with it. */
static void wake_release(void *unused)
{
	(void)unused;
	if (host_wake >= 0)
		real.close(host_wake);
	if (kernel_wake >= 0 && !hijack_forked)
		k_close(kernel_wake);
	host_wake = kernel_wake = -1;
}

static void wake_key_make(void)
{
	wake_key_err = pthread_key_create(&wake_key, wake_release);
}

static int wake_fds(void)
{
	long k;

	if (host_wake < 0 && kernel_wake < 0) {
		/* A value, so that the destructor runs at the thread's end. */
		if (pthread_once(&wake_once, wake_key_make) || wake_key_err ||
		    pthread_setspecific(wake_key, &wake_key)) {
			errno = ENOMEM;
			return -1;
		}
	}

	if (host_wake < 0) {
		host_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (host_wake < 0)
			return -1;
	}
	if (kernel_wake < 0) {
		k = K(eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC, 0, 0, 0, 0);
		if (k < 0)
			return ret(k);
		kernel_wake = k;
	}
	return 0;
}

static void *kernel_wait(void *arg)
{
	struct kernel_side *side = arg;
	uint64_t one = 1;

	side->result = K(ppoll, (long)side->fds, side->n + 1,
			 (long)side->timeout, 0, 8, 0);
	while (real.write(side->host_wake, &one, sizeof(one)) < 0 &&
	       errno == EINTR)
		;
	return NULL;
}

int split_poll(struct pollfd *hfds, nfds_t hn, struct pollfd *kfds, nfds_t kn,
	       const struct timespec *timeout, const sigset_t *mask)
{
	struct timespec left = timeout ? *timeout : (struct timespec){ 0 };
	struct kernel_side side = { kfds, kn, timeout ? &left : NULL, -1, 0 };
	uint64_t one = 1, count;
	pthread_t thread;
	sigset_t all, old;
	int n, err, saved;
	nfds_t i;

	/*
	 * Ready already (a busy connection's usual case): no thread.  Both
	 * sides are looked at, so that neither starves the other.
	 */
	{
		struct timespec zero = { 0, 0 };
		long k = K(ppoll, (long)kfds, kn, (long)&zero, 0, 8, 0);
		int h;

		if (k < 0)
			return ret(k);
		zero = (struct timespec){ 0, 0 };
		h = real.ppoll(hfds, hn, &zero, mask);
		if (h < 0)
			return -1;
		if (h + k > 0)
			return h + k;
		if (timeout && !timeout->tv_sec && !timeout->tv_nsec)
			return 0;
	}

	if (wake_fds())
		return -1;
	side.host_wake = host_wake;
	hfds[hn] = (struct pollfd){ .fd = host_wake, .events = POLLIN };
	kfds[kn] = (struct pollfd){ .fd = kernel_wake, .events = POLLIN };

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&thread, NULL, kernel_wait, &side);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errno = err;
		return -1;
	}

	n = real.ppoll(hfds, hn + 1, timeout, mask);
	saved = errno;
	/*
	 * Neither eventfd call can fail here but for a full counter (the
	 * other side is awake then anyway) or an empty one (EAGAIN: nothing
	 * to drain).
	 */
	K(write, kernel_wake, (long)&one, sizeof(one), 0, 0, 0);
	pthread_join(thread, NULL);
	K(read, kernel_wake, (long)&count, sizeof(count), 0, 0, 0);
	while (real.read(host_wake, &count, sizeof(count)) < 0 &&
	       errno == EINTR)
		;

	if (n < 0) {
		errno = saved;
		return -1;
	}
	if (side.result < 0 && side.result != -EINTR)
		return ret(side.result);
	n = 0;
	for (i = 0; i < hn; i++)
		n += !!hfds[i].revents;
	for (i = 0; i < kn; i++)
		n += !!kfds[i].revents;
	return n;
}
