// SPDX-License-Identifier: GPL-2.0
//
// `podman stop` (SIGTERM, then SIGKILL after the grace period: -t 5) of
// a container in the middle of writing an image, as when a pipeline is
// cancelled.
//
// cptofs: SIGTERM stops the copy, writes back what it has and exits
// non-zero (143) within the grace period, i.e. not SIGKILLed (the
// container's exit code says which: 137 is SIGKILL), and the image is
// e2fsck-clean as it is.  lkl as PID 1 (exec form, CMD ["lkl", ...]),
// and behind --init (catatonit passes the signal on), copying a
// directory; and copying a tar stream from stdin that has stopped coming
// (`tar c ... | lkl cptofs --tar -`).
//
// lklfuse: a mounted image with writes, then the stop.  A script that
// ignores SIGTERM (node as PID 1 never sees it) is SIGKILLed with the
// server: on the host the image needs its journal replayed (e2fsck -fy on
// a copy), is clean after, and what was fsync()ed is there.  A script
// that runs `lkl unmount` on SIGTERM leaves a clean image with everything.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { emptyImage, loopMount } from '../helpers/cli.mjs';
import { fsck } from '../helpers/tree.mjs';
import {
	FUSE_FLAGS, RUN_FLAGS, images, noPodman, npmImage, podman, removeContainerAtEnd, uniqueName, workDir,
} from './podman.mjs';

const skip = noPodman();
if (skip) {
	t.plan(0, skip);
	process.exit();
}

t.setTimeout(1_200_000);
process.umask(0o022);

const GRACE = 5;
const dir = workDir(t, 'lkl-ct-stop-');
const { fuse } = images();
const lklNpm = npmImage(t, fuse);
const GUEST = new URL('guest/', import.meta.url).pathname;

// 600 files of 2 MiB: a copy that takes seconds, stopped after its first
// few files.
const src = join(dir, 'src');
fs.mkdirSync(src);
const chunk = Buffer.alloc(2 << 20);
for (let i = 0; i < chunk.length; i += 4)
	chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
for (let i = 0; i < 600; i++) {
	chunk.writeUInt32LE(i, 0);
	fs.writeFileSync(join(src, `f${String(i).padStart(3, '0')}`), chunk);
}

/**
 * Starts `podman run` attached (stdout, stderr piped); `ended` resolves
 * to { status, stdout, stderr } when it ends.  `lines(n, 'stdout' or
 * 'stderr')` resolves once that has n lines (cptofs -v lists entries on
 * stderr).
 */
