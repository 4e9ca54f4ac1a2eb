/**
 * How big a filesystem made to measure (--size auto) is: what its
 * sources hold, counted as the filesystems store it, and a margin for
 * each filesystem's own metadata.  The numbers and the reasons for them
 * are in docs/commands.md (lkl mkimage, "Sizes").
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readTar } from '../tar/reader.js';
import type { FsKind } from './mkimage-spec.js';
import { openArchive, type SourceKind } from './mkimage-source.js';

const MiB = 1 << 20;
const BLOCK = 4096;

/** What a filesystem's sources hold. */
export interface Content {
	/** Nodes (a hard link's other names count, they are directory entries). */
	entries: number;
	/** File data as it is read (a sparse file's data regions). */
	bytes: number;
	/** The same rounded up to whole 4 KiB blocks per file, directories a block each, and names. */
	blockBytes: number;
}

export function emptyContent(): Content {
	return { entries: 0, bytes: 0, blockBytes: 0 };
}

const roundBlock = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** Adds a node of @size data bytes named @nameBytes long. */
function count(c: Content, kind: 'file' | 'directory' | 'symlink' | 'other', size: number, nameBytes: number): void {
	c.entries++;
	// A directory entry: name and a few fields (ext4 8, vfat 32 per 13 characters).
	c.blockBytes += nameBytes + 32;
	if (kind === 'file') {
		c.bytes += size;
		c.blockBytes += roundBlock(size);
	} else if (kind === 'directory') {
		c.blockBytes += BLOCK;
	} else if (kind === 'symlink' && size > 60) {
		c.blockBytes += BLOCK;	// too long to live in the inode
	}
}

async function measureDirectory(root: string, c: Content): Promise<void> {
	const seen = new Set<string>();
	async function walk(path: Buffer, nameBytes: number): Promise<void> {
		const st = await fsp.lstat(path, { bigint: true });
		if (st.isDirectory()) {
			count(c, 'directory', 0, nameBytes);
			for (const name of await fsp.readdir(path, { encoding: 'buffer' }))
				await walk(Buffer.concat([path, Buffer.from('/'), name]), name.length);
			return;
		}
		// A hard link's data is there once.
		const key = `${st.dev}:${st.ino}`;
		const again = st.nlink > 1n && seen.has(key);
		seen.add(key);
		const data = st.isFile() && !again ? Math.min(Number(st.size), Number(st.blocks) * 512) : 0;
		count(c, st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other', st.isSymbolicLink() ? Number(st.size) : data, nameBytes);
	}
	await walk(Buffer.from(join(root)), 0);
}

async function measureArchive(path: string, kind: Exclude<SourceKind, 'directory'>, c: Content): Promise<void> {
	const archive = openArchive(path, kind);
	try {
		for await (const { entry, data } of readTar(archive.stream)) {
			let bytes = 0;
			for await (const chunk of data)
				bytes += chunk.length;
			const base = entry.path.subarray(entry.path.lastIndexOf(0x2f, entry.path.length - 2) + 1);
			const kindOf = entry.type === '5' ? 'directory' : entry.type === '2' ? 'symlink' : entry.type === '0' ? 'file' : 'other';
			count(c, kindOf, kindOf === 'symlink' ? entry.linkPath.length : bytes, base.length);
		}
		await archive.done();
	} finally {
		archive.close();
	}
}

/** Adds what the source at @path holds to @c. */
export async function measureSource(path: string, kind: SourceKind, c: Content): Promise<void> {
	if (kind === 'directory')
		await measureDirectory(path, c);
	else
		await measureArchive(path, kind, c);
}

/** ext4's journal for a filesystem of @bytes, as mke2fs sizes it with 4 KiB blocks. */
function ext4Journal(bytes: number): number {
	const blocks = bytes / BLOCK;
	const journalBlocks = blocks < 32768 ? 1024 : blocks < 256 * 1024 ? 4096 : blocks < 512 * 1024 ? 8192
		: blocks < 4096 * 1024 ? 16384 : blocks < 8192 * 1024 ? 32768 : blocks < 16384 * 1024 ? 65536
			: blocks < 32768 * 1024 ? 131072 : 262144;
	return journalBlocks * BLOCK;
}

/** The smallest filesystem each mkfs makes, and the smallest mkimage makes to measure. */
export const MIN_BYTES: Record<Exclude<FsKind, 'none'>, { mkfs: number; auto: number }> = {
	ext4: { mkfs: 1 * MiB, auto: 8 * MiB },
	vfat: { mkfs: 1 * MiB, auto: 8 * MiB },
	xfs: { mkfs: 300 * MiB, auto: 300 * MiB },
	btrfs: { mkfs: 109 * MiB, auto: 128 * MiB },
};

/** ext4 inodes for @c: every entry, a tenth more, and 1024 to spare. */
export function ext4Inodes(c: Content, bytes: number): number {
	return Math.max(Math.ceil(bytes / 16384), Math.ceil(c.entries * 1.1) + 1024);
}

/**
 * The size, in whole MiB, of a @fs filesystem made to measure for @c.
 * ext4: the content and 256-byte inodes, over 0.9 (5% reserved for root,
 *   the rest bitmaps, group descriptors and slack), plus the journal
 *   mke2fs gives that size and 2 MiB.
 * vfat: 4 KiB clusters (mkimage asks mkfs.fat for them), over 0.95 (two
 *   FATs of 4 bytes per cluster are 0.2%; the rest slack), plus 2 MiB.
 * xfs: the content and 1 KiB per entry (inode chunks and directory
 *   blocks), over 0.9, plus the 64 MiB log mkfs.xfs makes and 16 MiB;
 *   at least mkfs.xfs's 300 MiB.
 * btrfs: the content over 0.8 (data and metadata are separate chunks,
 *   each allocated ahead), 4 KiB per entry of metadata kept twice (DUP:
 *   inode, names, extents, and data up to 2 KiB inline), plus 96 MiB for
 *   the first chunks of each kind.
 */
export function autoSize(fs: Exclude<FsKind, 'none'>, c: Content): number {
	let bytes: number;
	switch (fs) {
	case 'ext4': {
		const base = (c.blockBytes + c.entries * 1.1 * 256) / 0.9 + 2 * MiB;
		bytes = base + ext4Journal(base);
		break;
	}
	case 'vfat':
		bytes = c.blockBytes / 0.95 + 2 * MiB;
		break;
	case 'xfs':
		bytes = (c.blockBytes + c.entries * 1024) / 0.9 + 80 * MiB;
		break;
	case 'btrfs':
		bytes = c.blockBytes / 0.8 + c.entries * 2 * 4096 + 96 * MiB;
		break;
	}
	return Math.ceil(Math.max(bytes, MIN_BYTES[fs].auto) / MiB) * MiB;
}
