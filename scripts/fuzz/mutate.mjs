// SPDX-License-Identifier: GPL-2.0
// The damage of one case: a few byte changes in the metadata of a base
// image, all drawn from a generator seeded by the case's (filesystem,
// seed), so that the same base image and case always give the same bytes.
import { mendChecksums } from './checksums.mjs';
import { pickSector, SECTOR } from './metadata.mjs';

/** A 32-bit generator (mulberry32) seeded from the text `key`; returns [0, 1). */
export function generator(key) {
	let h = 0x811c9dc5;
	for (const c of Buffer.from(key)) {
		h ^= c;
		h = Math.imul(h, 0x01000193) >>> 0;
	}
	return () => {
		h = (h + 0x6d2b79f5) >>> 0;
		let t = h;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

// Values that sit on the edges parsers get wrong: zero, one, signs,
// all ones, powers of two, block sizes.
const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 16, 32, 64, 0x7f, 0x80, 0xff, 0x100, 0x200, 0x1000,
	0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/**
 * Damages `buf` (an image of which `map` and `checksums` are metadata.mjs's
 * and checksums.mjs's findings) in place for case `key`; returns what it
 * did, as text lines.
 */
export function mutate(buf, map, checksums, key) {
	const rnd = generator(key);
	const int = (n) => Math.floor(rnd() * n);
	const pick = (list) => list[int(list.length)];
	const spans = [];
	const log = [];
	const change = (at, bytes, what) => {
		const before = buf.subarray(at, at + bytes.length).toString('hex');
		bytes.copy(buf, at);
		spans.push([at, at + bytes.length]);
		log.push(`${what} at ${at} (0x${at.toString(16)}): ${before} -> ${bytes.toString('hex')}`);
	};

	const count = pick([1, 1, 1, 2, 2, 3, 4, 6]);
	for (let n = 0; n < count; n++) {
		const sector = pickSector(map, rnd());
		const at = sector + int(SECTOR);
		const room = buf.length - at;
		const op = rnd();
		if (op < 0.3) {
			change(at, Buffer.from([buf[at] ^ (1 << int(8))]), 'flip a bit');
		} else if (op < 0.5) {
			change(at, Buffer.from([int(256)]), 'set a byte');
		} else if (op < 0.75) {
			const width = Math.min(pick([1, 2, 4]), room);
			const value = pick(INTERESTING);
			const bigEndian = rnd() < 0.5;
			const bytes = Buffer.alloc(width);
			for (let i = 0; i < width; i++)
				bytes[bigEndian ? width - 1 - i : i] = (value >>> (8 * i)) & 0xff;
			change(at, bytes, `write ${value} in ${width} bytes ${bigEndian ? 'big' : 'little'}-endian`);
		} else if (op < 0.85) {
			change(at, Buffer.alloc(Math.min(1 + int(32), room)), 'zero bytes');
		} else {
			const from = pickSector(map, rnd()) + int(SECTOR);
			const len = Math.min(1 + int(64), room, buf.length - from);
			change(at, Buffer.from(buf.subarray(from, from + len)), `copy bytes from ${from}`);
		}
	}

	// Mostly mended, so that the damage is parsed; sometimes left stale.
	const mend = checksums.length > 0 && rnd() < 0.875;
	if (mend) {
		const touched = (start, end) => spans.some(([a, b]) => a < end && b > start);
		mendChecksums(buf, checksums, touched);
		log.push('checksums of the damaged blocks mended');
	}
	return log;
}
