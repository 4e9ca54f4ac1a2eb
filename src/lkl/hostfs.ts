/**
 * The host's own filesystem, as the copies use it: the addon's hostfs
 * calls (native/addon/hostfs.cc, put.cc), typed, checked at load, and
 * failing with node:fs-shaped errors (err.code 'ENOTDIR', ...).
 * Internal: not exported from the package.
 *
 * Reading (a host tree as a copy's source) goes by path.  Writing
 * (cpfromfs) goes through a HostDest: every node is made relative to
 * directory descriptors opened from the destination's base without
 * following a symlink (native/hostfs/dest.h), never by a path checked
 * first.  A big file is written through the descriptor HostDest.create()
 * returns, and its metadata set on that descriptor.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { errnoError, fsCall, type ErrorPath } from './errors.js';
import { native, type NativePutMeta, type NativeScanEntry } from './native.js';

/** What a write could not keep: a refused chown (0 or 1), refused xattrs. */
export interface HostLost {
	chown: number;
	xattrs: number;
}

/** The addon's handle of a destination. */
type DestHandle = { readonly __hostDest: unique symbol };

/** The addon's hostfs calls, as native/addon/hostfs.cc and put.cc make them. */
interface HostfsAddon {
	hostScan(path: Buffer, inlineMax: number, budget: number): Promise<NativeScanEntry[]>;
	hostListxattr(path: Buffer, follow: boolean): Promise<Buffer>;
	hostGetxattr(path: Buffer, name: string, follow: boolean): Promise<Buffer>;
	hostDataMap(path: Buffer, size: bigint): Promise<[bigint, bigint][]>;
	hostDestOpen(base: Buffer): Promise<DestHandle>;
	hostDestCloseSync(dest: DestHandle): void;
	hostDestMkdir(dest: DestHandle, rel: Buffer): Promise<void>;
	hostDestCreate(dest: DestHandle, rel: Buffer): Promise<number>;
	hostDestSymlink(dest: DestHandle, rel: Buffer, target: Buffer): Promise<void>;
	hostDestLink(dest: DestHandle, rel: Buffer, existing: Buffer): Promise<void>;
	hostDestMknod(dest: DestHandle, rel: Buffer, mode: number, major: number, minor: number): Promise<void>;
	hostDestSetMeta(dest: DestHandle, rel: Buffer, type: number, meta: NativePutMeta, lenient: boolean): Promise<HostLost>;
	hostFdSetMeta(fd: number, meta: NativePutMeta, lenient: boolean): Promise<HostLost>;
	hostPutFiles(dest: DestHandle, items: [Buffer, Buffer, NativePutMeta][], lenient: boolean): Promise<HostLost & { done: number; errno: number }>;
}

const CALLS: readonly (keyof HostfsAddon)[] = [
	'hostScan', 'hostListxattr', 'hostGetxattr', 'hostDataMap',
	'hostDestOpen', 'hostDestCloseSync', 'hostDestMkdir', 'hostDestCreate', 'hostDestSymlink',
	'hostDestLink', 'hostDestMknod', 'hostDestSetMeta', 'hostFdSetMeta', 'hostPutFiles',
];

/** The addon's hostfs calls, each checked to be there when this module loads. */
const addon: HostfsAddon = (() => {
	const all = native as unknown as Record<string, unknown>;
	const missing = CALLS.filter((name) => typeof all[name] !== 'function');
	if (missing.length)
		throw new Error(`the lkl addon lacks ${missing.join(', ')}: it is older than this code (npm run build:addon)`);
	return all as unknown as HostfsAddon;
})();


/** A directory's entries with their details (native/addon/scan.cc). */
export function hostScan(path: Buffer, inlineMax: number, budget: number): Promise<NativeScanEntry[]> {
	return fsCall(() => addon.hostScan(path, inlineMax, budget), 'scandir', path);
}

/** The names of a node's xattrs, NUL-terminated, never following a symlink. */
export function hostListxattr(path: Buffer): Promise<Buffer> {
	return fsCall(() => addon.hostListxattr(path, false), 'llistxattr', path);
}

export function hostGetxattr(path: Buffer, name: string): Promise<Buffer> {
	return fsCall(() => addon.hostGetxattr(path, name, false), 'lgetxattr', path);
}

/** A regular file's data regions, [offset, length] (SEEK_DATA/SEEK_HOLE). */
export function hostDataMap(path: Buffer, size: bigint): Promise<[bigint, bigint][]> {
	return fsCall(() => addon.hostDataMap(path, size), 'lseek', path);
}

