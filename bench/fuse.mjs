#!/usr/bin/env node
// Issues 5 and 11's figures: one ext4 image mounted three ways, the same
// work done through each, in one run.
//
//   lklfuse   bin/lklfuse IMG MNT                  (this project: a sh
//                                                  script that runs
//                                                  lklfuse-server, no Node)
//   fuse2fs   fuse2fs IMG MNT                      (e2fsprogs, as root)
//   loop      mount -o loop IMG MNT                (the host's kernel)
//
// Lines (--only):
//   ready   from launching the mount to its root answering a stat (the
//           mount polled in /proc/self/mountinfo every 0.2 ms, then one
//           stat), read-only; for lklfuse three times: the classic command
//           (bin/lklfuse, which returns once the mount serves), lkl lklfuse
//           (node bin/lkl lklfuse, which runs the same server) and
//           build/native/lklfuse-server IMG MNT -f, the server alone,
//           serving in the foreground; the unmount is untimed
//   mount   mount + unmount alone (read-only), the fixed cost in every line
//   write   dd of a 1 GiB file (deterministic bytes, in the host page cache)
//           into the image, bs=1M conv=fsync
//   read    dd of a 1 GiB file of the image to /dev/null, bs=1M (read-only)
//   tar     GNU tar -cf - of the tree | wc -c  (not -f /dev/null: tar skips
//           reading files then) (read-only)
//   find    find TREE -ls | wc -l (read-only)
//   untar   tar -xf of the tree's archive (in the host page cache) into a
//           new directory of the image
// tar, find and untar run on each tree of --tree: synthetic (bench/
// tree.mjs) and rootfs (Debian 12 minbase, as bench/copy.mjs's), both in
// the image, under /tree and /rootfs.
//
// Caches (--cache): cold, every timed run starts with cold caches (sync;
// drop_caches; then the programs and the source file of write/untar are
// read back into the host page cache, outside the time); warm, no drop:
// a sync, then the image read into the host page cache as well (outside
// the time).  Every timed run is a fresh mount: the time is mount + the
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
// Goals (issue 11), in a table after the figures: lklfuse ahead of fuse2fs
// on every line, sequential read within 2x of the loop mount, ready within
// 50 ms.
//
// The script runs itself again in a mount namespace of its own (unshare
// -m, private propagation), so that other processes on the machine do not
// see, walk or hold busy its mounts.  Needs root, util-linux, GNU tar,
// e2fsprogs, fuse2fs and a built tree (build/native).
//
// Usage: node bench/fuse.mjs [--work DIR] [--reps N]
//          [--only ready,mount,write,read,tar,find,untar] [--tools lklfuse,fuse2fs,loop]
//          [--cache warm|cold|both] [--tree synthetic|rootfs|both]
//          [--lklfuse-o OPTS] [--lklfuse-args ARGS] [--fuse2fs-o OPTS]
//          [--variant 'NAME:LKLFUSE ARGS']...
//
// --lklfuse-o and --fuse2fs-o add -o options to every mount of that tool
// (e.g. --lklfuse-o mb=512), --lklfuse-args arguments to the launcher's
// command line (e.g. -s); each --variant adds one more lklfuse tool named
// NAME, with those arguments (e.g. --variant 'lklfuse -s:-s').  The work
// directory keeps the trees, the 1 GiB source file, the archives and the
// master image for the next run.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cipher, makeTree } from './tree.mjs';
import { lkl, makeRootfs, median, options, prepare, q, readAll, repo, server, sh, sleep, timed, withLoop } from './lib.mjs';

const args = process.argv.slice(2);
if (!process.env.LKL_FUSE_BENCH_NS) {
	const r = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, fileURLToPath(import.meta.url), ...args],
		{ stdio: 'inherit', env: { ...process.env, LKL_FUSE_BENCH_NS: '1' } });
	process.exit(r.status ?? 1);
}
const o = options(args);
const opt = o.opt;
const work = resolve(opt('--work', '/tmp/lkl-fusebench'));
const reps = Number(opt('--reps', '5'));
const only = o.list('--only', 'ready,mount,write,read,tar,find,untar', ['ready', 'mount', 'write', 'read', 'tar', 'find', 'untar']);
const caches = o.caches();
const treeNames = o.trees();
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
const READY_GOAL_S = 0.05;

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

