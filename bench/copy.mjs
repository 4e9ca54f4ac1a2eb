#!/usr/bin/env node
// Issues 4 and 11's figures: lkl fs2tar, cptofs and cpfromfs next to the
// host kernel doing the same through a loop mount, on two trees, with warm
// and cold caches, all in one run.
//
//   fs2tar    vs  mount -o loop,ro + GNU tar c + umount, to a file and to
//                 a pipe (| cat > /dev/null: GNU tar reads no file data
//                 for -f /dev/null); on ext4, xfs and btrfs
//   cptofs    vs  mkfs.ext4 + mount -o loop + cp -a + umount, and mke2fs -d
//                 (the lkl side: mkfs.ext4 + lkl cptofs)
//   cpfromfs  vs  mount -o loop,ro + cp -a + umount
//   --extra   also fuse2fs -o ro + tar c (fs2tar to a file, ext4) and
//             debugfs rdump (cpfromfs), issue 4's other references
//
// Trees (--tree): synthetic, bench/tree.mjs's 6,000+ generated files of
// 331 MB; rootfs, Debian 12 minbase as debootstrap makes it (about 6,800
// entries, 200 MB; the tarball is cached in ~/.cache/lkl); x10, the
// memory line alone: the rootfs copied 10 times under one top (about
// 68,000 entries, 2 GB) in a 4 GiB image, each lkl command once, cold.
// --tree both is synthetic,rootfs; all adds x10.
//
// Caches (--cache): cold, every cache dropped before each run (sync;
// drop_caches), then the programs (node, the CLI's modules and addon, tar,
// cp...) read back, outside the time; warm, no drop, a sync before each run
// (so that no earlier run's writeback lands in this one's time), then the
// run's input (the image, or the tree for cptofs) read into the page cache.
//
// Mounting and unmounting are inside the host kernel's times, as boot,
// mount and unmount are inside lkl's.  Runs that write an image or a tree
// end with sync, inside the time, so that the data is on the disk for every
// tool alike; archives are left in the page cache by every tool alike.
// The runs of one line (lkl and its references) interleave, in a rotating
// order, so that drift hits them alike.  Every lkl run's peak RSS is read
// with GNU time (/usr/bin/time -f %M: wait4's ru_maxrss, of lkl and what
// it waited for).  Needs root, GNU tar, e2fsprogs, xfsprogs, btrfs-progs
// (fuse2fs for --extra).
//
// Usage: node bench/copy.mjs [--work DIR] [--reps N] [--only fs2tar,cptofs,cpfromfs]
//          [--cache warm|cold|both] [--tree synthetic,rootfs,x10|both|all]
//          [--fs ext4,xfs,btrfs] [--extra]
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { TABLE_HEAD, cell, lineRunner, runs, tableRow } from './lines.mjs';
import { makeTree } from './tree.mjs';
import {
	GNU_TAR, haveTime, lkl, makeCopies, makeRootfs, options, prepare, q, readAll, readRss, readTree,
	sh, timed, umountBelow, withLoop, withRss,
} from './lib.mjs';

const o = options(process.argv.slice(2));
const work = resolve(o.opt('--work', '/tmp/lkl-bench'));
const reps = Number(o.opt('--reps', '5'));
const only = o.list('--only', 'fs2tar,cptofs,cpfromfs', ['fs2tar', 'cptofs', 'cpfromfs']);
const caches = o.caches();
const treeNames = o.trees(['x10']);
const fsTypes = o.list('--fs', 'ext4,xfs,btrfs', ['ext4', 'xfs', 'btrfs']);
const x10 = treeNames.includes('x10');
const extra = o.flag('--extra');
const IMAGE_MIB = 1024;
const X10_MIB = 4096;
const RSS_GOAL_MIB = 150;

const mnt = join(work, 'mnt');
const out = join(work, 'out.img');		// the write lines' image
const tar = join(work, 'out.tar');
const dest = join(work, 'dest');
const rssFile = join(work, 'rss');

// Images -----------------------------------------------------------------

/** A fresh sparse file of `mib` MiB. */
const fresh = (img, mib) => `rm -f ${q(img)} && truncate -s ${mib}M ${q(img)}`;

/**
 * An image of `fsType` holding `tree` (kept for the next run).  ext4 and
 * btrfs: made from the tree by mkfs; xfs: mkfs.xfs (6.1 has no -d), then
 * filled by the host's kernel.
 */
function image(tree, fsType, name, mib = IMAGE_MIB) {
	const img = join(work, `${name}-${fsType}.img`);
	if (fs.existsSync(`${img}.done`))
		return img;
	process.stderr.write(`making ${img}\n`);
	if (fsType === 'ext4')
		sh(`${fresh(img, mib)} && mke2fs -q -F -t ext4 -d ${q(tree)} ${q(img)}`);
	if (fsType === 'btrfs')
		sh(`${fresh(img, mib)} && mkfs.btrfs -q -f --rootdir ${q(tree)} ${q(img)}`);
	if (fsType === 'xfs') {
		sh(`${fresh(img, mib)} && mkfs.xfs -q -f ${q(img)}`);
		withLoop(img, mnt, '', () => sh(`cp -a ${q(tree)}/. ${q(mnt)}/`));
	}
	fs.writeFileSync(`${img}.done`, '');
	return img;
}

