/**
 * Files with holes: their data arrives as the bytes of their regions, one
 * after the other, and each sink puts those bytes back at their offsets,
 * leaving the holes unwritten.
 */
import type { DataMap } from './tree.js';

/** Writes at a position; returns how many bytes it wrote. */
export type PositionalWrite = (buf: Buffer, offset: number, length: number, position: number) => Promise<number>;

/** @data, the bytes of @map's regions in order, cut at region ends, each piece with its offset in the file. */
async function* placed(map: DataMap, data: AsyncIterable<Buffer>): AsyncIterable<{ piece: Buffer; at: bigint }> {
	let region = 0, into = 0n;
	for await (const chunk of data) {
		let off = 0;
		while (off < chunk.length) {
			if (region >= map.length)
				throw new Error('more data than its map of regions has room for');
			const room = map[region].length - into;
			const n = Number(BigInt(chunk.length - off) < room ? BigInt(chunk.length - off) : room);
			yield { piece: chunk.subarray(off, off + n), at: map[region].offset + into };
			off += n;
			into += BigInt(n);
			if (into === map[region].length) {
				region++;
				into = 0n;
			}
		}
	}
}

/** Places @data, the bytes of @map's regions in order, at their offsets. */
export async function writeRegions(map: DataMap, data: AsyncIterable<Buffer>, write: PositionalWrite): Promise<void> {
	for await (const { piece, at } of placed(map, data)) {
		for (let done = 0; done < piece.length;)
			done += await write(piece, done, piece.length - done, Number(at) + done);
	}
}

/** The regions' bytes, holes filled with zeros: the whole file, for sinks that cannot keep holes. */
export async function* filled(map: DataMap, size: bigint, data: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
	const ZEROS = 1n << 20n;
	let at = 0n;
	function* zeros(upTo: bigint) {
		while (at < upTo) {
			const n = upTo - at < ZEROS ? upTo - at : ZEROS;
			at += n;
			yield Buffer.alloc(Number(n));
		}
	}
	for await (const { piece, at: offset } of placed(map, data)) {
		yield* zeros(offset);
		yield piece;
		at += BigInt(piece.length);
	}
	yield* zeros(size);
}
