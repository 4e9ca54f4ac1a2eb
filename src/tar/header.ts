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

function writeString(block: Buffer, offset: number, length: number, value: Buffer): void {
	value.copy(block, offset, 0, Math.min(length, value.length));
}

function writeOctal(block: Buffer, offset: number, length: number, value: bigint): void {
	const digits = value.toString(8).padStart(length - 1, '0');
	block.write(digits, offset, length - 1, 'ascii');
	block[offset + length - 1] = 0;
}

function formatTime(t: TarTime): string {
	if (t.nsec === 0)
		return t.sec.toString();
	const frac = t.nsec.toString().padStart(9, '0').replace(/0+$/, '');
	// A negative time with a fraction: -1.5 means sec = -2, nsec = 5e8.
	if (t.sec < 0n)
		return `-${(-(t.sec + 1n)).toString()}.${(1e9 - t.nsec).toString().padStart(9, '0').replace(/0+$/, '')}`;
	return `${t.sec}.${frac}`;
}

/** One "<length> <key>=<value>\n" record; the length counts itself. */
function paxRecord(key: string, value: Buffer): Buffer {
	const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
	let length = body.length + 1;
	while (String(length).length + body.length !== length)
		length = String(length).length + body.length;
	return Buffer.concat([Buffer.from(String(length), 'ascii'), body]);
}

function isPortable(buf: Buffer): boolean {
	for (const byte of buf)
		if (byte === 0 || byte >= 0x80)
			return false;
	return true;
}

/** Splits a path into ustar's prefix and name fields, if it fits. */
function splitUstar(path: Buffer): { prefix: Buffer; name: Buffer } | null {
	if (path.length <= 100)
		return { prefix: Buffer.alloc(0), name: path };
	for (let i = Math.min(path.length - 1, 155); i > 0; i--) {
		if (path[i] === 0x2f && path.length - i - 1 <= 100 && path.length - i - 1 > 0)
			return { prefix: path.subarray(0, i), name: path.subarray(i + 1) };
	}
	return null;
}

function ustarBlock(e: TarEntry, type: string, path: Buffer, size: bigint): Buffer {
	const block = Buffer.alloc(BLOCK);
	const split = splitUstar(path) ?? { prefix: Buffer.alloc(0), name: path.subarray(0, 100) };

	writeString(block, 0, 100, split.name);
	writeOctal(block, 100, 8, BigInt(e.mode & 0o7777));
	writeOctal(block, 108, 8, BigInt(e.uid <= MAX_OCTAL_8 ? e.uid : 0));
	writeOctal(block, 116, 8, BigInt(e.gid <= MAX_OCTAL_8 ? e.gid : 0));
	writeOctal(block, 124, 12, size <= MAX_OCTAL_12 ? size : 0n);
	const sec = e.mtime.sec;
	writeOctal(block, 136, 12, sec >= 0n && sec <= MAX_OCTAL_12 ? sec : 0n);
	block.write(type, 156, 1, 'ascii');
	if (e.linkPath)
		writeString(block, 157, 100, e.linkPath);
	block.write('ustar\u000000', 257, 8, 'ascii');
	writeString(block, 265, 32, Buffer.from(e.uname ?? '', 'utf8'));
	writeString(block, 297, 32, Buffer.from(e.gname ?? '', 'utf8'));
	if (e.type === TarType.charDevice || e.type === TarType.blockDevice) {
		writeOctal(block, 329, 8, BigInt(Math.min(e.devMajor ?? 0, MAX_OCTAL_8)));
		writeOctal(block, 337, 8, BigInt(Math.min(e.devMinor ?? 0, MAX_OCTAL_8)));
	}
	writeString(block, 345, 155, split.prefix);

	block.fill(0x20, 148, 156);
	let sum = 0;
	for (const byte of block)
		sum += byte;
	block.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'ascii');
	return block;
}

function padding(size: bigint): number {
	const rest = Number(size % BigInt(BLOCK));
	return rest === 0 ? 0 : BLOCK - rest;
}

/**
 * The header blocks for one entry: a pax extended header when anything
 * does not fit ustar exactly, then the ustar header.  The entry's data, if
 * any, follows, padded with {@link dataPadding}.
 */
export function encodeHeader(e: TarEntry): Buffer {
	const records: Buffer[] = [];
	const add = (key: string, value: string | Buffer) =>
		records.push(paxRecord(key, typeof value === 'string' ? Buffer.from(value, 'utf8') : value));

	const size = e.type === TarType.file ? e.size : 0n;
	for (const [key, value] of e.pax ?? [])
		add(key, value);
	if (!splitUstar(e.path) || !isPortable(e.path))
		add('path', e.path);
	if (e.linkPath && (e.linkPath.length > 100 || !isPortable(e.linkPath)))
		add('linkpath', e.linkPath);
	if (size > MAX_OCTAL_12)
		add('size', size.toString());
	if (e.uid > MAX_OCTAL_8)
		add('uid', String(e.uid));
	if (e.gid > MAX_OCTAL_8)
		add('gid', String(e.gid));
	if (e.mtime.nsec !== 0 || e.mtime.sec < 0n || e.mtime.sec > MAX_OCTAL_12)
		add('mtime', formatTime(e.mtime));
	if (e.atime)
		add('atime', formatTime(e.atime));
	if (e.ctime)
		add('ctime', formatTime(e.ctime));
	if ((e.devMajor ?? 0) > MAX_OCTAL_8 || (e.devMinor ?? 0) > MAX_OCTAL_8) {
		add('SCHILY.devmajor', String(e.devMajor));
		add('SCHILY.devminor', String(e.devMinor));
	}
	const xattrs = [...(e.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	for (const [name, value] of xattrs) {
		const which = name === 'system.posix_acl_access' ? 'access' : name === 'system.posix_acl_default' ? 'default' : undefined;
		const text = which && aclToText(value);
		if (text)
			add(`SCHILY.acl.${which}`, text);
	}
	for (const [name, value] of xattrs)
		add(`SCHILY.xattr.${name}`, value);

	const ustar = ustarBlock(e, e.type, e.path, size);
	if (records.length === 0)
		return ustar;

	const data = Buffer.concat(records);
	const paxName = Buffer.concat([Buffer.from('PaxHeaders/'), e.path.subarray(Math.max(0, e.path.length - 89))]);
	const paxEntry: TarEntry = { ...e, path: paxName, type: TarType.file, mode: 0o644, size: BigInt(data.length), linkPath: undefined };
	const paxHeader = ustarBlock(paxEntry, 'x', paxName, BigInt(data.length));
	return Buffer.concat([paxHeader, data, Buffer.alloc(padding(BigInt(data.length))), ustar]);
}

/** Zero bytes that pad @size bytes of data to a whole block. */
export function dataPadding(size: bigint): Buffer {
	return Buffer.alloc(padding(size));
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
