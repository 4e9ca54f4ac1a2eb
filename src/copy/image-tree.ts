/**
 * A mounted image as either side of a copy, through the mount's calls for
 * the copy engine (src/lkl/copy-calls.ts): every path stays inside the
 * mount, and an unmount waits for the calls in flight.
 */
import { constants as fsc } from 'node:fs';
import { CopyCalls, PutKind, type ImageFile, type PutMeta, type PutNode } from '../lkl/copy-calls.js';
import { releaseContents } from '../lkl/scan-contents.js';
import { CopyError } from './engine.js';
import type { Mount } from '../lkl/mount.js';
import { collect, readRegions, readWhole, ReadBuffers } from './read-chunks.js';
import { isSmall, metaFromStatx, scanLimits, scannedNodes } from './scanned.js';
import { SmallFiles } from './small-files.js';
import { writeRegions } from './sparse.js';
import { S_IF, withoutAclAliases, type DataMap, type NodeMeta, type ScannedNode, type SinkTree, type SourceTree } from './tree.js';

/** The kernel's path for a copy path: "" is the mount's root. */
function abs(path: Buffer): Buffer {
	return Buffer.concat([Buffer.from('/'), path]);
}

function hasCode(err: unknown, code: string): boolean {
	return (err as { code?: unknown }).code === code;
}

/** Runs @body on @file and closes it, whatever happens. */
async function using<T>(file: ImageFile, body: (file: ImageFile) => Promise<T>): Promise<T> {
	try {
		return await body(file);
	} finally {
		await file.close();
	}
}

/** A mounted image read as a copy source. */
export class ImageSource implements SourceTree {
	readonly #calls: CopyCalls;
	readonly #device: string;
	readonly #buffers = new ReadBuffers();
	/*
	 * An image's scans run in the library kernel while the walk's sink
	 * works in JavaScript (an archive) or in the host's kernel (cpfromfs),
	 * so they overlap.  (Scans of the host's files ahead of a walk that
	 * writes into an image made cptofs slower: the library kernel's
	 * writes are its bottleneck, and the scans took CPU from it.)
	 */
	readonly scanAhead = 3;

	/** Hard links are found by inode within the mount, whose path names its device. */
	constructor(mount: Mount) {
		this.#calls = new CopyCalls(mount);
		this.#device = mount.path;
	}

	list(dir: Buffer): Promise<Buffer[]> {
		return this.#calls.list(abs(dir));
	}

