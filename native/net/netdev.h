/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host network backends for the kernel's Ethernet interfaces
 * (linux/arch/lkl/drivers/net.c): a named tap, a macvtap, or a packet
 * socket on a host interface.  Each is a host descriptor that moves whole
 * frames, non-blocking, and a thread that waits on it when the kernel
 * asks (struct lkl_netdev's arm) and tells the kernel when it can go on.
 */
#ifndef LKL_NATIVE_NET_NETDEV_H
#define LKL_NATIVE_NET_NETDEV_H

#define LKL_NETDEV_API
#include <lkl/host_ops.h>

struct host_netdev;

/*
 * The backends.  @offload is the virtio-net feature mask the kernel may
 * use (LKL_VIRTIO_NET_F_*); a backend that cannot honour a bit refuses it
 * with -EINVAL, and 0 means plain frames.  Each returns 0 or a negative
 * errno, and the device in @out, not yet given to the kernel.
 *
 * tap: @param is the name of an existing tap device (ip tuntap add).
 * macvtap: @param is a macvtap interface's name (its /dev/tapN is
 *	found through sysfs) or a /dev/tapN path; the kernel's interface
 *	must use the macvtap's MAC address, which host_netdev_mac() gives.
 * raw: @param is a host interface's name; frames go out and come in
 *	through an AF_PACKET socket bound to it, with no offloads.
 */
int host_netdev_tap(const char *param, unsigned long long offload,
		    struct host_netdev **out);
int host_netdev_macvtap(const char *param, unsigned long long offload,
			struct host_netdev **out);
int host_netdev_raw(const char *param, unsigned long long offload,
		    struct host_netdev **out);

/* The backend named @type ("tap", "macvtap" or "raw"); -ENOENT if none. */
int host_netdev_open(const char *type, const char *param,
		     unsigned long long offload, struct host_netdev **out);

/* The host's MAC address for the interface, or 0 if the backend has none. */
int host_netdev_mac(const struct host_netdev *dev, unsigned char mac[6]);

/*
 * Give the device to the kernel (lkl_netdev_add()), with @mac (NULL or
 * all zeroes: the backend's own, else random) and @mtu (0: 1500).
 * Returns the interface's ifindex, its name in @name, or a negative errno.
 */
int host_netdev_attach(struct host_netdev *dev, const unsigned char *mac,
		       unsigned int mtu, char *name, int name_len);

/*
 * Stop the device's thread and close its descriptor.  Only once the
 * kernel has let go of it: after lkl_netdev_remove() or the halt.
 */
void host_netdev_close(struct host_netdev *dev);

#endif /* LKL_NATIVE_NET_NETDEV_H */
