// Paths as bytes, for the operations that walk a tree (recursive mkdir,
// rm and readdir): a name that is not valid UTF-8 must survive the trip
// from readdir back into unlink unchanged.
import type { NativePath } from './native.js';

const SLASH = 0x2f;

/** The bytes of a path as the kernel will see them. */
export function pathBytes(path: NativePath): Buffer {
	return typeof path === 'string' ? Buffer.from(path) : path;
}

/** `dir`/`name`. */
export function joinBytes(dir: Buffer, name: Buffer): Buffer {
	if (dir.length === 0)
		return name;
	if (dir[dir.length - 1] === SLASH)
		return Buffer.concat([dir, name]);
	return Buffer.concat([dir, Buffer.of(SLASH), name]);
}

/**
 * The components of `path` with "." dropped and ".." taken back lexically;
 * inside a mount "/" and "" both mean its root.
 */
export function components(path: Buffer): Buffer[] {
	const out: Buffer[] = [];
	let start = 0;
	for (let i = 0; i <= path.length; i++) {
		if (i < path.length && path[i] !== SLASH)
			continue;
		const part = path.subarray(start, i);
		start = i + 1;
		if (part.length === 0 || (part.length === 1 && part[0] === 0x2e))
			continue;
		if (part.length === 2 && part[0] === 0x2e && part[1] === 0x2e)
			out.pop();
		else
			out.push(part);
	}
	return out;
}

/** "/a/b" from components. */
export function absoluteFrom(parts: readonly Buffer[]): Buffer {
	const out: Buffer[] = [];
	for (const part of parts)
		out.push(Buffer.of(SLASH), part);
	return out.length ? Buffer.concat(out) : Buffer.of(SLASH);
}
