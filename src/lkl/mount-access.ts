// How src/lkl's internal modules reach a Mount's root descriptor and gate.
// Kept off the Mount class so that neither shows in the published types:
// only code in this directory can get at them, and every call it makes
// goes through the gate that lets unmount() wait for calls in flight.
import type { Gate } from './gate.js';

/** What a Mount lends to the modules beside it. */
export interface MountAccess {
	/** O_PATH descriptor of the mount's root; every path call resolves in it. */
	readonly rootFd: number;
	/** Admits calls until the mount is unmounted. */
	readonly gate: Gate;
}

const lent = new WeakMap<object, MountAccess>();

/** Called once by the Mount's constructor. */
export function lendAccess(mount: object, access: MountAccess): void {
	lent.set(mount, access);
}

/** The access a Mount lent; a TypeError for anything that is not a Mount. */
export function accessOf(mount: object): MountAccess {
	const access = lent.get(mount);
	if (!access)
		throw new TypeError('not a Mount made by Kernel.mount');
	return access;
}
