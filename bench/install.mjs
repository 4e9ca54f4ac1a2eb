#!/usr/bin/env node
// What installing costs a user, and what the single-file executable costs
// next to the package run by node, in one run:
//   - the package's size, and npm install --offline of the packed tarball
//     into an empty directory;
//   - the executable's size; its first run (unpacking its native files to
//     an empty cache), then start to --version, and fs2tar of a small ext4
//     image (a 4 MiB tree of 200 files), each against node bin/lkl.
// Runs alternate between the two, warm caches, the median of --reps.
// Needs npm run build first, and mkfs.ext4.
//
// Usage: node bench/install.mjs [--reps N]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1] || 21);
const exe = join(repo, 'build', 'sea', `lkl-linux-${process.arch}`);
const work = fs.mkdtempSync(join(tmpdir(), 'lkl-bench-install-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));

function run(cmd, argv, options = {}) {
	const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 26, ...options });
	if (r.status !== 0)
		throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
	return r.stdout;
}

function seconds(cmd, argv, options) {
	const t0 = process.hrtime.bigint();
	run(cmd, argv, options);
	return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const ms = (s) => `${(s * 1000).toFixed(0)} ms`;

// The package.
const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo }))[0];
const app = join(work, 'app');
fs.mkdirSync(app);
const installSeconds = seconds('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)],
	{ cwd: app, env: { ...process.env, npm_config_cache: join(work, 'npm-cache') } });

// A small image.
const tree = join(work, 'tree');
for (let i = 0; i < 200; i++) {
	fs.mkdirSync(join(tree, `d${i % 10}`), { recursive: true });
	fs.writeFileSync(join(tree, `d${i % 10}`, `f${i}`), Buffer.alloc(20_000 + i, i));
}
const img = join(work, 'small.img');
run('truncate', ['-s', '32M', img]);
run('mkfs.ext4', ['-q', '-d', tree, img]);

// The executable's first run, into an empty cache, then warm ones.
const cache = join(work, 'cache');
const seaEnv = { ...process.env, XDG_CACHE_HOME: cache };
const first = seconds(exe, ['fs2tar', img, join(work, 'first.tar')], { env: seaEnv });

const cases = [
	['start to --version', ['--version']],
	['fs2tar of the small image', ['fs2tar', img, join(work, 'out.tar')]],
];
const rows = [];
for (const [name, argv] of cases) {
	const sea = [];
	const node = [];
	for (let i = 0; i < reps; i++) {
		sea.push(seconds(exe, argv, { env: seaEnv }));
		node.push(seconds(process.execPath, [join(repo, 'bin', 'lkl'), ...argv]));
	}
	rows.push([name, median(sea), median(node)]);
}

console.log(`package ${packed.filename}: ${mib(packed.size)} packed, ${mib(packed.unpackedSize)} unpacked, ${packed.entryCount} files`);
console.log(`npm install --offline of it: ${installSeconds.toFixed(1)} s`);
console.log(`executable: ${mib(fs.statSync(exe).size)}; first run (unpacks ${mib(fs.statSync(join(repo, 'prebuilds', `linux-${process.arch}`, 'lkl.glibc.node')).size + fs.statSync(join(repo, 'prebuilds', `linux-${process.arch}`, 'lklfuse-server')).size)}): ${ms(first)} for fs2tar`);
console.log(`median of ${reps}, warm      executable   node bin/lkl`);
for (const [name, sea, node] of rows)
	console.log(`${name.padEnd(26)} ${ms(sea).padStart(10)} ${ms(node).padStart(14)}`);
