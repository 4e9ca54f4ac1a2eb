// Writing: the same script of changes runs on a host copy of the tree
// through node:fs and on an image of it through lkl's Mount (whose
// methods are shaped alike, so it is one script).  Afterwards both trees
// must look the same, the filesystem's own fsck must find nothing wrong,
// and a fresh mount must still show it all.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { buildImage, fsck, makeTree, pattern, run, stampExt4Mtimes, tempDir } from '../helpers/tree.mjs';
import { diffTrees, guestView, hostView } from '../helpers/views.mjs';

t.setTimeout(300_000);
process.umask(0o022); // the kernel's umask, so created modes compare equal

const dir = tempDir(t);
const full = makeTree(join(dir, 'tree'));
const vfatTree = makeTree(join(dir, 'tree-vfat'), 'vfat');

const NS = 1_000_000_000n;
const hostFs = { ...fsp, createWriteStream: fs.createWriteStream };

// The changes.  `api` is node:fs/promises (with node:fs's
// createWriteStream) or a Mount; `p` makes a tree path into one for it.
async function change(api, p, kind) {
	const posix = kind !== 'vfat';
	await api.writeFile(p('new.txt'), 'fresh\n');
	await api.writeFile(p('hello.txt'), 'replaced\n');
	await api.writeFile(p('bytes.bin'), new Uint16Array([1, 2, 3]));
	await api.writeFile(p('chunks.txt'), ['a', Buffer.from('b'), new Uint8Array([0x63])]);
	await api.appendFile(p('dir/a.txt'), 'more\n');
	await api.appendFile(p('appended.txt'), 'first\n');
	await api.writeFile(p('latin1.txt'), 'caf\u00e9', { encoding: 'latin1' });
	await api.writeFile(p('exclusive.txt'), 'x', { flag: 'wx' });
	await api.mkdir(p('made/deep/er'), { recursive: true });
	await api.mkdir(p('made/single'), posix ? 0o750 : undefined);
	await api.rename(p('odd-size.bin'), p('made/moved.bin'));
	await api.rename(p('many'), p('made/many2'));
	await api.rename(p('empty'), p('made/deep/empty-moved'));
	await api.unlink(p('made/many2/f000'));
	await api.rm(p('dir/sub'), { recursive: true });
	await api.rm(p('nothing-here'), { force: true });
	await api.rmdir(p('dir/empty-dir'));
	await api.truncate(p('big.bin'), 1000);
	await api.truncate(p('made/moved.bin'), 100_000);
	await api.copyFile(p('made/moved.bin'), p('copy.bin'));

	const h = await api.open(p('handle.bin'), 'w+');
	await h.write(Buffer.from('0123456789'), 0, 10, 0);
	await h.write(Buffer.from('abc'), 1, 2, 4);
	await h.write('tail', 20);
	await h.writev([Buffer.from('v1'), Buffer.from('v2')], 30);
	await h.truncate(40);
	await h.sync();
	await h.datasync();
	if (posix)
		await h.chmod(0o640);
	await h.close();
	const a = await api.open(p('new.txt'), 'a');
	await a.writeFile('appended through a handle\n');
	await a.close();

	const ws = api.createWriteStream(p('stream.bin'), { highWaterMark: 65536 });
	const data = pattern(5 << 20, 3);
	for (let off = 0; off < data.length; off += 100_000) {
		if (!ws.write(data.subarray(off, off + 100_000)))
			await once(ws, 'drain');
	}
	ws.end();
	await once(ws, 'close');

	if (!posix)
		return;
	await api.symlink('../new.txt', p('made/link-new'));
	await api.symlink('/made', p('abs-made'));
	await api.link(p('new.txt'), p('made/new-hard'));
	await api.chmod(p('new.txt'), 0o600);
	await api.chmod(p('made/single'), '711');
	await api.chmod(p('setuid-prog'), 0o755);
	if (full.devices) {
		await api.chown(p('new.txt'), 1000, 2000);
		await api.lchown(p('abs-made'), 3000, 4000);
		await api.chown(p('links/rel'), 77, 88); // follows the link to hello.txt
	}
}

