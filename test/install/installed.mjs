// SPDX-License-Identifier: GPL-2.0
//
// Helpers for the install tests: lkl as a user gets it (the packed npm
// package, or the single-file executable), run by an ordinary user whose
// PATH holds no compiler, make or python3, then put through what users do
// with it: fs2tar of an image, cptofs into one, and an lklfuse mount with
// a read and a write.  The oracles are the usual ones: the source tree
// compared field by field (python3's view, as root), e2fsck, and the host
// kernel's loop mount.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fsck, makeTree, run } from '../helpers/tree.mjs';
import { grantAccess, tempDir, testUser } from '../helpers/machine.mjs';
import {
	REPO, emptyImage, gnuExtract, lklOk, loopMount, makeFullTree, rulesFor, same, treeView,
} from '../helpers/cli.mjs';

export { REPO };

/**
 * A user for this test file alone (test/helpers/machine.mjs: removed with
 * its group when `t` ends), with a home of its own under `dir` for npm's
 * cache and the executable's, and read-write access to /dev/fuse through
 * an ACL entry of its own, also gone when `t` ends.
 */
export function freshUser(t, base, dir) {
	const user = testUser(t, base);
	const home = join(dir, 'home');
	fs.mkdirSync(home);
	fs.chownSync(home, user.uid, user.gid);
	grantAccess(t, '/dev/fuse', user.uid);
	return { ...user, home };
}

/**
 * A directory of links to `tools` only, to be a user's whole PATH: what
 * the tests run can find nothing else (no gcc, cc, make or python3).
 */
export function toolDir(dir, tools) {
	const bin = join(dir, 'bin');
	fs.mkdirSync(bin);
	for (const tool of tools) {
		const found = run('sh', ['-c', `command -v ${tool}`]).trim();
		fs.symlinkSync(found, join(bin, tool));
	}
	fs.chmodSync(dir, 0o755);
	return bin;
}

/**
 * Runs `cmd args` as `user` with nothing of our environment: PATH is
 * `path` alone, HOME the user's.  Returns spawnSync's result, as text.
 */
export function runAs(user, path, cmd, args, { cwd, env = {}, timeout = 120_000 } = {}) {
	return spawnSync('runuser', ['-u', user.name, '--', 'env', '-i', `PATH=${path}`, `HOME=${user.home}`,
		`USER=${user.name}`, `LOGNAME=${user.name}`, 'LANG=C.UTF-8', ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
		cmd, ...args], { cwd, encoding: 'utf8', timeout, killSignal: 'SIGKILL', maxBuffer: 1 << 28 });
}

/** Asserts the PATH `bin` finds none of the build tools. */
export function assertNoCompilers(t, bin) {
	for (const tool of ['gcc', 'cc', 'c++', 'make', 'python3'])
		t.not(spawnSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: bin } }).status, 0, `${tool} is not on the PATH`);
}

/** Asserts a command's result: exit 0 and nothing on stderr. */
export function clean(t, r, what) {
	t.equal(r.status, 0, `${what} exits 0${r.status === 0 ? '' : ` (${r.status ?? r.signal}): ${r.error ?? ''}${r.stderr}`}`);
	t.equal(r.stderr, '', `${what} prints nothing on stderr`);
}

/**
 * What a user does with lkl, through `lkl(args, options)` (which runs
 * it as `user`): fs2tar of an ext4 image holding the full tree, cptofs of
 * the user's own tree into an empty image, and an lklfuse mount of that
 * image with a read and a write, unmounted with lkl unmount.
 */
export function useLkl(t, { dir, user, lkl }) {
	t.test('fs2tar of an ext4 image: the archive holds the source tree', async (t) => {
		const tree = makeFullTree(join(dir, 'full-tree'));
		const img = emptyImage('ext4', join(dir, 'full.img'));
		lklOk(['cptofs', '-i', img, `${tree}/.`, '/']);
		fs.chmodSync(img, 0o644);
		const archive = join(dir, 'work', 'full.tar');
		clean(t, lkl(['fs2tar', img, archive]), 'lkl fs2tar');
		same(t, treeView(tree), treeView(gnuExtract(archive, join(dir, 'extracted'))), rulesFor('ext4'), 'extracted');
	});

	t.test('cptofs of the user\'s tree into an empty image', async (t) => {
		const tree = join(dir, 'work', 'tree');
		makeTree(tree, 'full');
		run('chown', ['-R', '-h', `${user.uid}:${user.gid}`, tree]);
		const img = emptyImage('ext4', join(dir, 'work', 'copy.img'));
		fs.chownSync(img, user.uid, user.gid);
		clean(t, lkl(['cptofs', '-i', img, `${tree}/.`, '/']), 'lkl cptofs');
		const check = fsck('ext4', img);
		t.ok(check.ok, `e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
		same(t, treeView(tree), treeView(loopMount(t, img, dir, 'loop-copy')), rulesFor('ext4'), 'the host kernel\'s view');
	});

	t.test('lklfuse: a read and a write through the mount, then lkl unmount', async (t) => {
		const img = join(dir, 'work', 'copy.img');
		const mnt = join(dir, 'work', 'mnt');
		fs.mkdirSync(mnt);
		fs.chownSync(mnt, user.uid, user.gid);
		t.teardown(() => spawnSync('umount', ['-l', mnt]));
		clean(t, lkl(['lklfuse', img, mnt]), 'lkl lklfuse');
		const cat = runAs(user, '/usr/bin:/bin', 'cat', [join(mnt, 'hello.txt')]);
		t.equal(cat.stdout, 'Hello, world!\n', 'a file read through the mount');
		const written = 'written through lklfuse\n';
		const w = runAs(user, '/usr/bin:/bin', 'sh', ['-c', 'printf "%s" "$1" > "$2"', 'sh', written, join(mnt, 'new.txt')]);
		t.equal(w.status, 0, `a file written through the mount${w.status ? `: ${w.stderr}` : ''}`);
		clean(t, lkl(['unmount', mnt]), 'lkl unmount');
		const check = fsck('ext4', img);
		t.ok(check.ok, `e2fsck finds nothing wrong after the unmount${check.ok ? '' : `\n${check.output}`}`);
		const loop = loopMount(t, img, dir, 'loop-after-fuse');
		t.equal(fs.readFileSync(join(loop, 'new.txt'), 'utf8'), written, 'the host kernel reads the written file');
	});
}

export { tempDir, run };
