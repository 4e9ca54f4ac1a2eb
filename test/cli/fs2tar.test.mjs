// lkl fs2tar's options and promises, on an ext4 image holding the full
// tree (put there by cptofs): standard output, compression, --root,
// --exclude, sorted and reproducible archives, --mtime, SELinux contexts,
// partitions, sockets, and an image that is never written, even one whose
// journal needs recovery.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { buildGpt, pattern, run, tempDir } from '../helpers/tree.mjs';
import {
	emptyImage, gnuExtract, lkl, lklOk, loopMount, makeFullTree, python, rulesFor,
	sha256File, sortedWalk, tarEntries, tarNames, treeView, SELINUX_LABEL, ok, same,
} from '../helpers/cli.mjs';

t.setTimeout(300_000);
process.umask(0o022);

const dir = tempDir(t, 'lkl-fs2tar-');
const tree = makeFullTree(join(dir, 'tree'));
const source = treeView(tree);
const img = emptyImage('ext4', join(dir, 'ext4.img'));
lklOk(['cptofs', '-i', img, `${tree}/.`, '/']);
const imgSum = sha256File(img);
const plain = join(dir, 'plain.tar');
lklOk(['fs2tar', img, plain]);
const plainBytes = fs.readFileSync(plain);
const plainNames = tarNames(plain);

t.test('entries come depth first, names in byte order, with no entry for the top', async (t) => {
	t.same(plainNames, sortedWalk(tree, ['lost+found']));
	t.notOk(plainNames.some((n) => n === '' || n === './' || n === '/'), 'no entry for the top');
});

t.test('the same image gives the same archive, byte for byte', async (t) => {
	const again = join(dir, 'again.tar');
	ok(t, lkl(['fs2tar', img, again]), 'fs2tar');
	t.ok(fs.readFileSync(again).equals(plainBytes), 'identical archives');
});

t.test('- writes the archive to standard output', async (t) => {
	const r = lkl(['fs2tar', img, '-'], { buffer: true });
	ok(t, r, 'fs2tar to stdout');
	t.ok(r.stdout.equals(plainBytes), 'the same bytes as the file');
});

t.test('-z and --zstd compress that same archive', async (t) => {
	const gz = join(dir, 'out.tar.gz');
	ok(t, lkl(['fs2tar', '-z', img, gz]), 'fs2tar -z');
	t.ok(run('gzip', ['-dc', gz], { encoding: 'buffer', maxBuffer: 1 << 30 }).equals(plainBytes), 'gzip -d gives the archive');
	const zst = join(dir, 'out.tar.zst');
	ok(t, lkl(['fs2tar', '--zstd', img, zst]), 'fs2tar --zstd');
	t.ok(run('zstd', ['-dc', zst], { encoding: 'buffer', maxBuffer: 1 << 30 }).equals(plainBytes), 'zstd -d gives the archive');
	const r = lkl(['fs2tar', '--gzip', img, '-'], { buffer: true });
	t.equal(r.status, 0, 'fs2tar --gzip to stdout');
	t.ok(spawnSync('gzip', ['-dc'], { input: r.stdout, maxBuffer: 1 << 30 }).stdout.equals(plainBytes), 'and that decompresses too');
	const out = gnuExtract(zst, join(dir, 'from-zst'), ['--zstd']);
	same(t, source, treeView(out), rulesFor('ext4'), 'the zstd archive extracted');
});

t.test('python\'s tarfile reads the archive too, with nanosecond mtimes', async (t) => {
	const entries = tarEntries(plain);
	t.equal(entries.length, plainNames.length);
	const hello = entries.find((e) => e.name === 'hello.txt');
	t.equal(hello.mtime, `${source.get('/hello.txt').mtimeNs.slice(0, 10)}.${source.get('/hello.txt').mtimeNs.slice(10).replace(/0+$/, '')}`);
	t.ok(hello.pax.includes('SCHILY.xattr.security.selinux'), 'the SELinux label is a pax record');
	const big = entries.find((e) => e.name === 'special/big-owner');
	t.same([big.uid, big.gid], [4000000000, 4000000001], 'owners above the ustar range, in pax records');
});

