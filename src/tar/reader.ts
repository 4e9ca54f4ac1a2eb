/**
 * Reads a tar stream (ustar, pax, GNU long names) entry by entry.
 *
 * Written by hand for the same reason as header.ts: tar-stream decodes
 * pax values as UTF-8 text, which corrupts binary xattrs (capabilities,
 * ACLs), and it drops atime/ctime.  Values are kept as raw bytes here.
 */
import type { Readable } from 'node:stream';
import { decodeSparseMap } from './sparse.js';
import { BLOCK, type TarReadEntry, type TarTime } from './header.js';

export type { TarReadEntry } from './header.js';

/** Pulls exact byte counts out of a stream. */
class ByteReader {
	readonly #it: AsyncIterator<Buffer>;
	#buf = Buffer.alloc(0);
	#done = false;

	constructor(input: Readable) {
		this.#it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
	}

	async #fill(n: number): Promise<boolean> {
		while (this.#buf.length < n && !this.#done) {
			const r = await this.#it.next();
			if (r.done)
				this.#done = true;
			else
				this.#buf = this.#buf.length ? Buffer.concat([this.#buf, r.value]) : Buffer.from(r.value);
		}
		return this.#buf.length >= n;
	}

	/** Exactly n bytes, or null at the end of the stream. */
	async read(n: number): Promise<Buffer | null> {
		if (!(await this.#fill(n)))
			return this.#buf.length === 0 ? null : truncated();
		const out = this.#buf.subarray(0, n);
		this.#buf = this.#buf.subarray(n);
		return out;
	}

	/** n bytes as a sequence of chunks, without gathering them. */
	async *chunks(n: bigint): AsyncIterable<Buffer> {
		let left = n;
		while (left > 0n) {
			if (this.#buf.length === 0 && !(await this.#fill(1)))
				truncated();
			const take = BigInt(this.#buf.length) < left ? this.#buf.length : Number(left);
			const out = this.#buf.subarray(0, take);
			this.#buf = this.#buf.subarray(take);
			left -= BigInt(take);
			yield out;
		}
	}
}

function truncated(): never {
	throw Object.assign(new Error('the archive ends in the middle of an entry (truncated?)'), { code: 'ERR_TAR_TRUNCATED' });
}

function field(block: Buffer, off: number, len: number): Buffer {
	const end = block.indexOf(0, off);
	return block.subarray(off, end >= 0 && end < off + len ? end : off + len);
}

/** An octal number, or GNU's base-256 form for large values. */
function number(block: Buffer, off: number, len: number): bigint {
	if (block[off] & 0x80) {
		let v = BigInt(block[off] & 0x7f);
		for (let i = 1; i < len; i++)
			v = (v << 8n) | BigInt(block[off + i]);
		return v;
	}
	const text = field(block, off, len).toString('ascii').trim();
	return text ? BigInt(`0o${text}`) : 0n;
}

function parseTime(value: string): TarTime {
	const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
	if (!m)
		return { sec: 0n, nsec: 0 };
	let sec = BigInt(m[2]);
	let nsec = Number((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
	if (m[1]) {
		sec = -sec;
		if (nsec) {
			sec -= 1n;
			nsec = 1e9 - nsec;
		}
	}
	return { sec, nsec };
}

/** pax records: "<len> <key>=<value>\n", values as raw bytes. */
function parsePax(data: Buffer): Map<string, Buffer> {
	const out = new Map<string, Buffer>();
	let off = 0;
	while (off < data.length) {
		const space = data.indexOf(0x20, off);
		if (space < 0)
			break;
		const len = Number(data.subarray(off, space).toString('ascii'));
		if (!Number.isInteger(len) || len <= 0 || off + len > data.length)
			throw new Error('a damaged pax header');
		const record = data.subarray(space + 1, off + len - 1);
		const eq = record.indexOf(0x3d);
		if (eq > 0)
			out.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
		off += len;
	}
	return out;
}

function checksumOk(block: Buffer): boolean {
	let sum = 0;
	for (let i = 0; i < BLOCK; i++)
		sum += i >= 148 && i < 156 ? 0x20 : block[i];
	return Number(number(block, 148, 8)) === sum;
}

/** Yields each entry; the caller must consume `data` before the next. */
export async function* readTar(input: Readable): AsyncGenerator<{ entry: TarReadEntry; data: AsyncIterable<Buffer> }> {
	const reader = new ByteReader(input);
	let global = new Map<string, Buffer>();
	let pax = new Map<string, Buffer>();
	let longName: Buffer | undefined;
	let longLink: Buffer | undefined;

	for (;;) {
		const block = await reader.read(BLOCK);
		if (!block || block.every((b) => b === 0))
			return;
		if (!checksumOk(block))
			throw Object.assign(new Error('not a tar archive, or a damaged header'), { code: 'ERR_TAR_BAD_HEADER' });

		const type = String.fromCharCode(block[156] || 0x30);
		const size = number(block, 124, 12);
		const padded = (size + BigInt(BLOCK - 1)) / BigInt(BLOCK) * BigInt(BLOCK);

		if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
			const data = size ? await reader.read(Number(padded)) : Buffer.alloc(0);
			if (!data)
				truncated();
			const body = data.subarray(0, Number(size));
			if (type === 'x')
				pax = new Map([...pax, ...parsePax(body)]);
			else if (type === 'g')
				global = new Map([...global, ...parsePax(body)]);
			else if (type === 'L')
				longName = field(body, 0, body.length);
			else
				longLink = field(body, 0, body.length);
			continue;
		}

		const all = new Map([...global, ...pax]);
		// GNU tar -S: the data holds a map of the file's holes.  Its 1.0
		// format (the one of --format=posix) is read; the older ones would
		// unpack as a file under a made-up name with the map in it, so they
		// are refused rather than written wrong.
		const sparse1 = all.get('GNU.sparse.major')?.toString() === '1' && all.get('GNU.sparse.minor')?.toString() === '0';
		if (!sparse1 && (type === 'S' || [...all.keys()].some((k) => k.startsWith('GNU.sparse.'))))
			throw Object.assign(new Error('sparse files in GNU tar\'s older formats are not supported (tar -S --format=posix writes one that is)'), { code: 'ERR_TAR_SPARSE' });
		const prefix = field(block, 345, 155);
		const name = field(block, 0, 100);
		const text = (k: string) => all.get(k)?.toString('utf8');
		const xattrs = new Map<string, Buffer>();
		for (const [k, v] of all)
			if (k.startsWith('SCHILY.xattr.'))
				xattrs.set(k.slice(13), v);

		const entrySize = text('size') !== undefined ? BigInt(text('size') as string) : size;
		const entry: TarReadEntry = {
			type: type === '7' ? '0' : type,
			path: all.get('path') ?? longName ?? (prefix.length ? Buffer.concat([prefix, Buffer.from('/'), name]) : name),
			linkPath: all.get('linkpath') ?? longLink ?? field(block, 157, 100),
			mode: Number(number(block, 100, 8)) & 0o7777,
			uid: Number(text('uid') ?? number(block, 108, 8)),
			gid: Number(text('gid') ?? number(block, 116, 8)),
			size: entrySize,
			mtime: text('mtime') !== undefined ? parseTime(text('mtime') as string) : { sec: number(block, 136, 12), nsec: 0 },
			atime: text('atime') !== undefined ? parseTime(text('atime') as string) : undefined,
			ctime: text('ctime') !== undefined ? parseTime(text('ctime') as string) : undefined,
			devMajor: Number(text('SCHILY.devmajor') ?? number(block, 329, 8)),
			devMinor: Number(text('SCHILY.devminor') ?? number(block, 337, 8)),
			xattrs,
			acls: { access: text('SCHILY.acl.access'), default: text('SCHILY.acl.default') },
		};
		pax = new Map();
		longName = longLink = undefined;

		const stored = entry.type === '0' ? entrySize : 0n;
		const padding = (stored + BigInt(BLOCK - 1)) / BigInt(BLOCK) * BigInt(BLOCK) - stored;
		let dataSize = stored;
		if (sparse1 && entry.type === '0') {
			const name = all.get('GNU.sparse.name');
			const real = text('GNU.sparse.realsize');
			if (!name || real === undefined || !/^\d+$/.test(real))
				throw new Error('a sparse file without its name or size');
			const { map, bytes } = await decodeSparseMap(() => reader.read(BLOCK));
			if (BigInt(bytes) > dataSize || map.some((r) => r.offset + r.length > BigInt(real)))
				throw new Error('a damaged sparse file map');
			entry.path = name;
			entry.size = BigInt(real);
			entry.sparse = map;
			dataSize -= BigInt(bytes);
			if (map.reduce((sum, r) => sum + r.length, 0n) !== dataSize)
				throw new Error('a sparse file whose map does not match its data');
		}
		let consumed = false;
		const data = (async function* () {
			consumed = true;
			yield* reader.chunks(dataSize);
		})();
		yield { entry, data };
		if (!consumed)
			for await (const _ of reader.chunks(dataSize))
				void _;
		for await (const _ of reader.chunks(padding))
			void _;
	}
}
