/**
 * POSIX pax (ustar + extended header) encoding.
 *
 * Written by hand because tar-stream (the usual library) cannot write
 * these archives exactly: it encodes pax values as UTF-8 text, which
 * corrupts binary xattrs such as security.capability and the ACL blobs; it
 * rounds mtimes to whole seconds; and it has no ctime/atime records.
 */

import { aclToText } from './acl.js';
import type { SparseRegion } from './sparse.js';

/** The kinds of entry a tar archive can hold, with their type flags. */
export const TarType = {
	file: '0',
	link: '1',
	symlink: '2',
	charDevice: '3',
	blockDevice: '4',
	directory: '5',
	fifo: '6',
} as const;
export type TarType = (typeof TarType)[keyof typeof TarType];

/** A time with nanosecond precision: whole seconds and nanoseconds. */
export interface TarTime {
	sec: bigint;
	nsec: number;
}

/**
 * One archive entry's metadata, as encodeHeader writes it and readTar
 * reads it back.  Paths and values are raw bytes.  `Type` is TarType for
 * writing; a reader may meet any type flag and leaves judging it to the
 * caller.
 */
export interface TarEntry<Type extends string = TarType> {
	path: Buffer;
	type: Type;
	mode: number;
	uid: number;
	gid: number;
	size: bigint;
	mtime: TarTime;
	atime?: TarTime;
	ctime?: TarTime;
	/** Target of a symlink, or the earlier path of a hard link. */
	linkPath?: Buffer;
	devMajor?: number;
	devMinor?: number;
	uname?: string;
	gname?: string;
	/** Extended attributes, values kept byte for byte. */
	xattrs?: Map<string, Buffer>;
	/** More pax records, written first (GNU.sparse.* for sparse files). */
	pax?: [string, string | Buffer][];
	/**
	 * Read only: POSIX ACLs as text (SCHILY.acl.access / .default), as GNU
	 * tar --acls keeps them.  Written from the system.posix_acl_* xattrs.
	 */
	acls?: { access?: string; default?: string };
	/** Read only: a sparse file's data regions; its data is their bytes in order, `size` its real size. */
	sparse?: SparseRegion[];
}

/** An entry as readTar gives it: the fields an archive always has, filled in. */
export type TarReadEntry = TarEntry<string> & Required<Pick<TarEntry, 'linkPath' | 'devMajor' | 'devMinor' | 'xattrs' | 'acls'>>;

export const BLOCK = 512;
const MAX_OCTAL_8 = 0o7777777; // what fits in an 8-byte field
const MAX_OCTAL_12 = 0o77777777777n; // in a 12-byte field

function formatTime(t: TarTime): string {
	if (t.nsec === 0)
		return t.sec.toString();
	const frac = t.nsec.toString().padStart(9, '0').replace(/0+$/, '');
	// A negative time with a fraction: -1.5 means sec = -2, nsec = 5e8.
	if (t.sec < 0n)
		return `-${(-(t.sec + 1n)).toString()}.${(1e9 - t.nsec).toString().padStart(9, '0').replace(/0+$/, '')}`;
	return `${t.sec}.${frac}`;
}

function isPortable(buf: Buffer): boolean {
	for (const byte of buf)
		if (byte === 0 || byte >= 0x80)
			return false;
	return true;
}

/**
 * Where a path splits into ustar's prefix and name fields: the index of the
 * slash between them, -1 when the whole path is the name, or undefined
 * when it does not fit.
 */
function ustarSplit(path: Buffer): number | undefined {
	if (path.length <= 100)
		return -1;
	for (let i = Math.min(path.length - 1, 155); i > 0; i--) {
		if (path[i] === 0x2f && path.length - i - 1 <= 100 && path.length - i - 1 > 0)
			return i;
	}
	return undefined;
}

function decimalDigits(n: number): number {
	let digits = 1;
	while (n >= 10) {
		n = Math.floor(n / 10);
		digits++;
	}
	return digits;
}

