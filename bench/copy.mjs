#!/usr/bin/env node
// Issue 4's figures: lkl fs2tar, cptofs and cpfromfs next to the usual
// ways of doing the same with root or FUSE, on one generated tree of
// 6,000+ files and about 250 MB, all in one run.
//
//   fs2tar    vs  mount -o loop,ro + GNU tar c   and  fuse2fs -o ro + GNU tar c
//   cptofs    vs  mke2fs -d                      and  mount -o loop + cp -a
//   cpfromfs  vs  debugfs -R "rdump / dest"      and  mount -o loop,ro + cp -a
//
// Every timed run starts with cold caches (sync; drop_caches) and ends
// once its output is on the disk (sync is part of the time for the runs
// that write an image or a tree; archives are left in the page cache by
// every tool alike).  Needs root, GNU tar, e2fsprogs and fuse2fs.
//
// Usage: node bench/copy.mjs [--work DIR] [--reps N] [--only fs2tar,cptofs,cpfromfs]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTree } from './tree.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : dflt;
};
const work = resolve(opt('--work', '/tmp/lkl-bench'));
const reps = Number(opt('--reps', '5'));
const only = opt('--only', 'fs2tar,cptofs,cpfromfs').split(',');
const IMAGE_MIB = 1024;

function sh(cmd, { quiet = false } = {}) {
	const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
	if (r.status !== 0)
		throw new Error(`failed (${r.status}): ${cmd}\n${r.stdout}\n${r.stderr}`);
	if (!quiet && r.stderr.trim())
		process.stderr.write(r.stderr);
	return r.stdout;
}
const q = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
const lkl = `node ${q(join(repo, 'bin/lkl'))}`;

// The tree ---------------------------------------------------------------

// Timing -----------------------------------------------------------------

function dropCaches() {
	sh('sync; echo 3 > /proc/sys/vm/drop_caches');
}

/** Runs `setup`, drops caches, times `run`, then `cleanup`; `reps` times. */
function measure(name, { setup = '', run, cleanup = '' }) {
	const times = [];
	for (let i = 0; i < reps; i++) {
		if (setup)
			sh(setup);
		dropCaches();
		const t0 = process.hrtime.bigint();
		sh(run);
		times.push(Number(process.hrtime.bigint() - t0) / 1e9);
		if (cleanup)
			sh(cleanup);
	}
	const sorted = [...times].sort((a, b) => a - b);
	const median = sorted[Math.floor(sorted.length / 2)];
	process.stderr.write(`${name}: ${times.map((s) => s.toFixed(2)).join(' ')} s\n`);
	return { name, run, times, median };
}

// The run ----------------------------------------------------------------

fs.mkdirSync(work, { recursive: true });
const tree = join(work, 'tree');
const info = makeTree(tree);
const mnt = join(work, 'mnt');
const img = join(work, 'src.img');		// the read benchmarks' image, made by mke2fs -d
const out = join(work, 'out.img');		// the write benchmarks' image
const tar = join(work, 'out.tar');
const dest = join(work, 'dest');
fs.mkdirSync(mnt, { recursive: true });
sh(`mountpoint -q ${q(mnt)} && umount ${q(mnt)} || true`);
if (!fs.existsSync(`${img}.done`)) {
	sh(`rm -f ${q(img)} && truncate -s ${IMAGE_MIB}M ${q(img)} && mke2fs -q -F -t ext4 -d ${q(tree)} ${q(img)}`);
	fs.writeFileSync(`${img}.done`, '');
}
const GNU_TAR = `tar --xattrs --xattrs-include='*' --acls --numeric-owner --format=posix`;
const fresh = `rm -f ${q(out)} && truncate -s ${IMAGE_MIB}M ${q(out)}`;
const mkfs = `${fresh} && mkfs.ext4 -q -F ${q(out)}`;

process.stderr.write(`tree: ${info.files} files, ${info.entries} entries, ${(info.bytes / 1e6).toFixed(0)} MB; ${reps} runs each\n`);
const results = [];
if (only.includes('fs2tar')) {
	results.push(['fs2tar', [
		measure('lkl fs2tar', { run: `${lkl} fs2tar -q ${q(img)} ${q(tar)}`, cleanup: `rm -f ${q(tar)}` }),
		measure('mount -o loop,ro + tar c', {
			run: `mount -o loop,ro ${q(img)} ${q(mnt)} && ${GNU_TAR} -cf ${q(tar)} -C ${q(mnt)} . && umount ${q(mnt)}`,
			cleanup: `rm -f ${q(tar)}`,
		}),
		measure('fuse2fs -o ro + tar c', {
			run: `fuse2fs -o ro ${q(img)} ${q(mnt)} >/dev/null && ${GNU_TAR} -cf ${q(tar)} -C ${q(mnt)} . && umount ${q(mnt)}`,
			cleanup: `rm -f ${q(tar)}`,
		}),
	]]);
}
if (only.includes('cptofs')) {
	results.push(['cptofs', [
		measure('mkfs.ext4 + lkl cptofs', { setup: fresh, run: `mkfs.ext4 -q -F ${q(out)} && ${lkl} cptofs -q -i ${q(out)} ${q(tree)}/. / && sync` }),
		measure('lkl cptofs (mkfs.ext4 untimed)', { setup: mkfs, run: `${lkl} cptofs -q -i ${q(out)} ${q(tree)}/. / && sync` }),
		measure('mke2fs -d', { setup: fresh, run: `mke2fs -q -F -t ext4 -d ${q(tree)} ${q(out)} && sync` }),
		measure('mount -o loop + cp -a (mkfs.ext4 untimed)', {
			setup: mkfs,
			run: `mount -o loop ${q(out)} ${q(mnt)} && cp -a ${q(tree)}/. ${q(mnt)}/ && umount ${q(mnt)} && sync`,
		}),
	]]);
}
if (only.includes('cpfromfs')) {
	const clean = `rm -rf ${q(dest)} && mkdir ${q(dest)}`;
	results.push(['cpfromfs', [
		measure('lkl cpfromfs', { setup: clean, run: `${lkl} cpfromfs -q -i ${q(img)} /. ${q(dest)} && sync` }),
		measure('debugfs rdump', { setup: clean, run: `debugfs -R ${q(`rdump / ${dest}`)} ${q(img)} 2>/dev/null && sync` }),
		measure('mount -o loop,ro + cp -a', {
			setup: clean,
			run: `mount -o loop,ro ${q(img)} ${q(mnt)} && cp -a ${q(mnt)}/. ${q(dest)}/ && umount ${q(mnt)} && sync`,
		}),
	]]);
	sh(`rm -rf ${q(dest)}`);
}

// The report -------------------------------------------------------------

const mb = info.bytes / 1e6;
const lines = [
	`Tree: ${info.files} regular files (${info.entries} entries with directories, symlinks and hard links), ${mb.toFixed(0)} MB of data; ext4 images of ${IMAGE_MIB} MiB; median of ${reps} runs, cold caches.`,
	'',
	'| task | tool | median | MB/s | files/s | runs (s) |',
	'| --- | --- | ---: | ---: | ---: | --- |',
];
for (const [task, rows] of results) {
	for (const r of rows) {
		lines.push(`| ${task} | ${r.name} | ${r.median.toFixed(2)} s | ${(mb / r.median).toFixed(0)} | ${(info.files / r.median).toFixed(0)} | ${r.times.map((s) => s.toFixed(2)).join(', ')} |`);
	}
}
console.log(lines.join('\n'));
