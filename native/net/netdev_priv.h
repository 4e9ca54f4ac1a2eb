/* SPDX-License-Identifier: GPL-2.0 */
/* What the backends (tap.c, raw.c) share with netdev.c. */
#ifndef LKL_NATIVE_NET_NETDEV_PRIV_H
#define LKL_NATIVE_NET_NETDEV_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include "netdev.h"

struct host_netdev {
	struct lkl_netdev nd;
	int fd;			/* the frames, non-blocking */
	int wake;		/* eventfd: the thread looks at @armed again */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	int armed;		/* LKL_NET_*: what the kernel waits for */
	bool stop;
	bool has_mac;
	unsigned char mac[6];
};

/* A device around @fd (taken over, closed on failure), no offloads yet. */
int host_netdev_new(int fd, struct host_netdev **out);

#endif /* LKL_NATIVE_NET_NETDEV_PRIV_H */