/** How many zero bytes pad @size bytes of data to a whole block. */
export function padding(size: bigint): number {
	const rest = Number(size % BigInt(BLOCK));
	return rest === 0 ? 0 : BLOCK - rest;
}

/**
 * Writes headers into a scratch buffer of its own, which grows to the
 * largest header met: an archive of many small files spends its time on
 * headers, and building each one from a dozen small Buffers and their
 * concatenation cost more than reading the files.
 */
export class HeaderEncoder {
	#buf = Buffer.allocUnsafe(16 << 10);
	#at = 0;

	/** Room for @n more bytes at #at. */
	#room(n: number): void {
		if (this.#at + n <= this.#buf.length)
			return;
		const bigger = Buffer.allocUnsafe(Math.max(2 * this.#buf.length, this.#at + n));
		this.#buf.copy(bigger, 0, 0, this.#at);
		this.#buf = bigger;
	}

	#bytes(value: Buffer, max = value.length): void {
		value.copy(this.#buf, this.#at, 0, Math.min(max, value.length));
		this.#at += Math.min(max, value.length);
	}

	/** Zero-padded octal in a field of @length bytes, the last one NUL. */
	#octal(offset: number, length: number, value: number): void {
		const buf = this.#buf;
		buf[offset + length - 1] = 0;
		for (let i = offset + length - 2; i >= offset; i--) {
			buf[i] = 0x30 + (value % 8);
			value = Math.floor(value / 8);
		}
	}

	/** One "<length> <key>=<value>\n" record; the length counts itself. */
	#record(key: string, value: string | Buffer): void {
		const keyBytes = Buffer.byteLength(key, 'utf8');
		const valueBytes = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
		const body = keyBytes + valueBytes + 3;	// ' ', '=', '\n'
		let length = body + 1;
		while (decimalDigits(length) + body !== length)
			length = decimalDigits(length) + body;
		this.#room(length);
		const buf = this.#buf;
		this.#at += buf.write(String(length), this.#at, 'latin1');
		buf[this.#at++] = 0x20;
		this.#at += buf.write(key, this.#at, 'utf8');
		buf[this.#at++] = 0x3d;
		if (typeof value === 'string')
			this.#at += buf.write(value, this.#at, 'utf8');
		else
			this.#bytes(value);
		buf[this.#at++] = 0x0a;
	}

	/** A ustar header block at #at for @e, named @path, of @size bytes, of type @type. */
	#ustar(e: TarEntry, type: string, path: Buffer, size: bigint): void {
		this.#room(BLOCK);
		const buf = this.#buf;
		const at = this.#at;
		buf.fill(0, at, at + BLOCK);
		const split = ustarSplit(path);
		if (split === undefined || split < 0) {
			this.#bytes(path, 100);
		} else {
			this.#bytes(path.subarray(split + 1), 100);
			this.#at = at + 345;
			this.#bytes(path.subarray(0, split), 155);
		}
		this.#octal(at + 100, 8, e.mode & 0o7777);
		this.#octal(at + 108, 8, e.uid <= MAX_OCTAL_8 ? e.uid : 0);
		this.#octal(at + 116, 8, e.gid <= MAX_OCTAL_8 ? e.gid : 0);
		this.#octal(at + 124, 12, size <= MAX_OCTAL_12 ? Number(size) : 0);
		const sec = e.mtime.sec;
		this.#octal(at + 136, 12, sec >= 0n && sec <= MAX_OCTAL_12 ? Number(sec) : 0);
		buf.write(type, at + 156, 1, 'latin1');
		if (e.linkPath) {
			this.#at = at + 157;
			this.#bytes(e.linkPath, 100);
		}
		buf.write('ustar\u000000', at + 257, 8, 'latin1');
		if (e.uname) {
			this.#at = at + 265;
			this.#bytes(Buffer.from(e.uname, 'utf8'), 32);
		}
		if (e.gname) {
			this.#at = at + 297;
			this.#bytes(Buffer.from(e.gname, 'utf8'), 32);
		}
		if (e.type === TarType.charDevice || e.type === TarType.blockDevice) {
			this.#octal(at + 329, 8, Math.min(e.devMajor ?? 0, MAX_OCTAL_8));
			this.#octal(at + 337, 8, Math.min(e.devMinor ?? 0, MAX_OCTAL_8));
		}
		buf.fill(0x20, at + 148, at + 156);
		let sum = 0;
		for (let i = at; i < at + BLOCK; i++)
			sum += buf[i];
		this.#octal(at + 148, 7, sum);
		buf[at + 155] = 0x20;
		this.#at = at + BLOCK;
	}

	/**
	 * The header blocks for one entry: a pax extended header when anything
	 * does not fit ustar exactly, then the ustar header.  The entry's data,
	 * if any, follows, padded with {@link dataPadding}.  The result is a
	 * view of the encoder's buffer, good until its next call.
	 */
	encode(e: TarEntry): Buffer {
		// The records go after room for their own header, written last,
		// when their length is known.
		this.#at = BLOCK;
		const size = e.type === TarType.file ? e.size : 0n;
		for (const [key, value] of e.pax ?? [])
			this.#record(key, value);
		if (ustarSplit(e.path) === undefined || !isPortable(e.path))
			this.#record('path', e.path);
		if (e.linkPath && (e.linkPath.length > 100 || !isPortable(e.linkPath)))
			this.#record('linkpath', e.linkPath);
		if (size > MAX_OCTAL_12)
			this.#record('size', size.toString());
		if (e.uid > MAX_OCTAL_8)
			this.#record('uid', String(e.uid));
		if (e.gid > MAX_OCTAL_8)
			this.#record('gid', String(e.gid));
		if (e.mtime.nsec !== 0 || e.mtime.sec < 0n || e.mtime.sec > MAX_OCTAL_12)
			this.#record('mtime', formatTime(e.mtime));
		if (e.atime)
			this.#record('atime', formatTime(e.atime));
		if (e.ctime)
			this.#record('ctime', formatTime(e.ctime));
		if ((e.devMajor ?? 0) > MAX_OCTAL_8 || (e.devMinor ?? 0) > MAX_OCTAL_8) {
			this.#record('SCHILY.devmajor', String(e.devMajor));
			this.#record('SCHILY.devminor', String(e.devMinor));
		}
		if (e.xattrs?.size) {
			const xattrs = [...e.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
			for (const [name, value] of xattrs) {
				const which = name === 'system.posix_acl_access' ? 'access' : name === 'system.posix_acl_default' ? 'default' : undefined;
				const text = which && aclToText(value);
				if (text)
					this.#record(`SCHILY.acl.${which}`, text);
			}
			for (const [name, value] of xattrs)
				this.#record(`SCHILY.xattr.${name}`, value);
		}

		const records = this.#at - BLOCK;
		if (records === 0) {
			this.#at = 0;
			this.#ustar(e, e.type, e.path, size);
			return this.#buf.subarray(0, BLOCK);
		}
		const pad = padding(BigInt(records));
		this.#room(pad);
		this.#buf.fill(0, this.#at, this.#at + pad);
		this.#at += pad;
		this.#ustar(e, e.type, e.path, size);
		const paxName = Buffer.concat([Buffer.from('PaxHeaders/'), e.path.subarray(Math.max(0, e.path.length - 89))]);
		const paxEntry: TarEntry = { ...e, path: paxName, type: TarType.file, mode: 0o644, size: BigInt(records), linkPath: undefined };
		const total = this.#at;
		this.#at = 0;
		this.#ustar(paxEntry, 'x', paxName, BigInt(records));
		return this.#buf.subarray(0, total);
	}
}

/** encode() of a one-off encoder, as a Buffer of its own. */
export function encodeHeader(e: TarEntry): Buffer {
	return Buffer.from(new HeaderEncoder().encode(e));
}

/** Zero bytes that pad @size bytes of data to a whole block. */
export function dataPadding(size: bigint): Buffer {
	return Buffer.alloc(padding(size));
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
