// Reading: one tree, made into ext4, btrfs, xfs and vfat images by the
// filesystems' own tools, must read back through lkl as the host sees it.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Kernel, BigIntStats, Dirent, FileHandle, Stats } from '../../dist/src/index.js';
import { buildImage, makeTree, pattern, stampExt4Mtimes, tempDir } from '../helpers/tree.mjs';
import { diffTrees, guestView, hostView, sha256 } from '../helpers/views.mjs';

t.setTimeout(240_000);

const dir = tempDir(t);
const full = makeTree(join(dir, 'tree'));
const vfatTree = makeTree(join(dir, 'tree-vfat'), 'vfat');
const hostFull = hostView(full.root);
const hostVfat = hostView(vfatTree.root);

const images = {};
for (const kind of ['ext4', 'btrfs', 'xfs', 'vfat'])
	images[kind] = buildImage(kind, kind === 'vfat' ? vfatTree.root : full.root, join(dir, `${kind}.img`));
stampExt4Mtimes(images.ext4, hostFull);

const seconds = (ns) => (typeof ns === 'bigint' ? ns / 1_000_000_000n : ns);

// What each filesystem (or its mkfs) cannot carry over from the host tree.
const rules = {
	ext4: {
		// The root gets lost+found and mkfs's own times; directory sizes are
		// the filesystem's business.
		skip: (path, field, h) => (path === '/' && ['nlink', 'mtimeNs'].includes(field)) ||
			(h.type === 'dir' && field === 'size'),
	},
	btrfs: {
		// btrfs counts no links for directories; mkfs.btrfs --rootdir
		// (6.2) keeps whole seconds and stores device numbers as 0.
		skip: (path, field, h) => (h.type === 'dir' && ['size', 'nlink'].includes(field)) ||
			(path === '/' && field === 'mtimeNs') || field === 'rdev',
		normalize: (field, v) => (field === 'mtimeNs' ? seconds(v) : v),
	},
	xfs: {
		// A protofile has no times, xattrs, hard links or sticky bit.
		skip: (_path, field, h) => (h.type === 'dir' && field === 'size') ||
			['mtimeNs', 'xattrs'].includes(field) || (h.type === 'file' && field === 'nlink'),
		normalize: (field, v) => (field === 'mode' ? v & ~0o1000 : v),
	},
	vfat: {
		// FAT: no owners, modes, links; times in 2 s steps; root has none.
		skip: (path, field, h) => ['mode', 'uid', 'gid', 'nlink'].includes(field) ||
			(h.type === 'dir' && field === 'size') || (path === '/' && field === 'mtimeNs'),
		normalize: (field, v) => (field === 'mtimeNs' ? seconds(v) / 2n : v),
	},
};

const MAGIC = { ext4: 0xef53, btrfs: 0x9123683e, xfs: 0x58465342, vfat: 0x4d44 };

const kernel = Kernel.boot();
t.teardown(() => kernel.halt());

