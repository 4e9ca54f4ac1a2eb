// SPDX-License-Identifier: GPL-2.0
//
// Only src/lkl/ touches the addon: a file anywhere else under src/ that
// imports it (lkl/native.js, a .node file, node-gyp-build, or binaries.js,
// which finds and loads it) fails here.  The rest of the code reaches the
// kernel through the library's own API and src/lkl/copy-calls.ts.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

const ADDON = [
	/(^|\/)lkl\/native(\.js)?$/,
	/^\.\/native(\.js)?$/,
	/\.node$/,
	/^node-gyp-build$/,
	/(^|\/)binaries(\.js)?$/,
];

function* files(dir) {
	for (const e of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, e.name);
		if (e.isDirectory())
			yield* files(path);
		else if (/\.[cm]?ts$/.test(e.name))
			yield path;
	}
}

/** Every module specifier a file names: import/export … from, import(), require(). */
function specifiers(text) {
	const out = [];
	const patterns = [
		/\b(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/g,
		/\bimport\s*['"]([^'"]+)['"]/g,
		/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
		/\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
	];
	for (const re of patterns)
		for (const m of text.matchAll(re))
			out.push(m[1]);
	return out;
}

/** What in a file's text reaches the addon. */
function addonImports(text) {
	const bad = specifiers(text).filter((s) => ADDON.some((re) => re.test(s)));
	// The loader, however it is required (createRequire(…)('node-gyp-build')).
	if (/['"]node-gyp-build['"]/.test(text))
		bad.push('node-gyp-build');
	return bad;
}

t.test('the patterns catch the ways in', async (t) => {
	const caught = (text) => addonImports(text).length > 0;
	t.ok(caught("import { native } from '../lkl/native.js';"));
	t.ok(caught("import type { NativeStatx } from '../lkl/native.js';"));
	t.ok(caught("export { native } from '../lkl/native.js';"));
	t.ok(caught("const m = await import('../lkl/native.js');"));
	t.ok(caught("createRequire(import.meta.url)('node-gyp-build')"));
	t.ok(caught("const addon = require('../build/Release/lkl.node');"));
	t.ok(caught("import { nativeFiles } from '../lkl/binaries.js';"));
	t.notOk(caught("import { CopyCalls } from '../lkl/copy-calls.js';"));
});

t.test('no file outside src/lkl imports the addon', async (t) => {
	let checked = 0;
	for (const path of files(src)) {
		const rel = relative(src, path);
		if (rel.startsWith('lkl/'))
			continue;
		checked++;
		t.same(addonImports(readFileSync(path, 'utf8')), [], `${rel} reaches the kernel only through src/lkl`);
	}
	t.ok(checked > 20, `looked at ${checked} files`);
});
