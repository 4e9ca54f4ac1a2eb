// Test fixtures: a source tree of known contents on the host, filesystem
// images made from it with the filesystems' own mkfs tools, the
// filesystems' own fsck as the oracle after writes, and a view of a tree
// (host or mounted) to compare the two by.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';

/** Runs a tool, throwing with its output if it fails. */
export function run(cmd, args, options = {}) {
	const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
	if (r.status !== 0)
		throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
	return r.stdout;
}

// A fresh temporary directory, removed when the test ends (even one a
// timeout ended, or with a mount left in it): see machine.mjs.
export { tempDir } from './machine.mjs';

/**
 * `size` bytes in which every 16-byte line is different ("%015d\n" of its
 * offset), so data read from the wrong place never matches by chance.
 */
export function pattern(size, seed = 0) {
	const lines = Math.ceil(size / 16);
	const buf = Buffer.allocUnsafe(lines * 16);
	for (let i = 0; i < lines; i++)
		buf.write(`${String(i * 16 + seed).padStart(15, '0')}\n`, i * 16, 'latin1');
	return buf.subarray(0, size);
}

/** Whether the host filesystem under `dir` takes user xattrs. */
export function hostHasXattrs(dir) {
	const probe = join(dir, '.xattr-probe');
	fs.writeFileSync(probe, '');
	try {
		return spawnSync('setfattr', ['-n', 'user.probe', '-v', '1', probe]).status === 0;
	} finally {
		fs.rmSync(probe);
	}
}

const isRoot = process.getuid?.() === 0;

/** Base time of the tree: 2023-11-14 22:13:20 UTC, plus nanoseconds per file. */
export const BASE_TIME_NS = 1_700_000_000_000_000_000n;

function touchNs(path, ns) {
	const sec = ns / 1_000_000_000n;
	const frac = String(ns % 1_000_000_000n).padStart(9, '0');
	run('touch', ['-h', '-d', `@${sec}.${frac}`, path]);
}

/**
 * Writes the test tree into `dir` (which must not exist) and returns what
 * it holds that depends on the host: { root, xattrs, devices }.
 *
 * kind 'full': files of known contents (empty, small, 3 MiB, sparse, odd
 * sizes), nested and empty directories, symlinks (relative, absolute,
 * dangling, to a directory, climbing out with ".."), a hard link, a FIFO
 * (and a character device and other owners when run as root), modes
 * with setuid/setgid/sticky, user xattrs when the host fs takes them, a
 * UTF-8 name, and nanosecond mtimes on everything.
 * kind 'vfat': what FAT holds: directories and regular files.
 */
