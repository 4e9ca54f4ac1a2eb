/**
 * The host's filesystem as either side of a copy, under a base directory.
 *
 * As a sink it treats every name from the source as hostile (the source
 * may be a crafted image): a path is joined under the base only after
 * checking each component, and no component that already exists may be a
 * symlink, so nothing is ever written through one, wherever it points.
 */
import { constants as fsc, promises as fsp } from 'node:fs';
import type { TarTime } from '../tar/header.js';
import { kindOfMode, S_IF, withoutAclAliases, type DataMap, type NodeMeta, type ScannedNode, type SinkTree, type SourceTree } from './tree.js';
import { host } from './hostfs-native.js';
import { writeRegions } from './sparse.js';
import { isSmall, scanLimits, scannedNodes } from './scanned.js';

const CHUNK = 1 << 20;

/** glibc's dev_t encoding (what node:fs reports) split into major and minor. */
function major(dev: bigint): number {
	return Number((dev >> 8n) & 0xfffn) | Number((dev >> 32n) & ~0xfffn);
}

function minor(dev: bigint): number {
	return Number(dev & 0xffn) | Number((dev >> 12n) & ~0xffn);
}

function timeOf(ns: bigint): TarTime {
	const sec = ns / 1000000000n;
	const nsec = Number(ns % 1000000000n);
	return nsec < 0 ? { sec: sec - 1n, nsec: nsec + 1e9 } : { sec, nsec };
}

function splitXattrNames(list: Buffer): string[] {
	return list.toString('utf8').split('\0').filter((n) => n.length > 0);
}

