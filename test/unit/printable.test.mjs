// SPDX-License-Identifier: GPL-2.0
//
// What lkl prints of names a crafted image chose (src/cli/printable.ts):
// no control character reaches the terminal, and an error stays one line.
import { PassThrough } from 'node:stream';
import t from 'tap';
import { printable } from '../../dist/src/cli/printable.js';
import { CliError, describe, report } from '../../dist/src/cli/errors.js';

t.test('control characters are written out', async (t) => {
	t.equal(printable('plain name-1.txt'), 'plain name-1.txt', 'a plain name as it is');
	t.equal(printable('h\u00e9llo \u00fcnicode'), 'h\u00e9llo \u00fcnicode', 'UTF-8 as it is');
	t.equal(printable('a\nb\rc\td'), 'a\\nb\\rc\\td');
	t.equal(printable('\u001b[31mred\u001b[0m'), '\\x1b[31mred\\x1b[0m', 'no escape sequence');
	t.equal(printable('\u009b31m \u007f \u0000'), '\\x9b31m \\x7f \\x00', 'C1, DEL and NUL');
	t.equal(printable('abc\u202edcb \u2066x\u2069 \u2028'), 'abc\\u202edcb \\u2066x\\u2069 \\u2028', 'no reordering, no line separator');
});

t.test('an error naming such a file is still one line', async (t) => {
	const out = new PassThrough();
	let text = '';
	out.on('data', (d) => { text += d; });
	t.equal(report(new CliError('big-dir/x\r\u001b[2Ky\ny: no such file or directory'), out), 1);
	t.equal(text, 'lkl: big-dir/x\\r\\x1b[2Ky\\ny: no such file or directory\n');
});

t.test('a kernel error is said in words, not in node\'s', async (t) => {
	const enomem = Object.assign(new Error('ENOMEM: not enough memory, mount \'/x.img\''), { code: 'ENOMEM', path: '/x.img' });
	t.match(describe(enomem), /^not enough memory \(-m /);
	const estale = Object.assign(new Error('ESTALE: stale file handle, open \'/x\''), { code: 'ESTALE', path: '/x' });
	t.equal(describe(estale), 'stale file handle');
	t.equal(describe(new Error('said for a user')), 'said for a user', 'other errors keep their message');
});
