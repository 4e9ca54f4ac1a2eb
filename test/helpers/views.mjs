// Views of a tree, the host's (through node:fs and getfattr) and one seen
// through a Mount, in one shape so that tests can compare them field by
// field.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';

/** SHA-256 of a file's bytes. */
export function sha256(data) {
	return createHash('sha256').update(data).digest('hex');
}

const TYPE_NAMES = [
	['isFile', 'file'], ['isDirectory', 'dir'], ['isSymbolicLink', 'symlink'],
	['isFIFO', 'fifo'], ['isCharacterDevice', 'chr'], ['isBlockDevice', 'blk'], ['isSocket', 'sock'],
];

function typeOf(st) {
	for (const [method, name] of TYPE_NAMES) {
		if (st[method]())
			return name;
	}
	return 'unknown';
}

function parseXattrDump(text) {
	const out = {};
	for (const line of text.split('\n')) {
		const m = /^([^=#][^=]*)(?:=0x([0-9a-f]*))?$/.exec(line.trim());
		if (m && m[1])
			out[m[1]] = m[2] ?? '';
	}
	return out;
}

function hostXattrs(path) {
	const r = spawnSync('getfattr', ['-h', '-d', '-m', '^user\\.', '-e', 'hex', '--absolute-names', path],
		{ encoding: 'utf8' });
	return r.status === 0 ? parseXattrDump(r.stdout) : {};
}

/**
 * What the host sees of `tree`: path → { type, mode, uid, gid, size,
 * nlink, mtimeNs, target, xattrs, sha256 }.
 */
export function hostView(tree) {
	const out = new Map();
	const visit = (rel) => {
		const p = rel ? join(tree, rel) : tree;
		const st = fs.lstatSync(p, { bigint: true });
		const entry = {
			type: typeOf(st), mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid),
			size: Number(st.size), nlink: Number(st.nlink), mtimeNs: st.mtimeNs, rdev: Number(st.rdev),
			xattrs: st.isSymbolicLink() ? {} : hostXattrs(p),
		};
		if (st.isSymbolicLink())
			entry.target = fs.readlinkSync(p);
		if (st.isFile())
			entry.sha256 = sha256(fs.readFileSync(p));
		out.set(`/${rel}`, entry);
		if (st.isDirectory()) {
			for (const name of fs.readdirSync(p))
				visit(rel ? `${rel}/${name}` : name);
		}
	};
	visit('');
	return out;
}

/** The same view through a Mount of lkl, skipping `ignore`d top-level names. */
export async function guestView(mount, ignore = ['lost+found']) {
	const out = new Map();
	const visit = async (path) => {
		const st = await mount.lstat(path, { bigint: true });
		const entry = {
			type: typeOf(st), mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid),
			size: Number(st.size), nlink: Number(st.nlink), mtimeNs: st.mtimeNs, rdev: Number(st.rdev),
			xattrs: {},
		};
		if (!st.isSymbolicLink()) {
			// The l- forms: nothing here is a symlink, and they take the
			// path as it is.
			for (const name of await mount.llistxattr(path).catch(() => [])) {
				if (name.startsWith('user.'))
					entry.xattrs[name] = (await mount.lgetxattr(path, name)).toString('hex');
			}
		}
		if (st.isSymbolicLink())
			entry.target = await mount.readlink(path);
		if (st.isFile())
			entry.sha256 = sha256(await mount.readFile(path));
		out.set(path, entry);
		if (st.isDirectory()) {
			for (const name of await mount.readdir(path)) {
				if (path === '/' && ignore.includes(name))
					continue;
				await visit(path === '/' ? `/${name}` : `${path}/${name}`);
			}
		}
	};
	await visit('/');
	return out;
}

/** Fields of a view entry compared by default. */
export const FIELDS = ['type', 'mode', 'uid', 'gid', 'size', 'nlink', 'mtimeNs', 'rdev', 'target', 'xattrs', 'sha256'];

function show(v) {
	return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
}

/**
 * Compares two views (Maps of path to entry) entry by entry: the one tree
 * diff of the tests (test/api's host vs Mount views, test/cli's python
 * views).  `skip(path, field, expectedEntry)` returns true for what the
 * filesystem cannot hold (or a tool dropped); `normalize(field, value,
 * entry)` maps a value to what the filesystem keeps of it (mtimes to
 * whole seconds, say), on both sides; `fields` are the fields compared.
 * Returns the differences as text lines (empty: equal).
 */
export function diffTrees(expected, actual, { fields = FIELDS, skip = () => false, normalize = (_f, v) => v } = {}) {
	const out = [];
	for (const [path, x] of expected) {
		const y = actual.get(path);
		if (!y) {
			out.push(`${path}: missing`);
			continue;
		}
		for (const field of fields) {
			if (skip(path, field, x))
				continue;
			const a = show(normalize(field, x[field], x));
			const b = show(normalize(field, y[field], y));
			if (a !== b)
				out.push(`${path}: ${field} ${a} != ${b}`);
		}
	}
	for (const path of actual.keys()) {
		if (!expected.has(path))
			out.push(`${path}: extra`);
	}
	return out;
}
