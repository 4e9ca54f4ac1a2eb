// The finer points of the API: names that are not UTF-8, option forms
// node:fs accepts, xattr flags, stream and handle variants.
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import t from 'tap';
import { Kernel, COPYFILE_EXCL, COPYFILE_FICLONE, COPYFILE_FICLONE_FORCE, XattrFlags } from '../../dist/src/index.js';
import { buildImage, fsck, makeTree, tempDir } from '../helpers/tree.mjs';

t.setTimeout(120_000);

const dir = tempDir(t);
const tree = makeTree(join(dir, 'tree'), 'vfat').root;
const img = buildImage('ext4', tree, join(dir, 'a.img'));
const kernel = Kernel.boot();
t.teardown(() => kernel.halt());
const mount = await kernel.mount(await kernel.addDisk(img));

t.test('names that are not UTF-8 survive as Buffers', async (t) => {
	const name = Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x74]); // "f\xff\xfe.t"
	await mount.mkdir(Buffer.from('raw'));
	await mount.writeFile(Buffer.concat([Buffer.from('raw/'), name]), 'bytes\n');
	const names = await mount.readdir('raw', { encoding: 'buffer' });
	t.same(names, [name]);
	const ents = await mount.readdir(Buffer.from('raw'), { withFileTypes: true, encoding: 'buffer' });
	t.same(ents[0].name, name);
	t.ok(ents[0].isFile());
	const path = Buffer.concat([Buffer.from('raw/'), names[0]]);
	t.equal(await mount.readFile(path, 'utf8'), 'bytes\n');
	t.same(await mount.readdir('/', { recursive: true, encoding: 'buffer' }).then(
		(all) => all.filter((b) => b.subarray(0, 4).equals(Buffer.from('raw/')))), [path]);
	await mount.symlink(name, 'raw/link');
	t.same(await mount.readlink('raw/link', { encoding: 'buffer' }), name);
	await mount.rm('raw', { recursive: true });
	await t.rejects(mount.stat('raw'), { code: 'ENOENT' });
});

t.test('mkdir', async (t) => {
	t.equal(await mount.mkdir('m1'), undefined);
	t.equal(await mount.mkdir('m1/a/b/c', { recursive: true }), '/m1/a', 'the first directory made');
	t.equal(await mount.mkdir('m1/a/b/c', { recursive: true }), undefined, 'nothing made');
	t.equal(await mount.mkdir('/m1/a/b/c/../d', { recursive: true }), '/m1/a/b/d');
	t.equal(mount.mkdirSync('m1/sync/x', { recursive: true }), '/m1/sync');
	await mount.mkdir('m1/mode', { mode: 0o700 });
	t.equal((await mount.stat('m1/mode')).mode & 0o777, 0o700);
	await mount.mkdir('m1/mode-str', '750');
	t.equal((await mount.stat('m1/mode-str')).mode & 0o777, 0o750);
	await mount.mkdir('m1/umask', 0o777);
	t.equal((await mount.stat('m1/umask')).mode & 0o777, 0o755, 'the kernel applies umask 022');
});

