// Streams over files inside a mount, like node:fs's ReadStream and
// WriteStream.  Each _read/_write is one call off the main thread, and
// node:stream only asks for the next one when the consumer keeps up, so
// back-pressure comes for free.
import { Readable, Writable } from 'node:stream';
import type { FileHandle } from './file-handle.js';
import type { OpenFlags } from './flags.js';
import { checkInt, invalidValue } from './validate.js';

/** Default chunk size: big reads keep the kernel's per-call cost small. */
export const DEFAULT_HIGH_WATER_MARK = 1 << 20;

/** Options of FileHandle.createReadStream. */
export interface HandleReadStreamOptions {
	/** Emit strings decoded as this instead of Buffers. */
	encoding?: BufferEncoding | null;
	/** First byte to read (default: the current position). */
	start?: number;
	/** Last byte to read, inclusive (default: to the end). */
	end?: number;
	/** Bytes per read (default 1 MiB). */
	highWaterMark?: number;
	/** Close the file when the stream ends or fails (default true). */
	autoClose?: boolean;
	/** Emit 'close' after closing (default true). */
	emitClose?: boolean;
	/** Aborting it destroys the stream. */
	signal?: AbortSignal;
}

/** Options of Mount.createReadStream. */
export interface ReadStreamOptions extends HandleReadStreamOptions {
	/** How to open the file (default 'r'). */
	flags?: OpenFlags | number;
	/** Mode for a file the flags create (default 0o666). */
	mode?: number;
}

/** Options of FileHandle.createWriteStream. */
export interface HandleWriteStreamOptions {
	/** How strings written are encoded (default 'utf8'). */
	encoding?: BufferEncoding | null;
	/** Where to start writing (default: the current position). */
	start?: number;
	/** Bytes buffered before write() asks the writer to wait (default 1 MiB). */
	highWaterMark?: number;
	/** Close the file when the stream ends or fails (default true). */
	autoClose?: boolean;
	/** Emit 'close' after closing (default true). */
	emitClose?: boolean;
	/** fsync the file before closing it (default false). */
	flush?: boolean;
	/** Aborting it destroys the stream. */
	signal?: AbortSignal;
}

/** Options of Mount.createWriteStream. */
export interface WriteStreamOptions extends HandleWriteStreamOptions {
	/** How to open the file (default 'w'). */
	flags?: OpenFlags | number;
	/** Mode for a file the flags create (default 0o666). */
	mode?: number;
}

/** Gets the FileHandle a stream works on (opening the file, or not). */
export type HandleSource = () => Promise<FileHandle>;

function closeWith(handle: FileHandle | undefined, autoClose: boolean, err: Error | null,
	callback: (error?: Error | null) => void): void {
	if (!handle || !autoClose) {
		callback(err);
		return;
	}
	handle.close().then(() => callback(err), (e: Error) => callback(err ?? e));
}

function checkStart(start: unknown): number | undefined {
	return start === undefined ? undefined : checkInt(start, 'start', 0);
}

/** A readable stream of a file inside a mount. */
export class ReadStream extends Readable {
	/** The path inside the mount. */
	readonly path: string;
	/** Bytes read so far. */
	bytesRead = 0;
	#handle: FileHandle | undefined;
	readonly #source: HandleSource;
	readonly #autoClose: boolean;
	#position: number;
	readonly #end: number;

	/** @internal Made by Mount.createReadStream and FileHandle.createReadStream. */
	constructor(source: HandleSource, path: string, options: HandleReadStreamOptions = {}) {
		super({
			highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
			encoding: options.encoding ?? undefined,
			emitClose: options.emitClose ?? true,
			signal: options.signal,
		});
		this.path = path;
		this.#source = source;
		this.#autoClose = options.autoClose ?? true;
		let start = checkStart(options.start);
		const end = options.end === undefined || options.end === Infinity ? Infinity :
			checkInt(options.end, 'end', 0);
		if (end !== Infinity)
			start ??= 0;
		if (start !== undefined && start > end)
			throw invalidValue('start', start, `must be <= "end" (here: ${end})`);
		this.#position = start ?? -1;
		this.#end = end;
	}

