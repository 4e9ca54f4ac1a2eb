// SPDX-License-Identifier: GPL-2.0
// One case: the four commands on one damaged image, each judged as a user
// would judge it.  A command may fail (the image is damaged), but only
// with status 1 and one line naming the file and the cause; it must never
// die of a signal, run past the time limit, change a read-only input,
// write outside its destination, or leave an archive tar cannot read.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESCAPE_SENTINEL } from './base-images.mjs';

const WALK = fileURLToPath(new URL('./walk.mjs', import.meta.url));
const PATH = `${process.env.PATH}:/usr/sbin:/sbin`;

/** What each failure kind means, in the order summaries list them. */
export const FAILURE_KINDS = {
	crash: 'died of a signal or with a status above 2',
	hang: 'ran past the time limit and was killed',
	message: 'failed without exactly one "lkl: <file>: <cause>" line, or with status 2',
	changed: 'a read-only command changed the input image',
	escape: 'something outside the destination appeared or changed',
	tar: 'fs2tar succeeded but GNU tar cannot list its archive',
	unmount: 'lkl unmount failed after the walk',
	busy: 'lkl unmount failed with EBUSY just after the walk ended, and worked a second later',
};

// The environment of every command: a user's, without the loader hooks a
// test runner may have put in NODE_OPTIONS, and without LKL_DEBUG's
// stack traces.
function commandEnv() {
	const env = { ...process.env, PATH };
	delete env.NODE_OPTIONS;
	delete env.LKL_DEBUG;
	return env;
}

/**
 * Runs argv in its own process group; after `limitMs` kills the group,
 * first asking gdb where its threads wait if `stacks`.  Resolves to {
 * status, signal, stdout, stderr, timedOut, stacks, ms }; its `pgid` is
 * the group's.
 */
export function exec(argv, { cwd, limitMs, env = commandEnv(), stacks: wanted = true }) {
	const started = Date.now();
	const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	const result = new Promise((resolve) => {
		let stdout = '';
		let stderr = '';
		let timedOut = false;
		child.stdout.setEncoding('utf8').on('data', (d) => { if (stdout.length < 1 << 20) stdout += d; });
		child.stderr.setEncoding('utf8').on('data', (d) => { if (stderr.length < 1 << 20) stderr += d; });
		let stacks;
		const timer = setTimeout(() => {
			timedOut = true;
			if (wanted)
				stacks = stacksOf(child.pid);
			killGroup(child.pid);
		}, limitMs);
		child.on('error', (err) => {
			clearTimeout(timer);
			resolve({ status: null, signal: null, stdout, stderr: `${stderr}${err.message}\n`, timedOut, stacks, ms: Date.now() - started });
		});
		child.on('close', (status, signal) => {
			clearTimeout(timer);
			resolve({ status, signal, stdout, stderr, timedOut, stacks, ms: Date.now() - started });
		});
	});
	// The process group, for whoever must stop it sooner.
	result.pgid = child.pid;
	return result;
}

/** The processes of process group `pgid`. */
function groupMembers(pgid) {
	const pids = [];
	for (const p of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(p))
			continue;
		try {
			// After "(comm)": state, ppid, pgrp.
			const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
			if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid)
				pids.push(Number(p));
		} catch {}
	}
	return pids;
}

/**
 * Where each thread of each process in group `pgid` waits, as gdb tells
 * it (in our kernel's functions too): what a hang is reported with.
 */
