// A node's metadata, read and set, as MountOps (see steps.ts): stat and
// lstat, chmod, chown, utimes, access and statfs, arguments checked as
// node:fs would.  follow = false acts on a symlink itself.
import { StatFs } from './statfs.js';
import { makeStats, type BigIntStats, type StatOptions, type Stats } from './stats.js';
import { sys, type MountOp } from './steps.js';
import { toTimespec, type TimeLike } from './times.js';
import { checkId, checkInt, checkMode, mountPath } from './validate.js';

/** stat / lstat: Stats, or BigIntStats with options.bigint. */
export function statOp(path: unknown, follow: boolean, options: StatOptions | undefined): MountOp<Stats | BigIntStats> {
	const syscall = follow ? 'stat' : 'lstat';
	const p = mountPath(path, syscall);
	return {
		syscall,
		*steps(root) {
			return makeStats(yield* sys('statx', [root, p, follow], syscall, p), options);
		},
	};
}

/** chmod: permission bits with setuid/setgid/sticky, following a final symlink. */
export function chmodOp(path: unknown, mode: unknown): MountOp<void> {
	const p = mountPath(path, 'chmod');
	const m = checkMode(mode, 'mode', 0);
	return { syscall: 'chmod', steps: (root) => sys('chmod', [root, p, m, true], 'chmod', p) };
}

/** chown / lchown; -1 keeps an id. */
export function chownOp(path: unknown, uid: unknown, gid: unknown, follow: boolean): MountOp<void> {
	const syscall = follow ? 'chown' : 'lchown';
	const p = mountPath(path, syscall);
	const u = checkId(uid, 'uid');
	const g = checkId(gid, 'gid');
	return { syscall, steps: (root) => sys('chown', [root, p, u, g, follow], syscall, p) };
}

/** utimes / lutimes: Dates, seconds, or BigInt nanoseconds for exact times. */
export function utimesOp(path: unknown, atime: TimeLike, mtime: TimeLike, follow: boolean): MountOp<void> {
	const syscall = follow ? 'utime' : 'lutime';
	const p = mountPath(path, syscall);
	const [as, ans] = toTimespec(atime, 'atime');
	const [ms, mns] = toTimespec(mtime, 'mtime');
	return { syscall, steps: (root) => sys('utimes', [root, p, as, ans, ms, mns, follow], syscall, p) };
}

/** access: F_OK, R_OK, W_OK, X_OK as node:fs's constants. */
export function accessOp(path: unknown, mode: unknown): MountOp<void> {
	const p = mountPath(path, 'access');
	const m = checkInt(mode, 'mode', 0, 7);
	return { syscall: 'access', steps: (root) => sys('access', [root, p, m], 'access', p) };
}

/** statfs of the filesystem holding `path`, counts as numbers or BigInts. */
export function trimOp(minLength: unknown): MountOp<number> {
	checkInt(minLength, 'minLength', 0);
	return {
		syscall: 'ioctl',
		*steps(root) {
			return yield* sys('trim', [root, minLength as number], 'ioctl');
		},
	};
}

export function statfsOp(path: unknown, bigint: boolean): MountOp<StatFs<number> | StatFs<bigint>> {
	const p = mountPath(path, 'statfs');
	return {
		syscall: 'statfs',
		*steps(root) {
			const st = yield* sys('statfs', [root, p], 'statfs', p);
			return bigint ? new StatFs(st, BigInt) : new StatFs(st, Number);
		},
	};
}
