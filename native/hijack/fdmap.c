// SPDX-License-Identifier: GPL-2.0
/*
 * The table of host descriptors standing for kernel ones: two levels, so
 * a lookup takes no lock (a second-level block, once made, stays) and the
 * table costs memory only for the numbers in use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "fdmap.h"
#include "hijack.h"
#include "kcalls.h"
#include "real.h"

#define BLOCK_BITS	10
#define BLOCK_SIZE	(1 << BLOCK_BITS)
#define BLOCKS		4096	/* descriptors up to 4M */

/* Each entry is the kernel's descriptor plus one: 0 is "none". */
static int *blocks[BLOCKS];
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;

static int *entry(int fd, int make)
{
	unsigned int b = (unsigned int)fd >> BLOCK_BITS;
	int *block;

	if (fd < 0 || b >= BLOCKS)
		return NULL;
	block = __atomic_load_n(&blocks[b], __ATOMIC_ACQUIRE);
	if (!block && make) {
		pthread_mutex_lock(&grow_lock);
		block = blocks[b];
		if (!block) {
			block = calloc(BLOCK_SIZE, sizeof(*block));
			if (block)
				__atomic_store_n(&blocks[b], block,
						 __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&grow_lock);
	}
	return block ? &block[fd & (BLOCK_SIZE - 1)] : NULL;
}

int fdmap_get(int fd)
{
	int *e = entry(fd, 0);

	return e ? __atomic_load_n(e, __ATOMIC_ACQUIRE) - 1 : -1;
}

void fdmap_set(int fd, int kfd)
{
	int *e = entry(fd, 1);
	int old;

	if (!e)
		return;
	old = __atomic_exchange_n(e, kfd + 1, __ATOMIC_ACQ_REL) - 1;
	/* After fork() the kernel is the parent's: only the number goes. */
	if (old >= 0 && !hijack_forked)
		k_close(old);
}

void fdmap_forget(int fd)
{
	fdmap_set(fd, -1);
}

int fdmap_next(int fd)
{
	unsigned int b;

	for (b = (unsigned int)fd >> BLOCK_BITS; fd >= 0 && b < BLOCKS;
	     b++, fd = b << BLOCK_BITS) {
		int *block = __atomic_load_n(&blocks[b], __ATOMIC_ACQUIRE);

		if (!block)
			continue;
		for (; fd < (int)((b + 1) << BLOCK_BITS); fd++)
			if (__atomic_load_n(&block[fd & (BLOCK_SIZE - 1)],
					    __ATOMIC_ACQUIRE))
				return fd;
	}
	return -1;
}

int fdmap_add(int kfd, int min)
{
	int fd, err;

	/*
	 * An unconnected datagram socket: fstat() says "socket", and a read
	 * or write that reaches the host anyway (the C library calling
	 * itself, past this library) fails rather than vanishing.  Close on
	 * exec: the kernel behind it does not survive an exec.
	 */
	fd = real.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && fd < min) {
		int moved = real.fcntl(fd, F_DUPFD_CLOEXEC, min);

		err = errno;
		real.close(fd);
		fd = moved;
		errno = err;
	}
	if (fd < 0 || !entry(fd, 1)) {
		err = fd < 0 ? errno : EMFILE;
		if (fd >= 0)
			real.close(fd);
		k_close(kfd);
		errno = err;
		return -1;
	}
	fdmap_set(fd, kfd);
	return fd;
}
