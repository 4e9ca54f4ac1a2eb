// SPDX-License-Identifier: GPL-2.0
/*
 * The raw backend: an AF_PACKET socket bound to a host interface.  The
 * host's own traffic on that interface goes on; the kernel's interface
 * needs an address of its own (another MAC, on a bridge or a veth).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netdev_priv.h"

int host_netdev_raw(const char *param, unsigned long long offload,
		    struct host_netdev **out)
{
	struct sockaddr_ll sll;
	int fd, one = 1;
	unsigned int ifindex;

	if (!param || !*param)
		return -EINVAL;
	if (offload)
		return -EINVAL;	/* the frames cross as they are */
	ifindex = if_nametoindex(param);
	if (!ifindex)
		return -ENODEV;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	/* Our own frames, going out, must not come back in. */
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return host_netdev_new(fd, out);
}
