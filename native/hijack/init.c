// SPDX-License-Identifier: GPL-2.0
/*
 * liblkl-hijack.so's life: before main(), read the configuration, give
 * the kernel its interfaces, boot it and configure it; from then on new
 * sockets are the kernel's.  At exit, the kernel's sockets close and the
 * library waits (a while) for what they still had to send.
 *
 * fork(): the child has no kernel (its threads stay in the parent), so
 * its calls on the kernel's sockets fail with EBADF after one line; exec
 * in the child boots a kernel of its own, from the same configuration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fdmap.h"
#include "hijack.h"
#include "kcalls.h"
#include "real.h"
#include "setup.h"

/* Enough for TCP's buffers to grow: they are sized from the memory. */
#define DEFAULT_MEMORY_MIB	128
/* How long exit() waits for closed connections to deliver their data. */
#define EXIT_DRAIN_SECONDS	10

bool hijack_on;
bool hijack_forked;
static pid_t parent;

static void print_console(const char *str, int len)
{
	while (len > 0) {
		ssize_t n = real.write(STDERR_FILENO, str, len);

		if (n <= 0)
			return;
		str += n;
		len -= n;
	}
}

static void refuse_forked(void)
{
	static bool said;

	if (!said) {
		said = true;
		fprintf(stderr, "lkl-hijack: pid %d: the library kernel's "
			"sockets stay with pid %d after fork(): exec to get "
			"a kernel of its own\n", (int)getpid(), (int)parent);
	}
	errno = EBADF;
}

int route(int fd)
{
	int k = fdmap_get(fd);

	if (k >= 0 && hijack_forked) {
		refuse_forked();
		return -2;
	}
	return k;
}

static void after_fork_child(void)
{
	if (!hijack_on)
		return;
	hijack_forked = true;
	hijack_on = false;
}

/* Pin the calling thread (and the threads it starts) to one CPU. */
static int pin(cpu_set_t *old)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(*old), old))
		return -1;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one);
}

static int boot(struct config *cfg)
{
	struct lkl_boot_options opts = {
		.memory_mib = DEFAULT_MEMORY_MIB,
		.boot_args = cfg->boot_cmdline,
		.print = cfg->debug ? print_console : NULL,
	};
	struct { unsigned long long cur, max; } files = { 1 << 20, 1 << 20 };
	cpu_set_t old;
	bool pinned = false;
	int err;

	if (cfg->singlecpu == 2)
		pinned = !pin(&old);
	if (setup_interfaces(cfg))
		return -1;
	if (cfg->singlecpu == 1)
		pinned = !pin(&old);
	err = lkl_host_boot(&opts);
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	if (err) {
		fprintf(stderr, "lkl-hijack: %s: the kernel did not boot: %s\n",
			cfg->source, strerror(-err));
		return -1;
	}
	/*
	 * The kernel's own limit (its nr_open, 2^20), not 1024: the host's
	 * limit is the one the program meets, as each socket holds a host
	 * descriptor too.
	 */
	err = K(prlimit64, 0, RLIMIT_NOFILE, (long)&files, 0, 0, 0);
	if (err) {
		fprintf(stderr, "lkl-hijack: %s: the kernel's descriptor limit: %s\n",
			cfg->source, strerror(-err));
		return -1;
	}
	return setup_after_boot(cfg);
}

__attribute__((constructor)) static void hijack_init(void)
{
	static struct config cfg;	/* its strings live as long as we do */

	if (real_init())
		_exit(1);
	parent = getpid();
	if (config_load(&cfg) || boot(&cfg))
		_exit(1);
	if (pthread_atfork(NULL, NULL, after_fork_child)) {
		fprintf(stderr, "lkl-hijack: pthread_atfork failed\n");
		_exit(1);
	}
	hijack_on = true;
	if (cfg.delay_main_us)
		usleep(cfg.delay_main_us);
}

/* Connections not yet done sending: FIN_WAIT1, CLOSING, LAST_ACK. */
static int sending(const char *path)
{
	char buf[8192];
	long fd, n, len = 0;
	int count = 0;
	char *line;

	fd = K(openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0, 0);
	if (fd < 0)
		return 0;
	while (len < (long)sizeof(buf) - 1 &&
	       (n = k_read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	k_close(fd);
	buf[len] = '\0';
	for (line = strchr(buf, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		unsigned int state;

		/* "  sl  local_address rem_address   st ..." */
		if (sscanf(line + 1, "%*s %*s %*s %x", &state) == 1 &&
		    (state == 4 || state == 11 || state == 9))
			count++;
	}
	return count;
}

__attribute__((destructor)) static void hijack_exit(void)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int fd, i;

	if (!hijack_on || hijack_forked)
		return;
	hijack_on = false;
	for (fd = fdmap_next(0); fd >= 0; fd = fdmap_next(fd + 1))
		close(fd);
	for (i = 0; i < EXIT_DRAIN_SECONDS * 100; i++) {
		if (!sending("/proc/net/tcp") && !sending("/proc/net/tcp6"))
			break;
		nanosleep(&tick, NULL);
	}
}
