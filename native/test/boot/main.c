// SPDX-License-Identifier: GPL-2.0
/*
 * boot_test: boot the kernel library once and put it through its paces.
 *
 *   boot_test FIXTURES
 *
 * FIXTURES is a directory filled by test/fixtures/make-images.sh: the source
 * trees (tree, tree-vfat), one pristine image per filesystem and each
 * image's SHA-256.  In one process and one boot the test checks the
 * in-memory root, then for every filesystem: a read-only mount of the
 * pristine image compared with its source tree (and the image left
 * untouched), a read-write mount of a copy that is changed, checked by the
 * filesystem's own fsck and mounted again to see the changes persist.  Last
 * come several host threads making system calls at once, and the halt.
 *
 * The subjects are a file each (ramfs.c, fs.c, threads.c), on the
 * harness of harness.h.
 *
 * Output is TAP version 13 on stdout; the kernel console goes to stderr
 * when LKL_PRINTK=1.  Exit status 1 when any test failed.
 */
#include "harness.h"

static void on_alarm(int sig)
{
	static const char msg[] = "Bail out! boot_test: timed out\n";
	ssize_t r;

	(void)sig;
	r = write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	_exit(1);
}

static void console(const char *str, int len)
{
	fwrite(str, 1, len, stderr);
}

int main(int argc, char **argv)
{
	struct lkl_boot_options opts = { .memory_mib = 256 };
	const char *env_timeout = getenv("BOOT_TEST_TIMEOUT");
	const char *printk = getenv("LKL_PRINTK");
	const char *path = getenv("PATH");
	struct timespec start;
	char newpath[4096];
	double ms;
	long r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURES\n", argv[0]);
		return 2;
	}
	fixtures = argv[1];
	/* The fsck programs live in sbin, which a user's PATH may lack. */
	snprintf(newpath, sizeof(newpath), "%s:/usr/sbin:/sbin",
		 path ? path : "/usr/bin:/bin");
	if (setenv("PATH", newpath, 1)) {
		perror("setenv");
		return 2;
	}
	signal(SIGALRM, on_alarm);
	alarm(env_timeout ? atoi(env_timeout) : 600);

	printf("TAP version 13\n");
	if (printk && !strcmp(printk, "1"))
		opts.print = console;
	if (clock_gettime(CLOCK_MONOTONIC, &start))
		return 2;
	r = lkl_host_boot(&opts);
	ms = ms_since(&start);
	if (r)
		fail("lkl_host_boot: %s", err_name(r));
	if (!report("boot")) {
		printf("1..%d\n", tap_count);
		return 1;
	}
	note("boot time: %.1f ms", ms);

	test_uname();
	test_ramfs();
	test_filesystems();
	test_threads();
	test_short_lived_threads();

	if (clock_gettime(CLOCK_MONOTONIC, &start))
		return 2;
	r = lkl_host_halt();
	ms = ms_since(&start);
	if (r)
		fail("lkl_host_halt: %s", err_name(r));
	report("halt");
	note("halt time: %.1f ms", ms);

	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

