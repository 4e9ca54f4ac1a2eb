// An open file inside a mount, shaped like node:fs/promises' FileHandle.
import { closedError, type ErrorPath } from './errors.js';
import { readToEnd, writeAll } from './file-ops.js';
import { Gate, type ClosedReason } from './gate.js';
import { makeStats, type BigIntStats, type StatOptions, type Stats } from './stats.js';
import { runAsync, sys, type Steps } from './steps.js';
import {
	ReadStream, WriteStream, type HandleReadStreamOptions, type HandleWriteStreamOptions,
} from './streams.js';
import { toTimespec, type TimeLike } from './times.js';
import {
	checkEncoding, checkId, checkInt, checkMode, checkOffset, decode, invalidType, optionsObject,
	outOfRange, toBytes,
} from './validate.js';

/** What a FileHandle reports back to the mount that opened it. */
export interface HandleOwner {
	/** The handle is closed: forget it. */
	release(handle: FileHandle): void;
}

/** Result of FileHandle.read. */
export interface ReadResult<T extends ArrayBufferView> {
	/** Bytes read; 0 at end of file. */
	bytesRead: number;
	/** The buffer read into. */
	buffer: T;
}

/** Result of FileHandle.write. */
export interface WriteResult<T extends ArrayBufferView | string> {
	/** Bytes written (may be fewer than asked: one write call). */
	bytesWritten: number;
	/** What was written from. */
	buffer: T;
}

/** Options of FileHandle.read as one object. */
export interface ReadOptions<T extends ArrayBufferView> {
	/** Where to read into (default: a new 16 KiB Buffer). */
	buffer?: T;
	/** Byte offset in `buffer` (default 0). */
	offset?: number;
	/** Bytes to read (default: the rest of `buffer`). */
	length?: number;
	/** File position; null or -1: the current position, which advances. */
	position?: number | bigint | null;
}

/** A file's position: a byte offset, or null/-1 for "the current one". */
export type Position = number | bigint | null | undefined;

/** Contents for writeFile and appendFile. */
export type FileData =
	| string
	| ArrayBufferView
	| Iterable<string | ArrayBufferView>
	| AsyncIterable<string | ArrayBufferView>;

/** Options of FileHandle.readFile. */
export interface HandleReadFileOptions {
	/** Decode as this; default: return a Buffer. */
	encoding?: BufferEncoding | null;
}

/** Options of FileHandle.writeFile and appendFile. */
export interface HandleWriteFileOptions {
	/** How strings are encoded (default 'utf8'). */
	encoding?: BufferEncoding | null;
}

/** @internal Used by Mount to close handles when it unmounts. */
export const kShut: unique symbol = Symbol('lkl.shut');

function toPosition(position: unknown): number | bigint {
	if (position === undefined || position === null || position === -1)
		return -1;
	return checkOffset(position, 'position');
}

