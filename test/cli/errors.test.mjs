// How the three commands fail: one line on stderr starting "lkl: " that
// names the file and the cause, no stack trace, exit code 1 (or 2 for a
// mistake on the command line), and the image left as it was.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { fsck, tempDir } from '../helpers/tree.mjs';
import { emptyImage, lkl, lklOk, sha256File, tarNames } from '../helpers/cli.mjs';

t.setTimeout(120_000);

const dir = tempDir(t, 'lkl-errors-');
const img = emptyImage('ext4', join(dir, 'ext4.img'), 16);
const src = join(dir, 'src');
fs.mkdirSync(src);
fs.writeFileSync(join(src, 'file'), 'data\n');
lklOk(['cptofs', '-i', img, join(src, 'file'), '/']);
const truncated = join(dir, 'truncated.img');
fs.writeFileSync(truncated, fs.readFileSync(img).subarray(0, 1 << 20));
const out = join(dir, 'out');

/** Asserts the one-line failure: exit `code`, stderr matching `pattern`. */
function fails(t, args, code, pattern, what = args.join(' ')) {
	const r = lkl(args);
	t.equal(r.status, code, `${what}: exit code ${code}`);
	t.match(r.stderr, /^lkl: [^\n]+\n$/, `${what}: one line starting "lkl: "`);
	t.match(r.stderr, pattern, `${what}: says what and why`);
	t.notMatch(r.stderr, /\n\s+at |Error:|node:internal/, `${what}: no stack trace`);
	return r;
}

t.test('no arguments at all: the usage, exit code 2', async (t) => {
	const r = lkl([]);
	t.equal(r.status, 2);
	t.match(r.stderr, /^Usage: lkl /);
	t.notMatch(r.stderr, /\n\s+at /);
});

t.test('a command without its arguments', async (t) => {
	fails(t, ['fs2tar'], 2, /missing required argument 'image'/);
	fails(t, ['fs2tar', img], 2, /missing required argument 'archive'/);
	fails(t, ['cptofs'], 2, /-i, --input/);
	fails(t, ['cptofs', '-i', img], 2, /sources? and a destination/);
	fails(t, ['cptofs', '-i', img, join(src, 'file')], 2, /destination/);
	fails(t, ['cpfromfs'], 2, /-i, --input/);
	fails(t, ['cpfromfs', '-i', img, '/file'], 2, /destination/);
	fails(t, ['nosuchcommand'], 2, /unknown command 'nosuchcommand'/);
});

t.test('bad option values', async (t) => {
	fails(t, ['fs2tar', '-m', 'lots', img, out], 2, /--mb .*"lots"/);
	fails(t, ['fs2tar', '-P', '0', img, out], 2, /--partition .*"0"/);
	fails(t, ['fs2tar', '--mtime', 'yesterday-ish', img, out], 2, /--mtime.*"yesterday-ish"/);
	fails(t, ['fs2tar', '-z', '--zstd', img, out], 2, /--gzip.*--zstd/);
	fails(t, ['fs2tar', '--root', '../up', img, out], 2, /--root.*\.\./);
	fails(t, ['fs2tar', '--frobnicate', img, out], 2, /unknown option '--frobnicate'/);
	fails(t, ['cptofs', '-i', img, '-o', '-1', join(src, 'file'), '/'], 2, /--owner .*"-1"/);
	fails(t, ['cptofs', '-i', img, '-g', 'wheel', join(src, 'file'), '/'], 2, /--group .*"wheel"/);
	fails(t, ['cptofs', '-i', img, '--tar', 'x.tar', join(src, 'file'), '/'], 2, /--tar/);
	fails(t, ['cpfromfs', '-i', img, '-m', '-5', '/file', out], 2, /--mb .*"-5"/);
});

t.test('a missing image', async (t) => {
	const missing = join(dir, 'missing.img');
	for (const args of [['fs2tar', missing, out], ['cptofs', '-i', missing, join(src, 'file'), '/'], ['cpfromfs', '-i', missing, '/file', out]])
		fails(t, args, 1, /missing\.img: no such file or directory/, args[0]);
	t.notOk(fs.existsSync(missing), 'not created');
});

t.test('a truncated image', async (t) => {
	const before = sha256File(truncated);
	for (const args of [['fs2tar', truncated, out], ['cptofs', '-i', truncated, join(src, 'file'), '/'], ['cpfromfs', '-i', truncated, '/file', out]])
		fails(t, args, 1, /truncated\.img/, args[0]);
	t.equal(sha256File(truncated), before, 'left as it was');
});

t.test('the wrong -t', async (t) => {
	fails(t, ['fs2tar', '-t', 'xfs', img, out], 1, /ext4\.img as xfs: not a valid xfs filesystem/);
	fails(t, ['cptofs', '-t', 'vfat', '-i', img, join(src, 'file'), '/'], 1, /ext4\.img as vfat/);
	fails(t, ['cpfromfs', '-t', 'reiserfs', '-i', img, '/file', out], 1, /no reiserfs filesystem/);
	const notFs = join(dir, 'zeros.img');
	fs.writeFileSync(notFs, Buffer.alloc(1 << 20));
	fails(t, ['fs2tar', notFs, out], 1, /zeros\.img: not a filesystem this kernel knows \(try -t\)/);
});

t.test('a source that does not exist', async (t) => {
	const sum = sha256File(img);
	fails(t, ['cpfromfs', '-i', img, '/nope', out], 1, /\/nope: no such file or directory/);
	fails(t, ['fs2tar', '--root', '/nope', img, out], 1, /nope: no such file or directory/i);
	t.equal(sha256File(img), sum, 'the read-only commands left the image as it was');
	fails(t, ['cptofs', '-i', img, join(src, 'nope'), '/'], 1, /src\/nope: no such file or directory/);
	fails(t, ['cptofs', '-i', img, '--tar', join(dir, 'nope.tar'), '/'], 1, /nope\.tar: no such file or directory/);
});

t.test('a destination that cannot be written', async (t) => {
	fails(t, ['fs2tar', img, join(dir, 'no-dir/out.tar')], 1, /cannot write .*no-dir\/out\.tar: no such file or directory/);
	const r = fails(t, ['cpfromfs', '-i', img, '/file', join(dir, 'no-dir/file')], 1, /no-dir/);
	t.match(r.stderr, /no such file or directory/i);
	fails(t, ['cptofs', '-i', img, join(src, 'file'), '/file/below'], 1, /file\/below|not a directory/i);
});

t.test('a reader that goes away early ends the command quietly', async (t) => {
	const cwd = new URL('../..', import.meta.url).pathname;
	for (const cmd of ['node bin/lkl fs2tar --help | head -1', `node bin/lkl fs2tar ${img} - | head -c 100`]) {
		const r = spawnSync('bash', ['-c', `set -o pipefail; env -u NODE_OPTIONS ${cmd} >/dev/null`], { cwd, encoding: 'utf8' });
		t.equal(r.stderr, '', `${cmd}: nothing on stderr`);
		// 141 as for SIGPIPE, or 0 if all of it fit in the pipe before head left.
		t.ok(r.status === 141 || r.status === 0, `${cmd}: status 141 or 0 (${r.status})`);
	}
});

t.test('after all that, the image holds what it held, fsck-clean', async (t) => {
	// (Failed cptofs runs did mount it read-write: its superblock changed.)
	const archive = join(dir, 'after.tar');
	lklOk(['fs2tar', img, archive]);
	t.same(tarNames(archive), ['file', 'lost+found/']);
	t.ok(fsck('ext4', img).ok);
});