export function makeTree(dir, kind = 'full') {
	fs.mkdirSync(dir);
	const w = (rel, data, mode = 0o644) => {
		fs.mkdirSync(join(dir, rel, '..'), { recursive: true });
		fs.writeFileSync(join(dir, rel), data);
		fs.chmodSync(join(dir, rel), mode);
	};
	w('hello.txt', 'Hello, world!\n');
	w('empty', '', 0o600);
	w('big.bin', pattern(3 << 20));
	w('odd-size.bin', pattern(4097, 7));
	w('dir/a.txt', 'a is for apple\n', 0o640);
	w('dir/sub/deeper/leaf.txt', 'the leaf\n');
	fs.mkdirSync(join(dir, 'dir/empty-dir'), { mode: 0o700 });
	fs.chmodSync(join(dir, 'dir/empty-dir'), 0o700);
	for (let i = 0; i < 120; i++)
		w(`many/f${String(i).padStart(3, '0')}`, `file ${i}\n`.repeat(1 + (i % 13)));
	if (kind === 'vfat') {
		w('Long File Name.txt', 'a long name\n');
		w('MixedCase.Txt', 'mixed\n');
	} else {
		w('exec.sh', '#!/bin/sh\necho hi\n', 0o755);
		w('setuid-prog', 'not really a program\n', 0o4755);
		w('readonly.txt', 'look, do not touch\n', 0o444);
		w('h\u00e9llo-\u00fcnicode.txt', 'unicode name\n');
		const sparse = fs.openSync(join(dir, 'sparse.bin'), 'w');
		fs.writeSync(sparse, 'after the hole\n', 1 << 20);
		fs.closeSync(sparse);
		fs.mkdirSync(join(dir, 'sgid-dir'));
		fs.chmodSync(join(dir, 'sgid-dir'), 0o2755);
		fs.mkdirSync(join(dir, 'sticky-dir'));
		fs.chmodSync(join(dir, 'sticky-dir'), 0o1777);
		fs.linkSync(join(dir, 'dir/a.txt'), join(dir, 'hardlink.txt'));
		fs.mkdirSync(join(dir, 'links'));
		fs.symlinkSync('../hello.txt', join(dir, 'links/rel'));
		fs.symlinkSync('/hello.txt', join(dir, 'links/abs'));
		fs.symlinkSync('../dir/sub', join(dir, 'links/to-dir'));
		fs.symlinkSync('nowhere', join(dir, 'links/dangling'));
		fs.symlinkSync('../../../../../hello.txt', join(dir, 'links/climb'));
		fs.symlinkSync('/../../dir/a.txt', join(dir, 'links/abs-climb'));
		run('mkfifo', ['-m', '0600', join(dir, 'fifo')]);
	}
	const devices = isRoot && kind !== 'vfat';
	if (devices) {
		run('mknod', ['-m', '0620', join(dir, 'null-dev'), 'c', '1', '3']);
		fs.chownSync(join(dir, 'dir/a.txt'), 1234, 5678);
		fs.lchownSync(join(dir, 'links/rel'), 4321, 8765);
	}
	const xattrs = kind !== 'vfat' && hostHasXattrs(dir);
	if (xattrs) {
		run('setfattr', ['-n', 'user.comment', '-v', 'hello xattr', join(dir, 'hello.txt')]);
		run('setfattr', ['-n', 'user.binary', '-v', '0x00ff10', join(dir, 'dir')]);
		run('setfattr', ['-n', 'user.empty', join(dir, 'empty')]);
	}
	// Times last, deepest first: making an entry changes its directory's.
	const all = [];
	const walkHost = (rel) => {
		for (const name of fs.readdirSync(join(dir, rel)))
			walkHost2(rel ? `${rel}/${name}` : name);
		all.push(rel);
	};
	const walkHost2 = (rel) => {
		if (fs.lstatSync(join(dir, rel)).isDirectory())
			walkHost(rel);
		else
			all.push(rel);
	};
	walkHost('');
	all.forEach((rel, i) => touchNs(join(dir, rel) || dir, BASE_TIME_NS + BigInt(i) * 1_000_001n + 123n));
	return { root: dir, xattrs, devices };
}

// Images -----------------------------------------------------------------

/** Sizes the images are made with. */
export const IMAGE_MIB = { ext4: 64, btrfs: 128, xfs: 300, vfat: 64 };

function xfsProto(tree) {
	const lines = ['lkl-test', '0 0'];
	const spec = (st) => {
		const perm = (st.mode & 0o777).toString(8).padStart(3, '0');
		const u = st.mode & 0o4000 ? 'u' : '-';
		const g = st.mode & 0o2000 ? 'g' : '-';
		return `${u}${g}${perm} ${st.uid} ${st.gid}`;
	};
	const dirLines = (path) => {
		for (const name of fs.readdirSync(path).sort()) {
			const p = join(path, name);
			const st = fs.lstatSync(p);
			if (/[\s:$]/.test(name))
				throw new Error(`a protofile cannot hold the name ${JSON.stringify(name)}`);
			if (st.isDirectory()) {
				lines.push(`${name} d${spec(st)}`);
				dirLines(p);
				lines.push('$');
			} else if (st.isFile()) {
				lines.push(`${name} -${spec(st)} ${p}`);
			} else if (st.isSymbolicLink()) {
				lines.push(`${name} l${spec(st)} ${fs.readlinkSync(p)}`);
			} else if (st.isFIFO()) {
				lines.push(`${name} p${spec(st)}`);
			} else if (st.isCharacterDevice() || st.isBlockDevice()) {
				const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
				const minor = Number(BigInt(st.rdev) & 0xffn);
				lines.push(`${name} ${st.isCharacterDevice() ? 'c' : 'b'}${spec(st)} ${major} ${minor}`);
			}
		}
	};
	lines.push(`d${spec(fs.statSync(tree))}`);
	dirLines(tree);
	lines.push('$', '');
	return lines.join('\n');
}

