// SPDX-License-Identifier: GPL-2.0
/*
 * poll, ppoll and select, on host descriptors, the kernel's, or both
 * (wait.c).  A set of one side's only is one call of that side.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "fdmap.h"
#include "hijack.h"
#include "kcalls.h"
#include "real.h"
#include "wait.h"

static int poll_any(struct pollfd *fds, nfds_t n,
		    const struct timespec *timeout, const sigset_t *mask)
{
	struct pollfd *hfds, *kfds;
	nfds_t i, hn = 0, kn = 0;
	int *where, r;

	for (i = 0; i < n; i++) {
		int k = fds[i].fd >= 0 ? route(fds[i].fd) : -1;

		if (k < -1)
			return -1;	/* a child's kernel socket: EBADF */
		kn += k >= 0;
	}
	if (!kn)
		return real.ppoll(fds, n, timeout, mask);

	/* Both sides' sets, each with room for the wake-up. */
	hfds = calloc(2 * (n + 1), sizeof(*hfds));
	where = calloc(n ? n : 1, sizeof(*where));
	if (!hfds || !where) {
		free(hfds);
		free(where);
		errno = ENOMEM;
		return -1;
	}
	kfds = hfds + n + 1;
	kn = 0;
	for (i = 0; i < n; i++) {
		int k = fds[i].fd >= 0 ? fdmap_get(fds[i].fd) : -1;

		fds[i].revents = 0;
		if (fds[i].fd < 0) {
			where[i] = -1;
		} else if (k >= 0) {
			kfds[kn] = (struct pollfd){ k, fds[i].events, 0 };
			where[i] = n + 1 + kn++;
		} else {
			hfds[hn] = fds[i];
			where[i] = hn++;
		}
	}

	if (!hn) {
		/* The kernel writes the time left back: a copy of ours. */
		struct timespec left;

		if (timeout)
			left = *timeout;
		r = ret(K(ppoll, (long)kfds, kn, (long)(timeout ? &left : NULL),
			  0, 8, 0));
	} else {
		r = split_poll(hfds, hn, kfds, kn, timeout, mask);
	}
	if (r >= 0)
		for (i = 0; i < n; i++)
			if (where[i] >= 0)
				fds[i].revents = hfds[where[i]].revents;
	free(hfds);
	free(where);
	return r;
}

static struct timespec *ms_timeout(int ms, struct timespec *ts)
{
	if (ms < 0)
		return NULL;
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (ms % 1000) * 1000000L;
	return ts;
}

HOOK int poll(struct pollfd *fds, nfds_t n, int ms)
{
	struct timespec ts;

	return poll_any(fds, n, ms_timeout(ms, &ts), NULL);
}

HOOK int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t len)
{
	if (n > len / sizeof(*fds))
		__builtin_trap();
	return poll(fds, n, ms);
}

HOOK int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
	       const sigset_t *mask)
{
	return poll_any(fds, n, timeout, mask);
}

static int select_any(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		      const struct timespec *timeout, const sigset_t *mask)
{
	struct pollfd *fds;
	int fd, n = 0, r, count = 0;

	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	fds = calloc(nfds ? nfds : 1, sizeof(*fds));
	if (!fds) {
		errno = ENOMEM;
		return -1;
	}
	for (fd = 0; fd < nfds; fd++) {
		short ev = (rd && FD_ISSET(fd, rd) ? POLLIN : 0) |
			   (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
			   (ex && FD_ISSET(fd, ex) ? POLLPRI : 0);

		if (ev)
			fds[n++] = (struct pollfd){ fd, ev, 0 };
	}
	r = poll_any(fds, n, timeout, mask);
	if (r < 0) {
		free(fds);
		return -1;
	}
	for (fd = 0; fd < n; fd++)
		if (fds[fd].revents & POLLNVAL) {
			free(fds);
			errno = EBADF;
			return -1;
		}
	if (rd)
		FD_ZERO(rd);
	if (wr)
		FD_ZERO(wr);
	if (ex)
		FD_ZERO(ex);
	for (fd = 0; fd < n; fd++) {
		short re = fds[fd].revents;

		if (rd && (fds[fd].events & POLLIN) &&
		    (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(fds[fd].fd, rd);
			count++;
		}
		if (wr && (fds[fd].events & POLLOUT) &&
		    (re & (POLLOUT | POLLERR))) {
			FD_SET(fds[fd].fd, wr);
			count++;
		}
		if (ex && (fds[fd].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(fds[fd].fd, ex);
			count++;
		}
	}
	free(fds);
	return count;
}

HOOK int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		struct timeval *tv)
{
	struct timespec ts;
	int i;

	/* A host-only set keeps select(2)'s own semantics, timeout update too. */
	for (i = 0; i < nfds && i < FD_SETSIZE; i++)
		if (((rd && FD_ISSET(i, rd)) || (wr && FD_ISSET(i, wr)) ||
		     (ex && FD_ISSET(i, ex))) && fdmap_get(i) >= 0)
			break;
	if (i >= nfds || i >= FD_SETSIZE)
		return real.select(nfds, rd, wr, ex, tv);
	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000L;
	}
	return select_any(nfds, rd, wr, ex, tv ? &ts : NULL, NULL);
}

HOOK int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		 const struct timespec *timeout, const sigset_t *mask)
{
	return select_any(nfds, rd, wr, ex, timeout, mask);
}
