/**
 * The host's filesystem as either side of a copy, under a base directory.
 *
 * As a sink it treats every name from the source as hostile (the source
 * may be a crafted image): each component is checked, and every node is
 * made relative to directory descriptors opened from the base without
 * following a symlink (HostDest, native/hostfs/dest.h), so nothing is
 * ever written through one, wherever it points, nor outside the base,
 * whatever another process swaps into it while the copy runs.
 */
import { constants as fsc, promises as fsp } from 'node:fs';
import type { TarTime } from '../tar/header.js';
import type { PutMeta } from '../lkl/copy-calls.js';
import { splitdev } from '../lkl/devices.js';
import { splitXattrNames } from '../lkl/xattr-ops.js';
import { errnoError } from '../lkl/errors.js';
import { HostDest, hostDataMap, hostGetxattr, hostListxattr, hostScan, type HostFile, type HostLost } from '../lkl/hostfs.js';
import { releaseContents } from '../lkl/scan-contents.js';
import { kindOfMode, S_IF, withoutAclAliases, type DataMap, type NodeMeta, type ScannedNode, type SinkTree, type SourceTree } from './tree.js';
import { writeRegions } from './sparse.js';
import { checkedComponents } from './names.js';
import { isSmall, scanLimits, scannedNodes } from './scanned.js';
import { SmallFiles } from './small-files.js';
import { CopyError } from './engine.js';
import { collect, readRegions, readWhole, ReadBuffers, type PositionalRead } from './read-chunks.js';

function timeOf(ns: bigint): TarTime {
	const sec = ns / 1000000000n;
	const nsec = Number(ns % 1000000000n);
	return nsec < 0 ? { sec: sec - 1n, nsec: nsec + 1e9 } : { sec, nsec };
}

/** Positional reads of a node:fs FileHandle, as read-chunks.ts takes them. */
function readsOf(fh: fsp.FileHandle): PositionalRead {
	return async (buffer, offset, length, position) => (await fh.read(buffer, offset, length, position)).bytesRead;
}

/** The host directory tree at @base, read as a copy source. */
export class HostSource implements SourceTree {
	readonly #base: Buffer;
	readonly #buffers = new ReadBuffers();

	constructor(base: string | Buffer) {
		this.#base = Buffer.isBuffer(base) ? base : Buffer.from(base);
	}

