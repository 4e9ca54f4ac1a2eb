// SPDX-License-Identifier: GPL-2.0
/*
 * Recognising a filesystem by its superblock, with the on-disk facts of
 * the kernel's own headers (fs/<name>/ and include/uapi/linux/magic.h).
 *
 * Order matters where one image holds two: the first match wins.
 *  - Magic numbers at 0, 1 KiB and 64 KiB first: their mkfs writes them
 *    over whatever the disk held.
 *  - Boot sectors (exFAT, NTFS, FAT) before what starts at 32 KiB: an
 *    ISO image's first 32 KiB hold a partition table and boot code,
 *    never a filesystem's boot sector, so one there was written after
 *    the ISO image (Debian's mkfs tools overwrite 32 KiB as well, but
 *    a tool need not).
 *  - UDF before ISO 9660: a UDF bridge disc carries both trees, and the
 *    kernel's UDF reads more of it (owners, modes and times of every
 *    file, files past 4 GiB in one extent; it is what the disc is made
 *    for).  -t iso9660 still mounts the ISO 9660 tree.
 *  - ISO 9660 before HFS+: an ISO image made for Macs (xorriso -hfsplus)
 *    has an HFS+ volume header in its first 32 KiB, over the same file
 *    data; Rock Ridge keeps the Unix side of it.  -t hfsplus mounts that.
 */
#include <stdbool.h>
#include <string.h>

#include "detect.h"

/* ISO 9660 and UDF volume descriptors start at sector 16 of 2 KiB. */
#define VRS_START	32768

static bool has(const unsigned char *buf, size_t n, size_t off,
		const char *bytes, size_t len)
{
	return off + len <= n && !memcmp(buf + off, bytes, len);
}

/* A FAT boot sector: 55 AA at its end, and a FAT type in its BPB. */
static bool is_fat(const unsigned char *buf, size_t n)
{
	return has(buf, n, 510, "\x55\xaa", 2) &&
	       (has(buf, n, 54, "FAT", 3) || has(buf, n, 82, "FAT32", 5));
}

/*
 * UDF's volume recognition sequence (ECMA-167 2/9.1, fs/udf/ecma_167.h):
 * descriptors one sector apart from 32 KiB on, each with a five-letter
 * id one byte in, until an NSR02 or NSR03 says UDF.  ISO 9660's (CD001)
 * and others may come first; anything else ends the sequence.  Sectors
 * of 2 KiB or less put them 2 KiB apart, 4 KiB sectors 4 KiB apart.
 */
static bool udf_vrs(const unsigned char *buf, size_t n, size_t step)
{
	static const char *const skip[] = { "CD001", "BEA01", "BOOT2", "CDW02" };
	size_t off, i;

	for (off = VRS_START; off + 6 <= n; off += step) {
		if (has(buf, n, off + 1, "NSR02", 5) ||
		    has(buf, n, off + 1, "NSR03", 5))
			return true;
		for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
			if (has(buf, n, off + 1, skip[i], 5))
				break;
		}
		if (i == sizeof(skip) / sizeof(skip[0]))
			return false;
	}
	return false;
}

static bool is_udf(const unsigned char *buf, size_t n)
{
	return udf_vrs(buf, n, 2048) || udf_vrs(buf, n, 4096);
}

/*
 * HFS+ (H+) or HFSX (HX), big-endian, at 1 KiB; or an HFS wrapper (BD)
 * with either embedded, its signature 0x7c into the wrapper's header
 * (fs/hfsplus/hfsplus_raw.h).
 */
static bool is_hfsplus(const unsigned char *buf, size_t n)
{
	size_t embedded = 1024 + 0x7c;

	return has(buf, n, 1024, "H+", 2) || has(buf, n, 1024, "HX", 2) ||
	       (has(buf, n, 1024, "BD", 2) &&
		(has(buf, n, embedded, "H+", 2) ||
		 has(buf, n, embedded, "HX", 2)));
}

static const struct magic {
	const char *fstype;
	size_t off;
	size_t len;
	const char *bytes;
	bool (*match)(const unsigned char *buf, size_t n);
} magics[] = {
	{ .fstype = "btrfs", .off = 65536 + 64, .len = 8, .bytes = "_BHRfS_M" },
	{ .fstype = "xfs", .off = 0, .len = 4, .bytes = "XFSB" },
	/* SQUASHFS_MAGIC, little-endian */
	{ .fstype = "squashfs", .off = 0, .len = 4, .bytes = "hsqs" },
	/* EROFS_SUPER_OFFSET, EROFS_SUPER_MAGIC_V1 */
	{ .fstype = "erofs", .off = 1024, .len = 4, .bytes = "\xe2\xe1\xf5\xe0" },
	/* F2FS_SUPER_OFFSET, F2FS_SUPER_MAGIC */
	{ .fstype = "f2fs", .off = 1024, .len = 4, .bytes = "\x10\x20\xf5\xf2" },
	/* s_magic of ext2/3/4, 56 into the superblock at 1 KiB */
	{ .fstype = "ext4", .off = 1080, .len = 2, .bytes = "\x53\xef" },
	/* the boot sector's file system name, 3 bytes in */
	{ .fstype = "exfat", .off = 3, .len = 8, .bytes = "EXFAT   " },
	{ .fstype = "ntfs3", .off = 3, .len = 8, .bytes = "NTFS    " },
	{ .fstype = "vfat", .match = is_fat },
	{ .fstype = "udf", .match = is_udf },
	/* the first volume descriptor's standard identifier */
	{ .fstype = "iso9660", .off = VRS_START + 1, .len = 5, .bytes = "CD001" },
	{ .fstype = "hfsplus", .match = is_hfsplus },
	/* JFS_MAGIC in the primary superblock, SUPER1_OFF */
	{ .fstype = "jfs", .off = 32768, .len = 4, .bytes = "JFS1" },
};

const char *detect_fstype_in(const unsigned char *buf, size_t n)
{
	const struct magic *m;
	size_t i;

	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		m = &magics[i];
		if (m->match ? m->match(buf, n) :
			       has(buf, n, m->off, m->bytes, m->len))
			return m->fstype;
	}
	return NULL;
}

bool fstype_read_only(const char *fstype)
{
	static const char *const read_only[] = { "erofs", "squashfs", "iso9660" };
	size_t i;

	for (i = 0; fstype && i < sizeof(read_only) / sizeof(read_only[0]); i++) {
		if (!strcmp(fstype, read_only[i]))
			return true;
	}
	return false;
}
