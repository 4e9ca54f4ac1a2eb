// The Linux kernel running inside this process: one per process, booted
// once, halted once.  It owns the disks and mounts made through it.
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { MountFlags } from './constants.js';
import { Disk, type AddDiskOptions } from './disk.js';
import { errnoError, fsError, lklError } from './errors.js';
import { closeEveryGate } from './gate.js';
import { openWhileLocked } from './image-locks.js';
import { Mount, type MountOwner } from './mount.js';
import { native } from './native.js';
import { runAsync, sys } from './steps.js';
import { checkInt, invalidType, outOfRange } from './validate.js';

/** Options of Kernel.boot. */
export interface BootOptions {
	/** Memory the kernel may use, in MiB (default 128); page cache lives in it. */
	memoryMiB?: number;
	/** Print the kernel's log (printk) on stderr (default false). */
	printk?: boolean;
	/** More kernel command line, e.g. "loglevel=8". */
	bootArgs?: string;
	/**
	 * Freeze the kernel's wall clock at this many seconds since 1970: every
	 * timestamp it writes (inode times, superblock and journal times) is
	 * this one, for reproducible images.  Timers still run.
	 */
	epoch?: number;
	/**
	 * 32 bytes from which all of the kernel's random numbers follow (inode
	 * generations, UUIDs a filesystem makes), instead of fresh ones: the
	 * same seed and the same calls give the same numbers.  For
	 * reproducible images only: nothing the kernel draws is then secret.
	 */
	randomSeed?: Uint8Array;
}

/** The latest epoch a filesystem can hold a time of (ext4's and XFS's end, in 2446 and 2486, are later). */
export const MAX_EPOCH = 253402300799;	// 9999-12-31T23:59:59Z

/** The command line that makes the boot reproducible, from @options. */
function reproducibleArgs(options: BootOptions): string {
	const args: string[] = [];
	if (options.epoch !== undefined)
		args.push(`lkl.epoch=${checkInt(options.epoch, 'epoch', 0, MAX_EPOCH)}`);
	const seed = options.randomSeed;
	if (seed !== undefined) {
		if (!(seed instanceof Uint8Array))
			throw invalidType('randomSeed', 'an instance of Buffer or Uint8Array', seed);
		if (seed.byteLength !== 32)
			throw outOfRange('randomSeed.byteLength', '32', seed.byteLength);
		args.push(`random.fixed_seed=${Buffer.from(seed.buffer, seed.byteOffset, seed.byteLength).toString('hex')}`);
	}
	return args.join(' ');
}

/** Options of Kernel.mount. */
export interface MountOptions {
	/** Partition number (1, 2…), or 0 for the whole disk (default). */
	partition?: number;
	/** "ext4", "btrfs", "xfs", "vfat"… (default: recognised from the superblock). */
	fsType?: string;
	/** Mount read-only (default: whether the disk was added read-only). */
	readOnly?: boolean;
	/** The filesystem's own mount options, e.g. "discard,errors=remount-ro". */
	options?: string;
	/** More MountFlags, OR-ed together. */
	flags?: number;
}

type State = 'running' | 'halting' | 'halted';

let booted: Kernel | undefined;

function haltedError(what: string): Error {
	return lklError('ERR_LKL_HALTED',
		`${what}: the kernel has halted (there is one kernel per process, and it cannot boot again)`);
}

/** The kernel of this process. */
export class Kernel implements MountOwner {
	#state: State = 'running';
	readonly #disks = new Set<Disk>();
	readonly #mounts = new Set<Mount>();
	#halting: Promise<void> | undefined;
	readonly #onBeforeExit = (): void => {
		// Nothing is left to do but the process would exit with dirty
		// filesystems: finish them properly first.
		if (this.#state === 'running')
			void this.halt();
	};

