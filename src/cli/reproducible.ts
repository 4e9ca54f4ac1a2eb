/**
 * Reproducible output, as reproducible-builds.org defines it: with
 * SOURCE_DATE_EPOCH in the environment, or --reproducible, the same
 * inputs give the same bytes on every run.  The epoch is the time every
 * timestamp the run makes takes: SOURCE_DATE_EPOCH's, or 0 (1970) with
 * --reproducible alone.  Whatever else a run would draw at random comes
 * from seeds derived from its inputs and the epoch (seedOf).
 */
import { createHash } from 'node:crypto';
import { MountFlags } from '../lkl/constants.js';
import { MAX_EPOCH } from '../lkl/kernel.js';
import { CliError } from './errors.js';

export interface Reproducible {
	/** Seconds since 1970: the time of every timestamp the run makes, and the latest it keeps. */
	readonly epoch: number;
}

/**
 * The run's reproducibility: from SOURCE_DATE_EPOCH when it is set (not
 * empty), else epoch 0 when @flag (--reproducible) is given, else none.
 * A SOURCE_DATE_EPOCH that is not a whole number of seconds is one line
 * and exit status 2, as the specification asks: building with another
 * time than the one meant would defeat its purpose.
 */
export function reproducibleFrom(flag: boolean, env: NodeJS.ProcessEnv = process.env): Reproducible | undefined {
	const text = env.SOURCE_DATE_EPOCH;
	if (text !== undefined && text !== '') {
		if (!/^\d+$/.test(text) || Number(text) > MAX_EPOCH)
			throw new CliError(`SOURCE_DATE_EPOCH: not a number of seconds since 1970 from 0 to ${MAX_EPOCH}: ${JSON.stringify(text)}`, 2);
		return { epoch: Number(text) };
	}
	return flag ? { epoch: 0 } : undefined;
}

/**
 * How a reproducible run mounts a filesystem of @fsType (undefined: not
 * known before the mount), so that nothing it writes depends on when the
 * kernel's threads run.  Synchronous: each write is on the disk, and each
 * journal commit done, before the call returns, so that data is placed
 * and metadata journalled by the copy's own thread, in its order, not by
 * the flusher or the journal thread whenever they wake.  ext4 also
 * allocates at each write rather than at writeback (nodelalloc), writes
 * initialised extents rather than converting them when the disk's write
 * completes (dioread_lock), and starts no thread zeroing inode tables
 * (noinit_itable).
 */
export function reproducibleMount(fsType: string | undefined): { flags: number; options?: string } {
	return {
		flags: MountFlags.SYNCHRONOUS,
		options: fsType === 'ext4' ? 'nodelalloc,dioread_lock,noinit_itable' : undefined,
	};
}

/**
 * 32 bytes that follow from @parts and nothing else: a seed for the
 * kernel's random numbers or a mkfs's, or the bytes of an ID.  Each part
 * is length-prefixed, so that no two lists of parts give the same input.
 */
export function seedOf(...parts: readonly (string | Uint8Array)[]): Buffer {
	const hash = createHash('sha256');
	for (const part of parts) {
		const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
		const length = Buffer.alloc(8);
		length.writeBigUInt64LE(BigInt(bytes.length));
		hash.update(length).update(bytes);
	}
	return hash.digest();
}

/** An RFC 9562 UUID (version 4's layout, as systemd derives IDs) made of @seed's first 16 bytes. */
export function uuidOf(seed: Uint8Array): string {
	const b = Buffer.from(seed.subarray(0, 16));
	b[6] = (b[6]! & 0x0f) | 0x40;
	b[8] = (b[8]! & 0x3f) | 0x80;
	const hex = b.toString('hex');
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Why an @fs filesystem mkimage makes does not come out the same on every
 * run, or undefined when it does; the warning's reason (docs/
 * filesystems.md, "Reproducible images", says more).  Filled by cptofs,
 * each one does.
 */
export function notReproducible(fs: string): string | undefined {
	if (fs === 'btrfs')
		return 'mkfs.btrfs 6.2 draws its device and chunk tree UUIDs with libuuid, which mixes in its parent\'s process ID';
	return undefined;
}
