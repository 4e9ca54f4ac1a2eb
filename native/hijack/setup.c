// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration, applied in the classic order: per interface up and
 * MTU, IPv4 address and its gateway's table, IPv6 likewise, neighbours,
 * qdiscs; then the default gateways, mounts, sysctls and the nameserver.
 * Each failure is one line naming the key, and the program does not start.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../net/netdev.h"
#include "kcalls.h"
#include "netlink.h"
#include "setup.h"

#define MAIN_TABLE	254

static int fail(const struct config *cfg, const char *what, int err,
		const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lkl-hijack: %s: %s: ", cfg->source, what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err < 0 ? -err : err));
	return -1;
}

int setup_interfaces(struct config *cfg)
{
	int i, err;

	for (i = 0; i < cfg->iface_count; i++) {
		struct config_iface *ifc = &cfg->iface[i];
		struct host_netdev *dev;
		char what[32];

		snprintf(what, sizeof(what), "interfaces[%d]", i);
		err = host_netdev_open(ifc->type, ifc->param, ifc->offload, &dev);
		if (err == -EINVAL && ifc->offload)
			return fail(cfg, what, err, "%s \"%s\" with offload %#llx",
				    ifc->type, ifc->param, ifc->offload);
		if (err)
			return fail(cfg, what, err, "%s \"%s\"", ifc->type,
				    ifc->param);
		err = host_netdev_attach(dev, ifc->has_mac ? ifc->mac : NULL,
					 ifc->mtu, NULL, 0);
		if (err < 0) {
			host_netdev_close(dev);
			return fail(cfg, what, err, "%s \"%s\"", ifc->type,
				    ifc->param);
		}
	}
	return 0;
}

/* The kernel's ifindex of eth@i: the interfaces register in order. */
static int eth_ifindex(int i)
{
	struct ifreq ifr;
	long fd, err;

	fd = k_socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "eth%d", i);
	err = k_ioctl(fd, SIOCGIFINDEX, &ifr);
	k_close(fd);
	return err < 0 ? err : ifr.ifr_ifindex;
}

static void masked(int family, const void *addr, int len, unsigned char *out)
{
	int bytes = family == AF_INET ? 4 : 16, i;

	memcpy(out, addr, bytes);
	for (i = 0; i < bytes; i++) {
		int keep = len >= 8 ? 8 : len > 0 ? len : 0;

		out[i] &= (unsigned char)(0xff00 >> keep);
		len -= 8;
	}
}

/* Source routing: "from @addr" looks up table @table, which has the link
 * and a default route via @gw. */
static int policy_route(int family, int ifindex, int table, const void *addr,
			int len, const void *gw)
{
	unsigned char net[16];
	int err;

	masked(family, addr, len, net);
	err = nl_route_add(family, table, ifindex, net, len, NULL);
	if (!err)
		err = nl_route_add(family, table, ifindex, NULL, 0, gw);
	if (!err)
		err = nl_rule_add(family, addr, table);
	return err;
}

