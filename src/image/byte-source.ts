/**
 * Where partition tables and superblocks are read from: an image file, or
 * bytes in memory (tests, and tables just built).
 */
import { readFile, type FileHandle } from 'node:fs/promises';

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
		read: (offset, length) => Promise.resolve(Buffer.from(offset < 0 ? [] : buf.subarray(offset, offset + length))),
	};
}

/** A source over an open file of @size bytes; reads until @length or its end. */
export function fileSource(handle: FileHandle, size: number): ByteSource {
	return {
		size,
		async read(offset, length) {
			const want = offset < 0 ? 0 : Math.max(0, Math.min(length, size - offset));
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

/**
 * The size in bytes of the file or block device open in @handle: a block
 * device's stat says 0, and its size is in /sys instead (in sectors of
 * 512 bytes, whatever the device's own).
 */
export async function sizeOf(handle: FileHandle): Promise<number> {
	const st = await handle.stat();
	if (!st.isBlockDevice())
		return st.size;
	// glibc's major() and minor() of the device number.
	const major = ((st.rdev >> 8) & 0xfff) | Math.floor(st.rdev / 2 ** 32) & ~0xfff;
	const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & ~0xff);
	const sectors = Number((await readFile(`/sys/dev/block/${major}:${minor}/size`, 'latin1')).trim());
	return Number.isSafeInteger(sectors) ? sectors * 512 : 0;
}
