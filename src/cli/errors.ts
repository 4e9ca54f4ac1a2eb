/**
 * How the command line fails: one line on stderr naming the file and the
 * cause, exit code 1 for an operational error and 2 for a usage error, and
 * a stack trace only when LKL_DEBUG is set.
 */
import { errnoText } from '../lkl/errors.js';
import { printable } from './printable.js';

/** An error whose message is already the one line a user should read. */
export class CliError extends Error {
	readonly exitCode: number;
	/** A second line saying what to do, when the cause is known. */
	readonly advice?: string;

	constructor(message: string, exitCode = 1, options?: { cause?: unknown; advice?: string }) {
		super(message, options);
		this.name = 'CliError';
		this.exitCode = exitCode;
		this.advice = options?.advice;
	}
}

/** A mistake on the command line itself. */
export class UsageError extends CliError {
	constructor(message: string) {
		super(message, 2);
		this.name = 'UsageError';
	}
}

const DESCRIPTIONS: Record<string, string> = {
	ENOENT: 'no such file or directory',
	EACCES: 'permission denied',
	EPERM: 'operation not permitted',
	EISDIR: 'is a directory',
	ENOTDIR: 'not a directory',
	EEXIST: 'already exists',
	ENOSPC: 'no space left on the filesystem',
	EROFS: 'read-only filesystem',
	EIO: 'input/output error (is the image truncated or damaged?)',
	EUCLEAN: 'the filesystem is corrupted',
	EINVAL: 'invalid argument',
	ENOTEMPTY: 'directory not empty',
	EFBIG: 'file too large for this filesystem',
	ENAMETOOLONG: 'name too long',
	// A damaged superblock can make a mount fail so too (ext4's flex_bg size).
	ENOMEM: 'not enough memory (-m gives the kernel more; -p shows its messages)',
};

/**
 * The cause part of a message, for an error from node:fs or the kernel:
 * what its code means, not node's wording ("EIO: i/o error, mount
 * '/x.img'"), which names the file a second time.
 */
export function describe(err: unknown): string {
	const e = err as { code?: string; message?: string };
	if (e && typeof e.code === 'string' && DESCRIPTIONS[e.code])
		return DESCRIPTIONS[e.code];
	return errnoText(err) ?? e?.message ?? String(err);
}

/** Prints the error as lkl's one line and returns the exit code. */
export function report(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
	const exitCode = err instanceof CliError ? err.exitCode : 1;
	const message = err instanceof CliError ? err.message : describe(err);
	stderr.write(`lkl: ${printable(message)}\n`);
	if (err instanceof CliError && err.advice)
		stderr.write(`lkl: ${printable(err.advice)}\n`);
	if (process.env.LKL_DEBUG && err instanceof Error)
		stderr.write(`${err.stack ?? ''}\n${err.cause ? `cause: ${String((err.cause as Error).stack ?? err.cause)}\n` : ''}`);
	return exitCode;
}
