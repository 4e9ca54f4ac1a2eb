// SPDX-License-Identifier: GPL-2.0
// Where an image's metadata lives, found from its content: every 512-byte
// sector that is not all zeros and does not start with base-images.mjs's
// DATA_TAG holds metadata (superblocks, group descriptors, bitmaps, inode
// tables, directory blocks, btree nodes, FATs, directory entries,
// journals and logs; small files that a filesystem keeps inside its
// metadata too).  Each sector is weighted so that large areas of one
// kind, an XFS log above all, do not take most of the damage.
import { DATA_TAG } from './base-images.mjs';

export const SECTOR = 512;

function isZero(buf, at) {
	for (let i = at; i < at + SECTOR; i += 8) {
		if (buf.readBigUInt64LE(i) !== 0n)
			return false;
	}
	return true;
}

function isData(buf, at) {
	return buf.compare(DATA_TAG, 0, DATA_TAG.length, at, at + DATA_TAG.length) === 0;
}

/** The byte range of the internal log of an XFS image, from its superblock. */
function xfsLog(buf) {
	if (buf.toString('latin1', 0, 4) !== 'XFSB')
		return undefined;
	const blockSize = buf.readUInt32BE(4);
	const logStart = buf.readBigUInt64BE(48);
	const agBlocks = buf.readUInt32BE(84);
	const logBlocks = buf.readUInt32BE(96);
	const agBlkLog = BigInt(buf[124]);
	if (logStart === 0n)
		return undefined;
	const ag = logStart >> agBlkLog;
	const agBlock = logStart & ((1n << agBlkLog) - 1n);
	const start = Number(ag * BigInt(agBlocks) + agBlock) * blockSize;
	return { start, end: start + logBlocks * blockSize };
}

/** All the log together weighs as much as this many other sectors. */
const LOG_WEIGHT = 32;

/**
 * The metadata sectors of `buf`, an image of `kind`: { offsets (byte
 * offset of each sector), cumulative (running sum of their weights) }.
 */
export function metadataMap(kind, buf) {
	const log = kind === 'xfs' ? xfsLog(buf) : undefined;
	const offsets = [];
	const weights = [];
	for (let at = 0; at + SECTOR <= buf.length; at += SECTOR) {
		if (isZero(buf, at) || isData(buf, at))
			continue;
		offsets.push(at);
		weights.push(log && at >= log.start && at < log.end ? -1 : 1);
	}
	const logSectors = weights.filter((w) => w < 0).length;
	const cumulative = new Float64Array(weights.length);
	let sum = 0;
	weights.forEach((w, i) => {
		sum += w < 0 ? LOG_WEIGHT / logSectors : w;
		cumulative[i] = sum;
	});
	return { offsets, cumulative };
}

/** The sector of the map that `x` in [0, 1) picks, by weight. */
export function pickSector(map, x) {
	const target = x * map.cumulative[map.cumulative.length - 1];
	let lo = 0;
	let hi = map.cumulative.length - 1;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (map.cumulative[mid] > target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return map.offsets[lo];
}
