#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0
//
// What the kernel's configuration costs, for docs/filesystems.md: the size
// of build/lkl.o, the time from Kernel.boot() to a halted kernel, and the
// peak RSS of `lkl fs2tar` of a small ext4 image.  Not a test (times are
// never asserted): run by hand,
//
//   node bench/kernel-cost.mjs [-n RUNS] REPO...
//
// with one or more built clones (a clone of main for "before"); the runs
// of the clones take turns, so that what else the machine does falls on
// each alike.  Prints the medians, one line per clone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
let runs = 20;
if (args[0] === '-n') {
	runs = Number(args[1]);
	args.splice(0, 2);
}
if (!args.length || !Number.isInteger(runs) || runs < 1) {
	process.stderr.write('usage: kernel-cost.mjs [-n RUNS] REPO...\n');
	process.exit(2);
}
const repos = args.map((r) => resolve(r));

function must(cmd, argv, options = {}) {
	const r = spawnSync(cmd, argv, { encoding: 'utf8', ...options });
	if (r.status !== 0)
		throw new Error(`${cmd} ${argv.join(' ')}: ${r.status ?? r.signal}\n${r.stderr}`);
	return r.stdout;
}

// Boot (the CLI's 64 MiB for a copy out) and halt, in a fresh process:
// one kernel per process.
const BOOT = `
const { Kernel } = await import(process.argv[1]);
const t0 = performance.now();
const k = Kernel.boot({ memoryMiB: 64 });
const t1 = performance.now();
await k.halt();
const t2 = performance.now();
console.log(JSON.stringify({ boot: t1 - t0, halt: t2 - t1 }));
`;

// The CLI in this process, its peak RSS said as it exits.
const RSS = `
process.on('exit', () => process.stderr.write('maxrss ' + process.resourceUsage().maxRSS + '\\n'));
const cli = process.argv[1];
process.argv.splice(1, 1, 'lkl');
await import(cli);
`;

const work = fs.mkdtempSync(join(tmpdir(), 'lkl-kernel-cost-'));
try {
	const root = repos[0];
	must('bash', [join(root, 'test/fixtures/make-tree.sh'), work]);
	const img = join(work, 'ext4.img');
	must('truncate', ['-s', '32M', img]);
	must('mkfs.ext4', ['-q', '-F', '-d', join(work, 'tree'), img]);

	const results = repos.map(() => ({ boot: [], halt: [], rss: [] }));
	for (let i = 0; i < runs; i++) {
		repos.forEach((repo, j) => {
			const index = join(repo, 'dist/src/index.js');
			const b = JSON.parse(must(process.execPath, ['--input-type=module', '-e', BOOT, index]));
			results[j].boot.push(b.boot);
			results[j].halt.push(b.halt);
			const out = join(work, 'out.tar');
			const r = spawnSync(process.execPath, ['--input-type=module', '-e', RSS,
				join(repo, 'dist/src/cli.js'), 'fs2tar', img, out], { encoding: 'utf8' });
			const m = /maxrss (\d+)/.exec(r.stderr);
			if (r.status !== 0 || !m)
				throw new Error(`fs2tar in ${repo}: ${r.status}\n${r.stderr}`);
			results[j].rss.push(Number(m[1]));
			fs.rmSync(out);
		});
	}
	const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
	repos.forEach((repo, j) => {
		const [, sizes] = must('size', [join(repo, 'build/lkl.o')]).trim().split('\n');
		const [text, data, bss] = sizes.trim().split(/\s+/).map(Number);
		const r = results[j];
		console.log(`${repo}: lkl.o text ${text} data ${data} bss ${bss}; ` +
			`boot ${median(r.boot).toFixed(1)} ms, halt ${median(r.halt).toFixed(1)} ms ` +
			`(median of ${runs}); fs2tar of a 32 MiB ext4 image: peak RSS ${median(r.rss)} KiB`);
	});
} finally {
	fs.rmSync(work, { recursive: true, force: true });
}
