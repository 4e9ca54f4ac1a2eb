// Counts the operations in flight on a mount or an open file, so that
// unmount() and close() can wait for them: a descriptor closed under a
// running call could be reused by another open and the call would then
// act on the wrong file.

/** What a closed gate answers a new call with; `syscall` names the call. */
export type ClosedReason = (syscall: string) => Error;

// Once the kernel begins to halt, every gate of this process refuses new
// calls at once, whichever mount or file it guards: there is one kernel
// per process (src/lkl/kernel.ts), and its halt ends the calls in flight.
let halting: ClosedReason | undefined;

/** The kernel is halting: every gate refuses new calls with `reason` from now on. */
export function closeEveryGate(reason: ClosedReason): void {
	halting ??= reason;
}

/** Admits calls until closed; close() resolves once the last call left. */
export class Gate {
	#busy = 0;
	#reason: ClosedReason | undefined;
	#drained: (() => void) | undefined;

	/** Whether close() (or closeEveryGate()) was called. */
	get closed(): boolean {
		return (this.#reason ?? halting) !== undefined;
	}

	/** Throws the closed reason, or counts one more call in flight. */
	enter(syscall: string): void {
		this.check(syscall);
		this.#busy++;
	}

	/** Throws the closed reason if closed, without counting a call. */
	check(syscall: string): void {
		const reason = this.#reason ?? halting;
		if (reason)
			throw reason(syscall);
	}

	/** A call admitted by enter() has finished. */
	leave(): void {
		if (--this.#busy === 0 && this.#drained) {
			const drained = this.#drained;
			this.#drained = undefined;
			drained();
		}
	}

	/** Refuses new calls with `reason`; resolves when none is in flight. */
	close(reason: ClosedReason): Promise<void> {
		this.#reason ??= reason;
		if (this.#busy === 0)
			return Promise.resolve();
		return new Promise((resolve) => {
			const previous = this.#drained;
			this.#drained = () => {
				previous?.();
				resolve();
			};
		});
	}

	/** Runs `fn` as one call in flight. */
	async run<T>(syscall: string, fn: () => Promise<T>): Promise<T> {
		this.enter(syscall);
		try {
			return await fn();
		} finally {
			this.leave();
		}
	}
}
