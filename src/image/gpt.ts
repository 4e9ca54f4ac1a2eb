/**
 * The GUID Partition Table, as the UEFI specification lays it out: a
 * header at sector 1 and an array of entries after it, a backup array and
 * header in the disk's last sectors, each checked by a CRC-32, and a
 * protective MBR in sector 0 so that MBR-only tools leave the disk alone.
 */
import type { ByteSource } from './byte-source.js';
import { crc32 } from './crc32.js';
import { readGuid, writeGuid, NIL_GUID, isGuid } from './guid.js';
import { place } from './layout.js';
import { GPT_PROTECTIVE, checkBounds, putEntry, signedSector, usedEntry, type MbrSector } from './mbr.js';
import {
	SECTOR_SIZE, PartitionTableError, type BuiltTable, type Partition, type PartitionSpec, type PartitionTable,
} from './partition.js';
import { gptType, gptTypeGuid } from './partition-types.js';

const SIGNATURE = 'EFI PART';
const REVISION = 0x00010000;
const HEADER_SIZE = 92;
const ENTRY_SIZE = 128;
/** The entries a GPT has unless asked otherwise: 16 KiB of them, as the specification's minimum. */
const DEFAULT_ENTRIES = 128;
const NAME_UNITS = 36;
/** A bound on the entry array read from a disk, so that a crafted header cannot make us read gigabytes. */
const MAX_ARRAY_BYTES = 1 << 20;

/** A header as read, before it is trusted. */
interface Header {
	readonly myLba: number;
	readonly alternateLba: number;
	readonly firstUsableLba: number;
	readonly lastUsableLba: number;
	readonly diskGuid: string;
	readonly entriesLba: number;
	readonly entryCount: number;
	readonly entrySize: number;
	readonly entriesCrc: number;
}

/** A header with its entry array, both checked. */
interface ValidGpt {
	readonly header: Header;
	readonly array: Buffer;
}

/** A 64-bit little-endian sector number as a Number, or -1 when too large to be one. */
function lba64(buf: Buffer, at: number): number {
	const n = buf.readBigUInt64LE(at);
	return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : -1;
}

/**
 * The header in sector @lba with its entries, checked as the UEFI
 * specification asks: signature, header CRC, MyLBA, and the CRC of the
 * entry array; else the reason it is not valid, in a few words.
 */
async function readValid(src: ByteSource, lba: number, sectors: number): Promise<ValidGpt | string> {
	if (lba < 1 || lba >= sectors)
		return `sector ${lba} is not on the disk`;
	const sector = await src.read(lba * SECTOR_SIZE, SECTOR_SIZE);
	if (sector.length < SECTOR_SIZE)
		return 'the disk ends before it';
	if (sector.toString('latin1', 0, 8) !== SIGNATURE)
		return 'no GPT signature';
	const size = sector.readUInt32LE(12);
	if (size < HEADER_SIZE || size > SECTOR_SIZE)
		return `its size field is ${size}`;
	const copy = Buffer.from(sector.subarray(0, size));
	copy.writeUInt32LE(0, 16);
	if (crc32(copy) !== sector.readUInt32LE(16))
		return 'its CRC is wrong';
	const header: Header = {
		myLba: lba64(sector, 24),
		alternateLba: lba64(sector, 32),
		firstUsableLba: lba64(sector, 40),
		lastUsableLba: lba64(sector, 48),
		diskGuid: readGuid(sector, 56),
		entriesLba: lba64(sector, 72),
		entryCount: sector.readUInt32LE(80),
		entrySize: sector.readUInt32LE(84),
		entriesCrc: sector.readUInt32LE(88),
	};
	if (header.myLba !== lba)
		return `it says it is at sector ${header.myLba}`;
	if (header.firstUsableLba < 0 || header.lastUsableLba < header.firstUsableLba - 1 || header.lastUsableLba >= sectors)
		return `its usable sectors ${header.firstUsableLba}-${header.lastUsableLba} are not on the disk`;
	// 128 × 2^n bytes, as the specification allows (Linux reads 128 only).
	if (header.entrySize < ENTRY_SIZE || (header.entrySize & (header.entrySize - 1)) !== 0)
		return `its entry size is ${header.entrySize}`;
	const arrayBytes = header.entryCount * header.entrySize;
	if (arrayBytes > MAX_ARRAY_BYTES)
		return `its entry array would be ${arrayBytes} bytes`;
	const arraySectors = Math.ceil(arrayBytes / SECTOR_SIZE);
	if (header.entriesLba < 2 || header.entriesLba + arraySectors > sectors)
		return 'its entry array is not on the disk';
	const array = await src.read(header.entriesLba * SECTOR_SIZE, arrayBytes);
	if (array.length < arrayBytes)
		return 'the disk ends inside its entry array';
	if (crc32(array) !== header.entriesCrc)
		return 'the CRC of its entry array is wrong';
	return { header, array };
}

