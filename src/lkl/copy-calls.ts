// The calls the copy engine (src/copy) makes on a mounted image: raw-byte
// paths, whole-directory scans and whole-file puts, which the node:fs-shaped
// Mount has no place for.  Internal: not exported from the package.
//
// Each call enters the mount's gate, so that unmount() waits for it, and
// its errors come out shaped like node:fs's (err.code === 'EEXIST').  The
// gate is entered once per addon call, and a scan is one call for a whole
// directory, a put one for a batch of small files: the cost per entry is
// a fraction of one trip to the kernel's thread.
import type { Mount } from './mount.js';
import type { Gate } from './gate.js';
import { accessOf } from './mount-access.js';
import { errnoError, fsCall } from './errors.js';
import { withFile } from './file-ops.js';
import { KERNEL_O } from './flags.js';
import { native, type NativePutMeta, type NativeScanEntry, type NativeStatx } from './native.js';
import { runAsync, sys, type Steps } from './steps.js';
import { splitXattrNames } from './xattr-ops.js';

// The scan's entries go to the copy engine as the addon made them: turning
// them into a second record here would cost an object per entry.
export type { NativeScanEntry as ScanEntry, NativeStatx as ScanStatx, NativePutMeta as PutMeta };

/** A part of a file that holds data; what lies between is a hole. */
export interface DataRegion {
	offset: bigint;
	length: bigint;
}

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = KERNEL_O;
const SEEK_DATA = 3, SEEK_HOLE = 4;

/** Runs one addon call as a call in flight on `gate`, its errors reshaped. */
function gated<T>(gate: Gate, syscall: string, path: Buffer | undefined, call: () => Promise<T>): Promise<T> {
	return gate.run(syscall, () => fsCall(call, syscall, path));
}

function* dataRegions(fd: number, size: bigint, path: Buffer): Steps<DataRegion[]> {
	const map: DataRegion[] = [];
	let off = 0n;
	while (off < size) {
		let data: number;
		try {
			data = yield* sys('lseek', [fd, off, SEEK_DATA], 'lseek', path);
		} catch (e) {
			if ((e as { code?: unknown }).code === 'ENXIO')
				break;	// only a hole is left
			throw e;
		}
		const hole = BigInt(yield* sys('lseek', [fd, data, SEEK_HOLE], 'lseek', path));
		map.push({ offset: BigInt(data), length: hole - BigInt(data) });
		off = hole;
	}
	return map;
}

/** A file of the image open for reading or writing by the copy engine. */
export class ImageFile {
	readonly #gate: Gate;
	readonly #fd: number;
	readonly #path: Buffer;
	/** Read once by a copy: its pages leave the kernel's cache as it closes. */
	readonly #once: boolean;

	/** @internal Made by CopyCalls. */
	constructor(gate: Gate, fd: number, path: Buffer, once: boolean) {
		this.#gate = gate;
		this.#fd = fd;
		this.#path = path;
		this.#once = once;
	}

	/** Reads at `position` (-1: at the file position); 0 at the end. */
	read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
		const read = this.#once && position >= 0 ? native.readOnce : native.read;
		return gated(this.#gate, 'read', this.#path, () => read(this.#fd, buffer, offset, length, position));
	}

