/**
 * Where partition tables and superblocks are read from: an image file, or
 * bytes in memory (tests, and tables just built).
 */
import type { FileHandle } from 'node:fs/promises';

/** Bytes at any offset of a disk; a read past its end comes back short. */
export interface ByteSource {
	/** The disk's size in bytes. */
	readonly size: number;
	read(offset: number, length: number): Promise<Buffer>;
}

/** A source over @bytes. */
export function bufferSource(bytes: Uint8Array): ByteSource {
	const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	return {
		size: buf.length,
		read: (offset, length) => Promise.resolve(Buffer.from(buf.subarray(offset, offset + length))),
	};
}

/** A source over an open file of @size bytes; reads until @length or its end. */
export function fileSource(handle: FileHandle, size: number): ByteSource {
	return {
		size,
		async read(offset, length) {
			const want = Math.max(0, Math.min(length, size - offset));
			const buf = Buffer.alloc(want);
			let done = 0;
			while (done < want) {
				const { bytesRead } = await handle.read(buf, done, want - done, offset + done);
				if (bytesRead === 0)
					break;
				done += bytesRead;
			}
			return done === want ? buf : buf.subarray(0, done);
		},
	};
}
