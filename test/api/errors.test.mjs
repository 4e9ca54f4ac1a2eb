// Errors: each failing call must fail as node:fs fails for the same call
// on the host copy of the tree (code, errno, syscall, path, dest and
// message), read-only mounts must refuse every write with EROFS, and the
// kernel-level calls must check their arguments first.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { Kernel, COPYFILE_EXCL } from '../../dist/src/index.js';
import { buildImage, fsck, makeTree, run, tempDir } from '../helpers/tree.mjs';
import { repoForUsers } from '../helpers/machine.mjs';
import { REPO } from '../helpers/cli.mjs';
import { sha256 } from '../helpers/views.mjs';

t.setTimeout(240_000);

const dir = tempDir(t);
const tree = makeTree(join(dir, 'tree'));
const img = buildImage('ext4', tree.root, join(dir, 'ext4.img'));
const hostRoot = join(dir, 'host');
run('cp', ['-a', tree.root, hostRoot]);

const kernel = Kernel.boot();
t.teardown(() => kernel.halt());
const disk = await kernel.addDisk(img);
const mount = await kernel.mount(disk);

fs.symlinkSync('loop', join(hostRoot, 'loop'));
await mount.symlink('loop', 'loop');
const long = 'n'.repeat(300);

// Failing calls, each as [what, (api, p) => call], `p` mapping tree paths.
const failing = [
	['stat a missing file', (api, p) => api.stat(p('nope'))],
	['lstat under a missing directory', (api, p) => api.lstat(p('nope/x'))],
	['stat through a file', (api, p) => api.stat(p('hello.txt/x'))],
	['stat a symlink loop', (api, p) => api.stat(p('loop'))],
	['stat a name too long', (api, p) => api.stat(p(long))],
	['readFile a missing file', (api, p) => api.readFile(p('nope'))],
	['readFile a directory', (api, p) => api.readFile(p('dir'))],
	['readdir a file', (api, p) => api.readdir(p('hello.txt'))],
	['readdir a missing directory', (api, p) => api.readdir(p('nope'))],
	['mkdir an existing name', (api, p) => api.mkdir(p('dir'))],
	['mkdir under a missing directory', (api, p) => api.mkdir(p('nope/x'))],
	['mkdir under a file', (api, p) => api.mkdir(p('hello.txt/x'))],
	['mkdir -p through a file', (api, p) => api.mkdir(p('hello.txt/x/y'), { recursive: true })],
	['mkdir -p onto a file', (api, p) => api.mkdir(p('hello.txt'), { recursive: true })],
	['rmdir a non-empty directory', (api, p) => api.rmdir(p('dir'))],
	['rmdir a file', (api, p) => api.rmdir(p('hello.txt'))],
	['rmdir a missing directory', (api, p) => api.rmdir(p('nope'))],
	['unlink a directory', (api, p) => api.unlink(p('dir'))],
	['unlink a missing file', (api, p) => api.unlink(p('nope'))],
	['rename a missing file', (api, p) => api.rename(p('nope'), p('x'))],
	['rename a directory over a file', (api, p) => api.rename(p('dir'), p('hello.txt'))],
	['rename a file over a directory', (api, p) => api.rename(p('hello.txt'), p('dir'))],
	['rename a directory into itself', (api, p) => api.rename(p('dir'), p('dir/sub/x'))],
	['rename over a non-empty directory', (api, p) => api.rename(p('many'), p('dir'))],
	['link a missing file', (api, p) => api.link(p('nope'), p('x'))],
	['link onto an existing name', (api, p) => api.link(p('hello.txt'), p('dir/a.txt'))],
	['link a directory', (api, p) => api.link(p('dir'), p('dir2'))],
	['symlink onto an existing name', (api, p) => api.symlink('x', p('hello.txt'))],
	['writeFile wx onto an existing file', (api, p) => api.writeFile(p('hello.txt'), 'x', { flag: 'wx' })],
	['open wx an existing file', (api, p) => api.open(p('hello.txt'), 'wx')],
	['open a directory for writing', (api, p) => api.open(p('dir'), 'w')],
	['open r a missing file', (api, p) => api.open(p('nope'), 'r')],
	['readlink a missing link', (api, p) => api.readlink(p('nope'))],
	['access a missing file', (api, p) => api.access(p('nope'))],
	['chmod a missing file', (api, p) => api.chmod(p('nope'), 0o600)],
	['chown a missing file', (api, p) => api.chown(p('nope'), 1, 1)],
	['lchown a missing file', (api, p) => api.lchown(p('nope'), 1, 1)],
	['utimes a missing file', (api, p) => api.utimes(p('nope'), 1, 1)],
	['lutimes a missing file', (api, p) => api.lutimes(p('nope'), 1, 1)],
	['rm a directory without recursive', (api, p) => api.rm(p('dir'))],
	['rm a missing file', (api, p) => api.rm(p('nope'))],
	['copyFile a missing file', (api, p) => api.copyFile(p('nope'), p('x'))],
	['copyFile EXCL onto an existing file', (api, p) => api.copyFile(p('hello.txt'), p('exec.sh'), COPYFILE_EXCL)],
	['appendFile to a directory', (api, p) => api.appendFile(p('dir'), 'x')],
];

