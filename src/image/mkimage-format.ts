/**
 * Formatting one filesystem of an image being made, with the
 * filesystem's own mkfs.  mkfs.ext4 writes at the partition's offset in
 * the image itself (-E offset=).  mkfs.xfs and mkfs.btrfs have no such
 * option, and mkfs.fat's --offset is no use: it picks the FAT type from
 * the whole file's size, not the block count it is given (FAT32 for a
 * 64 MiB partition of a 700 MiB image, which it then refuses as too
 * small).  Those format a sparse scratch file of the partition's size
 * next to the image, whose data regions are then copied into place
 * (holes stay holes: the image is as sparse as the scratch file was).
 *
 * A reproducible format is given every ID it would draw (the UUID, ext4's
 * hash seed, FAT's serial number) through each mkfs's own options, and
 * runs the mkfs with libfaketime: a clock stopped at the epoch, since
 * only mke2fs takes a time (E2FSPROGS_FAKE_TIME, and not 0), and a
 * getrandom() that follows a seed, since mkfs.btrfs (btrfs-progs 6.2)
 * has no option for the device UUID, chunk tree UUID and subvolume UUID
 * it draws.  libuuid also seeds random() from the process ID, which
 * libfaketime fixes too.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { hostDataMap } from '../lkl/hostfs.js';
import type { FsKind } from './mkimage-spec.js';
import { TOOLS, needFaketime, needTool } from './mkimage-tools.js';

/** Every ID and time a format would draw, given instead: a reproducible format. */
export interface FormatIds {
	/** Seconds since 1970: the time mkfs stamps on what it makes. */
	readonly epoch: number;
	/** The filesystem's UUID; a FAT serial number is its first 8 hex digits. */
	readonly uuid: string;
	/** ext4's directory hash seed, a UUID. */
	readonly hashSeed: string;
	/** 8 bytes, from which the mkfs's getrandom() draws what no option sets. */
	readonly randomSeed: Uint8Array;
}

export interface FormatTarget {
	/** The image file being made. */
	readonly image: string;
	/** Where the filesystem starts in it, and its length, in bytes. */
	readonly offset: number;
	readonly size: number;
	/** The filesystem is the whole image (no partition table). */
	readonly wholeFile: boolean;
	readonly fs: Exclude<FsKind, 'none'>;
	readonly label?: string;
	/** ext4: at least this many inodes (a size made to measure leaves few spare). */
	readonly inodes?: number;
	/** vfat: 4 KiB clusters, which the size made to measure was counted in. */
	readonly clusters4k?: boolean;
	readonly mkfsOptions: readonly string[];
	/** Make it reproducible, with these IDs and this time. */
	readonly ids?: FormatIds;
}

/** Runs @program; on failure, an Error with the last lines it wrote. */
function run(program: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
		let output = '';
		child.stdout.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
		child.stderr.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
		child.on('error', reject);
		child.on('close', (code, signal) => {
			if (code === 0)
				return resolve();
			const last = output.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
			reject(new Error(`${program} ${signal ? `was killed by ${signal}` : `exited with status ${code}`}${last ? `: ${last.trim()}` : ''}`));
		});
	});
}

/*
 * mke2fs keeps only the last -E it is given: extended options the spec
 * asks for are merged into ours, which go last (an offset= of the spec's
 * would put the filesystem where the table does not).
 */
function ext4Args(t: FormatTarget): string[] {
	const own: string[] = [];
	const extended: string[] = [];
	for (let i = 0; i < t.mkfsOptions.length; i++) {
		if (t.mkfsOptions[i] === '-E' && i + 1 < t.mkfsOptions.length)
			extended.push(t.mkfsOptions[++i]!);
		else
			own.push(t.mkfsOptions[i]!);
	}
	// Inodes of 256 bytes keep nanosecond times; 4 KiB blocks hold the
	// xattrs that do not fit in the inode (with the 1 KiB blocks mke2fs
	// gives a small filesystem, a 1500-byte xattr fails with ENOSPC);
	// the root is root's, not
	// the caller's; the image is a new sparse file, with nothing to discard.
	extended.push(`offset=${t.offset}`, 'nodiscard', 'root_owner=0:0');
	// The spec's own -U or hash_seed, given after these, win.
	if (t.ids)
		extended.unshift(`hash_seed=${t.ids.hashSeed}`);
	return ['-q', '-F', '-t', 'ext4', '-I', '256', '-b', '4096', ...(t.ids ? ['-U', t.ids.uuid] : []), ...own,
		...(t.inodes ? ['-N', String(t.inodes)] : []),
		...(t.label ? ['-L', t.label] : []),
		'-E', extended.join(','), t.image, `${Math.floor(t.size / 1024)}k`];
}

