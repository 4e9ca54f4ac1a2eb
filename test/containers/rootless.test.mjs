// SPDX-License-Identifier: GPL-2.0
//
// Rootless podman, as a CI runner or a developer without root runs it: an
// ordinary user made for this test, with a range of subordinate ids
// (/etc/subuid, /etc/subgid) for its user namespace, its own image store,
// the images imported from scripts/container-image.sh's tarballs and lkl
// installed from its npm package, as in the other files.  Root in the
// container is that user outside.
//
// The copy commands work.  lklfuse works with --device /dev/fuse (the
// user must be able to open it on the host: udev's 0666, here an ACL
// entry) and --cap-add SYS_ADMIN (the capability of the container's user
// namespace, enough for the kernel to let it mount FUSE); without the
// capability it says so.  Where this machine does not let the user make
// a user namespace, the test is skipped with what podman said.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { emptyImage, lklOk, loopMount, rulesFor, same, sha256File, treeView } from '../helpers/cli.mjs';
import { grantAccess, restoreFileAtEnd, tempDir, testUser, undoAtEnd } from '../helpers/machine.mjs';
import { fsck, makeTree, run } from '../helpers/tree.mjs';
import { FUSE_FLAGS, RUN_FLAGS, clean, images, noPodman, npmImage, podman, removeContainerAtEnd, uniqueName } from './podman.mjs';

const skip = noPodman();
if (skip) {
	t.plan(0, skip);
	process.exit();
}

t.setTimeout(1_200_000);
process.umask(0o022);

const { fuseTar } = images();

// The user, its subordinate ids (a range of its own: the pid picks it),
// a home and a runtime directory.
const user = testUser(t, 'lklrl');
restoreFileAtEnd(t, '/etc/subuid');
restoreFileAtEnd(t, '/etc/subgid');
const first = 200_000_000 + (process.pid % 1000) * 65536;
run('usermod', ['--add-subuids', `${first}-${first + 65535}`, '--add-subgids', `${first}-${first + 65535}`, user.name]);
const top = tempDir(t, 'lkl-ct-rootless-');
fs.chmodSync(top, 0o755);
const home = join(top, 'home');
const runtime = join(top, 'run');
const dir = join(top, 'w');
for (const d of [home, runtime, dir]) {
	fs.mkdirSync(d, { mode: 0o700 });
	fs.chownSync(d, user.uid, user.gid);
}
// Overlay, which this kernel does in a user namespace (podman 4.3 would
// take vfs, a full copy of the image per container).
fs.mkdirSync(join(home, '.config/containers'), { recursive: true });
fs.writeFileSync(join(home, '.config/containers/storage.conf'), '[storage]\ndriver = "overlay"\n');
run('chown', ['-R', `${user.uid}:${user.gid}`, join(home, '.config')]);

const runner = {
	user: user.name,
	env: {
		PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: runtime,
		USER: user.name, LOGNAME: user.name, LANG: 'C.UTF-8',
	},
	cwd: home,
};
// Everything the user's podman made (containers, images, its pause
// process, the store), before the user goes.
undoAtEnd(t, `${user.name}'s podman store`, () => {
	podman(['system', 'reset', '--force'], { ...runner, timeout: 300_000 });
});

