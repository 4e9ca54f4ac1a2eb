#!/usr/bin/env node
// Issue 5's figures: one ext4 image mounted three ways, the same work
// done through each, in one run.
//
//   lklfuse   node bin/lkl lklfuse IMG MNT          (this project)
//   fuse2fs   fuse2fs IMG MNT                      (e2fsprogs, as root)
//   loop      mount -o loop IMG MNT                (the host's kernel)
//
// Lines (--only):
//   mount   mount + unmount alone (read-only), the fixed cost in every line
//   write   dd of a 1 GiB file (deterministic bytes, in the host page cache)
//           into the image, bs=1M conv=fsync
//   read    dd of a 1 GiB file of the image to /dev/null, bs=1M (read-only)
//   tar     GNU tar -cf - of the tree | wc -c  (not -f /dev/null: tar skips
//           reading files then) (read-only)
//   find    find TREE -ls | wc -l (read-only)
//   untar   tar -xf of the tree's archive (in the host page cache) into a
//           new directory of the image
//
// Every timed run starts with cold caches (sync; drop_caches; then the
// programs and the source file of write/untar are read back into the host
// page cache, outside the time) and a fresh mount: the time is mount + the
// work + unmount (fusermount3 -u, or umount for the loop mount) + the wait
// for the FUSE server's exit (it writes back and closes the image after
// fusermount3 -u returns) + sync, so that the data is on the disk for every
// tool alike.  The write lines work on a fresh copy of the master image
// each run (copied outside the time); the read lines mount the master
// read-only (ro for all three).  The tools' runs are interleaved, in a
// rotating order.
//
// Checked after each run (outside the time): write: e2fsck -fn and the
// file's bytes against the source; read: the byte count (and the bytes,
// once per tool before timing); tar: the archive's size is the same for
// every run; find: the line count; untar: e2fsck -fn and tar --compare.
//
// The script runs itself again in a mount namespace of its own (unshare
// -m, private propagation), so that other processes on the machine do not
// see, walk or hold busy its mounts.  Needs root, util-linux, GNU tar,
// e2fsprogs, fuse2fs and a built tree (build/native).
//
// Usage: node bench/fuse.mjs [--work DIR] [--reps N]
//          [--only mount,write,read,tar,find,untar] [--tools lklfuse,fuse2fs,loop]
//          [--lklfuse-o OPTS] [--lklfuse-args ARGS] [--fuse2fs-o OPTS]
//          [--variant 'NAME:LKLFUSE ARGS']...
//
// --lklfuse-o and --fuse2fs-o add -o options to every mount of that tool
// (e.g. --lklfuse-o mb=512), --lklfuse-args arguments to the launcher's
// command line (e.g. -s); each --variant adds one more lklfuse tool named
// NAME, with those arguments (e.g. --variant 'lklfuse -s:-s').  The work
// directory keeps the tree, the 1 GiB source file, the archive and the
// master image for the next run.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cipher, makeTree } from './tree.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
if (!process.env.LKL_FUSE_BENCH_NS) {
	const r = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, fileURLToPath(import.meta.url), ...args],
		{ stdio: 'inherit', env: { ...process.env, LKL_FUSE_BENCH_NS: '1' } });
	process.exit(r.status ?? 1);
}
const opt = (name, dflt) => {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : dflt;
};
const work = resolve(opt('--work', '/tmp/lkl-fusebench'));
const reps = Number(opt('--reps', '3'));
const only = opt('--only', 'mount,write,read,tar,find,untar').split(',');
const toolNames = opt('--tools', 'lklfuse,fuse2fs,loop').split(',');
// --variant 'NAME:ARGS' (repeatable): one more lklfuse line, with ARGS
// added to the launcher's command line, e.g. --variant 'lklfuse -s:-s'.
const variants = new Map();
args.forEach((a, i) => {
	if (a === '--variant') {
		const v = args[i + 1], c = v.indexOf(':');
		variants.set(v.slice(0, c), v.slice(c + 1));
		toolNames.push(v.slice(0, c));
	}
});
const lklfuseOpts = opt('--lklfuse-o', '');
const lklfuseArgs = opt('--lklfuse-args', '');	// e.g. -s
const fuse2fsOpts = opt('--fuse2fs-o', '');
const IMAGE_MIB = 3072;
const BIG = 1 << 30;

