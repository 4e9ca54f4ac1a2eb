// The compiled addon (native/addon) and its exact shape.  Everything above
// this file talks to the kernel through `native` only, so the types here
// are the contract with the C++ side.
import { loadAddon } from './binaries.js';

/** A path as the addon takes it: UTF-8 text, or raw bytes for other names. */
export type NativePath = string | Buffer;

/** Seconds and nanoseconds since the epoch, kept apart so nothing rounds. */
export type NativeTime = readonly [sec: number, nsec: number];

/** `struct statx` of the kernel, as the addon hands it over. */
/** [name, status, xattrs, symlink target, small file contents] */
export type NativeScanEntry = [Buffer, NativeStatx | null, [string, Buffer][] | null, Buffer | null, Buffer | null];

/** What putNodes and the host's puts set; mode -1 leaves the mode (symlinks). */
export interface NativePutMeta {
	uid: number;
	gid: number;
	mode: number;
	atime: NativeTime;
	mtime: NativeTime;
	xattrs: [string, Buffer][];
}

export interface NativeStatx {
	/** STATX_* bits saying which fields the filesystem filled in. */
	readonly mask: number;
	readonly mode: number;
	readonly nlink: number;
	readonly uid: number;
	readonly gid: number;
	readonly blksize: number;
	readonly ino: bigint;
	readonly size: bigint;
	/** 512-byte blocks. */
	readonly blocks: bigint;
	readonly devMajor: number;
	readonly devMinor: number;
	readonly rdevMajor: number;
	readonly rdevMinor: number;
	readonly atime: NativeTime;
	readonly mtime: NativeTime;
	readonly ctime: NativeTime;
	readonly btime: NativeTime;
}

/** `struct statfs64` of the kernel. */
export interface NativeStatfs {
	readonly type: number;
	readonly bsize: number;
	readonly blocks: bigint;
	readonly bfree: bigint;
	readonly bavail: bigint;
	readonly files: bigint;
	readonly ffree: bigint;
	readonly namelen: number;
}

/** One directory entry: raw name, DT_* type, inode number. */
export type NativeDirent = readonly [name: Buffer, type: number, ino: bigint];

/** A disk the kernel serves from an image file. */
export interface NativeDisk {
	/** The addon's handle for diskRemove and mount. */
	readonly id: number;
	/** The kernel's block device name, e.g. "vda". */
	readonly name: string;
}

/** A mounted filesystem. */
export interface NativeMount {
	/** Mount point inside the kernel, e.g. "/mnt/vda". */
	readonly path: string;
	/** The filesystem that mounted it, e.g. "ext4". */
	readonly fsType: string;
	/** O_PATH descriptor of the mount's root; every path op resolves in it. */
	readonly rootFd: number;
}

/**
 * The operations that exist both as `name` (a Promise: a call into the
 * kernel runs on the addon's kernel-call threads, one on the host's files
 * on libuv's pool) and `nameSync`.  Failures carry a negative `errno`.
 */
export interface NativeOps {
	halt(): void;
	diskAdd(path: string, readOnly: boolean): NativeDisk;
	diskRemove(id: number): void;
	mount(diskId: number, partition: number, fsType: string | null,
		flags: number, data: string | null): NativeMount;
	umount(path: string, rootFd: number): void;