const { compare, rows } = lineRunner({ reps, rssFile });

// The lines --------------------------------------------------------------

const lklRun = (cmd) => withRss(`${lkl} ${cmd}`, rssFile);
const loopRo = (img, cmd) => `mount -o loop,ro ${q(img)} ${q(mnt)} && ${cmd} && umount ${q(mnt)}`;
const cleanDest = `rm -rf ${q(dest)} && mkdir ${q(dest)}`;

function fs2tar(tree, name, fsType, cache) {
	const img = image(tree, fsType, name);
	const key = { tree: name, fs: fsType };
	const rmTar = `rm -f ${q(tar)}`;
	const refFile = 'mount -o loop,ro + tar c + umount';
	const refs = [{ ref: refFile, max: 1.3 }];
	const entries = [
		{ name: 'lkl fs2tar', lkl: true, run: lklRun(`fs2tar -q ${q(img)} ${q(tar)}`), cleanup: rmTar },
		{ name: refFile, run: loopRo(img, `${GNU_TAR} -cf ${q(tar)} -C ${q(mnt)} .`), cleanup: rmTar },
	];
	if (extra && fsType === 'ext4') {
		entries.push({
			name: 'fuse2fs -o ro + tar c + umount',
			run: `fuse2fs -o ro ${q(img)} ${q(mnt)} >/dev/null && ${GNU_TAR} -cf ${q(tar)} -C ${q(mnt)} . && umount ${q(mnt)}`,
			cleanup: rmTar,
		});
		refs.push({ ref: entries.at(-1).name });
	}
	compare({ ...key, task: 'fs2tar > file' }, cache, readAll(img), entries, refs);
	const refPipe = 'mount -o loop,ro + tar c | cat + umount';
	compare({ ...key, task: 'fs2tar | cat' }, cache, readAll(img), [
		{ name: 'lkl fs2tar | cat', lkl: true, run: `${lklRun(`fs2tar -q ${q(img)} -`)} | cat > /dev/null` },
		{ name: refPipe, run: loopRo(img, `${GNU_TAR} -cf - -C ${q(mnt)} . | cat > /dev/null`) },
	], [{ ref: refPipe, max: 1.3 }]);
}

function cptofs(tree, name, cache) {
	const cp = 'mkfs.ext4 + mount -o loop + cp -a + umount';
	compare({ tree: name, fs: 'ext4', task: 'cptofs' }, cache, readTree(tree), [
		{
			name: 'mkfs.ext4 + lkl cptofs', lkl: true, setup: fresh(out, IMAGE_MIB),
			run: `mkfs.ext4 -q -F ${q(out)} && ${lklRun(`cptofs -q -i ${q(out)} ${q(tree)}/. /`)} && sync`,
		},
		{
			name: cp, setup: fresh(out, IMAGE_MIB),
			run: `mkfs.ext4 -q -F ${q(out)} && mount -o loop ${q(out)} ${q(mnt)} && cp -a ${q(tree)}/. ${q(mnt)}/ && umount ${q(mnt)} && sync`,
		},
		{ name: 'mke2fs -d', setup: fresh(out, IMAGE_MIB), run: `mke2fs -q -F -t ext4 -d ${q(tree)} ${q(out)} && sync` },
	], [{ ref: cp, max: 1.3 }, { ref: 'mke2fs -d', max: 1.5 }]);
}

function cpfromfs(tree, name, cache) {
	const img = image(tree, 'ext4', name);
	const cp = 'mount -o loop,ro + cp -a + umount';
	const entries = [
		{ name: 'lkl cpfromfs', lkl: true, setup: cleanDest, run: `${lklRun(`cpfromfs -q -i ${q(img)} /. ${q(dest)}`)} && sync` },
		{ name: cp, setup: cleanDest, run: `${loopRo(img, `cp -a ${q(mnt)}/. ${q(dest)}/`)} && sync` },
	];
	const goals = [{ ref: cp, max: 1.3 }];
	if (extra) {
		entries.push({ name: 'debugfs rdump', setup: cleanDest, run: `debugfs -R ${q(`rdump / ${dest}`)} ${q(img)} 2>/dev/null && sync` });
		goals.push({ ref: 'debugfs rdump' });
	}
	compare({ tree: name, fs: 'ext4', task: 'cpfromfs' }, cache, readAll(img), entries, goals);
	sh(`rm -rf ${q(dest)}`);
}

