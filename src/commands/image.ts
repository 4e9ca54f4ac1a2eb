/**
 * What every image command does first: boot the kernel, add the image as a
 * disk and mount it, turning each failure into one clear line.
 */
import { Option, type Command } from 'commander';
import { Kernel, type BootOptions, type Disk, type Mount } from '../index.js';
import { CliError, describe } from '../cli/errors.js';
import { lockHolder } from '../lkl/image-locks.js';

/** The options the classic LKL tools share (-t, -P, -p, -m). */
export interface ImageOptions {
	image: string;
	fsType?: string;
	partition?: number;
	printk?: boolean;
	memoryMiB?: number;
	readOnly: boolean;
	/** Wait while another program has the image open, rather than fail. */
	waitLock?: boolean;
	/** Ends that wait. */
	signal?: AbortSignal;
	/** A reproducible boot: the wall clock frozen, the random numbers seeded. */
	boot?: Pick<BootOptions, 'epoch' | 'randomSeed'>;
	/** More mount flags (MountFlags) and the filesystem's own options. */
	mountFlags?: number;
	mountOptions?: string;
}

export interface OpenImage {
	kernel: Kernel;
	mount: Mount;
	/** Unmount (syncing) and halt; safe to call more than once. */
	close(): Promise<void>;
}

// What the kernel only ever reads (native/kernel/detect.c has the same list).
const READ_ONLY_TYPES = new Set(['erofs', 'squashfs', 'iso9660']);

// Why a read-write mount was refused (EROFS): the filesystem is one the
// kernel only reads, or this one's state keeps the kernel from writing it
// (HFS+ with a journal, UDF on a read-only medium...), which its messages
// say.
function readOnlyWhy(fsType: string | undefined): string {
	if (fsType && READ_ONLY_TYPES.has(fsType))
		return `${fsType} is read-only in this kernel (fs2tar and cpfromfs read it)`;
	return `this ${fsType ?? ''}${fsType ? ' ' : ''}filesystem is read-only in this kernel (-p shows the kernel's reason)`;
}

// lklfuse-server words its own mount failures (native/fuse/lifecycle.c),
// for its options; this is the copy commands' wording, for theirs (-t, -P).
function mountFailure(opts: ImageOptions, err: unknown, fsType?: string): CliError {
	const code = (err as { code?: string }).code;
	const what = opts.partition ? `${opts.image} partition ${opts.partition}` : opts.image;
	if (code === 'ENODEV' && !opts.fsType)
		return new CliError(`cannot mount ${what}: not a filesystem this kernel knows (try -t)`, 1, { cause: err });
	if (code === 'EROFS')
		return new CliError(`cannot write ${what}: ${readOnlyWhy(fsType ?? opts.fsType)}`, 1, { cause: err });
	if (code === 'ENODEV')
		return new CliError(`cannot mount ${what}: this kernel has no ${opts.fsType} filesystem`, 1, { cause: err });
	if (code === 'ENOENT' && opts.partition)
		return new CliError(`cannot mount ${what}: no such partition`, 1, { cause: err });
	if ((code === 'EINVAL' || code === 'EUCLEAN') && opts.fsType)
		return new CliError(`cannot mount ${what} as ${opts.fsType}: not a valid ${opts.fsType} filesystem (wrong -t?)`, 1, { cause: err });
	return new CliError(`cannot mount ${what}: ${describe(err)}`, 1, { cause: err });
}

// The image is locked by another opener: say who, where it can be seen.
export async function inUse(opts: Pick<ImageOptions, 'image' | 'readOnly'>, err: unknown): Promise<CliError> {
	const holder = await lockHolder(opts.image);
	const who = holder ? `process ${holder.pid} (${holder.command || '?'}), which ${holder.writing ? 'can write' : 'reads'} it` :
		`another program${opts.readOnly ? ' that can write it' : ''}`;
	return new CliError(`cannot open ${opts.image}: in use by ${who} (--wait-lock waits for it)`, 1, { cause: err });
}

/*
 * The kernel's memory for a copy.  The host faults in whatever part of it
 * the kernel ever touches, so it is most of the process's size.  A copy
 * out of an image drops what it has read as it goes; a copy into one
 * keeps what it wrote until the kernel writes it back, and 48 MiB makes
 * it write back sooner, at the same speed as 64 and 128 (A/B: cptofs 0.98
 * and 0.95).  A copy out took 64 MiB while 48 was 7% slower (its metadata
 * read again); since its scans run ahead of the walk, 48 is as fast
 * (fs2tar of the Debian root, 11 pairs in turn: CPU 0.99×; of the 10×
 * tree, 5 pairs: 0.97×) and 18 MiB smaller on the 10× tree (135 MiB).
 */
