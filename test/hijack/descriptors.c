// SPDX-License-Identifier: GPL-2.0
/*
 * test/hijack's check of one descriptor space and mixed waits, run
 * hijacked with only the library kernel's loopback: a listening TCP
 * socket (the kernel's) and a pipe (the host's), waited on together with
 * poll, select and epoll; kernel sockets and host files dup2()'d above
 * 512 and 1024, each still reaching its own side; fork(), where the
 * child's use of an inherited kernel socket fails.  Prints one "ok ..."
 * line per check, or "FAIL ..." and exits 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed;

static void check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "ok" : "FAIL", what);
	if (!ok) {
		printf("  errno: %s\n", strerror(errno));
		failed = 1;
	}
	fflush(stdout);
}

/* Open host descriptors, from /proc/self/fd. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* One mixed wait that times out at once, on a thread of its own. */
static void *mixed_wait(void *arg)
{
	struct pollfd *pfd = arg;
	struct pollfd mine[2] = { pfd[0], pfd[1] };

	return (void *)(long)poll(mine, 2, 1);
}

static int listener(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    listen(fd, 4) || getsockname(fd, (struct sockaddr *)addr, &len)) {
		perror("listener");
		exit(1);
	}
	return fd;
}

int main(void)
{
	struct sockaddr_in addr;
	struct epoll_event ev, out[4];
	struct pollfd pfd[2];
	int lfd, p[2], c, a, ep, n, high, hfile, status;
	char buf[8];
	struct stat st;
	fd_set rd;
	pid_t pid;

	lfd = listener(&addr);
	check(pipe(p) == 0, "a host pipe");
	check(fstat(lfd, &st) == 0 && S_ISSOCK(st.st_mode),
	      "fstat says a kernel socket is a socket");

	/* poll: nothing ready, then the pipe, then the listener */
	pfd[0] = (struct pollfd){ lfd, POLLIN, 0 };
	pfd[1] = (struct pollfd){ p[0], POLLIN, 0 };
	check(poll(pfd, 2, 100) == 0, "poll on both sides times out");
	check(write(p[1], "x", 1) == 1, "write to the pipe");
	n = poll(pfd, 2, 5000);
	check(n == 1 && pfd[1].revents == POLLIN && !pfd[0].revents,
	      "poll sees the pipe only");
	check(read(p[0], buf, 1) == 1, "read from the pipe");

	c = socket(AF_INET, SOCK_STREAM, 0);
	check(connect(c, (struct sockaddr *)&addr, sizeof(addr)) == 0,
	      "connect to the kernel's loopback");
	n = poll(pfd, 2, 5000);
	check(n == 1 && pfd[0].revents == POLLIN && !pfd[1].revents,
	      "poll sees the listener only");

	/* select with both */
	FD_ZERO(&rd);
	FD_SET(lfd, &rd);
	FD_SET(p[0], &rd);
	n = select((lfd > p[0] ? lfd : p[0]) + 1, &rd, NULL, NULL,
		   &(struct timeval){ 5, 0 });
	check(n == 1 && FD_ISSET(lfd, &rd) && !FD_ISSET(p[0], &rd),
	      "select sees the listener only");

	/* epoll with both */
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 1 };
	check(epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == 0, "epoll_ctl adds the listener");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 2 };
	check(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "epoll_ctl adds the pipe");
	n = epoll_wait(ep, out, 4, 5000);
	check(n == 1 && out[0].data.u64 == 1, "epoll_wait sees the listener");
	a = accept(lfd, NULL, NULL);
	check(a >= 0, "accept");
	n = epoll_wait(ep, out, 4, 100);
	check(n == 0, "epoll_wait times out once it is accepted");
	check(write(p[1], "y", 1) == 1, "write to the pipe again");
	n = epoll_wait(ep, out, 4, 5000);
	check(n == 1 && out[0].data.u64 == 2, "epoll_wait sees the pipe");
	check(read(p[0], buf, 1) == 1, "read it");

	/* numbers above 512 and 1024, on both sides */
	high = dup2(a, 700);
	check(high == 700, "dup2 of a kernel socket to 700");
	hfile = open("/dev/null", O_RDONLY);
	check(dup2(hfile, 1500) == 1500, "dup2 of a host file to 1500");
	check(send(c, "ping", 4, 0) == 4, "send on the kernel socket");
	check(recv(700, buf, 4, 0) == 4 && !memcmp(buf, "ping", 4),
	      "receive it on descriptor 700");
	check(read(1500, buf, 1) == 0, "descriptor 1500 is still the host's /dev/null");
	check(close(a) == 0 && send(c, "pong", 4, 0) == 4 &&
	      recv(700, buf, 4, 0) == 4, "700 outlives the descriptor it copies");
	check(fcntl(700, F_SETFL, O_NONBLOCK) == 0 &&
	      recv(700, buf, 4, 0) < 0 && errno == EAGAIN,
	      "fcntl O_NONBLOCK on 700 reaches the kernel");
	check(fcntl(700, F_SETFL, 0) == 0, "and back to blocking");

	/* threads that did mixed waits leave no descriptors behind */
	{
		int before = open_fds(), i, ok = 1;

		for (i = 0; i < 20; i++) {
			pthread_t th;
			void *r;

			pfd[0] = (struct pollfd){ lfd, POLLIN, 0 };
			pfd[1] = (struct pollfd){ p[0], POLLIN, 0 };
			ok &= !pthread_create(&th, NULL, mixed_wait, pfd) &&
			      !pthread_join(th, &r) && (long)r == 0;
		}
		check(ok && open_fds() == before,
		      "20 threads' mixed waits leave no descriptors open");
	}

	/* close_range lets go of kernel sockets; the number is the host's again */
	check(dup2(c, 900) == 900 && close_range(900, 900, 0) == 0,
	      "close_range of a kernel socket at 900");
	check(dup2(hfile, 900) == 900 && read(900, buf, 1) == 0,
	      "900 is then a host file, read on the host");
	close(900);

	/* sendfile from a host file to a kernel socket */
	{
		char path[] = "sendfile-XXXXXX";	/* in the test's directory */
		int f = mkstemp(path);
		off_t off = 0;

		check(f >= 0 && write(f, "sendfile", 8) == 8, "a host file");
		unlink(path);
		check(sendfile(c, f, &off, 8) == 8 && off == 8,
		      "sendfile of it to a kernel socket");
		check(recv(700, buf, 8, MSG_WAITALL) == 8 &&
		      !memcmp(buf, "sendfile", 8), "arrives at the other end");
		close(f);
	}

	/* fork: the child has no kernel */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int r = send(c, "x", 1, 0);

		_exit(r < 0 && errno == EBADF ? 0 : 1);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a child's send on an inherited kernel socket fails with EBADF");
	check(send(c, "z", 1, 0) == 1, "the parent's socket still works");

	close(700);
	close(c);
	close(lfd);
	close(ep);
	return failed;
}
