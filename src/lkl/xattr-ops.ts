// Extended attributes of a path in a mount, as MountOps (see steps.ts):
// arguments checked as node:fs would, then one addon call each.  The l…
// forms (follow = false) act on a symlink itself.  splitXattrNames also
// serves the copy engine's calls (copy-calls.ts).
import { sys, type MountOp } from './steps.js';
import { checkInt, invalidType, invalidValue, mountPath, toBytes } from './validate.js';

/** The names in a listxattr buffer: NUL-terminated, in the kernel's order. */
export function splitXattrNames(list: Buffer): string[] {
	return list.toString('utf8').split('\0').filter((n) => n.length > 0);
}

function xattrName(name: unknown): string {
	if (typeof name !== 'string')
		throw invalidType('name', 'of type string', name);
	if (name.includes('\0'))
		throw invalidValue('name', name, 'must be a string without null bytes');
	return name;
}

function xattrValue(value: unknown): Buffer {
	if (typeof value === 'string')
		return Buffer.from(value);
	const bytes = toBytes(value, 'utf8', 'value');
	return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** getxattr / lgetxattr: the value (ENODATA if there is none by that name). */
export function getxattrOp(path: unknown, name: unknown, follow: boolean): MountOp<Buffer> {
	const syscall = follow ? 'getxattr' : 'lgetxattr';
	const p = mountPath(path, syscall);
	const n = xattrName(name);
	return { syscall, steps: (root) => sys('getxattr', [root, p, n, follow], syscall, p) };
}

/** setxattr / lsetxattr; flags: XattrFlags.CREATE, REPLACE or 0. */
export function setxattrOp(path: unknown, name: unknown, value: unknown, flags: unknown,
	follow: boolean): MountOp<void> {
	const syscall = follow ? 'setxattr' : 'lsetxattr';
	const p = mountPath(path, syscall);
	const n = xattrName(name);
	const v = xattrValue(value);
	const f = checkInt(flags, 'flags', 0, 3);
	return { syscall, steps: (root) => sys('setxattr', [root, p, n, v, f, follow], syscall, p) };
}

/** listxattr / llistxattr: the names. */
export function listxattrOp(path: unknown, follow: boolean): MountOp<string[]> {
	const syscall = follow ? 'listxattr' : 'llistxattr';
	const p = mountPath(path, syscall);
	return {
		syscall,
		*steps(root) {
			return splitXattrNames(yield* sys('listxattr', [root, p, follow], syscall, p));
		},
	};
}

/** removexattr / lremovexattr. */
export function removexattrOp(path: unknown, name: unknown, follow: boolean): MountOp<void> {
	const syscall = follow ? 'removexattr' : 'lremovexattr';
	const p = mountPath(path, syscall);
	const n = xattrName(name);
	return { syscall, steps: (root) => sys('removexattr', [root, p, n, follow], syscall, p) };
}
