// SPDX-License-Identifier: GPL-2.0
/*
 * aio-dio-read FILE: writes FILE with asynchronous direct I/O (io_submit)
 * again and again, a new byte each round, while a thread reads it through
 * the page cache; after each write completes, a buffered read must see
 * the new byte everywhere, as on any Linux filesystem.  Prints the first
 * round that read old data and exits 1; 0 when every round was right;
 * 2 on a setup error.  Raw system calls: no libaio needed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SIZE	(640 * 1024)
#define ROUNDS	200

static const char *path;
static atomic_bool stop;

/* Keeps the file's pages in the page cache, read again and again. */
static void *reader(void *arg)
{
	char *buf = malloc(SIZE);
	int fd = open(path, O_RDONLY);

	(void)arg;
	if (!buf || fd < 0) {
		perror("reader");
		exit(2);
	}
	while (!atomic_load(&stop))
		if (pread(fd, buf, SIZE, 0) < 0) {
			perror("reader: pread");
			exit(2);
		}
	close(fd);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	aio_context_t ctx = 0;
	char *buf, *check;
	pthread_t thread;
	int dfd, bfd, round, i;

	if (argc != 2) {
		fprintf(stderr, "usage: aio-dio-read FILE\n");
		return 2;
	}
	path = argv[1];
	if (posix_memalign((void **)&buf, 4096, SIZE) || !(check = malloc(SIZE)))
		return 2;
	memset(buf, 0, SIZE);
	dfd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0644);
	bfd = open(path, O_RDONLY);
	if (dfd < 0 || bfd < 0 || pwrite(dfd, buf, SIZE, 0) != SIZE ||
	    syscall(SYS_io_setup, 1, &ctx)) {
		perror(path);
		return 2;
	}
	if (pthread_create(&thread, NULL, reader, NULL))
		return 2;
	for (round = 1; round <= ROUNDS; round++) {
		memset(buf, round, SIZE);
		memset(&cb, 0, sizeof(cb));
		cb.aio_fildes = dfd;
		cb.aio_lio_opcode = IOCB_CMD_PWRITE;
		cb.aio_buf = (unsigned long)buf;
		cb.aio_nbytes = SIZE;
		if (syscall(SYS_io_submit, ctx, 1, cbs) != 1 ||
		    syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL) != 1 ||
		    ev.res != SIZE) {
			perror("io_submit");
			return 2;
		}
		if (pread(bfd, check, SIZE, 0) != SIZE) {
			perror("pread");
			return 2;
		}
		for (i = 0; i < SIZE; i++)
			if ((unsigned char)check[i] != (unsigned char)round) {
				printf("round %d: byte %d reads %d after the write\n",
				       round, i, (unsigned char)check[i]);
				atomic_store(&stop, true);
				pthread_join(thread, NULL);
				return 1;
			}
	}
	atomic_store(&stop, true);
	pthread_join(thread, NULL);
	printf("%d rounds right\n", ROUNDS);
	return 0;
}
