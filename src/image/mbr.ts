/**
 * The MBR (DOS) partition table: four entries in sector 0, and logical
 * partitions in a chain of extended boot records (EBRs) inside an
 * extended partition.  Layout facts from the IBM PC boot sector format:
 * entries of 16 bytes at 446, the signature 55 AA at 510, the disk
 * signature at 440.
 */
import type { ByteSource } from './byte-source.js';
import { alignUp, place } from './layout.js';
import {
	SECTOR_SIZE, type BuiltTable, type Partition, type PartitionSpec, type PartitionTable, type TableWrite,
} from './partition.js';
import { isExtendedType, mbrType, mbrTypeByte } from './partition-types.js';

const ENTRIES_AT = 446;
const ENTRY_SIZE = 16;
const DISK_ID_AT = 440;
/** The protective MBR's one partition type, saying "this disk has a GPT". */
export const GPT_PROTECTIVE = 0xee;
/** As many logical partitions as the Linux kernel reads (its loop stops at 100 EBRs). */
const MAX_LOGICAL = 100;
/** MBR fields are 32-bit sector numbers: 2 TiB with 512-byte sectors. */
const MAX_SECTORS = 0xffffffff;

/** One of the four 16-byte entries of a sector 0 or an EBR. */
export interface MbrEntry {
	readonly status: number;
	readonly type: number;
	/** Relative to the table's own base (0 for the MBR; see readMbr for EBRs). */
	readonly firstLba: number;
	readonly sectors: number;
}

/** Sector 0 as an MBR: its disk signature and four entries. */
export interface MbrSector {
	readonly diskId: number;
	readonly entries: readonly MbrEntry[];
}

function hasSignature(sector: Uint8Array): boolean {
	return sector.length >= 512 && sector[510] === 0x55 && sector[511] === 0xaa;
}

function entriesOf(sector: Buffer): MbrEntry[] {
	const entries: MbrEntry[] = [];
	for (let i = 0; i < 4; i++) {
		const at = ENTRIES_AT + i * ENTRY_SIZE;
		entries.push({
			status: sector[at]!,
			type: sector[at + 4]!,
			firstLba: sector.readUInt32LE(at + 8),
			sectors: sector.readUInt32LE(at + 12),
		});
	}
	return entries;
}

/**
 * Sector 0 as an MBR, or undefined when it is none: no 55 AA, or a boot
 * flag other than 0x00 and 0x80 (what a FAT boot sector holds there; the
 * Linux kernel tells the two apart the same way).
 */
export function parseMbrSector(sector: Buffer): MbrSector | undefined {
	if (!hasSignature(sector))
		return undefined;
	const entries = entriesOf(sector);
	if (entries.some((e) => e.status !== 0 && e.status !== 0x80))
		return undefined;
	return { diskId: sector.readUInt32LE(DISK_ID_AT), entries };
}

/** Whether an entry is in use. */
export function usedEntry(e: MbrEntry): boolean {
	return e.type !== 0 && e.sectors !== 0;
}

function hex(byte: number): string {
	return `0x${byte.toString(16).padStart(2, '0')}`;
}

function partitionOf(number: number, e: MbrEntry, firstLba: number, logical: boolean): Partition {
	const known = mbrType(e.type);
	return {
		number,
		start: firstLba * SECTOR_SIZE,
		size: e.sectors * SECTOR_SIZE,
		type: hex(e.type),
		...(known ? { typeName: known.name, holds: known.holds } : {}),
		bootable: e.status === 0x80,
		logical,
	};
}

/**
 * The logical partitions in the extended partition at @extStart: each EBR
 * holds one partition (placed relative to the EBR) and a link to the next
 * EBR (placed relative to the extended partition's start).
 */