t.test('errors are the ones node:fs gives for the same call', async (t) => {
	for (const [what, call] of failing) {
		let hostErr;
		let lklErr;
		try {
			await call(fsp, (x) => join(hostRoot, x));
		} catch (e) {
			hostErr = e;
		}
		try {
			await call(mount, (x) => x);
		} catch (e) {
			lklErr = e;
		}
		t.ok(hostErr, `${what}: fails on the host`);
		if (!t.ok(lklErr, `${what}: fails through lkl`))
			continue;
		const unroot = (s) => (typeof s === 'string' ? s.split(`${hostRoot}/`).join('') : s);
		const shape = (e) => ({
			code: e.code, errno: e.errno, syscall: e.syscall, path: unroot(e.path), dest: unroot(e.dest),
			message: unroot(e.message), isError: e instanceof Error,
		});
		t.same(shape(lklErr), shape(hostErr), what);
	}
});

t.test('argument errors', async (t) => {
	await t.rejects(mount.stat(42), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
	await t.rejects(mount.stat('a\0b'), { code: 'ERR_INVALID_ARG_VALUE' });
	await t.rejects(mount.readFile('hello.txt', { encoding: 'klingon' }), { code: 'ERR_INVALID_ARG_VALUE' });
	await t.rejects(mount.open('hello.txt', 'q'), { code: 'ERR_INVALID_ARG_VALUE' });
	await t.rejects(mount.chmod('hello.txt', '9'), { code: 'ERR_INVALID_ARG_VALUE' });
	await t.rejects(mount.writeFile('hello.txt', 42), { code: 'ERR_INVALID_ARG_TYPE' });
	t.equal(await mount.readFile('hello.txt', 'utf8'), 'Hello, world!\n', 'a bad writeFile leaves the file alone');
	await t.rejects(mount.truncate('hello.txt', -1), { code: 'ERR_OUT_OF_RANGE' });
	t.throws(() => mount.statSync(Symbol('x')), { code: 'ERR_INVALID_ARG_TYPE' });
	await t.rejects(mount.setxattr('hello.txt', 3, 'v'), { code: 'ERR_INVALID_ARG_TYPE' });
	await t.rejects(kernel.mount({}), { code: 'ERR_INVALID_ARG_TYPE' });
});

t.test('paths never leave the mount', async (t) => {
	const other = await kernel.mount(await kernel.addDisk(buildImage('ext4', tree.root, join(dir, 'b.img'))));
	await mount.writeFile('../../../../escaped.txt', 'inside\n');
	t.equal(await mount.readFile('/escaped.txt', 'utf8'), 'inside\n', '".." at the root stays at the root');
	await mount.symlink('/../../..', 'up');
	t.same((await mount.readdir('up')).sort(), (await mount.readdir('/')).sort());
	await mount.writeFile('up/../via-link.txt', 'x');
	t.ok(await mount.stat('via-link.txt'));
	const otherName = other.path.split('/').pop();
	await t.rejects(mount.stat(`../${otherName}`), { code: 'ENOENT' }, 'another mount is not reachable');
	await t.rejects(mount.stat(other.path), { code: 'ENOENT' });
	await mount.symlink(other.path, 'to-other');
	await t.rejects(mount.readdir('to-other'), { code: 'ENOENT' });
	await t.rejects(mount.stat('/dev'), { code: 'ENOENT' }, "the kernel's own tree is not reachable");
	t.equal(await mount.realpath('up/up/up'), '/');
	await other.unmount();
	t.same(fs.readdirSync(dir).filter((n) => n.includes('escaped')), [], 'nothing on the host either');
});

t.test('a read-only mount refuses every write with EROFS', async (t) => {
	// A fresh image: a copy of the one mounted above would have a journal
	// to replay, which a read-only mount of a writable disk does write.
	const copy = buildImage('ext4', tree.root, join(dir, 'ro.img'));
	const before = sha256(fs.readFileSync(copy));
	const ro = await kernel.mount(await kernel.addDisk(copy), { readOnly: true });
	t.equal(ro.readOnly, true);
	const writes = [
		['writeFile', () => ro.writeFile('new', 'x')],
		['writeFile over', () => ro.writeFile('hello.txt', 'x')],
		['appendFile', () => ro.appendFile('hello.txt', 'x')],
		['open w', () => ro.open('hello.txt', 'w')],
		['open r+', () => ro.open('hello.txt', 'r+')],
		['mkdir', () => ro.mkdir('d')],
		['mkdir -p', () => ro.mkdir('d/e', { recursive: true })],
		['rmdir', () => ro.rmdir('dir/empty-dir')],
		['rm -r', () => ro.rm('dir', { recursive: true })],
		['unlink', () => ro.unlink('hello.txt')],
		['rename', () => ro.rename('hello.txt', 'x')],
		['symlink', () => ro.symlink('a', 'b')],
		['link', () => ro.link('hello.txt', 'x')],
		['mknod', () => ro.mknod('fifo2', fs.constants.S_IFIFO | 0o600)],
		['chmod', () => ro.chmod('hello.txt', 0o600)],
		['chown', () => ro.chown('hello.txt', 1, 1)],
		['utimes', () => ro.utimes('hello.txt', 1, 1)],
		['truncate', () => ro.truncate('hello.txt', 1)],
		['copyFile', () => ro.copyFile('hello.txt', 'x')],
		['setxattr', () => ro.lsetxattr('hello.txt', 'user.x', 'v')],
		['writeFileSync', async () => ro.writeFileSync('new', 'x')],
		['mkdirSync', async () => ro.mkdirSync('d')],
	];
	for (const [what, call] of writes)
		await t.rejects(call(), { code: 'EROFS', errno: -30 }, what);
	const ws = ro.createWriteStream('s');
	await t.rejects(new Promise((resolve, reject) => ws.on('error', reject).on('finish', resolve)),
		{ code: 'EROFS' }, 'createWriteStream');
	await ro.unmount();
	t.equal(sha256(fs.readFileSync(copy)), before, 'the image is untouched');
});

t.test('a read-only disk mounted writable keeps its writes in memory', async (t) => {
	const copy = buildImage('ext4', tree.root, join(dir, 'overlay.img'));
	const before = sha256(fs.readFileSync(copy));
	const d = await kernel.addDisk(copy, { readOnly: true });
	const m = await kernel.mount(d, { readOnly: false });
	t.equal(m.readOnly, false);
	await m.writeFile('scratch.txt', 'only in memory\n');
	t.equal(await m.readFile('scratch.txt', 'utf8'), 'only in memory\n');
	await m.unmount();
	t.equal(sha256(fs.readFileSync(copy)), before, 'the file never changed');
	const again = await kernel.mount(d);
	t.equal(await again.readFile('scratch.txt', 'utf8'), 'only in memory\n', 'the disk still has it, in memory');
	await again.unmount();
});

t.test('addDisk and mount check their arguments', async (t) => {
	await t.rejects(kernel.addDisk(join(dir, 'missing.img')), {
		code: 'ENOENT', path: join(dir, 'missing.img'), message: /missing\.img/,
	});
	await t.rejects(kernel.addDisk(dir), { code: 'EISDIR', errno: -21, path: dir, syscall: 'open' });
	const zeros = join(dir, 'zeros.img');
	fs.writeFileSync(zeros, Buffer.alloc(1 << 20));
	const z = await kernel.addDisk(zeros);
	await t.rejects(kernel.mount(z), { code: 'ENODEV', syscall: 'mount', path: zeros },
		'no filesystem recognised');
	await t.rejects(kernel.mount(z, { partition: 3 }), { code: 'ENOENT', syscall: 'mount' }, 'no such partition');
	await t.rejects(kernel.mount(disk), { code: 'EBUSY', syscall: 'mount' }, 'mounted already');
	await t.rejects(kernel.removeDisk(disk), { code: 'EBUSY' }, 'a disk with a mount stays');
	await t.rejects(kernel.mount(z, { fsType: 'xfs' }), { syscall: 'mount' });
	await kernel.removeDisk(z);
	await t.rejects(kernel.mount(z), { code: 'ERR_INVALID_ARG_TYPE' }, 'a removed disk');

	t.test('without permission: EACCES', { skip: process.getuid() !== 0 && 'needs root to switch user' }, async (t) => {
		const secret = join(dir, 'secret.img');
		fs.writeFileSync(secret, '');
		fs.chmodSync(secret, 0o600);
		fs.chmodSync(dir, 0o755);
		const readonly = join(dir, 'readable.img');
		fs.writeFileSync(readonly, '');
		fs.chmodSync(readonly, 0o644);
		const script = `
			import { Kernel } from ${JSON.stringify(pathToFileURL(join(repoForUsers(t, REPO), 'dist/src/index.js')).href)};
			const k = Kernel.boot();
			const out = [];
			for (const [p, o] of [[${JSON.stringify(secret)}, { readOnly: true }], [${JSON.stringify(readonly)}, {}]])
				await k.addDisk(p, o).then(() => out.push('ok'), (e) => out.push([e.code, e.errno, e.syscall, e.path]));
			await k.halt();
			console.log(JSON.stringify(out));`;
		// Without the loader hooks tap adds to every child's NODE_OPTIONS
		// (it patches spawnSync, so env -u): they live in the repository's
		// node_modules, perhaps out of this user's reach.
		const r = spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, '--input-type=module', '-e', script],
			{ uid: 65534, gid: 65534, encoding: 'utf8' });
		t.equal(r.status, 0, r.stderr);
		t.same(JSON.parse(r.stdout), [
			['EACCES', -13, 'access', secret],
			['EACCES', -13, 'access', readonly],
		], 'not readable, and not writable for a writable disk');
	});
});

t.test('the image is sound after all this', async (t) => {
	await mount.unmount();
	const check = fsck('ext4', img);
	t.ok(check.ok, 'e2fsck', { output: check.output });
});
