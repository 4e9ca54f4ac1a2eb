/**
 * A mounted image as either side of a copy.  Works on the mount's root
 * descriptor through the addon, so every path stays inside the mount.
 */
import { constants as fsc } from 'node:fs';
import { native, type NativePutMeta } from '../lkl/native.js';
import { isSmall, metaFromStatx, scanLimits, scannedNodes } from './scanned.js';
import { writeRegions } from './sparse.js';
import { S_IF, withoutAclAliases, type DataMap, type NodeMeta, type ScannedNode, type SinkTree, type SourceTree } from './tree.js';

const CHUNK = 1 << 20;
const O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0o100, O_EXCL = 0o200, O_NOFOLLOW = 0o400000;
const SEEK_DATA = 3, SEEK_HOLE = 4, ENXIO = -6;

/** The data regions of the open file @fd of @size bytes, by SEEK_DATA/SEEK_HOLE. */
async function dataRegions(fd: number, size: bigint): Promise<DataMap> {
	const map: DataMap = [];
	let off = 0n;
	while (off < size) {
		let data: number;
		try {
			data = await native.lseek(fd, off, SEEK_DATA);
		} catch (err) {
			if ((err as { errno?: number }).errno === ENXIO)
				break;	// only a hole is left
			throw err;
		}
		const hole = BigInt(await native.lseek(fd, data, SEEK_HOLE));
		map.push({ offset: BigInt(data), length: hole - BigInt(data) });
		off = hole;
	}
	return map;
}

function splitXattrNames(list: Buffer): string[] {
	return list.toString('utf8').split('\0').filter((n) => n.length > 0);
}

function abs(path: Buffer): Buffer {
	return Buffer.concat([Buffer.from('/'), path]);
}

/** A mounted image read as a copy source. */
export class ImageSource implements SourceTree {
	readonly #root: number;
	readonly #device: string;

	/** @param root the mount's root descriptor; @param device names it for hard-link keys */
	constructor(root: number, device: string) {
		this.#root = root;
		this.#device = device;
	}

