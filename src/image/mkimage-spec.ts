/**
 * What `lkl mkimage` is asked to make, from the command line
 * (--table, --size, --part) or from a JSON file (--spec), checked in full
 * before anything is written: every mistake is one line naming the
 * argument or the file and key.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isGuid } from './guid.js';
import { gptTypeGuid, mbrTypeByte } from './partition-types.js';

export type TableKind = 'gpt' | 'mbr' | 'none';
export const TABLES: readonly TableKind[] = ['gpt', 'mbr', 'none'];

/** The filesystems mkimage formats; "none" leaves a partition unformatted. */
export type FsKind = 'ext4' | 'xfs' | 'btrfs' | 'vfat' | 'none';
export const FILESYSTEMS: readonly FsKind[] = ['ext4', 'xfs', 'btrfs', 'vfat', 'none'];

/** A size as asked: bytes, what the content needs (auto), or what is left of the disk (rest). */
export type SizeAsked = number | 'auto' | 'rest';

export interface PartAsked {
	/** GPT: the type GUID (lower case); MBR: the type byte. */
	readonly type: string | number;
	/** GPT name (PARTLABEL). */
	readonly name?: string;
	readonly fs: FsKind;
	readonly size: SizeAsked;
	/** Host directories and tar archives, in order, each filling the filesystem's root. */
	readonly from: readonly string[];
	/** The filesystem's label. */
	readonly label?: string;
	/** MBR boot flag. */
	readonly bootable?: boolean;
	/** More options for the mkfs program, before the device. */
	readonly mkfsOptions: readonly string[];
}

export interface ImageAsked {
	readonly table: TableKind;
	/** The whole image; for table "none", the one filesystem's size. */
	readonly size: number | 'auto';
	readonly parts: readonly PartAsked[];
}

