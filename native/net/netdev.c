// SPDX-License-Identifier: GPL-2.0
/*
 * What every backend shares: frames in and out of one non-blocking host
 * descriptor, and a thread that waits on it for what the kernel armed.
 * The kernel reads and writes on its own CPU (tx, rx); only its waits go
 * through the thread, so a busy interface costs no thread switches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netdev_priv.h"

_Static_assert(sizeof(struct lkl_net_iov) == sizeof(struct iovec) &&
	       offsetof(struct lkl_net_iov, len) == offsetof(struct iovec, iov_len),
	       "struct lkl_net_iov must be laid out as struct iovec");

static long netdev_tx(void *priv, const struct lkl_net_iov *iov, int count)
{
	struct host_netdev *dev = priv;
	ssize_t n;

	do
		n = writev(dev->fd, (const struct iovec *)iov, count);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static long netdev_rx(void *priv, const struct lkl_net_iov *iov, int count)
{
	struct host_netdev *dev = priv;
	ssize_t n;

	do
		n = readv(dev->fd, (const struct iovec *)iov, count);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static void netdev_wake(struct host_netdev *dev)
{
	uint64_t one = 1;

	/* Only a full counter fails, and then the thread is awake anyway. */
	while (write(dev->wake, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void netdev_arm(void *priv, int events)
{
	struct host_netdev *dev = priv;

	pthread_mutex_lock(&dev->lock);
	dev->armed |= events;
	pthread_mutex_unlock(&dev->lock);
	netdev_wake(dev);
}

static void *netdev_thread(void *arg)
{
	struct host_netdev *dev = arg;
	struct pollfd pfd[2];
	uint64_t count;
	int armed, ready;

	for (;;) {
		pthread_mutex_lock(&dev->lock);
		armed = dev->armed;
		if (dev->stop) {
			pthread_mutex_unlock(&dev->lock);
			return NULL;
		}
		pthread_mutex_unlock(&dev->lock);

		/* Unarmed, its errors and hang-ups would wake us for nothing. */
		pfd[0].fd = armed ? dev->fd : -1;
		pfd[0].events = (armed & LKL_NET_RX ? POLLIN : 0) |
				(armed & LKL_NET_TX ? POLLOUT : 0);
		pfd[1].fd = dev->wake;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) < 0)
			continue;	/* EINTR; nothing else with valid sets */
		if ((pfd[1].revents & POLLIN) &&
		    read(dev->wake, &count, sizeof(count)) < 0 &&
		    errno != EAGAIN)
			continue;

		ready = 0;
		if (pfd[0].revents & (POLLIN | POLLERR | POLLHUP))
			ready |= LKL_NET_RX;
		if (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP))
			ready |= LKL_NET_TX;
		pthread_mutex_lock(&dev->lock);
		ready &= dev->armed;
		dev->armed &= ~ready;
		pthread_mutex_unlock(&dev->lock);
		if (ready)
			lkl_netdev_event(&dev->nd, ready);
	}
}

int host_netdev_new(int fd, struct host_netdev **out)
{
	struct host_netdev *dev;

	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		close(fd);
		return -ENOMEM;
	}
	dev->fd = fd;
	dev->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->wake < 0) {
		int err = -errno;

		close(fd);
		free(dev);
		return err;
	}
	pthread_mutex_init(&dev->lock, NULL);
	dev->nd.priv = dev;
	dev->nd.tx = netdev_tx;
	dev->nd.rx = netdev_rx;
	dev->nd.arm = netdev_arm;
	*out = dev;
	return 0;
}

int host_netdev_open(const char *type, const char *param,
		     unsigned long long offload, struct host_netdev **out)
{
	if (!strcmp(type, "tap"))
		return host_netdev_tap(param, offload, out);
	if (!strcmp(type, "macvtap"))
		return host_netdev_macvtap(param, offload, out);
	if (!strcmp(type, "raw"))
		return host_netdev_raw(param, offload, out);
	return -ENOENT;
}

int host_netdev_mac(const struct host_netdev *dev, unsigned char mac[6])
{
	if (!dev->has_mac)
		return 0;
	memcpy(mac, dev->mac, 6);
	return 1;
}

int host_netdev_attach(struct host_netdev *dev, const unsigned char *mac,
		       unsigned int mtu, char *name, int name_len)
{
	static const unsigned char zero[6];
	sigset_t all, old;
	int err;

	if (mac && memcmp(mac, zero, 6))
		memcpy(dev->nd.mac, mac, 6);
	else if (dev->has_mac)
		memcpy(dev->nd.mac, dev->mac, 6);
	dev->nd.mtu = mtu;

	/* The thread takes no signal of the program's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&dev->thread, NULL, netdev_thread, dev);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return err;
	dev->thread_started = true;
	return lkl_netdev_add(&dev->nd, name, name_len);
}

void host_netdev_close(struct host_netdev *dev)
{
	if (dev->thread_started) {
		pthread_mutex_lock(&dev->lock);
		dev->stop = true;
		pthread_mutex_unlock(&dev->lock);
		netdev_wake(dev);
		pthread_join(dev->thread, NULL);
	}
	close(dev->wake);
	close(dev->fd);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}
