// SPDX-License-Identifier: GPL-2.0
// The CRC-32C checksums btrfs and XFS keep in their metadata blocks, found
// in the undamaged image and mended after the damage, so that the damage
// reaches the code that parses a block instead of stopping at its
// checksum (a few cases leave them stale, for that check's own sake).
// ext4's are not mended: its fuzz image is made without metadata_csum.
import { crc32c } from './crc32c.mjs';

const BTRFS_SUPERBLOCKS = [0x10000, 0x4000000];

// XFS: where each kind of v5 block keeps its CRC, and the sizes of the
// blocks: sectors (superblocks, AGF, AGI, AGFL), inodes, filesystem blocks
// (btrees, directory, attribute and remote symlink blocks).
const XFS_CRC_OFFSETS = [
	4,	// directory data, leaf and free blocks
	12,	// attribute and directory btree nodes, remote values and symlinks
	32,	// AGFL
	52,	// short-form btree blocks
	64,	// long-form btree blocks
	100,	// inodes
	216,	// AGF
	224,	// superblock
	312,	// AGI
];

/** The checksum of a region as the filesystem stores it: ~CRC-32C, little-endian, over the region with its own field taken as zeros. */
function stored(buf, start, size, crcAt) {
	let crc = crc32c(buf.subarray(start, start + crcAt));
	crc = crc32c(Buffer.alloc(4), crc);
	crc = crc32c(buf.subarray(start + crcAt + 4, start + size), crc);
	return ~crc >>> 0;
}

/** A btrfs block's checksum, over all of it after its 32-byte checksum area. */
function btrfsStored(buf, start, size) {
	return ~crc32c(buf.subarray(start + 32, start + size)) >>> 0;
}

function matches(buf, r) {
	if (r.start + r.size > buf.length)
		return false;
	const want = r.kind === 'btrfs' ? btrfsStored(buf, r.start, r.size) : stored(buf, r.start, r.size, r.crcAt);
	return buf.readUInt32LE(r.start + r.crcAt) === want;
}

/**
 * The checksummed regions of the undamaged `buf` among its metadata
 * sectors `offsets`: [{ kind, start, size, crcAt }], each verified.
 */
export function findChecksums(kind, buf, offsets) {
	const found = [];
	if (kind === 'btrfs') {
		const nodeSize = buf.readUInt32LE(0x10000 + 0x94);
		for (const start of BTRFS_SUPERBLOCKS)
			found.push({ kind, start, size: 4096, crcAt: 0 });
		for (const start of offsets) {
			if (start % 4096 === 0 && !BTRFS_SUPERBLOCKS.includes(start))
				found.push({ kind, start, size: nodeSize, crcAt: 0 });
		}
	} else if (kind === 'xfs') {
		const blockSize = buf.readUInt32BE(4);
		const inodeSize = buf.readUInt16BE(104);
		for (const start of offsets) {
			for (const size of new Set([512, inodeSize, blockSize])) {
				if (start % size === 0) {
					for (const crcAt of XFS_CRC_OFFSETS)
						found.push({ kind, start, size, crcAt });
				}
			}
		}
	}
	return found.filter((r) => matches(buf, r));
}

/** Recomputes the checksums of the regions `touched` says were damaged, unless their checksum itself was. */
export function mendChecksums(buf, regions, touched) {
	for (const r of regions) {
		if (!touched(r.start, r.start + r.size) || touched(r.start + r.crcAt, r.start + r.crcAt + 4))
			continue;
		const value = r.kind === 'btrfs' ? btrfsStored(buf, r.start, r.size) : stored(buf, r.start, r.size, r.crcAt);
		buf.writeUInt32LE(value, r.start + r.crcAt);
	}
}
