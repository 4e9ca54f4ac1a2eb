// SPDX-License-Identifier: GPL-2.0
//
// lklfuse in containers given what it needs: --device /dev/fuse and
// --cap-add SYS_ADMIN, in an image with fuse3.  A mount serves reads and
// writes, and `lkl unmount` returns once the image is written back: with
// an init that reaps (--init), and where PID 1 is node, as in a
// Containerfile's CMD ["node", "build.mjs"], which reaps nothing it
// adopts, so the exited server stays a zombie (test/containers/guest/
// fuse-pid1.mjs).  After each write the host checks the image: e2fsck and
// the host kernel's own mount.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { emptyImage, lklOk, loopMount } from '../helpers/cli.mjs';
import { fsck } from '../helpers/tree.mjs';
import { FUSE_FLAGS, clean, images, noPodman, npmImage, runIn, seaImage, workDir } from './podman.mjs';

const skip = noPodman();
if (skip) {
	t.plan(0, skip);
	process.exit();
}

t.setTimeout(1_200_000);
process.umask(0o022);

const dir = workDir(t, 'lkl-ct-fuse-');
const { fuse } = images();
const lklNpm = npmImage(t, fuse);
const GUEST = new URL('guest/', import.meta.url).pathname;

/** A fresh ext4 image holding hello.txt, made on the host. */
function image(name) {
	const src = join(dir, `${name}-src`);
	fs.mkdirSync(src);
	fs.writeFileSync(join(src, 'hello.txt'), 'Hello from the host\n');
	const img = emptyImage('ext4', join(dir, `${name}.img`));
	lklOk(['cptofs', '-i', img, `${src}/.`, '/']);
	return img;
}

/** e2fsck, then the host kernel's mount: the file written in the container. */
function checkWritten(t, img, name, text) {
	const check = fsck('ext4', img);
	t.ok(check.ok, `e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
	const loop = loopMount(t, img, dir, `loop-${name}`);
	t.equal(fs.readFileSync(join(loop, name), 'utf8'), text, 'the host kernel reads what was written');
}

// A build step: mount, read, write, unmount, all in one shell script.
const SCRIPT = `set -e
mkdir -p /mnt/img
lkl lklfuse /w/$1 /mnt/img
cat /mnt/img/hello.txt
printf 'written in the container\\n' > /mnt/img/$2
lkl unmount /mnt/img
echo unmounted`;

for (const [kind, make] of [['npm package', () => lklNpm], ['single-file executable', () => seaImage(t, fuse)]]) {
	t.test(`--device /dev/fuse --cap-add SYS_ADMIN --init, the ${kind}: read, write, lkl unmount`, async (t) => {
		const name = kind === 'npm package' ? 'npm' : 'sea';
		const img = image(name);
		const r = runIn(t, make(), ['sh', '-c', SCRIPT, 'sh', `${name}.img`, `${name}.txt`],
			{ flags: ['--init', ...FUSE_FLAGS, '-v', `${dir}:/w`] });
		clean(t, r, 'the script');
		t.equal(r.stdout, 'Hello from the host\nunmounted\n', 'reads through the mount, and lkl unmount returns');
		checkWritten(t, img, `${name}.txt`, 'written in the container\n');
	});
}

t.test('PID 1 is node, which reaps nothing: lkl unmount returns all the same', async (t) => {
	for (const mode of ['ro', 'rw']) {
		t.test(mode === 'ro' ? 'read-only: lklfuse -o ro' : 'read-write', async (t) => {
			const img = image(`pid1-${mode}`);
			const before = fs.readFileSync(img);
			const r = runIn(t, lklNpm, ['node', '/guest/fuse-pid1.mjs', `/w/pid1-${mode}.img`, '/mnt', mode],
				{ flags: [...FUSE_FLAGS, '-v', `${dir}:/w`, '-v', `${GUEST}:/guest:ro`], timeout: 400_000 });
			t.equal(r.status, 0, `the container exits 0${r.status ? ` (${r.status}): ${r.stderr}` : ''}`);
			const out = JSON.parse(r.stdout);
			t.equal(out.pid, 1, 'the script is PID 1');
			t.same(out.steps.map((s) => [s.args[0], s.status, s.stderr]), [['lklfuse', 0, ''], ['unmount', 0, '']],
				'lkl lklfuse and lkl unmount exit 0, quietly');
			t.equal(out.read, 'Hello from the host\n', 'a file read through the mount');
			t.equal(out.error, undefined, 'no error reading or writing');
			t.match(out.serversMounted, [{ state: /^[RS]$/, ppid: 1 }], 'the server, adopted by PID 1, served');
			t.match(out.serversAfter, [{ state: 'Z', ppid: 1 }], 'and was a zombie when unmount returned: PID 1 did not reap it');
			if (mode === 'ro')
				t.ok(fs.readFileSync(img).equals(before), 'the read-only mount left the image as it was');
			else
				checkWritten(t, img, 'from-pid1.txt', out.wrote);
		});
	}
});
