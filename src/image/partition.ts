/**
 * What a partition table says, in one shape for GPT and MBR, and what a
 * caller asks of a table it wants written.
 *
 * Sectors are 512 bytes: every table lkl reads or writes uses that size.
 * Disks with 4096-byte logical sectors place GPT at other offsets and are
 * not recognised yet.
 */
import type { TypeHolds } from './partition-types.js';

/** The sector size of the tables read and written here. */
export const SECTOR_SIZE = 512;

/** Where partitions start: on whole MiB, as current partitioning tools place them. */
export const ALIGNMENT = 1 << 20;

/** A partition as read from a table. */
export interface Partition {
	/** The number Linux gives it (sda<number>): a GPT entry's index + 1; MBR 1-4 primary, 5 on logical. */
	readonly number: number;
	/** Offset in bytes from the start of the disk. */
	readonly start: number;
	/** Length in bytes. */
	readonly size: number;
	/** The GPT type GUID (lower case), or the MBR type byte as "0x83". */
	readonly type: string;
	/** The type's name, for the common ones. */
	readonly typeName?: string;
	/** What the type says it holds. */
	readonly holds?: TypeHolds;
	/** GPT: the partition's own GUID (PARTUUID). */
	readonly guid?: string;
	/** GPT: the partition's name (PARTLABEL). */
	readonly name?: string;
	/** GPT: the 64 attribute bits. */
	readonly attributes?: bigint;
	/** MBR: the boot flag (0x80). */
	readonly bootable?: boolean;
	/** MBR: a logical partition, inside the extended one. */
	readonly logical?: boolean;
}

/** A partition table as read. */
export interface PartitionTable {
	readonly type: 'gpt' | 'mbr';
	/** GPT: the disk GUID; MBR: the disk signature as "0x1234abcd". */
	readonly id: string;
	readonly sectorSize: number;
	readonly partitions: readonly Partition[];
	/** What is wrong with the table but did not stop it being read, one sentence each. */
	readonly problems: readonly string[];
	/** GPT only. */
	readonly gpt?: GptDetails;
}

/** What only a GPT has. */
export interface GptDetails {
	/** Which header was used: the backup one when the primary is damaged. */
	readonly header: 'primary' | 'backup';
	/** The first and last sector partitions may use. */
	readonly firstUsableLba: number;
	readonly lastUsableLba: number;
	/** The number of entries in the array (used or not). */
	readonly entries: number;
	/** Sector 0 has an MBR with an 0xEE entry, as the specification asks. */
	readonly protectiveMbr: boolean;
	/** The MBR holds partitions beside its protective 0xEE entry. */
	readonly hybridMbr: boolean;
}

/** The table cannot be read at all. */
export class PartitionTableError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'PartitionTableError';
	}
}

/** One partition of a table to write. */
export interface PartitionSpec {
	/** Bytes, rounded up to whole sectors; leave out for "the rest of the disk" (last partition only). */
	readonly size?: number;
	/** GPT: a type alias ("esp", "linux", "swap"…, see partition-types.ts) or a GUID; MBR: an alias, a byte or "0x83". */
	readonly type: string | number;
	/** GPT: the partition's GUID, chosen by the caller (a reproducible build derives it from its inputs). */
	readonly guid?: string;
	/** GPT: its name, up to 36 UTF-16 code units. */
	readonly name?: string;
	/** GPT: attribute bits (0: required, 2: legacy BIOS bootable, 60: read-only…). */
	readonly attributes?: bigint;
	/** MBR: the boot flag. */
	readonly bootable?: boolean;
}

/** Bytes to write at an offset of the disk. */
export interface TableWrite {
	readonly offset: number;
	readonly data: Buffer;
}

/** What a table builder returns: the bytes to write, and where each partition went. */
export interface BuiltTable {
	readonly writes: readonly TableWrite[];
	readonly partitions: readonly { readonly number: number; readonly start: number; readonly size: number }[];
}
