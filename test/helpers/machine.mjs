// What a test changes on the machine outside its own temporary
// directories (users and their groups, files in /etc, a device's mode),
// and those temporary directories themselves.  Each change is undone when
// the test that made it ends, whether it passed, failed or threw; if tap
// kills the file on a timeout before its teardowns have run, on the way
// out instead.  An undo never throws: one that fails says so on stderr and
// fails the file, and the others still run (tap drops the teardowns left
// once one throws).  Nothing here looks at what an earlier run left
// behind: a user or a file is the test's own, made fresh.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

// tap's own way of running code as the process ends, on a signal too (its
// timeout ends a file with SIGALRM, when async teardowns may not have
// finished); process 'exit' where it cannot be loaded.
let onExit = (fn) => process.on('exit', fn);
try {
	({ onExit } = await import('signal-exit'));
} catch {}

const PATH = `${process.env.PATH}:/usr/sbin:/sbin`;
const undos = [];
let hooked = false;

/** Says on stderr what could not be put back, and fails the file. */
function leftover(message) {
	process.stderr.write(`lkl test: left behind: ${message}\n`);
	process.exitCode = 1;
}

function runUndo(u) {
	if (u.done)
		return;
	u.done = true;
	try {
		u.fn();
	} catch (e) {
		leftover(`${u.what}: ${e.message}`);
	}
}

/**
 * Runs `fn` (synchronous, so that it also runs on the way out of a killed
 * file) once: when the test `t` ends, or when the process does if that
 * comes first.  On the way out, the undos run last made first, `late`
 * ones (temporary directories) after all the others.
 */
export function undoAtEnd(t, what, fn, { late = false } = {}) {
	if (!hooked) {
		hooked = true;
		onExit(() => {
			for (const pass of [false, true]) {
				for (const u of [...undos].reverse()) {
					if (u.late === pass)
						runUndo(u);
				}
			}
		});
	}
	const u = { what, fn, late, done: false };
	undos.push(u);
	t.teardown(() => runUndo(u));
}