function vfatArgs(t: FormatTarget): string[] {
	return [...(t.ids ? ['-i', t.ids.uuid.slice(0, 8)] : []), ...t.mkfsOptions,
		...(t.label ? ['-n', t.label] : []),
		...(t.clusters4k ? ['-S', '512', '-s', '8'] : []),
		// The hidden sectors field says where the partition starts, for boot code.
		'-h', String(t.offset / 512)];
}

/** Copies the data regions of @scratch into @image at @offset. */
async function splice(scratch: string, image: string, offset: number, size: number): Promise<void> {
	const regions = await hostDataMap(Buffer.from(scratch), BigInt(size));
	const from = await fsp.open(scratch, 'r');
	try {
		const to = await fsp.open(image, 'r+');
		try {
			const buf = Buffer.allocUnsafe(4 << 20);
			for (const [start, length] of regions) {
				for (let done = 0; done < Number(length);) {
					const want = Math.min(buf.length, Number(length) - done);
					const { bytesRead } = await from.read(buf, 0, want, Number(start) + done);
					if (bytesRead === 0)
						throw new Error(`${scratch} ended at byte ${Number(start) + done}`);
					for (let w = 0; w < bytesRead;)
						w += (await to.write(buf, w, bytesRead - w, offset + Number(start) + done + w)).bytesWritten;
					done += bytesRead;
				}
			}
		} finally {
			await to.close();
		}
	} finally {
		await from.close();
	}
}

/** The UUID option of mkfs.xfs and mkfs.btrfs. */
function uuidArgs(t: FormatTarget): string[] {
	if (!t.ids)
		return [];
	return t.fs === 'xfs' ? ['-m', `uuid=${t.ids.uuid}`] : ['-U', t.ids.uuid];
}

/*
 * The environment of a reproducible mkfs: libfaketime's clock stopped at
 * the epoch (monotonic time left running: nothing waits on a stopped
 * clock), its getrandom() seeded, its process ID fixed, and UTC, in
 * which mkfs.fat writes its label's time.
 */
function reproducibleEnv(ids: FormatIds, fs: string): NodeJS.ProcessEnv {
	const lib = needFaketime(`a reproducible ${fs} filesystem`);
	const preload = process.env.LD_PRELOAD;
	return {
		...process.env,
		LD_PRELOAD: preload ? `${lib} ${preload}` : lib,
		FAKETIME_FMT: '%s',
		FAKETIME: String(ids.epoch),
		FAKETIME_DONT_FAKE_MONOTONIC: '1',
		FAKETIME_FAKEPID: '1000',
		FAKERANDOM_SEED: `0x${Buffer.from(ids.randomSeed.subarray(0, 8)).toString('hex')}`,
		TZ: 'UTC',
		...(ids.epoch > 0 ? { E2FSPROGS_FAKE_TIME: String(ids.epoch) } : {}),
	};
}

/** Formats the filesystem @t describes; throws an Error saying what failed. */
export async function formatFilesystem(t: FormatTarget, scratch: string): Promise<void> {
	const program = needTool(TOOLS[t.fs], `a ${t.fs} filesystem`);
	const env = t.ids ? reproducibleEnv(t.ids, t.fs) : undefined;
	if (t.fs === 'ext4')
		return run(program, ext4Args(t), env);
	const args = t.fs === 'vfat' ? vfatArgs(t) : ['-q', '-f', ...(t.label ? ['-L', t.label] : []), ...uuidArgs(t), ...t.mkfsOptions];
	if (t.wholeFile)
		return run(program, [...args, t.image], env);
	const file = await fsp.open(scratch, 'wx', 0o600);
	try {
		await file.truncate(t.size);
	} finally {
		await file.close();
	}
	try {
		await run(program, [...args, scratch], env);
		await splice(scratch, t.image, t.offset, t.size);
	} finally {
		await fsp.rm(scratch, { force: true });
	}
}
