/* SPDX-License-Identifier: GPL-2.0 */
/*
 * POSIX (pthreads/glibc) implementation of the host services the LKL
 * kernel needs, see <lkl/host_ops.h>.
 *
 * lkl_posix_host_ops has .print == NULL, so the kernel console is silent.
 * To see it, copy the structure and set .print, for example:
 *
 *	struct lkl_host_ops ops = lkl_posix_host_ops;
 *
 *	lkl_posix_host_set_print(&ops, my_print);
 *	lkl_start_kernel(&ops, cmdline);
 *
 * The copy must outlive the kernel.  .panic writes a message to stderr
 * and calls abort(); it may be replaced the same way.
 */
#ifndef LKL_NATIVE_POSIX_HOST_H
#define LKL_NATIVE_POSIX_HOST_H

#include <lkl/host_ops.h>

extern const struct lkl_host_ops lkl_posix_host_ops;

/* Same as ops->print = print; @print may be NULL to silence the console. */
void lkl_posix_host_set_print(struct lkl_host_ops *ops,
			      void (*print)(const char *str, int len));

#endif /* LKL_NATIVE_POSIX_HOST_H */
