/**
 * ext4 counts in its superblock the kilobytes ever written to it
 * (s_kbytes_written, dumpe2fs's "Lifetime writes"), from the block
 * device's own count of sectors written.  How many a run writes depends
 * on when the kernel's threads write a metadata block home (once, or
 * twice when it changes again after), so a reproducible run puts back
 * the count it found: the image then says nothing of that run's timing.
 * Only the primary superblock holds the count (the kernel never writes
 * the backups'), under the superblock's checksum with metadata_csum.
 */
import { open } from 'node:fs/promises';

const SUPERBLOCK = 1024;
const MAGIC = 0x38, KBYTES_WRITTEN = 0x178, RO_COMPAT = 0x64, CHECKSUM_TYPE = 0x175, CHECKSUM = 0x3fc;
const RO_COMPAT_METADATA_CSUM = 0x400;

const TABLE = (() => {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++)
			c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
})();

/** crc32c of @bytes from @seed, without the final inversion: ext4's superblock checksum. */
function crc32cRaw(seed: number, bytes: Uint8Array): number {
	let crc = seed >>> 0;
	for (const b of bytes)
		crc = (TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8)) >>> 0;
	return crc;
}

async function readSuperblock(image: string, offset: number): Promise<Buffer | undefined> {
	const file = await open(image, 'r');
	try {
		const sb = Buffer.alloc(1024);
		const { bytesRead } = await file.read(sb, 0, sb.length, offset + SUPERBLOCK);
		return bytesRead === sb.length && sb.readUInt16LE(MAGIC) === 0xef53 ? sb : undefined;
	} finally {
		await file.close();
	}
}

/** The lifetime writes count of the ext4 filesystem at @offset of @image; undefined if it is not ext4. */
export async function lifetimeWrites(image: string, offset: number): Promise<bigint | undefined> {
	return (await readSuperblock(image, offset))?.readBigUInt64LE(KBYTES_WRITTEN);
}

/** Sets that count back to @kbytes, and the superblock's checksum with it. */
export async function restoreLifetimeWrites(image: string, offset: number, kbytes: bigint): Promise<void> {
	const sb = await readSuperblock(image, offset);
	if (!sb || sb.readBigUInt64LE(KBYTES_WRITTEN) === kbytes)
		return;
	sb.writeBigUInt64LE(kbytes, KBYTES_WRITTEN);
	if (sb.readUInt32LE(RO_COMPAT) & RO_COMPAT_METADATA_CSUM && sb[CHECKSUM_TYPE] === 1)
		sb.writeUInt32LE(crc32cRaw(0xffffffff, sb.subarray(0, CHECKSUM)), CHECKSUM);
	const file = await open(image, 'r+');
	try {
		await file.write(sb, 0, sb.length, offset + SUPERBLOCK);
		await file.sync();
	} finally {
		await file.close();
	}
}
