// lkl cptofs's options and forms: forced owners and SELinux labels, cp's
// source forms (dir, dir/., dir/, globs, several sources), --tar from a
// file and from standard input (GNU tar's archives and fs2tar's own), a
// large file, a partition, and a full filesystem.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { buildGpt, fsck, pattern, run, tempDir } from '../helpers/tree.mjs';
import {
	emptyImage, lkl, lklOk, loopMount, makeFullTree, python, rulesFor, subView, tarNames, treeView, ok, same,
} from '../helpers/cli.mjs';

t.setTimeout(300_000);
process.umask(0o022);

const dir = tempDir(t, 'lkl-cptofs-');
const tree = makeFullTree(join(dir, 'tree'));
const source = treeView(tree);
let n = 0;
/** A fresh empty image. */
const fresh = (kind = 'ext4', mib) => emptyImage(kind, join(dir, `img${n++}.img`), mib);
/** What the host kernel sees in an image (mounted read-only until the test ends). */
const mounted = (t, img) => treeView(loopMount(t, img, dir, `mnt${n++}`));

// A small host tree for the source forms: src/{a,b,d/c,d/e/f}.
const src = join(dir, 'src');
fs.mkdirSync(join(src, 'd/e'), { recursive: true });
fs.writeFileSync(join(src, 'a'), 'a\n');
fs.writeFileSync(join(src, 'b'), 'b\n');
fs.writeFileSync(join(src, 'd/c'), 'c\n');
fs.writeFileSync(join(src, 'd/e/f'), 'f\n');

t.test('-o and -g force the owner of everything, modes kept', async (t) => {
	const img = fresh();
	ok(t, lkl(['cptofs', '-i', img, '-o', '1000', '-g', '2000', `${tree}/.`, '/']), 'cptofs -o -g');
	const view = mounted(t, img);
	const owners = new Set([...view].map(([, e]) => `${e.uid}:${e.gid}`));
	t.same([...owners], ['1000:2000'], 'every entry, the top and symlinks too');
	// The owner is set before the mode: set-id bits survive the chown.
	same(t, source, view, rulesFor('ext4', { extra: (_p, f) => ['uid', 'gid'].includes(f) }), 'all but owners');
});

t.test('-s labels everything with one SELinux context', async (t) => {
	const img = fresh();
	const label = 'system_u:object_r:container_file_t:s0';
	ok(t, lkl(['cptofs', '-i', img, '-s', label, `${tree}/dir`, `${tree}/links`, '/']), 'cptofs -s');
	const want = Buffer.from(`${label}\0`).toString('hex');
	const view = mounted(t, img);
	const labels = [...view].filter(([p]) => p !== '/').map(([p, e]) => `${p} ${e.xattrs['security.selinux'] === want}`);
	t.ok(labels.length > 5, 'entries were copied');
	t.same(labels.filter((l) => l.endsWith('false')), [], 'every entry (symlinks too) has the label');
	t.equal(view.get('/dir').xattrs['user.binary'], '00ff10', 'other xattrs are kept');
	const contexts = join(dir, 'contexts');
	lklOk(['fs2tar', '-s', contexts, img, join(dir, 'labels.tar')]);
	t.match(fs.readFileSync(contexts, 'utf8'), `/links/rel ${label}\n`, 'fs2tar -s reads the label back');
});

t.test('source forms: dir, dir/., dir/, a new name, into an existing dir, globs, several sources', async (t) => {
	const img = fresh();
	const cp = (...args) => ok(t, lkl(['cptofs', '-i', img, ...args]), `cptofs ${args.join(' ').replaceAll(src, 'src')}`);
	cp(join(src, 'd'), '/');			// /d
	cp(`${join(src, 'd')}/.`, '/dot');		// contents into a new /dot
	cp(`${join(src, 'd')}/`, '/slash');		// contents into a new /slash
	cp(join(src, 'd'), '/named');		// a new name
	cp(join(src, 'd'), '/named');		// now an existing dir: inside it
	cp(join(src, 'a'), '/renamed-a');	// a file to a new name
	cp(`${join(src, 'd')}/.`, '/d');		// contents merged into an existing dir
	cp(`${join(src, 'd')}/e`, '/globbed');	// a new name again
	cp(join(src, '*'), '/globbed');		// glob matched on the host
	cp(join(src, 'a'), join(src, 'b'), join(src, 'd'), '/globbed/d/e');	// several sources into a dir
	cp(join(src, 'a'), '/d/e/');		// a trailing slash on the destination
	t.same(tarNames(fsTar(img)), [
		'd/', 'd/c', 'd/e/', 'd/e/a', 'd/e/f',
		'dot/', 'dot/c', 'dot/e/', 'dot/e/f',
		'globbed/', 'globbed/a', 'globbed/b', 'globbed/d/', 'globbed/d/c', 'globbed/d/e/',
		'globbed/d/e/a', 'globbed/d/e/b', 'globbed/d/e/d/', 'globbed/d/e/d/c', 'globbed/d/e/d/e/', 'globbed/d/e/d/e/f',
		'globbed/d/e/f', 'globbed/f',
		'lost+found/',
		'named/', 'named/c', 'named/d/', 'named/d/c', 'named/d/e/', 'named/d/e/f', 'named/e/', 'named/e/f',
		'renamed-a',
		'slash/', 'slash/c', 'slash/e/', 'slash/e/f',
	]);
});

