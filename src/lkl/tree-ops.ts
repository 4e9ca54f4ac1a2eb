// Operations over a whole subtree: mkdir -p, rm -r and recursive readdir.
// Written as steps (see steps.ts) so that each exists sync and async.
import { errnoError, type ErrnoError } from './errors.js';
import { DT_UNKNOWN, modeToDtype } from './dirent.js';
import type { NativePath } from './native.js';
import { absoluteFrom, components, joinBytes, pathBytes } from './paths.js';
import { sys, type Steps } from './steps.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

function isErrno(e: unknown, code: string): e is ErrnoError {
	return e instanceof Error && (e as Partial<ErrnoError>).code === code;
}

function* isDirectory(root: number, path: NativePath, follow: boolean): Steps<boolean> {
	try {
		const st = yield* sys('statx', [root, path, follow], follow ? 'stat' : 'lstat', path);
		return (st.mode & S_IFMT) === S_IFDIR;
	} catch (e) {
		if (isErrno(e, 'ENOENT'))
			return false;
		throw e;
	}
}

/**
 * mkdir -p: makes `path` and any missing parent, and returns the first
 * directory it made ("/"-rooted, in the mount), or undefined if all were
 * there.  Parents are found lexically: "a/../b" makes "b" only.
 */
export function* mkdirRecursive(root: number, path: NativePath, mode: number): Steps<string | undefined> {
	const parts = components(pathBytes(path));
	const full = absoluteFrom(parts);
	// Most often only the last component is missing: one call.
	try {
		yield* sys('mkdir', [root, full, mode], 'mkdir', path);
		return full.toString();
	} catch (e) {
		if (isErrno(e, 'EEXIST') && (yield* isDirectory(root, full, true)))
			return undefined;
		if (!isErrno(e, 'ENOENT'))
			throw e;
	}
	let first: string | undefined;
	for (let i = 1; i <= parts.length; i++) {
		const prefix = absoluteFrom(parts.slice(0, i));
		try {
			yield* sys('mkdir', [root, prefix, mode], 'mkdir', path);
			first ??= prefix.toString();
		} catch (e) {
			if (!isErrno(e, 'EEXIST') || !(yield* isDirectory(root, prefix, true)))
				throw i < parts.length && isErrno(e, 'EEXIST') ? errnoError(-20, 'mkdir', path) : e;
		}
	}
	return first;
}

/** Options of rm. */
export interface RmOptions {
	/** Remove directories and everything in them. */
	recursive?: boolean;
	/** No error when `path` does not exist. */
	force?: boolean;
}

// node:fs's own shape for this one: a SystemError with a positive errno.
function eisdir(path: NativePath): ErrnoError {
	const shown = path.toString();
	const err = errnoError(-21, 'rm', path);
	err.code = 'ERR_FS_EISDIR';
	err.errno = 21;
	err.message = `Path is a directory: rm returned EISDIR (is a directory) ${shown}`;
	Object.assign(err, {
		info: { code: 'EISDIR', message: 'is a directory', path: shown, syscall: 'rm', errno: 21 },
	});
	return err;
}

function* removeTree(root: number, path: Buffer, shown: NativePath): Steps<void> {
	const entries = yield* sys('readdir', [root, path], 'scandir', shown);
	for (const [name, type] of entries) {
		const child = joinBytes(path, name);
		let dir = type === 4;
		if (type === DT_UNKNOWN)
			dir = yield* isDirectory(root, child, false);
		if (dir)
			yield* removeTree(root, child, child);
		else
			yield* ignoreMissing(sys('unlink', [root, child], 'unlink', child));
	}
	yield* ignoreMissing(sys('rmdir', [root, path], 'rmdir', shown));
}

// Something else removing entries at the same time is no failure of rm.
function* ignoreMissing(steps: Steps<void>): Steps<void> {
	try {
		yield* steps;
	} catch (e) {
		if (!isErrno(e, 'ENOENT'))
			throw e;
	}
}

/** rm / rm -r / rm -f, as node:fs's rm. */
export function* rm(root: number, path: NativePath, options: RmOptions): Steps<void> {
	let st;
	try {
		st = yield* sys('statx', [root, path, false], 'lstat', path);
	} catch (e) {
		if (options.force && isErrno(e, 'ENOENT'))
			return;
		throw e;
	}
	if ((st.mode & S_IFMT) !== S_IFDIR) {
		yield* sys('unlink', [root, path], 'unlink', path);
		return;
	}
	if (!options.recursive)
		throw eisdir(path);
	yield* removeTree(root, pathBytes(path), path);
}

/** One entry found by a (possibly recursive) directory walk. */
export interface WalkEntry {
	/** Path of the entry relative to the directory walked, as bytes. */
	readonly relative: Buffer;
	/** Its name alone. */
	readonly name: Buffer;
	/** The directory holding it, relative to the directory walked. */
	readonly parent: Buffer;
	/** d_type; DT_UNKNOWN resolved with lstat. */
	readonly type: number;
}

/** readdir, optionally recursive (breadth first, like node:fs). */
export function* walk(root: number, path: NativePath, recursive: boolean): Steps<WalkEntry[]> {
	const out: WalkEntry[] = [];
	const base = pathBytes(path);
	const queue: Buffer[] = [Buffer.alloc(0)];
	for (let q = 0; q < queue.length; q++) {
		const rel = queue[q]!;
		const dir = rel.length ? joinBytes(base, rel) : path;
		const entries = yield* sys('readdir', [root, dir], 'scandir', dir);
		for (const [name, dtype] of entries) {
			let type = dtype;
			const relative = rel.length ? joinBytes(rel, name) : name;
			if (type === DT_UNKNOWN) {
				const child = joinBytes(base, relative);
				const st = yield* sys('statx', [root, child, false], 'lstat', child);
				type = modeToDtype(st.mode);
			}
			out.push({ relative, name, parent: rel, type });
			if (recursive && type === 4)
				queue.push(relative);
		}
	}
	return out;
}