function sh(cmd, { quiet = false, ok = [0] } = {}) {
	const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
	if (!ok.includes(r.status))
		throw new Error(`failed (${r.status}): ${cmd}\n${r.stdout}\n${r.stderr}`);
	if (!quiet && r.stderr.trim())
		process.stderr.write(r.stderr);
	return r.stdout;
}
const q = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
const lkl = `node ${q(join(repo, 'bin/lkl'))}`;
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** 1 GiB of deterministic bytes; returns its SHA-256. */
function makePattern(path) {
	const done = `${path}.done`;
	if (fs.existsSync(done))
		return fs.readFileSync(done, 'utf8');
	const c = cipher('fuse bench 1 GiB');
	const h = createHash('sha256');
	const fd = fs.openSync(path, 'w');
	const chunk = Buffer.alloc(16 << 20);
	for (let done = 0; done < BIG; done += chunk.length) {
		const b = c.update(chunk);
		h.update(b);
		fs.writeSync(fd, b);
	}
	fs.closeSync(fd);
	const sum = h.digest('hex');
	fs.writeFileSync(done, sum);
	return sum;
}

// Mounting -------------------------------------------------------------------

/** The pid of the process named `prog` whose arguments hold `img`, or 0. */
function findPid(prog, img) {
	for (const ent of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(ent))
			continue;
		let argv;
		try {
			argv = fs.readFileSync(`/proc/${ent}/cmdline`, 'utf8').split('\0');
		} catch {
			continue;
		}
		if (basename(argv[0]) === prog && argv.includes(img))
			return Number(ent);
	}
	return 0;
}

/** Waits until `pid` has exited (a zombie counts: it has closed everything). */
function waitGone(pid) {
	for (;;) {
		let stat;
		try {
			stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		} catch {
			return;
		}
		if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z')
			return;
		sleep(2);
	}
}

function fuseTool(name, prog, mountCmd) {
	let pid = 0, img = '';
	return {
		name,
		mount(image, ro) {
			img = image;
			sh(mountCmd(image, ro));
			pid = findPid(prog, image);
			if (!pid)
				throw new Error(`${name}: no ${prog} process serving ${image}`);
		},
		umount() {
			sh(`fusermount3 -u ${q(mnt)}`);
			waitGone(pid);
			pid = 0;
		},
		abort() {
			if (pid) {
				sh(`fusermount3 -u ${q(mnt)}`, { ok: [0, 1] });
				waitGone(pid);
				pid = 0;
			}
			if (img && findPid(prog, img))
				throw new Error(`${name}: ${prog} still serves ${img}`);
		},
	};
}

const withOpts = (...o) => {
	const all = o.filter(Boolean).join(',');
	return all ? ` -o ${q(all)}` : '';
};
const lklfuseTool = (name, extra) => fuseTool(name, 'lklfuse-server',
	(image, ro) => `${lkl} lklfuse ${lklfuseArgs} ${extra}${withOpts(ro && 'ro', lklfuseOpts)} ${q(image)} ${q(mnt)}`);
const TOOLS = {
	lklfuse: () => lklfuseTool('lklfuse', ''),
	fuse2fs: () => fuseTool('fuse2fs', 'fuse2fs',
		(image, ro) => `fuse2fs ${q(image)} ${q(mnt)}${withOpts(ro && 'ro', fuse2fsOpts)} >/dev/null`),
	loop: () => ({
		name: 'loop',
		mount(image, ro) {
			sh(`mount -o loop${ro ? ',ro' : ''} ${q(image)} ${q(mnt)}`);
		},
		umount() {
			sh(`umount ${q(mnt)}`);
		},
		abort() {
			sh(`mountpoint -q ${q(mnt)} && umount ${q(mnt)} || true`);
		},
	}),
};

const tool = (n) => (variants.has(n) ? lklfuseTool(n, variants.get(n)) : TOOLS[n]());

// Timing ---------------------------------------------------------------------

// The programs themselves come back into the page cache after the drop,
// outside the time: the image is what must be read cold, not node's binary
// and the CLI's modules (about 0.2 s more for lklfuse's launcher otherwise).
const warmPrograms = `cat ${q(join(repo, 'build/native/lklfuse-server'))} "$(command -v fuse2fs)" > /dev/null; ` +
	`${lkl} lklfuse --help > /dev/null 2>&1; fuse2fs --help > /dev/null 2>&1; true`;

