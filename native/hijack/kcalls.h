/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The library kernel's calls that the hooks make, typed.  Each returns
 * its result or a negative errno; ret() turns that into the C library's
 * convention.  The structures they take (sockaddr, msghdr, pollfd,
 * epoll_event, ifreq) are laid out alike in the host's and the kernel's
 * ABI, and so are the socket, ioctl and fcntl numbers the hooks pass on.
 */
#ifndef LKL_HIJACK_KCALLS_H
#define LKL_HIJACK_KCALLS_H

#include <errno.h>
#include "../kernel/kernel.h"

static inline long ret(long r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

#define K(name, ...)	lkl_sys6(LKL___NR_##name, __VA_ARGS__)

static inline long k_close(long fd)
{
	return lkl_sys1(LKL___NR_close, fd);
}

static inline long k_dup(long fd)
{
	return lkl_sys1(LKL___NR_dup, fd);
}

static inline long k_read(long fd, void *buf, unsigned long len)
{
	return lkl_sys3(LKL___NR_read, fd, buf, len);
}

static inline long k_write(long fd, const void *buf, unsigned long len)
{
	return lkl_sys3(LKL___NR_write, fd, buf, len);
}

static inline long k_ioctl(long fd, unsigned long cmd, void *arg)
{
	return lkl_sys3(LKL___NR_ioctl, fd, cmd, arg);
}

static inline long k_socket(int domain, int type, int proto)
{
	return lkl_sys3(LKL___NR_socket, domain, type, proto);
}

#endif /* LKL_HIJACK_KCALLS_H */