/** The used entries of a valid GPT. */
function partitionsOf(gpt: ValidGpt): Partition[] {
	const { header, array } = gpt;
	const out: Partition[] = [];
	for (let i = 0; i < header.entryCount; i++) {
		const e = array.subarray(i * header.entrySize, i * header.entrySize + ENTRY_SIZE);
		const type = readGuid(e, 0);
		if (type === NIL_GUID)
			continue;
		const first = lba64(e, 32);
		const last = lba64(e, 40);
		const nameBytes = e.subarray(56, 56 + NAME_UNITS * 2);
		let end = 0;
		while (end < nameBytes.length && (nameBytes[end] !== 0 || nameBytes[end + 1] !== 0))
			end += 2;
		const known = gptType(type);
		out.push({
			number: i + 1,
			start: first * SECTOR_SIZE,
			size: last >= first && first >= 0 ? (last - first + 1) * SECTOR_SIZE : 0,
			type,
			...(known ? { typeName: known.name, holds: known.holds } : {}),
			guid: readGuid(e, 16),
			name: nameBytes.subarray(0, end).toString('utf16le'),
			attributes: e.readBigUInt64LE(48),
		});
	}
	return out;
}

/**
 * The GPT of a disk whose sector 0 (@mbr) has an 0xEE entry (or none at
 * all): the primary header if it is valid, else the backup one, which is
 * then said in the problems.  Throws PartitionTableError when neither is.
 */
export async function readGpt(src: ByteSource, mbr: MbrSector | undefined): Promise<PartitionTable> {
	const sectors = Math.floor(src.size / SECTOR_SIZE);
	const problems: string[] = [];
	const used = mbr ? mbr.entries.filter(usedEntry) : [];
	const protective = used.some((e) => e.type === GPT_PROTECTIVE);
	const hybrid = protective && used.some((e) => e.type !== GPT_PROTECTIVE);
	if (!protective)
		problems.push('sector 0 holds no protective MBR: Linux and other tools ignore this GPT');
	else if (hybrid)
		problems.push('the MBR is a hybrid one: it lists partitions of its own beside the GPT (Linux reads the GPT)');

	const primary = await readValid(src, 1, sectors);
	let gpt: ValidGpt;
	let header: 'primary' | 'backup' = 'primary';
	if (typeof primary !== 'string') {
		gpt = primary;
		const backup = await readValid(src, primary.header.alternateLba, sectors);
		if (typeof backup === 'string')
			problems.push(`the backup GPT header (sector ${primary.header.alternateLba}) is damaged: ${backup}`);
		else if (!backup.array.equals(primary.array))
			problems.push('the backup GPT entries differ from the primary ones (the primary ones are shown)');
		if (primary.header.alternateLba !== sectors - 1)
			problems.push(`the backup GPT header is at sector ${primary.header.alternateLba}, not at the disk's last sector (${sectors - 1}): was the image resized?`);
	} else {
		// Where the specification puts it; the primary header that would say otherwise is damaged.
		const backup = await readValid(src, sectors - 1, sectors);
		if (typeof backup === 'string')
			throw new PartitionTableError(`both GPT headers are damaged (primary: ${primary}; backup at the disk's end: ${backup})`);
		gpt = backup;
		header = 'backup';
		problems.push(`the primary GPT header is damaged (${primary}): the backup one at the disk's end is used`);
	}
	const partitions = partitionsOf(gpt);
	for (const p of partitions) {
		const first = p.start / SECTOR_SIZE;
		const last = first + p.size / SECTOR_SIZE - 1;
		if (p.size === 0 || first < gpt.header.firstUsableLba || last > gpt.header.lastUsableLba)
			problems.push(`partition ${p.number} lies outside the usable sectors ${gpt.header.firstUsableLba}-${gpt.header.lastUsableLba}`);
	}
	checkBounds(partitions, src.size, problems);
	return {
		type: 'gpt',
		id: gpt.header.diskGuid,
		sectorSize: SECTOR_SIZE,
		partitions,
		problems,
		gpt: {
			header,
			firstUsableLba: gpt.header.firstUsableLba,
			lastUsableLba: gpt.header.lastUsableLba,
			entries: gpt.header.entryCount,
			protectiveMbr: protective,
			hybridMbr: hybrid,
		},
	};
}

/** A GPT to write. */
export interface GptSpec {
	/** The disk's size in bytes (whole sectors are used; the backup table goes in the last ones). */
	readonly diskSize: number;
	/** The disk's GUID, chosen by the caller. */
	readonly diskGuid: string;
	/** Every partition needs its guid. */
	readonly partitions: readonly PartitionSpec[];
	/** Entries in the array (default 128, which Linux and every tool read). */
	readonly entries?: number;
}

