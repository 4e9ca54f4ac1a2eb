// SPDX-License-Identifier: GPL-2.0
/*
 * Directory scans for copies (see scan.h), on either kernel: the system
 * calls come from a struct scan_sys.
 *
 * Entries are reached by name from the directory's own descriptor, and
 * the names come from getdents64, so they hold no "/" and the scan cannot
 * leave the directory.  The xattr calls need a path: /proc/self/fd/<dir>
 * followed by the name, with the l* calls that do not follow the entry.
 * Error numbers and the S_IF* and AT_* values are the same for the host
 * and for the kernel in lkl.o.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernel/dirent64.h"
#include "scan.h"
#include "xattr_pack.h"

#define XATTR_LIST_MAX		65536
#define XATTR_VALUE_MAX		65536
#define DIRENT_BUF		32768
#define WINDOW			128	/* entries, and at most that many open files */

struct scan_bufs {
	char *list;		/* llistxattr's names */
	char *value;		/* one value at a time */
	char *xattrs;		/* the packed result */
	size_t xattrs_cap;
	char *link;
};

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	char *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static long scan_xattrs(const struct scan_sys *sys, struct scan_bufs *b,
			const char *xpath, size_t *len)
{
	long list_len, off, n;
	size_t used = 0;
	int err;

	list_len = sys->llistxattr(xpath, b->list, XATTR_LIST_MAX);
	if (list_len < 0)
		return list_len == -EOPNOTSUPP ? 0 : list_len;
	for (off = 0; off < list_len; off += strlen(b->list + off) + 1) {
		const char *name = b->list + off;
		size_t name_len = strlen(name);

		n = sys->lgetxattr(xpath, name, b->value, XATTR_VALUE_MAX);
		if (n == -ENODATA)
			continue;	/* removed since the listing */
		if (n < 0)
			return n;
		err = grow(&b->xattrs, &b->xattrs_cap,
			   used + name_len + 1 + 4 + n);
		if (err)
			return err;
		memcpy(b->xattrs + used, name, name_len + 1);
		used += name_len + 1;
		xattr_pack_len((unsigned char *)b->xattrs + used, n);
		used += 4;
		memcpy(b->xattrs + used, b->value, n);
		used += n;
	}
	*len = used;
	return 0;
}

/*
 * Read a prefetched file, whose descriptor the window holds, into a
 * buffer of its own: the callback may keep it (scan.h), which spares
 * Node a copy of every small file.
 */
static long scan_data(const struct scan_sys *sys, long fd, size_t size,
		      char **data, size_t *len)
{
	size_t got = 0;
	char *buf;
	long n = 0;

	/* One byte more than the size: a file that grew is left to the slow path. */
	buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	while (got <= size) {
		n = sys->pread(fd, buf + got, size + 1 - got, got);
		if (n <= 0)
			break;
		got += n;
	}
	if (n < 0 || got != size) {
		free(buf);
		return n < 0 ? n : -EAGAIN;
	}
	*data = buf;
	*len = got;
	return 0;
}

/*
 * A window of entries goes through in three passes: status for all, then
 * readahead for every small file (so that the disk sees their reads at
 * once, and adjacent ones merge, instead of one wait per file), then the
 * rest, entry by entry, through the callback.
 */
struct slot {
	char *name;
	struct scan_entry e;
	long fd;		/* a small file's, opened for its contents */
};

static int scan_window(const struct scan_sys *sys, struct scan_bufs *b,
		       long dir, struct slot *w, int n, size_t inline_max,
		       size_t *budget, scan_fn fn, void *ctx)
{
	char xpath[64 + 256];
	int i, ret = 0;
	long r;

	for (i = 0; i < n; i++) {
		struct scan_entry *e = &w[i].e;
		size_t size;

		memset(e, 0, sizeof(*e));
		e->name = w[i].name;
		e->link_err = -EINVAL;
		e->data_err = -EINVAL;
		w[i].fd = -1;
		e->stat_err = sys->lstat(dir, w[i].name, &e->st);
		if (e->stat_err || (e->st.stx_mode & S_IFMT) != S_IFREG)
			continue;
		size = e->st.stx_size;
		if (!inline_max || size > inline_max || size > *budget) {
			e->data_err = -EFBIG;
			continue;
		}
		*budget -= size;
		r = sys->open_file(dir, w[i].name);
		if (r < 0) {
			e->data_err = r;
			continue;
		}
		w[i].fd = r;
		/* Only a hint: a failure shows in the read. */
		if (size)
			sys->readahead(r, size);
	}

	for (i = 0; i < n; i++) {
		struct scan_entry *e = &w[i].e;

		if (!e->stat_err) {
			snprintf(xpath, sizeof(xpath), "/proc/self/fd/%ld/%s",
				 dir, w[i].name);
			e->xattrs_err = scan_xattrs(sys, b, xpath,
						    &e->xattrs_len);
			e->xattrs = b->xattrs;
			if ((e->st.stx_mode & S_IFMT) == S_IFLNK) {
				r = sys->readlinkat(dir, w[i].name, b->link,
						    4096);
				e->link_err = r < 0 ? r : 0;
				e->link = b->link;
				e->link_len = r < 0 ? 0 : r;
			}
			if (w[i].fd >= 0) {
				e->data_err = scan_data(sys, w[i].fd,
							e->st.stx_size,
							&e->data,
							&e->data_len);
			}
		}
		if (!ret)
			ret = fn(ctx, e);
		free(e->data);
	}

	for (i = 0; i < n; i++) {
		if (w[i].fd >= 0)
			sys->close(w[i].fd);
		free(w[i].name);
	}
	return ret;
}

long scan_dir(const struct scan_sys *sys, long dir, size_t inline_max,
	      size_t budget, scan_fn fn, void *ctx)
{
	struct scan_bufs b = { 0 };
	struct slot *w = NULL;
	char *dents = NULL;
	long n = 0, ret;
	int used = 0;

	ret = -ENOMEM;
	dents = malloc(DIRENT_BUF);
	w = calloc(WINDOW, sizeof(*w));
	b.list = malloc(XATTR_LIST_MAX);
	b.value = malloc(XATTR_VALUE_MAX);
	b.link = malloc(4096);
	if (!dents || !w || !b.list || !b.value || !b.link)
		goto out;

	ret = 0;
	while (!ret && (n = sys->getdents64(dir, dents, DIRENT_BUF)) > 0) {
		long off = 0;

		while (!ret && off < n) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + off);

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			w[used].name = strdup(d->d_name);
			if (!w[used].name) {
				ret = -ENOMEM;
				break;
			}
			if (++used == WINDOW) {
				ret = scan_window(sys, &b, dir, w, used,
						  inline_max, &budget, fn, ctx);
				used = 0;
			}
		}
	}
	if (!ret && used)
		ret = scan_window(sys, &b, dir, w, used, inline_max, &budget,
				  fn, ctx);
	else
		while (used)
			free(w[--used].name);
	if (!ret && n < 0)
		ret = n;
out:
	free(w);
	free(dents);
	free(b.list);
	free(b.value);
	free(b.xattrs);
	free(b.link);
	return ret;
}
