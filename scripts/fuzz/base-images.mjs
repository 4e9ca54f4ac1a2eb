// SPDX-License-Identifier: GPL-2.0
// The undamaged images the fuzzer starts from: each filesystem made by its
// own mkfs, then filled by `lkl cptofs` with a small tree that has one of
// each thing the filesystem's code parses (so the layouts are the ones a
// kernel writes: ext4 hashed directories, XFS block and leaf directories,
// btrfs inline extents).  Every 512-byte piece of file data starts with
// DATA_TAG, so that metadata.mjs can tell file data from metadata by
// content alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';

export const FILESYSTEMS = ['ext4', 'btrfs', 'xfs', 'vfat'];

/**
 * Where a symlink in the tree points: a path that must never exist, as
 * something written through that link would make it.
 */
export const ESCAPE_SENTINEL = '/tmp/lkl-fuzz-escaped';

/** What starts every 512-byte record of file data in the tree. */
export const DATA_TAG = Buffer.from('LKLFUZZ-DATA:');

const PATH = `${process.env.PATH}:/usr/sbin:/sbin`;

function run(cmd, args, env = {}) {
	// Without a test runner's loader hooks, as a user runs the tools.
	const base = { ...process.env, PATH, ...env };
	delete base.NODE_OPTIONS;
	const r = spawnSync(cmd, args, { encoding: 'utf8', env: base });
	if (r.status !== 0)
		throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${`${r.stderr}${r.stdout}`.trim()}`);
	return r.stdout;
}

/**
 * `size` bytes of file number `id`: 512-byte records, each the tag, the
 * file and record numbers, and filler, so no two records are equal.
 */
export function taggedData(id, size) {
	const buf = Buffer.alloc(Math.ceil(size / 512) * 512);
	for (let r = 0; r * 512 < size; r++) {
		const at = r * 512;
		DATA_TAG.copy(buf, at);
		const head = `${id}/${r}:`;
		buf.write(head, at + DATA_TAG.length, 'latin1');
		for (let i = at + DATA_TAG.length + head.length; i < at + 512; i++)
			buf[i] = 0x61 + ((i * 7 + r + id) % 26);
	}
	return buf.subarray(0, size);
}

/**
 * Writes the tree to fill a `kind` image with into `dir` (new).  Names
 * and sizes are chosen for the formats' branches: small and multi-block
 * files, a sparse one, a directory that needs more than one block, long
 * and short names, symlinks short and long and climbing out with "..",
 * hard links, xattrs small and large, a FIFO.
 */
export function writeTree(kind, dir) {
	let id = 0;
	const file = (rel, size) => {
		fs.mkdirSync(join(dir, rel, '..'), { recursive: true });
		fs.writeFileSync(join(dir, rel), taggedData(++id, size));
	};
	fs.mkdirSync(dir, { recursive: true });
	file('small.txt', 100);
	file('block.bin', 4096);
	file('multi.bin', 70 * 1024 + 33);
	file('dir/sub/deep/leaf.txt', 700);
	fs.mkdirSync(join(dir, 'dir/empty'), { recursive: true });
	// Past one directory block everywhere: ext4 hashes it, XFS makes it
	// a leaf directory, FAT gives it a chain of clusters.
	for (let i = 0; i < (kind === 'vfat' ? 120 : 300); i++)
		file(`big-dir/${kind === 'vfat' ? 'Long Name Number' : 'entry-with-a-longer-name-'}${String(i).padStart(3, '0')}.dat`, 20 + i);
	if (kind === 'vfat') {
		file('SHORT.TXT', 40);
		file('MixedCase.Txt', 40);
		return dir;
	}
	const sparse = fs.openSync(join(dir, 'sparse.bin'), 'w');
	fs.writeSync(sparse, taggedData(++id, 512), 0, 512, 0);
	fs.writeSync(sparse, taggedData(++id, 512), 0, 512, 1 << 20);
	fs.closeSync(sparse);
	fs.linkSync(join(dir, 'small.txt'), join(dir, 'dir/hard-link'));
	fs.linkSync(join(dir, 'small.txt'), join(dir, 'dir/sub/hard-link-2'));
	fs.symlinkSync('../small.txt', join(dir, 'dir/rel-link'));
	fs.symlinkSync(`${'long-target/'.repeat(30)}end`, join(dir, 'dir/long-link'));
	fs.symlinkSync('../../..', join(dir, 'dir/sub/up'));
	fs.symlinkSync('../../../../../outside', join(dir, 'dir/sub/deep/climb'));
	fs.symlinkSync('/tmp', join(dir, 'abs-link'));
	fs.symlinkSync(ESCAPE_SENTINEL, join(dir, 'dir/sub/abs-escape'));
	run('mkfifo', ['-m', '0640', join(dir, 'dir/fifo')]);
	const xattr = (rel, name, value) => run('setfattr', ['-h', '-n', name, '-v', value, join(dir, rel)]);
	xattr('small.txt', 'user.small', 'a small value');
	xattr('multi.bin', 'user.large', `0x${Buffer.alloc(3000, 0x5a).toString('hex')}`);
	xattr('dir', 'user.on-a-dir', '0x00ff');
	for (let i = 0; i < 12; i++)
		xattr('block.bin', `user.many-${i}`, `value number ${i}`);
	return dir;
}

/** Image size in MiB: about the smallest each mkfs makes with its defaults. */
const SIZE_MIB = { ext4: 16, btrfs: 128, xfs: 32, vfat: 40 };

/**
 * The mkfs command for an empty `kind` image.  ext4 without
 * metadata_csum and btrfs with single metadata, so that a damaged block
 * reaches the code that parses it: ext4's checksums could not be mended
 * after the damage without its seed, and btrfs would read a DUP copy.
 * XFS's and btrfs's checksums are mended instead (checksums.mjs).
 */
function mkfs(kind, img) {
	switch (kind) {
	case 'ext4':
		return ['mkfs.ext4', ['-q', '-F', '-b', '4096', '-I', '256', '-O', '^metadata_csum,^uninit_bg', '-E', 'lazy_itable_init=0', img]];
	case 'btrfs':
		return ['mkfs.btrfs', ['-q', '-f', '-m', 'single', '-d', 'single', img]];
	case 'xfs':
		// mkfs.xfs makes filesystems under 300 MiB only for test suites,
		// which it recognises by these variables.
		return ['mkfs.xfs', ['-q', '-f', '-d', 'agcount=2', img], { TEST_DIR: '1', TEST_DEV: '1', QA_CHECK_FS: '1' }];
	case 'vfat':
		// FAT32 with one sector per cluster: many clusters, long chains.
		return ['mkfs.vfat', ['-F', '32', '-s', '1', img]];
	default:
		throw new Error(`unknown filesystem ${kind}`);
	}
}

/**
 * Makes `img`: an empty `kind` filesystem filled with writeTree's tree
 * (made in `work`) by `lkl cptofs`; `lkl` is the command as an argv prefix.
 */
export function makeBaseImage(kind, img, work, lkl) {
	fs.rmSync(img, { force: true });
	run('truncate', ['-s', `${SIZE_MIB[kind]}M`, img]);
	const [cmd, args, env] = mkfs(kind, img);
	run(cmd, args, env);
	const tree = writeTree(kind, join(work, `tree-${kind}`));
	run(lkl[0], [...lkl.slice(1), 'cptofs', '-i', img, `${tree}/.`, '/']);
	fs.rmSync(tree, { recursive: true, force: true });
	return img;
}