// Host side of what node:fs cannot do: FIFOs and xattrs.
// (An xfs image starts without xattrs: there is none to remove.)
async function changeHostExtras(root, kind) {
	run('mkfifo', ['-m', '0640', join(root, 'made/fifo2')]);
	if (full.xattrs) {
		run('setfattr', ['-n', 'user.k', '-v', 'value', join(root, 'new.txt')]);
		if (kind !== 'xfs')
			run('setfattr', ['-x', 'user.comment', join(root, 'hello.txt')]);
	}
}

async function changeGuestExtras(mount, kind) {
	await mount.mknod('made/fifo2', fs.constants.S_IFIFO | 0o640);
	if (full.xattrs) {
		await mount.lsetxattr('new.txt', 'user.k', 'value');
		if (kind !== 'xfs')
			await mount.lremovexattr('hello.txt', 'user.comment');
	}
}

// Gives every entry the same nanosecond mtime on both sides, so that the
// trees compare in full: lutimes through lkl, touch on the host.
async function stampTimes(view, mount, root) {
	let i = 0n;
	for (const path of [...view.keys()].reverse()) {
		const ns = 1_600_000_000n * NS + i++ * 1_000_003n + 7n;
		await mount.lutimes(path, ns, ns);
		const frac = String(ns % NS).padStart(9, '0');
		run('touch', ['-h', '-d', `@${ns / NS}.${frac}`, join(root, path)]);
	}
}

const seconds = (ns) => (typeof ns === 'bigint' ? ns / NS : ns);
const rules = {
	ext4: {
		skip: (path, field, h) => (path === '/' && field === 'nlink') || (h.type === 'dir' && field === 'size'),
	},
	btrfs: {
		skip: (path, field, h) => (h.type === 'dir' && ['size', 'nlink'].includes(field)) ||
			(path === '/null-dev' && field === 'rdev'), // mkfs.btrfs 6.2 stores 0
	},
	xfs: {
		skip: (_path, field, h) => h.type === 'dir' && field === 'size',
	},
	vfat: {
		skip: (path, field, h) => ['mode', 'uid', 'gid', 'nlink'].includes(field) ||
			(h.type === 'dir' && field === 'size') || (path === '/' && field === 'mtimeNs'),
		normalize: (field, v) => (field === 'mtimeNs' ? seconds(v) / 2n : v),
	},
};

// The host copy must hold what the image holds: an xfs protofile has no
// hard links, xattrs or sticky bits.
function hostCopy(kind) {
	const src = kind === 'vfat' ? vfatTree.root : full.root;
	const copy = join(dir, `host-${kind}`);
	run('cp', ['-a', src, copy]);
	if (kind === 'xfs') {
		run('cp', ['-p', join(copy, 'hardlink.txt'), join(copy, 'hardlink.tmp')]);
		fs.renameSync(join(copy, 'hardlink.tmp'), join(copy, 'hardlink.txt'));
		fs.chmodSync(join(copy, 'sticky-dir'), 0o777);
		for (const [path, e] of hostView(copy)) {
			for (const name of Object.keys(e.xattrs))
				run('setfattr', ['-h', '-x', name, join(copy, path)]);
		}
	}
	return copy;
}

const kernel = Kernel.boot();
t.teardown(() => kernel.halt());

for (const kind of ['ext4', 'btrfs', 'xfs', 'vfat']) {
	t.test(kind, async (t) => {
		const img = buildImage(kind, kind === 'vfat' ? vfatTree.root : full.root, join(dir, `${kind}.img`));
		const root = hostCopy(kind);
		const disk = await kernel.addDisk(img);
		const mount = await kernel.mount(disk);
		t.equal(mount.readOnly, false);

		await change(hostFs, (x) => join(root, x), kind);
		await change(mount, (x) => x, kind);
		if (kind !== 'vfat') {
			await changeHostExtras(root, kind);
			await changeGuestExtras(mount, kind);
		}

		t.equal(await mount.readFile('handle.bin', 'latin1'), fs.readFileSync(join(root, 'handle.bin'), 'latin1'));
		t.equal(await mount.readFile('latin1.txt', 'latin1'), 'caf\u00e9');
		if (kind !== 'vfat')
			t.same((await mount.stat('copy.bin')).mode, fs.statSync(join(root, 'copy.bin')).mode);

		await stampTimes(hostView(root), mount, root);
		const host = hostView(root);
		t.same(diffTrees(host, await guestView(mount), rules[kind]), [], 'same as the host after the changes');

		await mount.unmount();
		await kernel.removeDisk(disk);
		const check = fsck(kind, img);
		t.ok(check.ok, `${kind} fsck finds nothing wrong`, { diagnostic: !check.ok, output: check.output });

		const again = await kernel.mount(await kernel.addDisk(img, { readOnly: true }));
		t.same(diffTrees(host, await guestView(again), rules[kind]), [], 'and so after a fresh mount');
		if (kind === 'ext4') {
			const ns = (await again.stat('new.txt', { bigint: true })).mtimeNs;
			const out = run('debugfs', ['-R', 'stat /new.txt', img]);
			const m = /mtime: 0x([0-9a-f]+):([0-9a-f]+)/.exec(out);
			t.equal(BigInt(`0x${m[1]}`) * NS + (BigInt(`0x${m[2]}`) >> 2n), ns,
				'debugfs reads the same nanoseconds from the image');
		}
		await again.unmount();
	});
}

