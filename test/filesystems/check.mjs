// SPDX-License-Identifier: GPL-2.0
//
// Every command on one filesystem of cases.mjs: the tree made into an
// image by Debian's tool (or copied into an empty one by cptofs, then
// checked by the filesystem's fsck), then read back by fs2tar (extracted
// by GNU tar), cpfromfs, a read-only lklfuse mount and the API, each
// compared field by field with the source for what the filesystem keeps,
// and the image unchanged by all of them.  A filesystem the kernel only
// reads refuses cptofs, a read-write lklfuse and a read-write API mount
// in one line, the image unchanged; a writable one is changed through a
// read-write lklfuse mount and checked by its fsck again.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Kernel } from '../../dist/src/index.js';
import {
	gnuExtract, hostCanMount, lkl, loopMount, ok, same, sha256File, treeView,
} from '../helpers/cli.mjs';
import { makeTree, tempDir } from '../helpers/tree.mjs';
import { diffTrees, FIELDS, guestView, hostView } from '../helpers/views.mjs';
import { cannotRun, startServer, stopServer, tryRun } from '../fuse/server.mjs';
import { CASES, rulesOf } from './cases.mjs';

/** The filesystem's own checker on `img`: asserts it finds nothing wrong. */
function fsckClean(t, c, img) {
	if (!c.fsck)
		return;
	const r = tryRun(c.fsck[0], [...c.fsck[1], img]);
	t.equal(r.status, 0, `${c.fsck[0]} ${c.fsck[1].join(' ')} finds the image clean`, { output: r.output });
}

/** One line on stderr, status 1, the image as it was. */
function refused(t, r, img, before, pattern, what) {
	t.equal(r.status, 1, `${what} exits 1`);
	t.match(r.stderr, pattern, `${what} says why`);
	t.equal(r.stderr.trimEnd().split('\n').length, 1, `${what} says it in one line`, { stderr: r.stderr });
	t.equal(sha256File(img), before, 'the image is unchanged');
}

const DATA = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 2654435761) >>> 24));

/** Changes through a read-write lklfuse mount, and what they must leave. */
function change(mnt, posix) {
	const p = (...names) => join(mnt, ...names);
	fs.mkdirSync(p('added'));
	fs.writeFileSync(p('added', 'data.bin'), DATA);
	fs.writeFileSync(p('added', 'text.txt'), 'one\n');
	fs.appendFileSync(p('added', 'text.txt'), 'two\n');
	fs.renameSync(p('hello.txt'), p('added', 'hello-moved.txt'));
	fs.unlinkSync(p('empty'));
	fs.rmSync(p('dir', 'sub'), { recursive: true });
	if (posix) {
		fs.symlinkSync('text.txt', p('added', 'link'));
		fs.chmodSync(p('added', 'text.txt'), 0o600);
	}
}

function changed(t, view, posix) {
	t.equal(view.get('/added/data.bin')?.sha256, sha256Of(DATA), 'a written file');
	t.equal(view.get('/added/text.txt')?.size, 8, 'a write and an append');
	t.ok(view.has('/added/hello-moved.txt') && !view.has('/hello.txt'), 'a rename');
	t.notOk(view.has('/empty'), 'an unlink');
	t.notOk(view.has('/dir/sub'), 'a removed directory');
	if (posix) {
		t.equal(view.get('/added/link')?.target, 'text.txt', 'a symlink');
		t.equal((view.get('/added/text.txt')?.mode ?? 0) & 0o7777, 0o600, 'a chmod');
	}
}

function sha256Of(buf) {
	return createHash('sha256').update(buf).digest('hex');
}

