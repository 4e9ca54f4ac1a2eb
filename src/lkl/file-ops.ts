// Whole-file operations (readFile, writeFile, copyFile) as steps, shared
// by Mount (sync and async) and FileHandle.
import { constants as bufferConstants } from 'node:buffer';
import { errnoError, lklError, type ErrorPath } from './errors.js';
import { KERNEL_O } from './flags.js';
import type { NativePath } from './native.js';
import { sys, type Steps } from './steps.js';

const { O_WRONLY, O_CREAT, O_TRUNC, O_EXCL } = KERNEL_O;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** The most one read or write call asks for: the kernel's one CPU is
 * shared, and a call holds it while it copies. */
export const MAX_CHUNK = 8 << 20;

// For files whose size stat cannot tell (size 0, not regular).
const UNKNOWN_SIZE_CHUNK = 64 << 10;

/**
 * Reads from `fd`'s position to the end of the file.  Errors name no
 * path, as node:fs's errors from calls on descriptors do.
 */
export function* readToEnd(fd: number, path?: ErrorPath): Steps<Buffer> {
	const st = yield* sys('fstat', [fd], 'fstat', path);
	const size = (st.mode & S_IFMT) === S_IFREG ? st.size : 0n;
	if (size > BigInt(bufferConstants.MAX_LENGTH)) {
		throw lklError('ERR_FS_FILE_TOO_LARGE',
			`File size (${size}) is greater than ${bufferConstants.MAX_LENGTH} bytes`);
	}
	if (size > 0n) {
		const total = Number(size);
		const buffer = Buffer.allocUnsafe(total);
		let got = 0;
		while (got < total) {
			const n = yield* sys('read', [fd, buffer, got, Math.min(MAX_CHUNK, total - got), -1],
				'read', path);
			if (n === 0)
				break;
			got += n;
		}
		return got < total ? buffer.subarray(0, got) : buffer;
	}
	const chunks: Buffer[] = [];
	for (;;) {
		const chunk = Buffer.allocUnsafe(UNKNOWN_SIZE_CHUNK);
		const n = yield* sys('read', [fd, chunk, 0, chunk.length, -1], 'read', path);
		if (n === 0)
			break;
		chunks.push(chunk.subarray(0, n));
	}
	return Buffer.concat(chunks);
}

/** Writes all of `bytes` at `fd`'s position (or at `position` on). */
export function* writeAll(fd: number, bytes: Uint8Array, path?: ErrorPath,
	position = -1): Steps<void> {
	let done = 0;
	while (done < bytes.length) {
		const length = Math.min(MAX_CHUNK, bytes.length - done);
		const at = position < 0 ? -1 : position + done;
		done += yield* sys('write', [fd, bytes, done, length, at], 'write', path);
	}
}

/**
 * Opens `path`, runs `body` on the descriptor, and closes it whatever
 * happens; a failing open reports `syscall` on `shown` (path, dest).
 */
export function* withFile<T>(root: number, path: NativePath, flags: number, mode: number,
	body: (fd: number) => Steps<T>, syscall = 'open',
	shown: readonly [ErrorPath, ErrorPath?] = [path]): Steps<T> {
	const fd = yield* sys('open', [root, path, flags, mode], syscall, ...shown);
	let result: T;
	try {
		result = yield* body(fd);
	} catch (e) {
		try {
			yield* sys('close', [fd], 'close', path);
		} catch {
			// The first error is the one worth reporting.
		}
		throw e;
	}
	yield* sys('close', [fd], 'close', path);
	return result;
}

/** copyFile's mode bits, as node:fs's constants. */
export const COPYFILE_EXCL = 1;
export const COPYFILE_FICLONE = 2;
export const COPYFILE_FICLONE_FORCE = 4;

const COPY_CHUNK = 1 << 20;

/** Copies `src` to `dest` (contents and permission bits), as node:fs's copyFile. */
export function* copyFile(root: number, src: NativePath, dest: NativePath,
	mode: number): Steps<void> {
	const shown = [src, dest] as const;
	// No filesystem here can share blocks with a copy through this API.
	if (mode & COPYFILE_FICLONE_FORCE)
		throw errnoError(-95, 'copyfile', src, dest);
	yield* withFile(root, src, 0, 0, function* (input) {
		const st = yield* sys('fstat', [input], 'copyfile', src, dest);
		const perms = st.mode & 0o7777;
		const flags = O_WRONLY | O_CREAT | O_TRUNC | (mode & COPYFILE_EXCL ? O_EXCL : 0);
		yield* withFile(root, dest, flags, perms, function* (output) {
			const buffer = Buffer.allocUnsafe(COPY_CHUNK);
			for (;;) {
				const n = yield* sys('read', [input, buffer, 0, buffer.length, -1],
					'copyfile', src, dest);
				if (n === 0)
					break;
				let done = 0;
				while (done < n)
					done += yield* sys('write', [output, buffer, done, n - done, -1],
						'copyfile', src, dest);
			}
			// As libuv does: the umask must not narrow the copy's mode.
			yield* sys('fchmod', [output, perms], 'copyfile', src, dest);
		}, 'copyfile', shown);
	}, 'copyfile', shown);
}
