// SPDX-License-Identifier: GPL-2.0
//
// lkl as one downloaded file (build/sea/lkl-linux-x64, made by
// scripts/build-sea.mjs): copied alone into an empty directory and run by
// an ordinary user with no node (and no compiler) on PATH.  It unpacks its
// addon and server to the user's cache once, and then does what users do:
// fs2tar, cptofs, and an lklfuse mount with a read and a write.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
	REPO, assertNoCompilers, clean, freshUser, runAs, tempDir, toolDir, useLkl,
} from './installed.mjs';

t.setTimeout(600_000);
process.umask(0o022);

const dir = tempDir(t, 'lkl-sea-');
fs.chmodSync(dir, 0o755);
const user = freshUser(t, 'lkl-sea', dir);
// fusermount3 only: lklfuse needs it, and nothing else may be found.
const bin = toolDir(dir, ['fusermount3']);
const only = join(dir, 'only');
const work = join(dir, 'work');
for (const d of [only, work]) {
	fs.mkdirSync(d);
	fs.chownSync(d, user.uid, user.gid);
}
const exe = join(only, 'lkl');
fs.copyFileSync(join(REPO, 'build', 'sea', `lkl-linux-${process.arch}`), exe);
fs.chmodSync(exe, 0o755);

t.test('runs from a directory holding only it, with no node on PATH', async (t) => {
	assertNoCompilers(t, bin);
	t.not(runAs(user, bin, '/bin/sh', ['-c', 'command -v node']).status, 0, 'node is not on the PATH');
	t.same(fs.readdirSync(only), ['lkl'], 'the directory holds the executable alone');
	const r = runAs(user, bin, exe, ['--version'], { cwd: only });
	clean(t, r, 'lkl --version');
	t.equal(r.stdout.trim(), JSON.parse(fs.readFileSync(join(REPO, 'package.json'), 'utf8')).version, 'prints the version');
	const help = runAs(user, bin, exe, ['--help'], { cwd: only });
	t.match(help.stdout, /fs2tar[\s\S]*cptofs[\s\S]*lklfuse/, 'and its help');
});

t.test('unpacks its native files to the user\'s cache once', async (t) => {
	const cache = join(user.home, '.cache', 'lkl', 'bin');
	const [hash] = fs.readdirSync(cache).filter((n) => !n.startsWith('.'));
	t.ok(hash, `one directory in ${cache}`);
	const addon = join(cache, hash, 'lkl.node');
	const server = fs.statSync(join(cache, hash, 'lklfuse-server'));
	t.equal(server.mode & 0o777, 0o755, 'the server is executable');
	t.equal(server.uid, user.uid, 'and the user\'s');
	const before = fs.statSync(addon).mtimeMs;
	clean(t, runAs(user, bin, exe, ['fs2tar', '--help'], { cwd: only }), 'a second run');
	t.equal(fs.statSync(addon).mtimeMs, before, 'reuses what the first unpacked');
	t.same(fs.readdirSync(cache), [hash], 'and leaves nothing else');
});

t.test('with a read-only home, it unpacks to a private directory under TMPDIR', async (t) => {
	const tmp = join(dir, 'tmp');
	fs.mkdirSync(tmp, { mode: 0o1777 });
	fs.chmodSync(tmp, 0o1777);
	const r = runAs(user, bin, exe, ['fs2tar', '--help'], { cwd: only, env: { HOME: '/nonexistent', TMPDIR: tmp } });
	clean(t, r, 'lkl fs2tar --help');
	const mine = fs.statSync(join(tmp, `lkl-${user.uid}`));
	t.equal(mine.mode & 0o777, 0o700, 'in a directory only the user can enter');
});

t.test('what users do, through the executable', async (t) => {
	useLkl(t, { dir, user, lkl: (args) => runAs(user, bin, exe, args, { cwd: work }) });
});
