// SPDX-License-Identifier: GPL-2.0
//
// Recognition where an image holds more than one filesystem's marks
// (native/kernel/detect.c says why each wins), and images of a kind this
// kernel cannot read refused in one line, not with a kernel panic.
import t from 'tap';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { lkl, ok, sha256File, tarNames } from '../helpers/cli.mjs';
import { makeTree, run, tempDir } from '../helpers/tree.mjs';
import { cannotRun } from '../fuse/server.mjs';

t.setTimeout(300_000);
process.umask(0o022);
const dir = tempDir(t, 'lkl-fs-detect-');
const tree = makeTree(join(dir, 'tree'), 'vfat').root;

/** `lkl fs2tar` of `img` (with `args`): the names in the archive. */
function names(t, img, args = []) {
	const archive = join(dir, 'out.tar');
	ok(t, lkl(['fs2tar', ...args, img, archive]), `fs2tar ${args.join(' ')}`);
	const out = tarNames(archive);
	fs.rmSync(archive);
	return out;
}

t.test('a UDF bridge disc (genisoimage -udf) is read as UDF; -t iso9660 reads its ISO 9660 tree', async (t) => {
	const img = join(dir, 'bridge.img');
	run('genisoimage', ['-quiet', '-udf', '-R', '-J', '-o', img, tree]);
	const r = lkl(['cpfromfs', '-i', img, '/hello.txt', join(dir, 'bridge-hello.txt')]);
	ok(t, r, 'cpfromfs');
	t.equal(fs.readFileSync(join(dir, 'bridge-hello.txt'), 'utf8'), 'Hello, world!\n', 'a file reads back');
	const expected = names(t, img, ['-t', 'udf']);
	t.same(names(t, img), expected, 'recognised as udf: the same archive as -t udf');
	t.ok(names(t, img, ['-t', 'iso9660']).includes('hello.txt'), '-t iso9660 reads the other tree');
});

t.test('an ISO image with an MBR and a FAT partition appended is iso9660; -P 2 is the FAT', async (t) => {
	const efi = join(dir, 'efi.img');
	run('truncate', ['-s', '2M', efi]);
	run('mkfs.vfat', [efi]);
	run('mcopy', ['-i', efi, join(tree, 'hello.txt'), '::/EFI.TXT'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
	const img = join(dir, 'hybrid.img');
	run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-append_partition', '2', '0xef', efi, '-o', img, tree]);
	t.ok(names(t, img).includes('hello.txt'), 'the whole disk is the ISO 9660 tree');
	t.same(names(t, img, ['-P', '2']).filter((n) => !n.endsWith('/')), ['EFI.TXT'], 'partition 2 is the FAT');
});

t.test('an image this kernel cannot read fails in one line, the image unchanged', async (t) => {
	// An ext4 feature this kernel does not know (incompat bit 31, in a
	// superblock without checksums): the kernel refuses the mount.
	const cases = [
		['ext4-unknown-feature.img', (img) => {
			run('truncate', ['-s', '16M', img]);
			run('mkfs.ext4', ['-q', '-F', '-O', '^metadata_csum', img]);
			const fd = fs.openSync(img, 'r+');
			const word = Buffer.alloc(4);
			fs.readSync(fd, word, 0, 4, 1024 + 96);
			word.writeUInt32LE((word.readUInt32LE(0) | 0x80000000) >>> 0);
			fs.writeSync(fd, word, 0, 4, 1024 + 96);
			fs.closeSync(fd);
		}, 'an ext4 with a feature the kernel does not know'],
	];
	for (const [file, make, what] of cases) {
		const img = join(dir, file);
		make(img);
		const before = sha256File(img);
		const r = lkl(['fs2tar', img, join(dir, 'x.tar')]);
		t.equal(r.status, 1, `${what}: fs2tar exits 1 (not a kernel panic)`, { stderr: r.stderr });
		t.match(r.stderr, new RegExp(`^lkl: cannot mount .*${file}: `), `${what}: says which image`);
		t.equal(r.stderr.trimEnd().split('\n').length, 1, `${what}: in one line`, { stderr: r.stderr });
		t.equal(sha256File(img), before, `${what}: the image is unchanged`);
	}
});

t.test('a file NTFS compressed (by ntfs-3g) reads back whole', { skip: cannotRun() }, async (t) => {
	const img = join(dir, 'ntfs-compressed.img');
	run('truncate', ['-s', '64M', img]);
	run('mkntfs', ['--quiet', '--fast', '--force', img]);
	const mnt = join(dir, 'ntfs-3g');
	fs.mkdirSync(mnt);
	run('ntfs-3g', [img, mnt]);
	try {
		fs.mkdirSync(join(mnt, 'packed'));
		// FILE_ATTRIBUTE_COMPRESSED: what is made in it is compressed
		run('setfattr', ['-n', 'system.ntfs_attrib_be', '-v', '0x00000800', join(mnt, 'packed')]);
		fs.copyFileSync(join(tree, 'big.bin'), join(mnt, 'packed', 'big.bin'));
	} finally {
		run('umount', [mnt]);
	}
	const before = sha256File(img);
	const r = lkl(['cpfromfs', '-i', img, '/packed/big.bin', join(dir, 'unpacked.bin')]);
	// ntfs3 maps a compressed frame's pages with vmap(), which a kernel
	// without an MMU had only as a BUG() (arch/lkl/kernel/vmap.c now)
	t.equal(r.status, 0, 'cpfromfs exits 0', { stderr: r.stderr });
	t.ok(fs.readFileSync(join(dir, 'unpacked.bin')).equals(fs.readFileSync(join(tree, 'big.bin'))), 'its contents are the original\'s');
	t.equal(sha256File(img), before, 'the image is unchanged');
});
