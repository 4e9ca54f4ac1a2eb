/**
 * Placing partitions for a table being written: each starts on the next
 * whole MiB, runs for its size rounded up to whole sectors, and the last
 * one may take what is left.
 */
import { ALIGNMENT, SECTOR_SIZE, type PartitionSpec } from './partition.js';

const PER_ALIGNMENT = ALIGNMENT / SECTOR_SIZE;

/** @lba rounded up to the next aligned sector. */
export function alignUp(lba: number): number {
	return Math.ceil(lba / PER_ALIGNMENT) * PER_ALIGNMENT;
}

/** A partition placed: its first sector and its length in sectors. */
export interface Placed {
	readonly firstLba: number;
	readonly sectors: number;
}

/** The sectors of a spec's size; RangeError for a size that is not a positive byte count. */
export function sectorsOf(spec: PartitionSpec, index: number): number | undefined {
	if (spec.size === undefined)
		return undefined;
	if (!Number.isSafeInteger(spec.size) || spec.size <= 0)
		throw new RangeError(`partition ${index + 1}: size must be a positive whole number of bytes, not ${String(spec.size)}`);
	return Math.ceil(spec.size / SECTOR_SIZE);
}

/**
 * Places one partition at or after sector @from, ending by @lastLba; the
 * size may be left out by the last partition only.
 */
export function place(spec: PartitionSpec, index: number, count: number, from: number, lastLba: number): Placed {
	const firstLba = alignUp(from);
	let sectors = sectorsOf(spec, index);
	if (sectors === undefined) {
		if (index !== count - 1)
			throw new RangeError(`partition ${index + 1}: only the last partition may leave out its size`);
		sectors = lastLba - firstLba + 1;
	}
	if (sectors <= 0 || firstLba + sectors - 1 > lastLba)
		throw new RangeError(`partition ${index + 1} does not fit: it would end at byte ${(firstLba + Math.max(sectors, 1)) * SECTOR_SIZE}, ` +
			`and the partitions may use bytes up to ${(lastLba + 1) * SECTOR_SIZE}`);
	return { firstLba, sectors };
}
