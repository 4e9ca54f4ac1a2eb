// SPDX-License-Identifier: GPL-2.0
/*
 * Reading the classic configuration.  Values are strings (a JSON number
 * is taken as its text); an unknown key, a value of the wrong kind or out
 * of range is one line on stderr and a refusal to start.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "json.h"

#define DEFAULT_FILE	"lkl-hijack.json"

/* One line: "lkl-hijack: SOURCE: WHAT: message". */
static int bad(const struct config *cfg, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lkl-hijack: %s: ", cfg->source);
	if (what)
		fprintf(stderr, "%s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static bool parse_uint(const char *s, unsigned long long max,
		       unsigned long long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end && *out <= max;
}

static bool parse_mac(const char *s, unsigned char mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return false;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return true;
}

/* Split @s at each @sep into @out (copies); the count, or -1 if too many. */
static int split(const char *s, char sep, char **out)
{
	char *copy = strdup(s), *p, *next;
	int n = 0;

	if (!copy)
		return -1;
	for (p = copy; p && *p; p = next) {
		next = strchr(p, sep);
		if (next)
			*next++ = '\0';
		if (!*p)
			continue;
		if (n == CONFIG_MAX_LIST) {
			while (n)
				free(out[--n]);
			free(copy);
			return -1;
		}
		out[n] = strdup(p);
		if (!out[n])
			break;
		n++;
	}
	free(copy);
	return n;
}

static int set_neigh(struct config *cfg, struct config_iface *ifc,
		     const char *what, const char *value)
{
	char *items[CONFIG_MAX_LIST];
	int n = split(value, ';', items), i, err = 0;

	if (n < 0)
		return bad(cfg, what, "more than %d entries", CONFIG_MAX_LIST);
	for (i = 0; i < n; i++) {
		struct config_neigh *ne = &ifc->neigh[i];
		char *bar = strchr(items[i], '|');

		if (!err && bar) {
			*bar = '\0';
			ne->family = strchr(items[i], ':') ? AF_INET6 : AF_INET;
		}
		if (!err && (!bar || inet_pton(ne->family, items[i], ne->addr) != 1 ||
			     !parse_mac(bar + 1, ne->mac)))
			err = bad(cfg, what, "\"%s\" is not \"address|mac\"",
				  items[i]);
		free(items[i]);
	}
	ifc->neigh_count = n;
	return err;
}

static int set_qdisc(struct config *cfg, struct config_iface *ifc,
		     const char *what, const char *value)
{
	char *items[CONFIG_MAX_LIST];
	int n = split(value, ';', items), i, err = 0;

	if (n < 0)
		return bad(cfg, what, "more than %d entries", CONFIG_MAX_LIST);
	for (i = 0; i < n; i++) {
		char *bar = strchr(items[i], '|');

		if (!bar || strncmp(items[i], "root|", 5) || !bar[1]) {
			if (!err)
				err = bad(cfg, what,
					  "\"%s\" is not \"root|KIND\"", items[i]);
			free(items[i]);
			ifc->qdisc_parent[i] = ifc->qdisc_kind[i] = NULL;
			continue;
		}
		*bar = '\0';
		ifc->qdisc_parent[i] = items[i];
		ifc->qdisc_kind[i] = bar + 1;
	}
	ifc->qdisc_count = n;
	return err;
}

static int set_iface(struct config *cfg, struct config_iface *ifc,
		     const char *what, const char *key, const char *value)
{
	unsigned long long n;

	if (!strcmp(key, "type")) {
		if (strcmp(value, "tap") && strcmp(value, "raw") &&
		    strcmp(value, "macvtap"))
			return bad(cfg, what, "\"%s\" is not tap, raw or macvtap",
				   value);
		strcpy(ifc->type, value);
	} else if (!strcmp(key, "param")) {
		free(ifc->param);
		ifc->param = strdup(value);
	} else if (!strcmp(key, "mtu")) {
		if (!parse_uint(value, 65535, &n) || n < 68)
			return bad(cfg, what, "\"%s\" is not from 68 to 65535",
				   value);
		ifc->mtu = n;
	} else if (!strcmp(key, "ip")) {
		if (inet_pton(AF_INET, value, &ifc->ip) != 1)
			return bad(cfg, what, "\"%s\" is not an IPv4 address",
				   value);
		ifc->has_ip = true;
	} else if (!strcmp(key, "masklen")) {
		if (!parse_uint(value, 32, &n) || n < 1)
			return bad(cfg, what, "\"%s\" is not from 1 to 32", value);
		ifc->masklen = n;
	} else if (!strcmp(key, "ifgateway")) {
		if (inet_pton(AF_INET, value, &ifc->gw) != 1)
			return bad(cfg, what, "\"%s\" is not an IPv4 address",
				   value);
		ifc->has_gw = true;
	} else if (!strcmp(key, "ipv6")) {
		if (inet_pton(AF_INET6, value, &ifc->ip6) != 1)
			return bad(cfg, what, "\"%s\" is not an IPv6 address",
				   value);
		ifc->has_ip6 = true;
	} else if (!strcmp(key, "masklen6")) {
		if (!parse_uint(value, 128, &n) || n < 1)
			return bad(cfg, what, "\"%s\" is not from 1 to 128",
				   value);
		ifc->masklen6 = n;
	} else if (!strcmp(key, "ifgateway6")) {
		if (inet_pton(AF_INET6, value, &ifc->gw6) != 1)
			return bad(cfg, what, "\"%s\" is not an IPv6 address",
				   value);
		ifc->has_gw6 = true;
	} else if (!strcmp(key, "mac")) {
		if (!parse_mac(value, ifc->mac))
			return bad(cfg, what, "\"%s\" is not a MAC address",
				   value);
		ifc->has_mac = true;
	} else if (!strcmp(key, "neigh")) {
		return set_neigh(cfg, ifc, what, value);
	} else if (!strcmp(key, "qdisc")) {
		return set_qdisc(cfg, ifc, what, value);
	} else if (!strcmp(key, "offload")) {
		if (!parse_uint(value, ~0ULL, &n))
			return bad(cfg, what, "\"%s\" is not a number", value);
		ifc->offload = n;
	} else {
		return bad(cfg, what, "unknown key");
	}
	return 0;
}

static int set_sysctl(struct config *cfg, const char *what, const char *value)
{
	char *items[CONFIG_MAX_LIST];
	int n = split(value, ';', items), i, err = 0;

	if (n < 0)
		return bad(cfg, what, "more than %d entries", CONFIG_MAX_LIST);
	for (i = 0; i < n; i++) {
		char *eq = strchr(items[i], '=');

		cfg->sysctl_key[i] = items[i];
		cfg->sysctl_value[i] = eq ? eq + 1 : NULL;
		if (!eq || eq == items[i] || strstr(items[i], "..")) {
			if (!err)
				err = bad(cfg, what, "\"%s\" is not \"name=value\"",
					  items[i]);
			continue;
		}
		*eq = '\0';
	}
	cfg->sysctl_count = n;
	return err;
}

static int set_mount(struct config *cfg, const char *what, const char *value)
{
	char *items[CONFIG_MAX_LIST];
	int n = split(value, ',', items), i, err = 0;

	if (n < 0)
		return bad(cfg, what, "more than %d entries", CONFIG_MAX_LIST);
	for (i = 0; i < n; i++) {
		if (!strcmp(items[i], "proc"))
			cfg->mount_proc = true;
		else if (!strcmp(items[i], "sysfs"))
			cfg->mount_sysfs = true;
		else if (!err)
			err = bad(cfg, what, "\"%s\" is not proc or sysfs",
				  items[i]);
		free(items[i]);
	}
	return err;
}

static int set_top(struct config *cfg, const char *what, const char *key,
		   const char *value)
{
	unsigned long long n;

	if (!strcmp(key, "gateway")) {
		if (inet_pton(AF_INET, value, &cfg->gw) != 1)
			return bad(cfg, what, "\"%s\" is not an IPv4 address",
				   value);
		cfg->has_gw = true;
	} else if (!strcmp(key, "gateway6")) {
		if (inet_pton(AF_INET6, value, &cfg->gw6) != 1)
			return bad(cfg, what, "\"%s\" is not an IPv6 address",
				   value);
		cfg->has_gw6 = true;
	} else if (!strcmp(key, "nameserver")) {
		unsigned char a[16];

		if (inet_pton(AF_INET, value, a) != 1 &&
		    inet_pton(AF_INET6, value, a) != 1)
			return bad(cfg, what, "\"%s\" is not an IP address",
				   value);
		snprintf(cfg->nameserver, sizeof(cfg->nameserver), "%s", value);
		cfg->has_ns = true;
	} else if (!strcmp(key, "debug")) {
		if (!parse_uint(value, 0xffffffff, &n))
			return bad(cfg, what, "\"%s\" is not a number", value);
		cfg->debug = n;
	} else if (!strcmp(key, "singlecpu")) {
		if (!parse_uint(value, 2, &n))
			return bad(cfg, what, "\"%s\" is not 0, 1 or 2", value);
		cfg->singlecpu = n;
	} else if (!strcmp(key, "boot_cmdline")) {
		free(cfg->boot_cmdline);
		cfg->boot_cmdline = strdup(value);
	} else if (!strcmp(key, "mount")) {
		return set_mount(cfg, what, value);
	} else if (!strcmp(key, "delay_main")) {
		if (!parse_uint(value, 3600000000ULL, &n))
			return bad(cfg, what, "\"%s\" is not a number of microseconds",
				   value);
		cfg->delay_main_us = n;
	} else if (!strcmp(key, "sysctl")) {
		return set_sysctl(cfg, what, value);
	} else {
		return bad(cfg, what, "unknown key");
	}
	return 0;
}

/* Strings as they are, numbers as their text; anything else is refused. */
static const char *scalar(const struct config *cfg, const struct json *v,
			  const char *what)
{
	if (v->type == JSON_STRING || v->type == JSON_NUMBER)
		return v->text;
	bad(cfg, what, "line %d: must be a string", v->line);
	return NULL;
}

static int check_iface(struct config *cfg, struct config_iface *ifc, int i)
{
	char what[32];

	snprintf(what, sizeof(what), "interfaces[%d]", i);
	if (!ifc->type[0])
		return bad(cfg, what, "no \"type\" (tap, raw or macvtap)");
	if (!ifc->param || !*ifc->param)
		return bad(cfg, what, "no \"param\" (the host device)");
	if (ifc->has_ip && !ifc->masklen)
		ifc->masklen = 24;
	if (ifc->has_ip6 && !ifc->masklen6)
		ifc->masklen6 = 64;
	if (ifc->has_gw && !ifc->has_ip)
		return bad(cfg, what, "\"ifgateway\" needs \"ip\"");
	if (ifc->has_gw6 && !ifc->has_ip6)
		return bad(cfg, what, "\"ifgateway6\" needs \"ipv6\"");
	return 0;
}

static int load_json(struct config *cfg, const char *text)
{
	char err[160], what[80];
	struct json *root;
	size_t i, j;
	int r = 0;

	root = json_parse(text, err, sizeof(err));
	if (!root)
		return bad(cfg, NULL, "%s", err);
	if (root->type != JSON_OBJECT) {
		json_free(root);
		return bad(cfg, NULL, "not a JSON object");
	}
	for (i = 0; !r && i < root->count; i++) {
		const char *key = root->keys[i], *value;
		struct json *v = &root->items[i];

		if (strcmp(key, "interfaces")) {
			value = scalar(cfg, v, key);
			r = value ? set_top(cfg, key, key, value) : -1;
			continue;
		}
		if (v->type != JSON_ARRAY) {
			r = bad(cfg, key, "must be an array of objects");
			break;
		}
		if (v->count > CONFIG_MAX_IFACES) {
			r = bad(cfg, key, "more than %d", CONFIG_MAX_IFACES);
			break;
		}
		for (j = 0; !r && j < v->count; j++) {
			struct json *o = &v->items[j];
			size_t m;

			snprintf(what, sizeof(what), "interfaces[%zu]", j);
			if (o->type != JSON_OBJECT) {
				r = bad(cfg, what, "must be an object");
				break;
			}
			for (m = 0; !r && m < o->count; m++) {
				snprintf(what, sizeof(what), "interfaces[%zu].%s",
					 j, o->keys[m]);
				value = scalar(cfg, &o->items[m], what);
				r = value ? set_iface(cfg, &cfg->iface[j], what,
						      o->keys[m], value) : -1;
			}
			cfg->iface_count = j + 1;
		}
	}
	json_free(root);
	return r;
}

/* The classic variables: the top-level keys and one interface. */
static const struct { const char *var, *key; bool iface; } env_keys[] = {
	{ "LKL_HIJACK_NET_IFTYPE", "type", true },
	{ "LKL_HIJACK_NET_IFPARAMS", "param", true },
	{ "LKL_HIJACK_NET_MTU", "mtu", true },
	{ "LKL_HIJACK_NET_IP", "ip", true },
	{ "LKL_HIJACK_NET_NETMASK_LEN", "masklen", true },
	{ "LKL_HIJACK_NET_IFGATEWAY", "ifgateway", true },
	{ "LKL_HIJACK_NET_IPV6", "ipv6", true },
	{ "LKL_HIJACK_NET_NETMASK6_LEN", "masklen6", true },
	{ "LKL_HIJACK_NET_IFGATEWAY6", "ifgateway6", true },
	{ "LKL_HIJACK_NET_MAC", "mac", true },
	{ "LKL_HIJACK_NET_NEIGHBOR", "neigh", true },
	{ "LKL_HIJACK_NET_QDISC", "qdisc", true },
	{ "LKL_HIJACK_OFFLOAD", "offload", true },
	{ "LKL_HIJACK_NET_GATEWAY", "gateway", false },
	{ "LKL_HIJACK_NET_GATEWAY6", "gateway6", false },
	{ "LKL_HIJACK_DEBUG", "debug", false },
	{ "LKL_HIJACK_SINGLE_CPU", "singlecpu", false },
	{ "LKL_HIJACK_SYSCTL", "sysctl", false },
	{ "LKL_HIJACK_BOOT_CMDLINE", "boot_cmdline", false },
	{ "LKL_HIJACK_MOUNT", "mount", false },
	{ "LKL_HIJACK_DELAY_MAIN", "delay_main", false },
	{ "LKL_HIJACK_NAMESERVER", "nameserver", false },
};

static int load_env(struct config *cfg)
{
	bool iface = false;
	size_t i;

	for (i = 0; i < sizeof(env_keys) / sizeof(env_keys[0]); i++) {
		const char *value = getenv(env_keys[i].var);
		int r;

		if (!value)
			continue;
		if (env_keys[i].iface) {
			r = set_iface(cfg, &cfg->iface[0], env_keys[i].var,
				      env_keys[i].key, value);
			iface = true;
		} else {
			r = set_top(cfg, env_keys[i].var, env_keys[i].key, value);
		}
		if (r)
			return r;
	}
	cfg->iface_count = iface;
	return 0;
}

static char *read_file(struct config *cfg, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int n;

	f = fopen(path, "re");
	if (!f) {
		bad(cfg, NULL, "%s", strerror(errno));
		return NULL;
	}
	n = getdelim(&text, &len, '\0', f);
	if (n < 0 && !ferror(f)) {
		free(text);
		text = strdup("");
	}
	if (ferror(f) || !text) {
		bad(cfg, NULL, "%s", ferror(f) ? strerror(errno) : "out of memory");
		free(text);
		text = NULL;
	} else if ((size_t)n != strlen(text)) {
		bad(cfg, NULL, "holds a NUL byte");
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

int config_load(struct config *cfg)
{
	const char *path = getenv("LKL_HIJACK_CONFIG_FILE");
	char *text;
	int i, r;

	memset(cfg, 0, sizeof(*cfg));
	if (!path && access(DEFAULT_FILE, F_OK) == 0)
		path = DEFAULT_FILE;
	if (path && *path) {
		cfg->source = path;
		text = read_file(cfg, path);
		if (!text)
			return -1;
		r = load_json(cfg, text);
		free(text);
	} else {
		cfg->source = "environment";
		r = load_env(cfg);
	}
	for (i = 0; !r && i < cfg->iface_count; i++)
		r = check_iface(cfg, &cfg->iface[i], i);
	return r;
}

void config_free(struct config *cfg)
{
	int i, j;

	free(cfg->boot_cmdline);
	/* A value points into its key, a qdisc's kind into its parent. */
	for (i = 0; i < cfg->sysctl_count; i++)
		free(cfg->sysctl_key[i]);
	for (i = 0; i < CONFIG_MAX_IFACES; i++) {
		free(cfg->iface[i].param);
		for (j = 0; j < cfg->iface[i].qdisc_count; j++)
			free(cfg->iface[i].qdisc_parent[j]);
	}
	memset(cfg, 0, sizeof(*cfg));
}
