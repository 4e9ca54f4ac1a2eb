// SPDX-License-Identifier: GPL-2.0
/* The C library's own functions, found past this library (RTLD_NEXT). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"

struct real_calls real;

#define RESOLVE(name) \
	do { \
		*(void **)&real.name = dlsym(RTLD_NEXT, #name); \
		if (!real.name) \
			return missing(#name); \
	} while (0)

static int missing(const char *name)
{
	static const char msg[] = "lkl-hijack: the C library has no ";

	/* write(2) itself may be what is missing: the system call, then. */
	if (syscall(SYS_write, 2, msg, sizeof(msg) - 1) < 0 ||
	    syscall(SYS_write, 2, name, strlen(name)) < 0 ||
	    syscall(SYS_write, 2, "\n", 1) < 0)
		return -1;
	return -1;
}

int real_init(void)
{
#define REAL_RESOLVE(name) RESOLVE(name);
	REAL_CALLS(REAL_RESOLVE)
#undef REAL_RESOLVE
	return 0;
}
