/**
 * Files with holes: their data arrives as the bytes of their regions, one
 * after the other, and each sink puts those bytes back at their offsets,
 * leaving the holes unwritten.
 */
import type { DataMap } from './tree.js';

/** Writes at a position; returns how many bytes it wrote. */
export type PositionalWrite = (buf: Buffer, offset: number, length: number, position: number) => Promise<number>;

/** Places @data, the bytes of @map's regions in order, at their offsets. */
export async function writeRegions(map: DataMap, data: AsyncIterable<Buffer>, write: PositionalWrite): Promise<void> {
	let region = 0, into = 0n;
	for await (const chunk of data) {
		let off = 0;
		while (off < chunk.length) {
			if (region >= map.length)
				throw new Error('more data than its map of regions has room for');
			const room = map[region].length - into;
			const n = Number(BigInt(chunk.length - off) < room ? BigInt(chunk.length - off) : room);
			const wrote = await write(chunk, off, n, Number(map[region].offset + into));
			off += wrote;
			into += BigInt(wrote);
			if (into === map[region].length) {
				region++;
				into = 0n;
			}
		}
	}
}

/** The regions' bytes, holes filled with zeros: the whole file, for sinks that cannot keep holes. */
export async function* filled(map: DataMap, size: bigint, data: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
	const ZEROS = 1 << 20;
	let at = 0n;
	const zeros = function* (upTo: bigint) {
		while (at < upTo) {
			const n = Number(upTo - at < BigInt(ZEROS) ? upTo - at : BigInt(ZEROS));
			at += BigInt(n);
			yield Buffer.alloc(n);
		}
	};
	let region = 0, into = 0n;
	for await (const chunk of data) {
		let off = 0;
		while (off < chunk.length) {
			if (region >= map.length)
				throw new Error('more data than its map of regions has room for');
			if (into === 0n)
				yield* zeros(map[region].offset);
			const room = map[region].length - into;
			const n = Number(BigInt(chunk.length - off) < room ? BigInt(chunk.length - off) : room);
			yield chunk.subarray(off, off + n);
			off += n;
			at += BigInt(n);
			into += BigInt(n);
			if (into === map[region].length) {
				region++;
				into = 0n;
			}
		}
	}
	yield* zeros(size);
}
