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
import { kindOfMode, S_IF, withoutAclAliases, type NodeMeta, type SinkTree, type SourceTree } from './tree.js';
import { host } from './host-native.js';

const CHUNK = 1 << 20;

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
			rdevMajor: Number((st.rdev >> 8n) & 0xfffn) | Number((st.rdev >> 32n) & ~0xfffn),
			rdevMinor: Number(st.rdev & 0xffn) | Number((st.rdev >> 12n) & ~0xffn),
			dev: st.dev.toString(),
			ino: st.ino,
			nlink: Number(st.nlink),
		};
	}

	async readlink(path: Buffer): Promise<Buffer> {
		return fsp.readlink(this.#abs(path), { encoding: 'buffer' });
	}

	async xattrs(path: Buffer): Promise<Map<string, Buffer>> {
		const abs = this.#abs(path);
		const out = new Map<string, Buffer>();
		for (const name of withoutAclAliases(splitXattrNames(await host.hostListxattr(abs, false))))
			out.set(name, await host.hostGetxattr(abs, name, false));
		return out;
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

	constructor(base: string) {
		this.#base = base;
	}

	/**
	 * The host path for @path, refusing anything that could leave the base:
	 * empty, "." or ".." components, and existing symlinks on the way.
	 */
	async #safe(path: Buffer): Promise<Buffer> {
		const parts = path.length ? path.toString('latin1').split('/') : [];
		let abs = Buffer.from(this.#base);
		for (let i = 0; i < parts.length; i++) {
			const part = parts[i];
			if (part === '' || part === '.' || part === '..' || part.includes('\0'))
				throw Object.assign(new Error(`refusing unsafe path ${JSON.stringify(path.toString())}`), { code: 'EPERM' });
			abs = Buffer.concat([abs, Buffer.from('/'), Buffer.from(part, 'latin1')]);
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

	async file(path: Buffer, _meta: NodeMeta, _x: Map<string, Buffer>, data: AsyncIterable<Buffer>): Promise<void> {
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
		if (this.#skipped.has(path.toString('latin1')))
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
