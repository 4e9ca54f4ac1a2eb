// SPDX-License-Identifier: GPL-2.0
//
// cptofs into filesystems that keep no owners and hardly any mode (vfat,
// exfat), from a tree owned by an ordinary user with modes FAT cannot
// hold (0600, 0700): the copy succeeds (it failed with "operation not
// permitted" at the first file: the kernel refuses such a chown and
// chmod), the filesystem's own fsck finds it clean, and every file reads
// back with its contents and modification time.
import t from 'tap';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { lkl, ok } from '../helpers/cli.mjs';
import { pattern, run, tempDir } from '../helpers/tree.mjs';

t.setTimeout(120_000);

const dir = tempDir(t);
const tree = join(dir, 'boot');
fs.mkdirSync(join(tree, 'EFI', 'debian'), { recursive: true });
const files = {
	'EFI/debian/grubx64.efi': pattern(300_000, 1),
	'EFI/debian/grub.cfg': Buffer.from('search --set=root\n'),
	'private.key': pattern(1000, 2),
};
const MTIME = new Date('2024-05-06T07:08:10Z');
for (const [name, data] of Object.entries(files)) {
	fs.writeFileSync(join(tree, name), data);
	fs.utimesSync(join(tree, name), MTIME, MTIME);
}
fs.chmodSync(join(tree, 'private.key'), 0o600);
fs.chmodSync(join(tree, 'EFI'), 0o700);
// An owner that is nobody's here: numbers, as a build tree's often are.
run('chown', ['-R', '12345:12345', tree]);

const KINDS = {
	vfat: { mkfs: ['mkfs.vfat', []], fsck: ['fsck.vfat', ['-n']] },
	exfat: { mkfs: ['mkfs.exfat', []], fsck: ['fsck.exfat', ['-n']] },
};

for (const [kind, { mkfs, fsck }] of Object.entries(KINDS)) {
	t.test(kind, async (t) => {
		const img = join(dir, `${kind}.img`);
		run('truncate', ['-s', '64M', img]);
		run(mkfs[0], [...mkfs[1], img]);
		ok(t, lkl(['cptofs', '-i', img, `${tree}/.`, '/']), 'cptofs of a user\'s tree');
		run(fsck[0], [...fsck[1], img]);
		t.pass(`${fsck[0]} finds the image clean`);
		const out = join(dir, `${kind}-out`);
		fs.mkdirSync(out);
		ok(t, lkl(['cpfromfs', '-i', img, '/.', out]), 'cpfromfs');
		for (const [name, data] of Object.entries(files)) {
			t.ok(fs.readFileSync(join(out, name)).equals(data), `${name}: the same contents`);
			t.equal(fs.statSync(join(out, name)).mtimeMs, MTIME.getTime(), `${name}: the same modification time`);
		}
	});
}

t.test('what they cannot hold at all is said so, in one line', async (t) => {
	const src = join(dir, 'with-link');
	fs.mkdirSync(src);
	fs.symlinkSync('grub.cfg', join(src, 'link'));
	for (const [kind, { mkfs, fsck }] of Object.entries(KINDS)) {
		const img = join(dir, `${kind}-link.img`);
		run('truncate', ['-s', '64M', img]);
		run(mkfs[0], [...mkfs[1], img]);
		const r = lkl(['cptofs', '-i', img, `${src}/.`, '/']);
		t.equal(r.status, 1, `${kind}: cptofs exits 1`);
		t.equal(r.stderr, `lkl: link: ${kind} cannot hold symbolic links\n`, `${kind}: says why`);
		run(fsck[0], [...fsck[1], img]);
		t.pass(`${kind}: ${fsck[0]} finds the image clean`);
	}
});
