// SPDX-License-Identifier: GPL-2.0
/*
 * The socket calls.  New sockets of the kernel's families go to the
 * library kernel; every call on a descriptor goes where that descriptor
 * lives.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "fdmap.h"
#include "hijack.h"
#include "kcalls.h"
#include "real.h"

bool kernel_domain(int domain)
{
	/* Unix sockets stay on the host: local IPC is the host's. */
	return domain == AF_INET || domain == AF_INET6 ||
	       domain == AF_NETLINK || domain == AF_PACKET;
}

HOOK int socket(int domain, int type, int protocol)
{
	long k;

	if (!hijack_on || !kernel_domain(domain))
		return real.socket(domain, type, protocol);
	k = K(socket, domain, type, protocol, 0, 0, 0);
	if (k < 0)
		return ret(k);
	return fdmap_add(k, 0);
}

HOOK int socketpair(int domain, int type, int protocol, int sv[2])
{
	long k[2] = { -1, -1 };
	int kfd[2], r;

	if (!hijack_on || !kernel_domain(domain))
		return real.socketpair(domain, type, protocol, sv);
	r = ret(K(socketpair, domain, type, protocol, (long)kfd, 0, 0));
	if (r < 0)
		return r;
	k[0] = fdmap_add(kfd[0], 0);
	if (k[0] < 0) {
		k_close(kfd[1]);
		return -1;
	}
	k[1] = fdmap_add(kfd[1], 0);
	if (k[1] < 0) {
		fdmap_forget(k[0]);
		real.close(k[0]);
		return -1;
	}
	sv[0] = k[0];
	sv[1] = k[1];
	return 0;
}

HOOK int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int k = route(fd);

	if (k == -1)
		return real.bind(fd, addr, len);
	return k < 0 ? -1 : ret(K(bind, k, (long)addr, len, 0, 0, 0));
}

HOOK int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int k = route(fd);

	if (k == -1)
		return real.connect(fd, addr, len);
	return k < 0 ? -1 : ret(K(connect, k, (long)addr, len, 0, 0, 0));
}

HOOK int listen(int fd, int backlog)
{
	int k = route(fd);

	if (k == -1)
		return real.listen(fd, backlog);
	return k < 0 ? -1 : ret(K(listen, k, backlog, 0, 0, 0, 0));
}

HOOK int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int k = route(fd);
	long n;

	if (k == -1)
		return real.accept4(fd, addr, len, flags);
	if (k < 0)
		return -1;
	n = K(accept4, k, (long)addr, (long)len, flags, 0, 0);
	if (n < 0)
		return ret(n);
	return fdmap_add(n, 0);
}

HOOK int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (route(fd) == -1)
		return real.accept(fd, addr, len);
	return accept4(fd, addr, len, 0);
}

HOOK int shutdown(int fd, int how)
{
	int k = route(fd);

	if (k == -1)
		return real.shutdown(fd, how);
	return k < 0 ? -1 : ret(K(shutdown, k, how, 0, 0, 0, 0));
}

HOOK int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int k = route(fd);

	if (k == -1)
		return real.getsockopt(fd, level, name, val, len);
	return k < 0 ? -1 : ret(K(getsockopt, k, level, name, (long)val,
				  (long)len, 0));
}

HOOK int setsockopt(int fd, int level, int name, const void *val,
		    socklen_t len)
{
	int k = route(fd);

	if (k == -1)
		return real.setsockopt(fd, level, name, val, len);
	return k < 0 ? -1 : ret(K(setsockopt, k, level, name, (long)val,
				  len, 0));
}

HOOK int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	int k = route(fd);

	if (k == -1)
		return real.getsockname(fd, addr, len);
	return k < 0 ? -1 : ret(K(getsockname, k, (long)addr, (long)len,
				  0, 0, 0));
}

HOOK int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	int k = route(fd);

	if (k == -1)
		return real.getpeername(fd, addr, len);
	return k < 0 ? -1 : ret(K(getpeername, k, (long)addr, (long)len,
				  0, 0, 0));
}

HOOK ssize_t sendto(int fd, const void *buf, size_t len, int flags,
		    const struct sockaddr *addr, socklen_t alen)
{
	int k = route(fd);

	if (k == -1)
		return real.sendto(fd, buf, len, flags, addr, alen);
	return k < 0 ? -1 : ret(K(sendto, k, (long)buf, len, flags,
				  (long)addr, alen));
}

HOOK ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return sendto(fd, buf, len, flags, NULL, 0);
}

HOOK ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
		      struct sockaddr *addr, socklen_t *alen)
{
	int k = route(fd);

	if (k == -1)
		return real.recvfrom(fd, buf, len, flags, addr, alen);
	return k < 0 ? -1 : ret(K(recvfrom, k, (long)buf, len, flags,
				  (long)addr, (long)alen));
}

HOOK ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}

HOOK ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int k = route(fd);

	if (k == -1)
		return real.sendmsg(fd, msg, flags);
	return k < 0 ? -1 : ret(K(sendmsg, k, (long)msg, flags, 0, 0, 0));
}

HOOK ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	int k = route(fd);

	if (k == -1)
		return real.recvmsg(fd, msg, flags);
	return k < 0 ? -1 : ret(K(recvmsg, k, (long)msg, flags, 0, 0, 0));
}

HOOK int sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
	int k = route(fd);

	if (k == -1)
		return real.sendmmsg(fd, vec, n, flags);
	return k < 0 ? -1 : ret(K(sendmmsg, k, (long)vec, n, flags, 0, 0));
}

HOOK int recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
		  struct timespec *timeout)
{
	int k = route(fd);

	if (k == -1)
		return real.recvmmsg(fd, vec, n, flags, timeout);
	return k < 0 ? -1 : ret(K(recvmmsg, k, (long)vec, n, flags,
				  (long)timeout, 0));
}

/* Fortified builds (-D_FORTIFY_SOURCE) call these with the buffer's size. */
HOOK ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			int flags)
{
	if (len > buflen)
		__builtin_trap();
	return recv(fd, buf, len, flags);
}

HOOK ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
			    int flags, struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		__builtin_trap();
	return recvfrom(fd, buf, len, flags, addr, alen);
}
