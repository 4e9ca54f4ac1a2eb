/* SPDX-License-Identifier: GPL-2.0 */
/*
 * epoll sets that may hold kernel descriptors: each host epoll descriptor
 * the program made has a shadow set in the kernel for those.
 */
#ifndef LKL_HIJACK_EPOLL_H
#define LKL_HIJACK_EPOLL_H

/* @fd is closed or replaced: drop its shadow set, if it was an epoll. */
void epoll_forget(int fd);
/* The same for every descriptor from @first to @last. */
void epoll_forget_range(unsigned int first, unsigned int last);

#endif /* LKL_HIJACK_EPOLL_H */