/** A spec that cannot be: its message is the one line to show. */
export class SpecError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'SpecError';
	}
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** "260M", "1.5G", "4096", "2GiB" as bytes (binary units); undefined if it is none. */
export function parseBytes(text: string): number | undefined {
	const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
	if (!m)
		return undefined;
	const bytes = Math.ceil(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
	return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

function sizeOf(text: string, where: string, allowRest: boolean): SizeAsked {
	if (text === 'auto' || (allowRest && text === 'rest'))
		return text;
	const bytes = parseBytes(text);
	if (bytes === undefined)
		throw new SpecError(`${where}: not a size: ${JSON.stringify(text)} (a number with K, M, G or T, or auto${allowRest ? ' or rest' : ''})`);
	return bytes;
}

/*
 * The Discoverable Partitions Specification's root and /usr types differ
 * per architecture: "root" and "usr" name this machine's, as systemd's
 * tools do.
 */
const ARCH: Record<string, string> = { x64: 'x86-64', arm64: 'arm64', ia32: 'x86', arm: 'arm', riscv64: 'riscv64' };

function typeOf(table: TableKind, text: string, where: string): string | number {
	if (table === 'gpt') {
		const arch = ARCH[process.arch];
		const alias = (text === 'root' || text === 'usr') && arch ? `${text}-${arch}` : text;
		const guid = gptTypeGuid(alias);
		if (!guid || guid === '00000000-0000-0000-0000-000000000000')
			throw new SpecError(`${where}: not a GPT partition type: ${JSON.stringify(text)} (an alias such as esp, linux, root, home, swap, xbootldr, or a GUID)`);
		return guid;
	}
	// MBR has one Linux type for every Linux filesystem.
	const alias = ['root', 'usr', 'home', 'srv', 'var'].includes(text) ? 'linux' : text;
	const byte = mbrTypeByte(alias);
	if (byte === undefined || byte === 0x05 || byte === 0x0f || byte === 0x85 || byte === 0xee)
		throw new SpecError(`${where}: not an MBR partition type: ${JSON.stringify(text)} (an alias such as esp, linux, swap, fat32, or a byte such as 0x83)`);
	return byte;
}

function fsOf(text: string, where: string): FsKind {
	if (!(FILESYSTEMS as readonly string[]).includes(text))
		throw new SpecError(`${where}: not a filesystem mkimage makes: ${JSON.stringify(text)} (${FILESYSTEMS.join(', ')})`);
	return text as FsKind;
}

// What each mkfs takes as a label.
const LABEL_MAX: Record<FsKind, number> = { ext4: 16, xfs: 12, btrfs: 255, vfat: 11, none: 0 };

/** The checks every partition gets, however it was given. */
function checkPart(table: TableKind, p: PartAsked, where: string, index: number, count: number): void {
	if (p.label !== undefined) {
		if (p.fs === 'none')
			throw new SpecError(`${where}: an unformatted partition has no label`);
		if (Buffer.byteLength(p.label) > LABEL_MAX[p.fs] || p.label === '')
			throw new SpecError(`${where}: a ${p.fs} label is 1 to ${LABEL_MAX[p.fs]} bytes, not ${JSON.stringify(p.label)}`);
	}
	if (p.fs === 'none' && p.from.length)
		throw new SpecError(`${where}: an unformatted partition cannot be filled`);
	if (p.fs === 'none' && p.size === 'auto')
		throw new SpecError(`${where}: an unformatted partition has no content to size it by: give a size`);
	if (p.size === 'rest' && index !== count - 1)
		throw new SpecError(`${where}: only the last partition can take the rest of the disk`);
	if (table === 'gpt' && p.name !== undefined && Buffer.byteLength(p.name, 'utf16le') > 72)
		throw new SpecError(`${where}: a GPT name is at most 36 UTF-16 units, not ${JSON.stringify(p.name)}`);
	if (table !== 'gpt' && p.name !== undefined)
		throw new SpecError(`${where}: only GPT partitions have names`);
	if (table !== 'mbr' && p.bootable !== undefined)
		throw new SpecError(`${where}: only MBR partitions have a boot flag`);
}

function checkImage(image: ImageAsked, where: string): ImageAsked {
	if (image.parts.length === 0)
		throw new SpecError(`${where}: no partitions: give at least one`);
	if (image.table === 'none' && image.parts.length !== 1)
		throw new SpecError(`${where}: with no partition table the image holds one filesystem, not ${image.parts.length}`);
	if (image.table === 'gpt' && image.parts.length > 128)
		throw new SpecError(`${where}: a GPT holds at most 128 partitions`);
	return image;
}

// Command line ---------------------------------------------------------------

/** The values of --table, --size and every --part. */
export interface CommandLineSpec {
	table?: string;
	size?: string;
	parts: readonly string[];
}

/**
 * --part [NAME=]TYPE:FS:SIZE[:SOURCE] for a table, FS:SIZE[:SOURCE] with
 * --table none.  The source is the last field, so that it may hold colons.
 */
function partFromArg(table: TableKind, arg: string, index: number, count: number): { part: PartAsked; size: SizeAsked } {
	const where = `--part ${JSON.stringify(arg)}`;
	const fields: string[] = [];
	let rest = arg;
	const wanted = table === 'none' ? 2 : 3;
	while (fields.length < wanted) {
		const at = rest.indexOf(':');
		if (at < 0) {
			fields.push(rest);
			rest = '';
			break;
		}
		fields.push(rest.slice(0, at));
		rest = rest.slice(at + 1);
	}
	if (fields.length < wanted || fields.some((f) => f === ''))
		throw new SpecError(`${where}: give ${table === 'none' ? 'FS:SIZE[:SOURCE]' : '[NAME=]TYPE:FS:SIZE[:SOURCE]'}`);
	const source = arg.length > fields.join(':').length ? rest : '';
	let name: string | undefined;
	let type: string | number = 0;
	if (table !== 'none') {
		let typeText = fields.shift()!;
		const eq = typeText.indexOf('=');
		if (eq >= 0) {
			name = typeText.slice(0, eq);
			typeText = typeText.slice(eq + 1);
		} else if (table === 'gpt' && !isGuid(typeText)) {
			name = typeText;	// the alias names it, as a partitioning tool would
		}
		type = typeOf(table, typeText, where);
	}
	const fs = fsOf(fields[0]!, where);
	const size = sizeOf(fields[1]!, where, table !== 'none');
	const part: PartAsked = { type, name, fs, size, from: source ? [source] : [], mkfsOptions: [] };
	checkPart(table, part, where, index, count);
	return { part, size };
}

export function specFromCommandLine(spec: CommandLineSpec): ImageAsked {
	const table = (spec.table ?? 'gpt') as TableKind;
	if (!TABLES.includes(table))
		throw new SpecError(`--table: not a partition table: ${JSON.stringify(spec.table)} (gpt, mbr or none)`);
	if (spec.parts.length === 0)
		throw new SpecError('give the partitions with --part (or a spec file with --spec)');
	const parts = spec.parts.map((arg, i) => partFromArg(table, arg, i, spec.parts.length).part);
	let size: number | 'auto';
	if (table === 'none') {
		if (spec.size !== undefined)
			throw new SpecError('--size: with --table none, the size is the filesystem\'s, in --part FS:SIZE');
		size = parts[0]!.size as number | 'auto';
	} else {
		size = sizeOf(spec.size ?? 'auto', '--size', false) as number | 'auto';
	}
	return checkImage({ table, size, parts }, '--part');
}

// JSON -------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: Json | undefined): v is { [key: string]: Json } {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TOP_KEYS = ['table', 'size', 'partitions'];
const PART_KEYS = ['type', 'name', 'fs', 'size', 'from', 'label', 'bootable', 'mkfsOptions'];

/**
 * A spec file: { "table": "gpt"|"mbr"|"none", "size": "auto"|"2G"|bytes,
 * "partitions": [{ "type", "name", "fs", "size", "from", "label",
 * "bootable", "mkfsOptions" }] }.  Relative sources are taken from the
 * file's directory.
 */
export function specFromFile(file: string): ImageAsked {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (err) {
		throw new SpecError(`${file}: cannot read it: ${(err as Error).message}`);
	}
	let doc: Json;
	try {
		doc = JSON.parse(text) as Json;
	} catch (err) {
		throw new SpecError(`${file}: not JSON: ${(err as Error).message}`);
	}
	return specFromJson(doc, file, dirname(resolve(file)));
}

export function specFromJson(doc: Json, file: string, base: string): ImageAsked {
	const at = (key: string) => `${file}: ${key}`;
	if (!isObject(doc))
		throw new SpecError(`${file}: the spec is a JSON object with "table", "size" and "partitions"`);
	for (const key of Object.keys(doc))
		if (!TOP_KEYS.includes(key))
			throw new SpecError(`${at(key)}: not a key of a spec (${TOP_KEYS.join(', ')})`);
	const table = (doc.table ?? 'gpt') as TableKind;
	if (typeof table !== 'string' || !TABLES.includes(table))
		throw new SpecError(`${at('table')}: not a partition table: ${JSON.stringify(doc.table)} (gpt, mbr or none)`);
	const sizeText = (v: Json | undefined, key: string, allowRest: boolean): SizeAsked => {
		if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0)
			return v;
		if (typeof v !== 'string')
			throw new SpecError(`${at(key)}: a size is a string such as "260M", "auto"${allowRest ? ' or "rest"' : ''}, or a number of bytes`);
		return sizeOf(v, at(key), allowRest);
	};
	if (!Array.isArray(doc.partitions) || doc.partitions.length === 0)
		throw new SpecError(`${at('partitions')}: a list of one or more partitions`);
	const list = doc.partitions;
	const parts = list.map((p, i): PartAsked => {
		const key = (k?: string) => `partitions[${i}]${k ? `.${k}` : ''}`;
		if (!isObject(p))
			throw new SpecError(`${at(key())}: a partition is an object with "type", "fs", "size" and "from"`);
		for (const k of Object.keys(p))
			if (!PART_KEYS.includes(k))
				throw new SpecError(`${at(key(k))}: not a key of a partition (${PART_KEYS.join(', ')})`);
		const str = (k: string): string | undefined => {
			const v = p[k];
			if (v === undefined)
				return undefined;
			if (typeof v !== 'string')
				throw new SpecError(`${at(key(k))}: a string, not ${JSON.stringify(v)}`);
			return v;
		};
		let type: string | number = 0;
		if (table === 'none') {
			if (p.type !== undefined)
				throw new SpecError(`${at(key('type'))}: with table "none" there is no partition type`);
		} else {
			const t = p.type;
			if (typeof t === 'number' && table === 'mbr')
				type = typeOf(table, `0x${t.toString(16)}`, at(key('type')));
			else if (typeof t === 'string')
				type = typeOf(table, t, at(key('type')));
			else
				throw new SpecError(`${at(key('type'))}: give the partition type (an alias such as esp or linux, or a ${table === 'gpt' ? 'GUID' : 'type byte'})`);
		}
		const fsText = str('fs');
		if (fsText === undefined)
			throw new SpecError(`${at(key('fs'))}: give the filesystem (${FILESYSTEMS.join(', ')})`);
		let size: SizeAsked;
		if (table === 'none') {
			if (p.size !== undefined)
				throw new SpecError(`${at(key('size'))}: with table "none", give the size at the top ("size")`);
			size = doc.size === undefined ? 'auto' : sizeText(doc.size, 'size', false);
		} else {
			size = p.size === undefined ? (i === list.length - 1 ? 'rest' : 'auto') : sizeText(p.size, key('size'), true);
		}
		const fromValue = p.from ?? [];
		const from = typeof fromValue === 'string' ? [fromValue] : fromValue;
		if (!Array.isArray(from) || from.some((s) => typeof s !== 'string' || s === ''))
			throw new SpecError(`${at(key('from'))}: a path, or a list of paths, of host directories and tar archives`);
		const opts = p.mkfsOptions ?? [];
		if (!Array.isArray(opts) || opts.some((s) => typeof s !== 'string'))
			throw new SpecError(`${at(key('mkfsOptions'))}: a list of strings`);
		if (p.bootable !== undefined && typeof p.bootable !== 'boolean')
			throw new SpecError(`${at(key('bootable'))}: true or false`);
		const typeText = typeof p.type === 'string' ? p.type : undefined;
		const name = str('name') ?? (table === 'gpt' && typeText && !isGuid(typeText) ? typeText : undefined);
		const part: PartAsked = {
			type, name, fs: fsOf(fsText, at(key('fs'))), size,
			from: (from as string[]).map((s) => resolve(base, s)),
			label: str('label'), bootable: p.bootable as boolean | undefined, mkfsOptions: opts as string[],
		};
		checkPart(table, part, at(key()), i, list.length);
		return part;
	});
	const size = table === 'none' ? parts[0]!.size as number | 'auto'
		: doc.size === undefined ? 'auto' : sizeText(doc.size, 'size', false) as number | 'auto';
	return checkImage({ table, size, parts }, file);
}
