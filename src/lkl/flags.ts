// Open flags.  The kernel inside is built with the generic Linux numbering,
// while numbers a caller passes come from the host's fs.constants (which
// differ on arm64 and outside Linux), so numbers are translated by name.
import { constants as hostConstants } from 'node:fs';
import { invalidValue, invalidType } from './validate.js';

/** The flag strings node:fs accepts. */
export type OpenFlags =
	| 'r' | 'rs' | 'sr' | 'r+' | 'rs+' | 'sr+'
	| 'w' | 'wx' | 'xw' | 'w+' | 'wx+' | 'xw+'
	| 'a' | 'ax' | 'xa' | 'as' | 'sa' | 'a+' | 'ax+' | 'xa+' | 'as+' | 'sa+';

/** The kernel's O_* values (asm-generic/fcntl.h). */
export const KERNEL_O = {
	O_RDONLY: 0,
	O_WRONLY: 0o1,
	O_RDWR: 0o2,
	O_CREAT: 0o100,
	O_EXCL: 0o200,
	O_NOCTTY: 0o400,
	O_TRUNC: 0o1000,
	O_APPEND: 0o2000,
	O_NONBLOCK: 0o4000,
	O_DSYNC: 0o10000,
	O_DIRECT: 0o40000,
	O_LARGEFILE: 0o100000,
	O_DIRECTORY: 0o200000,
	O_NOFOLLOW: 0o400000,
	O_NOATIME: 0o1000000,
	O_CLOEXEC: 0o2000000,
	O_SYNC: 0o4010000,
} as const;

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC } = KERNEL_O;

const STRING_FLAGS: Readonly<Record<OpenFlags, number>> = {
	'r': O_RDONLY,
	'rs': O_RDONLY | O_SYNC,
	'sr': O_RDONLY | O_SYNC,
	'r+': O_RDWR,
	'rs+': O_RDWR | O_SYNC,
	'sr+': O_RDWR | O_SYNC,
	'w': O_TRUNC | O_CREAT | O_WRONLY,
	'wx': O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
	'xw': O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
	'w+': O_TRUNC | O_CREAT | O_RDWR,
	'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
	'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
	'a': O_APPEND | O_CREAT | O_WRONLY,
	'ax': O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
	'xa': O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
	'as': O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
	'sa': O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
	'a+': O_APPEND | O_CREAT | O_RDWR,
	'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
	'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
	'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
	'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

// Widest first, so O_SYNC claims its O_DSYNC bit before O_DSYNC looks.
const BY_WIDTH = (Object.keys(KERNEL_O) as (keyof typeof KERNEL_O)[])
	.filter((name) => name !== 'O_RDONLY' && name !== 'O_WRONLY' && name !== 'O_RDWR')
	.sort((a, b) => KERNEL_O[b] - KERNEL_O[a]);

const host: Readonly<Record<string, number | undefined>> = hostConstants;

/** Host O_* bits (as in node:fs constants) to the kernel's. */
export function hostToKernelFlags(flags: number): number {
	let kernel = flags & 3;
	let left = flags & ~3;
	for (const name of BY_WIDTH) {
		const bits = host[name];
		if (bits === undefined || bits === 0 || (flags & bits) !== bits)
			continue;
		kernel |= KERNEL_O[name];
		left &= ~bits;
	}
	// Bits the host has no name for pass through: Linux numbering is the
	// only guess there is.
	return kernel | left;
}

/** Flags as a string or host number, in the kernel's numbering. */
export function parseFlags(flags: unknown, fallback: OpenFlags): number {
	if (flags === undefined || flags === null)
		return STRING_FLAGS[fallback];
	if (typeof flags === 'number') {
		if (!Number.isInteger(flags))
			throw invalidValue('flags', flags, 'is invalid');
		return hostToKernelFlags(flags);
	}
	if (typeof flags === 'string') {
		const value = STRING_FLAGS[flags as OpenFlags];
		if (value === undefined)
			throw invalidValue('flags', flags, 'is invalid');
		return value;
	}
	throw invalidType('flags', 'of type string or number', flags);
}
