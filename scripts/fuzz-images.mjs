#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0
//
// Fuzzes lkl with hostile filesystem images: damages the metadata of small
// ext4, btrfs, xfs and vfat images made by their own mkfs, then runs
// fs2tar, lkl info, cpfromfs, a read-only lklfuse walk and a cptofs into a copy on
// each, and checks what docs/fuzzing.md lists.  A case is (filesystem,
// seed) over a base image kept in the output directory; every failing case
// is saved there with its damaged image.
//
//   node scripts/fuzz-images.mjs [--fs ext4,btrfs,xfs,vfat] [--cases 100]
//       [--seed 1] [--limit 20] [--jobs 1] [--out fuzz-out] [--work DIR] [-v]
//   node scripts/fuzz-images.mjs --replay image.img[.xz] [--fs vfat] [--limit 20]
//   node scripts/fuzz-images.mjs --write-images DIR [--fs ...] [--cases N] [--seed N]
//   node scripts/fuzz-images.mjs --summary [--out fuzz-out]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FILESYSTEMS, makeBaseImage } from './fuzz/base-images.mjs';
import { findChecksums } from './fuzz/checksums.mjs';
import { metadataMap } from './fuzz/metadata.mjs';
import { mutate } from './fuzz/mutate.mjs';
import { FAILURE_KINDS, hashFile, layOut, runCase } from './fuzz/run-case.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const LKL = [process.execPath, join(REPO, 'bin/lkl')];

function usage(message) {
	process.stderr.write(`fuzz-images: ${message}\n` +
		'usage: fuzz-images.mjs [--fs ext4,btrfs,xfs,vfat] [--cases N] [--seed N] [--limit SECONDS]\n' +
		'                       [--jobs N] [--out DIR] [--work DIR] [-v]\n' +
		'       fuzz-images.mjs --replay IMAGE[.xz] [--limit SECONDS] [--work DIR]\n' +
		'       fuzz-images.mjs --write-images DIR [--fs LIST] [--cases N] [--seed N] [--out DIR]\n' +
		'       fuzz-images.mjs --summary [--out DIR]\n');
	process.exit(2);
}

function integer(name, value, min) {
	const n = Number(value);
	if (!Number.isInteger(n) || n < min)
		usage(`--${name} wants an integer of at least ${min}, not ${JSON.stringify(value)}`);
	return n;
}

let args;
try {
	args = parseArgs({
		options: {
			fs: { type: 'string', default: FILESYSTEMS.join(',') },
			cases: { type: 'string', default: '100' },
			seed: { type: 'string', default: '1' },
			limit: { type: 'string', default: '20' },
			jobs: { type: 'string', default: '1' },
			out: { type: 'string', default: 'fuzz-out' },
			work: { type: 'string', default: tmpdir() },
			replay: { type: 'string' },
			'write-images': { type: 'string' },
			summary: { type: 'boolean', default: false },
			verbose: { type: 'boolean', short: 'v', default: false },
		},
	}).values;
} catch (err) {
	usage(err.message);
}
const kinds = args.fs.split(',');
for (const k of kinds) {
	if (!FILESYSTEMS.includes(k))
		usage(`--fs: unknown filesystem ${JSON.stringify(k)} (${FILESYSTEMS.join(', ')})`);
}
const cases = integer('cases', args.cases, 1);
const firstSeed = integer('seed', args.seed, 0);
const limitMs = integer('limit', args.limit, 1) * 1000;
const jobs = integer('jobs', args.jobs, 1);
const out = resolve(args.out);
const record = join(out, 'cases.jsonl');

/** One line per filesystem from the case records: cases, ok, failures by kind. */
function summarize(records) {
	const lines = [];
	for (const k of FILESYSTEMS) {
		const mine = records.filter((r) => r.fs === k);
		if (!mine.length)
			continue;
		const bad = mine.filter((r) => r.failures.length);
		const byKind = {};
		for (const r of bad) {
			for (const kind of new Set(r.failures.map((f) => f.kind)))
				byKind[kind] = (byKind[kind] ?? 0) + 1;
		}
		const kindsText = Object.keys(FAILURE_KINDS).filter((x) => byKind[x]).map((x) => `${x} ${byKind[x]}`).join(', ') || 'none';
		// How deep the damage let the commands go: whole reads and mounts.
		const read = mine.filter((r) => r.outcomes?.fs2tar === 'ok').length;
		const mounts = mine.filter((r) => r.outcomes?.lklfuse === 'ok').length;
		lines.push(`${k}: ${mine.length} cases, ${mine.length - bad.length} ok, failures: ${kindsText} ` +
			`(fs2tar read all of ${read}, lklfuse mounted ${mounts})`);
	}
	return lines;
}