t.test('--root archives one directory, as the top', async (t) => {
	const archive = join(dir, 'root.tar');
	ok(t, lkl(['fs2tar', '--root', '/dir', img, archive]), 'fs2tar --root');
	const expected = plainNames.filter((n) => n.startsWith('dir/') && n !== 'dir/').map((n) => n.slice(4));
	t.same(tarNames(archive), expected, 'the entries under dir, without the dir/ prefix');
	const out = gnuExtract(archive, join(dir, 'from-root'));
	const sub = new Map([...source].filter(([p]) => p.startsWith('/dir/')).map(([p, e]) => [p.slice(4), e]));
	sub.set('/', source.get('/dir'));
	// The hard link's other names are outside: here it is a plain file.
	same(t, sub, treeView(out), rulesFor('ext4', { extra: (p, f) => ['links', 'nlink'].includes(f) }), '--root dir');
	ok(t, lkl(['fs2tar', '--root', 'dir/sub/', img, join(dir, 'root2.tar')]), 'a relative --root with a slash');
	t.same(tarNames(join(dir, 'root2.tar')), ['deeper/', 'deeper/leaf.txt', 'three-links.3']);
});

t.test('--exclude leaves out matching paths and what is below them', async (t) => {
	const archive = join(dir, 'exclude.tar');
	ok(t, lkl(['fs2tar', '--exclude', '*.txt', '--exclude', 'many', '--exclude', 'dir/sub', img, archive]), 'fs2tar --exclude');
	const expected = plainNames.filter((n) => !/\.txt$/.test(n) && !/(^|\/)many(\/|$)/.test(n) && !n.startsWith('dir/sub/'));
	t.same(tarNames(archive), expected);
	// dir/sub/three-links.3 came first of its three names; now the next
	// one carries the data.
	const out = gnuExtract(archive, join(dir, 'from-exclude'));
	const view = treeView(out);
	t.equal(view.get('/special/three-links')?.sha256, source.get('/special/three-links').sha256, 'a hard link whose first name is excluded keeps its data');
	t.equal(view.get('/special/three-links')?.links, '/special/three-links /special/three-links.2');
});

t.test('--mtime gives every entry one time', async (t) => {
	const archive = join(dir, 'mtime.tar');
	ok(t, lkl(['fs2tar', '--mtime', '@0', img, archive]), 'fs2tar --mtime @0');
	const entries = tarEntries(archive);
	t.same([...new Set(entries.map((e) => Number(e.mtime)))], [0], 'every mtime is 0');
	t.notOk(entries.some((e) => (e.atime && Number(e.atime) !== 0) || (e.ctime && Number(e.ctime) !== 0)), 'no other times leak in');
	const out = gnuExtract(archive, join(dir, 'from-mtime'));
	t.same([...new Set([...treeView(out)].filter(([p]) => p !== '/').map(([, e]) => e.mtimeNs))], ['0'], 'extracted with mtime 0');

	const dated = join(dir, 'dated.tar');
	ok(t, lkl(['fs2tar', '--mtime', '2020-01-01T00:00:00Z', img, dated]), 'fs2tar --mtime <date>');
	t.same([...new Set(tarEntries(dated).map((e) => Number(e.mtime)))], [1577836800]);
	const again = join(dir, 'mtime2.tar');
	lklOk(['fs2tar', '--mtime', '@0', img, again]);
	t.ok(fs.readFileSync(again).equals(fs.readFileSync(archive)), 'reproducible');
});

t.test('-s writes "path context" lines for labelled entries', async (t) => {
	const contexts = join(dir, 'contexts');
	ok(t, lkl(['fs2tar', '-s', contexts, img, join(dir, 'ctx.tar')]), 'fs2tar -s');
	t.equal(fs.readFileSync(contexts, 'utf8'),
		'/dir system_u:object_r:usr_t:s0\n' +
		`/hello.txt ${SELINUX_LABEL}\n` +
		'/links/rel system_u:object_r:bin_t:s0\n');
});