function stacksOf(pgid) {
	const out = [];
	for (const pid of groupMembers(pgid)) {
		let cmd = '';
		try {
			cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
		} catch {}
		const r = spawnSync('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'thread apply all bt 30'],
			{ encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL', env: { ...process.env, PATH } });
		const text = r.error ? `gdb: ${r.error.message}` : (r.stdout || r.stderr).split('\n').filter((l) => /^(Thread|#)/.test(l)).join('\n');
		out.push(`== ${pid}: ${cmd}\n${text}`);
	}
	return out.join('\n');
}

function killGroup(pid) {
	try {
		process.kill(-pid, 'SIGKILL');
	} catch {}
}

function isLink(path) {
	try {
		return fs.lstatSync(path).isSymbolicLink();
	} catch {
		return false;
	}
}

/** Whether the file at `path` holds exactly the bytes of `buf`. */
function sameBytes(path, buf) {
	const fd = fs.openSync(path, 'r');
	try {
		if (fs.fstatSync(fd).size !== buf.length)
			return false;
		const piece = Buffer.alloc(1 << 20);
		for (let at = 0; at < buf.length;) {
			const n = fs.readSync(fd, piece, 0, piece.length, at);
			if (n === 0 || piece.compare(buf, at, at + n, 0, n) !== 0)
				return false;
			at += n;
		}
		return true;
	} finally {
		fs.closeSync(fd);
	}
}

/** SHA-256 of a file, read in pieces. */
export function hashFile(path) {
	const h = createHash('sha256');
	const fd = fs.openSync(path, 'r');
	try {
		const buf = Buffer.alloc(1 << 20);
		let n;
		while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0)
			h.update(buf.subarray(0, n));
	} finally {
		fs.closeSync(fd);
	}
	return h.digest('hex');
}

/**
 * Everything under `root` but the paths in `exclude`, as a Map from path
 * to a line that changes when the entry does: type, mode, link count,
 * size, mtime and content of files, targets of symlinks, names in
 * directories (whose own times the commands' outputs change).
 */
function snapshot(root, exclude) {
	const out = new Map();
	const visit = (rel) => {
		const path = join(root, rel);
		const st = fs.lstatSync(path, { bigint: true });
		if (st.isDirectory()) {
			const names = fs.readdirSync(path).filter((n) => !exclude.has(rel ? `${rel}/${n}` : n)).sort();
			out.set(rel, `dir ${st.mode} ${names.join('/')}`);
			for (const n of names)
				visit(rel ? `${rel}/${n}` : n);
		} else if (st.isSymbolicLink()) {
			out.set(rel, `symlink ${fs.readlinkSync(path)}`);
		} else if (st.isFile()) {
			out.set(rel, `file ${st.mode} ${st.nlink} ${st.size} ${st.mtimeNs} ${hashFile(path)}`);
		} else {
			out.set(rel, `other ${st.mode} ${st.nlink} ${st.rdev}`);
		}
	};
	visit('');
	return out;
}

function differences(before, after) {
	const diff = [];
	for (const [p, v] of after) {
		if (!before.has(p))
			diff.push(`new: /${p}`);
		else if (before.get(p) !== v)
			diff.push(`changed: /${p}`);
	}
	for (const p of before.keys()) {
		if (!after.has(p))
			diff.push(`gone: /${p}`);
	}
	return diff;
}

// node:fs's own wording ("EIO: i/o error, lstat '/x'"): an error passed
// on as it was thrown, not said for a user.
const RAW_ERROR = /\bE[A-Z0-9]{2,}: [^,]*, [a-z_]+ '/;

/**
 * How a command ended, as a failure kind or undefined for a good end:
 * status 0 with nothing but warning lines on stderr, or status 1 with
 * exactly one line "<program>: <file>: <cause>", where the file is the
 * image or one in it.  `prefixes` are the programs that may speak.
 */
export function judge(r, prefixes = ['lkl']) {
	const speaks = new RegExp(`^(${prefixes.join('|')}): `);
	const lines = r.stderr.split('\n');
	if (lines.at(-1) === '')
		lines.pop();
	if (r.timedOut)
		return { kind: 'hang', detail: `killed after ${r.ms} ms` };
	if (r.signal)
		return { kind: 'crash', detail: `killed by ${r.signal}` };
	if (r.status === null || r.status > 2)
		return { kind: 'crash', detail: `exit status ${r.status}` };
	// A name from the image must not reach the terminal as it is (an
	// escape sequence, a carriage return that hides the line).
	const control = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.exec(r.stderr);
	if (control)
		return { kind: 'message', detail: `a control character (${JSON.stringify(control[0])}) on stderr: ${JSON.stringify(r.stderr.slice(0, 300))}` };
	if (r.status === 0) {
		const bad = lines.find((l) => !speaks.test(l));
		return bad === undefined ? undefined : { kind: 'message', detail: `succeeded, but printed: ${bad}` };
	}
	if (r.status === 2)
		return { kind: 'message', detail: 'exit status 2 (a usage error) for a damaged image' };
	if (lines.length !== 1)
		return { kind: 'message', detail: `${lines.length} lines on stderr` };
	const m = /^[^:]+: (.+?): (\S.*)$/.exec(lines[0]);
	if (!speaks.test(lines[0]) || !m)
		return { kind: 'message', detail: `not "<file>: <cause>": ${lines[0]}` };
	if (m[1] === '.' || m[1] === '')
		return { kind: 'message', detail: `names no file: ${lines[0]}` };
	if (RAW_ERROR.test(lines[0]))
		return { kind: 'message', detail: `a system error as thrown: ${lines[0]}` };
	return undefined;
}

/** The mount at `mnt` is in this process's mount table. */
function mounted(mnt) {
	const escaped = mnt.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
	return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === escaped);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Takes down a mount whose server is gone or stuck. */
async function forceUnmount(mnt) {
	for (const argv of [['fusermount3', '-u', '-z', mnt], ['umount', '-l', mnt]]) {
		if (!mounted(mnt))
			return;
		await exec(argv, { limitMs: 10_000 });
	}
}

/**
 * lklfuse -f (in the foreground, so that the server's own exit status
 * shows a crash even in its unmount), a walk and a getfattr of
 * everything, then lkl unmount.  Resolves to the failures.
 */
async function fuseWalk(lkl, image, mnt, log, limitMs) {
	const speakers = ['lkl', 'lklfuse-server'];
	const failures = [];
	const fail = (command, f) => failures.push({ command, ...f });
	const server = exec([...lkl, 'lklfuse', '-f', '-o', `ro,log=${log}`, image, mnt], { limitMs: limitMs * 4 });
	let ended;
	server.then((r) => { ended = r; });
	const deadline = Date.now() + limitMs;
	while (!ended && !mounted(mnt) && Date.now() < deadline)
		await sleep(25);
	if (ended || !mounted(mnt)) {
		// It failed to mount, which it must say in one line, or never got there.
		const r = ended ?? { ...(await stop(server, mnt, { stacks: true })), timedOut: true };
		const f = judge(r, speakers);
		if (f)
			fail('lklfuse', { ...f, status: r.status, signal: r.signal, stderr: r.stderr.slice(0, 2000), stacks: r.stacks });
		else
			await backgroundFailure(lkl, image, mnt, limitMs, fail);
		return { failures, mounted: false };
	}

	// Where these wait is in the server: its stacks, not theirs.
	const walk = await exec([process.execPath, WALK, mnt], { limitMs, stacks: false });
	let counts;
	try {
		counts = JSON.parse(walk.stdout);
	} catch {}
	if (walk.timedOut)
		fail('lklfuse', { kind: 'hang', detail: `the walk was killed after ${walk.ms} ms` });
	else if (!counts)
		fail('lklfuse', { kind: 'crash', detail: `the walk ended with ${walk.signal ?? walk.status}: ${walk.stderr.trim().split('\n')[0]}` });
	else if (counts.gone)
		fail('lklfuse', { kind: 'crash', detail: `the mount stopped answering (${JSON.stringify(counts.errors)})` });
	else {
		const x = await exec(['getfattr', '-R', '-P', '-h', '-d', '-m', '-', '--absolute-names', mnt], { limitMs, stacks: false });
		if (x.timedOut)
			fail('lklfuse', { kind: 'hang', detail: `getfattr -R was killed after ${x.ms} ms` });
	}
	if (failures.length) {
		const { stacks } = await stop(server, mnt, { stacks: failures.some((f) => f.kind === 'hang') });
		if (stacks)
			failures.find((f) => f.kind === 'hang').stacks = stacks;
		return { failures, mounted: true };
	}

	const unmount = () => exec([...lkl, 'unmount', '--timeout', String(Math.ceil(limitMs / 1000)), mnt], { limitMs: limitMs + 5000, stacks: false });
	let u = await unmount();
	if (u.status === 1 && /resource busy/.test(u.stderr)) {
		// The host still held the mount just after the last reader ended:
		// a failure of its own kind if it lets go a moment later.
		await sleep(1000);
		const again = await unmount();
		if (again.status === 0) {
			fail('unmount', { kind: 'busy', detail: `${u.stderr.trim()}; a second later it worked` });
			u = again;
		}
	}
	const fu = judge(u);
	if (fu || u.status !== 0) {
		fail('unmount', { kind: fu?.kind === 'hang' ? 'hang' : 'unmount', detail: fu?.detail ?? u.stderr.trim(), stderr: u.stderr.slice(0, 2000) });
		// The server serves on, or waits, because the unmount failed:
		// stopped, not blamed a second time.
		const { stacks } = await stop(server, mnt, { stacks: true });
		failures.at(-1).stacks = stacks;
		return { failures, mounted: true, walk: counts };
	}
	const r = (await Promise.race([server, sleep(limitMs).then(() => undefined)])) ??
		{ ...(await stop(server, mnt, { stacks: true })), timedOut: true };
	// Status 0 after its unmount, and nothing said.
	const f = judge(r, speakers) ?? (r.status !== 0 || r.stderr ? { kind: 'message', detail: `ended with ${r.status} after lkl unmount` } : undefined);
	if (f)
		fail('lklfuse', { ...f, status: r.status, signal: r.signal, stderr: r.stderr.slice(0, 2000), stacks: r.stacks });
	return { failures, mounted: true, walk: counts };
}

/**
 * A mount that failed in the foreground, made again as users mostly make
 * it (lklfuse without -f, the server left in the background): it must
 * fail too, in lkl's own one line.
 */
async function backgroundFailure(lkl, image, mnt, limitMs, fail) {
	const r = await exec([...lkl, 'lklfuse', '-o', 'ro', image, mnt], { limitMs });
	if (r.status === 0) {
		await exec([...lkl, 'unmount', mnt], { limitMs, stacks: false });
		fail('lklfuse', { kind: 'message', detail: 'mounted without -f, though it failed with -f' });
		return;
	}
	await forceUnmount(mnt);
	const f = judge(r);
	if (f)
		fail('lklfuse', { ...f, detail: `without -f: ${f.detail}`, status: r.status, signal: r.signal, stderr: r.stderr.slice(0, 2000), stacks: r.stacks });
}

/**
 * Kills a server still running, first asking gdb where it waits if
 * `stacks` (for a hang), and clears its mount; resolves to its result
 * and those stacks.
 */
async function stop(server, mnt, { stacks = false } = {}) {
	const done = await Promise.race([server, sleep(0).then(() => undefined)]);
	let where;
	if (!done) {
		if (stacks)
			where = stacksOf(server.pgid);
		killGroup(server.pgid);
	}
	const result = await server;
	await forceUnmount(mnt);
	return { ...result, stacks: where ?? result.stacks };
}

/**
 * Lays out a case directory around the damaged image at `dir`/image.img:
 * bait files, the directory the commands run in, the small tree cptofs
 * copies, the mount point, and jail/ that will hold cpfromfs's
 * destination (symlinks in the image climb out of it into `dir`).
 * `kind`: the filesystem, for what the small tree can hold.
 */
export function layOut(dir, kind) {
	for (const d of ['bait/dir', 'cwd', 'jail', 'mnt', 'small/sub'])
		fs.mkdirSync(join(dir, d), { recursive: true });
	fs.writeFileSync(join(dir, 'bait/file'), 'bait\n');
	fs.writeFileSync(join(dir, 'bait/dir/file'), 'bait in a directory\n');
	fs.writeFileSync(join(dir, 'small/new-file'), 'written into a damaged image\n');
	fs.writeFileSync(join(dir, 'small/sub/second'), Buffer.alloc(20000, 0x42));
	if (kind !== 'vfat')
		fs.symlinkSync('new-file', join(dir, 'small/link'));
}

/**
 * Runs the five commands on `dir`/image.img (laid out by layOut) with
 * `lkl` (an argv prefix) and a time limit of `limitMs` per command.
 * Resolves to { failures: [{ command, kind, detail }], outcomes: {
 * command: 'ok' | 'failed' | 'bad' }, said: { command: its stderr } }
 * (the copy commands').
 */
export async function runCase(dir, lkl, limitMs) {
	const image = join(dir, 'image.img');
	const failures = [];
	const outcomes = {};
	const said = {};
	const outputs = new Set(['image.img', 'out.tar', 'copy.img', 'kernel.log', 'jail/dest']);
	let before = snapshot(dir, outputs);
	// Kept whole, to compare byte for byte: as strong as a hash, and faster.
	let original = fs.readFileSync(image);
	const opts = { cwd: join(dir, 'cwd'), limitMs };

	const note = (command, r) => {
		const f = judge(r);
		outcomes[command] = f ? 'bad' : r.status === 0 ? 'ok' : 'failed';
		said[command] = r.stderr;
		if (f)
			failures.push({ command, ...f, status: r.status, signal: r.signal, stderr: r.stderr.slice(0, 2000), stacks: r.stacks });
	};
	// Each change is blamed on the command that made it, and only on it.
	const unchanged = (command) => {
		if (!sameBytes(image, original)) {
			failures.push({ command, kind: 'changed', detail: 'the image\'s bytes changed' });
			original = fs.readFileSync(image);
		}
	};
	const contained = (command) => {
		const after = snapshot(dir, outputs);
		const diff = differences(before, after);
		if (fs.existsSync(ESCAPE_SENTINEL) || isLink(ESCAPE_SENTINEL)) {
			diff.push(`new: ${ESCAPE_SENTINEL}`);
			fs.rmSync(ESCAPE_SENTINEL, { recursive: true, force: true });
		}
		if (diff.length)
			failures.push({ command, kind: 'escape', detail: diff.slice(0, 10).join(', ') });
		before = after;
	};

	const tar = await exec([...lkl, 'fs2tar', image, join(dir, 'out.tar')], opts);
	note('fs2tar', tar);
	if (tar.status === 0 && !tar.timedOut) {
		const list = await exec(['tar', '-tf', join(dir, 'out.tar')], { limitMs });
		if (list.status !== 0)
			failures.push({ command: 'fs2tar', kind: 'tar', detail: list.stderr.split('\n')[0] });
	}
	unchanged('fs2tar');
	contained('fs2tar');
	fs.rmSync(join(dir, 'out.tar'), { force: true });

	const info = await exec([...lkl, 'info', image], opts);
	note('info', info);
	unchanged('info');
	contained('info');

	const cp = await exec([...lkl, 'cpfromfs', '-i', image, '/.', join(dir, 'jail/dest')], opts);
	note('cpfromfs', cp);
	unchanged('cpfromfs');
	contained('cpfromfs');
	fs.rmSync(join(dir, 'jail/dest'), { recursive: true, force: true });

	const fuse = await fuseWalk(lkl, image, join(dir, 'mnt'), join(dir, 'kernel.log'), limitMs);
	failures.push(...fuse.failures);
	outcomes.lklfuse = fuse.failures.length ? 'bad' : fuse.mounted ? 'ok' : 'failed';
	unchanged('lklfuse');
	contained('lklfuse');

	fs.copyFileSync(image, join(dir, 'copy.img'));
	const put = await exec([...lkl, 'cptofs', '-i', join(dir, 'copy.img'), join(dir, 'small'), '/'], opts);
	note('cptofs', put);
	contained('cptofs');
	fs.rmSync(join(dir, 'copy.img'), { force: true });

	return { failures, outcomes, said };
}
