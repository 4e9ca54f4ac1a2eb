// SPDX-License-Identifier: GPL-2.0
//
// The copy engine (src/copy/engine.ts) over a source and a sink in memory:
// order, hard links, exclusion, scans, holes and failures, no kernel.
import t from 'tap';
import { copyTree, measureTree, CopyError } from '../../dist/src/copy/engine.js';

const time = { sec: 1n, nsec: 2 };

function meta(kind, over = {}) {
	return { kind, mode: kind === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0n, atime: time, mtime: time, ctime: time,
		rdevMajor: 0, rdevMinor: 0, dev: 'mem', ino: 0n, nlink: 1, ...over };
}

/**
 * A tree in memory: path → { meta, data?, target?, xattrs?, map? }.  With
 * `scan`, directories are read in one call with their children's details.
 */
function memSource(nodes, { scan = false } = {}) {
	const calls = [];
	const get = (p) => {
		const n = nodes[p.toString()];
		if (!n)
			throw Object.assign(new Error(`ENOENT: no such file or directory, lstat '/${p}'`), { code: 'ENOENT', path: `/${p}` });
		return n;
	};
	const children = (dir) => {
		const prefix = dir.length ? `${dir}/` : '';
		return Object.keys(nodes).filter((p) => p !== '' && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
			.map((p) => p.slice(prefix.length));
	};
	const source = {
		calls,
		async list(dir) {
			calls.push(`list ${dir}`);
			return children(dir.toString()).reverse().map((n) => Buffer.from(n));
		},
		async meta(p) {
			calls.push(`meta ${p}`);
			return get(p).meta;
		},
		async readlink(p) {
			return Buffer.from(get(p).target);
		},
		async xattrs(p) {
			return new Map(Object.entries(get(p).xattrs ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
		},
		async *read(p) {
			calls.push(`read ${p}`);
			yield Buffer.from(get(p).data ?? '');
		},
		async dataMap(p) {
			calls.push(`dataMap ${p}`);
			return get(p).map;
		},
		async *readMap(p, map) {
			calls.push(`readMap ${p}`);
			for (const r of map)
				yield Buffer.alloc(Number(r.length), 0x61);
		},
	};
	if (scan) {
		source.scan = async (dir, contents) => {
			calls.push(`scan ${dir} ${contents}`);
			return children(dir.toString()).map((name) => {
				const n = nodes[dir.length ? `${dir}/${name}` : name];
				return { name: Buffer.from(name), meta: n.meta, xattrs: new Map(),
					...(contents && n.data !== undefined ? { contents: Buffer.from(n.data) } : {}) };
			});
		};
	}
	return source;
}

/** A sink that writes down what it is asked to do. */
function memSink({ sparse = false } = {}) {
	const log = [];
	const drain = async (data) => {
		const parts = [];
		for await (const c of data)
			parts.push(c);
		return Buffer.concat(parts).toString();
	};
	const sink = {
		log,
		async mkdir(p) { log.push(['mkdir', p.toString()]); },
		async file(p, m, x, data) { log.push(['file', p.toString(), await drain(data)]); },
		async symlink(p, target) { log.push(['symlink', p.toString(), target.toString()]); },
		async link(p, existing) { log.push(['link', p.toString(), existing.toString()]); },
		async special(p, m) { log.push(['special', p.toString(), m.kind]); },
		async finish(p) { log.push(['finish', p.toString()]); },
		async close() { log.push(['close']); },
	};
	if (sparse)
		sink.sparseFile = async (p, m, x, map, data) => { log.push(['sparse', p.toString(), map.length, (await drain(data)).length]); };
	return sink;
}

const tree = () => ({
	'': { meta: meta('directory') },
	b: { meta: meta('directory') },
	'b/z': { meta: meta('file', { size: 1n }), data: 'z' },
	'b/a': { meta: meta('file', { size: 2n, nlink: 2, ino: 7n }), data: 'aa' },
	a: { meta: meta('file', { size: 2n, nlink: 2, ino: 7n }), data: 'aa' },
	l: { meta: meta('symlink'), target: '../x' },
	s: { meta: meta('socket') },
	f: { meta: meta('fifo') },
});

t.test('depth first, in byte order, hard links as links, finish after children', async (t) => {
	const sink = memSink();
	const entries = [];
	let bytes = 0;
	await copyTree(memSource(tree()), sink, { from: Buffer.alloc(0), to: Buffer.from('top'),
		events: { entry: (p) => entries.push(p.toString()), bytes: (n) => { bytes += n; } } });
	t.same(sink.log, [
		['mkdir', 'top'],
		['file', 'top/a', 'aa'], ['finish', 'top/a'],
		['mkdir', 'top/b'],
		['link', 'top/b/a', 'top/a'],
		['file', 'top/b/z', 'z'], ['finish', 'top/b/z'],
		['finish', 'top/b'],
		['special', 'top/f', 'fifo'], ['finish', 'top/f'],
		['symlink', 'top/l', '../x'], ['finish', 'top/l'],
		['special', 'top/s', 'socket'], ['finish', 'top/s'],
		['finish', 'top'],
	]);
	t.same(entries, ['top', 'top/a', 'top/b', 'top/b/a', 'top/b/z', 'top/f', 'top/l', 'top/s']);
	t.equal(bytes, 3, 'bytes counted as they pass');
});

t.test('exclude, transform and skipped sockets', async (t) => {
	const sink = memSink();
	const skipped = [];
	await copyTree(memSource(tree()), sink, {
		from: Buffer.alloc(0), to: Buffer.alloc(0), skipSockets: true,
		exclude: (p) => p.toString() === 'b',
		transform: (m) => ({ ...m, uid: 42 }),
		events: { skipped: (p, m, why) => skipped.push([p.toString(), why]) },
	});
	t.notOk(sink.log.some(([, p]) => p?.startsWith('b')), 'b and what is below it left out');
	t.same(skipped, [['s', 'sockets cannot be archived']]);
});

t.test('a scanning source: one call per directory, small files come along', async (t) => {
	const source = memSource(tree(), { scan: true });
	const sink = memSink();
	await copyTree(source, sink, { from: Buffer.alloc(0), to: Buffer.alloc(0) });
	t.same(source.calls, ['meta ', 'scan  true', 'scan b true'], 'no meta, list or read per entry');
	t.ok(sink.log.some(([op, p, d]) => op === 'file' && p === 'b/z' && d === 'z'));
});

t.test('holes: asked for only when the blocks say so, and only if the sink keeps them', async (t) => {
	const nodes = {
		'': { meta: meta('directory') },
		full: { meta: meta('file', { size: 4096n, blocks: 8n }), data: 'x' },
		holes: { meta: meta('file', { size: 1n << 20n, blocks: 8n }), map: [{ offset: 0n, length: 10n }, { offset: 5000n, length: 6n }] },
	};
	const source = memSource(nodes);
	const sink = memSink({ sparse: true });
	await copyTree(source, sink, { from: Buffer.alloc(0), to: Buffer.alloc(0) });
	t.same(source.calls.filter((c) => /dataMap|readMap/.test(c)), ['dataMap holes', 'readMap holes']);
	t.same(sink.log.find(([op]) => op === 'sparse'), ['sparse', 'holes', 2, 16]);

	const plain = memSource(nodes);
	await copyTree(plain, memSink(), { from: Buffer.alloc(0), to: Buffer.alloc(0) });
	t.notOk(plain.calls.some((c) => c.startsWith('dataMap')), 'a sink without sparseFile gets no map asked for');
});

t.test('a failure names the node, once', async (t) => {
	const nodes = tree();
	const source = memSource(nodes);
	const sink = memSink();
	sink.file = async (p) => {
		if (p.toString() === 'b/z')
			throw Object.assign(new Error('ENOSPC: no space left on device, write \'/b/z\''), { code: 'ENOSPC', path: '/b/z' });
	};
	const err = await copyTree(source, sink, { from: Buffer.alloc(0), to: Buffer.alloc(0) }).catch((e) => e);
	t.ok(err instanceof CopyError);
	t.equal(err.message, 'b/z: no space left on device', 'the path said once');
	t.same(err.path, Buffer.from('b/z'));

	const missing = await copyTree(source, sink, { from: Buffer.from('nope'), to: Buffer.alloc(0) }).catch((e) => e);
	t.equal(missing.message, 'nope: no such file or directory');
	const other = new CopyError(Buffer.from('x'), Object.assign(new Error('EACCES: permission denied, open \'/host/out/x\''),
		{ code: 'EACCES', path: '/host/out/x' }));
	t.equal(other.message, 'x: /host/out/x: permission denied', 'another path is kept, the cause in words');

	// A damaged image whose root cannot even be looked at: "/", not ".".
	const root = await copyTree({ ...source, meta: async () => { throw Object.assign(new Error('EIO: i/o error, lstat \'/\''), { code: 'EIO', path: '/' }); } },
		sink, { from: Buffer.alloc(0), to: Buffer.alloc(0) }).catch((e) => e);
	t.equal(root.message, '/: i/o error', 'the top named by its own path, the cause said once');

	// A damaged inode's size, past what the kernel's loff_t can hold.
	const huge = { ...tree(), z: { meta: meta('file', { size: (1n << 63n) + 55n }) } };
	const big = await copyTree(memSource(huge), memSink(), { from: Buffer.alloc(0), to: Buffer.alloc(0) }).catch((e) => e);
	t.match(big.message, /^z: a size of 9223372036854775863 bytes, more than any file can have/, 'a size no file can have is refused');
});

t.test('a name no directory should hold stops the copy, naming the directory', async (t) => {
	for (const bad of ['../../sentinel/pw', '..', 'a\0b']) {
		const nodes = { '': { meta: meta('directory') }, d: { meta: meta('directory') }, 'd/ok': { meta: meta('file'), data: '' } };
		const source = memSource(nodes);
		source.list = async (dir) => (dir.toString() === 'd' ? [Buffer.from('ok'), Buffer.from(bad)] : [Buffer.from('d')]);
		const sink = memSink();
		const err = await copyTree(source, sink, { from: Buffer.alloc(0), to: Buffer.alloc(0) }).catch((e) => e);
		t.ok(err instanceof CopyError, JSON.stringify(bad));
		t.match(err.message, /^d: refusing /);
		t.same(err.cause.code, 'EPERM');
		t.notOk(sink.log.some(([op, p]) => op === 'file' && p?.includes('sentinel')), 'nothing made under the name');
		await t.rejects(measureTree(source, Buffer.alloc(0)), { code: 'EPERM' }, 'nor counted');
	}
});

t.test('measureTree counts nodes and file bytes', async (t) => {
	t.same(await measureTree(memSource(tree()), Buffer.alloc(0)), { entries: 8, bytes: 5 });
	t.same(await measureTree(memSource(tree(), { scan: true }), Buffer.from('b')), { entries: 3, bytes: 3 });
});
