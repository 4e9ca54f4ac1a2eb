/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which filesystem an image holds, from the first DETECT_BYTES of it: the
 * kernel's name for it ("ext4", "iso9660", "ntfs3"...), or NULL.
 */
#ifndef LKL_DETECT_H
#define LKL_DETECT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Enough for every superblock looked for: btrfs's at 64 KiB, and the
 * volume recognition sequence of UDF from 32 KiB on.
 */
#define DETECT_BYTES	(64 * 1024 + 4096)

/* @n: how many bytes of @buf the device had (a small image has fewer). */
const char *detect_fstype_in(const unsigned char *buf, size_t n);

/*
 * Whether this kernel only ever reads @fstype (erofs, squashfs, iso9660):
 * a read-write mount of it fails with EROFS (lkl_host_mount()), and no
 * option changes that.
 */
bool fstype_read_only(const char *fstype);

#endif