/**
 * Makes `img` holding `tree` as filesystem `kind` (ext4, btrfs, xfs or
 * vfat), sparse, IMAGE_MIB[kind] MiB unless `mib` is given.
 */
export function buildImage(kind, tree, img, mib = IMAGE_MIB[kind]) {
	fs.rmSync(img, { force: true });
	run('truncate', ['-s', `${mib}M`, img]);
	switch (kind) {
	case 'ext4':
		// -I 256: inodes with room for nanosecond times.
		run('mkfs.ext4', ['-q', '-F', '-I', '256', '-d', tree, img]);
		break;
	case 'btrfs':
		run('mkfs.btrfs', ['-q', '-f', '--rootdir', tree, img]);
		break;
	case 'xfs': {
		const proto = `${img}.proto`;
		fs.writeFileSync(proto, xfsProto(tree));
		run('mkfs.xfs', ['-q', '-f', '-p', proto, img]);
		fs.rmSync(proto);
		break;
	}
	case 'vfat': {
		run('mkfs.vfat', [img]);
		const entries = fs.readdirSync(tree).map((n) => join(tree, n));
		// -m keeps modification times, -s recurses; -Q stops at the first error.
		run('mcopy', ['-s', '-m', '-Q', '-i', img, ...entries, '::/'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
		break;
	}
	default:
		throw new Error(`unknown filesystem ${kind}`);
	}
	return img;
}

/**
 * A GPT disk `img` whose partitions hold the given images, in order, with
 * the given GPT type codes (sgdisk's: 8300 Linux, 0700 basic data);
 * returns the partitions' byte offsets.
 */
export function buildGpt(img, partitionImages, types = partitionImages.map(() => '8300')) {
	fs.rmSync(img, { force: true });
	const sizes = partitionImages.map((p) => fs.statSync(p).size);
	const total = sizes.reduce((a, b) => a + b, 0) + (4 << 20);
	run('truncate', ['-s', String(total), img]);
	const args = [];
	sizes.forEach((size, i) => {
		args.push('-n', `${i + 1}:0:+${size / 1024}K`, '-t', `${i + 1}:${types[i]}`);
	});
	run('sgdisk', ['-o', ...args, img]);
	const table = JSON.parse(run('sfdisk', ['--json', img])).partitiontable;
	const offsets = table.partitions.map((p) => p.start * (table.sectorsize ?? 512));
	partitionImages.forEach((p, i) => {
		run('dd', [`if=${p}`, `of=${img}`, 'bs=1M', 'conv=notrunc,sparse', `seek=${offsets[i]}`,
			'oflag=seek_bytes', 'status=none']);
	});
	return offsets;
}

/** The filesystem's own checker, read-only: { ok, output }. */
export function fsck(kind, img) {
	const cmd = {
		ext4: ['e2fsck', ['-f', '-n', img]],
		btrfs: ['btrfs', ['check', '--readonly', img]],
		xfs: ['xfs_repair', ['-n', '-f', img]],
		vfat: ['fsck.vfat', ['-n', img]],
	}[kind];
	const r = spawnSync(cmd[0], cmd[1], { encoding: 'utf8' });
	return { ok: r.status === 0, output: `${r.stdout}\n${r.stderr}` };
}

/**
 * Copies the nanoseconds of the host's mtimes into an ext4 image:
 * mkfs.ext4 -d keeps whole seconds only, debugfs can set the rest.
 * `view` is hostView(tree).
 */
export function stampExt4Mtimes(img, view) {
	const cmds = [];
	for (const [path, entry] of view) {
		const ns = entry.mtimeNs % 1_000_000_000n;
		// mtime_extra: nanoseconds above two epoch bits (0 until 2038).
		cmds.push(`sif "${path}" mtime ${entry.mtimeNs / 1_000_000_000n}`);
		cmds.push(`sif "${path}" mtime_extra ${ns << 2n}`);
	}
	const file = `${img}.debugfs`;
	fs.writeFileSync(file, cmds.join('\n') + '\n');
	run('debugfs', ['-w', '-f', file, img]);
	fs.rmSync(file);
}
