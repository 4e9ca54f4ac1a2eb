// crc32c, which btrfs (data and metadata), ext4 (metadata_csum) and xfs
// (v5 metadata) compute over every block they read or write.  Our kernel
// computes it with crc32c-lkl (linux/arch/lkl/crypto/crc32c.c, the CPU's
// crc32 instruction) where the CPU has one, with crc32c-generic elsewhere.
// Either way its answers must be the filesystems' tools' answers: images
// that mkfs filled are read back whole (a checksum that differs is an I/O
// error or a refused mount), and images that lkl filled pass each fsck,
// btrfs's data checksums included, and read back through the host kernel.
// The driver checks itself against known vectors at boot and registers
// only if they match: the first assertion sees which driver btrfs got.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join, relative } from 'node:path';
import { gnuExtract, hostCanMount, lkl, loopMount } from '../helpers/cli.mjs';
import { run, tempDir } from '../helpers/tree.mjs';

t.setTimeout(600_000);
process.umask(0o022);

const hasCrc32Instruction = process.arch === 'x64' &&
	/^flags\s*:.*\bsse4_2\b/m.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
const DRIVER = hasCrc32Instruction ? 'crc32c-lkl' : 'crc32c-generic';

/** The crc32c driver btrfs says it uses ("using crc32c (X) checksum algorithm"). */
const btrfsDriver = (log) => /using crc32c \(([^)]*)\) checksum algorithm/.exec(log)?.[1];

/** `size` bytes that differ from those of every other (size, seed). */
function noise(size, seed) {
	const out = Buffer.alloc(size);
	for (let off = 0, n = 0; off < size; n++)
		off += createHash('sha256').update(`${seed}:${n}`).digest().copy(out, off);
	return out;
}

/**
 * Files whose sizes straddle the ends of blocks and of the driver's
 * interleaved rounds (4080 bytes), small ones that btrfs keeps inline in
 * its metadata, one of 3 MiB, and a directory of 300 names (an ext4 htree,
 * several btrfs leaves, an xfs node directory).
 */
function makeTree(dir) {
	fs.mkdirSync(dir, { mode: 0o755 });
	const sizes = [0, 1, 7, 8, 9, 63, 64, 65, 2048, 2049, 4079, 4080, 4081,
		4095, 4096, 4097, 8160, 8192, 12240, 12289, 65536 + 13, 3 << 20];
	for (const [i, size] of sizes.entries())
		fs.writeFileSync(join(dir, `f${String(i).padStart(2, '0')}-${size}`), noise(size, i));
	fs.mkdirSync(join(dir, 'many'));
	for (let i = 0; i < 300; i++)
		fs.writeFileSync(join(dir, 'many', `entry-with-a-longish-name-${i}`), noise(i * 37 % 5000, 1000 + i));
	return dir;
}

/** path -> sha256 of every regular file under `root`. */
function contents(root) {
	const out = {};
	const walk = (d) => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const p = join(d, e.name);
			if (e.isDirectory() && e.name !== 'lost+found')
				walk(p);
			else if (e.isFile())
				out[relative(root, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
		}
	};
	walk(root);
	return out;
}

const dir = tempDir(t, 'lkl-crc32c-');
const tree = makeTree(join(dir, 'tree'));
const source = contents(tree);

/** A sparse image file of `mib` MiB. */
function blank(name, mib) {
	const img = join(dir, name);
	run('truncate', ['-s', `${mib}M`, img]);
	return img;
}

// Made by the tools, which compute the checksums themselves.
const mkfs = {
	btrfs: (img, from) => run('mkfs.btrfs', ['-q', '-f', '--csum', 'crc32c', ...(from ? ['--rootdir', from] : []), img]),
	ext4: (img, from) => run('mkfs.ext4', ['-q', '-F', '-O', 'metadata_csum,64bit', '-b', '4096', ...(from ? ['-d', from] : []), img]),
	xfs: (img) => run('mkfs.xfs', ['-q', '-f', '-m', 'crc=1', img]),
};

/** The last lines of a tool's output: where it says what went wrong. */
const tail = (text) => text.trim().split('\n').slice(-12).join('\n');

/** Asserts that `r` (a command run by lkl()) exited 0. */
function exitsZero(t, r, what) {
	t.equal(r.status, 0, `${what} exits 0${r.status === 0 ? '' : `\n${tail(r.stderr)}`}`);
	return r.status === 0;
}

/** fs2tar of `img`, extracted by GNU tar, holds the tree's files. */
function readsBack(t, img, name, { printk = false } = {}) {
	const archive = join(dir, `${name}.tar`);
	const r = lkl(['fs2tar', ...(printk ? ['-p'] : []), img, archive]);
	if (exitsZero(t, r, 'fs2tar'))
		t.same(contents(gnuExtract(archive, join(dir, `${name}-out`))), source, 'every file reads back as written');
	return r;
}

for (const kind of ['btrfs', 'ext4']) {
	t.test(`${kind} made by mkfs from the tree reads back through fs2tar`, async (t) => {
		const img = blank(`mkfs-${kind}.img`, 160);
		mkfs[kind](img, tree);
		const r = readsBack(t, img, `mkfs-${kind}`, { printk: kind === 'btrfs' });
		if (kind === 'btrfs')
			t.equal(btrfsDriver(r.stderr), DRIVER, `btrfs checksums with ${DRIVER}`);
	});
}

/** Each filesystem's own check, btrfs's reading every data block too. */
const fsck = {
	btrfs: ['btrfs', ['check', '--readonly', '--check-data-csum']],
	ext4: ['e2fsck', ['-f', '-n']],
	xfs: ['xfs_repair', ['-n', '-f']],
};

for (const kind of ['btrfs', 'ext4', 'xfs']) {
	t.test(`${kind} written by cptofs passes its fsck and reads back`, async (t) => {
		const img = blank(`cptofs-${kind}.img`, kind === 'xfs' ? 300 : 160);
		mkfs[kind](img);
		const r = lkl(['cptofs', '-p', '-i', img, `${tree}/.`, '/']);
		exitsZero(t, r, 'cptofs');
		if (kind === 'btrfs')
			t.equal(btrfsDriver(r.stderr), DRIVER, `btrfs checksums with ${DRIVER}`);
		const [cmd, args] = fsck[kind];
		const check = spawnSync(cmd, [...args, img], { encoding: 'utf8' });
		t.equal(check.status, 0, `${cmd} ${args.join(' ')} finds nothing wrong${check.status === 0 ? '' : `\n${tail(`${check.stdout}\n${check.stderr}`)}`}`);
		readsBack(t, img, `cptofs-${kind}`);
		if (hostCanMount(kind))
			t.same(contents(loopMount(t, img, dir, `mnt-${kind}`)), source, 'the host kernel reads every file back');
	});
}