/** Runs every check on filesystem `name` (a key of CASES). */
export function checkFilesystem(t, name) {
	const c = CASES[name];
	const why = cannotRun();
	process.umask(0o022);
	const dir = tempDir(t, `lkl-fs-${name}-`);
	const tree = makeTree(join(dir, 'tree'), c.tree === 'plain' ? 'vfat' : 'full').root;
	const source = treeView(tree);
	const img = join(dir, `${name}.img`);
	const mnt = join(dir, 'mnt');
	fs.mkdirSync(mnt);
	const rules = rulesOf(c);
	const typeOpt = c.detectedAs ? ['-t', c.type] : [];
	const posix = !c.lacks.includes('mode');

	if (c.make) {
		c.make(tree, img);
	} else {
		c.empty(img);
		t.test('cptofs copies the tree into an empty image', async (t) => {
			ok(t, lkl(['cptofs', '-i', img, `${tree}/.`, '/']), 'cptofs');
			fsckClean(t, c, img);
		});
	}

	t.test(`the host kernel sees the same tree`, { skip: !hostCanMount(c.type) && `the host kernel has no ${c.type}` }, async (t) => {
		same(t, source, treeView(loopMount(t, img, dir)), rules, 'loop mount');
	});

	// Taken just before the readers run: what the loop mount may do to
	// the image is not theirs.
	let before;
	t.test('the readers begin', async (t) => {
		before = sha256File(img);
		t.pass(`the image is ${fs.statSync(img).size} bytes`);
	});

	const badXattrs = { todo: c.listsBadXattrs };
	t.test('fs2tar, extracted by GNU tar, gives the same tree', badXattrs, async (t) => {
		const archive = join(dir, 'out.tar');
		ok(t, lkl(['fs2tar', ...typeOpt, img, archive]), 'fs2tar');
		same(t, source, treeView(gnuExtract(archive, join(dir, 'from-tar'))), rules, 'GNU tar extraction');
	});

	t.test('cpfromfs copies the same tree out', badXattrs, async (t) => {
		const out = join(dir, 'from-cp');
		const r = lkl(['cpfromfs', ...typeOpt, '-i', img, '/.', out]);
		t.equal(r.status, 0, 'cpfromfs exits 0');
		t.equal(r.stderr, '', 'cpfromfs prints nothing on stderr', { todo: c.copyWarns });
		same(t, source, treeView(out), rules, 'cpfromfs copy');
	});

	t.test('a read-only lklfuse mount shows the same tree', { skip: why, ...badXattrs }, async (t) => {
		const srv = await startServer(t, img, mnt, ['-o', `ro${c.detectedAs ? `,type=${c.type}` : ''}`]);
		t.equal(srv.line, 'ready', 'the server is ready', { stderr: srv.stderr() });
		if (srv.line !== 'ready')
			return;
		const line = fs.readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === mnt);
		t.match(line, ` fuse.${c.type} `, `the mount's subtype is ${c.type}`);
		same(t, source, treeView(mnt), rules, 'lklfuse mount');
		const r = await stopServer(srv, mnt);
		t.equal(r.code, 0, 'the server exits 0', { stderr: srv.stderr() });
	});

	t.test('the API recognises the filesystem and reads the same tree', async (t) => {
		const kernel = Kernel.boot({ memoryMiB: 64 });
		try {
			const disk = await kernel.addDisk(img, { readOnly: true });
			if (c.readOnly) {
				await t.rejects(kernel.mount(disk, { readOnly: false, fsType: c.type }), { code: 'EROFS' },
					'a read-write mount fails with EROFS');
			}
			const mount = await kernel.mount(disk);
			t.equal(mount.fsType, c.detectedAs ?? c.type, `recognised as ${c.detectedAs ?? c.type}`);
			if (c.detectedAs) {
				await mount.unmount();
				const m = await kernel.mount(disk, { fsType: c.type });
				t.equal(m.fsType, c.type, `-t ${c.type} mounts the other side`);
				await compareApi(t, m);
			} else {
				await compareApi(t, mount);
			}
		} finally {
			await kernel.halt();
		}
	});

	async function compareApi(t, mount) {
		const diff = diffTrees(hostView(tree), await guestView(mount), { fields: FIELDS, ...rules });
		t.same(diff, [], `the API's view: the same tree${diff.length ? `\n${diff.slice(0, 40).join('\n')}` : ''}`);
	}

	t.test('fs2tar, cpfromfs, lklfuse -o ro and the API leave the image as it was', async (t) => {
		t.equal(sha256File(img), before, 'same checksum');
	});

	if (c.readOnly) {
		const says = c.readOnly === true ? new RegExp(`${name}\\.img: ${c.type} is read-only in this kernel`) :
			new RegExp(`${name}\\.img: this ${c.type} filesystem is read-only in this kernel`);
		t.test('cptofs refuses to write it, in one line', async (t) => {
			const r = lkl(['cptofs', ...typeOpt, '-i', img, join(tree, 'hello.txt'), '/new.txt']);
			refused(t, r, img, before, says, 'cptofs');
		});
		t.test('a read-write lklfuse refuses to mount it, in one line', { skip: why }, async (t) => {
			const r = lkl(['lklfuse', img, mnt, ...(c.detectedAs ? ['-o', `type=${c.type}`] : [])]);
			refused(t, r, img, before, /read-only in this kernel \(-o ro mounts it\)/, 'lkl lklfuse');
		});
		return;
	}

	t.test('a read-write lklfuse mount takes changes; fsck finds the image clean', { skip: why }, async (t) => {
		const srv = await startServer(t, img, mnt);
		t.equal(srv.line, 'ready', 'the server is ready', { stderr: srv.stderr() });
		if (srv.line !== 'ready')
			return;
		change(mnt, posix);
		changed(t, treeView(mnt), posix);
		const r = await stopServer(srv, mnt);
		t.equal(r.code, 0, 'the server exits 0', { stderr: srv.stderr() });
		fsckClean(t, c, img);
		const out = join(dir, 'after');
		const cp = lkl(['cpfromfs', '-i', img, '/.', out]);
		t.equal(cp.status, 0, 'cpfromfs after the changes exits 0', { stderr: cp.stderr });
		t.equal(cp.stderr, '', 'cpfromfs after the changes prints nothing on stderr', { todo: c.copyWarns });
		changed(t, treeView(out), posix);
	});
}