	/** True until the file is open. */
	get pending(): boolean {
		return this.#handle === undefined;
	}

	/** @internal */
	override _construct(callback: (error?: Error | null) => void): void {
		this.#source().then((handle) => {
			this.#handle = handle;
			this.emit('open', handle.fd);
			this.emit('ready');
			callback();
		}, callback);
	}

	/** @internal */
	override _read(): void {
		const handle = this.#handle!;
		let want = this.readableHighWaterMark;
		if (this.#end !== Infinity)
			want = Math.min(want, this.#end - this.#position + 1);
		if (want <= 0) {
			this.push(null);
			return;
		}
		const buffer = Buffer.allocUnsafe(want);
		handle.read(buffer, 0, want, this.#position).then(({ bytesRead }) => {
			if (bytesRead === 0) {
				this.push(null);
				return;
			}
			this.bytesRead += bytesRead;
			if (this.#position >= 0)
				this.#position += bytesRead;
			this.push(bytesRead < want ? buffer.subarray(0, bytesRead) : buffer);
		}, (err: Error) => this.destroy(err));
	}

	/** @internal */
	override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
		closeWith(this.#handle, this.#autoClose, err, callback);
	}
}

/** A writable stream into a file inside a mount. */
export class WriteStream extends Writable {
	/** The path inside the mount. */
	readonly path: string;
	/** Bytes written so far. */
	bytesWritten = 0;
	#handle: FileHandle | undefined;
	readonly #source: HandleSource;
	readonly #autoClose: boolean;
	readonly #flush: boolean;
	#position: number;

	/** @internal Made by Mount.createWriteStream and FileHandle.createWriteStream. */
	constructor(source: HandleSource, path: string, options: HandleWriteStreamOptions = {}) {
		super({
			highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
			defaultEncoding: options.encoding ?? 'utf8',
			emitClose: options.emitClose ?? true,
			decodeStrings: true,
			signal: options.signal,
		});
		this.path = path;
		this.#source = source;
		this.#autoClose = options.autoClose ?? true;
		this.#flush = options.flush ?? false;
		this.#position = checkStart(options.start) ?? -1;
	}

	/** True until the file is open. */
	get pending(): boolean {
		return this.#handle === undefined;
	}

	/** @internal */
	override _construct(callback: (error?: Error | null) => void): void {
		this.#source().then((handle) => {
			this.#handle = handle;
			this.emit('open', handle.fd);
			this.emit('ready');
			callback();
		}, callback);
	}

	async #writeAll(bytes: Uint8Array): Promise<void> {
		const handle = this.#handle!;
		let done = 0;
		while (done < bytes.length) {
			const { bytesWritten } = await handle.write(bytes, done, bytes.length - done,
				this.#position);
			done += bytesWritten;
			this.bytesWritten += bytesWritten;
			if (this.#position >= 0)
				this.#position += bytesWritten;
		}
	}

	/** @internal */
	override _write(chunk: Buffer, _encoding: BufferEncoding,
		callback: (error?: Error | null) => void): void {
		this.#writeAll(chunk).then(() => callback(), callback);
	}

	/** @internal Several buffered chunks go down as one write. */
	override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
		this.#writeAll(Buffer.concat(chunks.map((c) => c.chunk))).then(() => callback(), callback);
	}

	/** @internal */
	override _final(callback: (error?: Error | null) => void): void {
		if (!this.#flush || !this.#handle) {
			callback();
			return;
		}
		this.#handle.sync().then(() => callback(), callback);
	}

	/** @internal */
	override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
		closeWith(this.#handle, this.#autoClose, err, callback);
	}
}
