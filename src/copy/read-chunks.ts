/**
 * A file's bytes as a source hands them to the engine: in chunks of 1 MiB
 * read at explicit positions, either the whole file or only the regions
 * of a sparse file's data map: for every source that reads by descriptor,
 * the image's ImageFile and the host's node:fs FileHandle.
 */
import { isScannedContents } from '../lkl/scan-contents.js';
import type { DataMap } from './tree.js';

const CHUNK = 1 << 20;

/** Reads at a position; returns how many bytes it read, 0 at the end. */
export type PositionalRead = (buffer: Buffer, offset: number, length: number, position: number) => Promise<number>;

/**
 * Read buffers passed on from one file to the next.  A fresh buffer per
 * read was memory the host kernel had to fault in and zero, and that the
 * garbage collector freed late: a copy's size grew with the data.  So a
 * chunk is good only until the next one is asked for (SourceTree.read).
 */
export class ReadBuffers {
	readonly #free: Buffer[] = [];

	take(): Buffer {
		return this.#free.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
	}

	give(buffer: Buffer): void {
		// More than a few are only ever out at once if reads interleave.
		if (this.#free.length < 4)
			this.#free.push(buffer);
	}
}

/** The whole file, to its end as the reads find it. */
export async function* readWhole(read: PositionalRead, buffers: ReadBuffers): AsyncIterable<Buffer> {
	const buf = buffers.take();
	try {
		for (let at = 0; ;) {
			const n = await read(buf, 0, CHUNK, at);
			if (n === 0)
				return;
			yield buf.subarray(0, n);
			at += n;
		}
	} finally {
		buffers.give(buf);
	}
}

/** The bytes of @map's regions, one after the other. */
export async function* readRegions(read: PositionalRead, map: DataMap, buffers: ReadBuffers): AsyncIterable<Buffer> {
	const buf = buffers.take();
	try {
		for (const { offset, length } of map) {
			for (let done = 0n; done < length;) {
				const want = Number(length - done < BigInt(CHUNK) ? length - done : BigInt(CHUNK));
				const n = await read(buf, 0, want, Number(offset + done));
				if (n === 0)
					return;	// shrank while read: the sink pads
				yield buf.subarray(0, n);
				done += BigInt(n);
			}
		}
	} finally {
		buffers.give(buf);
	}
}

/** All of @data in one buffer of its own, for a sink that writes a small file in one call. */
export async function collect(data: AsyncIterable<Buffer>): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of data)	// a source may read into a chunk again, but not into a scan's
		chunks.push(isScannedContents(chunk) ? chunk : Buffer.from(chunk));
	return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
