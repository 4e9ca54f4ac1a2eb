// Timestamps for utimes: whatever node:fs accepts, plus BigInt nanoseconds
// so a time read with { bigint: true } can be written back exactly.
import { invalidType, invalidValue } from './validate.js';

/**
 * A point in time: a Date, seconds since the epoch (a number, possibly
 * fractional, or a numeric string), or nanoseconds since the epoch as a
 * BigInt (exact).
 */
export type TimeLike = Date | number | string | bigint;

/** Seconds and nanoseconds (0 to 999999999), as the kernel takes them. */
export type Timespec = readonly [sec: number, nsec: number];

const NS_PER_SEC = 1_000_000_000n;

/** Converts a {@link TimeLike}; `name` is for the error message. */
export function toTimespec(time: unknown, name: string): Timespec {
	if (typeof time === 'bigint') {
		let sec = time / NS_PER_SEC;
		let nsec = time % NS_PER_SEC;
		if (nsec < 0n) {
			sec -= 1n;
			nsec += NS_PER_SEC;
		}
		return [Number(sec), Number(nsec)];
	}
	let seconds: number;
	if (time instanceof Date) {
		const ms = time.getTime();
		if (Number.isNaN(ms))
			throw invalidValue(name, time, 'must be a valid Date');
		const sec = Math.floor(ms / 1000);
		// Integer milliseconds: exact, unlike going through seconds.
		return [sec, (ms - sec * 1000) * 1_000_000];
	} else if (typeof time === 'number') {
		seconds = time;
	} else if (typeof time === 'string' && time.trim() !== '' && !Number.isNaN(Number(time))) {
		seconds = Number(time);
	} else {
		throw invalidType(name, 'of type string, number, bigint or an instance of Date', time);
	}
	if (!Number.isFinite(seconds))
		throw invalidValue(name, time, 'must be a finite number');
	const sec = Math.floor(seconds);
	const nsec = Math.min(Math.round((seconds - sec) * 1e9), 999_999_999);
	return [sec, nsec];
}