function asBytes(view: ArrayBufferView): Uint8Array {
	return view instanceof Uint8Array ? view :
		new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function checkRange(view: Uint8Array, offset: unknown, length: unknown): [number, number] {
	const off = offset === undefined || offset === null ? 0 :
		checkInt(offset, 'offset', 0, view.byteLength);
	const len = length === undefined || length === null ? view.byteLength - off :
		checkInt(length, 'length', 0);
	if (off + len > view.byteLength)
		throw outOfRange('length', `<= ${view.byteLength - off}`, len);
	return [off, len];
}

/** Throws unless `data` is file data that can be consumed synchronously. */
export function checkData<T>(data: T): T {
	if (typeof data === 'string' || ArrayBuffer.isView(data) ||
		(data !== null && typeof data === 'object' && Symbol.iterator in data))
		return data;
	throw invalidType('data', 'of type string or an instance of Buffer, TypedArray, DataView, or an iterable', data);
}

/** The bytes of file data, chunk by chunk. */
export function* dataChunks(data: Exclude<FileData, AsyncIterable<unknown>>,
	encoding: BufferEncoding): Generator<Uint8Array> {
	checkData(data);
	if (typeof data === 'string' || ArrayBuffer.isView(data)) {
		yield toBytes(data, encoding);
		return;
	}
	for (const chunk of data)
		yield toBytes(chunk, encoding);
}

/** Whether `data` can only be consumed asynchronously. */
export function isAsyncData(data: unknown): data is AsyncIterable<string | ArrayBufferView> {
	return data !== null && typeof data === 'object' && !ArrayBuffer.isView(data) &&
		Symbol.asyncIterator in data;
}

/** An open file inside a mount, as node:fs/promises' FileHandle. */
export class FileHandle {
	#fd: number;
	readonly #path: ErrorPath;
	readonly #owner: HandleOwner;
	readonly #gate = new Gate();
	#closing: Promise<void> | undefined;

	/** @internal Made by Mount.open. */
	constructor(fd: number, path: ErrorPath, owner: HandleOwner) {
		this.#fd = fd;
		this.#path = path;
		this.#owner = owner;
	}

	/** The kernel's descriptor number; -1 once closed. */
	get fd(): number {
		return this.#fd;
	}

	/** The path it was opened with (inside the mount). */
	get path(): string {
		return typeof this.#path === 'string' ? this.#path : Buffer.from(this.#path).toString();
	}

	#run<T>(syscall: string, steps: () => Steps<T>): Promise<T> {
		return this.#gate.run(syscall, () => runAsync(steps()));
	}

	/**
	 * Reads into `buffer` (a new 16 KiB Buffer when omitted), at `position`
	 * or, when it is null/-1/omitted, at the current position.
	 */
	read<T extends ArrayBufferView = Buffer>(buffer?: T, offset?: number | null,
		length?: number | null, position?: Position): Promise<ReadResult<T>>;
	/** Reads as described by one options object. */
	read<T extends ArrayBufferView = Buffer>(options: ReadOptions<T>): Promise<ReadResult<T>>;
	async read<T extends ArrayBufferView>(bufferOrOptions?: T | ReadOptions<T>, offset?: number | null,
		length?: number | null, position?: Position): Promise<ReadResult<T>> {
		let buffer: T;
		if (bufferOrOptions === undefined || !ArrayBuffer.isView(bufferOrOptions)) {
			const options: ReadOptions<T> = bufferOrOptions ?? {};
			buffer = options.buffer ?? (Buffer.alloc(16384) as ArrayBufferView as T);
			({ offset, length, position } = options);
		} else {
			buffer = bufferOrOptions;
		}
		const bytes = asBytes(buffer);
		const [off, len] = checkRange(bytes, offset, length);
		const pos = toPosition(position);
		if (len === 0)
			return { bytesRead: 0, buffer };
		const fd = this.#fd;
		const bytesRead = await this.#run('read', () => sys('read', [fd, bytes, off, len, pos], 'read'));
		return { bytesRead, buffer };
	}

	/**
	 * Writes `length` bytes of `buffer` from `offset` (one write call: it may
	 * write fewer), at `position` or the current position.
	 */
	write<T extends ArrayBufferView>(buffer: T, offset?: number | null, length?: number | null,
		position?: Position): Promise<WriteResult<T>>;
	/** Writes a string, encoded as `encoding` (default 'utf8'). */
	write(data: string, position?: Position, encoding?: BufferEncoding): Promise<WriteResult<string>>;
	async write<T extends ArrayBufferView>(data: T | string, offsetOrPosition?: Position,
		lengthOrEncoding?: number | BufferEncoding | null, position?: Position,
	): Promise<WriteResult<T | string>> {
		let bytes: Uint8Array;
		let off: number;
		let len: number;
		let pos: number | bigint;
		if (typeof data === 'string') {
			const encoding = checkEncoding(lengthOrEncoding ?? 'utf8', 'utf8');
			bytes = Buffer.from(data, encoding === 'buffer' ? 'utf8' : encoding);
			[off, len] = [0, bytes.length];
			pos = toPosition(offsetOrPosition);
		} else {
			if (!ArrayBuffer.isView(data))
				throw invalidType('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
			bytes = asBytes(data);
			if (typeof offsetOrPosition === 'bigint')
				throw invalidType('offset', 'of type number', offsetOrPosition);
			[off, len] = checkRange(bytes, offsetOrPosition, lengthOrEncoding);
			pos = toPosition(position);
		}
		const fd = this.#fd;
		const bytesWritten = len === 0 ? 0 :
			await this.#run('write', () => sys('write', [fd, bytes, off, len, pos], 'write'));
		return { bytesWritten, buffer: data };
	}

	/** Reads into each buffer in turn until one is not filled. */
	async readv<T extends ArrayBufferView>(buffers: readonly T[], position?: Position):
		Promise<{ bytesRead: number; buffers: readonly T[] }> {
		let pos = toPosition(position);
		let bytesRead = 0;
		for (const buffer of buffers) {
			const bytes = asBytes(buffer);
			if (bytes.length === 0)
				continue;
			const { bytesRead: n } = await this.read(bytes, 0, bytes.length, pos);
			bytesRead += n;
			if (pos !== -1)
				pos = typeof pos === 'bigint' ? pos + BigInt(n) : pos + n;
			if (n < bytes.length)
				break;
		}
		return { bytesRead, buffers };
	}

	/** Writes every buffer, in order, in full. */
	async writev<T extends ArrayBufferView>(buffers: readonly T[], position?: Position):
		Promise<{ bytesWritten: number; buffers: readonly T[] }> {
		const pos = toPosition(position);
		const bytes = Buffer.concat(buffers.map(asBytes));
		const fd = this.#fd;
		await this.#run('write', () => writeAll(fd, bytes, undefined, Number(pos)));
		return { bytesWritten: bytes.length, buffers };
	}

	/** Reads from the current position to the end of the file. */
	readFile(options?: { encoding?: null } | null): Promise<Buffer>;
	/** Reads the rest of the file and decodes it. */
	readFile(options: BufferEncoding | { encoding: BufferEncoding }): Promise<string>;
	/** The rest of the file, decoded if an encoding is given. */
	readFile(options?: HandleReadFileOptions | BufferEncoding | null): Promise<string | Buffer>;
	async readFile(options?: HandleReadFileOptions | BufferEncoding | null): Promise<string | Buffer> {
		const encoding = checkEncoding(optionsObject(options).encoding, 'buffer');
		const fd = this.#fd;
		const bytes = await this.#run('read', () => readToEnd(fd));
		return decode(bytes, encoding);
	}

	/** Writes `data` at the current position (all of it, unlike write). */
	async writeFile(data: FileData, options?: HandleWriteFileOptions | BufferEncoding | null): Promise<void> {
		const encoding = checkEncoding(optionsObject(options).encoding, 'utf8');
		const enc = encoding === 'buffer' ? 'utf8' : encoding;
		const fd = this.#fd;
		if (isAsyncData(data)) {
			for await (const chunk of data) {
				const bytes = toBytes(chunk, enc);
				await this.#run('write', () => writeAll(fd, bytes));
			}
			return;
		}
		for (const bytes of dataChunks(data, enc))
			await this.#run('write', () => writeAll(fd, bytes));
	}

	/** Same as writeFile; with flag 'a' the data lands at the end. */
	appendFile(data: FileData, options?: HandleWriteFileOptions | BufferEncoding | null): Promise<void> {
		return this.writeFile(data, options);
	}

	/** Cuts or extends the file to `length` bytes (default 0). */
	async truncate(length: number | bigint = 0): Promise<void> {
		const len = checkOffset(length, 'len');
		const fd = this.#fd;
		await this.#run('ftruncate', () => sys('ftruncate', [fd, len], 'ftruncate'));
	}

	/** Flushes data and metadata to the disk image (fsync). */
	async sync(): Promise<void> {
		const fd = this.#fd;
		await this.#run('fsync', () => sys('fsync', [fd, false], 'fsync'));
	}

	/** Flushes data (and only the metadata needed to read it back). */
	async datasync(): Promise<void> {
		const fd = this.#fd;
		await this.#run('fdatasync', () => sys('fsync', [fd, true], 'fdatasync'));
	}

	/** Metadata of the open file. */
	stat(options?: StatOptions & { bigint?: false }): Promise<Stats>;
	/** Metadata with BigInts and nanosecond times. */
	stat(options: StatOptions & { bigint: true }): Promise<BigIntStats>;
	/** Stats or BigIntStats as `options.bigint` says. */
	stat(options?: StatOptions): Promise<Stats | BigIntStats>;
	async stat(options?: StatOptions): Promise<Stats | BigIntStats> {
		const fd = this.#fd;
		const st = await this.#run('fstat', () => sys('fstat', [fd], 'fstat'));
		return makeStats(st, options);
	}

	/** Sets the permission bits (and setuid/setgid/sticky). */
	async chmod(mode: number | string): Promise<void> {
		const m = checkMode(mode, 'mode', 0);
		const fd = this.#fd;
		await this.#run('fchmod', () => sys('fchmod', [fd, m], 'fchmod'));
	}

	/** Sets owner and group (-1 keeps one). */
	async chown(uid: number, gid: number): Promise<void> {
		const u = checkId(uid, 'uid');
		const g = checkId(gid, 'gid');
		const fd = this.#fd;
		await this.#run('fchown', () => sys('fchown', [fd, u, g], 'fchown'));
	}

	/** Sets access and modification times; BigInt nanoseconds are exact. */
	async utimes(atime: TimeLike, mtime: TimeLike): Promise<void> {
		const [as, ans] = toTimespec(atime, 'atime');
		const [ms, mns] = toTimespec(mtime, 'mtime');
		const fd = this.#fd;
		await this.#run('futime', () => sys('futimes', [fd, as, ans, ms, mns], 'futime'));
	}

	/** A readable stream of the file (closes the handle when done, unless autoClose is false). */
	createReadStream(options?: HandleReadStreamOptions): ReadStream {
		return new ReadStream(() => Promise.resolve(this), this.path, options);
	}

	/** A writable stream into the file (closes the handle when done, unless autoClose is false). */
	createWriteStream(options?: HandleWriteStreamOptions): WriteStream {
		return new WriteStream(() => Promise.resolve(this), this.path, options);
	}

	/** Closes the file once calls in flight are done; later calls fail with EBADF. */
	close(): Promise<void> {
		return this.#closing ??= this.#shutdown(closedError);
	}

	/** @internal Closes on behalf of the mount, refusing later calls with `reason`. */
	[kShut](reason: ClosedReason): Promise<void> {
		return this.#closing ??= this.#shutdown(reason);
	}

	async #shutdown(reason: ClosedReason): Promise<void> {
		await this.#gate.close(reason);
		const fd = this.#fd;
		this.#fd = -1;
		this.#owner.release(this);
		await runAsync(sys('close', [fd], 'close'));
	}
}
