// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <unistd.h>
#include "../kernel/kernel.h"

static void print(const char *s, int n) { fwrite(s, 1, n, stderr); }

int main(void)
{
	struct lkl_boot_options o = { .memory_mib = 64, .print = print };
	struct lkl_new_utsname u;
	long r;

	setvbuf(stdout, NULL, _IONBF, 0);
	r = lkl_host_boot(&o);

	printf("boot: %ld\n", r);
	r = lkl_sys1(LKL___NR_uname, &u);
	printf("uname: %ld %s %s\n", r, u.sysname, u.release);
	r = lkl_host_halt();
	printf("halt: %ld\n", r);
	return 0;
}