async function readLogical(src: ByteSource, extStart: number, extSectors: number, problems: string[]): Promise<Partition[]> {
	const found: Partition[] = [];
	const seen = new Set<number>();
	let ebr = extStart;
	while (found.length < MAX_LOGICAL) {
		if (seen.has(ebr)) {
			problems.push(`the chain of logical partitions loops back to sector ${ebr}; read up to there`);
			break;
		}
		seen.add(ebr);
		const sector = await src.read(ebr * SECTOR_SIZE, SECTOR_SIZE);
		if (!hasSignature(sector)) {
			problems.push(`the extended boot record at sector ${ebr} has no 55 AA signature; logical partitions read up to there`);
			break;
		}
		const entries = entriesOf(sector);
		// One data entry and one link; the rest of the EBR is unused.
		const data = entries.find((e) => usedEntry(e) && !isExtendedType(e.type));
		const link = entries.find((e) => usedEntry(e) && isExtendedType(e.type));
		if (data)
			found.push(partitionOf(5 + found.length, data, ebr + data.firstLba, true));
		if (!link)
			break;
		if (link.firstLba >= extSectors) {
			problems.push(`the extended boot record at sector ${ebr} links outside the extended partition; logical partitions read up to there`);
			break;
		}
		ebr = extStart + link.firstLba;
	}
	if (found.length === MAX_LOGICAL)
		problems.push(`more than ${MAX_LOGICAL} logical partitions: the rest are not read (nor by Linux)`);
	return found;
}

/** The partitions an MBR lists, logical ones included. */
export async function readMbr(src: ByteSource, mbr: MbrSector): Promise<PartitionTable> {
	const problems: string[] = [];
	const partitions: Partition[] = [];
	let logical: Partition[] = [];
	for (const [i, e] of mbr.entries.entries()) {
		if (!usedEntry(e))
			continue;
		partitions.push(partitionOf(i + 1, e, e.firstLba, false));
		if (isExtendedType(e.type)) {
			if (logical.length)
				problems.push(`a second extended partition (${i + 1}) is not read`);
			else
				logical = await readLogical(src, e.firstLba, e.sectors, problems);
		}
	}
	partitions.push(...logical);
	checkBounds(partitions, src.size, problems);
	return {
		type: 'mbr',
		id: `0x${mbr.diskId.toString(16).padStart(8, '0')}`,
		sectorSize: SECTOR_SIZE,
		partitions,
		problems,
	};
}

/** Notes partitions past the disk's end, and overlapping ones (extended ones hold logical ones). */
export function checkBounds(partitions: readonly Partition[], diskSize: number, problems: string[]): void {
	const data = partitions.filter((p) => p.holds !== 'extended');
	for (const p of partitions)
		if (p.start + p.size > diskSize)
			problems.push(`partition ${p.number} runs past the end of the disk (by ${p.start + p.size - diskSize} bytes): is the image truncated?`);
	const sorted = [...data].sort((a, b) => a.start - b.start);
	for (let i = 1; i < sorted.length; i++)
		if (sorted[i]!.start < sorted[i - 1]!.start + sorted[i - 1]!.size)
			problems.push(`partitions ${sorted[i - 1]!.number} and ${sorted[i]!.number} overlap`);
}

/** CHS of @lba with 255 heads and 63 sectors a track, as 3 bytes; past cylinder 1023, the maximum. */
function chs(lba: number): [number, number, number] {
	const cylinder = Math.floor(lba / (255 * 63));
	if (cylinder > 1023)
		return [0xfe, 0xff, 0xff];
	const head = Math.floor(lba / 63) % 255;
	const sector = (lba % 63) + 1;
	return [head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff];
}

/** Writes one entry at index @i of the table in @sector. */
export function putEntry(sector: Buffer, i: number, e: MbrEntry, absoluteLba: number): void {
	const at = ENTRIES_AT + i * ENTRY_SIZE;
	sector[at] = e.status;
	sector.set(chs(absoluteLba), at + 1);
	sector[at + 4] = e.type;
	sector.set(chs(absoluteLba + e.sectors - 1), at + 5);
	sector.writeUInt32LE(e.firstLba, at + 8);
	sector.writeUInt32LE(e.sectors, at + 12);
}

/** A fresh sector with the 55 AA signature. */
export function signedSector(): Buffer {
	const s = Buffer.alloc(SECTOR_SIZE);
	s[510] = 0x55;
	s[511] = 0xaa;
	return s;
}

