// SPDX-License-Identifier: GPL-2.0
/*
 * Tap and macvtap backends: frames through the tun driver's character
 * devices, with a virtio-net header in front of each when offloads are
 * asked for, so that checksums and TCP segmentation cross unfinished.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "netdev_priv.h"

#define BIT(f)	(1ULL << LKL_VIRTIO_NET_F_##f)

/* Bits a tap can honour.  14 (HOST_UFO) is in the classic 0xc803: no-op. */
#define TAP_OFFLOADS	(BIT(CSUM) | BIT(GUEST_CSUM) | BIT(GUEST_TSO4) | \
			 BIT(GUEST_TSO6) | BIT(HOST_TSO4) | BIT(HOST_TSO6) | \
			 BIT(MRG_RXBUF) | (1ULL << 14))

/* What the host may give us, as TUNSETOFFLOAD flags; -1 if inconsistent. */
static int tap_offload_flags(unsigned long long offload)
{
	int flags = 0;

	if (offload & BIT(GUEST_CSUM))
		flags |= TUN_F_CSUM;
	if (offload & (BIT(GUEST_TSO4) | BIT(MRG_RXBUF)))
		flags |= TUN_F_TSO4;
	if (offload & BIT(GUEST_TSO6))
		flags |= TUN_F_TSO6;
	/* Segments whose checksum the host left to us need GUEST_CSUM. */
	if ((flags & (TUN_F_TSO4 | TUN_F_TSO6)) && !(flags & TUN_F_CSUM))
		return -1;
	return flags;
}

/* Set up @fd, an open tun or tap character device, for @offload. */
static int tap_setup(int fd, const char *name, unsigned long long offload)
{
	int hdr_len = LKL_NET_VNET_HDR_LEN;
	int flags = tap_offload_flags(offload);
	struct ifreq ifr;

	if ((offload & ~TAP_OFFLOADS) || flags < 0)
		return -EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	if (name && strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	if (name)
		strcpy(ifr.ifr_name, name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	if (offload && ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		return -errno;
	/*
	 * Always, 0 too: a tap keeps the offloads of its last reader, and
	 * with them the host would hand us frames with checksums unfinished.
	 */
	if (ioctl(fd, TUNSETOFFLOAD, flags) < 0)
		return -errno;
	return 0;
}

static int tap_device(int fd, unsigned long long offload,
		      struct host_netdev **out)
{
	int err;

	err = host_netdev_new(fd, out);
	if (err)
		return err;
	(*out)->nd.vnet_hdr = !!offload;
	(*out)->nd.offload = offload;
	return 0;
}

int host_netdev_tap(const char *param, unsigned long long offload,
		    struct host_netdev **out)
{
	int fd, err;

	if (!param || !*param)
		return -EINVAL;
	/*
	 * An existing tap only: as root, TUNSETIFF would make one of a
	 * mistyped name, and the program would run cut off.
	 */
	if (strlen(param) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	if (!if_nametoindex(param))
		return -ENODEV;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = tap_setup(fd, param, offload);
	if (err) {
		close(fd);
		return err;
	}
	return tap_device(fd, offload, out);
}

/* "aa:bb:cc:dd:ee:ff\n" from sysfs into @mac. */
static int read_mac(const char *ifname, unsigned char mac[6])
{
	char path[64 + IFNAMSIZ];
	unsigned int b[6];
	FILE *f;
	int n, i;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]);
	fclose(f);
	if (n != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

int host_netdev_macvtap(const char *param, unsigned long long offload,
			struct host_netdev **out)
{
	char path[64 + IFNAMSIZ];
	unsigned char mac[6];
	bool has_mac = false;
	unsigned int ifindex;
	int fd, err;

	if (!param || !*param)
		return -EINVAL;
	if (param[0] == '/') {
		snprintf(path, sizeof(path), "%s", param);
	} else {
		if (strlen(param) >= IFNAMSIZ)
			return -ENAMETOOLONG;
		ifindex = if_nametoindex(param);
		if (!ifindex)
			return -ENODEV;
		snprintf(path, sizeof(path), "/dev/tap%u", ifindex);
		/* macvlan only lets in frames for the macvtap's own address */
		has_mac = !read_mac(param, mac);
	}
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = tap_setup(fd, NULL, offload);
	if (!err)
		err = tap_device(fd, offload, out);
	else
		close(fd);
	if (err)
		return err;
	if (has_mac) {
		memcpy((*out)->mac, mac, 6);
		(*out)->has_mac = true;
	}
	return 0;
}
