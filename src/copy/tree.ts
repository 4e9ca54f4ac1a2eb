/**
 * The two sides of every copy.  fs2tar, cptofs and cpfromfs are one copy
 * engine (engine.ts) over a source and a sink: an image, the host's
 * filesystem, or a tar archive.  Paths are relative ("a/b", "" for the
 * top) and raw bytes, so names that are not UTF-8 survive.
 */
import { constants as fsc } from 'node:fs';
import type { TarTime } from '../tar/header.js';

export type NodeKind = 'file' | 'directory' | 'symlink' | 'charDevice' | 'blockDevice' | 'fifo' | 'socket';

/** The kind of node a stat mode describes (Linux numbers, host or kernel). */
export function kindOfMode(mode: number): NodeKind {
	switch (mode & fsc.S_IFMT) {
	case fsc.S_IFREG: return 'file';
	case fsc.S_IFDIR: return 'directory';
	case fsc.S_IFLNK: return 'symlink';
	case fsc.S_IFCHR: return 'charDevice';
	case fsc.S_IFBLK: return 'blockDevice';
	case fsc.S_IFIFO: return 'fifo';
	default: return 'socket';
	}
}

/** The S_IF* type bits of a kind, for mknod. */
export const S_IF: Record<NodeKind, number> = {
	file: fsc.S_IFREG,
	directory: fsc.S_IFDIR,
	symlink: fsc.S_IFLNK,
	charDevice: fsc.S_IFCHR,
	blockDevice: fsc.S_IFBLK,
	fifo: fsc.S_IFIFO,
	socket: fsc.S_IFSOCK,
};

/**
 * XFS shows root each POSIX ACL twice: as system.posix_acl_* and as
 * trusted.SGI_ACL_* (its on-disk name).  The second is the same ACL, not
 * an attribute of its own: copied, it would leave a stray trusted.*
 * attribute on any other filesystem.  Drops those aliases from a list.
 */
export function withoutAclAliases(names: string[]): string[] {
	const has = new Set(names);
	return names.filter((n) =>
		!(n === 'trusted.SGI_ACL_FILE' && has.has('system.posix_acl_access')) &&
		!(n === 'trusted.SGI_ACL_DEFAULT' && has.has('system.posix_acl_default')));
}

/** Everything about one node that a copy preserves, besides its data. */
export interface NodeMeta {
	kind: NodeKind;
	/** Permission bits, with set-id and sticky bits (mode & 0o7777). */
	mode: number;
	uid: number;
	gid: number;
	size: bigint;
	atime: TarTime;
	mtime: TarTime;
	ctime: TarTime;
	rdevMajor: number;
	rdevMinor: number;
	/** Identity for hard-link detection: equal for links to one inode. */
	dev: string;
	ino: bigint;
	nlink: number;
	/** 512-byte blocks allocated, where the source knows: fewer than the size needs hints at holes. */
	blocks?: bigint;
}

/** Where a sparse file's data is: regions in order; the rest are holes. */
export type DataMap = { offset: bigint; length: bigint }[];

export interface SourceTree {
	/** Names in a directory, in any order. */
	list(dir: Buffer): Promise<Buffer[]>;
	/** Metadata of the node itself (symlinks are not followed). */
	meta(path: Buffer): Promise<NodeMeta>;
	readlink(path: Buffer): Promise<Buffer>;
	/** Every extended attribute, values byte for byte. */
	xattrs(path: Buffer, meta: NodeMeta): Promise<Map<string, Buffer>>;
	/**
	 * A regular file's contents, in large chunks.  A chunk may be a view
	 * of a buffer the source reads the next one into: it is good until
	 * the next is asked for, and a sink copies what it keeps longer.
	 */
	read(path: Buffer, meta: NodeMeta): AsyncIterable<Buffer>;
	/**
	 * A directory's entries with whatever of their details the source can
	 * fetch together, cheaper than one call each; what is left out is
	 * fetched through the calls above.  Small files' contents come along
	 * only if @contents is true.
	 */
	scan?(dir: Buffer, contents: boolean): Promise<ScannedNode[]>;
	/**
	 * How many directories the engine may scan ahead of its walk
	 * (scan-ahead.ts); none if absent.
	 */
	readonly scanAhead?: number;
	/** A regular file's data regions if it has holes; undefined if it has none. */
	dataMap?(path: Buffer, meta: NodeMeta): Promise<DataMap | undefined>;
	/** The bytes of those regions, one after the other, in chunks as read() gives them. */
	readMap?(path: Buffer, map: DataMap): AsyncIterable<Buffer>;
}

/** One entry of SourceTree.scan(); an absent part is fetched separately. */
export interface ScannedNode {
	name: Buffer;
	meta?: NodeMeta;
	xattrs?: Map<string, Buffer>;
	target?: Buffer;
	contents?: Buffer;
}

/**
 * Where a copy goes.  Each node arrives once, with its metadata and
 * extended attributes (an archive writes them ahead of the data); sinks
 * that apply metadata to real files do so in finish().
 */
export interface SinkTree {
	/** Create a directory (or adopt an existing one). */
	mkdir(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void>;
	file(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, data: AsyncIterable<Buffer>): Promise<void>;
	/** A file with holes, where the sink can keep them: @data is the regions' bytes in order. */
	sparseFile?(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, map: DataMap, data: AsyncIterable<Buffer>): Promise<void>;
	symlink(path: Buffer, target: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void>;
	/** A hard link to @existing, already written by this copy. */
	link(path: Buffer, existing: Buffer, meta: NodeMeta): Promise<void>;
	/** Devices, fifos and sockets. */
	special(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void>;
	/**
	 * Owner, mode, xattrs and times, once the node's contents are written
	 * (for a directory: after its children, so they do not bump its times).
	 */
	finish(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void>;
	/**
	 * Write what the sink holds back (small files it writes in batches):
	 * the engine calls it at the end of each copy, so that a failure there
	 * names its node like any other.
	 */
	flush?(): Promise<void>;
	/** Flush and close; called once, after the last node. */
	close(): Promise<void>;
}

/** What the engine reports as it goes, for progress and -v. */
export interface CopyEvents {
	entry?(path: Buffer, meta: NodeMeta): void;
	bytes?(count: number): void;
	/** A node's extended attributes, as read from the source. */
	xattrs?(path: Buffer, xattrs: Map<string, Buffer>): void;
	/** A node that cannot be copied (a socket into tar, say), skipped. */
	skipped?(path: Buffer, meta: NodeMeta, reason: string): void;
}