/** A table to write as an MBR. */
export interface MbrSpec {
	/** The disk's size in bytes (whole sectors are used). */
	readonly diskSize: number;
	/** The disk signature, a 32-bit number chosen by the caller (reproducible builds derive it). */
	readonly diskId: number;
	/** Up to four go in the MBR; from a fifth on, the fourth entry becomes an extended partition holding the fourth and the rest as logical ones. */
	readonly partitions: readonly PartitionSpec[];
}

function typeByte(spec: PartitionSpec, index: number): number {
	const byte = mbrTypeByte(spec.type);
	if (byte === undefined || isExtendedType(byte) || byte === GPT_PROTECTIVE)
		throw new RangeError(`partition ${index + 1}: not an MBR partition type: ${JSON.stringify(spec.type)}`);
	return byte;
}

/**
 * The MBR (and EBRs) for @spec, each partition on a whole MiB.  Logical
 * partitions each have their EBR in the MiB before them, as fdisk places
 * them.  Partitions must end within 2 TiB, the limit of MBR's 32-bit
 * sector numbers.
 */
export function buildMbr(spec: MbrSpec): BuiltTable {
	if (!Number.isInteger(spec.diskId) || spec.diskId < 0 || spec.diskId > 0xffffffff)
		throw new RangeError(`diskId must be a 32-bit unsigned number, not ${String(spec.diskId)}`);
	if (!Number.isSafeInteger(spec.diskSize) || spec.diskSize < 0)
		throw new RangeError(`diskSize must be a whole number of bytes, not ${String(spec.diskSize)}`);
	const count = spec.partitions.length;
	if (count === 0)
		throw new RangeError('an MBR needs at least one partition');
	const lastLba = Math.min(Math.floor(spec.diskSize / SECTOR_SIZE), MAX_SECTORS) - 1;
	const mbr = signedSector();
	mbr.writeUInt32LE(spec.diskId, DISK_ID_AT);
	const writes: TableWrite[] = [{ offset: 0, data: mbr }];
	const placed: BuiltTable['partitions'][number][] = [];
	const primaries = count > 4 ? 3 : count;

	let cursor = 1;
	for (let i = 0; i < primaries; i++) {
		const p = spec.partitions[i]!;
		const at = place(p, i, count, cursor, lastLba);
		putEntry(mbr, i, { status: p.bootable ? 0x80 : 0, type: typeByte(p, i), firstLba: at.firstLba, sectors: at.sectors }, at.firstLba);
		placed.push({ number: i + 1, start: at.firstLba * SECTOR_SIZE, size: at.sectors * SECTOR_SIZE });
		cursor = at.firstLba + at.sectors;
	}
	if (count > 4) {
		const extStart = alignUp(cursor);
		const ebrs: { lba: number; data: MbrEntry; last: number }[] = [];
		cursor = extStart;
		for (let i = 3; i < count; i++) {
			const p = spec.partitions[i]!;
			const ebr = alignUp(cursor);
			// The logical partition starts one alignment step after its EBR.
			const at = place(p, i, count, ebr + 1, lastLba);
			ebrs.push({ lba: ebr, data: { status: p.bootable ? 0x80 : 0, type: typeByte(p, i), firstLba: at.firstLba - ebr, sectors: at.sectors }, last: at.firstLba + at.sectors - 1 });
			placed.push({ number: 5 + (i - 3), start: at.firstLba * SECTOR_SIZE, size: at.sectors * SECTOR_SIZE });
			cursor = at.firstLba + at.sectors;
		}
		const extEnd = ebrs[ebrs.length - 1]!.last;
		putEntry(mbr, 3, { status: 0, type: 0x05, firstLba: extStart, sectors: extEnd - extStart + 1 }, extStart);
		ebrs.forEach((e, k) => {
			const sector = signedSector();
			putEntry(sector, 0, e.data, e.lba + e.data.firstLba);
			const next = ebrs[k + 1];
			if (next)
				putEntry(sector, 1, { status: 0, type: 0x05, firstLba: next.lba - extStart, sectors: next.last - next.lba + 1 }, next.lba);
			writes.push({ offset: e.lba * SECTOR_SIZE, data: sector });
		});
	}
	return { writes, partitions: placed };
}