function fsTar(img) {
	const out = join(dir, `list${n++}.tar`);
	lklOk(['fs2tar', img, out]);
	return out;
}

t.test('several sources into a missing directory fail, naming it', async (t) => {
	const img = fresh();
	const r = lkl(['cptofs', '-i', img, join(src, 'a'), join(src, 'b'), '/missing']);
	t.not(r.status, 0, 'fails');
	t.match(r.stderr, /^lkl: \/missing: not a directory/, 'names the destination');
	t.equal(r.stderr.split('\n').length, 2, 'one line');
	const g = lkl(['cptofs', '-i', img, join(src, 'nothing*'), '/']);
	t.equal(g.status, 1, 'a glob without a match fails');
	t.match(g.stderr, /^lkl: .*nothing\*: no match\n$/);
});

const GNU_TAR = ['--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '--format=posix'];
// GNU tar records no hard links between FIFOs (it archives each as a FIFO).
const gnuFifos = (_p, f, e) => e.type === 'fifo' && ['nlink', 'links'].includes(f);

t.test('--tar unpacks GNU tar\'s archive of the tree, from a file and from stdin', async (t) => {
	const archive = join(dir, 'gnu.tar');
	run('tar', [...GNU_TAR, '-cf', archive, '-C', tree, '.']);
	const img = fresh();
	ok(t, lkl(['cptofs', '-i', img, '--tar', archive, '/']), 'cptofs --tar file');
	t.ok(fsck('ext4', img).ok, 'fsck-clean');
	// './' is in the archive: the top gets the tree's metadata too.
	same(t, source, mounted(t, img), rulesFor('ext4', { root: true, extra: gnuFifos }), 'GNU tar archive from a file');

	const img2 = fresh('xfs');
	ok(t, lkl(['cptofs', '-i', img2, '--tar', '-', '/sub/dir'], { input: fs.readFileSync(archive) }), 'cptofs --tar - into a new subdirectory');
	t.ok(fsck('xfs', img2).ok, 'fsck-clean');
	const view = mounted(t, img2);
	same(t, source, subView(view, '/sub/dir'), rulesFor('xfs', { root: true, xfsAclAliases: true, extra: gnuFifos }), 'GNU tar archive from stdin');
	t.equal(view.get('/sub').mode & 0o7777, 0o755, 'a parent the archive lacks is made as mkdir -p would');
});

t.test('--tar takes GNU tar\'s default (gnu) format, long names and all', async (t) => {
	const archive = join(dir, 'gnu-format.tar');
	run('tar', ['--format=gnu', '--numeric-owner', '-cf', archive, '-C', tree, '.']);
	const img = fresh();
	ok(t, lkl(['cptofs', '-i', img, '--tar', archive, '/']), 'cptofs --tar');
	// The gnu format has no xattrs and whole-second times.
	const rules = rulesFor('ext4', { root: true, extra: (p, f, e) => f === 'xattrs' || gnuFifos(p, f, e) });
	const seconds = (f, v) => (f === 'mtimeNs' ? String(BigInt(v) / 1_000_000_000n) : v);
	same(t, source, mounted(t, img), { ...rules, normalize: seconds }, 'gnu format, xattrs aside, times in seconds');
});

for (const numeric of [true, false]) {
	// Without --numeric-owner GNU tar names the qualifiers it can (group 100 is "users").
	t.test(`--tar restores ACLs archived by GNU tar --acls alone (text records only, ${numeric ? 'numeric ids' : 'names'})`, async (t) => {
		const archive = join(dir, `acls-${numeric}.tar`);
		run('tar', ['--acls', ...(numeric ? ['--numeric-owner'] : []), '--format=posix', '-cf', archive, '-C', tree, 'acl']);
		if (!numeric)
			t.match(python('import tarfile, sys; print([m.pax_headers for m in tarfile.open(sys.argv[1])])', [archive]), /group:users:/, 'GNU tar wrote a name');
		const img = fresh();
		ok(t, lkl(['cptofs', '-i', img, '--tar', archive, '/']), 'cptofs --tar');
		const view = mounted(t, img);
		for (const p of ['/acl/file', '/acl/dir']) {
			for (const name of ['system.posix_acl_access', 'system.posix_acl_default'])
				t.equal(view.get(p)?.xattrs[name], source.get(p).xattrs[name], `${p} ${name}`);
		}
	});
}

t.test('--tar refuses an ACL naming a user this machine does not know, naming the entry', async (t) => {
	const archive = join(dir, 'unknown-acl.tar');
	python(`
import tarfile, io, sys
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tf:
    ti = tarfile.TarInfo('f'); ti.size = 2
    ti.pax_headers = {'SCHILY.acl.access': 'user::rw-,user:no-such-user-here:r--,group::r--,mask::r--,other::---'}
    tf.addfile(ti, io.BytesIO(b'hi'))
`, [archive]);
	const img = fresh();
	const r = lkl(['cptofs', '-i', img, '--tar', archive, '/']);
	t.not(r.status, 0, 'cptofs fails');
	t.match(r.stderr, /^lkl: .*\bf\b.*no user named "no-such-user-here"/, 'one line naming the entry and the name');
	t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
	t.ok(fsck('ext4', img).ok, 'the image is still fsck-clean');
});

t.test('--tar unpacks GNU tar -S sparse files as the files they are', async (t) => {
	const sparseTree = join(dir, 'sparse-tree');
	fs.mkdirSync(sparseTree);
	// Holes made here (a copy would fill them): 1 MiB of nothing, then data.
	const fd = fs.openSync(join(sparseTree, 'sparse.bin'), 'w');
	fs.writeSync(fd, 'after the hole\n', 1 << 20);
	fs.closeSync(fd);
	t.ok(fs.statSync(join(sparseTree, 'sparse.bin')).blocks * 512 < 1 << 20, 'the file is sparse on the host');
	const archive = join(dir, 'sparse.tar');
	run('tar', ['-S', '--format=posix', '-cf', archive, '-C', sparseTree, 'sparse.bin']);
	const img = fresh();
	t.match(python('import tarfile, sys; print(tarfile.open(sys.argv[1]).next().pax_headers)', [archive]), /GNU\.sparse\.major/, 'GNU tar wrote a sparse entry');
	ok(t, lkl(['cptofs', '-i', img, '--tar', archive, '/']), 'cptofs --tar');
	const view = mounted(t, img);
	t.equal(view.get('/sparse.bin')?.sha256, treeView(sparseTree).get('/sparse.bin').sha256, 'the file, with its contents');
	t.same([...view.keys()].sort(), ['/', '/sparse.bin'], 'and nothing else');
	// GNU tar's older sparse format (--format=gnu): refused, not unpacked wrong.
	const old = join(dir, 'sparse-gnu.tar');
	run('tar', ['-S', '--format=gnu', '-cf', old, '-C', sparseTree, 'sparse.bin']);
	const r = lkl(['cptofs', '-i', fresh(), '--tar', old, '/']);
	t.equal(r.status, 1, 'the older format is refused');
	t.match(r.stderr, /^lkl: .*sparse.*--format=posix.*\n$/, 'in one line saying which format works');
});

t.test('--tar unpacks fs2tar\'s own archive, through a pipe', async (t) => {
	const from = fresh();
	lklOk(['cptofs', '-i', from, `${tree}/.`, '/']);
	const archive = lkl(['fs2tar', from, '-'], { buffer: true });
	t.equal(archive.status, 0);
	const img = fresh();
	ok(t, lkl(['cptofs', '-i', img, '--tar', '-', '/'], { input: archive.stdout }), 'fs2tar - | cptofs --tar -');
	t.ok(fsck('ext4', img).ok, 'fsck-clean');
	same(t, source, mounted(t, img), rulesFor('ext4'), 'fs2tar archive unpacked');
	const sh = spawnSync('sh', ['-c', `env -u NODE_OPTIONS node bin/lkl fs2tar "$1" - | env -u NODE_OPTIONS node bin/lkl cptofs -i "$2" --tar - /`, 'sh', from, fresh()],
		{ cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8', timeout: 120_000 });
	t.equal(sh.status, 0, `a shell pipeline works too${sh.stderr ? `: ${sh.stderr}` : ''}`);
});

t.test('--tar refuses entries that climb out with ".."', async (t) => {
	const archive = join(dir, 'climb.tar');
	python(`
import tarfile, io, sys
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tf:
    for name in ['ok', 'a/../../escaped']:
        ti = tarfile.TarInfo(name); data = b'x\\n'; ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
`, [archive]);
	const img = fresh();
	const r = lkl(['cptofs', '-i', img, '--tar', archive, '/in']);
	t.equal(r.status, 1);
	t.match(r.stderr, /^lkl: .*\.\..*\n$/, 'one line about ".."');
	t.ok(fsck('ext4', img).ok, 'the image is still fsck-clean');
	const names = tarNames(fsTar(img));
	t.notOk(names.includes('escaped'), 'nothing written outside the destination');
});

t.test('a large file arrives whole', async (t) => {
	const big = join(dir, 'large');
	fs.mkdirSync(big);
	const data = pattern(96 << 20, 11);
	fs.writeFileSync(join(big, 'large.bin'), data);
	const img = fresh('ext4', 160);
	const started = Date.now();
	ok(t, lkl(['cptofs', '-i', img, join(big, 'large.bin'), '/']), 'cptofs of 96 MiB');
	t.comment(`96 MiB in ${Date.now() - started} ms`);
	t.ok(fsck('ext4', img).ok, 'fsck-clean');
	const view = mounted(t, img);
	t.equal(view.get('/large.bin').sha256, treeView(big).get('/large.bin').sha256, 'same contents');
});

t.test('-P writes one partition of a GPT disk', async (t) => {
	const part = fresh('ext4', 16);
	const gpt = join(dir, 'gpt.img');
	buildGpt(gpt, [fresh('vfat', 16), part], ['0700', '8300']);
	ok(t, lkl(['cptofs', '-i', gpt, '-P', '2', join(src, 'd'), '/']), 'cptofs -P 2');
	ok(t, lkl(['cptofs', '-i', gpt, '-P', '1', join(src, 'a'), '/']), 'cptofs -P 1 (vfat)');
	const two = join(dir, 'p2.tar');
	lklOk(['fs2tar', '-P', '2', gpt, two]);
	t.same(tarNames(two), ['d/', 'd/c', 'd/e/', 'd/e/f', 'lost+found/']);
	const one = join(dir, 'p1.tar');
	lklOk(['fs2tar', '-P', '1', gpt, one]);
	t.same(tarNames(one), ['a']);
	const offsets = JSON.parse(run('sfdisk', ['--json', gpt])).partitiontable.partitions.map((p) => p.start * 512);
	const copy = join(dir, 'p2.img');
	run('dd', [`if=${gpt}`, `of=${copy}`, 'bs=1M', `skip=${offsets[1]}`, 'iflag=skip_bytes', 'count=16', 'status=none']);
	t.ok(fsck('ext4', copy).ok, 'the partition is fsck-clean');
});

t.test('a full filesystem: ENOSPC named, the image still fsck-clean', async (t) => {
	const img = fresh('ext4', 16);
	const full = join(dir, 'full');
	fs.mkdirSync(full);
	fs.writeFileSync(join(full, 'small'), 'fits\n');
	fs.writeFileSync(join(full, 'too-big.bin'), pattern(32 << 20));
	const r = lkl(['cptofs', '-i', img, `${full}/.`, '/']);
	t.equal(r.status, 1, 'exit code 1');
	t.match(r.stderr, /^lkl: .*too-big\.bin.*no space left/i, 'names the file and ENOSPC');
	t.equal(r.stderr.split('\n').length, 2, 'one line');
	t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
	const check = fsck('ext4', img);
	t.ok(check.ok, `fsck-clean afterwards${check.ok ? '' : `\n${check.output}`}`);
	t.ok(tarNames(fsTar(img)).includes('small'), 'what fitted is there');
});

t.test('-v lists what is copied', async (t) => {
	const img = fresh();
	const r = lkl(['cptofs', '-v', '-i', img, join(src, 'd'), '/']);
	t.equal(r.status, 0);
	t.same(r.stderr.split('\n').filter(Boolean), ['d', 'd/c', 'd/e', 'd/e/f']);
});