/** Whether something is mounted at `dir`, in this mount namespace. */
function mounted(dir) {
	return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
}

/**
 * A FUSE tool.  mountCmd: the shell command that mounts and returns once
 * the mount serves; launch: [program, argv, stays] for the ready line
 * (stays: the program is the server itself, it does not exit).
 */
function fuseTool(name, prog, mountCmd, launch) {
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
		launch,
		/** After a launch: the server that serves `image` (launched `child`). */
		adopt(image, child) {
			img = image;
			pid = launch(image)[2] ? child.pid : findPid(prog, image);
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
const optArgs = (...o) => {
	const all = o.filter(Boolean).join(',');
	return all ? ['-o', all] : [];
};
const words = (s) => s.split(/\s+/).filter(Boolean);
const classic = join(repo, 'bin/lklfuse');
const lklfuseTool = (name, extra) => fuseTool(name, 'lklfuse-server',
	(image, ro) => `${q(classic)} ${lklfuseArgs} ${extra}${withOpts(ro && 'ro', lklfuseOpts)} ${q(image)} ${q(mnt)}`,
	(image) => [classic, [...words(lklfuseArgs), ...words(extra), ...optArgs('ro', lklfuseOpts), image, mnt], false]);
const TOOLS = {
	lklfuse: () => lklfuseTool('lklfuse', ''),
	// The same server through the CLI (ready line only): its own cost is
	// node's start-up and the CLI's modules.
	'lkl lklfuse': () => fuseTool('lkl lklfuse', 'lklfuse-server', null,
		(image) => [process.execPath, [join(repo, 'bin/lkl'), 'lklfuse', ...words(lklfuseArgs),
			...optArgs('ro', lklfuseOpts), image, mnt], false]),
	// The server alone, in the foreground (ready line only): the
	// launcher's own cost is the difference.
	'lklfuse-server': () => fuseTool('lklfuse-server', 'lklfuse-server', null,
		(image) => [server, [image, mnt, ...words(lklfuseArgs), ...optArgs('ro', lklfuseOpts), '-f'], true]),
	fuse2fs: () => fuseTool('fuse2fs', 'fuse2fs',
		(image, ro) => `fuse2fs ${q(image)} ${q(mnt)}${withOpts(ro && 'ro', fuse2fsOpts)} >/dev/null`,
		(image) => ['fuse2fs', [image, mnt, ...optArgs('ro', fuse2fsOpts)], false]),
	loop: () => ({
		name: 'loop',
		mount(image, ro) {
			sh(`mount -o loop${ro ? ',ro' : ''} ${q(image)} ${q(mnt)}`);
		},
		launch: (image) => ['mount', ['-o', 'loop,ro', image, mnt], false],
		adopt() {},
		umount() {
			sh(`umount ${q(mnt)}`);
		},
		abort() {
			sh(`mountpoint -q ${q(mnt)} && umount ${q(mnt)} || true`);
		},
	}),
};

const tool = (n) => (variants.has(n) ? lklfuseTool(n, variants.get(n)) : TOOLS[n]());

/**
 * The ready line's run: launches `t` on `image` (read-only) and returns
 * the seconds until the mount is in /proc/self/mountinfo and then until
 * its root has answered a stat; the mount is left for t.umount().
 */
function launchReady(t, image) {
	const [cmd, argv, stays] = t.launch(image);
	let visible = 0, child;
	const answered = timed(() => {
		const t0 = process.hrtime.bigint();
		child = spawn(cmd, argv, { stdio: 'ignore', detached: true });
		if (!child.pid)
			throw new Error(`${t.name}: cannot start ${cmd}`);
		while (!mounted(mnt)) {
			if (process.hrtime.bigint() - t0 > 10_000_000_000n)
				throw new Error(`${t.name}: no mount on ${mnt} 10 s after launching ${cmd}`);
			sleep(0.2);	// a tight poll, yet leaving the CPU to the server
		}
		visible = Number(process.hrtime.bigint() - t0) / 1e9;
		fs.statSync(mnt);
	});
	// The launchers (lkl lklfuse, fuse2fs's parent, mount) exit once the
	// mount serves; then only the server is left, to be waited for.
	if (!stays)
		waitGone(child.pid);
	t.adopt(image, child);
	return { visible, answered };
}

// Timing ---------------------------------------------------------------------

/**
 * One line: for each rep, each tool (in a rotating order, so that no tool
 * is always first after the others' runs): `setup`, then the caches
 * (prepare: cold, every cache dropped and the programs read back; warm, a
 * sync and `inputs` read into the page cache), `always` (inputs read back
 * in both modes), then the timed `run` (which mounts and unmounts), then
 * `check`.  `run` may return the time itself (seconds), else it is timed
 * from its start to the end of a sync after it.
 */
function line(key, title, cache, tree, { setup, always, inputs, run, check }, names = toolNames) {
	const tools = names.map(tool);
	const times = new Map(tools.map((t) => [t.name, []]));
	for (let i = 0; i < reps; i++) {
		for (let k = 0; k < tools.length; k++) {
			const t = tools[(i + k) % tools.length];
			if (setup)
				setup(t);
			prepare(cache, { inputs, always });
			let s;
			try {
				let own;
				const total = timed(() => {
					own = run(t);
					if (own === undefined)
						sh('sync');
				});
				s = own ?? total;
			} catch (e) {
				t.abort();
				throw e;
			}
			times.get(t.name).push(s);
			if (check)
				check(t, i);
			process.stderr.write(`${key}${tree ? ` ${tree}` : ''} ${cache} ${t.name}: ${s.toFixed(3)} s\n`);
		}
	}
	return { key, title, cache, tree, rows: tools.map((t) => ({ name: t.name, times: times.get(t.name) })) };
}

// The run --------------------------------------------------------------------

fs.mkdirSync(work, { recursive: true });
const trees = {};
for (const n of treeNames) {
	trees[n] = n === 'synthetic'
		? { dir: join(work, 'tree'), info: makeTree(join(work, 'tree')), at: 'tree', archive: join(work, 'tree.tar') }
		: { dir: join(work, 'rootfs'), info: makeRootfs(join(work, 'rootfs')), at: 'rootfs', archive: join(work, 'rootfs.tar') };
}
const mnt = join(work, 'fmnt');
const pattern = join(work, 'pattern-1g.bin');
const master = join(work, 'fuse-master.img');	// trees + /big.bin; read lines mount it ro
const scratchImg = join(work, 'fuse-run.img');	// write lines: a fresh copy each run
fs.mkdirSync(mnt, { recursive: true });
sh(`mountpoint -q ${q(mnt)} && umount ${q(mnt)} || true`);

const sum = makePattern(pattern);
for (const t of Object.values(trees)) {
	if (!fs.existsSync(`${t.archive}.done`)) {
		sh(`tar -cf ${q(t.archive)} -C ${q(t.dir)} --exclude=./.done .`);
		fs.writeFileSync(`${t.archive}.done`, '');
	}
}
if (!fs.existsSync(`${master}.done`)) {
	// mkfs.ext4 with its defaults, then filled by the host's kernel.
	fs.rmSync(`${master}.rootfs.done`, { force: true });
	const synth = join(work, 'tree');
	makeTree(synth);
	sh(`rm -f ${q(master)} && truncate -s ${IMAGE_MIB}M ${q(master)} && mkfs.ext4 -q -F ${q(master)}`);
	withLoop(master, mnt, '', () => sh(`cp -a ${q(synth)} ${q(mnt)}/tree && rm ${q(mnt)}/tree/.done && ` +
		`cp ${q(pattern)} ${q(mnt)}/big.bin`));
	sh(`e2fsck -fn ${q(master)} >/dev/null`);
	fs.writeFileSync(`${master}.done`, '');
}
if (trees.rootfs && !fs.existsSync(`${master}.rootfs.done`)) {
	withLoop(master, mnt, '', () => sh(`rm -rf ${q(mnt)}/rootfs && cp -a ${q(trees.rootfs.dir)} ${q(mnt)}/rootfs`));
	sh(`e2fsck -fn ${q(master)} >/dev/null`);
	fs.writeFileSync(`${master}.rootfs.done`, '');
}
const fresh = () => sh(`cp --sparse=always ${q(master)} ${q(scratchImg)}`);
const fsck = (image) => sh(`e2fsck -fn ${q(image)} 2>&1`);

/** Looks at an image with the host's kernel, read-only, outside the time. */
const inspect = (image, cmd) => withLoop(image, mnt, 'ro', () => sh(cmd));

for (const [n, t] of Object.entries(trees))
	process.stderr.write(`${n}: ${t.info.files} files, ${t.info.entries} entries, ${(t.info.bytes / 1e6).toFixed(0)} MB\n`);
process.stderr.write(`image ${IMAGE_MIB} MiB; ${reps} runs each; tools ${toolNames.join(', ')}; caches ${caches.join(', ')}\n`);
const loadBefore = sh('cat /proc/loadavg').split(' ').slice(0, 3).join(' ');

const results = [];
const readMaster = readAll(master);
const readScratch = readAll(scratchImg);
for (const cache of caches) {
	if (only.includes('ready')) {
		// The two commands and the server alone, each against fuse2fs and
		// the loop mount.
		const names = toolNames.flatMap((n) => (n === 'lklfuse' ? ['lklfuse', 'lkl lklfuse', 'lklfuse-server'] : [n]));
		results.push(line('ready', 'launch to ready (ro)', cache, undefined, {
			inputs: readMaster,
			// Run, so that the script, the shell and what it runs are
			// read back after a drop, as node and the server are.
			always: `${q(classic)} --help > /dev/null`,
			run(t) {
				const { visible, answered } = launchReady(t, master);
				process.stderr.write(`ready ${cache} ${t.name}: in mountinfo after ${(visible * 1e3).toFixed(1)} ms\n`);
				t.umount();
				return answered;
			},
		}, names));
	}
	if (only.includes('mount')) {
		results.push(line('mount', 'mount + unmount (ro)', cache, undefined, {
			inputs: readMaster,
			run(t) {
				t.mount(master, true);
				t.umount();
			},
		}));
	}
	if (only.includes('write')) {
		results.push(line('write', 'sequential write, 1 GiB', cache, undefined, {
			setup: fresh,
			always: readAll(pattern),
			inputs: readScratch,
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
		if (cache === caches[0]) {
			for (const n of toolNames) {
				const t = tool(n);
				t.mount(master, true);
				try {
					sh(`cmp ${q(pattern)} ${q(mnt)}/big.bin`);
				} finally {
					t.umount();
				}
			}
		}
		let out;
		results.push(line('read', 'sequential read, 1 GiB', cache, undefined, {
			inputs: readMaster,
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
	for (const [n, tr] of Object.entries(trees)) {
		if (only.includes('tar')) {
			let size, first;
			results.push(line('tar', 'tar c of the tree', cache, n, {
				inputs: readMaster,
				run(t) {
					t.mount(master, true);
					size = sh(`tar -cf - -C ${q(mnt)}/${tr.at} . | wc -c`).trim();
					t.umount();
				},
				check(t) {
					first ??= size;
					if (size !== first)
						throw new Error(`tar ${n} ${t.name}: an archive of ${size} bytes, not ${first}`);
				},
			}));
		}
		if (only.includes('find')) {
			let count;
			results.push(line('find', 'find -ls of the tree', cache, n, {
				inputs: readMaster,
				run(t) {
					t.mount(master, true);
					count = Number(sh(`find ${q(mnt)}/${tr.at} -ls | wc -l`));
					t.umount();
				},
				check(t) {
					if (count !== tr.info.entries + 1)
						throw new Error(`find ${n} ${t.name}: ${count} lines, not ${tr.info.entries + 1}`);
				},
			}));
		}
		if (only.includes('untar')) {
			const want = Number(sh(`find ${q(tr.dir)} -type f ! -path ${q(`${tr.dir}/.done`)} | wc -l`));
			results.push(line('untar', 'untar of the tree', cache, n, {
				setup: fresh,
				always: readAll(tr.archive),
				inputs: readScratch,
				run(t) {
					t.mount(scratchImg, false);
					sh(`mkdir ${q(mnt)}/untar && tar -xf ${q(tr.archive)} -C ${q(mnt)}/untar`);
					t.umount();
				},
				check(t) {
					fsck(scratchImg);
					const got = Number(inspect(scratchImg, `tar -df ${q(tr.archive)} -C ${q(mnt)}/untar && find ${q(mnt)}/untar -type f | wc -l`));
					if (got !== want)
						throw new Error(`untar ${n} ${t.name}: ${got} files, not ${want}`);
				},
			}));
		}
	}
}
sh(`rm -f ${q(scratchImg)}`);

// The report -----------------------------------------------------------------

const rate = {
	ready: () => ['', ''],
	mount: () => ['', ''],
	write: (s) => [(BIG / 1e6 / s).toFixed(0), ''],
	read: (s) => [(BIG / 1e6 / s).toFixed(0), ''],
	tar: (s, i) => [(i.bytes / 1e6 / s).toFixed(0), (i.files / s).toFixed(0)],
	find: (s, i) => ['', (i.entries / s).toFixed(0)],
	untar: (s, i) => [(i.bytes / 1e6 / s).toFixed(0), (i.files / s).toFixed(0)],
};
const describe = (n, i) => `${n}, ${i.files} regular files (${i.entries} entries with directories, symlinks and hard links), ${(i.bytes / 1e6).toFixed(0)} MB of data`;
const out = [
	`Trees: ${Object.entries(trees).map(([n, t]) => describe(n, t.info)).join('; ')}; in a ${IMAGE_MIB} MiB ext4 image with a 1 GiB file. ` +
	`Median of ${reps} runs; caches ${caches.join(' and ')}; mount and unmount inside every time but ready's. find: entries/s in the files/s column. ` +
	`Load average ${loadBefore} before, ${sh('cat /proc/loadavg').split(' ').slice(0, 3).join(' ')} after.`,
	'',
	'| line | tree | cache | tool | median | MB/s | files/s | time / loop | runs (s) |',
	'| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |',
];
const digits = (key) => (key === 'ready' || key === 'mount' ? 3 : 2);
for (const r of results) {
	const loop = r.rows.find((x) => x.name === 'loop');
	for (const row of r.rows) {
		const m = median(row.times);
		const [mbs, fps] = rate[r.key](m, r.tree && trees[r.tree].info);
		const ratio = loop ? (m / median(loop.times)).toFixed(2) : '';
		out.push(`| ${r.title} | ${r.tree ?? ''} | ${r.cache} | ${row.name} | ${m.toFixed(digits(r.key))} s | ${mbs} | ${fps} | ${ratio} | ` +
			`${row.times.map((s) => s.toFixed(digits(r.key))).join(', ')} |`);
	}
}

// Issue 11's goals: lklfuse ahead of fuse2fs on every line; read within 2x
// of the loop mount; ready within 50 ms.
out.push('', '| line | tree | cache | lklfuse | median (s) | against | its median (s) | ratio | goal | met? |',
	'| --- | --- | --- | --- | ---: | --- | ---: | ---: | --- | --- |');
/** A goal row: `ok` judges lklfuse's median over `against`'s (or alone). */
const goal = (r, name, against, ok, text) => {
	const a = r.rows.find((x) => x.name === name);
	if (!a)
		return;
	const m = median(a.times);
	const cells = [r.title, r.tree ?? '', r.cache, name, m.toFixed(3)];
	if (!against) {
		out.push(`| ${[...cells, '', '', '', text, ok(m) ? 'yes' : 'no'].join(' | ')} |`);
		return;
	}
	const b = r.rows.find((x) => x.name === against);
	if (!b) {
		out.push(`| ${[...cells, `${against}: not run`, '', '', text, ''].join(' | ')} |`);
		return;
	}
	const mb = median(b.times);
	out.push(`| ${[...cells, against, mb.toFixed(3), (m / mb).toFixed(2), text, ok(m / mb) ? 'yes' : 'no'].join(' | ')} |`);
};
for (const r of results) {
	if (r.key === 'ready') {
		goal(r, 'lklfuse', null, (s) => s <= READY_GOAL_S, `≤ ${READY_GOAL_S * 1e3} ms`);
		goal(r, 'lkl lklfuse', null, (s) => s <= READY_GOAL_S, `≤ ${READY_GOAL_S * 1e3} ms`);
		goal(r, 'lklfuse-server', null, (s) => s <= READY_GOAL_S, `≤ ${READY_GOAL_S * 1e3} ms`);
		goal(r, 'lklfuse-server', 'fuse2fs', (x) => x < 1, '< 1 (ahead of fuse2fs)');
	}
	goal(r, 'lklfuse', 'fuse2fs', (x) => x < 1, '< 1 (ahead of fuse2fs)');
	if (r.key === 'read')
		goal(r, 'lklfuse', 'loop', (x) => x <= 2, '≤ 2× loop');
}
console.log(out.join('\n'));
