// SPDX-License-Identifier: GPL-2.0
//
// Path safety (src/copy/names.ts), no kernel: what a name from an image,
// an archive or the command line may be.
import t from 'tap';
import { NAME_MAX, PATH_MAX, UnsafeNameError, checkName, checkedComponents, relativePath } from '../../dist/src/copy/names.js';

const b = (s) => Buffer.from(s, 'latin1');

t.test('relativePath: made relative, "." and empty parts dropped', async (t) => {
	for (const [given, want] of [
		['', ''], ['/', ''], ['.', ''], ['./', ''], ['//./', ''],
		['a', 'a'], ['/a', 'a'], ['a/', 'a'], ['/etc//passwd', 'etc/passwd'], ['./a/./b/.', 'a/b'],
		['...', '...'], ['a..b/..c', 'a..b/..c'],
	])
		t.same(relativePath(given), b(want), JSON.stringify(given));
});

t.test('relativePath: a clean path comes back as itself', async (t) => {
	const clean = b('usr/share/doc');
	t.equal(relativePath(clean), clean, 'the same Buffer, no copy');
});

t.test('relativePath: names that are not UTF-8 keep their bytes', async (t) => {
	const raw = Buffer.from([0x2f, 0xff, 0xfe, 0x2f, 0x2f, 0x80]);
	t.same(relativePath(raw), Buffer.from([0xff, 0xfe, 0x2f, 0x80]));
});

t.test('relativePath: ".." refused wherever it is', async (t) => {
	for (const p of ['..', '../x', 'a/../b', 'a/..', '/..', 'a/../../escaped']) {
		t.throws(() => relativePath(p), { code: 'EPERM', name: 'UnsafeNameError' }, p);
		t.throws(() => relativePath(b(p)), /"\.\."/, `${p} as bytes`);
	}
});

t.test('relativePath: NUL and over-long names refused', async (t) => {
	t.throws(() => relativePath(b('a\0b')), { code: 'EPERM' });
	t.doesNotThrow(() => relativePath(Buffer.alloc(NAME_MAX, 0x61)));
	t.throws(() => relativePath(Buffer.alloc(NAME_MAX + 1, 0x61)), { code: 'ENAMETOOLONG' });
	const long = Array.from({ length: 20 }, () => 'x'.repeat(250)).join('/');
	t.throws(() => relativePath(long), { code: 'ENAMETOOLONG' }, `${long.length} bytes`);
	t.ok(long.length > PATH_MAX);
});

t.test('relativePath: the error names the path', async (t) => {
	const err = t.throws(() => relativePath('a/../b'));
	t.ok(err instanceof UnsafeNameError);
	t.same(err.path, b('a/../b'));
	t.match(err.message, /a\/\.\.\/b/);
});

t.test('checkName: one directory entry from an image', async (t) => {
	for (const ok of ['a', '...', '.hidden', 'x'.repeat(NAME_MAX)])
		t.doesNotThrow(() => checkName(b(ok)), JSON.stringify(ok));
	t.doesNotThrow(() => checkName(Buffer.from([0xff, 0x00 + 1])));
	for (const [bad, code] of [['', 'EPERM'], ['.', 'EPERM'], ['..', 'EPERM'], ['a/b', 'EPERM'],
		['../../sentinel/pw', 'EPERM'], ['a\0', 'EPERM'], ['x'.repeat(NAME_MAX + 1), 'ENAMETOOLONG']])
		t.throws(() => checkName(b(bad)), { code }, JSON.stringify(bad));
});

t.test('checkedComponents: every component a name', async (t) => {
	t.same(checkedComponents(b('')), []);
	t.same(checkedComponents(b('a/b/c')), [b('a'), b('b'), b('c')]);
	for (const bad of ['/a', 'a/', 'a//b', 'a/./b', 'a/../b', 'a\0/b'])
		t.throws(() => checkedComponents(b(bad)), { code: 'EPERM', path: b(bad) }, JSON.stringify(bad));
	t.throws(() => checkedComponents(Buffer.alloc(PATH_MAX + 1, 0x61)), { code: 'ENAMETOOLONG' });
});
