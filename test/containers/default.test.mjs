// SPDX-License-Identifier: GPL-2.0
//
// A container as a build pipeline runs one by default: root inside, but
// no added capabilities and no devices (podman's default set: no
// CAP_SYS_ADMIN, no CAP_MKNOD, no /dev/fuse).  lkl installed from its npm
// package, as users do.  The copy commands need nothing more: fs2tar
// gives the same archive as on the host, cptofs the same image, cpfromfs
// the same tree (less the device nodes, which need CAP_MKNOD).  lklfuse
// cannot work there, and must say why, in one line, and what to pass in:
// without fuse3 in the image, without /dev/fuse, and without
// CAP_SYS_ADMIN.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
	emptyImage, gnuExtract, lklOk, loopMount, makeFullTree, rulesFor, same, sha256File, treeView,
} from '../helpers/cli.mjs';
import { fsck } from '../helpers/tree.mjs';
import { NPM_CONTAINERFILE, REPO, clean, images, noPodman, npmImage, runIn, workDir } from './podman.mjs';

const skip = noPodman();
if (skip) {
	t.plan(0, skip);
	process.exit();
}

t.setTimeout(1_200_000);
process.umask(0o022);

t.test('docs/containers.md shows the Containerfile these tests build', async (t) => {
	t.ok(fs.readFileSync(join(REPO, 'docs/containers.md'), 'utf8').includes(`\`\`\`dockerfile\n${NPM_CONTAINERFILE}\`\`\``),
		'test/containers/Containerfile.npm, verbatim');
});

const dir = workDir(t, 'lkl-ct-default-');
const { base, fuse } = images();
const lklBase = npmImage(t, base);
const lklFuse = npmImage(t, fuse);

// The host's side: the full tree (every kind of entry and attribute),
// and an image holding it, made by lkl on the host.
const tree = makeFullTree(join(dir, 'tree'));
const full = emptyImage('ext4', join(dir, 'full.img'));
lklOk(['cptofs', '-i', full, `${tree}/.`, '/']);
const source = treeView(tree);
const VOLUME = ['-v', `${dir}:/w`];

t.test('no capabilities, no devices: the copy commands work', async (t) => {
	t.test('fs2tar: the same archive as on the host', async (t) => {
		const r = runIn(t, lklBase, ['lkl', 'fs2tar', '/w/full.img', '/w/in-container.tar'], { flags: VOLUME });
		clean(t, r, 'lkl fs2tar');
		lklOk(['fs2tar', full, join(dir, 'on-host.tar')]);
		t.equal(sha256File(join(dir, 'in-container.tar')), sha256File(join(dir, 'on-host.tar')), 'byte for byte');
		same(t, source, treeView(gnuExtract(join(dir, 'in-container.tar'), join(dir, 'extracted'))), rulesFor('ext4'),
			'extracted by GNU tar');
	});

	t.test('cptofs: the whole tree, e2fsck-clean, as the host kernel sees it', async (t) => {
		const img = emptyImage('ext4', join(dir, 'copy.img'));
		const r = runIn(t, lklBase, ['lkl', 'cptofs', '-i', '/w/copy.img', '/w/tree/.', '/'], { flags: VOLUME });
		clean(t, r, 'lkl cptofs');
		const check = fsck('ext4', img);
		t.ok(check.ok, `e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
		same(t, source, treeView(loopMount(t, img, dir, 'loop-copy')), rulesFor('ext4'), 'the host kernel\'s view');
	});

	t.test('cpfromfs: the tree, less the device nodes, which need CAP_MKNOD', async (t) => {
		fs.mkdirSync(join(dir, 'out'));
		const r = runIn(t, lklBase, ['lkl', 'cpfromfs', '-i', '/w/full.img', '/.', '/w/out'], { flags: VOLUME });
		t.equal(r.status, 0, `lkl cpfromfs exits 0${r.status ? `: ${r.stderr}` : ''}`);
		const devices = [...source].filter(([, e]) => e.type === 'chr' || e.type === 'blk').map(([p]) => p);
		t.equal(devices.length, 3, 'the tree has three device nodes');
		t.equal(r.stderr, 'lkl: warning: skipped 3 device nodes (only root can create them)\n',
			'one warning line for them');
		const copied = treeView(join(dir, 'out'));
		t.same(devices.filter((p) => copied.has(p)), [], 'and they are not there');
		same(t, new Map([...source].filter(([p]) => !devices.includes(p))), copied,
			rulesFor('ext4'), 'the rest');
	});
});

t.test('lklfuse in a default container: the cause and what to pass in', async (t) => {
	const img = emptyImage('ext4', join(dir, 'fuse.img'));
	fs.mkdirSync(join(dir, 'mnt'));
	const lklfuse = (t, image, flags = []) =>
		runIn(t, image, ['lkl', 'lklfuse', '/w/fuse.img', '/w/mnt'], { flags: [...VOLUME, ...flags] });
	const failed = (t, r, lines) => {
		t.equal(r.status, 1, 'lkl lklfuse exits 1');
		t.equal(r.stderr, lines.map((l) => `lkl: ${l}\n`).join(''), 'the cause, then what to do');
		t.equal(fs.readdirSync(join(dir, 'mnt')).length, 0, 'nothing is mounted');
	};

	t.test('an image without fuse3', async (t) => {
		failed(t, lklfuse(t, lklBase), [
			'cannot mount /w/fuse.img on /w/mnt: libfuse3.so.3 is missing, the FUSE library lklfuse needs',
			'install the fuse3 package (apt-get install fuse3, or dnf install fuse3)',
		]);
	});

	t.test('fuse3, but no /dev/fuse', async (t) => {
		failed(t, lklfuse(t, lklFuse), [
			'cannot mount /w/fuse.img on /w/mnt: /dev/fuse is missing',
			'in a container, pass the device in: --device /dev/fuse (podman run, docker run); on a host, load the module: ' +
				'modprobe fuse; lkl fs2tar, cptofs and cpfromfs need none of this',
		]);
	});

	t.test('/dev/fuse, but no CAP_SYS_ADMIN', async (t) => {
		failed(t, lklfuse(t, lklFuse, ['--device', '/dev/fuse']), [
			'cannot mount /w/fuse.img on /w/mnt: mounting is not permitted here',
			'a container needs --cap-add SYS_ADMIN besides --device /dev/fuse, and a host a setuid fusermount3 ' +
				'(from the fuse3 package); lkl fs2tar, cptofs and cpfromfs need none of this',
		]);
	});

	const check = fsck('ext4', img);
	t.ok(check.ok, `the image is untouched and e2fsck-clean${check.ok ? '' : `\n${check.output}`}`);
});
