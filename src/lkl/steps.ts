// An operation written once and run either synchronously (the …Sync
// methods) or off the main thread: it is a generator that yields the addon
// calls it needs, and a driver makes each call one way or the other.
import { fsError, type ErrorPath } from './errors.js';
import { native, type NativeOpName, type NativeOps } from './native.js';

/** One addon call an operation asks for. */
export interface Call {
	readonly op: NativeOpName;
	readonly args: readonly unknown[];
}

/** An operation: yields calls, gets each one's result back, returns T. */
export type Steps<T> = Generator<Call, T, unknown>;

/**
 * An operation on a mount with its arguments checked: the syscall it
 * reports as, and its steps given the mount's root descriptor.
 */
export interface MountOp<T> {
	readonly syscall: string;
	readonly steps: (root: number) => Steps<T>;
}

type Result<K extends NativeOpName> = ReturnType<NativeOps[K]>;
type AnyCall = (...args: readonly unknown[]) => unknown;

/**
 * Makes one addon call; its errors come out shaped like node:fs's, with
 * `syscall`, `path` and `dest` filled in.
 */
export function* sys<K extends NativeOpName>(op: K, args: Parameters<NativeOps[K]>,
	syscall: string, path?: ErrorPath, dest?: ErrorPath): Steps<Result<K>> {
	try {
		// The driver answers with what native[op] returned.
		return (yield { op, args }) as Result<K>;
	} catch (e) {
		throw fsError(e, syscall, path, dest);
	}
}

/** Runs `steps` with the …Sync addon calls, on this thread. */
export function runSync<T>(steps: Steps<T>): T {
	let next = steps.next();
	while (!next.done) {
		const { op, args } = next.value;
		let value: unknown;
		try {
			value = (native[`${op}Sync`] as AnyCall)(...args);
		} catch (e) {
			next = steps.throw(e);
			continue;
		}
		next = steps.next(value);
	}
	return next.value;
}

/** Runs `steps` with the promise addon calls, off the main thread. */
export async function runAsync<T>(steps: Steps<T>): Promise<T> {
	let next = steps.next();
	while (!next.done) {
		const { op, args } = next.value;
		let value: unknown;
		try {
			value = await (native[op] as AnyCall)(...args);
		} catch (e) {
			next = steps.throw(e);
			continue;
		}
		next = steps.next(value);
	}
	return next.value;
}
