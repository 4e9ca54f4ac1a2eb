/**
 * What an image holds, for `lkl info`: its partition table and, for each
 * partition (or the whole disk), the filesystem's type, label, UUID,
 * size and use, and the operating system on it.
 *
 * The image is opened read-only (the disk's shared lock keeps writers
 * out meanwhile) and each filesystem is mounted read-only by the kernel.
 * A dirty journal or log is replayed as the host would, without a
 * no-recovery option: a read-only disk keeps what the kernel writes in
 * memory (native/disk's copy-on-write layer), so the file is never
 * written, and what is shown is the filesystem as the next mount will
 * see it, not as it was before its last transactions.
 */
import { open } from 'node:fs/promises';
import { describe } from '../cli/errors.js';
import { Kernel } from '../lkl/kernel.js';
import type { Disk } from '../lkl/disk.js';
import { fileSource, sizeOf, type ByteSource } from './byte-source.js';
import { kernelFsIds } from '../lkl/fs-ids.js';
import { readOsRelease, type OsRelease } from './os-release.js';
import { readPartitionTable, type Partition, type PartitionTable } from './partition-table.js';
import { probe, type Probed } from './probe.js';

export interface InfoOptions {
	/**
	 * A running kernel to use, and leave running; else one is booted, and
	 * halted at the end.  A kernel booted without "gpt" on its command line
	 * sees no partitions on a GPT read from its backup header.
	 */
	kernel?: Kernel;
	/** Memory of the kernel booted, in MiB (default 64). */
	memoryMiB?: number;
	/** Show the kernel's messages. */
	printk?: boolean;
	/** Wait while another program writes the image, rather than fail with EBUSY. */
	waitLock?: boolean;
	/** Ends that wait. */
	signal?: AbortSignal;
}

/** The table, as `lkl info --json` gives it (docs/commands.md). */
export interface TableInfo {
	type: 'gpt' | 'mbr';
	id: string;
	sectorSize: number;
	/** GPT: which header was read. */
	header?: 'primary' | 'backup';
	/** GPT: the MBR lists partitions of its own too. */
	hybridMbr?: boolean;
	/** GPT: the sectors partitions may use. */
	firstUsableLba?: number;
	lastUsableLba?: number;
	problems: string[];
}

export interface PartitionInfo {
	number: number;
	start: number;
	size: number;
	type: string;
	typeName: string | null;
	/** GPT only. */
	guid?: string;
	name?: string;
	attributes?: string;
	/** MBR only. */
	bootable?: boolean;
	logical?: boolean;
}

export interface VolumeInfo {
	/** null: the whole disk. */
	partition: PartitionInfo | null;
	/** What it holds as blkid names it; null when nothing known is there. */
	filesystem: { type: string; label: string | null; uuid: string | null } | null;
	/** statfs of the mounted filesystem, in bytes; null when not mounted. */
	usage: { size: number; used: number; available: number } | null;
	os: OsRelease | null;
	/** Why it could not be read, in one line; null when it was (or there is nothing to read). */
	error: string | null;
}

export interface ImageInfo {
	image: string;
	size: number;
	table: TableInfo | null;
	volumes: VolumeInfo[];
}

function tableInfo(t: PartitionTable): TableInfo {
	return {
		type: t.type,
		id: t.id,
		sectorSize: t.sectorSize,
		...(t.gpt ? {
			header: t.gpt.header,
			hybridMbr: t.gpt.hybridMbr,
			firstUsableLba: t.gpt.firstUsableLba,
			lastUsableLba: t.gpt.lastUsableLba,
		} : {}),
		problems: [...t.problems],
	};
}

function partitionInfo(p: Partition, table: PartitionTable): PartitionInfo {
	const common = { number: p.number, start: p.start, size: p.size, type: p.type, typeName: p.typeName ?? null };
	if (table.type === 'gpt')
		return { ...common, guid: p.guid!, name: p.name!, attributes: `0x${p.attributes!.toString(16).padStart(16, '0')}` };
	return { ...common, bootable: Boolean(p.bootable), logical: Boolean(p.logical) };
}

/** The last partition number the kernel gives a disk (DISK_MAX_PARTS - 1). */
const MAX_PARTITION = 255;

/** Why a mount failed, in words for the volume's line. */
function mountError(err: unknown, probed: Probed | undefined, partition: number): string {
	const code = (err as { code?: string }).code;
	if (code === 'ENODEV')
		return probed ? `this kernel cannot mount ${probed.type}` : 'no filesystem the kernel recognises';
	if (code === 'ENOENT' && partition)
		return `the kernel sees no partition ${partition} (it reads the table otherwise)`;
	// What a mount's errors mean here, where describe() has only their general words.
	const why = code === 'EBADMSG' ? 'a checksum does not match: the filesystem is damaged'
		: code === 'EINVAL' ? 'its superblock is not valid'
			: describe(err);
	return `cannot mount${probed ? ` ${probed.type}` : ''}: ${why}`;
}

