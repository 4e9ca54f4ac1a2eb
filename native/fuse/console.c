// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel console: an optional log file and the last few KiB in memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

#define TAIL_LEN	4096	/* a power of two */

static struct {
	pthread_mutex_t lock;
	int fd;
	char tail[TAIL_LEN];
	unsigned long long total;	/* bytes ever printed */
} console = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

int lklfuse_console_open(const char *path)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&console.lock);
	console.fd = fd;
	pthread_mutex_unlock(&console.lock);
	return 0;
}

void lklfuse_console_close(void)
{
	pthread_mutex_lock(&console.lock);
	if (console.fd >= 0)
		close(console.fd);
	console.fd = -1;
	pthread_mutex_unlock(&console.lock);
}

void lklfuse_console_print(const char *str, int len)
{
	int i;

	if (len <= 0)
		return;
	pthread_mutex_lock(&console.lock);
	for (i = 0; i < len; i++)
		console.tail[(console.total + i) & (TAIL_LEN - 1)] = str[i];
	console.total += len;
	if (console.fd >= 0) {
		const char *p = str;
		int left = len;

		while (left > 0) {
			ssize_t n = write(console.fd, p, left);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;	/* a full disk must not stop the kernel */
			p += n;
			left -= n;
		}
	}
	pthread_mutex_unlock(&console.lock);
}

unsigned long long lklfuse_console_mark(void)
{
	unsigned long long mark;

	pthread_mutex_lock(&console.lock);
	mark = console.total;
	pthread_mutex_unlock(&console.lock);
	return mark;
}

int lklfuse_console_last_line(unsigned long long mark, char *buf,
			      size_t len)
{
	unsigned long long start, end, pos, line_start, line_end;
	size_t n = 0;
	char c;

	if (!len)
		return 0;
	pthread_mutex_lock(&console.lock);
	end = console.total;
	start = end > TAIL_LEN ? end - TAIL_LEN : 0;
	if (mark > start)
		start = mark;
	/* Skip trailing new lines and blanks, then find the line's start. */
	line_end = end;
	while (line_end > start) {
		c = console.tail[(line_end - 1) & (TAIL_LEN - 1)];
		if (c != '\n' && c != '\r' && c != ' ')
			break;
		line_end--;
	}
	line_start = line_end;
	while (line_start > start &&
	       console.tail[(line_start - 1) & (TAIL_LEN - 1)] != '\n')
		line_start--;
	pos = line_start;
	/* A "[    1.234567] " time stamp goes. */
	if (pos < line_end && console.tail[pos & (TAIL_LEN - 1)] == '[') {
		unsigned long long p = pos;

		while (p < line_end && console.tail[p & (TAIL_LEN - 1)] != ']')
			p++;
		if (p < line_end) {
			pos = p + 1;
			while (pos < line_end &&
			       console.tail[pos & (TAIL_LEN - 1)] == ' ')
				pos++;
		}
	}
	for (; pos < line_end && n + 1 < len; pos++) {
		c = console.tail[pos & (TAIL_LEN - 1)];
		buf[n++] = (c >= ' ' && c != 0x7f) ? c : ' ';
	}
	buf[n] = '\0';
	pthread_mutex_unlock(&console.lock);
	return n > 0;
}
