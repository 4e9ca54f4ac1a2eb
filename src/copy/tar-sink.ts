/**
 * A sink that writes a POSIX pax archive to a stream, with back-pressure:
 * each write waits until the stream has room.
 */
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { encodeHeader, dataPadding, END_OF_ARCHIVE, TarType, type TarEntry } from '../tar/header.js';
import { encodeSparseMap } from '../tar/sparse.js';
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

export interface TarSinkOptions {
	/** Prefix for every path in the archive, e.g. "./" (none by default). */
	prefix?: string;
}

export class TarSink implements SinkTree {
	readonly #out: Writable;
	readonly #prefix: Buffer;
	#pending: Buffer[] = [];
	#pendingBytes = 0;

	constructor(out: Writable, options: TarSinkOptions = {}) {
		this.#out = out;
		this.#prefix = Buffer.from(options.prefix ?? '', 'utf8');
	}

	/*
	 * Headers, small files and padding are gathered into writes of about
	 * BATCH bytes: a stream write per piece costs a file-system call each
	 * (a trip through libuv's pool), which made a tree of small files
	 * slower to write out than to read from the image.
	 */
	async #write(chunk: Buffer): Promise<void> {
		if (chunk.length >= BATCH) {
			await this.#flush();
			await this.#send(chunk);
			return;
		}
		this.#pending.push(chunk);
		this.#pendingBytes += chunk.length;
		if (this.#pendingBytes >= BATCH)
			await this.#flush();
	}

	async #flush(): Promise<void> {
		if (this.#pending.length === 0)
			return;
		const batch = this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending, this.#pendingBytes);
		this.#pending = [];
		this.#pendingBytes = 0;
		await this.#send(batch);
	}

	async #send(chunk: Buffer): Promise<void> {
		if (!this.#out.write(chunk))
			await once(this.#out, 'drain');
	}

	#entry(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, extra: Partial<TarEntry> = {}): TarEntry {
		const type = TYPES[meta.kind];
		if (type === undefined)
			throw new Error(`${path.toString()}: a ${meta.kind} cannot be archived`);
		let name = Buffer.concat([this.#prefix, path]);
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
		await this.#write(encodeHeader(this.#entry(path, meta, xattrs)));
	}

	async file(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>, data: AsyncIterable<Buffer>): Promise<void> {
		await this.#write(encodeHeader(this.#entry(path, meta, xattrs)));
		await this.#body(data, meta.size);
		await this.#write(dataPadding(meta.size));
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
			await this.#write(part);
			written += BigInt(part.length);
		}
		// ...and one that shrank is padded with zeros, as GNU tar does.
		while (written < size) {
			const n = size - written > 1048576n ? 1048576 : Number(size - written);
			await this.#write(Buffer.alloc(n));
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
		await this.#write(encodeHeader(entry));
		await this.#write(mapBlocks);
		await this.#body(data, dataSize);
		await this.#write(dataPadding(stored));
	}

	async symlink(path: Buffer, target: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		await this.#write(encodeHeader(this.#entry(path, meta, xattrs, { linkPath: target })));
	}

	async link(path: Buffer, existing: Buffer, meta: NodeMeta): Promise<void> {
		const target = Buffer.concat([this.#prefix, existing]);
		await this.#write(encodeHeader(this.#entry(path, meta, new Map(), { type: TarType.link, linkPath: target, size: 0n })));
	}

	async special(path: Buffer, meta: NodeMeta, xattrs: Map<string, Buffer>): Promise<void> {
		await this.#write(encodeHeader(this.#entry(path, meta, xattrs)));
	}

	async finish(): Promise<void> {
		// Everything was in the header.
	}

	async close(): Promise<void> {
		await this.#write(END_OF_ARCHIVE);
		await this.#flush();
		this.#out.end();
		await once(this.#out, 'finish');
	}
}
