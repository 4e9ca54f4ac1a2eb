// lkl cpfromfs while another process keeps swapping directories of the
// destination for symlinks to a directory outside it (and back): nothing
// may ever land outside, whatever the timing.  cpfromfs either finishes or
// fails with one line naming the path and the cause.
//
// The image (mkfs.ext4 -d) holds a few hundred directories down to six
// levels, each with small files, a big file now and then, a symlink, a
// hard link, a fifo, an xattr and an empty directory, so that every kind
// of write and every metadata call goes through swapped directories.
// Odd rounds swap directories with contents (the walk through them);
// even rounds the empty directories near the top (made, then their
// metadata set, with nothing between).  LKL_RACE_ROUNDS sets the number
// of copies (16 by default).  Against 628d1e9, which checked a path and
// then wrote by path, every even round chmodded the outside directory
// through the symlink and about one odd round in ten made directories or
// files in it (13 of 24 rounds changed it).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { run, tempDir } from '../helpers/tree.mjs';
import { PYTHON, lkl } from '../helpers/cli.mjs';

t.setTimeout(900_000);
process.umask(0o022);

const ROUNDS = Number(process.env.LKL_RACE_ROUNDS ?? 16);
const TOPS = 6;
const LEVELS = 5;

const dir = tempDir(t, 'lkl-cpfromfs-race-');
fs.chmodSync(dir, 0o755);

// The tree: t0..t5, each a binary tree of directories d0/d1 LEVELS deep.
const tree = join(dir, 'tree');
const swapTargets = [];
const emptyTargets = [];
function fill(path, rel, level) {
	fs.mkdirSync(path);
	for (let i = 0; i < 3; i++)
		fs.writeFileSync(join(path, `f${i}`), `${rel}/f${i}\n`.repeat(4));
	if (level === 2)
		fs.writeFileSync(join(path, 'big'), Buffer.alloc(300 << 10, rel));
	fs.symlinkSync('f0', join(path, 'ln'));
	fs.linkSync(join(path, 'f1'), join(path, 'hard'));
	if (level === 1)
		run('mkfifo', [join(path, 'fifo')]);
	// An empty directory: made, then its metadata set, nothing between.
	fs.mkdirSync(join(path, 'e'));
	fs.chmodSync(join(path, 'e'), 0o750);
	if (level <= 1)
		emptyTargets.push(`${rel}/e`);
	run('setfattr', ['-n', 'user.where', '-v', rel, join(path, 'f2')]);
	if (level < LEVELS) {
		for (const d of ['d0', 'd1'])
			fill(join(path, d), `${rel}/${d}`, level + 1);
	}
	fs.chmodSync(path, 0o750);
	if (level <= 2)
		swapTargets.push(rel);
}
fs.mkdirSync(tree);
for (let i = 0; i < TOPS; i++)
	fill(join(tree, `t${i}`), `t${i}`, 0);
const img = join(dir, 'race.img');
fs.writeFileSync(img, Buffer.alloc(0));
fs.truncateSync(img, 96 << 20);
run('mkfs.ext4', ['-q', '-F', '-d', tree, img]);

// Outside: a directory of this test's own with a sentinel file in it.
const outside = join(dir, 'outside');
fs.mkdirSync(outside);
fs.chmodSync(outside, 0o755);
fs.writeFileSync(join(outside, 'sentinel'), 'nothing may be written here\n');
fs.chmodSync(join(outside, 'sentinel'), 0o644);

/** Everything about `root` and what is under it, links not followed. */
function snapshot(root) {
	const out = {};
	const walk = (p, rel) => {
		const st = fs.lstatSync(p, { bigint: true });
		out[rel] = {
			mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, nlink: st.nlink,
			mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs,
			xattrs: run('getfattr', ['-h', '-d', '-m', '-', '--absolute-names', p]),
			sha256: st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : undefined,
		};
		if (st.isDirectory()) {
			for (const name of fs.readdirSync(p).sort())
				walk(join(p, name), `${rel}/${name}`);
		}
	};
	walk(root, '.');
	return out;
}
let before = snapshot(outside);

