// SPDX-License-Identifier: GPL-2.0
//
// The tar writer and reader (src/tar/header.ts, reader.ts, sparse.ts and
// the TarSink in src/copy/tar-sink.ts) against each other, no kernel:
// what goes in comes out byte for byte.
import { PassThrough, Readable } from 'node:stream';
import t from 'tap';
import { encodeHeader, dataPadding, END_OF_ARCHIVE, TarType } from '../../dist/src/tar/header.js';
import { readTar } from '../../dist/src/tar/reader.js';
import { TarSink } from '../../dist/src/copy/tar-sink.js';

const time = (sec, nsec = 0) => ({ sec: BigInt(sec), nsec });

function entry(over = {}) {
	return {
		path: Buffer.from('f'), type: TarType.file, mode: 0o644, uid: 0, gid: 0, size: 0n,
		mtime: time(1_700_000_000), ...over,
	};
}

/** An archive of [entry, data] pairs, as encodeHeader lays it out. */
function archive(items) {
	const parts = [];
	for (const [e, data = Buffer.alloc(0)] of items)
		parts.push(encodeHeader(e), data, dataPadding(BigInt(data.length)));
	parts.push(END_OF_ARCHIVE);
	return Buffer.concat(parts);
}

async function readAll(bytes, chunk = 700) {
	const out = [];
	const pieces = [];
	for (let i = 0; i < bytes.length; i += chunk)
		pieces.push(bytes.subarray(i, i + chunk));
	for await (const { entry: e, data } of readTar(Readable.from(pieces))) {
		const chunks = [];
		for await (const c of data)
			chunks.push(c);
		out.push({ ...e, data: Buffer.concat(chunks) });
	}
	return out;
}

t.test('a plain file: ustar only, data back', async (t) => {
	const data = Buffer.from('hello\n');
	const bytes = archive([[entry({ size: 6n }), data]]);
	t.equal(bytes.length, 512 + 512 + 1024, 'no pax header when ustar holds it all');
	const [e] = await readAll(bytes);
	t.same(e.path, Buffer.from('f'));
	t.equal(e.type, '0');
	t.equal(e.mode, 0o644);
	t.equal(e.size, 6n);
	t.same(e.mtime, time(1_700_000_000));
	t.same(e.data, data);
});

t.test('long names and link targets, and names that are not UTF-8', async (t) => {
	const long = Buffer.from(`${'d'.repeat(120)}/${'e'.repeat(150)}/${'f'.repeat(200)}`);
	const split = Buffer.from(`${'p'.repeat(120)}/${'n'.repeat(90)}`);	// fits ustar's prefix + name
	const raw = Buffer.from([0x61, 0xff, 0xfe, 0x2f, 0x80]);
	const items = [
		[entry({ path: long, size: 1n }), Buffer.from('x')],
		[entry({ path: split })],
		[entry({ path: raw })],
		[entry({ path: Buffer.from('sym'), type: TarType.symlink, linkPath: long })],
		[entry({ path: Buffer.from('hard'), type: TarType.link, linkPath: raw })],
	];
	const got = await readAll(archive(items));
	t.same(got.map((e) => e.path), [long, split, raw, Buffer.from('sym'), Buffer.from('hard')]);
	t.same(got[3].linkPath, long);
	t.same(got[4].linkPath, raw);
	t.equal(got[4].type, '1');
	t.same(got[0].data, Buffer.from('x'));
});

t.test('pax xattrs keep binary values; ACLs also as text', async (t) => {
	const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
	const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
	// An ACL: user::rw-, user:1000:r--, group::r--, mask::r--, other::---
	const acl = Buffer.alloc(4 + 5 * 8);
	acl.writeUInt32LE(2, 0);
	[[1, 6, 0xffffffff], [2, 4, 1000], [4, 4, 0xffffffff], [0x10, 4, 0xffffffff], [0x20, 0, 0xffffffff]]
		.forEach(([tag, perm, id], i) => {
			acl.writeUInt16LE(tag, 4 + i * 8);
			acl.writeUInt16LE(perm, 6 + i * 8);
			acl.writeUInt32LE(id, 8 + i * 8);
		});
	const xattrs = new Map([['user.bytes', all], ['security.capability', cap], ['system.posix_acl_access', acl],
		['user.empty', Buffer.alloc(0)], ['user.newline', Buffer.from('a\nb=c\n')]]);
	const [e] = await readAll(archive([[entry({ xattrs })]]));
	t.same([...e.xattrs.keys()].sort(), [...xattrs.keys()].sort());
	for (const [k, v] of xattrs)
		t.same(e.xattrs.get(k), v, k);
	t.match(e.acls.access, /user:1000:r--/, 'SCHILY.acl.access written beside the binary ACL');
});

