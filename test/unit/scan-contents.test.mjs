// SPDX-License-Identifier: GPL-2.0
//
// The scans' small-file contents are freed as soon as a sink has written
// them (src/lkl/scan-contents.ts): only Buffers a scan made, never a
// caller's Buffer, and a copy of a tree of small files stays whole.  No
// kernel is booted: the host scan and the addon's release are enough.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { releaseContents, isScannedContents } from '../../dist/src/lkl/scan-contents.js';
import { HostSource } from '../../dist/src/copy/hostfs-tree.js';

t.test('a Buffer no scan made is never freed', async (t) => {
	const mine = Buffer.alloc(64 << 10, 7);
	releaseContents(mine);
	t.equal(mine.length, 64 << 10);
	t.equal(mine[100], 7);
	t.notOk(isScannedContents(mine));
});

t.test("a scan's contents are freed once released, and only once", async (t) => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lkl-scan-contents-'));
	t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
	fs.writeFileSync(path.join(dir, 'small'), Buffer.alloc(10000, 1));
	const source = new HostSource(Buffer.from(dir));
	const [node] = await source.scan(Buffer.alloc(0), true);
	t.equal(node.name.toString(), 'small');
	t.ok(isScannedContents(node.contents), 'marked as a scan\'s');
	t.equal(node.contents.length, 10000);
	releaseContents(node.contents);
	t.equal(node.contents.length, 0, 'freed: the Buffer is empty now');
	t.notOk(isScannedContents(node.contents));
	releaseContents(node.contents);	// a second release does nothing
	t.equal(node.contents.length, 0);
});