	async meta(path: Buffer): Promise<NodeMeta> {
		return metaFromStatx(await this.#calls.lstat(abs(path)), this.#device);
	}

	async scan(dir: Buffer, contents: boolean): Promise<ScannedNode[]> {
		const entries = await this.#calls.scan(abs(dir), ...scanLimits(contents));
		return scannedNodes(entries, () => this.#device);
	}

	readlink(path: Buffer): Promise<Buffer> {
		return this.#calls.readlink(abs(path));
	}

	async xattrs(path: Buffer): Promise<Map<string, Buffer>> {
		const out = new Map<string, Buffer>();
		// The top has no parent to name it by; it is never a symlink.
		const follow = path.length === 0;
		let names: string[];
		try {
			names = await this.#calls.listxattr(abs(path), follow);
		} catch (err) {
			if (hasCode(err, 'ENOTSUP'))	// vfat
				return out;
			throw err;
		}
		for (const name of withoutAclAliases(names))
			out.set(name, await this.#calls.getxattr(abs(path), name, follow));
		return out;
	}

	async dataMap(path: Buffer, meta: NodeMeta): Promise<DataMap | undefined> {
		const map = await this.#calls.dataMap(abs(path), meta.size);
		// One region from the start to the end is no hole at all.
		if (map.length === 1 && map[0].offset === 0n && map[0].length === meta.size)
			return undefined;
		return map;
	}

	async *readMap(path: Buffer, map: DataMap): AsyncIterable<Buffer> {
		const file = await this.#calls.openRead(abs(path));
		try {
			yield* readRegions((buf, off, n, pos) => file.read(buf, off, n, pos), map, this.#buffers);
		} finally {
			await file.close();
		}
	}

	async *read(path: Buffer): AsyncIterable<Buffer> {
		const file = await this.#calls.openRead(abs(path));
		try {
			yield* readWhole((buf, off, n, pos) => file.read(buf, off, n, pos), this.#buffers);
		} finally {
			await file.close();
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

/*
 * Filesystems that keep no owners and only a read-only bit of the mode:
 * their kernels refuse a chown to anyone but the mount's owner and most
 * chmods (EPERM), so a copy of a user's files failed at the first one.
 * Their owners and modes are left as the mount gives them.
 */
const OWNERLESS = new Set(['vfat', 'msdos', 'exfat']);

/** No data: a directory's, or a node's whose metadata alone is set. */
const NO_DATA = Buffer.alloc(0);

/**
 * A mounted image as the destination of a copy.  Directories, small
 * files, symbolic links and the metadata of directories are written in
 * batches, in the order the walk gives them (native/kernel/put.c): a tree
 * is mostly the cost of the trips to the kernel's thread, a batch one
 * trip for many nodes.  Every other step writes the batch first, so a
 * directory exists before a large file goes into it, and a hard link's
 * target before the link.
 */
export class ImageSink implements SinkTree {
	readonly #calls: CopyCalls;
	readonly #options: ImageSinkOptions;
	/** Nodes made whole by a batch: finish() has nothing left to do for them. */
	readonly #finished = new Set<string>();
	/** Nodes not yet written, in order. */
	readonly #batch = new SmallFiles<PutNode>();
	readonly #ownerless: boolean;
	readonly #fsType: string;

	constructor(mount: Mount, options: ImageSinkOptions = {}) {
		this.#calls = new CopyCalls(mount);
		this.#options = options;
		this.#fsType = mount.fsType;
		this.#ownerless = OWNERLESS.has(mount.fsType);
	}

	/** Holds @node for the next batch, which goes once it is full. */
	async #put(node: PutNode): Promise<void> {
		if (this.#batch.add(node, node[2].length))
			await this.flush();
	}

	/** Writes the nodes waiting; a failure names the node. */
	async flush(): Promise<void> {
		const batch = this.#batch.take();
		if (batch.length === 0)
			return;
		try {
			await this.#calls.putNodes(batch);
		} catch (err) {
			// Not the node the walk is at: the one the batch stopped at.
			const at = (err as { putIndex?: unknown }).putIndex;
			const failed = typeof at === 'number' ? batch[at] : undefined;
			if (!failed)
				throw err;
			const [kind, path] = failed;
			throw new CopyError(path.subarray(1), kind === PutKind.Symlink ? this.#cannotHoldError('symbolic links', err) : err);
		} finally {
			for (const [kind, , contents] of batch) {
				if (kind === PutKind.File)
					releaseContents(contents);
			}
		}
	}

	/** Removes a non-directory in the way, as cp does before writing. */
	async #clear(path: Buffer): Promise<void> {
		await this.flush();
		try {
			const st = await this.#calls.lstat(abs(path));
			if ((st.mode & fsc.S_IFMT) !== fsc.S_IFDIR)
				await this.#calls.unlink(abs(path));
		} catch (err) {
			if (!hasCode(err, 'ENOENT'))
				throw err;
		}
	}

	async mkdir(path: Buffer, meta: NodeMeta): Promise<void> {
		if (path.length === 0)
			return;	// the mount's root
		// Owner rwx while the copy fills it; finish() sets the exact mode.
		// A directory that never gets finish() (a parent a tar archive
		// leaves out) keeps this one, as mkdir -p gives it.  One already
		// there is kept; a non-directory in the way is replaced.
		const mode = 0o700 | (meta.mode & 0o777);
		await this.#put([PutKind.Dir, abs(path), NO_DATA, { uid: 0xffffffff, gid: 0xffffffff, mode, atime: [0, 0], mtime: [0, 0], xattrs: [] }]);
	}

	async file(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, data: AsyncIterable<Buffer>): Promise<void> {
		// A small file is made whole, metadata and all, with others.
		if (isSmall(meta.size)) {
			const contents = await collect(data);
			this.#finished.add(path.toString('latin1'));
			await this.#put([PutKind.File, abs(path), contents, this.#putMeta(meta, xattrs)]);
			return;
		}
		await this.#clear(path);
		const file = await this.#calls.create(abs(path));
		await using(file, async () => {
			let at = 0;
			for await (const chunk of data) {
				for (let off = 0; off < chunk.length;)
					off += await file.write(chunk, off, chunk.length - off, at + off);
				at += chunk.length;
			}
		});
	}

	async sparseFile(path: Buffer, meta: NodeMeta, _x: Map<string, Buffer>, map: DataMap, data: AsyncIterable<Buffer>): Promise<void> {
		await this.#clear(path);
		const file = await this.#calls.create(abs(path));
		await using(file, async () => {
			await writeRegions(map, data, (buf, off, n, pos) => file.write(buf, off, n, pos));
			await file.truncate(meta.size);
		});
	}

	async symlink(path: Buffer, target: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		this.#finished.add(path.toString('latin1'));
		await this.#put([PutKind.Symlink, abs(path), target, this.#putMeta(meta, xattrs)]);
	}

	async link(path: Buffer, existing: Buffer): Promise<void> {
		await this.#clear(path);
		await this.#cannotHold('hard links', () => this.#calls.link(abs(existing), abs(path)));
	}

	async special(path: Buffer, meta: NodeMeta): Promise<void> {
		await this.#clear(path);
		const what = meta.kind === 'fifo' ? 'FIFOs' : meta.kind === 'socket' ? 'sockets' : 'device nodes';
		await this.#cannotHold(what, () => this.#calls.mknod(abs(path), S_IF[meta.kind] | 0o600, meta.rdevMajor, meta.rdevMinor));
	}

	/*
	 * FAT and exFAT answer EPERM for what they cannot hold at all, which
	 * said as "operation not permitted" reads as a matter of rights.
	 */
	async #cannotHold(what: string, make: () => Promise<void>): Promise<void> {
		try {
			await make();
		} catch (err) {
			throw this.#cannotHoldError(what, err);
		}
	}

	#cannotHoldError(what: string, err: unknown): unknown {
		if (this.#ownerless && hasCode(err, 'EPERM'))
			return Object.assign(new Error(`${this.#fsType} cannot hold ${what}`), { code: 'EPERM', cause: err });
		return err;
	}

	#putMeta(meta: NodeMeta, xattrs: Map<string, Buffer>): PutMeta {
		const all = new Map(xattrs);
		if (this.#options.selinux !== undefined)
			all.set('security.selinux', Buffer.from(`${this.#options.selinux}\0`));
		// (unsigned) -1 and mode -1 leave owner and mode as they are.
		return {
			uid: this.#ownerless ? 0xffffffff : this.#options.uid ?? meta.uid,
			gid: this.#ownerless ? 0xffffffff : this.#options.gid ?? meta.gid,
			mode: meta.kind === 'symlink' || this.#ownerless ? -1 : meta.mode,
			atime: [Number(meta.atime.sec), meta.atime.nsec],
			mtime: [Number(meta.mtime.sec), meta.mtime.nsec],
			xattrs: [...all],
		};
	}

	async finish(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		if (this.#finished.delete(path.toString('latin1')))
			return;
		// The top of the copy may be the mount's root, which has no name to not follow.
		await this.#put([path.length === 0 ? PutKind.MetaFollow : PutKind.Meta, abs(path), NO_DATA, this.#putMeta(meta, xattrs)]);
	}

	async close(): Promise<void> {
		await this.flush();
		// The mount's unmount syncs.
	}
}
