/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One descriptor space.  A socket of the library kernel is shown to the
 * program under a host descriptor number that holds a placeholder (an
 * unconnected host socket), so the host can never hand that number out
 * again while the socket lives, and the program's host and kernel
 * descriptors never clash, whatever their number.  This table maps each
 * such host number to the kernel's own descriptor.
 */
#ifndef LKL_HIJACK_FDMAP_H
#define LKL_HIJACK_FDMAP_H

/* The kernel's descriptor behind host descriptor @fd, or -1. */
int fdmap_get(int fd);

/*
 * A new host descriptor for kernel descriptor @kfd, at @min or above;
 * -1 with errno set (and @kfd closed) on failure.
 */
int fdmap_add(int kfd, int min);

/* Host @fd now stands for @kfd; whatever it stood for is closed. */
void fdmap_set(int fd, int kfd);

/* Forget @fd, closing its kernel descriptor; the host one stays open. */
void fdmap_forget(int fd);

/* The lowest host descriptor from @fd on that stands for one, or -1. */
int fdmap_next(int fd);

#endif /* LKL_HIJACK_FDMAP_H */
