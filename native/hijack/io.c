// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor calls: data, close and dup, fcntl, ioctl, and the copies
 * between descriptors (sendfile, splice) when one side is the kernel's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "epoll.h"
#include "fdmap.h"
#include "hijack.h"
#include "kcalls.h"
#include "real.h"

HOOK ssize_t read(int fd, void *buf, size_t len)
{
	int k = route(fd);

	if (k == -1)
		return real.read(fd, buf, len);
	return k < 0 ? -1 : ret(k_read(k, buf, len));
}

HOOK ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__builtin_trap();
	return read(fd, buf, len);
}

HOOK ssize_t write(int fd, const void *buf, size_t len)
{
	int k = route(fd);

	if (k == -1)
		return real.write(fd, buf, len);
	return k < 0 ? -1 : ret(k_write(k, buf, len));
}

HOOK ssize_t readv(int fd, const struct iovec *iov, int count)
{
	int k = route(fd);

	if (k == -1)
		return real.readv(fd, iov, count);
	return k < 0 ? -1 : ret(K(readv, k, (long)iov, count, 0, 0, 0));
}

HOOK ssize_t writev(int fd, const struct iovec *iov, int count)
{
	int k = route(fd);

	if (k == -1)
		return real.writev(fd, iov, count);
	return k < 0 ? -1 : ret(K(writev, k, (long)iov, count, 0, 0, 0));
}

HOOK int close(int fd)
{
	/* After fork() the child only lets go of the number. */
	if (fdmap_get(fd) >= 0)
		fdmap_forget(fd);
	epoll_forget(fd);
	return real.close(fd);
}

/*
 * A copy of kernel descriptor @k at host @newfd, or at the lowest number
 * from @min.  Its placeholder is close-on-exec whatever the caller asked:
 * the kernel does not outlive an exec.
 */
static int dup_kernel(int k, int fd, int newfd, int min)
{
	long kfd = k_dup(k);
	int r;

	if (kfd < 0)
		return ret(kfd);
	if (newfd < 0)
		return fdmap_add(kfd, min);
	/* The placeholder, so the number stays the host's to give out. */
	r = real.dup3(fd, newfd, O_CLOEXEC);
	if (r < 0) {
		k_close(kfd);
		return -1;
	}
	epoll_forget(newfd);
	fdmap_set(newfd, kfd);
	return newfd;
}

HOOK int dup(int fd)
{
	int k = route(fd);

	if (k == -1)
		return real.dup(fd);
	return k < 0 ? -1 : dup_kernel(k, fd, -1, 0);
}

HOOK int dup3(int fd, int newfd, int flags)
{
	int k = route(fd);

	if (k == -1) {
		int r = real.dup3(fd, newfd, flags);

		if (r >= 0) {
			fdmap_forget(newfd);
			epoll_forget(newfd);
		}
		return r;
	}
	if (k < 0)
		return -1;
	if (fd == newfd) {
		errno = EINVAL;
		return -1;
	}
	return dup_kernel(k, fd, newfd, 0);
}

HOOK int dup2(int fd, int newfd)
{
	int k = route(fd);

	if (k == -1) {
		int r = real.dup2(fd, newfd);

		if (r >= 0 && fd != newfd) {
			fdmap_forget(newfd);
			epoll_forget(newfd);
		}
		return r;
	}
	if (k < 0)
		return -1;
	if (fd == newfd)
		return newfd;
	return dup_kernel(k, fd, newfd, 0);
}

static int fcntl_kernel(int fd, int k, int cmd, long arg)
{
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		return dup_kernel(k, fd, -1, arg);
	default:
		return ret(K(fcntl, k, cmd, arg, 0, 0, 0));
	}
}

HOOK int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;
	int k;

	/* Every command takes one word or none: pass a word on either way. */
	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	k = route(fd);
	if (k == -1)
		return real.fcntl(fd, cmd, arg);
	return k < 0 ? -1 : fcntl_kernel(fd, k, cmd, arg);
}

HOOK int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}

HOOK int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	int k;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	k = route(fd);
	if (k == -1)
		return real.ioctl(fd, request, arg);
	return k < 0 ? -1 : ret(k_ioctl(k, request, arg));
}

/*
 * Up to @len bytes from @in to @out, where one is the kernel's: through
 * a buffer, as many as the first read gives (as one sendfile call would
 * move).  @off, when not NULL, is the offset to read @in at (a host
 * file's, then), updated.
 */
static ssize_t copy_across(int in, int out, off_t *off, size_t len)
{
	size_t size = len < 65536 ? len : 65536;
	ssize_t n, done = 0;
	char *buf;

	if (!len)
		return 0;
	buf = malloc(size);
	if (!buf)
		return -1;
	n = off ? pread(in, buf, size, *off) : read(in, buf, size);
	while (n > 0 && done < n) {
		ssize_t w = write(out, buf + done, n - done);

		if (w < 0) {
			if (!done) {
				free(buf);
				return -1;
			}
			break;
		}
		done += w;
	}
	free(buf);
	if (n < 0)
		return -1;
	if (off)
		*off += done;
	return done;
}

HOOK ssize_t sendfile(int out, int in, off_t *off, size_t len)
{
	int kin = route(in), kout = route(out);

	if (kin == -1 && kout == -1)
		return real.sendfile(out, in, off, len);
	if (kin < -1 || kout < -1)
		return -1;
	if (kin >= 0 && kout >= 0)
		return ret(K(sendfile, kout, kin, (long)off, len, 0, 0));
	return copy_across(in, out, off, len);
}

HOOK ssize_t splice(int in, off_t *off_in, int out, off_t *off_out,
		    size_t len, unsigned int flags)
{
	int kin = route(in), kout = route(out);

	if (kin == -1 && kout == -1)
		return real.splice(in, off_in, out, off_out, len, flags);
	if (kin < -1 || kout < -1)
		return -1;
	if (kin >= 0 && kout >= 0)
		return ret(K(splice, kin, (long)off_in, kout, (long)off_out,
			     len, flags));
	/* One side is a host pipe; a socket has no offsets. */
	if (off_out) {
		errno = ESPIPE;
		return -1;
	}
	return copy_across(in, out, off_in, len);
}

/* Forget every kernel descriptor from @first to @last, as they close. */
static void forget_range(unsigned int first, unsigned int last)
{
	int fd;

	for (fd = fdmap_next(first > INT_MAX ? -1 : (int)first);
	     fd >= 0 && (unsigned int)fd <= last; fd = fdmap_next(fd + 1))
		fdmap_forget(fd);
	epoll_forget_range(first, last);
}

HOOK int close_range(unsigned int first, unsigned int last, int flags)
{
	int r = syscall(SYS_close_range, first, last, flags);

	/* With CLOSE_RANGE_CLOEXEC they close at exec, with the kernel. */
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		forget_range(first, last);
	return r;
}

HOOK void closefrom(int first)
{
	if (first < 0)
		first = 0;
	forget_range(first, ~0U);
	if (syscall(SYS_close_range, first, ~0U, 0) == 0)
		return;
	/* Old host kernels: one by one, as the C library would. */
	for (; first < (1 << 22); first++)
		(void)real.close(first);	/* EBADF for those not open */
}