function fsWrite(fd: number, buffer: Buffer, offset: number, length: number, position: number | null): Promise<number> {
	return new Promise((resolve, reject) => {
		fs.write(fd, buffer, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
	});
}
const fsFtruncate = promisify(fs.ftruncate);
const fsClose = promisify(fs.close);

/** A new file in a destination, open for writing until close(). */
export class HostFile {
	#fd: number;
	/** Its host path, for errors. */
	readonly path: Buffer;

	constructor(fd: number, path: Buffer) {
		this.#fd = fd;
		this.path = path;
	}

	/** Writes all of buffer[offset, offset + length) at @position (null: at the end so far). */
	async write(buffer: Buffer, offset = 0, length = buffer.length - offset, position: number | null = null): Promise<void> {
		while (length > 0) {
			const n = await fsCall(() => fsWrite(this.#fd, buffer, offset, length, position), 'write', this.path);
			offset += n;
			length -= n;
			if (position !== null)
				position += n;
		}
	}

	truncate(length: number): Promise<void> {
		return fsCall(() => fsFtruncate(this.#fd, length), 'ftruncate', this.path);
	}

	/** Owner, xattrs, mode and times, in that order (see native/hostfs/dest.h). */
	setMeta(meta: NativePutMeta, lenient: boolean): Promise<HostLost> {
		return fsCall(() => addon.hostFdSetMeta(this.#fd, meta, lenient), 'setmeta', this.path);
	}

	async close(): Promise<void> {
		const fd = this.#fd;
		if (fd < 0)
			return;
		this.#fd = -1;
		await fsCall(() => fsClose(fd), 'close', this.path);
	}
}

/**
 * A directory of the host as a copy's destination (native/hostfs/dest.h):
 * paths are relative to it, "/"-separated, without "", "." or ".."
 * components; none is ever followed through a symlink or out of it.
 * Errors name the host path.
 */
export class HostDest {
	readonly #base: Buffer;
	#handle?: Promise<DestHandle>;
	#closed = false;

	/** @base is opened on first use, following a symlink: it is the caller's own. */
	constructor(base: string | Buffer) {
		this.#base = Buffer.isBuffer(base) ? base : Buffer.from(base);
	}

	/** The host path of @rel, as errors name it. */
	where(rel: Buffer): Buffer {
		return rel.length ? Buffer.concat([this.#base, Buffer.from('/'), rel]) : this.#base;
	}

	#dest(): Promise<DestHandle> {
		if (this.#closed)
			return Promise.reject(errnoError(-9 /* EBADF */, 'open', this.#base));
		this.#handle ??= fsCall(() => addon.hostDestOpen(this.#base), 'open', this.#base);
		return this.#handle;
	}

	async #call<T>(rel: Buffer, syscall: string, fn: (dest: DestHandle) => Promise<T>, dest?: ErrorPath): Promise<T> {
		const handle = await this.#dest();
		return fsCall(() => fn(handle), syscall, this.where(rel), dest);
	}

	/** A directory, or the one already there; a non-directory there is replaced. */
	mkdir(rel: Buffer): Promise<void> {
		return this.#call(rel, 'mkdir', (d) => addon.hostDestMkdir(d, rel));
	}

	/** A new regular file (mode 0600) replacing a non-directory there. */
	async create(rel: Buffer): Promise<HostFile> {
		const fd = await this.#call(rel, 'open', (d) => addon.hostDestCreate(d, rel));
		return new HostFile(fd, this.where(rel));
	}

	symlink(rel: Buffer, target: Buffer): Promise<void> {
		return this.#call(rel, 'symlink', (d) => addon.hostDestSymlink(d, rel, target), target);
	}

	/** A hard link to @existing, a path in this destination too. */
	link(rel: Buffer, existing: Buffer): Promise<void> {
		return this.#call(rel, 'link', (d) => addon.hostDestLink(d, rel, existing), this.where(existing));
	}

	/** A device node (mode has its S_IF* type), fifo or socket. */
	mknod(rel: Buffer, mode: number, major: number, minor: number): Promise<void> {
		return this.#call(rel, 'mknod', (d) => addon.hostDestMknod(d, rel, mode, major, minor));
	}

	/**
	 * Owner, xattrs, mode (-1: left, for symlinks) and times of the node
	 * at @rel, which must be of @type (S_IF* bits): 'ESTALE' if another
	 * kind of node is there now.
	 */
	setMeta(rel: Buffer, type: number, meta: NativePutMeta, lenient: boolean): Promise<HostLost> {
		return this.#call(rel, 'setmeta', (d) => addon.hostDestSetMeta(d, rel, type, meta, lenient));
	}

	/**
	 * Small files made whole (contents, then metadata as setMeta()), in one call, up to
	 * the first failure: what the whole ones lost, and the failure, whose
	 * error names its host path; the files after it are not begun.
	 */
	async putFiles(items: [Buffer, Buffer, NativePutMeta][], lenient: boolean): Promise<{ lost: HostLost; failed?: { rel: Buffer; error: Error } }> {
		const handle = await this.#dest();
		const r = await fsCall(() => addon.hostPutFiles(handle, items, lenient), 'open', this.#base);
		const lost = { chown: r.chown, xattrs: r.xattrs };
		if (!r.errno)
			return { lost };
		const rel = items[r.done]![0];
		return { lost, failed: { rel, error: errnoError(r.errno, 'open', this.where(rel)) } };
	}

	/** Lets go of the destination's descriptors (once calls in flight end). */
	async close(): Promise<void> {
		if (this.#closed)
			return;
		this.#closed = true;
		if (!this.#handle)
			return;
		const handle = await this.#handle.catch(() => undefined);
		if (handle)
			addon.hostDestCloseSync(handle);
	}
}
