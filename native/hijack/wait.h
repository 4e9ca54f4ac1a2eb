/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A wait on host and kernel descriptors at once.  Neither kernel can
 * wait on the other's descriptors, so the host side waits on the calling
 * thread and the kernel side on a helper thread, each with an eventfd of
 * its own kernel in its set, which the side that ends first writes to
 * end the other.
 */
#ifndef LKL_HIJACK_WAIT_H
#define LKL_HIJACK_WAIT_H

#include <poll.h>
#include <signal.h>
#include <time.h>

/*
 * Wait until one of @hfds (host descriptors, @hn of them) or @kfds (the
 * kernel's, @kn) is ready, or @timeout (NULL: none) passes; @mask as for
 * ppoll() on the host side.  Each array must have room for one more
 * entry, the wake-up.  Returns the number of entries with events on
 * both sides together, or -1 with errno.
 */
int split_poll(struct pollfd *hfds, nfds_t hn, struct pollfd *kfds, nfds_t kn,
	       const struct timespec *timeout, const sigset_t *mask);

#endif /* LKL_HIJACK_WAIT_H */
