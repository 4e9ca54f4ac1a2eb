/**
 * Which partition table a disk has, if any, read with the rules Linux
 * uses: a protective (or hybrid) MBR means GPT; else an MBR with valid
 * boot flags and at least one partition.
 */
import type { ByteSource } from './byte-source.js';
import { readGpt } from './gpt.js';
import { GPT_PROTECTIVE, parseMbrSector, readMbr, usedEntry } from './mbr.js';
import { SECTOR_SIZE, type PartitionTable } from './partition.js';

export { buildGpt, type GptSpec } from './gpt.js';
export { buildMbr, type MbrSpec } from './mbr.js';
export * from './partition.js';

/**
 * The disk's partition table, or undefined when it has none (a
 * filesystem on the whole disk, or nothing).  Throws PartitionTableError
 * for a GPT whose headers are both damaged.
 */
export async function readPartitionTable(src: ByteSource): Promise<PartitionTable | undefined> {
	if (src.size < 2 * SECTOR_SIZE)
		return undefined;
	const mbr = parseMbrSector(await src.read(0, SECTOR_SIZE));
	const used = mbr?.entries.filter(usedEntry) ?? [];
	if (used.some((e) => e.type === GPT_PROTECTIVE))
		return readGpt(src, mbr);
	if (mbr && used.length)
		return readMbr(src, mbr);
	// No MBR partition, but maybe a GPT that lost its protective MBR: worth
	// naming, with a warning (other tools ignore it); if it is damaged too,
	// there is no table to speak of.
	const sector1 = await src.read(SECTOR_SIZE, 8);
	return sector1.toString('latin1') === 'EFI PART' ? readGpt(src, mbr).catch(() => undefined) : undefined;
}
