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
	await t.rejects(calls.mkdir(b('/dir'), 0o755), { code: 'EEXIST', syscall: 'mkdir', path: '/dir' });
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

t.test('putFiles: a failure names the file it stopped at; those before it are whole, those after it not begun', async (t) => {
	const disk = await kernel.addDisk(img);
	const mount = await kernel.mount(disk);
	const calls = new CopyCalls(mount);
	const meta = { uid: 1, gid: 2, mode: 0o600, atime: [5, 0], mtime: [6, 0], xattrs: [] };
	await t.rejects(calls.putFiles([
		[b('/batch-1'), b('one'), meta],
		[b('/no-such-dir/batch-2'), b('two'), meta],
		[b('/batch-3'), b('three'), meta],
	]), { code: 'ENOENT', syscall: 'open', path: '/no-such-dir/batch-2' });
	t.same(await mount.readFile('batch-1'), b('one'), 'the file before it is whole');
	t.equal((await mount.stat('batch-1')).uid, 1);
	await t.rejects(mount.stat('batch-3'), { code: 'ENOENT' }, 'the file after it was not begun');
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
