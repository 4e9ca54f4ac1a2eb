/**
 * Path safety, in one place.  Names come from outside: an image's
 * directory entries (a crafted image can hold any bytes), an archive's
 * paths, paths typed on the command line.  They are bytes (Buffers), never
 * decoded, so that a name that is not UTF-8 survives and is checked as the
 * kernel will see it.  The rules:
 *
 *   - "/" separates components.  A path is taken as relative to the top
 *     of the copy: leading "/" are dropped ("/etc" inside an image is
 *     "etc" below its root), and so are empty components ("a//b") and "."
 *     components; "" is the top itself.
 *   - ".." is refused wherever it appears, not resolved: resolving it
 *     lexically would let "a/../../x" climb above the top, and on a real
 *     tree "a" may be a symlink that makes the lexical answer wrong.
 *   - NUL is refused: the kernel would end the name there, so a check of
 *     the whole name would not be a check of what gets written.
 *   - A component over NAME_MAX (255) bytes or a path over PATH_MAX (4096)
 *     bytes is refused with ENAMETOOLONG, before any call is made with it.
 *   - One name from an image (a directory entry, see checkName) must be a
 *     name: not empty, not "." or "..", no "/" and no NUL.
 *
 * Refusals are errors with a node:fs-style code (EPERM, ENAMETOOLONG) and
 * a message that names the path.
 */

export const NAME_MAX = 255;
export const PATH_MAX = 4096;

const SLASH = 0x2f, DOT = 0x2e;

/** A name refused by the rules above. */
export class UnsafeNameError extends Error {
	readonly code: 'EPERM' | 'ENAMETOOLONG';
	/** The name as given. */
	readonly path: Buffer;

	constructor(path: Buffer, code: 'EPERM' | 'ENAMETOOLONG', why: string) {
		super(`refusing ${JSON.stringify(path.toString())}: ${why}`);
		this.name = 'UnsafeNameError';
		this.code = code;
		this.path = path;
	}
}

function isDots(bytes: Buffer, start: number, end: number): 1 | 2 | 0 {
	if (end - start === 1 && bytes[start] === DOT)
		return 1;
	if (end - start === 2 && bytes[start] === DOT && bytes[start + 1] === DOT)
		return 2;
	return 0;
}

type Refusal = [code: UnsafeNameError['code'], why: string];

/** Why one name is no name, or undefined if it is one. */
function refusal(name: Buffer): Refusal | undefined {
	if (name.length === 0)
		return ['EPERM', 'an empty name'];
	const dots = isDots(name, 0, name.length);
	if (dots)
		return ['EPERM', dots === 2 ? 'it contains ".."' : 'the name "."'];
	if (name.includes(SLASH))
		return ['EPERM', 'a name with "/" in it'];
	if (name.includes(0))
		return ['EPERM', 'it contains a NUL byte'];
	if (name.length > NAME_MAX)
		return ['ENAMETOOLONG', `a name longer than ${NAME_MAX} bytes`];
	return undefined;
}

/**
 * Checks one directory entry's name from an image before it is used as a
 * component of a path on the host or in an archive.
 */
export function checkName(name: Buffer): void {
	const no = refusal(name);
	if (no)
		throw new UnsafeNameError(name, ...no);
}

/**
 * A path as the copy engine takes it: relative to the top, components
 * joined by single "/", "" for the top.  Refuses what the rules refuse.
 * Returns `path` itself when it is already clean (the common case: no
 * allocation per archive entry).
 */
export function relativePath(path: Buffer | string): Buffer {
	const bytes = typeof path === 'string' ? Buffer.from(path) : path;
	if (bytes.length > PATH_MAX)
		throw new UnsafeNameError(bytes, 'ENAMETOOLONG', `a path longer than ${PATH_MAX} bytes`);
	if (bytes.includes(0))
		throw new UnsafeNameError(bytes, 'EPERM', 'it contains a NUL byte');
	let clean = true;
	const parts: Buffer[] = [];
	for (let start = 0; start <= bytes.length;) {
		let end = bytes.indexOf(SLASH, start);
		if (end < 0)
			end = bytes.length;
		const dots = isDots(bytes, start, end);
		if (dots === 2)
			throw new UnsafeNameError(bytes, 'EPERM', 'it contains ".."');
		if (end - start > NAME_MAX)
			throw new UnsafeNameError(bytes, 'ENAMETOOLONG', `a component longer than ${NAME_MAX} bytes`);
		if (end === start || dots === 1) {
			// "" alone is the top; any other empty or "." part makes it unclean.
			if (bytes.length > 0)
				clean = false;
		} else {
			parts.push(bytes.subarray(start, end));
		}
		start = end + 1;
	}
	if (clean)
		return bytes;
	const out: Buffer[] = [];
	for (const part of parts) {
		if (out.length)
			out.push(Buffer.of(SLASH));
		out.push(part);
	}
	return Buffer.concat(out);
}

/**
 * The components of a relative path whose every component must already be
 * a name (checkName): for a sink that joins them under its top one by one.
 */
export function checkedComponents(path: Buffer): Buffer[] {
	if (path.length > PATH_MAX)
		throw new UnsafeNameError(path, 'ENAMETOOLONG', `a path longer than ${PATH_MAX} bytes`);
	const parts: Buffer[] = [];
	if (path.length === 0)
		return parts;
	for (let start = 0; start <= path.length;) {
		let end = path.indexOf(SLASH, start);
		if (end < 0)
			end = path.length;
		const part = path.subarray(start, end);
		const no = refusal(part);
		if (no)
			throw new UnsafeNameError(path, ...no);	// named by the whole path, which the caller knows
		parts.push(part);
		start = end + 1;
	}
	return parts;
}
