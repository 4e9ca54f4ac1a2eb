// lkl unmount of a mount still in use: fusermount3 -u says busy; lkl
// unmount tries again for a few seconds (a mount its last user has just
// left can stay busy for a moment), then fails in one line, the mount
// still serving.  A user that leaves within those seconds lets it succeed.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LKL, lkl, lklOk } from '../helpers/cli.mjs';
import { fsck, run, tempDir } from '../helpers/tree.mjs';
import { cannotRun } from './server.mjs';

t.setTimeout(120_000);

const why = cannotRun();
if (why) {
	t.plan(0, why);
} else {
	const dir = tempDir(t, 'lkl-unmount-busy-');
	const img = join(dir, 'a.img');
	const mnt = join(dir, 'mnt');
	fs.mkdirSync(mnt);
	run('truncate', ['-s', '64M', img]);
	run('mkfs.ext4', ['-q', '-F', img]);
	lklOk(['lklfuse', img, mnt]);
	t.teardown(() => lkl(['unmount', '--timeout', '10', mnt]));

	t.test('busy for good: one line, the mount still there', async (t) => {
		const fd = fs.openSync(join(mnt, 'held'), 'w');
		try {
			const r = lkl(['unmount', mnt]);
			t.equal(r.status, 1, 'exit 1');
			t.match(r.stderr.trim(), /^lkl: cannot unmount .*mnt: .*busy$/i, 'one line saying it is busy');
			t.ok(fs.existsSync(join(mnt, 'held')), 'the mount still serves');
		} finally {
			fs.closeSync(fd);
		}
	});

	t.test('the last user leaves a moment later: unmounted', async (t) => {
		const fd = fs.openSync(join(mnt, 'held'), 'r');
		const unmounting = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, LKL, 'unmount', mnt], { stdio: 'ignore' });
		const exited = new Promise((resolve) => unmounting.once('exit', resolve));
		await new Promise((resolve) => setTimeout(resolve, 800));
		fs.closeSync(fd);
		t.equal(await exited, 0, 'lkl unmount succeeds');
		t.notOk(fs.existsSync(join(mnt, 'held')), 'unmounted');
		t.ok(fsck('ext4', img).ok, 'e2fsck clean');
	});
}