/** The memory line: each lkl command once on the 10× tree, cold. */
function memory(tree, info) {
	const name = 'rootfs ×10';
	const img = image(tree, 'ext4', 'rootfs-x10', X10_MIB);
	const big = join(work, 'out-x10.img');
	const cmds = {
		fs2tar: { name: 'lkl fs2tar | cat', run: `${lklRun(`fs2tar -q ${q(img)} -`)} | cat > /dev/null` },
		cptofs: {
			name: 'mkfs.ext4 + lkl cptofs', setup: fresh(big, X10_MIB),
			run: `mkfs.ext4 -q -F ${q(big)} && ${lklRun(`cptofs -q -i ${q(big)} ${q(tree)}/. /`)} && sync`, cleanup: `rm -f ${q(big)}`,
		},
		cpfromfs: { name: 'lkl cpfromfs', setup: cleanDest, run: `${lklRun(`cpfromfs -q -i ${q(img)} /. ${q(dest)}`)} && sync`, cleanup: `rm -rf ${q(dest)}` },
	};
	process.stderr.write(`${name}: ${info.entries} entries, ${(info.bytes / 1e6).toFixed(0)} MB\n`);
	for (const task of only) {
		const e = cmds[task];
		if (e.setup)
			sh(e.setup);
		prepare('cold');
		fs.rmSync(rssFile, { force: true });
		const s = timed(() => sh(e.run));
		const rss = readRss(rssFile);
		if (e.cleanup)
			sh(e.cleanup);
		process.stderr.write(`= ${name} ${task}: ${e.name} ${s.toFixed(2)} s, peak RSS ${rss.toFixed(0)} MiB\n`);
		rows.push({
			tree: name, cache: 'cold', fs: 'ext4', task: task === 'fs2tar' ? 'fs2tar | cat' : task,
			lkl: { times: [s], median: s, rss }, memory: true,
		});
	}
}

// The run ----------------------------------------------------------------

fs.mkdirSync(mnt, { recursive: true });
umountBelow(work);
if (!haveTime)
	process.stderr.write('no /usr/bin/time (apt-get install time): peak RSS not measured\n');
const loadBefore = sh('cat /proc/loadavg').split(' ').slice(0, 3).join(' ');
const trees = {};
for (const n of treeNames.filter((x) => x !== 'x10'))
	trees[n] = n === 'synthetic' ? { dir: join(work, 'tree'), info: makeTree(join(work, 'tree')) } : { dir: join(work, 'rootfs'), info: makeRootfs(join(work, 'rootfs')) };
for (const [n, t] of Object.entries(trees))
	process.stderr.write(`${n}: ${t.info.files} files, ${t.info.entries} entries, ${(t.info.bytes / 1e6).toFixed(0)} MB\n`);
process.stderr.write(`${reps} runs each; caches ${caches.join(', ')}; file systems ${fsTypes.join(', ')}\n`);

try {
	for (const [n, t] of Object.entries(trees)) {
		for (const cache of caches) {
			if (only.includes('fs2tar')) {
				for (const f of fsTypes)
					fs2tar(t.dir, n, f, cache);
			}
			if (only.includes('cptofs') && fsTypes.includes('ext4'))
				cptofs(t.dir, n, cache);
			if (only.includes('cpfromfs') && fsTypes.includes('ext4'))
				cpfromfs(t.dir, n, cache);
		}
	}
	if (x10) {
		const dir = join(work, 'rootfs-x10');
		makeRootfs(join(work, 'rootfs'));
		trees['rootfs ×10'] = { dir, info: makeCopies(dir, join(work, 'rootfs'), 10) };
		memory(dir, trees['rootfs ×10'].info);
	}
} finally {
	umountBelow(work);
	sh(`rm -rf ${q(dest)} ${q(tar)} ${q(out)}`);
}

// The report -------------------------------------------------------------

const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const describe = (n, i) => `${n}: ${i.files} regular files, ${i.entries} entries, ${(i.bytes / 1e6).toFixed(0)} MB`;
const report = [
	`Trees: ${Object.entries(trees).map(([n, t]) => describe(n, t.info)).join('; ')}. ` +
	`Images of ${IMAGE_MIB} MiB${x10 ? ` (${X10_MIB} MiB for the rootfs ×10)` : ''}; median of ${reps} runs; ` +
	`load average ${loadBefore} before, ${sh('cat /proc/loadavg').split(' ').slice(0, 3).join(' ')} after.`,
	'',
	...TABLE_HEAD,
];
for (const r of rows) {
	report.push(r.memory
		? `| ${r.tree} | ${r.cache} | ${r.fs} | ${cell(r.task)} | ${r.lkl.median.toFixed(2)} | ${f0(r.lkl.rss)} | — | | | peak RSS ≤ ${RSS_GOAL_MIB} MiB | ${r.lkl.rss <= RSS_GOAL_MIB ? 'yes' : 'no'} | ${runs(r.lkl.times)} | |`
		: tableRow(r));
}
const peak = Math.max(...rows.map((r) => r.lkl.rss));
report.push('', haveTime
	? `Peak RSS of every lkl run above: at most ${f0(peak)} MiB (goal ≤ ${RSS_GOAL_MIB} MiB: ${peak <= RSS_GOAL_MIB ? 'met' : 'NOT met'}${x10 ? '' : '; without --tree x10, not shown on the 10× tree'}).`
	: 'Peak RSS not measured: no /usr/bin/time.');
console.log(report.join('\n'));