t.test('writeFile data forms and flags', async (t) => {
	await mount.writeFile('w.txt', Readable.from(['a', 'b', Buffer.from('c')]));
	t.equal(await mount.readFile('w.txt', 'utf8'), 'abc', 'an async iterable (a stream)');
	await mount.writeFile('w.txt', (function* () { yield 'x'; yield 'y'; })());
	t.equal(await mount.readFile('w.txt', 'utf8'), 'xy', 'a generator');
	await mount.writeFile('w.txt', new DataView(new ArrayBuffer(2)));
	t.same(await mount.readFile('w.txt'), Buffer.alloc(2));
	await mount.writeFile('w.txt', 'aGk=', 'base64');
	t.equal(await mount.readFile('w.txt', 'utf8'), 'hi');
	await mount.writeFile('w.txt', '+more', { flag: 'a' });
	t.equal(await mount.readFile('w.txt', 'utf8'), 'hi+more');
	await mount.writeFile('w.txt', 'mode', { mode: 0o600, flag: 'w' });
	t.equal((await mount.stat('w.txt')).mode & 0o777, 0o644, 'mode applies only when creating');
	await mount.writeFile('w2.txt', 'mode', { mode: 0o600 });
	t.equal((await mount.stat('w2.txt')).mode & 0o777, 0o600);
	const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
	await mount.writeFile('w3.txt', 'numeric', { flag: O_WRONLY | O_CREAT | O_EXCL });
	await t.rejects(mount.writeFile('w3.txt', 'again', { flag: O_WRONLY | O_CREAT | O_EXCL }), { code: 'EEXIST' },
		'numeric flags are the host fs.constants');
	mount.writeFileSync('w4.txt', ['sync ', Buffer.from('chunks')]);
	t.equal(mount.readFileSync('w4.txt', { encoding: 'utf8' }), 'sync chunks');
	mount.appendFileSync('w4.txt', '!');
	t.equal(mount.readFileSync('w4.txt', 'latin1'), 'sync chunks!');
	await mount.appendFile('w5.txt', 'created');
	t.equal(await mount.readFile('w5.txt', 'utf8'), 'created');
});

t.test('copyFile', async (t) => {
	await mount.chmod('hello.txt', 0o640);
	await mount.copyFile('hello.txt', 'c1.txt');
	t.equal(await mount.readFile('c1.txt', 'utf8'), 'Hello, world!\n');
	t.equal((await mount.stat('c1.txt')).mode & 0o777, 0o640, 'the mode comes along');
	await mount.copyFile('big.bin', 'c1.txt');
	t.same(await mount.readFile('c1.txt'), await mount.readFile('big.bin'), 'over an existing file');
	await t.rejects(mount.copyFile('hello.txt', 'c1.txt', COPYFILE_EXCL), { code: 'EEXIST', syscall: 'copyfile' });
	await mount.copyFile('hello.txt', 'c2.txt', COPYFILE_FICLONE);
	t.equal(await mount.readFile('c2.txt', 'utf8'), 'Hello, world!\n', 'FICLONE falls back to copying');
	await t.rejects(mount.copyFile('hello.txt', 'c3.txt', COPYFILE_FICLONE_FORCE), { code: 'ENOTSUP' });
});

t.test('xattrs', async (t) => {
	await mount.lsetxattr('hello.txt', 'user.a', 'one'); // setxattr: see read.test.mjs's todo
	await mount.lsetxattr('hello.txt', 'user.b', new Uint8Array([1, 2]));
	t.same((await mount.llistxattr('hello.txt')).sort(), ['user.a', 'user.b']);
	await t.rejects(mount.lsetxattr('hello.txt', 'user.a', 'x', XattrFlags.CREATE), { code: 'EEXIST' });
	await t.rejects(mount.lsetxattr('hello.txt', 'user.c', 'x', XattrFlags.REPLACE), { code: 'ENODATA' });
	await mount.lsetxattr('hello.txt', 'user.a', 'two', XattrFlags.REPLACE);
	t.equal((await mount.lgetxattr('hello.txt', 'user.a')).toString(), 'two');
	await mount.lremovexattr('hello.txt', 'user.b');
	t.same(await mount.llistxattr('hello.txt'), ['user.a']);
	await t.rejects(mount.lremovexattr('hello.txt', 'user.b'), { code: 'ENODATA', syscall: 'lremovexattr' });
	await mount.symlink('hello.txt', 'xlink');
	await t.rejects(mount.lsetxattr('xlink', 'user.on-link', 'x'), { code: 'EPERM' },
		'user xattrs are not allowed on symlinks themselves');
	await mount.lsetxattr('hello.txt', 'trusted.t', 'root only');
	t.same((await mount.llistxattr('hello.txt')).sort(), ['trusted.t', 'user.a']);
});

