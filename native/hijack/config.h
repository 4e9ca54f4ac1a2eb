/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The classic configuration: from $LKL_HIJACK_CONFIG_FILE, else
 * ./lkl-hijack.json, else the LKL_HIJACK_* environment variables (a file
 * wins over them).  Every value is checked before the kernel boots.
 */
#ifndef LKL_HIJACK_CONFIG_H
#define LKL_HIJACK_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_IFACES	16
#define CONFIG_MAX_LIST		32	/* neigh, qdisc and sysctl entries */

struct config_neigh {
	int family;
	unsigned char addr[16];
	unsigned char mac[6];
};

struct config_iface {
	char type[16];
	char *param;
	unsigned int mtu;			/* 0: the default */
	bool has_ip, has_gw, has_ip6, has_gw6, has_mac;
	struct in_addr ip, gw;
	unsigned int masklen;
	struct in6_addr ip6, gw6;
	unsigned int masklen6;
	unsigned char mac[6];
	unsigned long long offload;
	int neigh_count;
	struct config_neigh neigh[CONFIG_MAX_LIST];
	int qdisc_count;
	char *qdisc_parent[CONFIG_MAX_LIST];	/* "root" */
	char *qdisc_kind[CONFIG_MAX_LIST];
};

struct config {
	const char *source;		/* the file's name, or "environment" */
	bool has_gw, has_gw6, has_ns;
	struct in_addr gw;
	struct in6_addr gw6;
	char nameserver[INET6_ADDRSTRLEN];
	int debug;
	int singlecpu;			/* 0, 1 (kernel threads), 2 (also backends) */
	char *boot_cmdline;
	bool mount_proc, mount_sysfs;
	unsigned long delay_main_us;
	int sysctl_count;
	char *sysctl_key[CONFIG_MAX_LIST];
	char *sysctl_value[CONFIG_MAX_LIST];
	int iface_count;
	struct config_iface iface[CONFIG_MAX_IFACES];
};

/*
 * Load and check the configuration.  0, or -1 after one line on stderr
 * naming the file (or variable) and the key at fault.
 */
int config_load(struct config *cfg);
/* Free what config_load() allocated (after a failure too). */
void config_free(struct config *cfg);

#endif /* LKL_HIJACK_CONFIG_H */
