// SPDX-License-Identifier: GPL-2.0
/*
 * Standalone test of the configuration reader (config.c over json.c):
 * every key of a full file, the variables, and files that must be
 * refused, each with its one line.  Built with the sanitizers by "make
 * check" (native/Makefile), so a parser that reads past a string or leaks
 * fails here.  Writes its files in $TMPDIR (or /tmp).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "../test/unit.h"

static char path[4096];

/* Load @text as the configuration file. */
static int load(struct config *cfg, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f);
	CHECK(fputs(text, f) >= 0);
	CHECK(fclose(f) == 0);
	CHECK(setenv("LKL_HIJACK_CONFIG_FILE", path, 1) == 0);
	return config_load(cfg);
}

static void full_file(void)
{
	struct config cfg;
	char a[INET6_ADDRSTRLEN];

	CHECK_EQ(load(&cfg,
		"{\n"
		"  \"gateway\": \"10.0.0.1\", \"gateway6\": \"fd00::1\",\n"
		"  \"debug\": 1, \"singlecpu\": \"2\", \"delay_main\": \"500\",\n"
		"  \"sysctl\": \"net.ipv4.tcp_wmem=4096 16384 65536;net.core.somaxconn=64\",\n"
		"  \"boot_cmdline\": \"mem=64M ip=dhcp\", \"mount\": \"proc,sysfs\",\n"
		"  \"nameserver\": \"10.0.0.53\",\n"
		"  \"interfaces\": [\n"
		"    { \"type\": \"tap\", \"param\": \"tap\\u0030\", \"mtu\": \"9000\",\n"
		"      \"ip\": \"10.0.0.2\", \"masklen\": \"24\", \"ifgateway\": \"10.0.0.1\",\n"
		"      \"ipv6\": \"fd00::2\", \"masklen6\": \"64\", \"ifgateway6\": \"fd00::1\",\n"
		"      \"mac\": \"02:00:00:00:00:02\", \"offload\": \"0xc803\",\n"
		"      \"neigh\": \"10.0.0.9|02:00:00:00:00:09;fd00::9|02:00:00:00:00:0a\",\n"
		"      \"qdisc\": \"root|fq\" },\n"
		"    { \"type\": \"raw\", \"param\": \"eth1\" }\n"
		"  ]\n"
		"}\n"), 0);
	CHECK(cfg.has_gw && cfg.has_gw6 && cfg.has_ns);
	CHECK_EQ(cfg.debug, 1);
	CHECK_EQ(cfg.singlecpu, 2);
	CHECK_EQ(cfg.delay_main_us, 500);
	CHECK(cfg.mount_proc && cfg.mount_sysfs);
	CHECK(!strcmp(cfg.boot_cmdline, "mem=64M ip=dhcp"));
	CHECK_EQ(cfg.sysctl_count, 2);
	CHECK(!strcmp(cfg.sysctl_key[0], "net.ipv4.tcp_wmem"));
	CHECK(!strcmp(cfg.sysctl_value[0], "4096 16384 65536"));
	CHECK_EQ(cfg.iface_count, 2);
	CHECK(!strcmp(cfg.iface[0].param, "tap0"));
	CHECK_EQ(cfg.iface[0].mtu, 9000);
	CHECK_EQ(cfg.iface[0].offload, 0xc803);
	CHECK_EQ(cfg.iface[0].masklen6, 64);
	CHECK(!strcmp(inet_ntop(AF_INET6, &cfg.iface[0].gw6, a, sizeof(a)), "fd00::1"));
	CHECK_EQ(cfg.iface[0].neigh_count, 2);
	CHECK_EQ(cfg.iface[0].neigh[1].family, AF_INET6);
	CHECK_EQ(cfg.iface[0].neigh[1].mac[5], 0x0a);
	CHECK_EQ(cfg.iface[0].qdisc_count, 1);
	CHECK(!strcmp(cfg.iface[0].qdisc_kind[0], "fq"));
	CHECK(!strcmp(cfg.iface[1].type, "raw"));
	CHECK_EQ(cfg.iface[1].masklen, 0);
	config_free(&cfg);
}

static void refused(void)
{
	static const char *const bad[] = {
		"", "[]", "{", "{\"debug\": \"1\",}", "{\"debug\" \"1\"}",
		"{\"debug\": \"1\"} x", "{\"debug\": true}", "{\"debug\": \"x\"}",
		"{\"nope\": \"1\"}", "{\"a\": \"\\q\"}", "{\"a\": \"\\u00\"}",
		"{\"a\": \"\\u0000\"}", "{\"a\": \"unterminated}",
		"{\"interfaces\": {}}", "{\"interfaces\": [1]}",
		"{\"interfaces\": [{\"type\": \"tun\", \"param\": \"x\"}]}",
		"{\"interfaces\": [{\"type\": \"tap\"}]}",
		"{\"interfaces\": [{\"type\": \"tap\", \"param\": \"t\", \"mtu\": \"67\"}]}",
		"{\"interfaces\": [{\"type\": \"tap\", \"param\": \"t\", \"mtu\": \"-1\"}]}",
		"{\"interfaces\": [{\"type\": \"tap\", \"param\": \"t\", \"masklen\": \"33\"}]}",
		"{\"interfaces\": [{\"type\": \"tap\", \"param\": \"t\", \"mac\": \"02:00:00:00:00\"}]}",
		"{\"interfaces\": [{\"type\": \"tap\", \"param\": \"t\", \"neigh\": \"10.0.0.1\"}]}",
		"{\"interfaces\": [{\"type\": \"tap\", \"param\": \"t\", \"qdisc\": \"fq\"}]}",
		"{\"interfaces\": [{\"type\": \"tap\", \"param\": \"t\", \"ifgateway\": \"10.0.0.1\"}]}",
		"{\"interfaces\": [{\"type\": \"tap\", \"param\": \"t\", \"offload\": \"x\"}]}",
		"{\"sysctl\": \"=1\"}", "{\"sysctl\": \"a\"}", "{\"sysctl\": \"../x=1\"}",
		"{\"mount\": \"proc,tmpfs\"}", "{\"singlecpu\": \"3\"}",
	};
	char deep[200];
	struct config cfg;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load(&cfg, bad[i]) == 0) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			exit(1);
		}
		config_free(&cfg);
	}
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	CHECK_EQ(load(&cfg, deep), -1);
	config_free(&cfg);
}

static void variables(void)
{
	struct config cfg;

	CHECK(unsetenv("LKL_HIJACK_CONFIG_FILE") == 0);
	CHECK(setenv("LKL_HIJACK_NET_IFTYPE", "tap", 1) == 0);
	CHECK(setenv("LKL_HIJACK_NET_IFPARAMS", "tap7", 1) == 0);
	CHECK(setenv("LKL_HIJACK_NET_MTU", "1280", 1) == 0);
	CHECK(setenv("LKL_HIJACK_SYSCTL", "net.core.somaxconn=8", 1) == 0);
	CHECK_EQ(config_load(&cfg), 0);
	CHECK_EQ(cfg.iface_count, 1);
	CHECK(!strcmp(cfg.iface[0].param, "tap7"));
	CHECK_EQ(cfg.iface[0].mtu, 1280);
	CHECK_EQ(cfg.sysctl_count, 1);
	config_free(&cfg);
	CHECK(setenv("LKL_HIJACK_NET_MTU", "big", 1) == 0);
	CHECK_EQ(config_load(&cfg), -1);
	config_free(&cfg);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(path, sizeof(path), "%s/lkl-hijack-config-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	full_file();
	refused();
	variables();
	unlink(path);
	printf("test_config: ok\n");
	return 0;
}
