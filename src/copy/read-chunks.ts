/**
 * A file's bytes as a source hands them to the engine: in chunks of 1 MiB
 * read at explicit positions, either the whole file or only the regions
 * of a sparse file's data map.  Written once for every source that reads
 * by descriptor: the image's ImageFile, and the host's node:fs FileHandle
 * once hostfs-tree.ts takes it up (it still has its own copy).
 */
import type { DataMap } from './tree.js';

const CHUNK = 1 << 20;

/** Reads at a position; returns how many bytes it read, 0 at the end. */
export type PositionalRead = (buffer: Buffer, offset: number, length: number, position: number) => Promise<number>;

/** The whole file, to its end as the reads find it. */
export async function* readWhole(read: PositionalRead): AsyncIterable<Buffer> {
	for (let at = 0; ;) {
		const buf = Buffer.allocUnsafe(CHUNK);
		const n = await read(buf, 0, CHUNK, at);
		if (n === 0)
			return;
		yield buf.subarray(0, n);
		at += n;
	}
}

/** The bytes of @map's regions, one after the other. */
export async function* readRegions(read: PositionalRead, map: DataMap): AsyncIterable<Buffer> {
	for (const { offset, length } of map) {
		for (let done = 0n; done < length;) {
			const want = Number(length - done < BigInt(CHUNK) ? length - done : BigInt(CHUNK));
			const buf = Buffer.allocUnsafe(want);
			const n = await read(buf, 0, want, Number(offset + done));
			if (n === 0)
				return;	// shrank while read: the sink pads
			yield buf.subarray(0, n);
			done += BigInt(n);
		}
	}
}
