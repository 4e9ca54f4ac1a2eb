// SPDX-License-Identifier: GPL-2.0
/*
 * The smallest whole run of the kernel in lkl.o: boot, one system call,
 * halt.  "make check" runs it; when boot_test fails in ways too many to
 * read, this tells whether the kernel starts at all.
 */
#include <stdio.h>
#include <string.h>
#include "../kernel/kernel.h"

static void print(const char *s, int n)
{
	fwrite(s, 1, n, stderr);
}

int main(void)
{
	struct lkl_boot_options o = { .memory_mib = 64, .print = print };
	struct lkl_new_utsname u;
	long r;

	setvbuf(stdout, NULL, _IONBF, 0);
	r = lkl_host_boot(&o);
	printf("boot: %ld\n", r);
	if (r)
		return 1;
	memset(&u, 0, sizeof(u));
	r = lkl_sys1(LKL___NR_uname, &u);
	printf("uname: %ld %s %s\n", r, u.sysname, u.release);
	if (r || strcmp(u.sysname, "Linux") || strncmp(u.release, "6.12.", 5))
		return 1;
	r = lkl_host_halt();
	printf("halt: %ld\n", r);
	return r ? 1 : 0;
}
