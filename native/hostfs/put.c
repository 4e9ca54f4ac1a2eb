// SPDX-License-Identifier: GPL-2.0
/* Small files made whole on the host (see put.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "put.h"

static int write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= n;
	}
	return 0;
}

long hostfs_put_file(struct hostfs_dest *d, const char *rel, const void *data,
		     size_t len, const struct lkl_put_meta *m, int lenient,
		     struct hostfs_meta_result *res)
{
	int fd;
	long ret;

	memset(res, 0, sizeof(*res));
	fd = hostfs_dest_create(d, rel);
	if (fd < 0)
		return fd;
	ret = write_all(fd, data, len);
	if (!ret)
		ret = hostfs_fd_set_meta(fd, m, lenient, res);
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}