	async list(dir: Buffer): Promise<Buffer[]> {
		return (await native.readdir(this.#root, abs(dir))).map(([name]) => name);
	}

	async meta(path: Buffer): Promise<NodeMeta> {
		return metaFromStatx(await native.statx(this.#root, abs(path), false), this.#device);
	}

	async scan(dir: Buffer, contents: boolean): Promise<ScannedNode[]> {
		const entries = await native.scan(this.#root, abs(dir), ...scanLimits(contents));
		return scannedNodes(entries, () => this.#device);
	}

	async readlink(path: Buffer): Promise<Buffer> {
		return native.readlink(this.#root, abs(path));
	}

	async xattrs(path: Buffer): Promise<Map<string, Buffer>> {
		const out = new Map<string, Buffer>();
		// The top has no parent to name it by; it is never a symlink.
		const follow = path.length === 0;
		let list: Buffer;
		try {
			list = await native.listxattr(this.#root, abs(path), follow);
		} catch (err) {
			if ((err as { errno?: number }).errno === -95)	// EOPNOTSUPP: vfat
				return out;
			throw err;
		}
		for (const name of withoutAclAliases(splitXattrNames(list)))
			out.set(name, await native.getxattr(this.#root, abs(path), name, follow));
		return out;
	}

	async dataMap(path: Buffer, meta: NodeMeta): Promise<DataMap | undefined> {
		const fd = await native.open(this.#root, abs(path), O_RDONLY | O_NOFOLLOW, 0);
		try {
			const map = await dataRegions(fd, meta.size);
			// One region from the start to the end is no hole at all.
			if (map.length === 1 && map[0].offset === 0n && map[0].length === meta.size)
				return undefined;
			return map;
		} finally {
			await native.close(fd);
		}
	}

	async *readMap(path: Buffer, map: DataMap): AsyncIterable<Buffer> {
		const fd = await native.open(this.#root, abs(path), O_RDONLY | O_NOFOLLOW, 0);
		try {
			for (const { offset, length } of map) {
				for (let done = 0n; done < length;) {
					const want = Number(length - done < BigInt(CHUNK) ? length - done : BigInt(CHUNK));
					const buf = Buffer.allocUnsafe(want);
					const n = await native.read(fd, buf, 0, want, Number(offset + done));
					if (n === 0)
						return;	// shrank while read: the sink pads
					yield buf.subarray(0, n);
					done += BigInt(n);
				}
			}
		} finally {
			await native.close(fd);
		}
	}

	async *read(path: Buffer): AsyncIterable<Buffer> {
		const fd = await native.open(this.#root, abs(path), O_RDONLY | O_NOFOLLOW, 0);
		try {
			for (;;) {
				const buf = Buffer.allocUnsafe(CHUNK);
				const n = await native.read(fd, buf, 0, CHUNK, -1);
				if (n === 0)
					break;
				yield buf.subarray(0, n);
			}
		} finally {
			await native.close(fd);
		}
	}
}

export interface ImageSinkOptions {
	/** Force every node's owner. */
	uid?: number;
	gid?: number;
	/** Label every node with this security.selinux context. */
	selinux?: string;
}

/** A mounted image as the destination of a copy. */
export class ImageSink implements SinkTree {
	readonly #root: number;
	readonly #options: ImageSinkOptions;
	/** Files putFile() made whole: finish() has nothing left to do for them. */
	readonly #finished = new Set<string>();

	constructor(root: number, options: ImageSinkOptions = {}) {
		this.#root = root;
		this.#options = options;
	}

	async #clear(path: Buffer): Promise<void> {
		try {
			const st = await native.statx(this.#root, abs(path), false);
			if ((st.mode & fsc.S_IFMT) !== fsc.S_IFDIR)
				await native.unlink(this.#root, abs(path));
		} catch (err) {
			if ((err as { errno?: number }).errno !== -2)
				throw err;
		}
	}

	async mkdir(path: Buffer, meta: NodeMeta): Promise<void> {
		if (path.length === 0)
			return;	// the mount's root
		// Owner rwx while the copy fills it; finish() sets the exact mode.
		// A directory that never gets finish() (a parent a tar archive
		// leaves out) keeps this one, as mkdir -p gives it.
		const mode = 0o700 | (meta.mode & 0o777);
		try {
			await native.mkdir(this.#root, abs(path), mode);
		} catch (err) {
			if ((err as { errno?: number }).errno !== -17)	// EEXIST
				throw err;
			const st = await native.statx(this.#root, abs(path), false);
			if ((st.mode & fsc.S_IFMT) !== fsc.S_IFDIR) {
				await native.unlink(this.#root, abs(path));
				await native.mkdir(this.#root, abs(path), mode);
			}
		}
	}

	async file(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, data: AsyncIterable<Buffer>): Promise<void> {
		// A small file is made whole, metadata and all, in one call.
		if (isSmall(meta.size)) {
			const chunks: Buffer[] = [];
			for await (const chunk of data)
				chunks.push(chunk);
			await native.putFile(this.#root, abs(path), Buffer.concat(chunks), this.#putMeta(meta, xattrs));
			this.#finished.add(path.toString('latin1'));
			return;
		}
		await this.#clear(path);
		const fd = await native.open(this.#root, abs(path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
		try {
			for await (const chunk of data) {
				let off = 0;
				while (off < chunk.length)
					off += await native.write(fd, chunk, off, chunk.length - off, -1);
			}
		} finally {
			await native.close(fd);
		}
	}

	async sparseFile(path: Buffer, meta: NodeMeta, _x: Map<string, Buffer>, map: DataMap, data: AsyncIterable<Buffer>): Promise<void> {
		await this.#clear(path);
		const fd = await native.open(this.#root, abs(path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
		try {
			await writeRegions(map, data, (buf, off, n, pos) => native.write(fd, buf, off, n, pos));
			await native.ftruncate(fd, meta.size);
		} finally {
			await native.close(fd);
		}
	}

	async symlink(path: Buffer, target: Buffer): Promise<void> {
		await this.#clear(path);
		await native.symlink(this.#root, target, abs(path));
	}

	async link(path: Buffer, existing: Buffer): Promise<void> {
		await this.#clear(path);
		await native.link(this.#root, abs(existing), abs(path));
	}

	async special(path: Buffer, meta: NodeMeta): Promise<void> {
		await this.#clear(path);
		await native.mknod(this.#root, abs(path), S_IF[meta.kind] | 0o600, meta.rdevMajor, meta.rdevMinor);
	}

	#putMeta(meta: NodeMeta, xattrs: Map<string, Buffer>): NativePutMeta {
		const all = new Map(xattrs);
		if (this.#options.selinux !== undefined)
			all.set('security.selinux', Buffer.from(`${this.#options.selinux}\0`));
		return {
			uid: this.#options.uid ?? meta.uid,
			gid: this.#options.gid ?? meta.gid,
			mode: meta.kind === 'symlink' ? -1 : meta.mode,
			atime: [Number(meta.atime.sec), meta.atime.nsec],
			mtime: [Number(meta.mtime.sec), meta.mtime.nsec],
			xattrs: [...all],
		};
	}

	async finish(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		if (this.#finished.delete(path.toString('latin1')))
			return;
		// The top of the copy may be the mount's root, which has no name to not follow.
		await native.setMeta(this.#root, abs(path), path.length === 0, this.#putMeta(meta, xattrs));
	}

	async close(): Promise<void> {
		// The mount's unmount syncs.
	}
}