/** What one volume holds: probed, then mounted when it is a filesystem. */
async function volume(kernel: Kernel, disk: Disk, src: ByteSource, part: Partition | undefined,
	table: PartitionTable | undefined): Promise<VolumeInfo> {
	const start = part?.start ?? 0;
	const size = Math.max(0, Math.min(part?.size ?? src.size, src.size - start));
	const info: VolumeInfo = {
		partition: part && table ? partitionInfo(part, table) : null,
		filesystem: null,
		usage: null,
		os: null,
		error: null,
	};
	// An extended partition only holds the logical ones, listed apart.
	if (part?.holds === 'extended')
		return info;
	if (part && (part.start < 0 || part.start >= src.size || part.size === 0)) {
		info.error = 'it lies outside the disk';
		return info;
	}
	if (part && part.number > MAX_PARTITION) {
		info.error = `Linux reads no partition past ${MAX_PARTITION}`;
		return info;
	}
	const probed = await probe(src, start, size);
	if (probed)
		info.filesystem = { type: probed.type, label: probed.label ?? null, uuid: probed.uuid ?? null };
	if (probed && !probed.mountable)
		return info;
	// Nothing recognised where the type says no filesystem belongs (swap
	// or LVM not yet set up, BIOS boot code, Microsoft reserved): nothing
	// to mount, and nothing wrong.
	if (!probed && part?.holds && part.holds !== 'filesystem')
		return info;

	let mount;
	try {
		mount = await kernel.mount(disk, { partition: part?.number ?? 0, readOnly: true });
	} catch (err) {
		info.error = mountError(err, probed, part?.number ?? 0);
		return info;
	}
	try {
		const ids = await kernelFsIds(mount);
		// The kernel's name for it, but ext2 and ext3 (which its ext4 mounts) as blkid says them.
		const sameExt = mount.fsType === 'ext4' && /^ext[23]$/.test(probed?.type ?? '');
		info.filesystem = {
			type: sameExt ? probed!.type : mount.fsType,
			label: ids.label ?? probed?.label ?? null,
			uuid: ids.uuid ?? probed?.uuid ?? null,
		};
		const st = await mount.statfs('/');
		info.usage = {
			size: st.blocks * st.bsize,
			used: (st.blocks - st.bfree) * st.bsize,
			available: st.bavail * st.bsize,
		};
		info.os = await readOsRelease(mount) ?? null;
	} catch (err) {
		// Mounted, then failed on a damaged part (statfs's EIO, say): the
		// volume says so, the rest of the disk is still read.
		info.error = `cannot read ${mount.fsType}: ${describe(err)}`;
	} finally {
		try {
			await mount.unmount();
		} catch (err) {
			info.error ??= `cannot unmount ${mount.fsType}: ${describe(err)}`;
		}
	}
	return info;
}

/**
 * Whether the kernel must be told to read @image's GPT ("gpt" on its
 * command line): without it, Linux ignores a GPT whose primary header is
 * damaged (it never looks for the backup) or that has no protective MBR.
 * Read before the kernel boots, so without the disk's lock: the table is
 * read again under it, and a table changed in between at worst leaves
 * the kernel without the partitions, which each volume then says.
 */
async function needsForcedGpt(image: string): Promise<boolean> {
	try {
		const handle = await open(image, 'r');
		try {
			const table = await readPartitionTable(fileSource(handle, await sizeOf(handle)));
			return Boolean(table?.gpt && (table.gpt.header === 'backup' || !table.gpt.protectiveMbr));
		} finally {
			await handle.close();
		}
	} catch {
		return false;	// said, if it matters, when the disk is added or the table read again
	}
}

/**
 * Everything `lkl info` shows about @image.  Throws node:fs-shaped errors
 * for an image that cannot be opened (EBUSY while another program writes
 * it), PartitionTableError for a table that cannot be read at all.
 */
export async function imageInfo(image: string, options: InfoOptions = {}): Promise<ImageInfo> {
	const kernel = options.kernel ?? Kernel.boot({
		memoryMiB: options.memoryMiB ?? 64,
		printk: options.printk,
		bootArgs: await needsForcedGpt(image) ? 'gpt' : '',
	});
	try {
		const disk = await kernel.addDisk(image, { readOnly: true, waitForLock: options.waitLock, signal: options.signal });
		try {
			// Read by us with the disk's lock held: no writer changes it meanwhile.
			const handle = await open(image, 'r');
			try {
				const src = fileSource(handle, await sizeOf(handle));
				const table = await readPartitionTable(src);
				const volumes: VolumeInfo[] = [];
				if (!table)
					volumes.push(await volume(kernel, disk, src, undefined, undefined));
				else
					for (const p of table.partitions)
						volumes.push(await volume(kernel, disk, src, p, table));
				return { image, size: src.size, table: table ? tableInfo(table) : null, volumes };
			} finally {
				await handle.close();
			}
		} finally {
			if (!kernel.halted)
				await kernel.removeDisk(disk);
		}
	} finally {
		if (!options.kernel)
			await kernel.halt();
	}
}
