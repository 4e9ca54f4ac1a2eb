/* SPDX-License-Identifier: GPL-2.0 */
/* What the hooks share: whether calls go to the kernel, and where. */
#ifndef LKL_HIJACK_HIJACK_H
#define LKL_HIJACK_HIJACK_H

#include <stdbool.h>

/* The hooks: the names the program's calls bind to. */
#define HOOK	__attribute__((visibility("default")))

/* In a child after fork(): the kernel is the parent's, not to be called. */
extern bool hijack_forked;

/* Set once the kernel is configured: new sockets go to it from then on. */
extern bool hijack_on;

/*
 * The kernel descriptor behind @fd, or -1 for a host descriptor.  In a
 * child after fork() the kernel is the parent's: -2, with errno EBADF,
 * after one line on stderr.
 */
int route(int fd);

/* Whether socket(@domain, ...) goes to the kernel. */
bool kernel_domain(int domain);

/* Boot and configure, from the constructor; halt from the destructor. */
int hijack_start(void);
void hijack_stop(void);

#endif /* LKL_HIJACK_HIJACK_H */
