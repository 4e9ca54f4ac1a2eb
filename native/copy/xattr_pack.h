/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Extended attributes packed in one buffer, as the copies pass them
 * between Node and C (scan.h, kernel/put.h): for each, its name and a NUL,
 * a 4-byte little-endian length, then the value.
 */
#ifndef LKL_NATIVE_COPY_XATTR_PACK_H
#define LKL_NATIVE_COPY_XATTR_PACK_H

#include <stddef.h>
#include <string.h>

struct xattr_pack_item {
	const char *name;
	const void *value;
	size_t len;
};

/*
 * The item at *@off in @buf of @size bytes, moving *@off past it.
 * Returns 1 for an item, 0 at the end, -1 if the buffer is malformed.
 */
static inline int xattr_pack_next(const char *buf, size_t size, size_t *off,
				  struct xattr_pack_item *item)
{
	const unsigned char *le;
	size_t left, name_len;

	if (*off >= size)
		return 0;
	left = size - *off;
	name_len = strnlen(buf + *off, left);
	if (name_len == left || left - name_len - 1 < 4)
		return -1;
	le = (const unsigned char *)buf + *off + name_len + 1;
	item->len = le[0] | le[1] << 8 | le[2] << 16 | (size_t)le[3] << 24;
	if (left - name_len - 5 < item->len)
		return -1;
	item->name = buf + *off;
	item->value = le + 4;
	*off += name_len + 5 + item->len;
	return 1;
}

/* Appends little-endian @len at @p: the 4 bytes of an item's length. */
static inline void xattr_pack_len(unsigned char *p, size_t len)
{
	p[0] = len & 0xff;
	p[1] = (len >> 8) & 0xff;
	p[2] = (len >> 16) & 0xff;
	p[3] = (len >> 24) & 0xff;
}

#endif