t.test('file handle details', async (t) => {
	const h = await mount.open('fh.bin', 'w+', 0o600);
	t.equal((await h.stat()).mode & 0o777, 0o600);
	const w = await h.write('héllo');
	t.equal(w.bytesWritten, 6);
	t.equal(w.buffer, 'héllo');
	await h.write('41', null, 'hex');
	await h.appendFile(' and more');
	t.equal((await h.read(Buffer.alloc(32), 0, 32, 0)).buffer.toString('utf8', 0, 16), 'héllo' + 'A and more');
	await h.chmod(0o604);
	await h.chown(12, 34);
	const st = await h.stat();
	t.equal(st.mode & 0o777, 0o604);
	t.same([st.uid, st.gid], [12, 34]);
	await h.truncate();
	t.equal((await h.stat()).size, 0);
	const ws = h.createWriteStream({ start: 4, autoClose: false });
	ws.end('abc');
	await new Promise((resolve) => ws.on('finish', resolve));
	t.same(await h.read(Buffer.alloc(7), 0, 7, 0).then((r) => r.buffer), Buffer.from('\0\0\0\0abc'));
	t.not(h.fd, -1, 'autoClose: false leaves it open');
	await h.close();
	await t.rejects(h.write('x'), { code: 'EBADF', message: 'file closed' });

	const ro = await mount.open('hello.txt');
	await t.rejects(ro.write('x'), { code: 'EBADF', syscall: 'write' }, 'a file opened read-only');
	await ro.close();
	const dirHandle = await mount.open('dir');
	await t.rejects(dirHandle.read(Buffer.alloc(1)), { code: 'EISDIR', syscall: 'read' });
	await dirHandle.close();
});

t.test('streams details', async (t) => {
	const ws = mount.createWriteStream('s.txt', { flags: 'w', encoding: 'latin1' });
	t.equal(ws.pending, true);
	ws.write('caf\u00e9');
	ws.end();
	await new Promise((resolve) => ws.on('close', resolve));
	t.same(await mount.readFile('s.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
	const ws2 = mount.createWriteStream('s.txt', { flags: 'r+', start: 1 });
	ws2.end('AF');
	await new Promise((resolve) => ws2.on('close', resolve));
	t.same(await mount.readFile('s.txt'), Buffer.from([0x63, 0x41, 0x46, 0xe9]), 'r+ with start: in place');
	const rs = mount.createReadStream('s.txt', { start: 2 });
	let opened;
	rs.on('open', (fd) => { opened = fd; });
	const chunks = [];
	for await (const c of rs)
		chunks.push(c);
	t.type(opened, 'number');
	t.same(Buffer.concat(chunks), Buffer.from([0x46, 0xe9]));
	t.equal(rs.bytesRead, 2);
	t.throws(() => mount.createReadStream('s.txt', { start: 5, end: 2 }), { code: 'ERR_INVALID_ARG_VALUE' });
	const ac = new AbortController();
	const aborted = mount.createReadStream('big.bin', { signal: ac.signal, highWaterMark: 1024 });
	aborted.once('data', () => ac.abort());
	await t.rejects(async () => {
		for await (const _ of aborted);
	}, { name: 'AbortError' });
});

t.test('statfs follows the filesystem', async (t) => {
	const before = await mount.statfs('/');
	await mount.writeFile('fill.bin', Buffer.alloc(4 << 20, 1));
	const fh = await mount.open('fill.bin', 'r+');
	await fh.sync();
	await fh.close();
	const after = await mount.statfs('/', { bigint: true });
	t.ok(after.bfree < BigInt(before.bfree), 'free blocks went down');
	t.equal(typeof after.files, 'bigint');
});

t.test('the image is sound', async (t) => {
	await mount.unmount();
	const check = fsck('ext4', img);
	t.ok(check.ok, 'e2fsck', { output: check.output });
});
