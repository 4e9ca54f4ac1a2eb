/* SPDX-License-Identifier: GPL-2.0 */
/* rtnetlink requests to the library kernel, for applying a configuration. */
#ifndef LKL_HIJACK_NETLINK_H
#define LKL_HIJACK_NETLINK_H

#include <netinet/in.h>

/* Each returns 0 or a negative errno from the kernel's answer. */
int nl_link_up(int ifindex, unsigned int mtu);
int nl_addr_add(int family, int ifindex, const void *addr, int prefixlen);
/* A route in @table to @dst/@dst_len (NULL: default), via @gw (or NULL). */
int nl_route_add(int family, int table, int ifindex, const void *dst,
		 int dst_len, const void *gw);
/* "from @src lookup @table" */
int nl_rule_add(int family, const void *src, int table);
int nl_neigh_add(int family, int ifindex, const void *addr,
		 const unsigned char mac[6]);
int nl_qdisc_root(int ifindex, const char *kind);

#endif /* LKL_HIJACK_NETLINK_H */
