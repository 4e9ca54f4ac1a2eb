// SPDX-License-Identifier: GPL-2.0
/*
 * epoll.  The program's epoll descriptor is a host one; kernel
 * descriptors added to it go into a shadow epoll set in the kernel,
 * made on the first.  A wait with members on one side only is that
 * side's epoll_wait; with both, each side's set is polled for readiness
 * (wait.c), then both are read without waiting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

#include "epoll.h"
#include "fdmap.h"
#include "hijack.h"
#include "kcalls.h"
#include "real.h"
#include "wait.h"

struct shadow {
	int epfd;		/* the program's, a host epoll descriptor */
	int kfd;		/* the kernel's set, or -1 before the first */
	int host_members;	/* added less deleted, on each side */
	int kernel_members;
	struct shadow *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct shadow *shadows;

/* A snapshot of @epfd's shadow: false if it is not the program's epoll. */
static bool shadow_get(int epfd, struct shadow *copy)
{
	struct shadow *s;

	pthread_mutex_lock(&lock);
	for (s = shadows; s && s->epfd != epfd; s = s->next)
		;
	if (s)
		*copy = *s;
	pthread_mutex_unlock(&lock);
	return s;
}

void epoll_forget_range(unsigned int first, unsigned int last)
{
	struct shadow **p, *s, *gone = NULL;

	pthread_mutex_lock(&lock);
	for (p = &shadows; *p;) {
		s = *p;
		if ((unsigned int)s->epfd < first || (unsigned int)s->epfd > last) {
			p = &s->next;
			continue;
		}
		*p = s->next;
		s->next = gone;
		gone = s;
	}
	pthread_mutex_unlock(&lock);
	while ((s = gone)) {
		gone = s->next;
		if (s->kfd >= 0 && !hijack_forked)
			k_close(s->kfd);
		free(s);
	}
}

void epoll_forget(int fd)
{
	if (fd >= 0)
		epoll_forget_range(fd, fd);
}

static int shadow_new(int epfd)
{
	struct shadow *s = calloc(1, sizeof(*s));

	if (!s) {
		real.close(epfd);
		errno = ENOMEM;
		return -1;
	}
	s->epfd = epfd;
	s->kfd = -1;
	pthread_mutex_lock(&lock);
	s->next = shadows;
	shadows = s;
	pthread_mutex_unlock(&lock);
	return epfd;
}

HOOK int epoll_create1(int flags)
{
	int epfd = real.epoll_create1(flags);

	return epfd < 0 || !hijack_on ? epfd : shadow_new(epfd);
}

HOOK int epoll_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return epoll_create1(0);
}

HOOK int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct shadow *s;
	int k = route(fd), r, delta;
	long kfd;

	if (k < -1)
		return -1;
	if (k < 0) {
		r = real.epoll_ctl(epfd, op, fd, ev);
		delta = op == EPOLL_CTL_ADD ? 1 : op == EPOLL_CTL_DEL ? -1 : 0;
		if (r == 0 && delta) {
			pthread_mutex_lock(&lock);
			for (s = shadows; s && s->epfd != epfd; s = s->next)
				;
			if (s)
				s->host_members += delta;
			pthread_mutex_unlock(&lock);
		}
		return r;
	}

	pthread_mutex_lock(&lock);
	for (s = shadows; s && s->epfd != epfd; s = s->next)
		;
	if (!s) {
		pthread_mutex_unlock(&lock);
		errno = EINVAL;	/* not an epoll descriptor of the program's */
		return -1;
	}
	if (s->kfd < 0) {
		kfd = K(epoll_create1, EPOLL_CLOEXEC, 0, 0, 0, 0, 0);
		if (kfd < 0) {
			pthread_mutex_unlock(&lock);
			return ret(kfd);
		}
		s->kfd = kfd;
	}
	kfd = s->kfd;
	r = ret(K(epoll_ctl, kfd, op, k, (long)ev, 0, 0));
	if (r == 0)
		s->kernel_members += op == EPOLL_CTL_ADD ? 1 :
				     op == EPOLL_CTL_DEL ? -1 : 0;
	pthread_mutex_unlock(&lock);
	return r;
}

static long kernel_epoll(int kfd, struct epoll_event *ev, int max, int ms)
{
	return K(epoll_pwait, kfd, (long)ev, max, ms, 0, 8);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Both sides, without waiting: host events first, then the kernel's. */
static int harvest(const struct shadow *s, struct epoll_event *ev, int max)
{
	int n = real.epoll_wait(s->epfd, ev, max, 0);
	long m;

	if (n < 0)
		return -1;
	if (n == max)
		return n;
	m = kernel_epoll(s->kfd, ev + n, max - n, 0);
	if (m < 0)
		return n ? n : ret(m);
	return n + m;
}

static int epoll_both(const struct shadow *s, struct epoll_event *ev, int max,
		      int ms, const sigset_t *mask)
{
	long long deadline = ms > 0 ? now_ms() + ms : 0;
	struct pollfd hfds[2], kfds[2];
	struct timespec ts;
	int n;

	for (;;) {
		n = harvest(s, ev, max);
		if (n != 0 || ms == 0)
			return n;
		if (ms > 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return 0;
			ts.tv_sec = left / 1000;
			ts.tv_nsec = left % 1000 * 1000000;
		}
		hfds[0] = (struct pollfd){ s->epfd, POLLIN, 0 };
		kfds[0] = (struct pollfd){ s->kfd, POLLIN, 0 };
		n = split_poll(hfds, 1, kfds, 1, ms > 0 ? &ts : NULL, mask);
		if (n < 0)
			return -1;
	}
}

HOOK int epoll_pwait(int epfd, struct epoll_event *ev, int max, int ms,
		     const sigset_t *mask)
{
	struct shadow s;

	if (!shadow_get(epfd, &s) || s.kfd < 0 || s.kernel_members <= 0)
		return real.epoll_pwait(epfd, ev, max, ms, mask);
	if (max <= 0) {
		errno = EINVAL;
		return -1;
	}
	if (s.host_members <= 0)
		return ret(kernel_epoll(s.kfd, ev, max, ms));
	return epoll_both(&s, ev, max, ms, mask);
}

HOOK int epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
	return epoll_pwait(epfd, ev, max, ms, NULL);
}