for (const kind of ['ext4', 'btrfs', 'xfs', 'vfat']) {
	t.test(kind, async (t) => {
		const img = images[kind];
		const before = sha256(fs.readFileSync(img));
		const host = kind === 'vfat' ? hostVfat : hostFull;
		const disk = await kernel.addDisk(img, { readOnly: true });
		t.equal(disk.path, img);
		t.match(disk.name, /^vd[a-z]+$/);
		t.equal(disk.size, fs.statSync(img).size);
		const mount = await kernel.mount(disk);
		t.equal(mount.fsType, kind, 'filesystem recognised');
		t.equal(mount.readOnly, true, 'a read-only disk mounts read-only');
		t.equal(mount.partition, 0);
		t.equal(mount.disk, disk);
		t.match(mount.path, /^\/mnt\//);
		t.ok(kernel.mounts.includes(mount));

		t.test('the whole tree matches the host', async (t) => {
			const guest = await guestView(mount);
			t.same(diffTrees(host, guest, rules[kind]), []);
		});

		t.test('readdir', async (t) => {
			const names = await mount.readdir('/');
			t.type(names[0], 'string');
			const expected = [...host.keys()].filter((p) => p !== '/' && !p.slice(1).includes('/'))
				.map((p) => p.slice(1)).sort();
			t.same(names.filter((n) => n !== 'lost+found').sort(), expected);
			await t.rejects(mount.readdir(''), { code: 'ENOENT', syscall: 'scandir' }, "'' is no path, as in node:fs");
			const buffers = await mount.readdir('/', { encoding: 'buffer' });
			t.ok(buffers.every((b) => Buffer.isBuffer(b)));
			t.same(buffers.map(String).sort(), [...names].sort());
			t.same(await mount.readdir('/', 'buffer'), buffers, "'buffer' as a bare encoding");
			const dirents = await mount.readdir('dir', { withFileTypes: true });
			for (const d of dirents) {
				t.ok(d instanceof Dirent);
				t.equal(d.parentPath, 'dir');
				t.equal(d.path, 'dir');
				const h = host.get(`/dir/${d.name}`);
				t.equal(d.isDirectory(), h.type === 'dir', `${d.name} isDirectory`);
				t.equal(d.isFile(), h.type === 'file', `${d.name} isFile`);
				t.equal(d.isSymbolicLink(), false);
			}
			const all = await mount.readdir('/', { recursive: true });
			t.same(all.filter((n) => !n.startsWith('lost+found')).sort(),
				[...host.keys()].filter((p) => p !== '/').map((p) => p.slice(1)).sort(),
				'recursive names are paths relative to the directory');
			const deep = await mount.readdir('/dir', { recursive: true, withFileTypes: true });
			const leaf = deep.find((d) => d.name === 'leaf.txt');
			t.equal(leaf.parentPath, '/dir/sub/deeper');
			t.ok(leaf.isFile());
		});

		t.test('sync variants agree with the promise ones', async (t) => {
			t.same(mount.readdirSync('/'), await mount.readdir('/'));
			t.same(mount.readdirSync('dir', { withFileTypes: true }).map((d) => [d.name, d.isDirectory()]),
				(await mount.readdir('dir', { withFileTypes: true })).map((d) => [d.name, d.isDirectory()]));
			t.same(mount.statSync('hello.txt'), await mount.stat('hello.txt'));
			t.same(mount.lstatSync('dir', { bigint: true }), await mount.lstat('dir', { bigint: true }));
			t.same(mount.readFileSync('big.bin'), await mount.readFile('big.bin'));
			t.equal(mount.readFileSync('hello.txt', 'utf8'), 'Hello, world!\n');
			t.equal(mount.existsSync('hello.txt'), true);
			t.equal(mount.existsSync('nope'), false);
			t.throws(() => mount.statSync('nope'), { code: 'ENOENT', syscall: 'stat', path: 'nope' });
			t.doesNotThrow(() => mount.accessSync('hello.txt'));
		});

		t.test('stat and lstat', async (t) => {
			const st = await mount.stat('hello.txt');
			t.ok(st instanceof Stats);
			t.ok(st.isFile());
			t.notOk(st.isDirectory());
			t.equal(st.size, 14);
			t.type(st.ino, 'number');
			t.ok(st.mtime instanceof Date);
			t.equal(st.mtime.getTime(), Math.floor(st.mtimeMs));
			t.ok(st.blksize > 0);
			const big = await mount.stat('hello.txt', { bigint: true });
			t.ok(big instanceof BigIntStats);
			t.equal(big.size, 14n);
			t.equal(big.mtimeMs, big.mtimeNs / 1_000_000n);
			t.equal(Number(big.ino), st.ino);
			if (kind === 'ext4')
				t.equal(big.mtimeNs, host.get('/hello.txt').mtimeNs, 'nanoseconds exact');
			const d = await mount.stat('/');
			t.ok(d.isDirectory());
			t.equal((await mount.stat('/dir/../dir/./sub')).ino, (await mount.stat('dir/sub')).ino);
			t.equal((await mount.stat('dir/sub/')).ino, (await mount.stat('dir/sub')).ino, 'trailing slash');
		});

		t.test('contents', async (t) => {
			t.same(await mount.readFile('big.bin'), pattern(3 << 20));
			t.equal(await mount.readFile('hello.txt', 'utf8'), 'Hello, world!\n');
			t.equal(await mount.readFile('hello.txt', { encoding: 'base64' }),
				Buffer.from('Hello, world!\n').toString('base64'));
			t.same(await mount.readFile('empty'), Buffer.alloc(0));
			t.same(await mount.readFile('odd-size.bin'), pattern(4097, 7));
			if (kind !== 'vfat') {
				const sparse = await mount.readFile('sparse.bin');
				t.equal(sparse.length, (1 << 20) + 15);
				t.ok(sparse.subarray(0, 1 << 20).every((b) => b === 0), 'the hole reads as zeros');
				t.equal(sparse.subarray(1 << 20).toString(), 'after the hole\n');
			}
		});

		t.test('file handles', async (t) => {
			const h = await mount.open('big.bin');
			t.ok(h instanceof FileHandle);
			t.type(h.fd, 'number');
			t.equal(h.path, 'big.bin');
			const expected = pattern(3 << 20);
			const buf = Buffer.alloc(100);
			let r = await h.read(buf, 0, 100, 1_000_000);
			t.equal(r.bytesRead, 100);
			t.equal(r.buffer, buf);
			t.same(buf, expected.subarray(1_000_000, 1_000_100));
			r = await h.read(buf, 10, 20, 5n);
			t.same(buf.subarray(10, 30), expected.subarray(5, 25), 'bigint position, offset into buffer');
			r = await h.read(buf, 0, 16);
			t.same(buf.subarray(0, 16), expected.subarray(0, 16), 'null position: current (start)');
			r = await h.read(buf, 0, 16, null);
			t.same(buf.subarray(0, 16), expected.subarray(16, 32), 'the current position advances');
			r = await h.read({ buffer: Buffer.alloc(8), position: 32 });
			t.same(r.buffer, expected.subarray(32, 40), 'options object');
			r = await h.read();
			t.equal(r.buffer.length, 16384, 'a 16 KiB buffer by default');
			r = await h.read(buf, 0, 100, (3 << 20) - 50);
			t.equal(r.bytesRead, 50, 'short read at the end');
			r = await h.read(buf, 0, 100, 3 << 20);
			t.equal(r.bytesRead, 0, 'end of file');
			const words = new Uint32Array(4);
			r = await h.read(words, 0, 16, 0);
			t.same(Buffer.from(words.buffer), expected.subarray(0, 16), 'any TypedArray');
			const v = await h.readv([Buffer.alloc(10), Buffer.alloc(6)], 100);
			t.equal(v.bytesRead, 16);
			t.same(Buffer.concat(v.buffers), expected.subarray(100, 116));
			t.same((await h.stat()).size, 3 << 20);
			t.equal((await h.stat({ bigint: true })).size, 3n << 20n);
			await t.rejects(h.read(buf, 0, 101, 0), { code: 'ERR_OUT_OF_RANGE' });
			await h.close();
			t.equal(h.fd, -1);
			await h.close();
			await t.rejects(h.read(buf, 0, 1, 0), { code: 'EBADF', syscall: 'read' });
			await t.rejects(h.stat(), { code: 'EBADF' });
			const text = await mount.open('hello.txt', 'r');
			t.equal(await text.readFile('utf8'), 'Hello, world!\n');
			t.equal(await text.readFile('utf8'), '', 'readFile reads from the current position');
			await text.close();
			t.equal(await mount.readFile(await mount.open('hello.txt'), 'utf8'), 'Hello, world!\n',
				'readFile takes a FileHandle');
		});

		t.test('streams', async (t) => {
			const expected = pattern(3 << 20);
			const collect = async (s) => {
				const parts = [];
				for await (const c of s)
					parts.push(c);
				return parts;
			};
			let parts = await collect(mount.createReadStream('big.bin'));
			t.same(Buffer.concat(parts), expected);
			t.equal(parts.length, 3, '1 MiB chunks by default');
			parts = await collect(mount.createReadStream('big.bin', { start: 1000, end: 1999, highWaterMark: 300 }));
			t.same(Buffer.concat(parts), expected.subarray(1000, 2000), 'start and end, inclusive');
			t.same(parts.map((p) => p.length), [300, 300, 300, 100]);
			parts = await collect(mount.createReadStream('hello.txt', { encoding: 'utf8' }));
			t.same(parts, ['Hello, world!\n']);
			parts = await collect(mount.createReadStream('big.bin', { end: 9 }));
			t.same(Buffer.concat(parts), expected.subarray(0, 10));
			const s = mount.createReadStream('nope');
			await t.rejects(collect(s), { code: 'ENOENT', syscall: 'open', path: 'nope' });
			const h = await mount.open('big.bin');
			parts = await collect(h.createReadStream({ start: 16, end: 31 }));
			t.same(Buffer.concat(parts), expected.subarray(16, 32));
			t.equal(h.fd, -1, 'the stream closed its handle');
		});

		if (kind !== 'vfat') {
			t.test('symlinks stay inside the mount', async (t) => {
				const hello = await mount.lstat('hello.txt');
				t.ok((await mount.lstat('links/rel')).isSymbolicLink());
				t.equal((await mount.stat('links/rel')).ino, hello.ino);
				t.equal((await mount.stat('links/abs')).ino, hello.ino, 'absolute target: the mount root');
				t.equal((await mount.stat('links/climb')).ino, hello.ino, '.. stops at the mount root');
				t.equal((await mount.stat('links/abs-climb')).ino, (await mount.stat('dir/a.txt')).ino);
				t.equal(await mount.readFile('links/climb', 'utf8'), 'Hello, world!\n');
				t.equal(await mount.readlink('links/climb'), '../../../../../hello.txt');
				t.same(await mount.readlink('links/abs', 'buffer'), Buffer.from('/hello.txt'));
				t.equal(await mount.realpath('links/abs'), '/hello.txt');
				t.equal(await mount.realpath('links/to-dir/deeper'), '/dir/sub/deeper');
				t.equal(await mount.realpath('../../..'), '/');
				t.equal(await mount.realpath('links/abs-climb'), '/dir/a.txt');
				t.same((await mount.readdir('links/to-dir')).sort(), ['deeper']);
				t.same((await mount.readdir('../../../dir')).sort(), (await mount.readdir('/dir')).sort());
				await t.rejects(mount.stat('links/dangling'), { code: 'ENOENT' });
				await t.rejects(mount.stat('../../../../etc/passwd'), { code: 'ENOENT' });
				await t.rejects(mount.stat('/proc/self'), { code: 'ENOENT' }, 'the kernel\'s /proc is not reachable');
				t.test('readlink of a non-link', async (t) => {
					await t.rejects(mount.readlink('hello.txt'), { code: 'EINVAL', syscall: 'readlink' });
				});
				if (full.devices) {
					const dev = await mount.lstat('null-dev');
					t.ok(dev.isCharacterDevice());
				}
				t.ok((await mount.lstat('fifo')).isFIFO());
			});

			t.test('xattrs', { skip: !full.xattrs && 'host fs without user xattrs' }, async (t) => {
				if (kind === 'xfs') {
					t.same(await mount.llistxattr('hello.txt'), [], 'a protofile carries none');
					return;
				}
				t.same((await mount.llistxattr('hello.txt')).filter((n) => n.startsWith('user.')), ['user.comment']);
				t.equal((await mount.lgetxattr('hello.txt', 'user.comment')).toString(), 'hello xattr');
				t.same(await mount.lgetxattr('dir', 'user.binary'), Buffer.from([0, 0xff, 0x10]));
				t.same(await mount.lgetxattr('empty', 'user.empty'), Buffer.alloc(0));
				await t.rejects(mount.lgetxattr('hello.txt', 'user.none'), { code: 'ENODATA', syscall: 'lgetxattr' });
				// The following (non-l) forms go through the symlink.
				t.test('through a symlink', async (t) => {
					t.same((await mount.listxattr('links/rel')).filter((n) => n.startsWith('user.')), ['user.comment']);
					t.equal((await mount.getxattr('links/rel', 'user.comment')).toString(), 'hello xattr');
					t.equal((await mount.getxattr('hello.txt', 'user.comment')).toString(), 'hello xattr');
				});
			});
		}

		t.test('statfs and access', async (t) => {
			const s = await mount.statfs();
			t.equal(s.type, MAGIC[kind]);
			t.ok(s.bsize > 0 && s.blocks > 0 && s.bfree <= s.blocks);
			t.ok(s.blocks * s.bsize <= disk.size);
			const b = await mount.statfs('dir', { bigint: true });
			t.equal(b.type, BigInt(MAGIC[kind]));
			await mount.access('hello.txt');
			await mount.access('hello.txt', fs.constants.R_OK);
			await t.rejects(mount.access('nope'), { code: 'ENOENT', syscall: 'access' });
			await t.rejects(mount.access('hello.txt', fs.constants.W_OK), { code: 'EROFS' });
		});

		t.test('unmount', async (t) => {
			const open = await mount.open('hello.txt');
			await mount.unmount();
			t.equal(mount.mounted, false);
			t.notOk(kernel.mounts.includes(mount));
			t.equal(open.fd, -1, 'open handles are closed');
			await t.rejects(open.read(Buffer.alloc(1), 0, 1, 0), { code: 'ERR_LKL_UNMOUNTED' });
			await t.rejects(mount.stat('hello.txt'), { code: 'ERR_LKL_UNMOUNTED' });
			t.throws(() => mount.readdirSync('/'), { code: 'ERR_LKL_UNMOUNTED' });
			await mount.unmount();
			await kernel.removeDisk(disk);
			t.notOk(kernel.disks.includes(disk));
			t.equal(sha256(fs.readFileSync(img)), before, 'a read-only disk leaves its file as it was');
		});
	});
}

t.test('a big read is whole and in order', async (t) => {
	// The same bytes as the host has, hashed: catches any chunk out of place.
	const disk = await kernel.addDisk(images.ext4, { readOnly: true });
	const mount = await kernel.mount(disk);
	const hash = createHash('sha256');
	for await (const chunk of mount.createReadStream('big.bin', { highWaterMark: 65536 }))
		hash.update(chunk);
	t.equal(hash.digest('hex'), hostFull.get('/big.bin').sha256);
	await mount.unmount();
});
