// File metadata in node:fs's shapes: Stats (numbers, millisecond times)
// and BigIntStats (BigInts, with exact nanosecond times).
import { makedev } from './devices.js';
import type { NativeStatx, NativeTime } from './native.js';

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

/** The file type tests shared by Stats and BigIntStats. */
export abstract class StatsBase<T extends number | bigint> {
	/** Device the file lives on (glibc dev_t layout). */
	readonly dev: T;
	/** Inode number. */
	readonly ino: T;
	/** File type and permission bits. */
	readonly mode: T;
	/** Number of hard links. */
	readonly nlink: T;
	/** Owner. */
	readonly uid: T;
	/** Group. */
	readonly gid: T;
	/** For device files, the device they stand for (glibc dev_t layout). */
	readonly rdev: T;
	/** Size in bytes. */
	readonly size: T;
	/** Preferred I/O size. */
	readonly blksize: T;
	/** Allocated 512-byte blocks. */
	readonly blocks: T;

	/** @internal */
	protected constructor(st: NativeStatx, of: (n: number | bigint) => T) {
		this.dev = of(makedev(st.devMajor, st.devMinor));
		this.ino = of(st.ino);
		this.mode = of(st.mode);
		this.nlink = of(st.nlink);
		this.uid = of(st.uid);
		this.gid = of(st.gid);
		this.rdev = of(makedev(st.rdevMajor, st.rdevMinor));
		this.size = of(st.size);
		this.blksize = of(st.blksize);
		this.blocks = of(st.blocks);
	}

	#type(): number {
		return Number(this.mode) & S_IFMT;
	}

	/** A regular file. */
	isFile(): boolean {
		return this.#type() === S_IFREG;
	}

	/** A directory. */
	isDirectory(): boolean {
		return this.#type() === S_IFDIR;
	}

	/** A symbolic link (only lstat can see one). */
	isSymbolicLink(): boolean {
		return this.#type() === S_IFLNK;
	}

	/** A character device. */
	isCharacterDevice(): boolean {
		return this.#type() === S_IFCHR;
	}

	/** A block device. */
	isBlockDevice(): boolean {
		return this.#type() === S_IFBLK;
	}

	/** A named pipe. */
	isFIFO(): boolean {
		return this.#type() === S_IFIFO;
	}

	/** A Unix socket. */
	isSocket(): boolean {
		return this.#type() === S_IFSOCK;
	}
}

function ms(t: NativeTime): number {
	return t[0] * 1e3 + t[1] / 1e6;
}

function ns(t: NativeTime): bigint {
	return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

// Times missing from the statx mask (btime on ext2, say) read as zero,
// which is what node:fs reports for them too.
const STATX_BTIME = 0x800;

function birth(st: NativeStatx): NativeTime {
	return st.mask & STATX_BTIME ? st.btime : [0, 0];
}

/** Metadata with numbers, as node:fs's Stats. */
export class Stats extends StatsBase<number> {
	/** Last access, milliseconds since the epoch (fractional). */
	readonly atimeMs: number;
	/** Last change of contents. */
	readonly mtimeMs: number;
	/** Last change of metadata. */
	readonly ctimeMs: number;
	/** Creation, where the filesystem records it; else 0. */
	readonly birthtimeMs: number;
	/** atimeMs as a Date. */
	readonly atime: Date;
	/** mtimeMs as a Date. */
	readonly mtime: Date;
	/** ctimeMs as a Date. */
	readonly ctime: Date;
	/** birthtimeMs as a Date. */
	readonly birthtime: Date;

	/** @internal Built by Mount and FileHandle from the kernel's statx. */
	constructor(st: NativeStatx) {
		super(st, Number);
		this.atimeMs = ms(st.atime);
		this.mtimeMs = ms(st.mtime);
		this.ctimeMs = ms(st.ctime);
		this.birthtimeMs = ms(birth(st));
		this.atime = new Date(this.atimeMs);
		this.mtime = new Date(this.mtimeMs);
		this.ctime = new Date(this.ctimeMs);
		this.birthtime = new Date(this.birthtimeMs);
	}
}

/** Metadata with BigInts and nanosecond times, as node:fs's BigIntStats. */
export class BigIntStats extends StatsBase<bigint> {
	/** Last access, whole milliseconds since the epoch. */
	readonly atimeMs: bigint;
	/** Last change of contents, whole milliseconds. */
	readonly mtimeMs: bigint;
	/** Last change of metadata, whole milliseconds. */
	readonly ctimeMs: bigint;
	/** Creation, whole milliseconds; 0 where not recorded. */
	readonly birthtimeMs: bigint;
	/** Last access, nanoseconds since the epoch: exact. */
	readonly atimeNs: bigint;
	/** Last change of contents, nanoseconds: exact. */
	readonly mtimeNs: bigint;
	/** Last change of metadata, nanoseconds: exact. */
	readonly ctimeNs: bigint;
	/** Creation, nanoseconds; 0 where not recorded. */
	readonly birthtimeNs: bigint;
	/** atime as a Date (millisecond precision). */
	readonly atime: Date;
	/** mtime as a Date. */
	readonly mtime: Date;
	/** ctime as a Date. */
	readonly ctime: Date;
	/** birthtime as a Date. */
	readonly birthtime: Date;

	/** @internal Built by Mount and FileHandle from the kernel's statx. */
	constructor(st: NativeStatx) {
		super(st, BigInt);
		this.atimeNs = ns(st.atime);
		this.mtimeNs = ns(st.mtime);
		this.ctimeNs = ns(st.ctime);
		this.birthtimeNs = ns(birth(st));
		this.atimeMs = floorDiv(this.atimeNs, 1_000_000n);
		this.mtimeMs = floorDiv(this.mtimeNs, 1_000_000n);
		this.ctimeMs = floorDiv(this.ctimeNs, 1_000_000n);
		this.birthtimeMs = floorDiv(this.birthtimeNs, 1_000_000n);
		this.atime = new Date(Number(this.atimeMs));
		this.mtime = new Date(Number(this.mtimeMs));
		this.ctime = new Date(Number(this.ctimeMs));
		this.birthtime = new Date(Number(this.birthtimeMs));
	}
}

function floorDiv(a: bigint, b: bigint): bigint {
	const q = a / b;
	return a % b < 0n ? q - 1n : q;
}

/** Options of stat, lstat and FileHandle.stat. */
export interface StatOptions {
	/** BigIntStats, with nanosecond times, instead of Stats. */
	bigint?: boolean;
}

/** Stats or BigIntStats as `options.bigint` asks. */
export function makeStats(st: NativeStatx, options: StatOptions | undefined): Stats | BigIntStats {
	return options?.bigint ? new BigIntStats(st) : new Stats(st);
}