t.test('big ids, sizes, device numbers and nanosecond times', async (t) => {
	const items = [
		[entry({ uid: 4_000_000_000, gid: 3_000_000_000, mtime: time(1_700_000_000, 123_456_789),
			atime: time(1, 1), ctime: time(1_700_000_001, 999_999_999) })],
		[entry({ path: Buffer.from('old'), mtime: time(-2, 500_000_000) })],
		[entry({ path: Buffer.from('dev'), type: TarType.charDevice, devMajor: 4095, devMinor: 1_048_575 })],
		[entry({ path: Buffer.from('future'), mtime: time(2n ** 40n) })],
	];
	const [ids, old, dev, future] = await readAll(archive(items));
	t.equal(ids.uid, 4_000_000_000);
	t.equal(ids.gid, 3_000_000_000);
	t.same(ids.mtime, time(1_700_000_000, 123_456_789));
	t.same(ids.atime, time(1, 1));
	t.same(ids.ctime, time(1_700_000_001, 999_999_999));
	t.same(old.mtime, time(-2, 500_000_000), 'before 1970, with a fraction');
	t.equal(dev.devMajor, 4095);
	t.equal(dev.devMinor, 1_048_575);
	t.same(future.mtime, time(2n ** 40n));
});

t.test('a file over 8 GiB keeps its size (pax size record)', async (t) => {
	const size = 9n << 30n;
	const header = encodeHeader(entry({ size }));
	// The header alone, the data cut off: the reader must still read the size.
	const gen = readTar(Readable.from([header]));
	const { value } = await gen.next();
	t.equal(value.entry.size, size);
	await gen.return();
});

t.test('a damaged header and a cut archive are named', async (t) => {
	const bytes = archive([[entry({ size: 3n }), Buffer.from('abc')]]);
	const bad = Buffer.from(bytes);
	bad[0] ^= 1;
	await t.rejects(readAll(bad), { code: 'ERR_TAR_BAD_HEADER' });
	await t.rejects(readAll(bytes.subarray(0, 600)), { code: 'ERR_TAR_TRUNCATED' });
});

/*
 * The sink refills a buffer once its write has called back: a consumer
 * keeps a copy, as a file or a pipe does.
 */
async function viaSink(write) {
	const out = new PassThrough();
	const chunks = [];
	out.on('data', (c) => chunks.push(Buffer.from(c)));
	const sink = new TarSink(out);
	await write(sink);
	await sink.close();
	return Buffer.concat(chunks);
}

const meta = (over = {}) => ({
	kind: 'file', mode: 0o600, uid: 1, gid: 2, size: 0n, atime: time(5), mtime: time(6, 7), ctime: time(8),
	rdevMajor: 0, rdevMinor: 0, dev: 'd', ino: 1n, nlink: 1, ...over,
});

async function* chunksOf(...bufs) {
	yield* bufs;
}

t.test('a sparse file through TarSink comes back with its map', async (t) => {
	const size = 10n << 20n;
	const map = [{ offset: 0n, length: 4n }, { offset: 5n << 20n, length: 3n }];
	const bytes = await viaSink(async (sink) => {
		await sink.sparseFile(Buffer.from('dir/holes'), meta({ size }), new Map(), map, chunksOf(Buffer.from('abcd'), Buffer.from('xyz')));
	});
	const [e] = await readAll(bytes);
	t.same(e.path, Buffer.from('dir/holes'), 'the real name, not the stand-in');
	t.equal(e.size, size, 'the real size');
	t.same(e.sparse, map);
	t.same(e.data, Buffer.from('abcdxyz'), 'only the regions\' bytes');
});

t.test('TarSink: an archive many batches long, of big files and small, comes back byte for byte', async (t) => {
	// Distinct bytes at every offset, so a batch refilled too early shows.
	const big = Buffer.alloc((3 << 20) + 12345);
	for (let i = 0; i + 4 <= big.length; i += 4)
		big.writeUInt32LE(i, i);
	const files = [['big', big]];
	for (let i = 0; i < 3000; i++)
		files.push([`small/${i}`, Buffer.from(`file ${i}\n`.repeat(i % 7))]);
	const bytes = await viaSink(async (sink) => {
		for (const [name, data] of files) {
			const pieces = [];
			for (let at = 0; at < data.length; at += 1 << 20)
				pieces.push(data.subarray(at, at + (1 << 20)));
			await sink.file(Buffer.from(name), meta({ size: BigInt(data.length) }), new Map(), chunksOf(...pieces));
		}
	});
	const back = await readAll(bytes, 65536);
	t.equal(back.length, files.length);
	t.ok(back.every((e, i) => e.path.equals(Buffer.from(files[i][0])) && e.data.equals(files[i][1])), 'every name and every byte');
});

t.test('TarSink: a file that shrank is padded, one that grew is cut', async (t) => {
	const bytes = await viaSink(async (sink) => {
		await sink.file(Buffer.from('shrank'), meta({ size: 5n }), new Map(), chunksOf(Buffer.from('ab')));
		await sink.file(Buffer.from('grew'), meta({ size: 2n }), new Map(), chunksOf(Buffer.from('abcdef')));
	});
	const [shrank, grew] = await readAll(bytes);
	t.same(shrank.data, Buffer.from('ab\0\0\0'));
	t.same(grew.data, Buffer.from('ab'));
});
