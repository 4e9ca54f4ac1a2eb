// Errors shaped like node:fs's, so code written against node:fs (checking
// err.code === 'ENOENT', printing err.message) works unchanged here.
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** A path as a caller gave it, kept for the error's `path`/`dest`. */
export type ErrorPath = string | Uint8Array;

/** An error from a system call inside the kernel, as node:fs throws them. */
export interface ErrnoError extends Error {
	/** Negative errno, as node:fs has it (host numbering). */
	errno: number;
	/** Symbolic name, e.g. 'ENOENT'. */
	code: string;
	/** The operation, e.g. 'open', 'mkdir'. */
	syscall: string;
	/** The path the operation was about, as given. */
	path?: string;
	/** The second path of rename, link, symlink and copyfile. */
	dest?: string;
}

/** Codes of the errors this package raises itself (not errno errors). */
export type LklErrorCode =
	| 'ERR_LKL_BOOTED'
	| 'ERR_LKL_HALTED'
	| 'ERR_LKL_UNMOUNTED'
	| 'ERR_LKL_NO_BINARY'
	| 'ERR_INVALID_ARG_TYPE'
	| 'ERR_INVALID_ARG_VALUE'
	| 'ERR_OUT_OF_RANGE'
	| 'ERR_FS_EISDIR'
	| 'ERR_FS_FILE_TOO_LARGE';

/** An error about the state of the kernel or a mount, or a bad argument. */
export interface LklError extends Error {
	code: LklErrorCode;
}

// Linux's errno names by number (the kernel's numbering is the generic one
// whatever the host is); '' where Linux has only an alias.
const LINUX_ERRNO_NAMES = (
	'EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ' +
	'ENOMEM EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR ' +
	'EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK ' +
	'EPIPE EDOM ERANGE EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP - ' +
	'ENOMSG EIDRM ECHRNG EL2NSYNC EL3HLT EL3RST ELNRNG EUNATCH ENOCSI EL2HLT ' +
	'EBADE EBADR EXFULL ENOANO EBADRQC EBADSLT - EBFONT ENOSTR ENODATA ETIME ' +
	'ENOSR ENONET ENOPKG EREMOTE ENOLINK EADV ESRMNT ECOMM EPROTO EMULTIHOP ' +
	'EDOTDOT EBADMSG EOVERFLOW ENOTUNIQ EBADFD EREMCHG ELIBACC ELIBBAD ' +
	'ELIBSCN ELIBMAX ELIBEXEC EILSEQ ERESTART ESTRPIPE EUSERS ENOTSOCK ' +
	'EDESTADDRREQ EMSGSIZE EPROTOTYPE ENOPROTOOPT EPROTONOSUPPORT ' +
	'ESOCKTNOSUPPORT ENOTSUP EPFNOSUPPORT EAFNOSUPPORT EADDRINUSE ' +
	'EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ' +
	'ENOBUFS EISCONN ENOTCONN ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED ' +
	'EHOSTDOWN EHOSTUNREACH EALREADY EINPROGRESS ESTALE EUCLEAN ENOTNAM ' +
	'ENAVAIL EISNAM EREMOTEIO EDQUOT ENOMEDIUM EMEDIUMTYPE ECANCELED ENOKEY ' +
	'EKEYEXPIRED EKEYREVOKED EKEYREJECTED EOWNERDEAD ENOTRECOVERABLE ERFKILL ' +
	'EHWPOISON'
).split(' ');

// What libuv has no text for but a filesystem can well answer.
const EXTRA_MESSAGES: Readonly<Record<string, string>> = {
	EUCLEAN: 'structure needs cleaning',
	EDQUOT: 'disk quota exceeded',
	ESTALE: 'stale file handle',
	EBADMSG: 'bad message',
	ENOTBLK: 'block device required',
	ENOKEY: 'required key not available',
	EREMOTEIO: 'remote i/o error',
	ENOMEDIUM: 'no medium found',
	EMEDIUMTYPE: 'wrong medium type',
	ENOLCK: 'no locks available',
	ENOEXEC: 'exec format error',
	EDEADLK: 'resource deadlock avoided',
};