static int setup_iface(struct config *cfg, int i)
{
	struct config_iface *ifc = &cfg->iface[i];
	char what[48], a[INET6_ADDRSTRLEN];
	int ifindex = eth_ifindex(i), err, j;

	snprintf(what, sizeof(what), "interfaces[%d]", i);
	if (ifindex < 0)
		return fail(cfg, what, ifindex, "eth%d", i);
	err = nl_link_up(ifindex, ifc->mtu);
	if (err)
		return fail(cfg, what, err, "eth%d up with MTU %u", i, ifc->mtu);
	if (ifc->has_ip) {
		err = nl_addr_add(AF_INET, ifindex, &ifc->ip, ifc->masklen);
		if (err)
			return fail(cfg, what, err, "ip %s/%u",
				    inet_ntop(AF_INET, &ifc->ip, a, sizeof(a)),
				    ifc->masklen);
	}
	if (ifc->has_gw) {
		err = policy_route(AF_INET, ifindex, 2 * ifindex, &ifc->ip,
				   ifc->masklen, &ifc->gw);
		if (err)
			return fail(cfg, what, err, "ifgateway %s (table %d)",
				    inet_ntop(AF_INET, &ifc->gw, a, sizeof(a)),
				    2 * ifindex);
	}
	if (ifc->has_ip6) {
		err = nl_addr_add(AF_INET6, ifindex, &ifc->ip6, ifc->masklen6);
		if (err)
			return fail(cfg, what, err, "ipv6 %s/%u",
				    inet_ntop(AF_INET6, &ifc->ip6, a, sizeof(a)),
				    ifc->masklen6);
	}
	if (ifc->has_gw6) {
		err = policy_route(AF_INET6, ifindex, 2 * ifindex + 1, &ifc->ip6,
				   ifc->masklen6, &ifc->gw6);
		if (err)
			return fail(cfg, what, err, "ifgateway6 %s (table %d)",
				    inet_ntop(AF_INET6, &ifc->gw6, a, sizeof(a)),
				    2 * ifindex + 1);
	}
	for (j = 0; j < ifc->neigh_count; j++) {
		struct config_neigh *ne = &ifc->neigh[j];

		err = nl_neigh_add(ne->family, ifindex, ne->addr, ne->mac);
		if (err)
			return fail(cfg, what, err, "neigh %s",
				    inet_ntop(ne->family, ne->addr, a, sizeof(a)));
	}
	for (j = 0; j < ifc->qdisc_count; j++) {
		err = nl_qdisc_root(ifindex, ifc->qdisc_kind[j]);
		if (err)
			return fail(cfg, what, err, "qdisc root|%s",
				    ifc->qdisc_kind[j]);
	}
	return 0;
}

/* Write @value to a file of the kernel's, made if need be. */
static int write_kernel_file(const char *path, const char *value, int create)
{
	long fd, n;

	fd = K(openat, AT_FDCWD, (long)path,
	       O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0644,
	       0, 0);
	if (fd < 0)
		return fd;
	n = k_write(fd, value, strlen(value));
	k_close(fd);
	return n < 0 ? n : 0;
}

static int setup_sysctl(struct config *cfg, int i)
{
	char path[256], *p;
	int err;

	if (snprintf(path, sizeof(path), "/proc/sys/%s", cfg->sysctl_key[i]) >=
	    (int)sizeof(path))
		return fail(cfg, "sysctl", ENAMETOOLONG, "%s", cfg->sysctl_key[i]);
	for (p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	err = write_kernel_file(path, cfg->sysctl_value[i], 0);
	if (err)
		return fail(cfg, "sysctl", err, "%s=%s", cfg->sysctl_key[i],
			    cfg->sysctl_value[i]);
	return 0;
}

int setup_after_boot(struct config *cfg)
{
	char line[INET6_ADDRSTRLEN + 16];
	int i, err;

	err = nl_link_up(1, 0);
	if (err)
		return fail(cfg, "lo", err, "up");
	for (i = 0; i < cfg->iface_count; i++)
		if (setup_iface(cfg, i))
			return -1;
	if (cfg->has_gw) {
		err = nl_route_add(AF_INET, MAIN_TABLE, 0, NULL, 0, &cfg->gw);
		if (err)
			return fail(cfg, "gateway", err, "default route");
	}
	if (cfg->has_gw6) {
		err = nl_route_add(AF_INET6, MAIN_TABLE, 0, NULL, 0, &cfg->gw6);
		if (err)
			return fail(cfg, "gateway6", err, "default route");
	}
	/* /proc is mounted at boot; sysfs where the classic library put it. */
	if (cfg->mount_sysfs) {
		err = K(mkdirat, AT_FDCWD, (long)"/sysfs", 0555, 0, 0, 0);
		if (!err || err == -EEXIST)
			err = K(mount, (long)"sysfs", (long)"/sysfs",
				(long)"sysfs", 0, 0, 0);
		if (err)
			return fail(cfg, "mount", err, "sysfs on /sysfs");
	}
	for (i = 0; i < cfg->sysctl_count; i++)
		if (setup_sysctl(cfg, i))
			return -1;
	if (cfg->has_ns) {
		/* The kernel's own /etc/resolv.conf: docs/hijack.md says who reads it. */
		err = K(mkdirat, AT_FDCWD, (long)"/etc", 0755, 0, 0, 0);
		snprintf(line, sizeof(line), "nameserver %s\n", cfg->nameserver);
		if (!err || err == -EEXIST)
			err = write_kernel_file("/etc/resolv.conf", line, 1);
		if (err)
			return fail(cfg, "nameserver", err, "/etc/resolv.conf");
	}
	return 0;
}