t.test('-s leaves out an entry whose name or label would break its lines', async (t) => {
	// A crafted image could otherwise add a line of its choosing.
	const crafted = join(dir, 'crafted');
	fs.mkdirSync(crafted);
	fs.writeFileSync(join(crafted, 'x\nshadow system_u:object_r:shadow_t:s0'), '');
	fs.writeFileSync(join(crafted, 'label'), '');
	fs.writeFileSync(join(crafted, 'fine'), '');
	run('setfattr', ['-n', 'security.selinux', '-v', 'system_u:object_r:etc_t:s0', join(crafted, 'x\nshadow system_u:object_r:shadow_t:s0')]);
	run('setfattr', ['-n', 'security.selinux', '-v', '0x' + Buffer.from('a_t\n/etc/passwd b_t').toString('hex'), join(crafted, 'label')]);
	run('setfattr', ['-n', 'security.selinux', '-v', 'system_u:object_r:etc_t:s0', join(crafted, 'fine')]);
	const cimg = emptyImage('ext4', join(dir, 'crafted.img'), 16);
	lklOk(['cptofs', '-i', cimg, `${crafted}/.`, '/']);
	const contexts = join(dir, 'crafted-contexts');
	const r = lkl(['fs2tar', '-s', contexts, cimg, join(dir, 'crafted.tar')]);
	t.equal(r.status, 0, 'fs2tar -s succeeds');
	t.equal(fs.readFileSync(contexts, 'utf8'), '/fine system_u:object_r:etc_t:s0\n', 'only the entry a line can hold');
	t.equal(r.stderr.split('\n').filter(Boolean).length, 2, 'one warning line each for the others');
	t.match(r.stderr, /^lkl: warning: left \/x\\nshadow .* out of /m, 'naming it, the newline written out');
});

t.test('-v lists the entries', async (t) => {
	const r = lkl(['fs2tar', '-v', img, join(dir, 'v.tar')]);
	t.equal(r.status, 0);
	const lines = r.stderr.split('\n').filter(Boolean);
	t.equal(lines.length, plainNames.length + 1, 'one line per entry, and "." for the top');
	t.ok(lines.includes('hello.txt') && lines.includes('dir/sub/deeper/leaf.txt'));
	t.ok(lines.includes('new\\nline'), 'a name with a newline on one line, the newline written out');
});

t.test('-P archives one partition of a GPT disk', async (t) => {
	const vfat = emptyImage('vfat', join(dir, 'part-vfat.img'), 16);
	const gpt = join(dir, 'gpt.img');
	buildGpt(gpt, [vfat, img], ['0700', '8300']);
	const archive = join(dir, 'part2.tar');
	ok(t, lkl(['fs2tar', '-P', '2', gpt, archive]), 'fs2tar -P 2');
	t.ok(fs.readFileSync(archive).equals(plainBytes), 'the same archive as the bare image');
	const p1 = join(dir, 'part1.tar');
	ok(t, lkl(['fs2tar', '-P', '1', gpt, p1]), 'fs2tar -P 1 (vfat)');
	t.same(tarNames(p1), []);
	const r = lkl(['fs2tar', '-P', '3', gpt, join(dir, 'part3.tar')]);
	t.equal(r.status, 1);
	t.match(r.stderr, /^lkl: .*gpt\.img partition 3: no such partition\n$/);
});

t.test('sockets are skipped with one warning line', async (t) => {
	const src = join(dir, 'sock-tree');
	fs.mkdirSync(src);
	fs.writeFileSync(join(src, 'file'), 'next to a socket\n');
	python('import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', [join(src, 'sock')]);
	const sockImg = emptyImage('ext4', join(dir, 'sock.img'));
	ok(t, lkl(['cptofs', '-i', sockImg, `${src}/.`, '/']), 'cptofs copies a socket in');
	const mnt = loopMount(t, sockImg, dir, 'sock-mnt');
	t.equal(treeView(mnt).get('/sock')?.type, 'sock', 'the image holds a socket');
	const archive = join(dir, 'sock.tar');
	const r = lkl(['fs2tar', sockImg, archive]);
	t.equal(r.status, 0, 'fs2tar exits 0');
	t.equal(r.stderr, 'lkl: warning: skipped sock: sockets cannot be archived\n', 'one warning line naming it');
	t.same(tarNames(archive), ['file', 'lost+found/']);
});

