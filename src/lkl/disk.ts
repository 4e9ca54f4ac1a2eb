// An image file (or block device) the kernel serves as a disk.

/** Options of Kernel.addDisk. */
export interface AddDiskOptions {
	/**
	 * Never write the file.  Mounts of the disk are then read-only unless
	 * asked otherwise, and whatever the kernel still writes (a journal
	 * replay, or a mount made with readOnly: false) stays in memory.
	 */
	readOnly?: boolean;
	/**
	 * Every disk locks its file (an open file description lock): shared
	 * when read-only, else exclusive, until it is removed or the kernel
	 * halts.  When another opener's lock conflicts (a writer; or any
	 * opener, for a disk that writes), addDisk fails with EBUSY, or with
	 * this set waits for that opener to close the file.
	 */
	waitForLock?: boolean;
	/** Ends a wait for the lock, with an AbortError. */
	signal?: AbortSignal;
}

/** A disk attached to the kernel; mount it (or one of its partitions) with Kernel.mount. */
export class Disk {
	/** The image file, as given to addDisk. */
	readonly path: string;
	/** The kernel's name for it, e.g. "vda"; partitions are "vda1", "vda2"… */
	readonly name: string;
	/** Whether the file is never written. */
	readonly readOnly: boolean;
	/** Size of the image in bytes when it was added. */
	readonly size: number;
	/** @internal The addon's handle. */
	readonly id: number;

	/** @internal Made by Kernel.addDisk. */
	constructor(id: number, name: string, path: string, readOnly: boolean, size: number) {
		this.id = id;
		this.name = name;
		this.path = path;
		this.readOnly = readOnly;
		this.size = size;
	}
}
