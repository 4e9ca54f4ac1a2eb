// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink from the host side: each request is built in one buffer,
 * sent on a netlink socket of the library kernel, and answered with an
 * acknowledgement.  The kernel's netlink ABI is the host's, so the
 * host's <linux/rtnetlink.h> describes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "kcalls.h"
#include "netlink.h"

struct request {
	union {
		struct nlmsghdr h;
		char buf[1024];
	};
};

static void *tail(struct request *r)
{
	return r->buf + NLMSG_ALIGN(r->h.nlmsg_len);
}

static void start(struct request *r, int type, int flags, const void *hdr,
		  size_t len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h.nlmsg_len = NLMSG_LENGTH(len);
	memcpy(r->buf + NLMSG_HDRLEN, hdr, len);
}

static void attr(struct request *r, int type, const void *data, size_t len)
{
	struct rtattr *a = tail(r);

	if (NLMSG_ALIGN(r->h.nlmsg_len) + RTA_SPACE(len) > sizeof(r->buf))
		return;	/* our requests are all far smaller */

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void attr_u32(struct request *r, int type, unsigned int v)
{
	attr(r, type, &v, sizeof(v));
}

/* Send @r and wait for its acknowledgement: 0 or a negative errno. */
static int talk(struct request *r)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[4096];
	struct nlmsghdr *h;
	long fd, n;
	int err = -EPROTO;

	fd = K(socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE,
	       0, 0, 0);
	if (fd < 0)
		return fd;
	r->h.nlmsg_seq = 1;
	n = K(sendto, fd, (long)r, r->h.nlmsg_len, 0, (long)&kernel,
	      sizeof(kernel));
	if (n < 0) {
		err = n;
		goto out;
	}
	n = K(recvfrom, fd, (long)buf, sizeof(buf), 0, 0, 0);
	if (n < 0) {
		err = n;
		goto out;
	}
	for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			break;
		}
	}
out:
	k_close(fd);
	return err;
}

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int nl_link_up(int ifindex, unsigned int mtu)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = IFF_UP,
		.ifi_change = IFF_UP,
	};
	struct request r;

	start(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if (mtu)
		attr_u32(&r, IFLA_MTU, mtu);
	return talk(&r);
}

int nl_addr_add(int family, int ifindex, const void *addr, int prefixlen)
{
	struct ifaddrmsg ifa = {
		.ifa_family = family,
		.ifa_prefixlen = prefixlen,
		.ifa_index = ifindex,
	};
	struct request r;

	start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	attr(&r, IFA_LOCAL, addr, addr_len(family));
	attr(&r, IFA_ADDRESS, addr, addr_len(family));
	/* Usable at once: no duplicate address detection to wait out. */
	if (family == AF_INET6)
		attr_u32(&r, IFA_FLAGS, IFA_F_NODAD);
	return talk(&r);
}

int nl_route_add(int family, int table, int ifindex, const void *dst,
		 int dst_len, const void *gw)
{
	struct rtmsg rtm = {
		.rtm_family = family,
		.rtm_dst_len = dst ? dst_len : 0,
		.rtm_table = table < 256 ? table : RT_TABLE_UNSPEC,
		.rtm_protocol = RTPROT_BOOT,
		.rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		.rtm_type = RTN_UNICAST,
	};
	struct request r;

	start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rtm, sizeof(rtm));
	/* The table as an attribute too: ids of 256 and up fit only there. */
	attr_u32(&r, RTA_TABLE, table);
	if (dst)
		attr(&r, RTA_DST, dst, addr_len(family));
	if (gw)
		attr(&r, RTA_GATEWAY, gw, addr_len(family));
	if (ifindex)
		attr_u32(&r, RTA_OIF, ifindex);
	return talk(&r);
}

int nl_rule_add(int family, const void *src, int table)
{
	struct fib_rule_hdr frh = {
		.family = family,
		.src_len = family == AF_INET ? 32 : 128,
		.table = table < 256 ? table : RT_TABLE_UNSPEC,
		.action = FR_ACT_TO_TBL,
	};
	struct request r;

	start(&r, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, &frh, sizeof(frh));
	attr(&r, FRA_SRC, src, addr_len(family));
	attr_u32(&r, FRA_TABLE, table);
	return talk(&r);
}

int nl_neigh_add(int family, int ifindex, const void *addr,
		 const unsigned char mac[6])
{
	struct ndmsg ndm = {
		.ndm_family = family,
		.ndm_ifindex = ifindex,
		.ndm_state = NUD_PERMANENT,
	};
	struct request r;

	start(&r, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, &ndm, sizeof(ndm));
	attr(&r, NDA_DST, addr, addr_len(family));
	attr(&r, NDA_LLADDR, mac, 6);
	return talk(&r);
}

int nl_qdisc_root(int ifindex, const char *kind)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_ROOT,
	};
	struct request r;

	if (strlen(kind) > 64)
		return -EINVAL;
	start(&r, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, &tcm, sizeof(tcm));
	attr(&r, TCA_KIND, kind, strlen(kind) + 1);
	return talk(&r);
}