	/** Writes at `position` (-1: at the file position); returns how much it wrote. */
	write(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
		return gated(this.#gate, 'write', this.#path, () => native.write(this.#fd, buffer, offset, length, position));
	}

	truncate(length: bigint): Promise<void> {
		return gated(this.#gate, 'ftruncate', this.#path, () => native.ftruncate(this.#fd, length));
	}

	close(): Promise<void> {
		return gated(this.#gate, 'close', this.#path, () => (this.#once ? native.closeUncached(this.#fd) : native.close(this.#fd)));
	}
}

/** What putNodes makes of an item (the kinds of native/addon/put.cc). */
export const enum PutKind {
	/** A regular file of the data, replacing a non-directory. */
	File = 0,
	/** A symbolic link to the data, replacing a non-directory; mode unused. */
	Symlink = 1,
	/** A directory of meta.mode, unless one is there; nothing else of meta is used. */
	Dir = 2,
	/** The metadata of the node there, not following it. */
	Meta = 3,
	/** The same, following it (the mount's root has no name to not follow). */
	MetaFollow = 4,
}

/** [kind, the kernel's path, a file's contents or a link's target, metadata]. */
export type PutNode = [PutKind, Buffer, Buffer, NativePutMeta];

/** The call a failure of each kind is named by, as the single calls name it. */
const PUT_CALLS = ['open', 'symlink', 'mkdir', 'lchown', 'lchown'];

/**
 * A mount's calls for the copy engine.  Paths are bytes as the kernel
 * takes them inside the mount ("/a/b"); nothing here follows a symlink
 * unless `follow` says so.
 */
export class CopyCalls {
	readonly #root: number;
	readonly #gate: Gate;

	constructor(mount: Mount) {
		const { rootFd, gate } = accessOf(mount);
		this.#root = rootFd;
		this.#gate = gate;
	}

	/** The node's status, without following a final symlink. */
	lstat(path: Buffer): Promise<NativeStatx> {
		return gated(this.#gate, 'lstat', path, () => native.statx(this.#root, path, false));
	}

	/** The names in a directory. */
	async list(path: Buffer): Promise<Buffer[]> {
		const entries = await gated(this.#gate, 'scandir', path, () => native.readdir(this.#root, path));
		return entries.map(([name]) => name);
	}

	/**
	 * A directory's entries with their status, xattrs, symlink targets and
	 * the contents of files up to `inlineMax` bytes (`budget` in all), in
	 * one call (native/addon/scan.cc).
	 */
	scan(path: Buffer, inlineMax: number, budget: number): Promise<NativeScanEntry[]> {
		return gated(this.#gate, 'scandir', path, () => native.scan(this.#root, path, inlineMax, budget));
	}

	readlink(path: Buffer): Promise<Buffer> {
		return gated(this.#gate, 'readlink', path, () => native.readlink(this.#root, path));
	}

	/** The names of the node's xattrs; ENOTSUP where the filesystem has none (vfat). */
	async listxattr(path: Buffer, follow: boolean): Promise<string[]> {
		return splitXattrNames(await gated(this.#gate, 'llistxattr', path, () => native.listxattr(this.#root, path, follow)));
	}

	getxattr(path: Buffer, name: string, follow: boolean): Promise<Buffer> {
		return gated(this.#gate, 'lgetxattr', path, () => native.getxattr(this.#root, path, name, follow));
	}

	/** A regular file's data regions (SEEK_DATA/SEEK_HOLE), up to `size`. */
	async dataMap(path: Buffer, size: bigint): Promise<DataRegion[]> {
		const steps = withFile(this.#root, path, O_RDONLY | O_NOFOLLOW, 0, (fd) => dataRegions(fd, size, path));
		return this.#gate.run('lseek', () => runAsync(steps));
	}

	/**
	 * Opens a regular file for reading, never through a final symlink, to
	 * be read once: its pages are dropped from the kernel's cache as it
	 * closes, for the next file's reads to reuse.
	 */
	async openRead(path: Buffer): Promise<ImageFile> {
		const fd = await gated(this.#gate, 'open', path, () => native.open(this.#root, path, O_RDONLY | O_NOFOLLOW, 0));
		return new ImageFile(this.#gate, fd, path, true);
	}

	/** Creates a regular file (mode 0600 until setMeta) that must not exist yet. */
	async create(path: Buffer): Promise<ImageFile> {
		const fd = await gated(this.#gate, 'open', path,
			() => native.open(this.#root, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600));
		return new ImageFile(this.#gate, fd, path, false);
	}

	/**
	 * Nodes made in one call, in order: its failure names the node it
	 * stopped at (with the call that failed; `putIndex` is its index), the
	 * ones before it are whole and the ones after it not begun.
	 */
	async putNodes(items: PutNode[]): Promise<void> {
		const { done, errno } = await gated(this.#gate, 'open', undefined, () => native.putNodes(this.#root, items));
		if (errno)
			throw Object.assign(errnoError(errno, PUT_CALLS[items[done][0]], items[done][1]), { putIndex: done });
	}

	unlink(path: Buffer): Promise<void> {
		return gated(this.#gate, 'unlink', path, () => native.unlink(this.#root, path));
	}

	link(existing: Buffer, path: Buffer): Promise<void> {
		return gated(this.#gate, 'link', path, () => native.link(this.#root, existing, path));
	}

	/** A device, fifo or socket: `mode` holds its S_IF* type. */
	mknod(path: Buffer, mode: number, major: number, minor: number): Promise<void> {
		return gated(this.#gate, 'mknod', path, () => native.mknod(this.#root, path, mode, major, minor));
	}
}
