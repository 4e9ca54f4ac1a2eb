/**
 * A sink that writes a POSIX pax archive to a stream, with back-pressure:
 * each write waits until the stream has room.
 */
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { HeaderEncoder, padding, END_OF_ARCHIVE, TarType, type TarEntry } from '../tar/header.js';
import { encodeSparseMap } from '../tar/sparse.js';
import { releaseContents } from '../lkl/scan-contents.js';
import type { DataMap, NodeMeta, SinkTree } from './tree.js';

const TYPES: Record<NodeMeta['kind'], TarType | undefined> = {
	file: TarType.file,
	directory: TarType.directory,
	symlink: TarType.symlink,
	charDevice: TarType.charDevice,
	blockDevice: TarType.blockDevice,
	fifo: TarType.fifo,
	socket: undefined,
};

const BATCH = 1 << 20;

/**
 * The archive's bytes are copied into two buffers of BATCH bytes, written
 * out in turn: a stream write per piece costs a trip through libuv's pool
 * each (a tree of small files was slower to write out than to read from
 * the image), and a fresh buffer per write is memory the host kernel must
 * fault in and zero first, at every batch.  A buffer is filled again only
 * once its write has called back.
 */
class Batches {
	readonly #out: Writable;
	readonly #buffers = [Buffer.allocUnsafeSlow(BATCH), Buffer.allocUnsafeSlow(BATCH)];
	readonly #writes: (Promise<void> | undefined)[] = [undefined, undefined];
	#current = 0;
	#used = 0;

	constructor(out: Writable) {
		this.#out = out;
	}