t.test('times: every form, exact nanoseconds', async (t) => {
	const img = buildImage('ext4', vfatTree.root, join(dir, 'times.img'));
	const mount = await kernel.mount(await kernel.addDisk(img));
	const ns = async (p) => {
		const st = await mount.stat(p, { bigint: true });
		return [st.atimeNs, st.mtimeNs];
	};
	await mount.utimes('hello.txt', 1_234_567_890_123_456_789n, -1_000_000_001n);
	t.same(await ns('hello.txt'), [1_234_567_890_123_456_789n, -1_000_000_001n], 'bigint ns, also before 1970');
	await mount.utimes('hello.txt', new Date(1_500_000_000_123), 1_500_000_000.5);
	t.same(await ns('hello.txt'), [1_500_000_000_123_000_000n, 1_500_000_000_500_000_000n], 'Date and seconds');
	await mount.utimes('hello.txt', '1600000000', '1600000001.25');
	t.same(await ns('hello.txt'), [1_600_000_000n * NS, 1_600_000_001_250_000_000n], 'numeric strings');
	const h = await mount.open('hello.txt', 'r+');
	await h.utimes(5n, 6n);
	t.same(await ns('hello.txt'), [5n, 6n], 'FileHandle.utimes');
	const st = await h.stat({ bigint: true });
	t.equal(st.mtimeNs, 6n);
	t.equal(st.mtime.getTime(), 0);
	await h.close();
	await t.rejects(mount.utimes('hello.txt', NaN, 0), { code: 'ERR_INVALID_ARG_VALUE' });
	await t.rejects(mount.utimes('hello.txt', {}, 0), { code: 'ERR_INVALID_ARG_TYPE' });
	await mount.symlink('hello.txt', 'lnk');
	await mount.lutimes('lnk', 7n, 8n);
	t.same((await mount.lstat('lnk', { bigint: true })).mtimeNs, 8n, 'lutimes: the link');
	t.same((await ns('lnk'))[1], 6n, '…not its target');
	await mount.unmount();
	const check = fsck('ext4', img);
	t.ok(check.ok, 'fsck', { output: check.output });
});

t.test('devices', async (t) => {
	const img = buildImage('ext4', vfatTree.root, join(dir, 'dev.img'));
	const mount = await kernel.mount(await kernel.addDisk(img));
	await mount.mknod('fifo', fs.constants.S_IFIFO | 0o600);
	t.ok((await mount.lstat('fifo')).isFIFO());
	await mount.mknod('plain', 0o600);
	t.ok((await mount.lstat('plain')).isFile(), 'no type bits: a regular file');
	await mount.mknod('null', fs.constants.S_IFCHR | 0o666, { major: 1, minor: 3 });
	const st = await mount.lstat('null');
	t.ok(st.isCharacterDevice());
	await mount.mknod('blk', fs.constants.S_IFBLK | 0o600, st.rdev);
	t.ok((await mount.lstat('blk')).isBlockDevice());
	t.test('device numbers', async (t) => {
		// The host's own /dev/null has the same numbers, in node:fs's dev_t.
		t.equal(st.rdev, fs.statSync('/dev/null').rdev, '1:3 as node:fs shows it');
		t.equal((await mount.lstat('blk')).rdev, st.rdev, 'a dev_t from Stats.rdev goes back unchanged');
	});
	await mount.unmount();
	t.ok(fsck('ext4', img).ok);
});