function dropCaches() {
	sh('sync; echo 3 > /proc/sys/vm/drop_caches');
}

/**
 * One line: for each rep, each tool (in a rotating order, so that no tool
 * is always first after the others' runs): `setup`, cold caches, `warm`,
 * then the timed `run` (which mounts and unmounts), then `check`.
 */
function line(key, title, { setup, warm, run, check }) {
	const tools = toolNames.map(tool);
	const times = new Map(tools.map((t) => [t.name, []]));
	for (let i = 0; i < reps; i++) {
		for (let k = 0; k < tools.length; k++) {
			const t = tools[(i + k) % tools.length];
			if (setup)
				setup(t);
			dropCaches();
			sh(warmPrograms);
			if (warm)
				sh(warm);
			const t0 = process.hrtime.bigint();
			try {
				run(t);
				sh('sync');
			} catch (e) {
				t.abort();
				throw e;
			}
			const s = Number(process.hrtime.bigint() - t0) / 1e9;
			times.get(t.name).push(s);
			if (check)
				check(t, i);
			process.stderr.write(`${key} ${t.name}: ${s.toFixed(2)} s\n`);
		}
	}
	return { key, title, rows: tools.map((t) => ({ name: t.name, times: times.get(t.name) })) };
}

const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The run --------------------------------------------------------------------

fs.mkdirSync(work, { recursive: true });
const tree = join(work, 'tree');
const info = makeTree(tree);
const mnt = join(work, 'fmnt');
const pattern = join(work, 'pattern-1g.bin');
const archive = join(work, 'tree.tar');
const master = join(work, 'fuse-master.img');	// tree + /big.bin; read lines mount it ro
const scratchImg = join(work, 'fuse-run.img');	// write lines: a fresh copy each run
fs.mkdirSync(mnt, { recursive: true });
sh(`mountpoint -q ${q(mnt)} && umount ${q(mnt)} || true`);

const sum = makePattern(pattern);
if (!fs.existsSync(`${archive}.done`)) {
	sh(`tar -cf ${q(archive)} -C ${q(tree)} --exclude=./.done .`);
	fs.writeFileSync(`${archive}.done`, '');
}
if (!fs.existsSync(`${master}.done`)) {
	// mkfs.ext4 with its defaults, then filled by the host's kernel.
	sh(`rm -f ${q(master)} && truncate -s ${IMAGE_MIB}M ${q(master)} && mkfs.ext4 -q -F ${q(master)}`);
	sh(`mount -o loop ${q(master)} ${q(mnt)} && cp -a ${q(tree)} ${q(mnt)}/tree && rm ${q(mnt)}/tree/.done && ` +
		`cp ${q(pattern)} ${q(mnt)}/big.bin && umount ${q(mnt)} && e2fsck -fn ${q(master)} >/dev/null`);
	fs.writeFileSync(`${master}.done`, '');
}
const fresh = () => sh(`cp --sparse=always ${q(master)} ${q(scratchImg)}`);
const fsck = (image) => sh(`e2fsck -fn ${q(image)} 2>&1`);

/** Looks at an image with the host's kernel, read-only, outside the time. */
function inspect(image, cmd) {
	sh(`mount -o loop,ro ${q(image)} ${q(mnt)}`);
	try {
		return sh(cmd);
	} finally {
		sh(`umount ${q(mnt)}`);
	}
}

process.stderr.write(`tree: ${info.files} files, ${info.entries} entries, ${(info.bytes / 1e6).toFixed(0)} MB; ` +
	`image ${IMAGE_MIB} MiB; ${reps} runs each; tools ${toolNames.join(', ')}\n`);