	/** Copies @bytes in. */
	async put(bytes: Buffer): Promise<void> {
		for (let off = 0; off < bytes.length;) {
			const n = Math.min(bytes.length - off, BATCH - this.#used);
			bytes.copy(this.#buffers[this.#current], this.#used, off, off + n);
			this.#used += n;
			off += n;
			if (this.#used === BATCH)
				await this.#send();
		}
	}

	/** @n zero bytes. */
	async zeros(n: number): Promise<void> {
		while (n > 0) {
			const k = Math.min(n, BATCH - this.#used);
			this.#buffers[this.#current].fill(0, this.#used, this.#used + k);
			this.#used += k;
			n -= k;
			if (this.#used === BATCH)
				await this.#send();
		}
	}

	/** Writes the current buffer, then waits until the other one is free. */
	async #send(): Promise<void> {
		const chunk = this.#buffers[this.#current].subarray(0, this.#used);
		this.#writes[this.#current] = new Promise<void>((resolve, reject) => {
			this.#out.write(chunk, (err) => (err ? reject(err) : resolve()));
		});
		// Awaited below, or at the end; a failure stops the copy there.
		this.#writes[this.#current]?.catch(() => undefined);
		this.#current ^= 1;
		this.#used = 0;
		await this.#writes[this.#current];
	}

	/** Writes what is left and ends the stream. */
	async end(): Promise<void> {
		if (this.#used > 0)
			await this.#send();
		await Promise.all(this.#writes);
		this.#out.end();
		await once(this.#out, 'finish');
	}
}

export interface TarSinkOptions {
	/** Prefix for every path in the archive, e.g. "./" (none by default). */
	prefix?: string;
}

/**
 * The archive goes to @out in writes of a buffer the sink fills again once
 * the write's callback has run: @out must be done with a chunk by then, as
 * file, socket, pipe and zlib streams are.  (A PassThrough is not: it
 * hands on the chunk itself, later.)
 */
export class TarSink implements SinkTree {
	readonly #out: Batches;
	readonly #prefix: Buffer;
	readonly #headers = new HeaderEncoder();

	constructor(out: Writable, options: TarSinkOptions = {}) {
		this.#out = new Batches(out);
		this.#prefix = Buffer.from(options.prefix ?? '', 'utf8');
	}

	#header(entry: TarEntry): Promise<void> {
		return this.#out.put(this.#headers.encode(entry));
	}

	#entry(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, extra: Partial<TarEntry> = {}): TarEntry {
		const type = TYPES[meta.kind];
		if (type === undefined)
			throw new Error(`${path.toString()}: a ${meta.kind} cannot be archived`);
		let name = this.#prefix.length ? Buffer.concat([this.#prefix, path]) : path;
		if (meta.kind === 'directory')
			name = Buffer.concat([name, Buffer.from('/')]);
		return {
			path: name,
			type,
			mode: meta.mode,
			uid: meta.uid,
			gid: meta.gid,
			size: meta.kind === 'file' ? meta.size : 0n,
			mtime: meta.mtime,
			atime: meta.atime,
			ctime: meta.ctime,
			devMajor: meta.rdevMajor,
			devMinor: meta.rdevMinor,
			xattrs,
			...extra,
		};
	}

	async mkdir(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		// The top of the copy is the archive itself: no entry for "".
		if (path.length === 0 && this.#prefix.length === 0)
			return;
		await this.#header(this.#entry(path, meta, xattrs));
	}

	async file(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, data: AsyncIterable<Buffer>): Promise<void> {
		await this.#header(this.#entry(path, meta, xattrs));
		await this.#body(data, meta.size);
		await this.#out.zeros(padding(meta.size));
	}

	/** Exactly @size bytes of @data. */
	async #body(data: AsyncIterable<Buffer>, size: bigint): Promise<void> {
		let written = 0n;
		for await (const chunk of data) {
			// A file that grew while being read is cut at its header's size.
			const room = size - written;
			if (room <= 0n)
				break;
			const part = BigInt(chunk.length) > room ? chunk.subarray(0, Number(room)) : chunk;
			await this.#out.put(part);
			written += BigInt(part.length);
			releaseContents(chunk);	// copied into the archive's batch
		}
		// ...and one that shrank is padded with zeros, as GNU tar does.
		while (written < size) {
			const n = size - written > 1048576n ? 1048576 : Number(size - written);
			await this.#out.zeros(n);
			written += BigInt(n);
		}
	}

	/**
	 * A file with holes, as GNU tar --sparse writes it in pax archives: the
	 * entry holds the map and the regions' bytes; its header's name is a
	 * stand-in, which tars that do not know the format extract as a plain
	 * file rather than as a wrong copy of the real one.
	 */
	async sparseFile(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, map: DataMap, data: AsyncIterable<Buffer>): Promise<void> {
		const mapBlocks = encodeSparseMap(map, meta.size);
		const dataSize = map.reduce((sum, r) => sum + r.length, 0n);
		const stored = BigInt(mapBlocks.length) + dataSize;
		const real = Buffer.concat([this.#prefix, path]);
		const slash = real.lastIndexOf(0x2f);
		const stand = Buffer.concat([
			slash >= 0 ? real.subarray(0, slash) : Buffer.from('.'),
			Buffer.from('/GNUSparseFile.0/'),
			slash >= 0 ? real.subarray(slash + 1) : real,
		]);
		const entry = this.#entry(path, meta, xattrs, {
			path: stand,
			size: stored,
			pax: [['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.name', real], ['GNU.sparse.realsize', meta.size.toString()]],
		});
		await this.#header(entry);
		await this.#out.put(mapBlocks);
		await this.#body(data, dataSize);
		await this.#out.zeros(padding(stored));
	}

	async symlink(path: Buffer, target: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		await this.#header(this.#entry(path, meta, xattrs, { linkPath: target }));
	}

	async link(path: Buffer, existing: Buffer, meta: NodeMeta): Promise<void> {
		const target = Buffer.concat([this.#prefix, existing]);
		await this.#header(this.#entry(path, meta, new Map(), { type: TarType.link, linkPath: target, size: 0n }));
	}

	async special(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		await this.#header(this.#entry(path, meta, xattrs));
	}

	async finish(): Promise<void> {
		// Everything was in the header.
	}

	async close(): Promise<void> {
		await this.#out.put(END_OF_ARCHIVE);
		await this.#out.end();
	}
}
