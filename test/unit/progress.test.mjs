// SPDX-License-Identifier: GPL-2.0
//
// The commands' counting (src/cli/progress.ts): one place for entries,
// bytes, -v lines and a stop signal, no kernel.
import t from 'tap';
import { Progress } from '../../dist/src/cli/progress.js';

t.test('counts entries and bytes, lists with -v, "." for the top', async (t) => {
	const progress = await Progress.open('x', { quiet: true });
	const lines = [];
	const events = progress.counting({ verbose: true, log: (l) => lines.push(l) });
	events.entry(Buffer.alloc(0));
	events.entry(Buffer.from('a/b'));
	events.bytes(10);
	events.bytes(5);
	t.equal(progress.entries, 2);
	t.equal(progress.bytes, 15);
	t.same(lines, ['.', 'a/b']);
	t.notOk(progress.visible, 'quiet: nothing shown');
});

t.test('silent without -v; an aborted signal stops at the next event', async (t) => {
	const progress = await Progress.open('x', { quiet: true });
	const lines = [];
	const stop = new AbortController();
	const events = progress.counting({ log: (l) => lines.push(l), signal: stop.signal });
	events.entry(Buffer.from('a'));
	stop.abort(new Error('stopped'));
	t.throws(() => events.bytes(1), /stopped/);
	t.throws(() => events.entry(Buffer.from('b')), /stopped/);
	t.equal(progress.entries, 1);
	t.same(lines, []);
});
