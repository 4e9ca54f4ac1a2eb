// SPDX-License-Identifier: GPL-2.0
//
// lklfuse for a user other than root, on filesystems whose files have no
// owner of their own: exFAT's files, and NTFS files that no Linux made
// (native/fuse/lifecycle.c's ownerless()), are the user's, as vfat's
// are, so that with default_permissions the user can write them; an NTFS
// file that Linux made keeps the owner it was given.  The user, made
// here, is removed when the test ends, with the ACL on /dev/fuse.
import t from 'tap';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { lkl, ok } from '../helpers/cli.mjs';
import { grantAccess, repoForUsers, tempDir } from '../helpers/machine.mjs';
import { run } from '../helpers/tree.mjs';
import {
	ROOT, cannotRun, cleanUp, ensureUser, mountLine, released, runAs,
} from '../fuse/server.mjs';

t.setTimeout(300_000);

async function main() {
	const REPO = repoForUsers(t, ROOT);
	const user = ensureUser(t, 'lkl-owners');
	grantAccess(t, '/dev/fuse', user.uid);
	const dir = tempDir(t, 'lkl-fs-owners-', '/tmp');
	fs.chmodSync(dir, 0o755);
	const mnt = join(dir, 'mnt');
	fs.mkdirSync(mnt);
	fs.chownSync(mnt, user.uid, user.gid);
	const src = join(dir, 'src');
	fs.mkdirSync(src);
	fs.writeFileSync(join(src, 'plain.txt'), 'made by root\n');
	fs.writeFileSync(join(src, 'linux.txt'), 'made by lkl\n');
	fs.chownSync(join(src, 'linux.txt'), 1234, 5678);

	const mountAs = (image, options = []) =>
		runAs(user.name, process.execPath, [join(REPO, 'bin/lkl'), 'lklfuse', image, mnt, ...options], { cwd: REPO });
	const unmount = async (t, image) => {
		t.equal(runAs(user.name, 'fusermount3', ['-u', mnt]).status, 0, 'fusermount3 -u');
		t.ok(await released(image), 'the server writes the image back and exits');
	};
	// Only the user may look into the mount (no allow_other).
	const owner = (name) => runAs(user.name, 'stat', ['-c', '%u:%g', join(mnt, name)]).stdout.trim();
	const mine = `${user.uid}:${user.gid}`;

	await t.test('exFAT: every file is the user\'s, who can write', async (t) => {
		const image = join(dir, 'exfat.img');
		run('truncate', ['-s', '64M', image]);
		run('mkfs.exfat', [image]);
		ok(t, lkl(['cptofs', '-i', image, join(src, 'plain.txt'), '/']), 'cptofs');
		fs.chownSync(image, user.uid, user.gid);
		t.teardown(() => cleanUp(mnt, image));
		const m = mountAs(image);
		t.equal(m.status, 0, 'lkl lklfuse returns 0', { output: m.output });
		if (!mountLine(mnt))
			return;
		t.equal(owner('plain.txt'), mine, 'a file is the user\'s');
		t.equal(owner(''), mine, 'so is the top directory');
		const w = runAs(user.name, 'sh', ['-c', `echo new > ${join(mnt, 'new.txt')} && cat ${join(mnt, 'plain.txt')}`]);
		t.equal(w.status, 0, 'the user writes a new file and reads the old', { output: w.output });
		await unmount(t, image);
		const fsck = runAs(user.name, 'fsck.exfat', ['-n', image]);
		t.equal(fsck.status, 0, 'fsck.exfat finds the image clean', { output: fsck.output });
	});

	await t.test('NTFS: files no Linux made are the user\'s, one lkl made keeps its owner', { skip: cannotRun() }, async (t) => {
		const image = join(dir, 'ntfs.img');
		run('truncate', ['-s', '64M', image]);
		run('mkntfs', ['--quiet', '--fast', '--force', image]);
		const by3g = join(dir, 'ntfs-3g');
		fs.mkdirSync(by3g);
		run('ntfs-3g', [image, by3g]);
		try {
			fs.writeFileSync(join(by3g, 'windows.txt'), 'made without owners\n');
		} finally {
			run('umount', [by3g]);
		}
		ok(t, lkl(['cptofs', '-i', image, join(src, 'linux.txt'), '/']), 'cptofs');
		fs.chownSync(image, user.uid, user.gid);
		t.teardown(() => cleanUp(mnt, image));
		const m = mountAs(image, ['-o', 'ro']);
		t.equal(m.status, 0, 'lkl lklfuse -o ro returns 0', { output: m.output });
		if (!mountLine(mnt))
			return;
		t.equal(owner('windows.txt'), mine, 'the file ntfs-3g made is the user\'s');
		t.equal(owner('linux.txt'), '1234:5678', 'the file lkl made keeps its owner');
		await unmount(t, image);
	});
}

const why = cannotRun();
if (why)
	t.plan(0, why);
else
	await main();
