// The copy engine's calls on a mount (src/lkl/copy-calls.ts, internal):
// node:fs-shaped errors, and the mount's gate, so that an unmount waits
// for a call in flight and refuses the ones after it.
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { CopyCalls } from '../../dist/src/lkl/copy-calls.js';
import { ImageSink, ImageSource } from '../../dist/src/copy/image-tree.js';
import { buildImage, makeTree, tempDir } from '../helpers/tree.mjs';

t.setTimeout(120_000);

const dir = tempDir(t);
const tree = makeTree(join(dir, 'tree'), 'vfat').root;
const img = buildImage('ext4', tree, join(dir, 'a.img'));
const b = (s) => Buffer.from(s);

const kernel = Kernel.boot({ memoryMiB: 64, printk: false, bootArgs: '' });
t.teardown(() => kernel.halt());

t.test('errors carry codes, not errno numbers', async (t) => {
	// Each test removes its disk: a disk keeps its image locked.
	const disk = await kernel.addDisk(img, { readOnly: true });
	const mount = await kernel.mount(disk, { readOnly: false });
	const calls = new CopyCalls(mount);
	await t.rejects(calls.unlink(b('/dir')), { code: 'EISDIR', syscall: 'unlink', path: '/dir' });
	await t.rejects(calls.lstat(b('/nope')), { code: 'ENOENT', syscall: 'lstat', message: /^ENOENT: no such file or directory, lstat '\/nope'$/ });
	await t.rejects(calls.create(b('/hello.txt')), { code: 'EEXIST', syscall: 'open' });
	const file = await calls.openRead(b('/hello.txt'));
	const buf = Buffer.alloc(64);
	t.equal(await file.read(buf, 0, 64, 7), 7);
	t.same(buf.subarray(0, 7), b('world!\n'));
	await file.close();
	await t.rejects(file.read(buf, 0, 1, 0), { code: 'EBADF' }, 'closed');
	t.same((await calls.list(b('/dir'))).map(String).sort(), ['a.txt', 'empty-dir', 'sub']);
	const map = await calls.dataMap(b('/big.bin'), 3n << 20n);
	t.same(map, [{ offset: 0n, length: 3n << 20n }], 'a file without holes is one region');
	const sink = new ImageSink(mount);
	const meta = { kind: 'file', mode: 0o640, uid: 7, gid: 8, size: 3n, atime: { sec: 1n, nsec: 2 }, mtime: { sec: 3n, nsec: 4 },
		ctime: { sec: 0n, nsec: 0 }, rdevMajor: 0, rdevMinor: 0, dev: '', ino: 0n, nlink: 1 };
	await sink.file(b('put.txt'), meta, new Map([['user.k', b('v')]]), (async function* () { yield b('abc'); })());
	await sink.close();	// small files wait for their batch until then
	const st = await mount.stat('put.txt', { bigint: true });
	t.equal(st.uid, 7n);
	t.equal(st.mode & 0o7777n, 0o640n);
	t.equal(st.mtimeNs, 3_000_000_004n);
	t.same(await mount.getxattr('put.txt', 'user.k'), b('v'));
	await mount.unmount();
	await kernel.removeDisk(disk);
});

t.test('putNodes: each kind made in order; a failure names the node and the call it stopped at', async (t) => {
	const disk = await kernel.addDisk(img);
	const mount = await kernel.mount(disk);
	const calls = new CopyCalls(mount);
	const meta = { uid: 1, gid: 2, mode: 0o640, atime: [5, 0], mtime: [6, 0], xattrs: [['user.k', b('v')]] };
	const none = Buffer.alloc(0);
	// Kinds (PutKind): 0 file, 1 symlink, 2 directory, 3 metadata, 4 metadata following.
	await mount.writeFile('in-the-way', 'x');
	await mount.symlink('hello.txt', 'link-in-the-way');
	await calls.putNodes([
		[2, b('/made'), none, { ...meta, mode: 0o750 }],
		[0, b('/made/f'), b('one'), meta],
		// (user.* xattrs are for files and directories alone: Linux refuses them on a link)
		[1, b('/made/l'), b('../hello.txt'), { ...meta, xattrs: [['trusted.k', b('v')]] }],
		[2, b('/dir'), none, { ...meta, mode: 0o700 }],
		[2, b('/in-the-way'), none, { ...meta, mode: 0o700 }],
		[0, b('/link-in-the-way'), b('two'), meta],
		[3, b('/made'), none, { ...meta, mode: 0o755 }],
	]);
	t.same(await mount.readFile('made/f'), b('one'), 'a file');
	t.equal((await mount.lstat('made/l')).isSymbolicLink(), true, 'a symlink');
	t.equal(await mount.readlink('made/l'), '../hello.txt');
	const l = await mount.lstat('made/l', { bigint: true });
	t.same([l.uid, l.gid, l.mtimeNs], [1n, 2n, 6_000_000_000n], 'the symlink\'s own owner and times');
	t.same(await mount.lgetxattr('made/l', 'trusted.k'), b('v'), 'its own xattrs');
	t.ok((await mount.stat('dir')).isDirectory(), 'a directory already there is kept');
	t.ok((await mount.stat('in-the-way')).isDirectory(), 'a file in the way of a directory is replaced');
	t.same(await mount.readFile('link-in-the-way'), b('two'), 'a symlink in the way of a file is replaced, not followed');
	t.same(await mount.readFile('hello.txt'), b('Hello, world!\n'), 'its target untouched');
	t.equal((await mount.stat('made')).mode & 0o7777, 0o755, 'the metadata set last');
	await t.rejects(calls.putNodes([
		[0, b('/batch-1'), b('one'), meta],
		[1, b('/no-such-dir/batch-2'), b('x'), meta],
		[0, b('/batch-3'), b('three'), meta],
	]), { code: 'ENOENT', syscall: 'symlink', path: '/no-such-dir/batch-2', putIndex: 1 });
	t.same(await mount.readFile('batch-1'), b('one'), 'the node before it is whole');
	t.equal((await mount.stat('batch-1')).uid, 1);
	await t.rejects(mount.stat('batch-3'), { code: 'ENOENT' }, 'the node after it was not begun');
	await t.rejects(calls.putNodes([[9, b('/x'), none, meta]]), TypeError, 'an unknown kind is refused before anything is made');
	await mount.unmount();
	await kernel.removeDisk(disk);
});

t.test('an unmount waits for a call in flight; calls after it are refused', async (t) => {
	const mount = await kernel.mount(await kernel.addDisk(img, { readOnly: true }));
	const source = new ImageSource(mount);
	const scanning = source.scan(b(''), true);
	const unmounting = mount.unmount();
	const scanned = await scanning;
	t.ok(scanned.some((n) => n.name.equals(b('hello.txt')) && n.contents?.equals(b('Hello, world!\n'))), 'the scan finished');
	await unmounting;
	await t.rejects(source.scan(b(''), true), { code: 'ERR_LKL_UNMOUNTED' });
	await t.rejects(source.meta(b('hello.txt')), { code: 'ERR_LKL_UNMOUNTED' });
	await t.rejects(new CopyCalls(mount).lstat(b('/')), { code: 'ERR_LKL_UNMOUNTED' });
});

t.test('only a Mount lends its calls', async (t) => {
	t.throws(() => new CopyCalls({}), TypeError);
	t.notOk('rootFd' in (await import('../../dist/src/index.js')).Mount.prototype, 'no rootFd in the public API');
});