t.test('an ext4 image whose journal needs recovery is read, and not written', async (t) => {
	const jimg = emptyImage('ext4', join(dir, 'journal.img'));
	// A writer killed after fsync: the new entries are only in the journal.
	const script = `
		import { Kernel } from ${JSON.stringify(new URL('../../dist/src/index.js', import.meta.url).href)};
		const k = Kernel.boot();
		const m = await k.mount(await k.addDisk(process.argv[1]));
		await m.mkdir('/dir');
		await m.writeFile('/dir/f', 'in the journal\\n');
		const h = await m.open('/dir/f', 'r+');
		await h.sync();
		await h.close();
		process.kill(process.pid, 'SIGKILL');
	`;
	const w = spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, '--input-type=module', '-e', script, jimg]);
	t.equal(w.signal, 'SIGKILL', 'the writer was killed');
	t.match(run('dumpe2fs', ['-h', jimg], { stdio: ['ignore', 'pipe', 'ignore'] }), /needs_recovery/, 'the journal needs recovery');
	t.notMatch(run('debugfs', ['-R', 'ls /', jimg], { stdio: ['ignore', 'pipe', 'ignore'] }), /dir/, 'without replay the entries are not there');
	const before = sha256File(jimg);
	const stat = fs.statSync(jimg);
	const archive = join(dir, 'journal.tar');
	ok(t, lkl(['fs2tar', jimg, archive]), 'fs2tar');
	t.same(tarNames(archive), ['dir/', 'dir/f', 'lost+found/'], 'fs2tar sees the journalled entries');
	ok(t, lkl(['cpfromfs', '-i', jimg, '/dir/f', join(dir, 'journal-f')]), 'cpfromfs');
	t.equal(fs.readFileSync(join(dir, 'journal-f'), 'utf8'), 'in the journal\n');
	t.equal(sha256File(jimg), before, 'the image is unchanged');
	t.equal(fs.statSync(jimg).mtimeMs, stat.mtimeMs, 'and its file not even touched');
	t.match(run('dumpe2fs', ['-h', jimg], { stdio: ['ignore', 'pipe', 'ignore'] }), /needs_recovery/, 'still needing recovery');
});

t.test('a directory of small files larger than one batched read, and files either side of the batch limit', async (t) => {
	// fs2tar reads a directory's files of up to 256 KiB along with their
	// metadata, 8 MiB at most per directory; the rest are read one by one.
	const many = join(dir, 'many');
	fs.mkdirSync(join(many, 'd'), { recursive: true });
	for (let i = 0; i < 48; i++)
		fs.writeFileSync(join(many, 'd', `f${String(i).padStart(2, '0')}`), pattern(200 << 10, i));
	fs.writeFileSync(join(many, 'd', 'at-limit'), pattern(256 << 10, 100));
	fs.writeFileSync(join(many, 'd', 'over-limit'), pattern((256 << 10) + 1, 101));
	fs.writeFileSync(join(many, 'd', 'empty'), '');
	const mimg = join(dir, 'many.img');
	run('truncate', ['-s', '64M', mimg]);
	run('mkfs.ext4', ['-q', '-F', '-d', many, mimg]);
	const archive = join(dir, 'many.tar');
	ok(t, lkl(['fs2tar', mimg, archive]), 'fs2tar');
	const out = gnuExtract(archive, join(dir, 'many-out'));
	const want = treeView(many), got = treeView(out);
	t.equal(got.size, want.size, 'every entry');
	for (const [path, e] of want)
		t.equal(got.get(path)?.sha256, e.sha256, `${path} contents`);
});

t.test('no fs2tar run wrote to the image', async (t) => {
	t.equal(sha256File(img), imgSum);
});