/** podman as the user; drops the warning every rootless command gives here. */
const quiet = (r) => ({ ...r, stderr: r.stderr.replace(/^time=.*level=warning msg="\\"\/\\" is not a shared mount.*\n/gm, '') });

const fuseRef = `localhost/${uniqueName('rootless-fuse')}`;
const fd = fs.openSync(fuseTar, 'r');
const imported = podman(['import', '--quiet', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
	'-', fuseRef], { ...runner, stdin: fd, timeout: 600_000 });
fs.closeSync(fd);
const probe = imported.status === 0
	? podman(['run', ...RUN_FLAGS, '--rm', fuseRef, 'true'], runner) : imported;
if (probe.status !== 0) {
	t.skip(`rootless podman does not run here: ${quiet(probe).stderr.trim() || probe.error}`);
} else {
	const lklNpm = npmImage(t, fuseRef, runner);
	const VOLUME = ['-v', `${dir}:/w`];
	const runIn = (t, flags, cmd) => {
		const name = uniqueName('rootless');
		removeContainerAtEnd(t, name, runner);
		return quiet(podman(['run', ...RUN_FLAGS, '--name', name, ...flags, lklNpm, ...cmd], runner));
	};

	t.test('the copy commands', async (t) => {
		const tree = join(dir, 'tree');
		makeTree(tree, 'full');
		run('chown', ['-R', '-h', `${user.uid}:${user.gid}`, tree]);
		const full = emptyImage('ext4', join(dir, 'full.img'));
		// Owned by ids the container maps (as images usually hold: below
		// 65536), so that root in it gives them away; the test user's own
		// id is not one of them.
		lklOk(['cptofs', '-o', '1000', '-g', '1000', '-i', full, `${tree}/.`, '/']);
		const img = emptyImage('ext4', join(dir, 'copy.img'));
		for (const f of [full, img])
			fs.chownSync(f, user.uid, user.gid);
		const r = runIn(t, VOLUME, ['sh', '-c', 'set -e; cat /proc/self/uid_map | tr -s " " | tr "\\n" ";"; echo; ' +
			'lkl cptofs -i /w/copy.img /w/tree/. /; lkl fs2tar /w/full.img /w/full.tar; lkl cpfromfs -i /w/full.img /dir /w/out-dir']);
		clean(t, r, 'cptofs, fs2tar, cpfromfs');
		t.equal(r.stdout, ` 0 ${user.uid} 1; 1 ${first} 65536;\n`, 'root in the container is the user outside');
		const check = fsck('ext4', img);
		t.ok(check.ok, `cptofs: e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
		// The user's files are root's in the container, and so in the image.
		const copied = treeView(loopMount(t, img, top, 'loop-copy'));
		same(t, treeView(tree), copied,
			rulesFor('ext4', { extra: (_p, field) => field === 'uid' || field === 'gid' }), 'cptofs: the host kernel\'s view, owners aside');
		t.same([...copied].filter(([p, e]) => p !== '/' && (e.uid !== 0 || e.gid !== 0)).map(([p]) => p), [],
			'owned by root: the user\'s files are root\'s in the container');
		lklOk(['fs2tar', full, join(dir, 'host.tar')]);
		t.equal(sha256File(join(dir, 'full.tar')), sha256File(join(dir, 'host.tar')), 'fs2tar: the archive the host makes');
		t.equal(fs.readFileSync(join(dir, 'out-dir/sub/deeper/leaf.txt'), 'utf8'), 'the leaf\n', 'cpfromfs: a directory');
	});

	t.test('lklfuse', async (t) => {
		grantAccess(t, '/dev/fuse', user.uid);
		const img = emptyImage('ext4', join(dir, 'fuse.img'));
		fs.chownSync(img, user.uid, user.gid);

		t.test('--device /dev/fuse --cap-add SYS_ADMIN: read, write, lkl unmount', async (t) => {
			const r = runIn(t, [...FUSE_FLAGS, ...VOLUME], ['sh', '-c', 'set -e; mkdir /mnt/i; lkl lklfuse /w/fuse.img /mnt/i; ' +
				'echo rootless > /mnt/i/r.txt; cat /mnt/i/r.txt; lkl unmount /mnt/i; echo unmounted']);
			clean(t, r, 'mount, write, read, lkl unmount');
			t.equal(r.stdout, 'rootless\nunmounted\n', 'read back, and lkl unmount returns');
			const check = fsck('ext4', img);
			t.ok(check.ok, `e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
			t.equal(fs.readFileSync(join(loopMount(t, img, top, 'loop-fuse'), 'r.txt'), 'utf8'), 'rootless\n', 'the host kernel reads it');
		});

		t.test('--device /dev/fuse alone: not permitted', async (t) => {
			const r = runIn(t, ['--device', '/dev/fuse', ...VOLUME], ['sh', '-c', 'mkdir /mnt/i; lkl lklfuse /w/fuse.img /mnt/i']);
			t.equal(r.status, 1, 'exits 1');
			t.equal(r.stderr, 'lkl: cannot mount /w/fuse.img on /mnt/i: mounting is not permitted here\n' +
				'lkl: a container needs --cap-add SYS_ADMIN besides --device /dev/fuse, and a host a setuid fusermount3 ' +
				'(from the fuse3 package); lkl fs2tar, cptofs and cpfromfs need none of this\n', 'the cause and the advice');
		});
	});
}
