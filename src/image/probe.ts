/**
 * What a volume holds, from its first bytes, as blkid names it: the
 * filesystems the kernel mounts (ext4, xfs, btrfs, vfat here; the others'
 * labels and UUIDs in probe-ids.ts) with the label and UUID their
 * superblocks keep, and what lkl cannot mount but a person wants named
 * (swap, LVM, LUKS, RAID).  Offsets are the
 * on-disk formats' documented ones.
 */
import type { ByteSource } from './byte-source.js';
import { otherIds } from './probe-ids.js';

export interface Probed {
	/** blkid's name for it: "ext4", "xfs", "btrfs", "vfat", "swap", "LVM2_member", "crypto_LUKS"… */
	readonly type: string;
	readonly label?: string;
	readonly uuid?: string;
	/** Whether it is a filesystem to try to mount (not swap, LVM, LUKS or RAID). */
	readonly mountable: boolean;
}

/** Other formats, by where their magic is: filesystems (a kernel may have them), and RAID. */
const OTHERS: readonly { type: string; at: number; magic: Buffer }[] = [
	{ type: 'ntfs', at: 3, magic: Buffer.from('NTFS    ', 'latin1') },
	{ type: 'exfat', at: 3, magic: Buffer.from('EXFAT   ', 'latin1') },
	{ type: 'squashfs', at: 0, magic: Buffer.from('hsqs', 'latin1') },
	{ type: 'f2fs', at: 1024, magic: Buffer.from([0x10, 0x20, 0xf5, 0xf2]) },
	{ type: 'erofs', at: 1024, magic: Buffer.from([0xe2, 0xe1, 0xf5, 0xe0]) },
	{ type: 'jfs', at: 32768, magic: Buffer.from('JFS1', 'latin1') },
	// UDF's volume recognition sequence (after ISO 9660's descriptors on a
	// bridge disc, which blkid calls udf too), then plain ISO 9660.
	{ type: 'udf', at: 32769, magic: Buffer.from('BEA01', 'latin1') },
	{ type: 'udf', at: 34817, magic: Buffer.from('BEA01', 'latin1') },
	{ type: 'iso9660', at: 32769, magic: Buffer.from('CD001', 'latin1') },
	// After ISO 9660: a Mac hybrid disc is named by its ISO side (as blkid and detect.c do).
	{ type: 'hfsplus', at: 1024, magic: Buffer.from('H+', 'latin1') },
	{ type: 'hfsplus', at: 1024, magic: Buffer.from('HX', 'latin1') },
	{ type: 'linux_raid_member', at: 4096, magic: Buffer.from([0xfc, 0x4e, 0x2b, 0xa9]) },
];

/** Swap's page sizes: its signature ends the first page. */
const SWAP_PAGES = [4096, 8192, 16384, 65536];

/** Text of a fixed-size field: up to its first NUL, trailing spaces dropped; undefined if empty. */
function text(buf: Buffer, from: number, length: number, encoding: BufferEncoding = 'utf8'): string | undefined {
	const field = buf.subarray(from, from + length);
	const nul = field.indexOf(0);
	const s = field.subarray(0, nul < 0 ? field.length : nul).toString(encoding).replace(/ +$/, '');
	return s.length ? s : undefined;
}