function start(t, image, cmd, flags, { stdin = 'ignore' } = {}) {
	const name = uniqueName('stop');
	removeContainerAtEnd(t, name);
	const child = spawn('podman', ['run', ...RUN_FLAGS, '--name', name, ...flags, image, ...cmd],
		{ stdio: [stdin, 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
	let stdout = '';
	let stderr = '';
	let done = false;
	let waiters = [];
	// A waiter returns true once it is satisfied.
	const wake = () => {
		waiters = waiters.filter((w) => !w());
	};
	child.stdout.setEncoding('utf8').on('data', (d) => {
		stdout += d;
		wake();
	});
	child.stderr.setEncoding('utf8').on('data', (d) => {
		stderr += d;
		wake();
	});
	const ended = new Promise((resolve) => child.on('close', (status, signal) => {
		done = true;
		wake();
		resolve({ status, signal, stdout, stderr });
	}));
	const lines = (n, which = 'stdout') => new Promise((resolve) => {
		const w = () => (done || (which === 'stdout' ? stdout : stderr).split('\n').length - 1 >= n) && (resolve(), true);
		if (!w())
			waiters.push(w);
	});
	// A container that never got going must not hang the test.
	const guard = setTimeout(() => child.kill('SIGKILL'), 300_000);
	child.on('close', () => clearTimeout(guard));
	return { name, child, ended, lines };
}

/**
 * podman stop -t `grace` (run without blocking: the attached podman run
 * must go on reading meanwhile); resolves to { status, stderr } and
 * exitCode(), the container's exit code as podman recorded it.
 */
function stop(name, grace = GRACE) {
	return new Promise((resolve) => {
		const child = spawn('podman', ['stop', '-t', String(grace), name], { stdio: ['ignore', 'ignore', 'pipe'] });
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (d) => {
			stderr += d;
		});
		const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
		child.on('close', (status) => {
			clearTimeout(guard);
			resolve({
				status, stderr,
				exitCode: () => Number(podman(['inspect', '--format', '{{.State.ExitCode}}', name]).stdout.trim()),
			});
		});
	});
}

/** e2fsck -fn of the image as it is. */
function cleanAsItIs(t, img, what) {
	const check = fsck('ext4', img);
	t.ok(check.ok, `${what}: e2fsck -fn finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
}

t.test('podman stop during lkl cptofs', async (t) => {
	const STOPPED = (img) => `lkl: stopped by SIGTERM: what was copied so far is written back to ${img}, which is clean\n`;

	for (const [how, flags] of [['lkl is PID 1 (exec form)', []], ['behind --init', ['--init']]]) {
		t.test(`a directory, ${how}: exits 143 within the grace period, the image clean`, async (t) => {
			const img = emptyImage('ext4', join(dir, 'copy.img'), 2048);
			const c = start(t, lklNpm, ['lkl', 'cptofs', '-v', '-i', '/w/copy.img', '/src/.', '/'],
				[...flags, '-v', `${dir}:/w`, '-v', `${src}:/src:ro`]);
			await c.lines(5, 'stderr');
			const s = await stop(c.name);
			const r = await c.ended;
			t.equal(s.status, 0, `podman stop exits 0${s.status ? `: ${s.stderr}` : ''}`);
			t.notMatch(s.stderr, /resorting to SIGKILL/, 'podman did not need SIGKILL');
			t.equal(s.exitCode(), 143, 'the container\'s exit code: 143, lkl\'s own for SIGTERM (137 would be SIGKILL)');
			const listed = r.stderr.split('\n').slice(0, -1);
			t.equal(`${listed.pop()}\n`, STOPPED('/w/copy.img'), 'after the entries, one line: stopped, written back, clean');
			// (-v lists the top directory itself as ".".)
			t.same(listed.filter((l) => !/^(f\d{3}|\.)?$/.test(l)), [], 'and nothing else');
			const copied = listed.filter(Boolean).length;
			t.ok(copied < 600, `stopped part way (${copied} of 600 entries listed)`);
			cleanAsItIs(t, img, 'the image');
			const loop = loopMount(t, img, dir, `loop-${flags.length ? 'init' : 'pid1'}`);
			const whole = fs.readdirSync(loop).filter((n) => n.startsWith('f') &&
				fs.readFileSync(join(loop, n)).equals(fs.readFileSync(join(src, n)))).length;
			t.comment(`${whole} whole files in the image, ${copied} entries listed`);
			t.ok(whole >= 1, 'the host kernel mounts it and reads the files copied whole');
		});
	}

	// The copy waits for input here, not between entries: the stop must
	// end that wait too.
	t.test('a tar stream on stdin that has stopped coming: exits 143 within the grace period, the image clean', async (t) => {
		const img = emptyImage('ext4', join(dir, 'tar.img'), 256);
		const c = start(t, lklNpm, ['lkl', 'cptofs', '-v', '--tar', '-', '-i', '/w/tar.img', '/'],
			['-i', '-v', `${dir}:/w`], { stdin: 'pipe' });
		// Three files, then nothing more, the pipe held open.
		c.child.stdin.write(spawnSync('tar', ['-C', src, '-cf', '-', 'f000', 'f001', 'f002']).stdout.subarray(0, 3 * (2 << 20)));
		await c.lines(1, 'stderr');
		const s = await stop(c.name);
		c.child.stdin.end();
		const r = await c.ended;
		t.equal(s.status, 0, `podman stop exits 0${s.status ? `: ${s.stderr}` : ''}`);
		t.notMatch(s.stderr, /resorting to SIGKILL/, 'podman did not need SIGKILL');
		t.equal(s.exitCode(), 143, 'the container\'s exit code: 143 (137 would be SIGKILL)');
		t.match(r.stderr, /\nlkl: stopped by SIGTERM: what was copied so far is written back to \/w\/tar\.img, which is clean\n$/,
			'one line: stopped, written back, clean');
		cleanAsItIs(t, img, 'the image');
	});
});

t.test('podman stop of a container with an lklfuse mount', async (t) => {
	const flags = [...FUSE_FLAGS, '-v', `${dir}:/w`, '-v', `${GUEST}:/guest:ro`];
	const FILES = {
		'fsynced.txt': 'fsynced before the stop\n',
		'sync-file.txt': 'synced with sync FILE before the stop\n',
		'sync-all.txt': 'followed by a plain sync before the stop\n',
		'unsynced.txt': 'neither\n',
	};
	const present = (loop) => Object.keys(FILES).filter((n) => fs.existsSync(join(loop, n)));

	for (const grace of [GRACE, 0]) {
		t.test(`a script that ignores SIGTERM, podman stop -t ${grace}: SIGKILLed, the journal replays, fsync()ed data is there`, async (t) => {
			const img = emptyImage('ext4', join(dir, `fuse-${grace}.img`), 256);
			const c = start(t, lklNpm, ['node', '/guest/fuse-stop.mjs', `/w/fuse-${grace}.img`, '/mnt', 'plain'], flags);
			await c.lines(1);
			t.equal(c.child.exitCode, null, 'the script is waiting');
			const s = await stop(c.name, grace);
			const r = await c.ended;
			t.equal(r.stdout, 'ready\n', 'the script had mounted and written');
			t.equal(s.exitCode(), 137, 'SIGKILLed after the grace period: PID 1 node has no SIGTERM handler');
			const copy = join(dir, `fuse-${grace}-copy.img`);
			fs.copyFileSync(img, copy);
			const fix = spawnSync('e2fsck', ['-fy', copy], { encoding: 'utf8' });
			t.ok(fix.status === 0 || fix.status === 1, `e2fsck -fy replays the journal (status ${fix.status})${fix.status > 1 ? `\n${fix.stdout}` : ''}`);
			cleanAsItIs(t, copy, 'after it');
			const loop = loopMount(t, copy, dir, `loop-fuse-${grace}`);
			t.equal(fs.readFileSync(join(loop, 'fsynced.txt'), 'utf8'), FILES['fsynced.txt'], 'the fsync()ed file is there, whole');
			t.equal(fs.readFileSync(join(loop, 'sync-file.txt'), 'utf8'), FILES['sync-file.txt'], 'and the one synced with sync FILE');
			t.comment(`after podman stop -t ${grace}, the image holds: ${present(loop).join(' ')}`);
		});
	}

	t.test('a script that runs lkl unmount on SIGTERM: exits 143, the image clean with everything', async (t) => {
		const img = emptyImage('ext4', join(dir, 'fuse-term.img'), 256);
		const c = start(t, lklNpm, ['node', '/guest/fuse-stop.mjs', '/w/fuse-term.img', '/mnt', 'unmount-on-term'], flags);
		await c.lines(1);
		const s = await stop(c.name);
		const r = await c.ended;
		t.notMatch(s.stderr, /resorting to SIGKILL/, 'podman did not need SIGKILL');
		t.equal(s.exitCode(), 143, 'the script\'s own exit code');
		t.equal(r.stdout, 'ready\nunmounted\n', 'lkl unmount returned');
		cleanAsItIs(t, img, 'the image, no journal to replay');
		const loop = loopMount(t, img, dir, 'loop-fuse-term');
		for (const [name, text] of Object.entries(FILES))
			t.equal(fs.readFileSync(join(loop, name), 'utf8'), text, `${name} is there`);
	});
});
