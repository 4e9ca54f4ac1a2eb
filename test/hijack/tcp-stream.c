// SPDX-License-Identifier: GPL-2.0
/*
 * test/hijack's TCP program, run hijacked or on the host's stack:
 *
 *   tcp-stream serve ADDR PORT BYTES     accept one connection
 *   tcp-stream connect ADDR PORT BYTES   connect to one
 *   tcp-stream rr-serve|rr-connect ADDR PORT COUNT
 *   tcp-stream fast-serve|fast-connect ADDR PORT BYTES
 *
 * The client sends BYTES and shuts its side down; the server reads to the
 * end, then sends BYTES back and closes; the client reads to the end.
 * The data is a pseudo-random stream; each side prints one line,
 * "sent HASH received HASH COUNT", so the two sides' lines can be
 * compared.  The server prints "listening" once it listens.  Waits go
 * through poll() on the socket and stdin together (host and kernel
 * descriptors in one set, as a program that also reads its terminal).
 * Each line ends with the seconds from connection to close.
 *
 * rr (bench/hijack.mjs): COUNT requests of 64 bytes, each answered with
 * 64 bytes before the next; the client prints "rr COUNT SECONDS".  fast
 * (bench/hijack.mjs): as serve and connect, with zeros for data and no
 * checksums, so that the network, not this program, sets the pace.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	65536

/* fast-: zeros, no checksums */
static int fast;

static void die(const char *what)
{
	fprintf(stderr, "tcp-stream: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* FNV-1a, 64 bits */
static uint64_t hash(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static void fill(uint64_t *state, unsigned char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		buf[i] = *state;
	}
}

/* Wait for @events on @fd, with stdin in the set too (it stays quiet). */
static void wait_for(int fd, short events)
{
	struct pollfd p[2] = { { fd, events, 0 }, { 0, 0, 0 } };

	if (poll(p, 2, -1) < 0)
		die("poll");
}

static uint64_t send_all(int fd, unsigned long long bytes)
{
	static unsigned char buf[CHUNK];
	uint64_t state = 0x9e3779b97f4a7c15ULL, h = 0xcbf29ce484222325ULL;

	while (bytes) {
		size_t n = bytes < CHUNK ? bytes : CHUNK, off = 0;

		if (!fast) {
			fill(&state, buf, n);
			h = hash(h, buf, n);
		}
		while (off < n) {
			ssize_t w;

			wait_for(fd, POLLOUT);
			w = send(fd, buf + off, n - off, 0);
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				die("send");
			if (w > 0)
				off += w;
		}
		bytes -= n;
	}
	return h;
}

static uint64_t recv_all(int fd, unsigned long long *count)
{
	static unsigned char buf[CHUNK];
	uint64_t h = 0xcbf29ce484222325ULL;
	ssize_t n;

	*count = 0;
	for (;;) {
		wait_for(fd, POLLIN);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			die("recv");
		if (n == 0)
			return h;
		if (!fast)
			h = hash(h, buf, n);
		*count += n;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void exactly(int fd, char *buf, size_t n, int in)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = in ? recv(fd, buf + off, n - off, 0) :
				 send(fd, buf + off, n - off, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die(in ? "recv" : "send");
		off += r;
	}
}

/* Request and response, @count times; the server answers until EOF. */
static void rr(int fd, unsigned long long count, int client)
{
	char buf[64] = { 0 };
	unsigned long long i;
	ssize_t r;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (!client) {
		while ((r = recv(fd, buf, sizeof(buf), MSG_WAITALL)) ==
		       (ssize_t)sizeof(buf))
			exactly(fd, buf, sizeof(buf), 0);
		if (r < 0)
			die("recv");
		return;
	}
	for (i = 0; i < count; i++) {
		exactly(fd, buf, sizeof(buf), 0);
		exactly(fd, buf, sizeof(buf), 1);
	}
}

static struct addrinfo *resolve(const char *addr, const char *port, int passive)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
					      (passive ? AI_PASSIVE : 0) };
	struct addrinfo *ai;
	int err = getaddrinfo(addr, port, &hints, &ai);

	if (err) {
		fprintf(stderr, "tcp-stream: %s: %s\n", addr, gai_strerror(err));
		exit(2);
	}
	return ai;
}

int main(int argc, char **argv)
{
	unsigned long long bytes, count;
	struct addrinfo *ai;
	uint64_t sent = 0, received = 0;
	int fd, one = 1, is_rr, serve;
	double start;

	if (argc != 5) {
		fprintf(stderr, "usage: tcp-stream [rr-]serve|[rr-]connect ADDR PORT BYTES|COUNT\n");
		return 2;
	}
	is_rr = !strncmp(argv[1], "rr-", 3);
	fast = !strncmp(argv[1], "fast-", 5);
	serve = !strcmp(argv[1] + (is_rr ? 3 : fast ? 5 : 0), "serve");
	bytes = strtoull(argv[4], NULL, 0);
	ai = resolve(argv[2], argv[3], serve);
	fd = socket(ai->ai_family, ai->ai_socktype, 0);
	if (fd < 0)
		die("socket");
	if (serve) {
		int lfd = fd;

		if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(lfd, ai->ai_addr, ai->ai_addrlen) || listen(lfd, 1))
			die("listen");
		printf("listening\n");
		fflush(stdout);
		wait_for(lfd, POLLIN);
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			die("accept");
		close(lfd);
		start = now();
		if (is_rr) {
			rr(fd, bytes, 0);
		} else {
			received = recv_all(fd, &count);
			sent = send_all(fd, bytes);
		}
	} else {
		if (connect(fd, ai->ai_addr, ai->ai_addrlen))
			die("connect");
		start = now();
		if (is_rr) {
			rr(fd, bytes, 1);
		} else {
			sent = send_all(fd, bytes);
			if (shutdown(fd, SHUT_WR))
				die("shutdown");
			received = recv_all(fd, &count);
		}
	}
	if (close(fd))
		die("close");
	freeaddrinfo(ai);
	if (is_rr)
		printf("rr %llu %.6f\n", bytes, now() - start);
	else
		printf("sent %016llx received %016llx %llu %.6f\n",
		       (unsigned long long)sent, (unsigned long long)received,
		       count, now() - start);
	return 0;
}
