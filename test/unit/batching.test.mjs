// SPDX-License-Identifier: GPL-2.0
//
// The copy layer's two pieces of bookkeeping for fewer calls, no kernel:
// ScanAhead (src/copy/scan-ahead.ts), which starts directory scans in the
// walk's order and never more than its window at once, and SmallFiles
// (src/copy/small-files.ts), the batch a sink holds back.
import t from 'tap';
import { ScanAhead } from '../../dist/src/copy/scan-ahead.js';
import { SmallFiles } from '../../dist/src/copy/small-files.js';

const b = (s) => Buffer.from(s);

/** A source whose scans finish when the test says, recording each start. */
function slowSource(entries) {
	const started = [];
	const finish = new Map();
	return {
		started,
		finish: (dir) => finish.get(dir)(),
		running: () => [...finish.keys()],
		scanAhead: 2,
		list: async () => { throw new Error('list() is not used when scan() exists'); },
		scan(dir) {
			const key = dir.toString();
			started.push(key);
			return new Promise((resolve, reject) => {
				finish.set(key, () => {
					finish.delete(key);
					const names = entries[key];
					if (names instanceof Error)
						reject(names);
					else
						resolve(names.map((n) => ({ name: b(n) })));
				});
			});
		},
	};
}

t.test('ScanAhead: scans start in the walk order, at most `window` at once, results sorted', async (t) => {
	const source = slowSource({ '': ['b', 'a'], a: ['x'], b: [], c: [], 'a/x': [] });
	const ahead = new ScanAhead(source, true, 2);
	const top = ahead.children(b(''));
	source.finish('');
	t.same((await top).map((n) => n.name.toString()), ['a', 'b'], 'byte order of names');
	ahead.plan([b('a'), b('b'), b('c')]);
	t.same(source.started, ['', 'a', 'b'], 'the next two, in the walk order');
	const a = ahead.children(b('a'));
	t.same(source.started, ['', 'a', 'b', 'c'], 'taking one lets the next start');
	source.finish('a');
	await a;
	ahead.plan([b('a/x')]);
	t.same(source.started.length, 4, 'the window is full: a/x waits');
	source.finish('b');
	const bKids = ahead.children(b('b'));
	await bKids;
	t.same(source.started, ['', 'a', 'b', 'c', 'a/x'], 'planned before what was planned earlier');
	source.finish('c');
	source.finish('a/x');
	t.same(await ahead.children(b('a/x')), []);
	t.same(await ahead.children(b('c')), []);
});

t.test('ScanAhead: a failed scan fails where the walk takes it, and a bad name is refused', async (t) => {
	const source = slowSource({ bad: new Error('EIO'), evil: ['../x'] });
	const ahead = new ScanAhead(source, true, 2);
	ahead.plan([b('bad'), b('evil')]);
	source.finish('bad');
	source.finish('evil');
	await new Promise((resolve) => setImmediate(resolve));	// nothing unhandled meanwhile
	await t.rejects(ahead.children(b('bad')), { message: 'EIO' });
	await t.rejects(ahead.children(b('evil')), /\.\./);
});

t.test('ScanAhead with a window of 0 scans only what the walk asks for', async (t) => {
	const source = slowSource({ a: [] });
	const ahead = new ScanAhead(source, false, 0);
	ahead.plan([b('a')]);
	t.same(source.started, []);
	const a = ahead.children(b('a'));
	source.finish('a');
	t.same(await a, []);
});

t.test('SmallFiles: full at 64 files or 4 MiB, and empty once taken', async (t) => {
	const batch = new SmallFiles();
	for (let i = 0; i < 63; i++)
		t.notOk(batch.add(i, 10));
	t.ok(batch.add(63, 10), 'the 64th file fills it');
	t.same(batch.take().length, 64);
	t.same(batch.take(), [], 'taken: nothing held');
	t.notOk(batch.add('a', 3 << 20));
	t.ok(batch.add('b', 1 << 20), '4 MiB fill it');
	t.same(batch.take(), ['a', 'b']);
});