if (args.summary) {
	const records = fs.existsSync(record) ? fs.readFileSync(record, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
	if (!records.length)
		usage(`no cases recorded in ${record}`);
	for (const line of summarize(records))
		console.log(line);
	process.exit(0);
}

/** A fresh case directory under --work, without white space in its path (the mount table escapes it). */
function caseDir(name) {
	const dir = fs.mkdtempSync(join(resolve(args.work), `lkl-fuzz-${name}-`));
	if (/\s/.test(dir))
		usage(`--work: ${dir} has white space in it`);
	return dir;
}

/** Writes `buf` as a sparse file: its zero blocks are left as holes. */
function writeSparse(path, buf) {
	const fd = fs.openSync(path, 'w');
	try {
		const chunk = 65536;
		const zero = Buffer.alloc(chunk);
		for (let at = 0; at < buf.length; at += chunk) {
			const piece = buf.subarray(at, at + chunk);
			if (!piece.equals(zero.subarray(0, piece.length)))
				fs.writeSync(fd, piece, 0, piece.length, at);
		}
		fs.ftruncateSync(fd, buf.length);
	} finally {
		fs.closeSync(fd);
	}
}

function xz(from, to) {
	const r = spawnSync('xz', ['-T1', '-c', from], { maxBuffer: 1 << 30 });
	if (r.status !== 0)
		throw new Error(`xz ${from}: ${r.stderr}`);
	fs.writeFileSync(to, r.stdout);
}

if (args.replay) {
	const dir = caseDir('replay');
	try {
		const image = join(dir, 'image.img');
		if (args.replay.endsWith('.xz')) {
			const r = spawnSync('xz', ['-dc', args.replay], { maxBuffer: 1 << 30 });
			if (r.status !== 0)
				usage(`--replay: cannot decompress ${args.replay}: ${r.stderr}`);
			writeSparse(image, r.stdout);
		} else {
			writeSparse(image, fs.readFileSync(args.replay));
		}
		layOut(dir, kinds.length === 1 ? kinds[0] : undefined);
		const { failures, outcomes } = await runCase(dir, LKL, limitMs);
		console.log(JSON.stringify({ image: args.replay, outcomes, failures }, null, 2));
		process.exit(failures.length ? 1 : 0);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

/** The base image of `kind`, made once per output directory and kept. */
function baseImage(kind) {
	const base = join(out, 'base', `${kind}.img`);
	if (!fs.existsSync(base)) {
		fs.mkdirSync(join(out, 'base'), { recursive: true });
		const work = caseDir(`base-${kind}`);
		try {
			makeBaseImage(kind, `${base}.new`, work, LKL);
		} finally {
			fs.rmSync(work, { recursive: true, force: true });
		}
		fs.renameSync(`${base}.new`, base);
	}
	const buf = fs.readFileSync(base);
	const map = metadataMap(kind, buf);
	return { path: base, buf, map, checksums: findChecksums(kind, buf, map.offsets), sha256: hashFile(base) };
}

fs.mkdirSync(out, { recursive: true });
const bases = Object.fromEntries(kinds.map((k) => [k, baseImage(k)]));

// Seeds in the outer loop: a run cut short has done each filesystem alike.
const queue = [];
for (let seed = firstSeed; seed < firstSeed + cases; seed++) {
	for (const k of kinds)
		queue.push({ fs: k, seed });
}

/** The damaged image of a case, and what was done to it. */
function damaged(kind, seed) {
	const base = bases[kind];
	const buf = Buffer.from(base.buf);
	return { buf, mutations: mutate(buf, base.map, base.checksums, `${kind}:${seed}`) };
}

if (args['write-images']) {
	// For triage: the images only, named <fs>-<seed>.img.
	fs.mkdirSync(args['write-images'], { recursive: true });
	for (const { fs: kind, seed } of queue) {
		const { buf, mutations } = damaged(kind, seed);
		const img = join(args['write-images'], `${kind}-${seed}.img`);
		writeSparse(img, buf);
		console.log(`${img}: ${mutations.join('; ')}`);
	}
	process.exit(0);
}

const records = [];
async function oneCase({ fs: kind, seed }) {
	const base = bases[kind];
	const { buf, mutations } = damaged(kind, seed);
	const dir = caseDir(`${kind}-${seed}`);
	try {
		writeSparse(join(dir, 'image.img'), buf);
		layOut(dir, kind);
		const started = Date.now();
		const { failures, outcomes } = await runCase(dir, LKL, limitMs);
		const rec = { fs: kind, seed, base: base.sha256, ms: Date.now() - started, outcomes, failures, mutations };
		records.push(rec);
		// The record without gdb's stacks of a hang, which go to the case's own files.
		const brief = { ...rec, failures: failures.map(({ stacks, ...f }) => f) };
		fs.appendFileSync(record, `${JSON.stringify(brief)}\n`);
		if (failures.length) {
			const keep = join(out, `${kind}-${seed}`);
			fs.rmSync(keep, { recursive: true, force: true });
			fs.mkdirSync(keep, { recursive: true });
			xz(join(dir, 'image.img'), join(keep, 'image.img.xz'));
			fs.writeFileSync(join(keep, 'case.json'), `${JSON.stringify(brief, null, 2)}\n`);
			const stacks = failures.filter((f) => f.stacks).map((f) => `### ${f.command}: ${f.kind}\n${f.stacks}\n`);
			if (stacks.length)
				fs.writeFileSync(join(keep, 'stacks.txt'), stacks.join('\n'));
			if (fs.existsSync(join(dir, 'kernel.log')))
				fs.copyFileSync(join(dir, 'kernel.log'), join(keep, 'kernel.log'));
			for (const f of failures)
				console.log(`${kind} seed ${seed}: ${f.kind}: ${f.command}: ${f.detail}`);
		} else if (args.verbose) {
			console.log(`${kind} seed ${seed}: ok (${Object.entries(outcomes).map(([c, o]) => `${c} ${o}`).join(', ')})`);
		}
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

async function worker() {
	for (let task = queue.shift(); task; task = queue.shift())
		await oneCase(task);
}

await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
for (const line of summarize(records))
	console.log(line);
process.exitCode = records.some((r) => r.failures.length) ? 1 : 0;
