// Two programs on one image: every opener locks it (shared to read,
// exclusive to write), so a writer beside any other opener, or a reader
// beside a writer, fails at once with one line naming the image and the
// holder, and --wait-lock (-o wait_lock, waitForLock) waits instead.
// Holders: lklfuse read-write and read-only, and a program holding a disk
// through the API; openers: each command, lklfuse both ways and the API.
// Before the lock, lklfuse read-write and cptofs on one image both exited
// 0 and left wrong free block and inode counts (issue 12).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { fsck, run, tempDir } from '../helpers/tree.mjs';
import { LKL, lkl, lklOk, sha256File } from '../helpers/cli.mjs';

t.setTimeout(600_000);

const HOLD = fileURLToPath(new URL('../helpers/hold-image.mjs', import.meta.url));
const dir = tempDir(t, 'lkl-image-lock-');
const img = join(dir, 'a.img');
const src = join(dir, 'src');
fs.mkdirSync(src);
fs.writeFileSync(join(src, 'file'), 'copied in\n');
run('truncate', ['-s', '64M', img]);
run('mkfs.ext4', ['-q', '-F', img]);

// `lkl ...args` in the background, as a user runs it (see lkl()).
function spawnLkl(args) {
	const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, LKL, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
	child.stderr.setEncoding('utf8');
	child.output = '';
	child.stderr.on('data', (d) => { child.output += d; });
	child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
	return child;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const mounts = [];
function mountDir(name) {
	const mnt = join(dir, name);
	fs.mkdirSync(mnt, { recursive: true });
	return mnt;
}
async function unmount(mnt) {
	lklOk(['unmount', mnt]);
	mounts.splice(mounts.indexOf(mnt), 1);
}
t.teardown(() => {
	for (const mnt of mounts)
		lkl(['unmount', '--timeout', '10', mnt]);
});

// Holders: each starts, returns { pid, command, stop() }.
async function holdWithLklfuse(ro) {
	const mnt = mountDir(ro ? 'held-ro' : 'held-rw');
	lklOk(['lklfuse', ...(ro ? ['-o', 'ro'] : []), img, mnt]);
	mounts.push(mnt);
	return { command: 'lklfuse-server', stop: () => unmount(mnt) };
}

function holdWithApi(ro) {
	const child = spawn(process.execPath, [HOLD, img, ro ? 'ro' : 'rw'], { stdio: ['pipe', 'pipe', 'inherit'] });
	return new Promise((resolve, reject) => {
		child.stdout.once('data', (line) => {
			if (String(line).trim() !== 'held')
				return reject(new Error(`holder: ${line}`));
			resolve({
				pid: child.pid,
				command: 'node',
				stop: () => new Promise((done) => {
					child.once('exit', done);
					child.stdin.end();
				}),
			});
		});
	});
}

const HOLDERS = {
	'lklfuse read-write': { writes: true, start: () => holdWithLklfuse(false) },
	'lklfuse read-only': { writes: false, start: () => holdWithLklfuse(true) },
	'the API, read-write': { writes: true, start: () => holdWithApi(false) },
	'the API, read-only': { writes: false, start: () => holdWithApi(true) },
};

// Openers: each returns { status, stderr } and undoes what it did.
function openWithLklfuse(ro) {
	const mnt = mountDir(ro ? 'open-ro' : 'open-rw');
	const r = lkl(['lklfuse', ...(ro ? ['-o', 'ro'] : []), img, mnt]);
	if (r.status === 0)
		lklOk(['unmount', mnt]);
	return r;
}

function openWithApi(ro) {
	const r = spawnSync(process.execPath, [HOLD, img, ro ? 'ro' : 'rw'], { input: '', encoding: 'utf8', timeout: 60_000 });
	return { status: r.status, stderr: r.stdout === 'held\n' ? '' : r.stdout };
}

const OPENERS = {
	'cptofs': { writes: true, open: () => lkl(['cptofs', '-i', img, join(src, 'file'), '/']) },
	'fs2tar': { writes: false, open: () => lkl(['fs2tar', img, join(dir, 'out.tar')]) },
	'cpfromfs': {
		writes: false,
		open: () => {
			fs.rmSync(join(dir, 'out'), { recursive: true, force: true });
			fs.mkdirSync(join(dir, 'out'));
			return lkl(['cpfromfs', '-i', img, '/', join(dir, 'out')]);
		},
	},
	'lklfuse read-write': { writes: true, open: () => openWithLklfuse(false) },
	'lklfuse read-only': { writes: false, open: () => openWithLklfuse(true) },
	'the API, read-write': { writes: true, api: true, open: () => openWithApi(false) },
	'the API, read-only': { writes: false, api: true, open: () => openWithApi(true) },
};

for (const [holderName, holder] of Object.entries(HOLDERS)) {
	t.test(`held by ${holderName}`, async (t) => {
		const held = await holder.start();
		const before = holder.writes ? undefined : sha256File(img);
		for (const [openerName, opener] of Object.entries(OPENERS)) {
			const r = opener.open();
			if (holder.writes || opener.writes) {
				t.equal(r.status, 1, `${openerName} is refused`);
				if (opener.api) {
					t.equal(r.stderr, 'error EBUSY\n', `${openerName}: EBUSY`);
					continue;
				}
				const lines = r.stderr.trim().split('\n');
				t.equal(lines.length, 1, `${openerName}: one line`);
				t.match(lines[0], img, `${openerName}: it names the image`);
				t.match(lines[0], new RegExp(`in use by process (\\d+) \\(${held.command}\\), which ${holder.writes ? 'can write' : 'reads'} it`),
					`${openerName}: it names the holder and what it does`);
				if (held.pid)
					t.match(lines[0], `process ${held.pid} `, `${openerName}: the holder's pid`);
			} else {
				t.equal(r.status, 0, `${openerName} reads beside a reader: ${r.stderr}`);
			}
		}
		if (before)
			t.equal(sha256File(img), before, 'what only read left the image as it was');
		await held.stop();
		const check = fsck('ext4', img);
		t.ok(check.ok, `e2fsck clean after ${holderName}`, { output: check.output });
	});
}

t.test('--wait-lock and -o wait_lock wait for the holder, then go on', async (t) => {
	const held = await holdWithLklfuse(false);
	const copying = spawnLkl(['cptofs', '--wait-lock', '-i', img, join(src, 'file'), '/waited']);
	await sleep(1500);
	t.equal(copying.exitCode, null, 'cptofs still waits while the image is mounted');
	await held.stop();
	t.equal(await copying.exited, 0, `then it copies: ${copying.output}`);
	t.ok(lklOk(['fs2tar', img, '-'], { buffer: true }).stdout.includes('waited'), 'the file is in the image');
	t.ok(fsck('ext4', img).ok, 'e2fsck clean');

	const api = await holdWithApi(false);
	const mnt = mountDir('waiting');
	const mounting = spawnLkl(['lklfuse', '-o', 'wait_lock', img, mnt]);
	await sleep(1500);
	t.equal(mounting.exitCode, null, 'lklfuse -o wait_lock still waits while the API holds the image');
	await api.stop();
	t.equal(await mounting.exited, 0, `then it mounts: ${mounting.output}`);
	mounts.push(mnt);
	t.ok(fs.existsSync(join(mnt, 'waited')), 'and serves the image');
	await unmount(mnt);
	t.ok(fsck('ext4', img).ok, 'e2fsck clean');
});

t.test('a stop signal ends the wait, the image untouched', async (t) => {
	const held = await holdWithLklfuse(true);
	const before = sha256File(img);
	const copying = spawnLkl(['cptofs', '--wait-lock', '-i', img, join(src, 'file'), '/']);
	await sleep(1500);
	process.kill(copying.pid, 'SIGTERM');
	t.equal(await copying.exited, 143, 'exit 128 + SIGTERM');
	t.match(copying.output.trim(), /^lkl: stopped while waiting for .*a\.img, which is unchanged$/, 'one line saying so');
	await held.stop();
	t.equal(sha256File(img), before, 'the image is unchanged');
});