	statx(root: number, path: NativePath, follow: boolean): NativeStatx;
	readdir(root: number, path: NativePath): NativeDirent[];
	/** A directory's entries with their details; null parts were not fetched (see native/addon/scan.cc). */
	scan(root: number, path: NativePath, inlineMax: number, budget: number): NativeScanEntry[];
	/**
	 * Nodes made one after the other in one call (kinds: PutKind in
	 * copy-calls.ts), up to the first failure: how many were made whole,
	 * and that failure's negative errno (or 0).
	 */
	putNodes(root: number, items: [number, NativePath, Buffer, NativePutMeta][]): { done: number; errno: number };
	readlink(root: number, path: NativePath): Buffer;
	realpath(root: number, path: NativePath): Buffer;
	open(root: number, path: NativePath, flags: number, mode: number): number;
	mkdir(root: number, path: NativePath, mode: number): void;
	rmdir(root: number, path: NativePath): void;
	unlink(root: number, path: NativePath): void;
	rename(root: number, from: NativePath, to: NativePath, flags: number): void;
	link(root: number, existing: NativePath, path: NativePath): void;
	symlink(root: number, target: NativePath, path: NativePath): void;
	mknod(root: number, path: NativePath, mode: number, major: number,
		minor: number): void;
	chmod(root: number, path: NativePath, mode: number, follow: boolean): void;
	chown(root: number, path: NativePath, uid: number, gid: number,
		follow: boolean): void;
	utimes(root: number, path: NativePath, atimeSec: number | bigint,
		atimeNsec: number, mtimeSec: number | bigint, mtimeNsec: number,
		follow: boolean): void;
	truncate(root: number, path: NativePath, length: number | bigint): void;
	access(root: number, path: NativePath, mode: number): void;
	statfs(root: number, path: NativePath): NativeStatfs;
	/** FITRIM of the whole filesystem: the bytes discarded. */
	trim(root: number, minLength: number): number;
	/** The filesystem's label and UUID as the kernel gives them; null where it does not (native/addon/fs_ids.cc). */
	fsIds(root: number): { label: Buffer | null; uuid: Buffer | null };
	getxattr(root: number, path: NativePath, name: string,
		follow: boolean): Buffer;
	setxattr(root: number, path: NativePath, name: string, value: Buffer,
		flags: number, follow: boolean): void;
	listxattr(root: number, path: NativePath, follow: boolean): Buffer;
	removexattr(root: number, path: NativePath, name: string,
		follow: boolean): void;

	close(fd: number): void;
	/** close(), first dropping the file's pages from the kernel's cache. */
	closeUncached(fd: number): void;
	/** `position` -1 reads at (and advances) the file position. */
	read(fd: number, buffer: Uint8Array, offset: number, length: number,
		position: number | bigint): number;
	/** read() at a position, dropping the pages read from the kernel's cache. */
	readOnce(fd: number, buffer: Uint8Array, offset: number, length: number,
		position: number | bigint): number;
	write(fd: number, buffer: Uint8Array, offset: number, length: number,
		position: number | bigint): number;
	fstat(fd: number): NativeStatx;
	ftruncate(fd: number, length: number | bigint): void;
	fsync(fd: number, dataOnly: boolean): void;
	fallocate(fd: number, mode: number, offset: number | bigint,
		length: number | bigint): void;
	lseek(fd: number, offset: number | bigint, whence: number): number;
	fchmod(fd: number, mode: number): void;
	fchown(fd: number, uid: number, gid: number): void;
	futimes(fd: number, atimeSec: number | bigint, atimeNsec: number,
		mtimeSec: number | bigint, mtimeNsec: number): void;
}

/** Names of the operations of {@link NativeOps}. */
export type NativeOpName = keyof NativeOps;

/** The promise form of every operation. */
export type NativeAsync = {
	[K in NativeOpName]: (...args: Parameters<NativeOps[K]>) =>
		Promise<ReturnType<NativeOps[K]>>;
};

/** The `…Sync` form of every operation. */
export type NativeSync = {
	[K in NativeOpName as `${K}Sync`]: NativeOps[K];
};

/** The whole addon. */
export interface NativeAddon extends NativeAsync, NativeSync {
	/** Boots the kernel (synchronous: it takes tens of milliseconds). */
	boot(memoryMiB: number, bootArgs: string, printk: boolean): void;
	/** Frees a scan's contents Buffer now (it then has length 0); false if it is not one. */
	releaseContents(contents: Buffer): boolean;
}


/** The addon, loaded once per process (see binaries.ts for where from). */
// The addon is ours and built from native/addon; its shape is the
// interface above, which nothing at run time can check more cheaply.
export const native: NativeAddon = loadAddon() as NativeAddon;
