/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C library's own functions, behind the ones this library puts in
 * their place: what a call on a host descriptor goes on to.
 */
#ifndef LKL_HIJACK_REAL_H
#define LKL_HIJACK_REAL_H

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <unistd.h>

#define REAL_CALLS(X) \
	X(socket) X(socketpair) X(bind) X(connect) X(listen) X(accept) \
	X(accept4) X(shutdown) X(getsockopt) X(setsockopt) X(getsockname) \
	X(getpeername) X(send) X(sendto) X(sendmsg) X(sendmmsg) X(recv) \
	X(recvfrom) X(recvmsg) X(recvmmsg) X(read) X(write) X(readv) \
	X(writev) X(close) X(dup) X(dup2) X(dup3) X(fcntl) X(ioctl) \
	X(poll) X(ppoll) X(select) X(pselect) X(epoll_create) \
	X(epoll_create1) X(epoll_ctl) X(epoll_wait) X(epoll_pwait) \
	X(sendfile) X(splice)

struct real_calls {
#define REAL_FIELD(name) __typeof__(&name) name;
	REAL_CALLS(REAL_FIELD)
#undef REAL_FIELD
};

extern struct real_calls real;

/* Resolve them all; 0, or -1 after saying which one is missing. */
int real_init(void);

#endif /* LKL_HIJACK_REAL_H */