function tool(cmd, args) {
	const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH } });
	return { status: r.status ?? -1, output: `${r.error ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function sleep(ms) {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// useradd, userdel and groupdel fail at once while another of them (from
// the test file running beside this one) holds the lock of /etc/passwd or
// /etc/group: try again, for up to a minute.
const LOCKED = /cannot lock|try again later/i;

function shadowTool(cmd, args) {
	for (const end = Date.now() + 60_000; ;) {
		const r = tool(cmd, args);
		if (r.status === 0 || !LOCKED.test(r.output) || Date.now() > end)
			return r;
		sleep(50 + Math.random() * 200);
	}
}

/** The line of `getent DB KEY`, or undefined. */
function entry(db, key) {
	const r = tool('getent', [db, key]);
	return r.status === 0 ? r.output : undefined;
}

/** The processes whose real user id is `uid`. */
function processesOf(uid) {
	const pids = [];
	for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
		try {
			const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
			if (m && Number(m[1]) === uid)
				pids.push(Number(pid));
		} catch {}
	}
	return pids;
}

function removeUser({ name, uid, ownGroup, spool }) {
	for (let tries = 0; ; tries++) {
		const r = shadowTool('userdel', [name]);
		if (r.status === 0 || r.status === 6) // 6: already gone
			break;
		// 8: a process of the user still runs (a server a failed test left):
		// the user was made for this test, so all its processes are the test's.
		if (r.status !== 8 || tries >= 50)
			throw new Error(`userdel ${name}: status ${r.status}: ${r.output}`);
		for (const pid of processesOf(uid)) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {}
		}
		sleep(100);
	}
	if (ownGroup && entry('group', name)) {
		const g = shadowTool('groupdel', [name]);
		if (g.status !== 0)
			throw new Error(`groupdel ${name}: status ${g.status}: ${g.output}`);
	}
	if (spool)
		fs.rmSync(spool, { force: true });
	if (entry('passwd', name) || (ownGroup && entry('group', name)))
		throw new Error(`${name} is still in /etc/passwd or /etc/group`);
}

// Test users' ids come from this process's pid, not from useradd's next
// free system id: two runs at once on one machine (a fresh-root check in
// a chroot beside a run on the host, with /dev shared) would otherwise
// both get 999, and one's ACL entry on /dev/fuse would be the other's.
// Below 2097151, which ustar headers still hold.
let usersMade = 0;
function freeId() {
	const first = 300000 + (process.pid % 200000) * 8 + (usersMade++ % 8);
	for (let id = first; id < first + 64; id++) {
		if (!entry('passwd', String(id)) && !entry('group', String(id)))
			return id;
	}
	throw new Error(`no free test user id from ${first}`);
}

/**
 * A user for the test `t` alone, removed when it ends: "BASE-PID", with
 * this process's id, so that no other test file (nor a run of the same
 * file beside this one) ever uses or removes it.  A system user (its ids
 * below 1000, away from the ids the test trees name, and no subordinate
 * ids), its own group, no home, no login shell, no mail spool; the comment
 * field says which test made it.  Removed with its group (and a mail
 * spool, had useradd made one) when `t` ends; a user of that name that
 * was there already is used and left alone.  Needs root.  { name, uid, gid }.
 */
export function testUser(t, base) {
	if (typeof t?.teardown !== 'function')
		throw new TypeError('testUser(t, base): t is the test whose end removes the user');
	const name = `${base}-${process.pid}`;
	if (!/^[a-z][a-z0-9-]*$/.test(name) || name.length > 32)
		throw new Error(`${name}: not a user name useradd takes`);
	if (!entry('passwd', name)) {
		const groupThere = Boolean(entry('group', name));
		const spool = ['/var/mail', '/var/spool/mail'].map((d) => join(d, name)).filter((p) => !fs.existsSync(p));
		const id = freeId();
		if (!groupThere) {
			const g = shadowTool('groupadd', ['--system', '--gid', String(id), name]);
			if (g.status !== 0)
				throw new Error(`groupadd ${name}: status ${g.status}: ${g.output}`);
		}
		const r = shadowTool('useradd', [
			'--system', '--uid', String(id), '--no-user-group', '--gid', name, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin',
			'--comment', `lkl test user (${basename(process.argv[1] ?? 'test')}, pid ${process.pid})`,
			name,
		]);
		if (r.status !== 0 && !groupThere)
			shadowTool('groupdel', [name]);
		// 9: the name was taken meanwhile, by someone else: theirs to remove.
		if (r.status !== 0 && r.status !== 9)
			throw new Error(`useradd ${name}: status ${r.status}: ${r.output}`);
		if (r.status === 0) {
			const uid = Number(tool('id', ['-u', name]).output);
			undoAtEnd(t, `user ${name}`, () => removeUser({
				name, uid, ownGroup: !groupThere, spool: spool.find((p) => fs.existsSync(p)),
			}));
		}
	}
	const id = (flag) => {
		const r = tool('id', [flag, name]);
		if (r.status !== 0)
			throw new Error(`id ${flag} ${name}: ${r.output}`);
		return Number(r.output);
	};
	return { name, uid: id('-u'), gid: id('-g') };
}

/**
 * Puts the file at `path` back as it is now (contents, mode, owner; or
 * not there) when `t` ends.  For files the test alone changes: another
 * test changing it meanwhile would be overwritten.
 */
export function restoreFileAtEnd(t, path) {
	let saved;
	try {
		const st = fs.statSync(path);
		saved = { data: fs.readFileSync(path), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
	} catch (e) {
		if (e.code !== 'ENOENT')
			throw e;
	}
	undoAtEnd(t, path, () => {
		if (!saved) {
			fs.rmSync(path, { force: true });
			return;
		}
		let now;
		try {
			now = fs.readFileSync(path);
		} catch {}
		if (!now?.equals(saved.data))
			fs.writeFileSync(path, saved.data);
		const st = fs.statSync(path);
		if ((st.mode & 0o7777) !== saved.mode)
			fs.chmodSync(path, saved.mode);
		if (st.uid !== saved.uid || st.gid !== saved.gid)
			fs.chownSync(path, saved.uid, saved.gid);
	});
}

/**
 * Lets the user `uid` read and write `path` (/dev/fuse, as udev's 0666
 * does on Debian and a container may not) through an ACL entry of its
 * own, until `t` ends.  The mode stays: no other user gains anything, and
 * another test granting its own user the same way (test/install) is not
 * undone by this one, as restoring a saved mode would.  Nothing is done
 * if every user may already.  When the entry goes and no other named
 * entry is left, so does the ACL.
 */
export function grantAccess(t, path, uid) {
	if ((fs.statSync(path).mode & 0o006) === 0o006)
		return;
	// Under a lock on the file itself (flock(1)), which a chroot sharing
	// /dev shares too: between one test's look at the ACL and its
	// setfacl -b, another's new entry would be wiped.
	const r = tool('flock', [path, 'setfacl', '-m', `u:${uid}:rw`, path]);
	if (r.status !== 0)
		throw new Error(`setfacl -m u:${uid}:rw ${path}: ${r.output}`);
	undoAtEnd(t, `the ACL entry of user ${uid} on ${path}`, () => {
		const x = tool('flock', [path, 'sh', '-ec',
			'setfacl -x "u:$1" "$2"; getfacl -cp -n "$2" | grep -Eq "^(user|group):[^:]+:" || setfacl -b "$2"',
			'sh', String(uid), path]);
		if (x.status !== 0)
			throw new Error(`setfacl -x u:${uid} ${path}: ${x.output}`);
	});
}

// Mount points in /proc/self/mountinfo escape space, tab, newline and
// backslash as \ooo.
const unescapeMount = (s) => s.replace(/\\([0-7]{3})/g, (_m, o) => String.fromCharCode(parseInt(o, 8)));

/** What is mounted at or under `dir`, deepest first: [{ mnt, type }]. */
export function mountsUnder(dir) {
	const out = [];
	for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
		const f = line.split(' ');
		if (f.length < 10)
			continue;
		const mnt = unescapeMount(f[4]);
		if (mnt === dir || mnt.startsWith(`${dir}/`))
			out.push({ mnt, type: f[f.indexOf('-', 6) + 1] });
	}
	return out.sort((a, b) => b.mnt.length - a.mnt.length);
}

/**
 * Removes `dir` and all below it, never through a mount: what a failed
 * test left mounted there is unmounted lazily first (said on stderr).
 */
export function removeTree(dir) {
	const mounts = mountsUnder(dir);
	for (const { mnt, type } of mounts) {
		if (/^fuse/.test(type) && tool('fusermount3', ['-u', '-z', mnt]).status === 0)
			continue;
		const r = tool('umount', ['-l', mnt]);
		if (r.status !== 0)
			throw new Error(`umount -l ${mnt}: ${r.output}`);
	}
	if (mounts.length)
		process.stderr.write(`lkl test: unmounted what was left mounted in ${dir}: ${mounts.map((m) => m.mnt).join(' ')}\n`);
	fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * A fresh temporary directory (under `parent`, $TMPDIR or /tmp by
 * default), removed when the test `t` ends, even when a mount was left
 * in it.
 */
export function tempDir(t, prefix = 'lkl-test-', parent = tmpdir()) {
	const dir = fs.realpathSync(fs.mkdtempSync(join(parent, prefix)));
	undoAtEnd(t, dir, () => removeTree(dir), { late: true });
	return dir;
}

/** Every directory from / down to `path` lets other users through. */
function reachableByAll(path) {
	for (let p = path; ; p = dirname(p)) {
		if ((fs.statSync(p).mode & 0o001) === 0)
			return false;
		if (p === '/')
			return true;
	}
}

/**
 * The repository where the tests' other users can run it: `repo` itself
 * when they can reach it, else `repo` bind-mounted read-only in a new
 * temporary directory until `t` ends.  A clone in root's home (/root is
 * 0700), as root makes one on a fresh machine, is out of their reach.
 */
export function repoForUsers(t, repo) {
	if (reachableByAll(repo) && (fs.statSync(repo).mode & 0o005) === 0o005)
		return repo;
	const dir = tempDir(t, 'lkl-repo-');
	fs.chmodSync(dir, 0o755);
	const at = join(dir, 'lkl');
	fs.mkdirSync(at);
	for (const args of [['--bind', repo, at], ['-o', 'remount,bind,ro', at]]) {
		const r = tool('mount', args);
		if (r.status !== 0)
			throw new Error(`mount ${args.join(' ')}: ${r.output}`);
	}
	undoAtEnd(t, `the bind mount of ${repo} on ${at}`, () => {
		const r = tool('umount', [at]);
		if (r.status !== 0 && tool('umount', ['-l', at]).status !== 0)
			throw new Error(`umount ${at}: ${r.output}`);
	});
	return at;
}
