// Files with holes keep them on every path: fs2tar writes them as GNU
// tar's pax sparse entries (GNU tar extracts them with their holes),
// cptofs --tar reads those (its own and GNU tar -S's), and cptofs and
// cpfromfs skip the holes on either side.  Each file's contents are
// checked byte for byte, and its allocated size shows the holes stayed.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fsck, run, tempDir } from '../helpers/tree.mjs';
import { emptyImage, lkl, loopMount, ok, sha256File } from '../helpers/cli.mjs';

t.setTimeout(300_000);

const MiB = 1 << 20;
const dir = tempDir(t, 'lkl-sparse-');
const tree = join(dir, 'tree');
fs.mkdirSync(join(tree, 'sub'), { recursive: true });

/** Writes @pieces ([offset, text]) into a file of @size bytes, leaving the rest holes. */
function sparse(path, size, pieces) {
	const fd = fs.openSync(path, 'w');
	for (const [offset, text] of pieces)
		fs.writeSync(fd, text, offset);
	fs.ftruncateSync(fd, size);
	fs.closeSync(fd);
}
// Data in the middle and at the end; a trailing hole; nothing but a hole;
// one too small to bother with; and a dense file for contrast.
sparse(join(tree, 'middle'), 100 * MiB + 3, [[50 * MiB, 'in the middle'], [100 * MiB, 'end']]);
sparse(join(tree, 'sub', 'trailing'), 10 * MiB, [[0, 'at the start']]);
sparse(join(tree, 'sub', 'all-hole'), 20 * MiB, []);
sparse(join(tree, 'small'), 100_000, [[90_000, 'small']]);
fs.writeFileSync(join(tree, 'dense'), Buffer.alloc(3 * MiB, 'd'));
const names = ['middle', 'sub/trailing', 'sub/all-hole', 'small', 'dense'];
const sums = Object.fromEntries(names.map((n) => [n, sha256File(join(tree, n))]));
const allocated = (path) => fs.statSync(path).blocks * 512;

/** Every file has its contents; the big sparse ones take little room. */
function checkTree(t, root, what) {
	for (const n of names)
		t.equal(sha256File(join(root, n)), sums[n], `${what}: ${n} has its contents`);
	for (const n of ['middle', 'sub/trailing', 'sub/all-hole'])
		t.ok(allocated(join(root, n)) < MiB, `${what}: ${n} keeps its holes (${allocated(join(root, n))} bytes allocated)`);
}

const img = emptyImage('ext4', join(dir, 'ext4.img'), 256);
ok(t, lkl(['cptofs', '-i', img, `${tree}/.`, '/']), 'cptofs of the tree');

t.test('cptofs skips the holes of host files', async (t) => {
	t.ok(fsck('ext4', img).ok, 'fsck-clean');
	checkTree(t, loopMount(t, img, dir, 'mnt-cptofs'), 'through the host\'s loop mount');
});

t.test('fs2tar archives holes as pax sparse entries that GNU tar extracts', async (t) => {
	const archive = join(dir, 'lkl.tar');
	ok(t, lkl(['fs2tar', img, archive]), 'fs2tar');
	t.ok(fs.statSync(archive).size < 5 * MiB, `the archive holds the data, not the holes (${fs.statSync(archive).size} bytes)`);
	const out = join(dir, 'gnu-out');
	fs.mkdirSync(out);
	run('tar', ['-xSf', archive, '-C', out]);
	checkTree(t, out, 'GNU tar -xS');
	const listing = run('tar', ['-tf', archive]).split('\n');
	t.ok(listing.includes('middle') && listing.includes('sub/trailing'), 'GNU tar lists them by their real names');
});

t.test('cptofs --tar keeps holes from fs2tar\'s archive and from GNU tar -S', async (t) => {
	const gnu = join(dir, 'gnu.tar');
	run('tar', ['-S', '--format=posix', '-cf', gnu, '-C', tree, '.']);
	for (const [what, archive] of [['fs2tar', join(dir, 'lkl.tar')], ['GNU tar -S', gnu]]) {
		const into = emptyImage('ext4', join(dir, `into-${what.replace(/\W/g, '')}.img`), 256);
		ok(t, lkl(['cptofs', '-i', into, '--tar', archive, '/']), `cptofs --tar of ${what}'s archive`);
		t.ok(fsck('ext4', into).ok, 'fsck-clean');
		checkTree(t, loopMount(t, into, dir, `mnt-${what.replace(/\W/g, '')}`), `${what}'s archive`);
	}
});

t.test('cpfromfs skips the holes when writing to the host', async (t) => {
	const out = join(dir, 'out');
	fs.mkdirSync(out);
	ok(t, lkl(['cpfromfs', '-i', img, '/.', out]), 'cpfromfs');
	checkTree(t, out, 'cpfromfs');
});

t.test('a file past what node:fs can place (2^60 bytes of hole, on btrfs)', async (t) => {
	const img = emptyImage('btrfs', join(dir, 'huge.img'));
	const mnt = join(dir, 'huge-mnt');
	fs.mkdirSync(mnt);
	ok(t, lkl(['lklfuse', img, mnt]), 'lklfuse');
	try {
		run('truncate', ['-s', String(2n ** 60n), join(mnt, 'huge')]);
	} finally {
		ok(t, lkl(['unmount', mnt]), 'lkl unmount');
	}
	const archive = join(dir, 'huge.tar');
	ok(t, lkl(['fs2tar', img, archive]), 'fs2tar archives it');
	t.match(run('tar', ['-tvf', archive]), / 1152921504606846976 .* huge\n/, 'GNU tar reads its size back');
	const r = lkl(['cpfromfs', '-i', img, '/huge', join(dir, 'huge-out')]);
	t.equal(r.status, 1, 'cpfromfs fails');
	t.match(r.stderr, /^lkl: huge: \/\S+\/huge-out: file too large\n$/, 'in one line naming the file and the cause');
});