export const COPY_MEMORY_MIB = 48;

/*
 * The filesystem a read-write mount refused with EROFS holds, as a
 * read-only mount recognises it; undefined for other errors, or if that
 * fails too.  The disk is added again read-only for it: what the kernel
 * would write on that mount (a journal's replay) goes to memory, not to
 * the image that was to be left as it was.
 */
async function typeOf(kernel: Kernel, disk: Disk, opts: ImageOptions, err: unknown): Promise<string | undefined> {
	if (opts.fsType || (err as { code?: string }).code !== 'EROFS')
		return undefined;
	try {
		await kernel.removeDisk(disk);
		const readOnly = await kernel.addDisk(opts.image, { readOnly: true });
		const mount = await kernel.mount(readOnly, { partition: opts.partition });
		const type = mount.fsType;
		await mount.unmount();
		return type;
	} catch {
		return undefined;
	}
}

/** Boots, adds and mounts; on failure, halts again and throws a CliError. */
export async function openImage(opts: ImageOptions): Promise<OpenImage> {
	const kernel = Kernel.boot({ ...opts.boot, memoryMiB: opts.memoryMiB ?? COPY_MEMORY_MIB, printk: opts.printk });
	let mount: Mount;
	try {
		let disk;
		try {
			disk = await kernel.addDisk(opts.image, { readOnly: opts.readOnly, waitForLock: opts.waitLock, signal: opts.signal });
		} catch (err) {
			if (opts.signal?.aborted && (err as { name?: string }).name === 'AbortError') {
				const reason: unknown = opts.signal.reason;
				throw new CliError(`stopped while waiting for ${opts.image}, which is unchanged`,
					reason instanceof CliError ? reason.exitCode : 1, { cause: reason });
			}
			if ((err as { code?: string }).code === 'EBUSY')
				throw await inUse(opts, err);
			throw new CliError(`cannot open ${opts.image}: ${describe(err)}`, 1, { cause: err });
		}
		try {
			mount = await kernel.mount(disk, {
				partition: opts.partition,
				fsType: opts.fsType,
				readOnly: opts.readOnly,
				flags: opts.mountFlags,
				options: opts.mountOptions,
			});
		} catch (err) {
			throw mountFailure(opts, err, await typeOf(kernel, disk, opts, err));
		}
	} catch (err) {
		await kernel.halt();
		throw err;
	}

	let closing: Promise<void> | undefined;
	return {
		kernel,
		mount,
		close() {
			closing ??= (async () => {
				try {
					await mount.unmount();
				} finally {
					await kernel.halt();
				}
			})();
			return closing;
		},
	};
}

/** Parses a -m/--mb or -P value: a positive integer. */
export function parsePositive(name: string): (value: string) => number {
	return (value: string) => {
		const n = Number(value);
		if (!Number.isInteger(n) || n <= 0)
			throw new CliError(`${name} must be a positive integer, not ${JSON.stringify(value)}`, 2);
		return n;
	};
}

/** The options of the classic LKL tools every image command takes. */
export function addImageOptions(cmd: Command, verb: string, readOnly: boolean): Command {
	return cmd
		.addOption(new Option('-t, --filesystem-type <type>', 'ext4, btrfs, xfs, vfat, exfat, ntfs3, f2fs, jfs, hfsplus, udf, iso9660, squashfs, erofs (default: detected)'))
		.addOption(new Option('-P, --partition <n>', `${verb} partition n of a partitioned disk`).argParser(parsePositive('--partition')))
		.option('-p, --enable-printk', 'show the kernel\'s console messages')
		.option('--wait-lock', `if another program is using the image, wait for it${readOnly ? ' to stop writing' : ''} rather than fail`)
		.addOption(new Option('-m, --mb <n>', 'kernel memory in MiB').argParser(parsePositive('--mb')).default(COPY_MEMORY_MIB));
}

/** Those options as openImage() takes them. */
export function imageOptionValues(o: Record<string, unknown>): Omit<ImageOptions, 'image' | 'readOnly'> {
	return {
		fsType: o.filesystemType as string | undefined,
		partition: o.partition as number | undefined,
		printk: Boolean(o.enablePrintk),
		memoryMiB: o.mb as number,
		waitLock: Boolean(o.waitLock),
	};
}