/** 16 bytes as a UUID in big-endian byte order (as ext4, xfs, btrfs and swap store it). */
function uuid(buf: Buffer, from: number): string | undefined {
	const h = buf.subarray(from, from + 16).toString('hex');
	if (/^0+$/.test(h))
		return undefined;
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The ext3 feature bits (sparse_super, large_file, btree_dir; filetype, recover, meta_bg): any other makes it ext4. */
const EXT3_RO_COMPAT = 0x7;
const EXT3_INCOMPAT = 0x2 | 0x4 | 0x10;
const HAS_JOURNAL = 0x4;

function ext(sb: Buffer): Probed | undefined {
	// The superblock at 1024: magic 0xEF53 at 56, the compat, incompat and
	// ro_compat features at 92, 96, 100, s_uuid at 104, s_volume_name at 120.
	if (sb.length < 2048 || sb.readUInt16LE(1024 + 56) !== 0xef53)
		return undefined;
	const compat = sb.readUInt32LE(1024 + 92);
	const incompat = sb.readUInt32LE(1024 + 96);
	const roCompat = sb.readUInt32LE(1024 + 100);
	// Named as blkid names them, though Linux's ext4 mounts all three.
	const type = (roCompat & ~EXT3_RO_COMPAT) || (incompat & ~EXT3_INCOMPAT) ? 'ext4'
		: compat & HAS_JOURNAL ? 'ext3' : 'ext2';
	return { type, label: text(sb, 1024 + 120, 16), uuid: uuid(sb, 1024 + 104), mountable: true };
}

function xfs(sb: Buffer): Probed | undefined {
	// "XFSB", sb_uuid at 32, sb_fname (12 bytes) at 108.
	if (sb.toString('latin1', 0, 4) !== 'XFSB')
		return undefined;
	return { type: 'xfs', label: text(sb, 108, 12), uuid: uuid(sb, 32), mountable: true };
}

async function btrfs(src: ByteSource, offset: number): Promise<Probed | undefined> {
	// The superblock at 64 KiB: fsid at 32, "_BHRfS_M" at 64, label (256 bytes) at 299.
	const sb = await src.read(offset + 65536, 4096);
	if (sb.length < 4096 || sb.toString('latin1', 64, 72) !== '_BHRfS_M')
		return undefined;
	return { type: 'btrfs', label: text(sb, 299, 256), uuid: uuid(sb, 32), mountable: true };
}

function isFatBootSector(bs: Buffer): boolean {
	return bs.length >= 512 && bs[510] === 0x55 && bs[511] === 0xaa &&
		(bs.toString('latin1', 54, 57) === 'FAT' || bs.toString('latin1', 82, 87) === 'FAT32');
}

/**
 * The volume label entry of a FAT root directory: the label Windows and
 * fatlabel set, which blkid prefers to the boot sector's copy.  Only the
 * first 64 KiB of the root directory are looked at (FAT32: its first
 * cluster): the label entry is the first one every tool writes.
 */
async function fatRootLabel(src: ByteSource, offset: number, size: number, bs: Buffer, fat32: boolean): Promise<string | undefined> {
	const bytesPerSector = bs.readUInt16LE(11);
	const perCluster = bs[13]!;
	const reserved = bs.readUInt16LE(14);
	const fats = bs[16]!;
	if (![512, 1024, 2048, 4096].includes(bytesPerSector) || perCluster === 0 || fats === 0)
		return undefined;
	let at: number;
	let length: number;
	if (fat32) {
		const fatSectors = bs.readUInt32LE(36);
		const rootCluster = bs.readUInt32LE(44);
		if (rootCluster < 2)
			return undefined;
		at = (reserved + fats * fatSectors + (rootCluster - 2) * perCluster) * bytesPerSector;
		length = perCluster * bytesPerSector;
	} else {
		at = (reserved + fats * bs.readUInt16LE(22)) * bytesPerSector;
		length = bs.readUInt16LE(17) * 32;
	}
	length = Math.min(length, 65536);
	if (at + length > size)
		return undefined;
	const dir = await src.read(offset + at, length);
	for (let e = 0; e + 32 <= dir.length; e += 32) {
		const first = dir[e]!;
		if (first === 0)
			break;
		const attr = dir[e + 11]!;
		// A volume label: the volume-ID bit alone (long-name entries have 0x0f).
		if (first !== 0xe5 && (attr & 0x3f) === 0x08)
			return text(dir, e, 11, 'latin1');
	}
	return undefined;
}

async function vfat(src: ByteSource, offset: number, size: number, bs: Buffer): Promise<Probed | undefined> {
	if (!isFatBootSector(bs))
		return undefined;
	// FAT32 has no 16-bit FAT size; its serial and label sit further in.
	const fat32 = bs.readUInt16LE(22) === 0;
	const serial = bs.readUInt32LE(fat32 ? 67 : 39);
	const bootLabel = text(bs, fat32 ? 71 : 43, 11, 'latin1');
	const label = await fatRootLabel(src, offset, size, bs, fat32) ?? (bootLabel === 'NO NAME' ? undefined : bootLabel);
	const hex = serial.toString(16).toUpperCase().padStart(8, '0');
	return { type: 'vfat', label, uuid: `${hex.slice(0, 4)}-${hex.slice(4)}`, mountable: true };
}

async function swap(src: ByteSource, offset: number, size: number): Promise<Probed | undefined> {
	for (const page of SWAP_PAGES.filter((p) => p <= size)) {
		const sig = (await src.read(offset + page - 10, 10)).toString('latin1');
		if (sig === 'SWAPSPACE2' || sig === 'SWAP-SPACE') {
			// After 1024 bytes of boot space: version, last page, bad pages, uuid, label.
			const h = await src.read(offset + 1024, 44);
			const v2 = sig === 'SWAPSPACE2' && h.length === 44;
			return { type: 'swap', label: v2 ? text(h, 28, 16) : undefined, uuid: v2 ? uuid(h, 12) : undefined, mountable: false };
		}
	}
	return undefined;
}

function lvm(head: Buffer): Probed | undefined {
	// "LABELONE" at the start of one of the first four sectors, "LVM2 001"
	// at 24; the PV header it points to starts with the 32-character UUID.
	for (let s = 0; s < 4; s++) {
		const at = s * 512;
		if (head.toString('latin1', at, at + 8) !== 'LABELONE' || head.toString('latin1', at + 24, at + 32) !== 'LVM2 001')
			continue;
		const pv = at + head.readUInt32LE(at + 20);
		const id = head.toString('latin1', pv, pv + 32);
		const parts = [6, 4, 4, 4, 4, 4, 6];
		let from = 0;
		const uuidText = /^[0-9A-Za-z]{32}$/.test(id) ? parts.map((n) => id.slice(from, from += n)).join('-') : undefined;
		return { type: 'LVM2_member', uuid: uuidText, mountable: false };
	}
	return undefined;
}

function luks(head: Buffer): Probed | undefined {
	// "LUKS" BA BE, then the version; LUKS2 keeps a label at 24.
	if (head.length < 208 || head.toString('latin1', 0, 4) !== 'LUKS' || head[4] !== 0xba || head[5] !== 0xbe)
		return undefined;
	const version = head.readUInt16BE(6);
	return { type: 'crypto_LUKS', label: version === 2 ? text(head, 24, 48) : undefined, uuid: text(head, 168, 40, 'latin1'), mountable: false };
}

/** What the @size bytes at @offset of @src hold, if it is a format known here; nothing outside them is read. */
export async function probe(src: ByteSource, offset: number, size: number): Promise<Probed | undefined> {
	if (size < 4096)
		return undefined;
	// Through JFS's superblock and UDF's recognition sequence, past 32 KiB.
	const head = await src.read(offset, Math.min(size, 36864));
	const known = ext(head) ?? xfs(head) ?? (size >= 65536 + 4096 ? await btrfs(src, offset) : undefined) ?? await vfat(src, offset, size, head) ??
		luks(head) ?? lvm(head) ?? await swap(src, offset, size);
	if (known)
		return known;
	const other = OTHERS.find((o) => head.length >= o.at + o.magic.length && head.subarray(o.at, o.at + o.magic.length).equals(o.magic));
	if (!other)
		return undefined;
	return { type: other.type, ...await otherIds(other.type, src, offset, size, head), mountable: other.type !== 'linux_raid_member' };
}