const hostErrno: Readonly<Record<string, number>> = osConstants.errno;
const uvErrors = getSystemErrorMap();

/** The name of a kernel errno (positive or negative), e.g. 'ENOENT'. */
export function errnoName(errno: number): string {
	const name = LINUX_ERRNO_NAMES[Math.abs(errno) - 1];
	return name && name !== '-' ? name : `E${Math.abs(errno)}`;
}

function describe(code: string, host: number): string {
	const uv = uvErrors.get(-host);
	if (uv && uv[0] === code)
		return uv[1];
	// ENOTSUP and EOPNOTSUPP share a number; libuv's text is about sockets.
	if (code === 'ENOTSUP')
		return 'operation not supported';
	return EXTRA_MESSAGES[code] ?? uv?.[1] ?? `unknown error ${code}`;
}

/**
 * What an errno error's code means, as its message says it after the code
 * ("no such file or directory" for ENOENT); undefined for other errors.
 */
export function errnoText(err: unknown): string | undefined {
	const code = (err as { code?: unknown })?.code;
	if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code))
		return undefined;
	return describe(code, hostErrno[code] ?? 0);
}

function pathText(p: ErrorPath): string {
	return typeof p === 'string' ? p : Buffer.from(p).toString();
}

/**
 * The error node:fs would throw for kernel errno `errno` (negative, as the
 * addon reports it) from `syscall` on `path` (and `dest`).
 */
export function errnoError(errno: number, syscall: string, path?: ErrorPath,
	dest?: ErrorPath): ErrnoError {
	const code = errnoName(errno);
	// The host's number for the same name, so err.errno compares with
	// os.constants.errno as it would for a node:fs error.
	const host = hostErrno[code] ?? Math.abs(errno);
	let message = `${code}: ${describe(code, host)}, ${syscall}`;
	if (path !== undefined) {
		message += ` '${pathText(path)}'`;
		if (dest !== undefined)
			message += ` -> '${pathText(dest)}'`;
	}
	const err = new Error(message) as ErrnoError;
	err.errno = -host;
	err.code = code;
	err.syscall = syscall;
	if (path !== undefined)
		err.path = pathText(path);
	if (dest !== undefined)
		err.dest = pathText(dest);
	return err;
}

function hasErrno(e: unknown): e is { errno: number } {
	return e instanceof Error && typeof (e as { errno?: unknown }).errno === 'number';
}

/**
 * Reshapes what the addon threw: errno errors become node:fs-style ones;
 * anything else (a TypeError about an argument) passes unchanged.
 */
export function fsError(cause: unknown, syscall: string, path?: ErrorPath,
	dest?: ErrorPath): unknown {
	if (!hasErrno(cause))
		return cause;
	return errnoError(cause.errno, syscall, path, dest);
}

/** Awaits one addon call, its errors reshaped as fsError() does. */
export async function fsCall<T>(call: () => Promise<T>, syscall: string, path?: ErrorPath,
	dest?: ErrorPath): Promise<T> {
	try {
		return await call();
	} catch (e) {
		throw fsError(e, syscall, path, dest);
	}
}

/** An error of this package's own, with a `code` like Node's internal ones. */
export function lklError(code: LklErrorCode, message: string): LklError {
	// The same classes node gives these codes.
	const err = (code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_INVALID_ARG_VALUE' ? new TypeError(message) :
		code === 'ERR_OUT_OF_RANGE' || code === 'ERR_FS_FILE_TOO_LARGE' ? new RangeError(message) :
			new Error(message)) as LklError;
	err.code = code;
	return err;
}

/** A node:fs-style error for a FileHandle used after close(). */
export function closedError(syscall: string): ErrnoError {
	const err = errnoError(-9, syscall);
	err.message = 'file closed';
	return err;
}
