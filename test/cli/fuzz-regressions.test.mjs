// Images the fuzzer (scripts/fuzz-images.mjs) found a bug with, kept in
// test/fixtures/fuzz/ (xz-compressed; docs/fuzzing.md says how they were
// made), each run through the fuzzer's own checks (fs2tar, cpfromfs, an
// lklfuse walk, cptofs into a copy: no crash, no hang, one clear line,
// the input unchanged, nothing outside the destination) and what its bug
// was about asserted on its own.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers/tree.mjs';
import { LKL, REPO, lklOk, tarEntries } from '../helpers/cli.mjs';
import { layOut, runCase } from '../../scripts/fuzz/run-case.mjs';

t.setTimeout(600_000);

const FIXTURES = join(REPO, 'test/fixtures/fuzz');
const dir = tempDir(t, 'lkl-fuzz-regressions-');
// As a user runs it: without the loader hooks tap adds to NODE_OPTIONS.
const lkl = ['env', '-u', 'NODE_OPTIONS', process.execPath, LKL];

/** Unpacks a fixture into a case directory of its own and runs the case. */
async function replay(name, kind) {
	const caseDir = join(dir, name.replace(/\.img\.xz$/, ''));
	fs.mkdirSync(caseDir);
	const r = spawnSync('xz', ['-dc', join(FIXTURES, name)], { maxBuffer: 1 << 30 });
	if (r.status !== 0)
		throw new Error(`xz -dc ${name}: ${r.stderr}`);
	fs.writeFileSync(join(caseDir, 'image.img'), r.stdout);
	layOut(caseDir, kind);
	return { ...(await runCase(caseDir, lkl, 60_000)), image: join(caseDir, 'image.img'), caseDir };
}

// The fixtures, and what each one's bug was.
const CASES = [
	{
		name: 'xfs-root-eio.img.xz',
		kind: 'xfs',
		what: 'a root inode that cannot be read',
		check(t, { said }) {
			// Once "lkl: .: EIO: i/o error, lstat '/'" and "/.: no such file or directory".
			t.match(said.fs2tar, /^lkl: \/: i\/o error\n$/, 'fs2tar names the root and says the cause once');
			t.match(said.cpfromfs, /^lkl: \/\.: input\/output error/, 'cpfromfs says I/O error, not "no such file"');
		},
	},
	{
		name: 'btrfs-nsec-overflow.img.xz',
		kind: 'btrfs',
		what: 'an inode whose atime has 4,286,863,214 nanoseconds',
		check(t, { outcomes, image, caseDir }) {
			// Once cpfromfs failed in utimensat() (EINVAL), in node's words,
			// and fs2tar wrote a pax atime of ten fraction digits.
			t.equal(outcomes.cpfromfs, 'ok', 'cpfromfs copies it');
			const name = 'big-dir/entry-with-a-longer-name-272.dat';
			const archive = join(caseDir, 'one.tar');
			lklOk(['fs2tar', image, archive]);
			const entry = tarEntries(archive).find((e) => e.name === name);
			t.equal(entry.atime, '1796666951.286863214', 'the whole seconds of the nanoseconds carried into the seconds');
			const out = join(caseDir, 'one');
			lklOk(['cpfromfs', '-i', image, `/${name}`, out]);
			t.equal(fs.statSync(out, { bigint: true }).atimeNs, 1796666951286863214n, 'and so on the host');
		},
	},
	{
		name: 'btrfs-size-overflow.img.xz',
		kind: 'btrfs',
		what: 'an inode whose size is 2^63 + 55 bytes',
		check(t, { said }) {
			// Once fs2tar wrote a GNU.sparse.realsize GNU tar refuses, and
			// cpfromfs failed in node's words ('The value of "len" is out of range').
			for (const command of ['fs2tar', 'cpfromfs'])
				t.match(said[command], /^lkl: big-dir\/entry-with-a-longer-name-035\.dat: a size of 9223372036854775863 bytes, more than any file can have/, `${command} refuses it, saying why`);
		},
	},
	{
		name: 'xfs-name-control-char.img.xz',
		kind: 'xfs',
		what: 'a directory entry whose name has a carriage return in it',
		check(t, { said }) {
			// Once the name reached the terminal as it was: the \r sent the
			// cursor back, and the line showed something else.
			for (const command of ['fs2tar', 'cpfromfs'])
				t.equal(said[command], 'lkl: big-dir/entry-with-a-longer-name\\r043.dat: no such file or directory\n', `${command} writes the \\r out`);
		},
	},
	{
		name: 'ext4-mount-enomem.img.xz',
		kind: 'ext4',
		what: 'a superblock whose flex_bg size makes the mount fail with ENOMEM',
		check(t, { said }) {
			// Once "ENOMEM: not enough memory, mount '<image>'", in node's words.
			for (const command of ['fs2tar', 'cpfromfs', 'cptofs'])
				t.match(said[command], /^lkl: cannot mount \S+\.img: not enough memory \(-m gives the kernel more; -p shows its messages\)\n$/, `${command} says it in words`);
		},
	},
	{
		name: 'ext4-errors-panic.img.xz',
		kind: 'ext4',
		what: 'a superblock that asks for a panic on the first error, and an inode with a bad extent header',
		// The kernel panicked and the process aborted (status 134) until
		// lkl_host_mount() mounted such images errors=remount-ro (whether
		// s_errors or errors= in s_mount_opts asks for the panic).
	},
];

t.test('every fixture has its case here', async (t) => {
	t.same(fs.readdirSync(FIXTURES).filter((n) => n.endsWith('.img.xz')).sort(), CASES.map((c) => c.name).sort());
});

for (const c of CASES) {
	t.test(`${c.name}: ${c.what}`, { todo: c.todo }, async (t) => {
		const result = await replay(c.name, c.kind);
		t.same(result.failures, [], 'no crash, hang, unclear failure, changed input or escape');
		c.check?.(t, result);
	});
}