/** The host directory tree at @base, read as a copy source. */
export class HostSource implements SourceTree {
	readonly #base: Buffer;

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
		return {
			kind: kindOfMode(Number(st.mode)),
			mode: Number(st.mode) & 0o7777,
			uid: Number(st.uid),
			gid: Number(st.gid),
			size: st.size,
			atime: timeOf(st.atimeNs),
			mtime: timeOf(st.mtimeNs),
			ctime: timeOf(st.ctimeNs),
			rdevMajor: major(st.rdev),
			rdevMinor: minor(st.rdev),
			// As scan() names it, so that hard links match whichever gave the metadata.
			dev: `${major(st.dev)}:${minor(st.dev)}`,
			ino: st.ino,
			nlink: Number(st.nlink),
			blocks: st.blocks,
		};
	}

	async readlink(path: Buffer): Promise<Buffer> {
		return fsp.readlink(this.#abs(path), { encoding: 'buffer' });
	}

	async scan(dir: Buffer, contents: boolean): Promise<ScannedNode[]> {
		const entries = await host.hostScan(this.#abs(dir), ...scanLimits(contents));
		return scannedNodes(entries, (st) => `${st.devMajor}:${st.devMinor}`);
	}

	async xattrs(path: Buffer): Promise<Map<string, Buffer>> {
		const abs = this.#abs(path);
		const out = new Map<string, Buffer>();
		for (const name of withoutAclAliases(splitXattrNames(await host.hostListxattr(abs, false))))
			out.set(name, await host.hostGetxattr(abs, name, false));
		return out;
	}

	async dataMap(path: Buffer, meta: NodeMeta): Promise<DataMap | undefined> {
		const map = (await host.hostDataMap(this.#abs(path), meta.size)).map(([offset, length]) => ({ offset, length }));
		// One region from the start to the end is no hole at all.
		if (map.length === 1 && map[0].offset === 0n && map[0].length === meta.size)
			return undefined;
		return map;
	}

	async *readMap(path: Buffer, map: DataMap): AsyncIterable<Buffer> {
		const fh = await fsp.open(this.#abs(path), fsc.O_RDONLY | fsc.O_NOFOLLOW);
		try {
			for (const { offset, length } of map) {
				for (let done = 0n; done < length;) {
					const want = Number(length - done < BigInt(CHUNK) ? length - done : BigInt(CHUNK));
					const { bytesRead, buffer } = await fh.read(Buffer.allocUnsafe(want), 0, want, Number(offset + done));
					if (bytesRead === 0)
						return;	// shrank while read: the sink pads
					yield buffer.subarray(0, bytesRead);
					done += BigInt(bytesRead);
				}
			}
		} finally {
			await fh.close();
		}
	}

	async *read(path: Buffer): AsyncIterable<Buffer> {
		const fh = await fsp.open(this.#abs(path), 'r');
		try {
			for (;;) {
				const buf = Buffer.allocUnsafe(CHUNK);
				const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
				if (bytesRead === 0)
					break;
				yield buf.subarray(0, bytesRead);
			}
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

/** A host directory as the destination of a copy. */
export class HostSink implements SinkTree {
	readonly #base: string;
	readonly #root = process.getuid?.() === 0;
	readonly warnings: HostSinkWarnings = { chown: 0, mknod: 0, xattr: 0 };
	/** Device nodes not made (not root): no metadata for them, no links to them. */
	readonly #skipped = new Set<string>();
	/** Files hostPutFile() made whole: finish() has nothing left to do for them. */
	readonly #finished = new Set<string>();

	constructor(base: string) {
		this.#base = base;
	}

	/** Refuses names that could leave the base: empty, "." or "..". */
	#checkNames(path: Buffer): string[] {
		const parts = path.length ? path.toString('latin1').split('/') : [];
		for (const part of parts) {
			if (part === '' || part === '.' || part === '..' || part.includes('\0'))
				throw Object.assign(new Error(`refusing unsafe path ${JSON.stringify(path.toString())}`), { code: 'EPERM' });
		}
		return parts;
	}

	/**
	 * The host path for @path, refusing anything that could leave the base:
	 * unsafe names, and existing symlinks on the way.
	 */
	async #safe(path: Buffer): Promise<Buffer> {
		const parts = this.#checkNames(path);
		let abs = Buffer.from(this.#base);
		for (let i = 0; i < parts.length; i++) {
			abs = Buffer.concat([abs, Buffer.from('/'), Buffer.from(parts[i], 'latin1')]);
			if (i < parts.length - 1) {
				const st = await fsp.lstat(abs).catch(() => null);
				if (st && !st.isDirectory())
					throw Object.assign(new Error(`refusing to write through ${abs.toString()}: not a directory`), { code: 'ENOTDIR' });
			}
		}
		return abs;
	}

	/** Removes a non-directory in the way, as cp does before writing. */
	async #clear(abs: Buffer): Promise<void> {
		const st = await fsp.lstat(abs).catch(() => null);
		if (st && !st.isDirectory())
			await fsp.unlink(abs);
	}

	async mkdir(path: Buffer): Promise<void> {
		const abs = await this.#safe(path);
		const st = await fsp.lstat(abs).catch(() => null);
		if (st?.isDirectory())
			return;
		if (st)
			await fsp.unlink(abs);
		await fsp.mkdir(abs, { mode: 0o700 });
	}

	async file(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, data: AsyncIterable<Buffer>): Promise<void> {
		// A small file is made whole, metadata and all, in one call.
		if (isSmall(meta.size) && path.length > 0) {
			this.#checkNames(path);
			const chunks: Buffer[] = [];
			for await (const chunk of data)
				chunks.push(chunk);
			const putMeta = {
				uid: meta.uid, gid: meta.gid, mode: meta.mode,
				atime: [Number(meta.atime.sec), meta.atime.nsec] as const,
				mtime: [Number(meta.mtime.sec), meta.mtime.nsec] as const,
				xattrs: [...xattrs],
			};
			try {
				const lost = await host.hostPutFile(Buffer.from(this.#base), path, Buffer.concat(chunks), putMeta, !this.#root);
				this.warnings.chown += lost.chown;
				this.warnings.xattr += lost.xattrs;
			} catch (err) {
				const e = err as { errno?: number; code?: string; message?: string };
				if (e.errno === -20)	// ENOTDIR
					throw Object.assign(new Error(`refusing to write through a non-directory on the way to ${path.toString()}`), { code: 'ENOTDIR' });
				// Named by its host path, as node:fs names what it cannot write.
				const where = Buffer.concat([Buffer.from(this.#base), Buffer.from('/'), path]).toString();
				throw Object.assign(new Error(`${e.message ?? String(err)}, writing '${where}'`), { code: e.code, errno: e.errno, cause: err });
			}
			this.#finished.add(path.toString('latin1'));
			return;
		}
		const abs = await this.#safe(path);
		await this.#clear(abs);
		// O_EXCL|O_NOFOLLOW: never reuse or follow what is already there.
		const fh = await fsp.open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
		try {
			for await (const chunk of data)
				await fh.write(chunk);
		} finally {
			await fh.close();
		}
	}

	async sparseFile(path: Buffer, meta: NodeMeta, _x: Map<string, Buffer>, map: DataMap, data: AsyncIterable<Buffer>): Promise<void> {
		const abs = await this.#safe(path);
		await this.#clear(abs);
		const fh = await fsp.open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
		try {
			await writeRegions(map, data, async (buf, off, n, pos) => (await fh.write(buf, off, n, pos)).bytesWritten);
			await fh.truncate(Number(meta.size));
		} finally {
			await fh.close();
		}
	}

	async symlink(path: Buffer, target: Buffer): Promise<void> {
		const abs = await this.#safe(path);
		await this.#clear(abs);
		await fsp.symlink(target, abs);
	}

	async link(path: Buffer, existing: Buffer): Promise<void> {
		if (this.#skipped.has(existing.toString('latin1'))) {
			this.#skipped.add(path.toString('latin1'));
			this.warnings.mknod++;
			return;
		}
		const abs = await this.#safe(path);
		await this.#clear(abs);
		await fsp.link(await this.#safe(existing), abs);
	}

	async special(path: Buffer, meta: NodeMeta): Promise<void> {
		const abs = await this.#safe(path);
		await this.#clear(abs);
		try {
			await host.hostMknod(abs, S_IF[meta.kind] | 0o600, meta.rdevMajor, meta.rdevMinor);
		} catch (err) {
			if ((err as { errno?: number }).errno !== -1)	// EPERM: not root
				throw err;
			this.warnings.mknod++;
			this.#skipped.add(path.toString('latin1'));
		}
	}

	async finish(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		if (this.#skipped.has(path.toString('latin1')) || this.#finished.delete(path.toString('latin1')))
			return;
		const abs = await this.#safe(path);
		const isLink = meta.kind === 'symlink';
		try {
			await fsp.lchown(abs, meta.uid, meta.gid);
		} catch (err) {
			if (this.#root || (err as NodeJS.ErrnoException).code !== 'EPERM')
				throw err;
			this.warnings.chown++;
		}
		for (const [name, value] of xattrs) {
			try {
				await host.hostSetxattr(abs, name, value, 0, false);
			} catch (err) {
				const errno = (err as { errno?: number }).errno;
				// EPERM (trusted.* as non-root), ENOTSUP (host fs lacks them)
				if (errno !== -1 && errno !== -95)
					throw err;
				this.warnings.xattr++;
			}
		}
		// After chown, which clears set-id bits; symlinks have no mode.
		if (!isLink)
			await fsp.chmod(abs, meta.mode);
		await host.hostUtimens(abs, Number(meta.atime.sec), meta.atime.nsec, Number(meta.mtime.sec), meta.mtime.nsec, false);
	}

	async close(): Promise<void> {
		// Nothing buffered.
	}
}