	private constructor() {
		process.on('beforeExit', this.#onBeforeExit);
	}

	/**
	 * Boots the kernel (synchronously; it takes tens of milliseconds).
	 * There is one kernel per process: a second boot throws ERR_LKL_BOOTED,
	 * and one after halt() throws ERR_LKL_HALTED.
	 */
	static boot(options: BootOptions = {}): Kernel {
		if (booted) {
			if (booted.#state !== 'running')
				throw haltedError('boot');
			throw lklError('ERR_LKL_BOOTED', 'boot: the kernel is already running (one kernel per process)');
		}
		const memory = checkInt(options.memoryMiB ?? 128, 'memoryMiB', 16, 1 << 20);
		const extra = options.bootArgs ?? '';
		if (typeof extra !== 'string')
			throw invalidType('bootArgs', 'of type string', extra);
		const args = [extra, reproducibleArgs(options)].filter(Boolean).join(' ');
		try {
			native.boot(memory, args, Boolean(options.printk));
		} catch (e) {
			throw fsError(e, 'boot');
		}
		booted = new Kernel();
		return booted;
	}

	/** The kernel booted in this process, if any (halted or not). */
	static get current(): Kernel | undefined {
		return booted;
	}

	/** True once halt() has begun. */
	get halted(): boolean {
		return this.#state !== 'running';
	}

	/** The disks added and not removed. */
	get disks(): readonly Disk[] {
		return [...this.#disks];
	}

	/** The mounts made and not unmounted. */
	get mounts(): readonly Mount[] {
		return [...this.#mounts];
	}

	#check(what: string): void {
		if (this.#state !== 'running')
			throw haltedError(what);
	}

	/**
	 * Gives the kernel an image file (or block device) as a disk.  The
	 * file is checked first, so a missing file fails with ENOENT, a
	 * directory with EISDIR and a file without permission with EACCES.
	 * It is locked until removeDisk or halt (or the process's end): an
	 * image another opener holds fails with EBUSY, or is waited for.
	 */
	async addDisk(path: string, options: AddDiskOptions = {}): Promise<Disk> {
		this.#check('addDisk');
		if (typeof path !== 'string')
			throw invalidType('path', 'of type string', path);
		const readOnly = Boolean(options.readOnly);
		const st = await stat(path);
		if (st.isDirectory())
			throw errnoError(-21, 'open', path);
		if (!st.isFile() && !st.isBlockDevice())
			throw errnoError(-19, 'open', path);
		await access(path, readOnly ? fsConstants.R_OK : fsConstants.R_OK | fsConstants.W_OK);
		this.#check('addDisk');
		const added = await openWhileLocked(() => runAsync(sys('diskAdd', [path, readOnly], 'open', path)),
			Boolean(options.waitForLock), options.signal);
		const disk = new Disk(added.id, added.name, path, readOnly, st.size);
		this.#disks.add(disk);
		return disk;
	}

	/** Detaches a disk that has nothing mounted (else EBUSY). */
	async removeDisk(disk: Disk): Promise<void> {
		this.#check('removeDisk');
		if (!this.#disks.has(disk))
			throw invalidType('disk', 'a Disk of this kernel', disk);
		if ([...this.#mounts].some((m) => m.disk === disk))
			throw errnoError(-16, 'close', disk.path);
		await runAsync(sys('diskRemove', [disk.id], 'close', disk.path));
		this.#disks.delete(disk);
	}

	/**
	 * Mounts a disk, or one of its partitions.  The filesystem type is
	 * recognised unless given (ENODEV when none is); a partition that does
	 * not exist fails with ENOENT, one already mounted with EBUSY.
	 */
	async mount(disk: Disk, options: MountOptions = {}): Promise<Mount> {
		this.#check('mount');
		if (!this.#disks.has(disk))
			throw invalidType('disk', 'a Disk of this kernel', disk);
		const partition = checkInt(options.partition ?? 0, 'partition', 0, 255);
		const readOnly = options.readOnly ?? disk.readOnly;
		const flags = checkInt(options.flags ?? 0, 'flags', 0, 0xffffffff) |
			(readOnly ? MountFlags.RDONLY : 0);
		const fsType = options.fsType ?? null;
		if (fsType !== null && typeof fsType !== 'string')
			throw invalidType('fsType', 'of type string', fsType);
		const data = options.options ?? null;
		if (data !== null && typeof data !== 'string')
			throw invalidType('options', 'of type string', data);
		if ([...this.#mounts].some((m) => m.disk === disk && m.partition === partition))
			throw errnoError(-16, 'mount', disk.path);
		const info = await runAsync(sys('mount', [disk.id, partition, fsType, flags, data],
			'mount', disk.path));
		const mount = new Mount(info, disk, partition, readOnly, this);
		this.#mounts.add(mount);
		return mount;
	}

	/** @internal */
	unmounted(mount: Mount): void {
		this.#mounts.delete(mount);
	}

	/**
	 * Ends the calls in flight, unmounts every mount (writing everything
	 * out), then halts the kernel.  A call in flight either finishes or
	 * rejects with EINTR, as a killed process's system calls end: one
	 * waiting in the kernel (a FIFO's read or open) or working through a
	 * long write, read or directory listing is stopped, one yet to reach
	 * the kernel is refused (a single read or write that had moved some
	 * bytes resolves with those).  Every call made from the start of the
	 * halt on fails with ERR_LKL_HALTED.  If the process is about to exit
	 * with the kernel still running, this happens on its own.
	 */
	halt(): Promise<void> {
		return this.#halting ??= this.#halt();
	}

	async #halt(): Promise<void> {
		this.#state = 'halting';
		process.off('beforeExit', this.#onBeforeExit);
		const reason = (syscall: string): Error => haltedError(syscall);
		closeEveryGate(reason);
		try {
			// The calls in flight end first, on the kernel's side: the
			// halt closes every descriptor and unmounts every mount itself.
			await runAsync(sys('halt', [], 'halt'));
		} finally {
			this.#state = 'halted';
			this.#disks.clear();
			// Each mount and open file waits for its calls in flight to
			// come back and forgets its descriptor; their own close and
			// unmount calls now fail, harmlessly (the kernel did both).
			await Promise.allSettled([...this.#mounts].map((m) => m.shutdown(reason)));
		}
	}
}
