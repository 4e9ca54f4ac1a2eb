// What bench/copy.mjs and bench/fuse.mjs share: running shell commands,
// the command line, the caches, peak RSS, and the Debian root tree.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('..', import.meta.url));

export function sh(cmd, { quiet = false, ok = [0] } = {}) {
	const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
	if (!ok.includes(r.status))
		throw new Error(`failed (${r.status}): ${cmd}\n${r.stdout}\n${r.stderr}`);
	if (!quiet && r.stderr.trim())
		process.stderr.write(r.stderr);
	return r.stdout;
}

export const q = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
export const lkl = `node ${q(join(repo, 'bin/lkl'))}`;
export const server = join(repo, 'build/native/lklfuse-server');
export const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
export const has = (prog) => spawnSync('bash', ['-c', `command -v ${q(prog)}`]).status === 0;

// GNU tar doing the work fs2tar does (owners by number, every xattr, ACLs,
// pax headers).
export const GNU_TAR = `tar --xattrs --xattrs-include='*' --acls --numeric-owner --format=posix`;

export const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Seconds that `fn` took. */
export function timed(fn) {
	const t0 = process.hrtime.bigint();
	fn();
	return Number(process.hrtime.bigint() - t0) / 1e9;
}

// The command line -----------------------------------------------------------

export function options(args) {
	const opt = (name, dflt) => {
		const i = args.indexOf(name);
		return i >= 0 ? args[i + 1] : dflt;
	};
	/** A comma list of `name`, checked against `allowed`; `aliases` expand. */
	const list = (name, dflt, allowed, aliases = {}) => {
		const xs = opt(name, dflt).split(',').flatMap((x) => aliases[x] ?? [x]);
		for (const x of xs) {
			if (!allowed.includes(x))
				throw new Error(`${name}: ${x}? (one of ${[...allowed, ...Object.keys(aliases)].join(', ')})`);
		}
		return [...new Set(xs)];
	};
	return {
		opt,
		list,
		flag: (name) => args.includes(name),
		caches: () => list('--cache', 'both', ['warm', 'cold'], { both: ['warm', 'cold'] }),
		/** `extra`: more trees that this script knows (copy.mjs: x10). */
		trees: (extra = []) => list('--tree', 'both', ['synthetic', 'rootfs', ...extra],
			{ both: ['synthetic', 'rootfs'], ...(extra.length ? { all: ['synthetic', 'rootfs', ...extra] } : {}) }),
	};
}

// Caches ---------------------------------------------------------------------

export function dropCaches() {
	sh('sync; echo 3 > /proc/sys/vm/drop_caches');
}

// After a drop, the programs come back into the page cache outside the
// time: what must be read cold is the image or the tree, not node's binary,
// the CLI's modules or the addon (a tenth of a second or two for lkl
// otherwise, against nothing for tar and cp, which are small).
export const warmPrograms = [
	`cat ${q(process.execPath)} ${q(join(repo, 'build/Release/lkl.node'))} ${q(server)} > /dev/null`,
	...['fs2tar', 'cptofs', 'cpfromfs', 'lklfuse'].map((c) => `${lkl} ${c} --help > /dev/null 2>&1`),
	// Run, not just read, so that their shared libraries come back too.
	...['tar --version', 'cp --version', 'mount --version', 'umount --version', 'mke2fs -V', 'mkfs.xfs -V',
		'mkfs.btrfs --version', 'debugfs -V', 'fuse2fs --help', 'fusermount3 --version', 'dd --version', 'find --version']
		.map((c) => `${c} > /dev/null 2>&1`),
	'true',
].join('; ');

let programsCached = false;

/**
 * Before a timed run.  cold: every cache dropped, then the programs read
 * back.  warm: a sync, so that an earlier run's dirty pages are not written
 * back during this one's time, then `inputs` (commands that read the run's
 * image or tree into the page cache).  `always` runs in both (inputs that
 * are warm in both modes, e.g. the archive that an untar reads).
 */
export function prepare(cache, { inputs = '', always = '' } = {}) {
	if (cache === 'cold') {
		dropCaches();
		programsCached = false;
	} else {
		sh('sync');
	}
	if (!programsCached) {
		sh(warmPrograms);
		programsCached = true;
	}
	if (always)
		sh(always);
	if (cache === 'warm' && inputs)
		sh(inputs);
}

/** Reads a file's bytes (all of them, holes too) into the page cache. */
export const readAll = (path) => `cat ${q(path)} > /dev/null`;

/**
 * Reads a tree into the caches, data, inodes and xattrs alike (to a pipe:
 * GNU tar skips reading data for -f /dev/null).
 */
export const readTree = (dir) => `${GNU_TAR} -cf - -C ${q(dir)} . | cat > /dev/null`;

// Peak RSS ---------------------------------------------------------------------

const TIME = '/usr/bin/time';
export const haveTime = fs.existsSync(TIME);