// The swapper: a tight loop that exchanges each target directory with a
// symlink to `outside` beside it (renameat2 RENAME_EXCHANGE, through
// python3's ctypes: atomic, so the name is never missing) and back at
// after `hold` seconds.  On SIGTERM it prints how many swaps it made.
const SWAPPER = `
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
copy, outside, hold, *targets = sys.argv[1:]
hold = float(hold)
pairs = [(os.fsencode(copy + '/' + t), os.fsencode(copy + '/' + t + '.lnk')) for t in targets]
swaps = 0
def stop(*_):
	os.write(1, str(swaps).encode())
	os._exit(0)
signal.signal(signal.SIGTERM, stop)
os.write(1, b'ready\\n')
while True:
	for p, l in pairs:
		if libc.renameat2(AT_FDCWD, p, AT_FDCWD, l, RENAME_EXCHANGE):
			try:
				os.symlink(outside, l)	# once the directory of p is there
			except OSError:
				pass
			continue
		until = time.perf_counter() + hold
		while time.perf_counter() < until:
			pass
		libc.renameat2(AT_FDCWD, p, AT_FDCWD, l, RENAME_EXCHANGE)
		swaps += 1
`;

/** Starts the swapper on `copy`; resolves once it runs. */
async function startSwapper(copy, hold, targets) {
	const child = spawn(PYTHON, ['-c', SWAPPER, copy, outside, String(hold), ...targets], {
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	let out = '';
	const exited = new Promise((resolve) => child.on('close', () => resolve(out)));
	await new Promise((resolve, reject) => {
		child.stdout.on('data', (b) => {
			out += b;
			if (out.startsWith('ready\n'))
				resolve();
		});
		child.on('error', reject);
		child.on('close', () => reject(new Error(`the swapper exited early: ${out}`)));
	});
	return {
		/** Stops it; returns how many swaps it made. */
		async stop() {
			child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
			const text = await exited;
			clearTimeout(timer);
			return Number(text.slice('ready\n'.length));
		},
	};
}

const outcomes = { finished: 0, failed: 0, leaked: 0 };
for (let round = 1; round <= ROUNDS; round++) {
	await t.test(`round ${round}`, async (t) => {
		const dest = join(dir, `dest-${round}`);
		fs.mkdirSync(dest);
		const copy = join(dest, 'copy');
		// Odd rounds swap directories with contents, for a moment each;
		// even ones the empty directories, held as symlinks for 300 µs.
		const swapper = round % 2 ? await startSwapper(copy, 0, swapTargets) : await startSwapper(copy, 300e-6, emptyTargets);
		let r, swaps;
		try {
			r = lkl(['cpfromfs', '-q', '-i', img, '/.', copy], { timeout: 120_000 });
		} finally {
			swaps = await swapper.stop();
		}
		const after = snapshot(outside);
		if (!t.same(after, before, 'nothing changed outside the destination')) {
			outcomes.leaked++;
			before = after;	// so that each round counts on its own
		}
		t.ok(swaps > 0, `the swapper swapped (${swaps} times)`);
		if (r.status === 0) {
			outcomes.finished++;
			t.equal(r.stderr, '', 'finished, quietly');
		} else {
			outcomes.failed++;
			t.equal(r.status, 1, `failed with exit code 1: ${r.stderr.trim()}`);
			t.match(r.stderr, /^lkl: [^\n]*\/copy\/[^\n]+\n$/, 'in one line naming the path');
			t.notMatch(r.stderr, /\n\s+at /, 'without a stack trace');
		}
		fs.rmSync(dest, { recursive: true, force: true });
	});
}
t.comment(`of ${ROUNDS} copies, ${outcomes.finished} finished, ${outcomes.failed} failed; ${outcomes.leaked} changed something outside`);
