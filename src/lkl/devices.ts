// Device numbers.  Stats.dev and Stats.rdev use glibc's 64-bit dev_t
// layout, which is what node:fs shows for host files, so the same
// major/minor reads as the same number in both.
import { checkInt, invalidType } from './validate.js';

/** A device as its two numbers. */
export interface DeviceNumber {
	/** The driver (e.g. 1 for /dev/null's "mem"). */
	major: number;
	/** The device of that driver (e.g. 3 for /dev/null). */
	minor: number;
}

/** glibc's makedev(): the dev_t node:fs would show. */
export function makedev(major: number, minor: number): bigint {
	const ma = BigInt(major >>> 0);
	const mi = BigInt(minor >>> 0);
	return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) |
		((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** glibc's major()/minor() of a dev_t. */
export function splitdev(dev: number | bigint): DeviceNumber {
	const d = BigInt(dev);
	return {
		major: Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & 0xfffff000n)),
		minor: Number((d & 0xffn) | ((d >> 12n) & 0xffffff00n)),
	};
}

/** A device argument: {major, minor}, or a dev_t as Stats.rdev gives it. */
export function parseDevice(dev: unknown): DeviceNumber {
	if (dev === undefined || dev === null)
		return { major: 0, minor: 0 };
	if (typeof dev === 'number' || typeof dev === 'bigint') {
		if (typeof dev === 'number')
			checkInt(dev, 'dev', 0);
		else if (dev < 0n)
			throw invalidType('dev', 'a non-negative dev_t', dev);
		return splitdev(dev);
	}
	if (typeof dev === 'object') {
		const { major, minor } = dev as Partial<DeviceNumber>;
		return {
			major: checkInt(major, 'dev.major', 0, 0xfff),
			minor: checkInt(minor, 'dev.minor', 0, 0xfffff),
		};
	}
	throw invalidType('dev', 'a number, bigint or { major, minor }', dev);
}
