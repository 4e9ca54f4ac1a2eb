// Argument checks at the API boundary, failing the way node:fs fails
// (ERR_INVALID_ARG_TYPE and friends) before anything reaches the kernel,
// where a NUL byte would silently cut a path short.
import { errnoError, lklError } from './errors.js';
import type { NativePath } from './native.js';

/** A path inside a mount: text, or raw bytes for names that are not UTF-8. */
export type PathLike = string | Uint8Array;

/** Encodings node:fs accepts for names and contents, plus 'buffer'. */
export type Encoding = BufferEncoding | 'buffer';

function describeValue(value: unknown): string {
	if (value === null)
		return 'null';
	if (typeof value === 'function')
		return 'function';
	if (typeof value === 'object')
		return `an instance of ${value.constructor?.name ?? 'Object'}`;
	return `type ${typeof value} (${String(value)})`;
}

/** ERR_INVALID_ARG_TYPE for `name`, which must be `expected`. */
export function invalidType(name: string, expected: string, value: unknown): Error {
	return lklError('ERR_INVALID_ARG_TYPE',
		`The "${name}" argument must be ${expected}. Received ${describeValue(value)}`);
}

/** ERR_INVALID_ARG_VALUE for `name`. */
export function invalidValue(name: string, value: unknown, reason: string): Error {
	return lklError('ERR_INVALID_ARG_VALUE',
		`The argument '${name}' ${reason}. Received ${describeValue(value)}`);
}

/** ERR_OUT_OF_RANGE for `name`. */
export function outOfRange(name: string, range: string, value: unknown): Error {
	return lklError('ERR_OUT_OF_RANGE',
		`The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`);
}

/** Checks a path and gives it as the addon takes it. */
export function nativePath(path: unknown, name = 'path'): NativePath {
	if (typeof path === 'string') {
		if (path.includes('\0'))
			throw invalidValue(name, path, 'must be a string, Uint8Array, or URL without null bytes');
		return path;
	}
	if (path instanceof Uint8Array) {
		if (path.includes(0))
			throw invalidValue(name, path, 'must be a string, Uint8Array, or URL without null bytes');
		return Buffer.isBuffer(path) ? path :
			Buffer.from(path.buffer, path.byteOffset, path.byteLength);
	}
	throw invalidType(name, 'of type string or an instance of Buffer or Uint8Array', path);
}

/**
 * A path inside a mount for `syscall`: as nativePath, and "" refused with
 * ENOENT as node:fs refuses it (the kernel would take "" as ".").
 */
export function mountPath(path: unknown, syscall: string, name = 'path'): NativePath {
	const p = nativePath(path, name);
	if (p.length === 0)
		throw errnoError(-2, syscall, p);
	return p;
}

/** A safe integer in [min, max]. */
export function checkInt(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER,
	max = Number.MAX_SAFE_INTEGER): number {
	if (typeof value !== 'number')
		throw invalidType(name, 'of type number', value);
	if (!Number.isInteger(value))
		throw outOfRange(name, 'an integer', value);
	if (value < min || value > max)
		throw outOfRange(name, `>= ${min} && <= ${max}`, value);
	return value;
}

/** A file position or length: a non-negative integer, number or bigint. */
export function checkOffset(value: unknown, name: string): number | bigint {
	if (typeof value === 'bigint') {
		if (value < 0n || value > 0x7fffffffffffffffn)
			throw outOfRange(name, '>= 0 && <= 2 ** 63 - 1', value);
		return value;
	}
	return checkInt(value, name, 0);
}

/** A file mode: a number, or an octal string as node:fs allows. */
export function checkMode(value: unknown, name: string, fallback: number): number {
	if (value === undefined || value === null)
		return fallback;
	if (typeof value === 'string') {
		if (!/^[0-7]+$/.test(value))
			throw invalidValue(name, value, 'must be a 32-bit unsigned integer or an octal string');
		return parseInt(value, 8);
	}
	return checkInt(value, name, 0, 0xffffffff);
}

/** A user or group id (-1 leaves it unchanged, as chown(2) has it). */
export function checkId(value: unknown, name: string): number {
	return checkInt(value, name, -1, 0xffffffff);
}

/** Bytes to write: strings in `encoding`, any ArrayBufferView as its bytes. */
export function toBytes(data: unknown, encoding: BufferEncoding, name = 'data'): Uint8Array {
	if (typeof data === 'string')
		return Buffer.from(data, encoding);
	if (data instanceof Uint8Array)
		return data;
	if (ArrayBuffer.isView(data))
		return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
	throw invalidType(name, 'of type string or an instance of Buffer, TypedArray, or DataView', data);
}

/** Checks an encoding name (Buffer.isEncoding, or 'buffer'). */
export function checkEncoding(value: unknown, fallback: Encoding): Encoding {
	if (value === undefined || value === null)
		return fallback;
	if (value === 'buffer' || (typeof value === 'string' && Buffer.isEncoding(value)))
		return value as Encoding;
	throw invalidValue('encoding', value, 'is invalid encoding');
}

/**
 * Options given as an object, or as a bare encoding string the way
 * node:fs takes them; anything else is a type error.
 */
export function optionsObject<T extends object>(options: T | string | undefined | null,
	key: keyof T & string = 'encoding' as keyof T & string): Partial<T> {
	if (options === undefined || options === null)
		return {};
	if (typeof options === 'string')
		return { [key]: options } as Partial<T>;
	if (typeof options !== 'object')
		throw invalidType('options', 'of type object', options);
	return options;
}

/** Decodes bytes (a name, a link target) as `encoding` asks. */
export function decode(bytes: Buffer, encoding: Encoding): string | Buffer {
	return encoding === 'buffer' ? bytes : bytes.toString(encoding);
}