const results = [];
if (only.includes('mount')) {
	results.push(line('mount', 'mount + unmount (ro)', {
		run(t) {
			t.mount(master, true);
			t.umount();
		},
	}));
}
if (only.includes('write')) {
	results.push(line('write', 'sequential write, 1 GiB', {
		setup: fresh,
		warm: `cat ${q(pattern)} > /dev/null`,
		run(t) {
			t.mount(scratchImg, false);
			sh(`dd if=${q(pattern)} of=${q(mnt)}/w.bin bs=1M conv=fsync status=none`);
			t.umount();
		},
		check(t) {
			fsck(scratchImg);
			const got = inspect(scratchImg, `sha256sum ${q(mnt)}/w.bin`).split(' ')[0];
			if (got !== sum)
				throw new Error(`write ${t.name}: w.bin's bytes differ from the source's`);
		},
	}));
}
if (only.includes('read')) {
	// The bytes, once per tool, before any timed run.
	for (const n of toolNames) {
		const t = tool(n);
		t.mount(master, true);
		try {
			sh(`cmp ${q(pattern)} ${q(mnt)}/big.bin`);
		} finally {
			t.umount();
		}
	}
	let out;
	results.push(line('read', 'sequential read, 1 GiB', {
		run(t) {
			t.mount(master, true);
			out = sh(`dd if=${q(mnt)}/big.bin of=/dev/null bs=1M 2>&1`, { quiet: true });
			t.umount();
		},
		check(t) {
			if (!new RegExp(`^${BIG} bytes`, 'm').test(out))
				throw new Error(`read ${t.name}: not ${BIG} bytes: ${out}`);
		},
	}));
}
if (only.includes('tar')) {
	let size, first;
	results.push(line('tar', 'tar c of the tree', {
		run(t) {
			t.mount(master, true);
			size = sh(`tar -cf - -C ${q(mnt)}/tree . | wc -c`).trim();
			t.umount();
		},
		check(t) {
			first ??= size;
			if (size !== first)
				throw new Error(`tar ${t.name}: an archive of ${size} bytes, not ${first}`);
		},
	}));
}
if (only.includes('find')) {
	let n;
	results.push(line('find', 'find -ls of the tree', {
		run(t) {
			t.mount(master, true);
			n = Number(sh(`find ${q(mnt)}/tree -ls | wc -l`));
			t.umount();
		},
		check(t) {
			if (n !== info.entries + 1)
				throw new Error(`find ${t.name}: ${n} lines, not ${info.entries + 1}`);
		},
	}));
}
if (only.includes('untar')) {
	results.push(line('untar', 'untar of the tree', {
		setup: fresh,
		warm: `cat ${q(archive)} > /dev/null`,
		run(t) {
			t.mount(scratchImg, false);
			sh(`mkdir ${q(mnt)}/untar && tar -xf ${q(archive)} -C ${q(mnt)}/untar`);
			t.umount();
		},
		check(t) {
			fsck(scratchImg);
			const n = Number(inspect(scratchImg, `tar -df ${q(archive)} -C ${q(mnt)}/untar && find ${q(mnt)}/untar -type f | wc -l`));
			const want = Number(sh(`find ${q(tree)} -type f ! -name .done | wc -l`));
			if (n !== want)
				throw new Error(`untar ${t.name}: ${n} files, not ${want}`);
		},
	}));
}
sh(`rm -f ${q(scratchImg)}`);

// The report -----------------------------------------------------------------

const mb = info.bytes / 1e6;
const rate = {
	mount: () => ['', ''],
	write: (s) => [(BIG / 1e6 / s).toFixed(0), ''],
	read: (s) => [(BIG / 1e6 / s).toFixed(0), ''],
	tar: (s) => [(mb / s).toFixed(0), (info.files / s).toFixed(0)],
	find: (s) => ['', (info.entries / s).toFixed(0)],
	untar: (s) => [(mb / s).toFixed(0), (info.files / s).toFixed(0)],
};
const out = [
	`Tree: ${info.files} regular files (${info.entries} entries with directories, symlinks and hard links), ` +
	`${mb.toFixed(0)} MB of data, in a ${IMAGE_MIB} MiB ext4 image with a 1 GiB file; median of ${reps} runs, cold caches, ` +
	'mount and unmount inside every time. find: entries/s in the files/s column.',
	'',
	'| line | tool | median | MB/s | files/s | time / loop | runs (s) |',
	'| --- | --- | ---: | ---: | ---: | ---: | --- |',
];
for (const r of results) {
	const loop = r.rows.find((x) => x.name === 'loop');
	for (const row of r.rows) {
		const m = median(row.times);
		const [mbs, fps] = rate[r.key](m);
		const ratio = loop ? (m / median(loop.times)).toFixed(2) : '';
		out.push(`| ${r.title} | ${row.name} | ${m.toFixed(2)} s | ${mbs} | ${fps} | ${ratio} | ${row.times.map((s) => s.toFixed(2)).join(', ')} |`);
	}
}
console.log(out.join('\n'));
