/**
 * Labels and UUIDs of the other filesystems the kernel reads (probe.ts's
 * OTHERS), in blkid's forms, from their documented on-disk structures.
 * Linux 6.12 answers FS_IOC_GETFSLABEL for none of these but f2fs, so
 * `lkl info` would otherwise show them without a name.  (HFS+ keeps its
 * label in the catalog B-tree, and blkid's UUID for it is a hash: not
 * done, as nothing in Debian 12 makes a bare HFS+ to check it against.)  Every read stays
 * inside the volume, and a structure that does not add up gives nothing.
 */
import type { ByteSource } from './byte-source.js';

export interface Ids {
	readonly label?: string;
	readonly uuid?: string;
}

/** A string field, NULs and trailing spaces dropped; undefined if empty. */
function trimmed(s: string): string | undefined {
	const t = s.replace(/\0.*$/s, '').replace(/ +$/, '');
	return t.length ? t : undefined;
}

/** UTF-16 big-endian (Joliet's), which Node has no decoder for. */
function utf16be(buf: Buffer): string {
	const le = Buffer.from(buf.subarray(0, buf.length & ~1));
	le.swap16();
	return le.toString('utf16le');
}

function uuid16(buf: Buffer, at: number): string | undefined {
	const h = buf.toString('hex', at, at + 16);
	if (h.length !== 32 || /^0+$/.test(h))
		return undefined;
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A 4-byte volume serial as XXXX-XXXX (exFAT's, like FAT's). */
function serial32(n: number): string {
	const h = n.toString(16).toUpperCase().padStart(8, '0');
	return `${h.slice(0, 4)}-${h.slice(4)}`;
}

/**
 * ISO 9660: the label is the volume identifier, from the Joliet
 * supplementary descriptor when there is one (Unicode, not cut to
 * d-characters); the "UUID" blkid gives is the creation date.
 */
async function iso9660(src: ByteSource, offset: number, size: number): Promise<Ids> {
	let label: string | undefined;
	let joliet: string | undefined;
	let uuid: string | undefined;
	// Volume descriptors from sector 16, until the terminator (type 255).
	for (let sector = 16; sector < 16 + 32 && (sector + 1) * 2048 <= size; sector++) {
		const d = await src.read(offset + sector * 2048, 2048);
		if (d.length < 2048 || d.toString('latin1', 1, 6) !== 'CD001' || d[0] === 255)
			break;
		if (d[0] === 1) {
			label = trimmed(d.toString('latin1', 40, 72));
			const date = d.toString('latin1', 813, 829);
			if (/^\d{16}$/.test(date) && date !== '0000000000000000')
				uuid = date.match(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/)!.slice(1).join('-');
		} else if (d[0] === 2 && d[88] === 0x25 && d[89] === 0x2f && [0x40, 0x43, 0x45].includes(d[90]!)) {
			joliet = trimmed(utf16be(d.subarray(40, 72)));
		}
	}
	return { label: joliet ?? label, uuid };
}

/** JFS: the superblock at 32 KiB; the 16-byte label, or the older 11-byte one. */
function jfs(head: Buffer): Ids {
	const sb = 32768;
	if (head.length < sb + 184)
		return {};
	return {
		label: trimmed(head.toString('utf8', sb + 152, sb + 168)) ?? trimmed(head.toString('utf8', sb + 101, sb + 112)),
		uuid: uuid16(head, sb + 136),
	};
}

/** EROFS: the superblock at 1 KiB: the UUID at 48, the volume name at 64. */
function erofs(head: Buffer): Ids {
	if (head.length < 1024 + 80)
		return {};
	return { label: trimmed(head.toString('utf8', 1024 + 64, 1024 + 80)), uuid: uuid16(head, 1024 + 48) };
}

/**
 * NTFS: the serial from the boot sector (blkid's UUID: the 64-bit number
 * in hex); the label is the $VOLUME_NAME attribute of the $Volume file,
 * MFT record 3.
 */
async function ntfs(src: ByteSource, offset: number, size: number, bs: Buffer): Promise<Ids> {
	const uuid = bs.readBigUInt64LE(72).toString(16).toUpperCase().padStart(16, '0');
	const sectorSize = bs.readUInt16LE(11);
	const perCluster = bs[13]!;
	const mftCluster = bs.readBigUInt64LE(48);
	const perRecord = bs.readInt8(64);
	if (![512, 1024, 2048, 4096].includes(sectorSize) || perCluster === 0)
		return { uuid };
	// Sectors per cluster above 128 are stored as a negative shift.
	const clusterSize = sectorSize * (perCluster > 128 ? 2 ** (256 - perCluster) : perCluster);
	const recordSize = perRecord < 0 ? 2 ** -perRecord : perRecord * clusterSize;
	const at = Number(mftCluster) * clusterSize + 3 * recordSize;
	if (recordSize < 512 || recordSize > 65536 || !Number.isSafeInteger(at) || at + recordSize > size)
		return { uuid };
	const rec = await src.read(offset + at, recordSize);
	if (rec.length < recordSize || rec.toString('latin1', 0, 4) !== 'FILE')
		return { uuid };
	// Undo the update sequence: the last two bytes of every sector were
	// swapped for the sequence number on writing.
	const usa = rec.readUInt16LE(4);
	const count = rec.readUInt16LE(6);
	if (usa + 2 * count > recordSize || (count - 1) * sectorSize > recordSize)
		return { uuid };
	for (let i = 1; i < count; i++)
		rec.writeUInt16LE(rec.readUInt16LE(usa + 2 * i), i * sectorSize - 2);
	for (let a = rec.readUInt16LE(20); a + 24 <= recordSize;) {
		const type = rec.readUInt32LE(a);
		const length = rec.readUInt32LE(a + 4);
		if (type === 0xffffffff || length < 24 || a + length > recordSize)
			break;
		if (type === 0x60 && rec[a + 8] === 0) {	// $VOLUME_NAME, resident
			const n = rec.readUInt32LE(a + 16);
			const from = a + rec.readUInt16LE(a + 20);
			if (from + n <= a + length)
				return { uuid, label: trimmed(rec.toString('utf16le', from, from + n)) };
			break;
		}
		a += length;
	}
	return { uuid };
}

/** exFAT: the serial in the boot sector; the label, entry 0x83 of the root directory. */
async function exfat(src: ByteSource, offset: number, size: number, bs: Buffer): Promise<Ids> {
	const uuid = serial32(bs.readUInt32LE(100));
	const sectorShift = bs[108]!;
	const clusterShift = bs[109]!;
	if (sectorShift < 9 || sectorShift > 12 || sectorShift + clusterShift > 25)
		return { uuid };
	const heap = bs.readUInt32LE(88) * 2 ** sectorShift;
	const root = bs.readUInt32LE(96);
	const clusterSize = 2 ** (sectorShift + clusterShift);
	const at = heap + (root - 2) * clusterSize;
	const length = Math.min(clusterSize, 65536);
	if (root < 2 || at + length > size)
		return { uuid };
	const dir = await src.read(offset + at, length);
	for (let e = 0; e + 32 <= dir.length && dir[e] !== 0; e += 32) {
		if (dir[e] === 0x83) {
			const chars = Math.min(dir[e + 1]!, 11);
			return { uuid, label: trimmed(dir.toString('utf16le', e + 2, e + 2 + 2 * chars)) };
		}
	}
	return { uuid };
}

/** A UDF dstring: a compression byte (8 or 16) first, the used length last. */
function dstring(field: Buffer): string | undefined {
	const used = field[field.length - 1]!;
	if (used < 1 || used > field.length - 1)
		return undefined;
	const body = field.subarray(1, used);
	if (field[0] === 8)
		return trimmed(body.toString('latin1'));
	if (field[0] === 16)
		return trimmed(utf16be(body));
	return undefined;
}

/**
 * UDF: the anchor at sector 256 points at the volume descriptors; the
 * label is the logical volume's identifier, the UUID (as blkid makes it)
 * the first 16 characters of the volume set identifier, lower case when
 * they are hex digits, else the hex of the first eight.
 */
async function udf(src: ByteSource, offset: number, size: number): Promise<Ids> {
	for (const block of [512, 1024, 2048, 4096]) {
		if (257 * block > size)
			break;
		const anchor = await src.read(offset + 256 * block, 512);
		if (anchor.length < 512 || anchor.readUInt16LE(0) !== 2 || anchor.readUInt32LE(12) !== 256)
			continue;
		const length = Math.min(anchor.readUInt32LE(16), 64 * block);
		const first = anchor.readUInt32LE(20);
		let label: string | undefined;
		let uuid: string | undefined;
		for (let at = 0; at < length; at += block) {
			const pos = (first * block) + at;
			if (pos + 512 > size)
				break;
			const d = await src.read(offset + pos, 512);
			const tag = d.readUInt16LE(0);
			if (tag === 1) {
				const set = dstring(d.subarray(72, 200));
				if (set) {
					const head = set.slice(0, 16);
					uuid = /^[0-9a-fA-F]{16}$/.test(head) ? head.toLowerCase() : Buffer.from(set.slice(0, 8), 'latin1').toString('hex');
				}
			} else if (tag === 6) {
				label = dstring(d.subarray(84, 212));
			} else if (tag === 8 || tag === 0) {
				break;
			}
		}
		return { label, uuid };
	}
	return {};
}

/** The label and UUID of @type (as probe.ts names it) at @offset, where known. */
export async function otherIds(type: string, src: ByteSource, offset: number, size: number, head: Buffer): Promise<Ids> {
	switch (type) {
	case 'iso9660': return iso9660(src, offset, size);
	case 'jfs': return jfs(head);
	case 'erofs': return erofs(head);
	case 'ntfs': return ntfs(src, offset, size, head);
	case 'exfat': return exfat(src, offset, size, head);
	case 'udf': return udf(src, offset, size);
	default: return {};
	}
}