/**
 * `cmd` (a simple command, maybe the first of a pipeline) run under GNU
 * time, which writes its peak RSS (of it and every descendant it waited
 * for, from wait4's rusage) in KiB to `file`.  Without GNU time, `cmd`.
 */
export const withRss = (cmd, file) => (haveTime ? `${TIME} -f %M -o ${q(file)} ${cmd}` : cmd);

/** The peak RSS in MiB that withRss left in `file` (and removes it), or NaN. */
export function readRss(file) {
	if (!fs.existsSync(file))
		return NaN;
	const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
	fs.rmSync(file);
	return Number(lines.at(-1)) / 1024;
}

// Mounts -----------------------------------------------------------------------

/** Unmounts whatever is mounted at or below `dir`, deepest first. */
export function umountBelow(dir) {
	const points = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
		.map((l) => l.split(' ')[4])
		.filter((p) => p && (p === dir || p.startsWith(`${dir}/`)))
		.sort().reverse();
	for (const p of points)
		sh(`umount ${q(p)} || umount -l ${q(p)}`, { ok: [0, 1, 32] });
}

/** Runs `fn` with `img` mounted (loop) at `mnt`; unmounts even on failure. */
export function withLoop(img, mnt, opts, fn) {
	sh(`mount -o loop${opts ? `,${opts}` : ''} ${q(img)} ${q(mnt)}`);
	try {
		return fn();
	} finally {
		sh(`umount ${q(mnt)}`);
	}
}

// Trees --------------------------------------------------------------------------

/** Counts of a tree on the host: regular files, entries below the top, bytes. */
export function treeInfo(dir) {
	let files = 0, entries = 0, bytes = 0;
	for (const l of sh(`find ${q(dir)} -mindepth 1 -printf '%y %s\\n'`).split('\n')) {
		if (!l)
			continue;
		entries++;
		if (l[0] === 'f') {
			files++;
			bytes += Number(l.slice(2));
		}
	}
	return { files, entries, bytes };
}

const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';

/**
 * Debian 12 minbase as debootstrap makes it, as a tarball cached outside
 * the clone.  scripts/fresh-check.sh caches the same debootstrap output;
 * it is used as it is when present.
 */
export function rootfsTarball() {
	const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lkl');
	const arch = sh('dpkg --print-architecture').trim();
	const own = join(cache, 'bench', `${SUITE}-minbase-${arch}.tar.gz`);
	const fresh = join(cache, 'fresh', `${SUITE}-minbase-${arch}.tar.gz`);
	if (fs.existsSync(own))
		return own;
	if (fs.existsSync(fresh))
		return fresh;
	if (!has('debootstrap')) {
		process.stderr.write('installing debootstrap (apt-get)\n');
		sh('DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap </dev/null', { quiet: true });
	}
	const tmp = join(dirname(own), 'debootstrap.tmp');
	fs.mkdirSync(dirname(own), { recursive: true });
	process.stderr.write(`debootstrap --variant=minbase ${SUITE} from ${MIRROR} (minutes)\n`);
	try {
		umountBelow(tmp);
		fs.rmSync(tmp, { recursive: true, force: true });
		sh(`debootstrap --variant=minbase --arch=${arch} ${SUITE} ${q(tmp)} ${MIRROR} </dev/null`, { quiet: true });
		// This machine's identity, which debootstrap copied in, is not the tree's.
		sh(`rm -f ${q(tmp)}/etc/hostname ${q(tmp)}/etc/resolv.conf && ` +
			`tar -C ${q(tmp)} --numeric-owner --xattrs --xattrs-include='*' --acls -czf ${q(own)}.part . && mv ${q(own)}.part ${q(own)}`);
	} finally {
		umountBelow(tmp);	// debootstrap's /proc and /sys, if it failed half way
		fs.rmSync(tmp, { recursive: true, force: true });
	}
	return own;
}

/** The Debian root tree, unpacked at `dir` (kept for the next run). */
export function makeRootfs(dir) {
	const done = `${dir}.done`;
	if (fs.existsSync(done))
		return JSON.parse(fs.readFileSync(done, 'utf8'));
	const tarball = rootfsTarball();
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir);
	sh(`tar --xattrs --xattrs-include='*' --acls --numeric-owner -C ${q(dir)} -xzpf ${q(tarball)}`);
	const info = { ...treeInfo(dir), source: tarball };
	fs.writeFileSync(done, JSON.stringify(info));
	return info;
}

/** `copies` copies of the tree `src` under `dir` (r0, r1, ...), for the memory line. */
export function makeCopies(dir, src, copies) {
	const done = `${dir}.done`;
	if (fs.existsSync(done))
		return JSON.parse(fs.readFileSync(done, 'utf8'));
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir);
	for (let i = 0; i < copies; i++)
		sh(`cp -a ${q(src)} ${q(join(dir, `r${i}`))}`);
	const info = treeInfo(dir);
	fs.writeFileSync(done, JSON.stringify(info));
	return info;
}
