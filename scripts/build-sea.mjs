#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0
//
// lkl as one file that runs without Node installed: Node's single-executable
// applications.  The command line (dist/, bundled by esbuild into one
// CommonJS file, which is all a single executable can run) is injected into
// a copy of this Node binary with postject; the addon and lklfuse-server
// from prebuilds/ go in as assets, which src/lkl/single-executable.ts
// unpacks to a per-user cache on first use.
//
// Output: build/sea/lkl-linux-<arch>.  Skipped when its inputs are unchanged.
// Usage: node scripts/build-sea.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = fileURLToPath(new URL('..', import.meta.url));
const say = (m) => process.stderr.write(`sea: ${m}\n`);
const die = (m) => { say(m); process.exit(1); };

const arch = process.arch;
const prebuilds = join(top, 'prebuilds', `linux-${arch}`);
const work = join(top, 'build', 'sea');
const output = join(work, `lkl-linux-${arch}`);
const pkg = JSON.parse(fs.readFileSync(join(top, 'package.json'), 'utf8'));
const files = { addon: 'lkl.node', server: 'lklfuse-server' };
const sources = { [files.addon]: join(prebuilds, 'lkl.glibc.node'), [files.server]: join(prebuilds, 'lklfuse-server') };
for (const f of [...Object.values(sources), join(top, 'dist', 'src', 'cli.js')])
	if (!fs.existsSync(f))
		die(`${f} is missing: run npm run build first`);

fs.mkdirSync(work, { recursive: true });

/** Runs a tool, showing its output only if it fails. */
function quiet(cmd, args) {
	const r = spawnSync(cmd, args, { encoding: 'utf8' });
	if (r.status !== 0)
		die(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}${r.error ?? ''}`);
}

// One CommonJS file.  import.meta.url has no CommonJS equivalent, and
// esbuild would leave it undefined: give it the executable's own path,
// which is all the code uses it for there (a base for createRequire).
const bundle = join(work, 'lkl.cjs');
execFileSync(join(top, 'node_modules', '.bin', 'esbuild'), [
	join(top, 'dist', 'src', 'cli.js'), '--bundle', '--platform=node', '--target=node20',
	'--format=cjs', `--outfile=${bundle}`, '--log-level=warning',
	'--define:import.meta.url=__lkl_import_meta_url',
	'--banner:js=const __lkl_import_meta_url = require("node:url").pathToFileURL(process.execPath).href;',
], { stdio: 'inherit' });

const assetHash = createHash('sha256');
for (const name of [files.addon, files.server])
	assetHash.update(fs.readFileSync(sources[name]));
const manifest = { version: pkg.version, hash: assetHash.digest('hex'), files };

// The cache directory is named after the assets; the stamp also covers
// the bundle and the Node binary the executable is made from.
const stamp = createHash('sha256').update(JSON.stringify(manifest)).update(fs.readFileSync(bundle))
	.update(process.version).update(fs.readFileSync(process.execPath)).digest('hex');
const stampFile = `${output}.stamp`;
if (fs.existsSync(output) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
	say(`up to date (${output})`);
	process.exit(0);
}

fs.writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));
const config = join(work, 'sea-config.json');
const blob = join(work, 'lkl.blob');
fs.writeFileSync(config, JSON.stringify({
	main: bundle,
	output: blob,
	disableExperimentalSEAWarning: true,
	// A code cache would break import(), which the CLI uses to load only
	// the command being run; a snapshot cannot hold an addon.
	useCodeCache: false,
	useSnapshot: false,
	assets: { 'manifest.json': join(work, 'manifest.json'), ...sources },
}));
quiet(process.execPath, ['--experimental-sea-config', config]);

// A copy of this Node, without its symbols (12 MB smaller, runs the same).
const staging = `${output}.tmp`;
fs.copyFileSync(process.execPath, staging);
fs.chmodSync(staging, 0o755);
execFileSync('strip', [staging]);
// postject warns about every note section of node it cannot name; they are
// left as they were (nodejs/postject#83).
quiet(join(top, 'node_modules', '.bin', 'postject'), [
	staging, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
]);
fs.renameSync(staging, output);
fs.writeFileSync(stampFile, stamp);
say(`${output}: ${(fs.statSync(output).size / 2 ** 20).toFixed(1)} MiB`);
