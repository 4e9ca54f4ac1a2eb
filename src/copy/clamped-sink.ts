/**
 * Times for reproducible output (SOURCE_DATE_EPOCH): an mtime later than
 * the epoch becomes the epoch, as tar --clamp-mtime does, so that sources
 * touched since (a fresh checkout) give the same image; the atime and
 * ctime become that mtime, since reading a source moves its atime and
 * nothing sets a ctime.  ClampedSink applies them to every node a copy
 * writes, whatever its source: a host tree or an archive, whose parents
 * it leaves out are made with the time of the run.
 */
import type { TarTime } from '../tar/header.js';
import type { DataMap, NodeMeta, SinkTree } from './tree.js';

/** @meta with its times clamped to @epoch (seconds since 1970). */
export function clampTimes(meta: NodeMeta, epoch: bigint): NodeMeta {
	const later = meta.mtime.sec > epoch || (meta.mtime.sec === epoch && meta.mtime.nsec > 0);
	const mtime: TarTime = later ? { sec: epoch, nsec: 0 } : meta.mtime;
	return { ...meta, mtime, atime: mtime, ctime: mtime };
}

/** A sink that passes every node on to another with its times clamped. */
export class ClampedSink implements SinkTree {
	readonly #to: SinkTree;
	readonly #epoch: bigint;
	readonly sparseFile?: SinkTree['sparseFile'];
	readonly flush?: SinkTree['flush'];

	constructor(to: SinkTree, epoch: bigint) {
		this.#to = to;
		this.#epoch = epoch;
		// Only what the sink behind has: the engine asks whether they exist.
		if (to.sparseFile) {
			this.sparseFile = (path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, map: DataMap, data: AsyncIterable<Buffer>) =>
				to.sparseFile!(path, this.#clamp(meta), xattrs, map, data);
		}
		if (to.flush)
			this.flush = () => to.flush!();
	}

	#clamp(meta: NodeMeta): NodeMeta {
		return clampTimes(meta, this.#epoch);
	}

	mkdir(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		return this.#to.mkdir(path, this.#clamp(meta), xattrs);
	}

	file(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, data: AsyncIterable<Buffer>): Promise<void> {
		return this.#to.file(path, this.#clamp(meta), xattrs, data);
	}

	symlink(path: Buffer, target: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		return this.#to.symlink(path, target, this.#clamp(meta), xattrs);
	}

	link(path: Buffer, existing: Buffer, meta: NodeMeta): Promise<void> {
		return this.#to.link(path, existing, this.#clamp(meta));
	}

	special(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		return this.#to.special(path, this.#clamp(meta), xattrs);
	}

	finish(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		return this.#to.finish(path, this.#clamp(meta), xattrs);
	}

	close(): Promise<void> {
		return this.#to.close();
	}
}