	#abs(path: Buffer): Buffer {
		return path.length ? Buffer.concat([this.#base, Buffer.from('/'), path]) : this.#base;
	}

	async list(dir: Buffer): Promise<Buffer[]> {
		return fsp.readdir(this.#abs(dir), { encoding: 'buffer' });
	}

	async meta(path: Buffer): Promise<NodeMeta> {
		const st = await fsp.lstat(this.#abs(path), { bigint: true });
		const rdev = splitdev(st.rdev);
		const dev = splitdev(st.dev);
		return {
			kind: kindOfMode(Number(st.mode)),
			mode: Number(st.mode) & 0o7777,
			uid: Number(st.uid),
			gid: Number(st.gid),
			size: st.size,
			atime: timeOf(st.atimeNs),
			mtime: timeOf(st.mtimeNs),
			ctime: timeOf(st.ctimeNs),
			rdevMajor: rdev.major,
			rdevMinor: rdev.minor,
			// As scan() names it, so that hard links match whichever gave the metadata.
			dev: `${dev.major}:${dev.minor}`,
			ino: st.ino,
			nlink: Number(st.nlink),
			blocks: st.blocks,
		};
	}

	async readlink(path: Buffer): Promise<Buffer> {
		return fsp.readlink(this.#abs(path), { encoding: 'buffer' });
	}

	async scan(dir: Buffer, contents: boolean): Promise<ScannedNode[]> {
		const entries = await hostScan(this.#abs(dir), ...scanLimits(contents));
		return scannedNodes(entries, (st) => `${st.devMajor}:${st.devMinor}`);
	}

	async xattrs(path: Buffer): Promise<Map<string, Buffer>> {
		const abs = this.#abs(path);
		const out = new Map<string, Buffer>();
		for (const name of withoutAclAliases(splitXattrNames(await hostListxattr(abs))))
			out.set(name, await hostGetxattr(abs, name));
		return out;
	}

	async dataMap(path: Buffer, meta: NodeMeta): Promise<DataMap | undefined> {
		const map = (await hostDataMap(this.#abs(path), meta.size)).map(([offset, length]) => ({ offset, length }));
		// One region from the start to the end is no hole at all.
		if (map.length === 1 && map[0].offset === 0n && map[0].length === meta.size)
			return undefined;
		return map;
	}

	async *readMap(path: Buffer, map: DataMap): AsyncIterable<Buffer> {
		const fh = await fsp.open(this.#abs(path), fsc.O_RDONLY | fsc.O_NOFOLLOW);
		try {
			yield* readRegions(readsOf(fh), map, this.#buffers);
		} finally {
			await fh.close();
		}
	}

	async *read(path: Buffer): AsyncIterable<Buffer> {
		const fh = await fsp.open(this.#abs(path), 'r');
		try {
			yield* readWhole(readsOf(fh), this.#buffers);
		} finally {
			await fh.close();
		}
	}
}

/** What a HostSink could not do, summarised rather than failing the copy. */
export interface HostSinkWarnings {
	chown: number;
	mknod: number;
	xattr: number;
}

/** The metadata as the addon sets it; mode -1 leaves it (symlinks have none). */
function putMeta(meta: NodeMeta, xattrs: Map<string, Buffer>): PutMeta {
	return {
		uid: meta.uid, gid: meta.gid, mode: meta.kind === 'symlink' ? -1 : meta.mode,
		atime: [Number(meta.atime.sec), meta.atime.nsec] as const,
		mtime: [Number(meta.mtime.sec), meta.mtime.nsec] as const,
		xattrs: [...xattrs],
	};
}

/** A host directory as the destination of a copy. */
export class HostSink implements SinkTree {
	readonly #dest: HostDest;
	readonly #root = process.getuid?.() === 0;
	readonly warnings: HostSinkWarnings = { chown: 0, mknod: 0, xattr: 0 };
	/** Device nodes not made (not root): no metadata for them, no links to them. */
	readonly #skipped = new Set<string>();
	/** Files made whole by a batch: finish() has nothing left to do for them. */
	readonly #finished = new Set<string>();
	/** The big file just written, still open: finish() sets its metadata through it. */
	#open?: { key: string; file: HostFile };
	/** Small files not yet written: [path, contents, metadata]. */
	readonly #batch = new SmallFiles<[Buffer, Buffer, PutMeta]>();

	constructor(base: string) {
		this.#dest = new HostDest(base);
	}

	/**
	 * Runs a write of @path, saying so in one line when a non-directory (a
	 * symlink, say) stands where a directory on the way was, or the node
	 * was swapped for another kind before its metadata was set.
	 */
	async #write<T>(path: Buffer, op: () => Promise<T>): Promise<T> {
		checkedComponents(path);
		try {
			return await op();
		} catch (err) {
			const code = (err as { code?: string }).code;
			if (code === 'ENOTDIR')
				throw Object.assign(new Error(`refusing to write through a non-directory on the way to ${this.#dest.where(path).toString()}`), { code, cause: err });
			if (code === 'ESTALE')
				throw Object.assign(new Error(`${this.#dest.where(path).toString()} changed while being copied: another kind of file is there now`), { code, cause: err });
			throw err;
		}
	}

	#count(lost: HostLost): void {
		this.warnings.chown += lost.chown;
		this.warnings.xattr += lost.xattrs;
	}

	/**
	 * Writes the small files waiting, in one call; a failure names the
	 * file the batch stopped at, as #write() words it.
	 */
	async flush(): Promise<void> {
		const batch = this.#batch.take();
		if (batch.length === 0)
			return;
		let result;
		try {
			result = await this.#dest.putFiles(batch, !this.#root);
		} catch (err) {
			// The destination itself (it cannot be opened): named at the first file, as a write of it alone would be.
			throw new CopyError(batch[0]![0], err);
		} finally {
			for (const [, contents] of batch)
				releaseContents(contents);
		}
		const { lost, failed } = result;
		this.#count(lost);
		if (failed) {
			const { rel, error } = failed;
			throw new CopyError(rel, await this.#write(rel, () => Promise.reject(error)).catch((err: unknown) => err));
		}
	}

	/** Closes the big file left open, if any (a copy that failed before finish()). */
	async #closeOpen(): Promise<void> {
		const open = this.#open;
		this.#open = undefined;
		await open?.file.close();
	}

	async mkdir(path: Buffer): Promise<void> {
		await this.flush();
		await this.#write(path, () => this.#dest.mkdir(path));
	}

	async file(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, data: AsyncIterable<Buffer>): Promise<void> {
		// A small file is made whole, metadata and all, with others.
		if (isSmall(meta.size) && path.length > 0) {
			checkedComponents(path);
			const contents = await collect(data);
			this.#finished.add(path.toString('latin1'));
			if (this.#batch.add([path, contents, putMeta(meta, xattrs)], contents.length))
				await this.flush();
			return;
		}
		const file = await this.#create(path);
		try {
			for await (const chunk of data)
				await file.write(chunk);
		} catch (err) {
			await this.#closeOpen();
			throw err;
		}
	}

	/** A new file, left open for finish(). */
	async #create(path: Buffer): Promise<HostFile> {
		await this.flush();
		await this.#closeOpen();
		const file = await this.#write(path, () => this.#dest.create(path));
		this.#open = { key: path.toString('latin1'), file };
		return file;
	}

	async sparseFile(path: Buffer, meta: NodeMeta, _x: Map<string, Buffer>, map: DataMap, data: AsyncIterable<Buffer>): Promise<void> {
		// node:fs takes offsets and lengths as numbers: past 2^53 bytes (8
		// PiB, more than a host filesystem holds in a file) they would be
		// wrong, so such a file fails as the host would fail it.
		if (meta.size > BigInt(Number.MAX_SAFE_INTEGER))
			throw errnoError(-27 /* EFBIG */, 'ftruncate', this.#dest.where(path));
		const file = await this.#create(path);
		try {
			await writeRegions(map, data, async (buf, off, n, pos) => {
				await file.write(buf, off, n, pos);
				return n;
			});
			await file.truncate(Number(meta.size));
		} catch (err) {
			await this.#closeOpen();
			throw err;
		}
	}

	async symlink(path: Buffer, target: Buffer): Promise<void> {
		await this.flush();
		await this.#write(path, () => this.#dest.symlink(path, target));
	}

	async link(path: Buffer, existing: Buffer): Promise<void> {
		if (this.#skipped.has(existing.toString('latin1'))) {
			this.#skipped.add(path.toString('latin1'));
			this.warnings.mknod++;
			return;
		}
		checkedComponents(existing);
		await this.flush();
		await this.#write(path, () => this.#dest.link(path, existing));
	}

	async special(path: Buffer, meta: NodeMeta): Promise<void> {
		await this.flush();
		try {
			await this.#write(path, () => this.#dest.mknod(path, S_IF[meta.kind] | 0o600, meta.rdevMajor, meta.rdevMinor));
		} catch (err) {
			if ((err as { code?: string }).code !== 'EPERM')	// not root
				throw err;
			this.warnings.mknod++;
			this.#skipped.add(path.toString('latin1'));
		}
	}

	async finish(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		const key = path.toString('latin1');
		if (this.#skipped.has(key) || this.#finished.delete(key))
			return;
		await this.flush();
		const lenient = !this.#root;
		if (this.#open?.key === key) {
			const { file } = this.#open;
			try {
				this.#count(await file.setMeta(putMeta(meta, xattrs), lenient));
			} finally {
				await this.#closeOpen();
			}
			return;
		}
		this.#count(await this.#write(path, () => this.#dest.setMeta(path, S_IF[meta.kind], putMeta(meta, xattrs), lenient)));
	}

	async close(): Promise<void> {
		try {
			await this.flush();
		} finally {
			await this.#closeOpen();
			await this.#dest.close();
		}
	}
}