/** A header for an array at @entriesLba, placed at @myLba. */
function headerSector(spec: GptSpec, myLba: number, alternateLba: number, firstUsable: number, lastUsable: number,
	entriesLba: number, entries: number, arrayCrc: number): Buffer {
	const s = Buffer.alloc(SECTOR_SIZE);
	s.write(SIGNATURE, 0, 'latin1');
	s.writeUInt32LE(REVISION, 8);
	s.writeUInt32LE(HEADER_SIZE, 12);
	s.writeBigUInt64LE(BigInt(myLba), 24);
	s.writeBigUInt64LE(BigInt(alternateLba), 32);
	s.writeBigUInt64LE(BigInt(firstUsable), 40);
	s.writeBigUInt64LE(BigInt(lastUsable), 48);
	writeGuid(s, 56, spec.diskGuid);
	s.writeBigUInt64LE(BigInt(entriesLba), 72);
	s.writeUInt32LE(entries, 80);
	s.writeUInt32LE(ENTRY_SIZE, 84);
	s.writeUInt32LE(arrayCrc, 88);
	s.writeUInt32LE(crc32(s.subarray(0, HEADER_SIZE)), 16);
	return s;
}

/**
 * The protective MBR, primary GPT (sectors 0 to 33 with 128 entries) and
 * backup GPT (the last 33 sectors) for @spec, each partition on a whole
 * MiB.  Throws a RangeError or TypeError for a spec that cannot be.
 */
export function buildGpt(spec: GptSpec): BuiltTable {
	const entries = spec.entries ?? DEFAULT_ENTRIES;
	if (!Number.isInteger(entries) || entries < spec.partitions.length || entries < 1 || entries * ENTRY_SIZE > MAX_ARRAY_BYTES)
		throw new RangeError(`entries must be a whole number from the partition count to ${MAX_ARRAY_BYTES / ENTRY_SIZE}, not ${String(entries)}`);
	if (!isGuid(spec.diskGuid))
		throw new TypeError(`diskGuid: not a GUID: ${JSON.stringify(spec.diskGuid)}`);
	if (!Number.isSafeInteger(spec.diskSize) || spec.diskSize < 0)
		throw new RangeError(`diskSize must be a whole number of bytes, not ${String(spec.diskSize)}`);
	const sectors = Math.floor(spec.diskSize / SECTOR_SIZE);
	const arraySectors = Math.ceil(entries * ENTRY_SIZE / SECTOR_SIZE);
	const firstUsable = 2 + arraySectors;
	const lastUsable = sectors - 2 - arraySectors;
	if (lastUsable < firstUsable)
		throw new RangeError(`a disk of ${spec.diskSize} bytes has no room for a GPT`);

	const array = Buffer.alloc(arraySectors * SECTOR_SIZE);
	const placed: BuiltTable['partitions'][number][] = [];
	let cursor = firstUsable;
	spec.partitions.forEach((p, i) => {
		const type = gptTypeGuid(String(p.type));
		if (!type)
			throw new RangeError(`partition ${i + 1}: not a GPT type alias or GUID: ${JSON.stringify(p.type)}`);
		if (type === NIL_GUID)
			throw new RangeError(`partition ${i + 1}: the nil GUID marks an unused entry`);
		if (p.guid === undefined || !isGuid(p.guid))
			throw new TypeError(`partition ${i + 1}: guid must be a GUID, not ${JSON.stringify(p.guid)}`);
		const name = Buffer.from(p.name ?? '', 'utf16le');
		if (name.length > NAME_UNITS * 2)
			throw new RangeError(`partition ${i + 1}: name ${JSON.stringify(p.name)} is longer than ${NAME_UNITS} UTF-16 code units`);
		const attributes = p.attributes ?? 0n;
		if (typeof attributes !== 'bigint' || attributes < 0n || attributes >= 1n << 64n)
			throw new RangeError(`partition ${i + 1}: attributes must be a 64-bit unsigned bigint`);
		const at = place(p, i, spec.partitions.length, cursor, lastUsable);
		const e = array.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE);
		writeGuid(e, 0, type);
		writeGuid(e, 16, p.guid);
		e.writeBigUInt64LE(BigInt(at.firstLba), 32);
		e.writeBigUInt64LE(BigInt(at.firstLba + at.sectors - 1), 40);
		e.writeBigUInt64LE(attributes, 48);
		name.copy(e, 56);
		placed.push({ number: i + 1, start: at.firstLba * SECTOR_SIZE, size: at.sectors * SECTOR_SIZE });
		cursor = at.firstLba + at.sectors;
	});
	const arrayCrc = crc32(array.subarray(0, entries * ENTRY_SIZE));

	// The protective MBR: one 0xEE partition over the whole disk, or as
	// much of it as 32 bits can say.
	const mbr = signedSector();
	putEntry(mbr, 0, { status: 0, type: GPT_PROTECTIVE, firstLba: 1, sectors: Math.min(sectors - 1, 0xffffffff) }, 1);
	const backupArrayLba = sectors - 1 - arraySectors;
	const primary = Buffer.concat([
		mbr,
		headerSector(spec, 1, sectors - 1, firstUsable, lastUsable, 2, entries, arrayCrc),
		array,
	]);
	const backup = Buffer.concat([
		array,
		headerSector(spec, sectors - 1, 1, firstUsable, lastUsable, backupArrayLba, entries, arrayCrc),
	]);
	return {
		writes: [{ offset: 0, data: primary }, { offset: backupArrayLba * SECTOR_SIZE, data: backup }],
		partitions: placed,
	};
}
