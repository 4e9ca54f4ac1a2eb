// A mounted filesystem, with methods named and shaped like node:fs/promises
// (and a few …Sync ones for short scripts).  Every path is inside the
// mount: "/" and "" name its root, and neither "..", absolute paths nor
// absolute symlinks lead out of it.
import type { Disk } from './disk.js';
import { Dirent } from './dirent.js';
import { lklError } from './errors.js';
import { copyFile, readToEnd, withFile, writeAll } from './file-ops.js';
import {
	FileHandle, checkData, dataChunks, isAsyncData, kShut, type FileData, type HandleOwner,
} from './file-handle.js';
import { parseFlags, type OpenFlags } from './flags.js';
import { Gate, type ClosedReason } from './gate.js';
import { accessOp, chmodOp, chownOp, statOp, statfsOp, trimOp, utimesOp } from './meta-ops.js';
import type { NativeMount, NativePath } from './native.js';
import { lendAccess } from './mount-access.js';
import { joinBytes } from './paths.js';
import type { StatFs } from './statfs.js';
import type { BigIntStats, StatOptions, Stats } from './stats.js';
import { runAsync, runSync, sys, type MountOp, type Steps } from './steps.js';
import { ReadStream, WriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
import type { TimeLike } from './times.js';
import { mkdirRecursive, rm, walk, type RmOptions, type WalkEntry } from './tree-ops.js';
import { parseDevice, type DeviceNumber } from './devices.js';
import { getxattrOp, listxattrOp, removexattrOp, setxattrOp } from './xattr-ops.js';
import {
	checkEncoding, checkInt, checkMode, checkOffset, decode, mountPath, nativePath,
	optionsObject, type Encoding, type PathLike,
} from './validate.js';

export type { PathLike } from './validate.js';
export type { RmOptions } from './tree-ops.js';

/** Options of readdir. */
export interface ReaddirOptions {
	/** How names are given: a text encoding (default 'utf8') or 'buffer'. */
	encoding?: Encoding | null;
	/** Dirent objects instead of names. */
	withFileTypes?: boolean;
	/** Walk subdirectories too; names become paths relative to `path`. */
	recursive?: boolean;
}

/** Options of readFile. */
export interface ReadFileOptions {
	/** Decode as this; default: return a Buffer. */
	encoding?: BufferEncoding | null;
	/** How to open the file (default 'r'). */
	flag?: OpenFlags | number;
}

/** Options of writeFile and appendFile. */
export interface WriteFileOptions {
	/** How strings are encoded (default 'utf8'). */
	encoding?: BufferEncoding | null;
	/** Mode of a file that gets created (default 0o666, less the umask 022). */
	mode?: number | string;
	/** How to open the file (default 'w' for writeFile, 'a' for appendFile). */
	flag?: OpenFlags | number;
}

/** Options of mkdir. */
export interface MkdirOptions {
	/** Make missing parents too, and do not fail if it exists. */
	recursive?: boolean;
	/** Mode of new directories (default 0o777, less the umask 022). */
	mode?: number | string;
}

/** Options of readlink and realpath. */
export interface EncodingOptions {
	/** A text encoding (default 'utf8') or 'buffer'. */
	encoding?: Encoding | null;
}

/** Options of statfs. */
export interface StatFsOptions {
	/** BigInt counts instead of numbers. */
	bigint?: boolean;
}

/** Text for a readdir/readlink result unless 'buffer' is asked for. */
type Named<O> = O extends { encoding: 'buffer' } | 'buffer' ? Buffer : string;

/** What a Mount reports back to the kernel that made it. */
export interface MountOwner {
	/** The mount is gone: forget it. */
	unmounted(mount: Mount): void;
}

function unmountedReason(where: string): ClosedReason {
	return (syscall) => lklError('ERR_LKL_UNMOUNTED',
		`${syscall}: the filesystem mounted at ${where} was unmounted`);
}

/** A mounted filesystem; made by Kernel.mount. */
export class Mount implements HandleOwner {
	readonly #info: NativeMount;
	readonly #disk: Disk;
	readonly #partition: number;
	readonly #readOnly: boolean;
	readonly #owner: MountOwner;
	readonly #gate = new Gate();
	readonly #handles = new Set<FileHandle>();
	#unmounting: Promise<void> | undefined;

	/** @internal Made by Kernel.mount. */
	constructor(info: NativeMount, disk: Disk, partition: number, readOnly: boolean, owner: MountOwner) {
		this.#info = info;
		this.#disk = disk;
		this.#partition = partition;
		this.#readOnly = readOnly;
		this.#owner = owner;
		lendAccess(this, { rootFd: info.rootFd, gate: this.#gate });
	}

	/** Where the kernel mounted it, e.g. "/mnt/vda" (paths here are relative to it). */
	get path(): string {
		return this.#info.path;
	}

	/** The filesystem, e.g. "ext4", "btrfs", "xfs", "vfat". */
	get fsType(): string {
		return this.#info.fsType;
	}

	/** The disk it is on. */
	get disk(): Disk {
		return this.#disk;
	}

	/** The partition number, or 0 for the whole disk. */
	get partition(): number {
		return this.#partition;
	}

	/** Whether it was mounted read-only. */
	get readOnly(): boolean {
		return this.#readOnly;
	}

	/** False once unmount() (or Kernel.halt()) has begun. */
	get mounted(): boolean {
		return !this.#gate.closed;
	}

	/** @internal */
	release(handle: FileHandle): void {
		this.#handles.delete(handle);
	}

	#path(path: unknown, syscall: string, name = 'path'): NativePath {
		return mountPath(path, syscall, name);
	}

	#async<T>(syscall: string, steps: (root: number) => Steps<T>): Promise<T> {
		return this.#gate.run(syscall, () => runAsync(steps(this.#info.rootFd)));
	}

	#sync<T>(syscall: string, steps: (root: number) => Steps<T>): T {
		this.#gate.check(syscall);
		return runSync(steps(this.#info.rootFd));
	}

	#run<T>(op: MountOp<T>): Promise<T> {
		return this.#async(op.syscall, op.steps);
	}

	#runSync<T>(op: MountOp<T>): T {
		return this.#sync(op.syscall, op.steps);
	}

	// readdir ------------------------------------------------------------

	#readdirSteps(path: PathLike, options: ReaddirOptions | Encoding | null | undefined):
		(root: number) => Steps<(string | Buffer | Dirent<string | Buffer>)[]> {
		const opts = optionsObject<ReaddirOptions>(options);
		const encoding = checkEncoding(opts.encoding, 'utf8');
		const p = this.#path(path, 'scandir');
		const shown = typeof p === 'string' ? p : p.toString();
		const withTypes = Boolean(opts.withFileTypes);
		return function* (root) {
			const entries = yield* walk(root, p, Boolean(opts.recursive));
			return entries.map((e: WalkEntry) => {
				if (!withTypes)
					return decode(e.relative, encoding);
				const parent = e.parent.length ? joinBytes(Buffer.from(shown), e.parent).toString() : shown;
				return new Dirent(decode(e.name, encoding), parent, e.type);
			});
		};
	}

	/** Names in a directory ("." and ".." left out), as node:fs's readdir. */
	readdir<O extends ReaddirOptions & { withFileTypes?: false } | Encoding = { withFileTypes?: false }>(path: PathLike,
		options?: O | null): Promise<Named<O>[]>;
	/** Entries with their types, as node:fs's readdir({ withFileTypes: true }). */
	readdir<O extends ReaddirOptions & { withFileTypes: true }>(path: PathLike,
		options: O): Promise<Dirent<Named<O>>[]>;
	readdir(path: PathLike, options?: ReaddirOptions | Encoding | null):
		Promise<(string | Buffer | Dirent<string | Buffer>)[]>;
	async readdir(path: PathLike, options?: ReaddirOptions | Encoding | null):
		Promise<(string | Buffer | Dirent<string | Buffer>)[]> {
		return this.#async('scandir', this.#readdirSteps(path, options));
	}

	/** readdir, synchronously. */
	readdirSync<O extends ReaddirOptions & { withFileTypes?: false } | Encoding = { withFileTypes?: false }>(path: PathLike,
		options?: O | null): Named<O>[];
	/** readdir({ withFileTypes: true }), synchronously. */
	readdirSync<O extends ReaddirOptions & { withFileTypes: true }>(path: PathLike,
		options: O): Dirent<Named<O>>[];
	readdirSync(path: PathLike, options?: ReaddirOptions | Encoding | null):
		(string | Buffer | Dirent<string | Buffer>)[];
	readdirSync(path: PathLike, options?: ReaddirOptions | Encoding | null):
		(string | Buffer | Dirent<string | Buffer>)[] {
		return this.#sync('scandir', this.#readdirSteps(path, options));
	}

	// stat ------------------------------------------------------------------

	/** Metadata, following a final symlink. */
	stat(path: PathLike, options?: StatOptions & { bigint?: false }): Promise<Stats>;
	/** Metadata with BigInts and exact nanosecond times. */
	stat(path: PathLike, options: StatOptions & { bigint: true }): Promise<BigIntStats>;
	/** Stats or BigIntStats as `options.bigint` says. */
	stat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats>;
	async stat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats> {
		return this.#run(statOp(path, true, options));
	}

	/** Metadata of the path itself, even if it is a symlink. */
	lstat(path: PathLike, options?: StatOptions & { bigint?: false }): Promise<Stats>;
	/** lstat with BigInts and exact nanosecond times. */
	lstat(path: PathLike, options: StatOptions & { bigint: true }): Promise<BigIntStats>;
	/** Stats or BigIntStats as `options.bigint` says. */
	lstat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats>;
	async lstat(path: PathLike, options?: StatOptions): Promise<Stats | BigIntStats> {
		return this.#run(statOp(path, false, options));
	}

	/** stat, synchronously. */
	statSync(path: PathLike, options?: StatOptions & { bigint?: false }): Stats;
	/** stat({ bigint: true }), synchronously. */
	statSync(path: PathLike, options: StatOptions & { bigint: true }): BigIntStats;
	/** Stats or BigIntStats as `options.bigint` says. */
	statSync(path: PathLike, options?: StatOptions): Stats | BigIntStats;
	statSync(path: PathLike, options?: StatOptions): Stats | BigIntStats {
		return this.#runSync(statOp(path, true, options));
	}

	/** lstat, synchronously. */
	lstatSync(path: PathLike, options?: StatOptions & { bigint?: false }): Stats;
	/** lstat({ bigint: true }), synchronously. */
	lstatSync(path: PathLike, options: StatOptions & { bigint: true }): BigIntStats;
	/** Stats or BigIntStats as `options.bigint` says. */
	lstatSync(path: PathLike, options?: StatOptions): Stats | BigIntStats;
	lstatSync(path: PathLike, options?: StatOptions): Stats | BigIntStats {
		return this.#runSync(statOp(path, false, options));
	}

	/** Whether `path` exists (following symlinks), as node:fs's existsSync. */
	existsSync(path: PathLike): boolean {
		try {
			this.statSync(path);
			return true;
		} catch (e) {
			if ((e as { code?: unknown }).code === 'ERR_LKL_UNMOUNTED' ||
				(e as { code?: unknown }).code === 'ERR_LKL_HALTED')
				throw e;
			return false;
		}
	}

	// links and names ---------------------------------------------------------

	#bufferSteps(op: 'readlink' | 'realpath', path: PathLike,
		options: EncodingOptions | Encoding | null | undefined): (root: number) => Steps<string | Buffer> {
		const encoding = checkEncoding(optionsObject<EncodingOptions>(options).encoding, 'utf8');
		const p = this.#path(path, op);
		return function* (root) {
			return decode(yield* sys(op, [root, p], op, p), encoding);
		};
	}

	/** A symlink's target, as stored. */
	readlink<O extends EncodingOptions | Encoding = EncodingOptions>(path: PathLike, options?: O | null): Promise<Named<O>>;
	async readlink(path: PathLike, options?: EncodingOptions | Encoding | null): Promise<string | Buffer> {
		return this.#async('readlink', this.#bufferSteps('readlink', path, options));
	}

	/** readlink, synchronously. */
	readlinkSync<O extends EncodingOptions | Encoding = EncodingOptions>(path: PathLike, options?: O | null): Named<O>;
	readlinkSync(path: PathLike, options?: EncodingOptions | Encoding | null): string | Buffer {
		return this.#sync('readlink', this.#bufferSteps('readlink', path, options));
	}

	/** The canonical path ("/"-rooted, within the mount), all symlinks resolved. */
	realpath<O extends EncodingOptions | Encoding = EncodingOptions>(path: PathLike, options?: O | null): Promise<Named<O>>;
	async realpath(path: PathLike, options?: EncodingOptions | Encoding | null): Promise<string | Buffer> {
		return this.#async('realpath', this.#bufferSteps('realpath', path, options));
	}

	/** Makes `path` a symlink to `target` (stored as given; `type` is ignored, as on Linux). */
	async symlink(target: PathLike, path: PathLike, type?: string | null): Promise<void> {
		void type;
		const t = nativePath(target, 'target');
		const p = this.#path(path, 'symlink');
		await this.#async('symlink', (root) => sys('symlink', [root, t, p], 'symlink', t, p));
	}

	/** symlink, synchronously. */
	symlinkSync(target: PathLike, path: PathLike, type?: string | null): void {
		void type;
		const t = nativePath(target, 'target');
		const p = this.#path(path, 'symlink');
		this.#sync('symlink', (root) => sys('symlink', [root, t, p], 'symlink', t, p));
	}

	/** Gives the file at `existingPath` another name (a symlink is linked itself). */
	async link(existingPath: PathLike, newPath: PathLike): Promise<void> {
		const from = this.#path(existingPath, 'link', 'existingPath');
		const to = this.#path(newPath, 'link', 'newPath');
		await this.#async('link', (root) => sys('link', [root, from, to], 'link', from, to));
	}

	#renameSteps(oldPath: PathLike, newPath: PathLike): (root: number) => Steps<void> {
		const from = this.#path(oldPath, 'rename', 'oldPath');
		const to = this.#path(newPath, 'rename', 'newPath');
		return (root) => sys('rename', [root, from, to, 0], 'rename', from, to);
	}

	/** Renames (and moves) within the mount, replacing what `newPath` named. */
	async rename(oldPath: PathLike, newPath: PathLike): Promise<void> {
		await this.#async('rename', this.#renameSteps(oldPath, newPath));
	}

	/** rename, synchronously. */
	renameSync(oldPath: PathLike, newPath: PathLike): void {
		this.#sync('rename', this.#renameSteps(oldPath, newPath));
	}

	#unlinkSteps(path: PathLike): (root: number) => Steps<void> {
		const p = this.#path(path, 'unlink');
		return (root) => sys('unlink', [root, p], 'unlink', p);
	}

	/** Removes a name (not a directory). */
	async unlink(path: PathLike): Promise<void> {
		await this.#async('unlink', this.#unlinkSteps(path));
	}

	/** unlink, synchronously. */
	unlinkSync(path: PathLike): void {
		this.#sync('unlink', this.#unlinkSteps(path));
	}

	// directories ---------------------------------------------------------------

	#mkdirSteps(path: PathLike, options: MkdirOptions | number | string | null | undefined):
		(root: number) => Steps<string | undefined> {
		const opts: MkdirOptions = typeof options === 'object' && options !== null ? options :
			{ mode: options ?? undefined };
		const mode = checkMode(opts.mode, 'mode', 0o777);
		const p = this.#path(path, 'mkdir');
		if (opts.recursive)
			return (root) => mkdirRecursive(root, p, mode);
		return function* (root) {
			yield* sys('mkdir', [root, p, mode], 'mkdir', p);
			return undefined;
		};
	}

	/** Makes a directory; with recursive, its missing parents too, returning the first one made. */
	mkdir(path: PathLike, options: MkdirOptions & { recursive: true }): Promise<string | undefined>;
	/** Makes a directory. */
	mkdir(path: PathLike, options?: MkdirOptions & { recursive?: false } | number | string | null):
		Promise<undefined>;
	/** Makes a directory (recursive or not). */
	mkdir(path: PathLike, options?: MkdirOptions | number | string | null): Promise<string | undefined>;
	async mkdir(path: PathLike, options?: MkdirOptions | number | string | null): Promise<string | undefined> {
		return this.#async('mkdir', this.#mkdirSteps(path, options));
	}

	/** mkdir, synchronously. */
	mkdirSync(path: PathLike, options: MkdirOptions & { recursive: true }): string | undefined;
	/** mkdir, synchronously. */
	mkdirSync(path: PathLike, options?: MkdirOptions & { recursive?: false } | number | string | null):
		undefined;
	/** mkdir, synchronously. */
	mkdirSync(path: PathLike, options?: MkdirOptions | number | string | null): string | undefined;
	mkdirSync(path: PathLike, options?: MkdirOptions | number | string | null): string | undefined {
		return this.#sync('mkdir', this.#mkdirSteps(path, options));
	}

	/** Removes an empty directory. */
	async rmdir(path: PathLike): Promise<void> {
		const p = this.#path(path, 'rmdir');
		await this.#async('rmdir', (root) => sys('rmdir', [root, p], 'rmdir', p));
	}

	#rmSteps(path: PathLike, options: RmOptions | undefined): (root: number) => Steps<void> {
		const p = this.#path(path, 'rm');
		const opts = { recursive: Boolean(options?.recursive), force: Boolean(options?.force) };
		return (root) => rm(root, p, opts);
	}

	/** Removes a file, or with recursive a directory and all in it; force ignores a missing path. */
	async rm(path: PathLike, options?: RmOptions): Promise<void> {
		await this.#async('rm', this.#rmSteps(path, options));
	}

	/** rm, synchronously. */
	rmSync(path: PathLike, options?: RmOptions): void {
		this.#sync('rm', this.#rmSteps(path, options));
	}

	// files ---------------------------------------------------------------------

	/** Opens a file: flags as node:fs ('r', 'w+', 'ax'… or numbers), mode for a created file. */
	async open(path: PathLike, flags?: OpenFlags | number, mode?: number | string): Promise<FileHandle> {
		const p = this.#path(path, 'open');
		const f = parseFlags(flags, 'r');
		const m = checkMode(mode, 'mode', 0o666);
		return this.#gate.run('open', async () => {
			const fd = await runAsync(sys('open', [this.#info.rootFd, p, f, m], 'open', p));
			const handle = new FileHandle(fd, p, this);
			this.#handles.add(handle);
			return handle;
		});
	}

	#readFileSteps(path: PathLike, options: ReadFileOptions | BufferEncoding | null | undefined):
		[(root: number) => Steps<Buffer>, Encoding] {
		const opts = optionsObject<ReadFileOptions>(options);
		const encoding = checkEncoding(opts.encoding, 'buffer');
		const flags = parseFlags(opts.flag, 'r');
		const p = this.#path(path, 'open');
		return [(root) => withFile(root, p, flags, 0, (fd) => readToEnd(fd)), encoding];
	}

	/** The whole file: a Buffer, or a string with an encoding. */
	readFile(path: PathLike | FileHandle, options?: { encoding?: null; flag?: OpenFlags | number } | null):
		Promise<Buffer>;
	/** The whole file, decoded. */
	readFile(path: PathLike | FileHandle, options: { encoding: BufferEncoding; flag?: OpenFlags | number } |
		BufferEncoding): Promise<string>;
	/** The whole file, decoded if an encoding is given. */
	readFile(path: PathLike | FileHandle, options?: ReadFileOptions | BufferEncoding | null):
		Promise<string | Buffer>;
	async readFile(path: PathLike | FileHandle, options?: ReadFileOptions | BufferEncoding | null):
		Promise<string | Buffer> {
		if (path instanceof FileHandle)
			return path.readFile(optionsObject<ReadFileOptions>(options).encoding ?? null);
		const [steps, encoding] = this.#readFileSteps(path, options);
		return decode(await this.#async('read', steps), encoding);
	}

	/** readFile, synchronously. */
	readFileSync(path: PathLike, options?: { encoding?: null; flag?: OpenFlags | number } | null): Buffer;
	/** readFile, synchronously, decoded. */
	readFileSync(path: PathLike, options: { encoding: BufferEncoding; flag?: OpenFlags | number } |
		BufferEncoding): string;
	/** readFile, synchronously. */
	readFileSync(path: PathLike, options?: ReadFileOptions | BufferEncoding | null): string | Buffer;
	readFileSync(path: PathLike, options?: ReadFileOptions | BufferEncoding | null): string | Buffer {
		const [steps, encoding] = this.#readFileSteps(path, options);
		return decode(this.#sync('read', steps), encoding);
	}

	#writeOptions(options: WriteFileOptions | BufferEncoding | null | undefined, flag: OpenFlags):
		{ encoding: BufferEncoding; flags: number; mode: number } {
		const opts = optionsObject<WriteFileOptions>(options);
		const encoding = checkEncoding(opts.encoding, 'utf8');
		return {
			encoding: encoding === 'buffer' ? 'utf8' : encoding,
			flags: parseFlags(opts.flag, flag),
			mode: checkMode(opts.mode, 'mode', 0o666),
		};
	}

	#writeFileSteps(path: PathLike, data: Exclude<FileData, AsyncIterable<unknown>>,
		options: WriteFileOptions | BufferEncoding | null | undefined, flag: OpenFlags):
		(root: number) => Steps<void> {
		const { encoding, flags, mode } = this.#writeOptions(options, flag);
		const p = this.#path(path, 'open');
		// Checked now: a bad argument must not truncate the file first.
		const chunks = dataChunks(checkData(data), encoding);
		return (root) => withFile(root, p, flags, mode, function* (fd) {
			for (const bytes of chunks)
				yield* writeAll(fd, bytes);
		});
	}

	async #writeFile(path: PathLike | FileHandle, data: FileData,
		options: WriteFileOptions | BufferEncoding | null | undefined, flag: OpenFlags): Promise<void> {
		if (path instanceof FileHandle)
			return path.writeFile(data, optionsObject<WriteFileOptions>(options).encoding ?? null);
		if (!isAsyncData(data))
			return this.#async('write', this.#writeFileSteps(path, data, options, flag));
		const { flags, mode } = this.#writeOptions(options, flag);
		const handle = await this.open(path, flags, mode);
		try {
			await handle.writeFile(data, optionsObject<WriteFileOptions>(options).encoding ?? null);
		} finally {
			await handle.close();
		}
	}

	/** Replaces the file's contents (creating it) with `data`. */
	writeFile(path: PathLike | FileHandle, data: FileData,
		options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
		return this.#writeFile(path, data, options, 'w');
	}

	/** Adds `data` at the end of the file (creating it). */
	appendFile(path: PathLike | FileHandle, data: FileData,
		options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
		return this.#writeFile(path, data, options, 'a');
	}

	/** writeFile, synchronously (no async iterables). */
	writeFileSync(path: PathLike, data: Exclude<FileData, AsyncIterable<unknown>>,
		options?: WriteFileOptions | BufferEncoding | null): void {
		this.#sync('write', this.#writeFileSteps(path, data, options, 'w'));
	}

	/** appendFile, synchronously (no async iterables). */
	appendFileSync(path: PathLike, data: Exclude<FileData, AsyncIterable<unknown>>,
		options?: WriteFileOptions | BufferEncoding | null): void {
		this.#sync('write', this.#writeFileSteps(path, data, options, 'a'));
	}

	/** Copies contents and permission bits; mode as node:fs's COPYFILE_* (EXCL honoured). */
	async copyFile(src: PathLike, dest: PathLike, mode = 0): Promise<void> {
		const from = this.#path(src, 'copyfile', 'src');
		const to = this.#path(dest, 'copyfile', 'dest');
		const m = checkInt(mode, 'mode', 0, 7);
		await this.#async('copyfile', (root) => copyFile(root, from, to, m));
	}

	/** Cuts or extends a file to `length` bytes (default 0). */
	async truncate(path: PathLike, length: number | bigint = 0): Promise<void> {
		const p = this.#path(path, 'open');
		const len = checkOffset(length, 'len');
		await this.#async('truncate', (root) => sys('truncate', [root, p, len], 'open', p));
	}

	/**
	 * Makes a device file, FIFO or socket: `mode` includes the S_IF* type
	 * (a bare permission mode makes a regular file); `dev` as { major, minor }
	 * or a dev_t like Stats.rdev.
	 */
	async mknod(path: PathLike, mode: number, dev?: DeviceNumber | number | bigint): Promise<void> {
		const p = this.#path(path, 'mknod');
		const m = checkInt(mode, 'mode', 0, 0xffffffff);
		const { major, minor } = parseDevice(dev);
		await this.#async('mknod', (root) => sys('mknod', [root, p, m, major, minor], 'mknod', p));
	}

	// metadata --------------------------------------------------------------------

	/** Sets permission bits (and setuid/setgid/sticky), following a final symlink. */
	async chmod(path: PathLike, mode: number | string): Promise<void> {
		return this.#run(chmodOp(path, mode));
	}

	/** Sets owner and group (-1 keeps one), following a final symlink. */
	async chown(path: PathLike, uid: number, gid: number): Promise<void> {
		return this.#run(chownOp(path, uid, gid, true));
	}

	/** Sets owner and group of a symlink itself. */
	async lchown(path: PathLike, uid: number, gid: number): Promise<void> {
		return this.#run(chownOp(path, uid, gid, false));
	}

	/**
	 * Sets access and modification times (Date, seconds, or BigInt
	 * nanoseconds for exact times), following a final symlink.
	 */
	async utimes(path: PathLike, atime: TimeLike, mtime: TimeLike): Promise<void> {
		return this.#run(utimesOp(path, atime, mtime, true));
	}

	/** Sets the times of a symlink itself. */
	async lutimes(path: PathLike, atime: TimeLike, mtime: TimeLike): Promise<void> {
		return this.#run(utimesOp(path, atime, mtime, false));
	}

	/** Checks that `path` exists and allows `mode` (F_OK, R_OK, W_OK, X_OK of node:fs constants). */
	async access(path: PathLike, mode = 0): Promise<void> {
		return this.#run(accessOp(path, mode));
	}

	/** access, synchronously. */
	accessSync(path: PathLike, mode = 0): void {
		this.#runSync(accessOp(path, mode));
	}

	/** Usage of the filesystem (any path inside it will do; default its root). */
	statfs(path?: PathLike, options?: StatFsOptions & { bigint?: false }): Promise<StatFs<number>>;
	/** statfs with BigInt counts. */
	statfs(path: PathLike, options: StatFsOptions & { bigint: true }): Promise<StatFs<bigint>>;
	async statfs(path: PathLike = '/', options?: StatFsOptions): Promise<StatFs<number> | StatFs<bigint>> {
		return this.#run(statfsOp(path, Boolean(options?.bigint)));
	}

	/**
	 * Writes the filesystem back (syncfs), then discards its free blocks
	 * (FITRIM, as fstrim does): the
	 * disk punches them out of the image file, which shrinks to what the
	 * filesystem holds (on a file system that has holes; a block device
	 * gets BLKDISCARD-like zeroing).  Free runs shorter than `minLength`
	 * bytes are kept.  Resolves to the bytes discarded, as the filesystem
	 * counts them (ext4 counts only what it had not discarded before since
	 * it was mounted).  ENOTTY on a filesystem without FITRIM.  xfs
	 * frees a file deleted moments before in the background, so a trim at
	 * once after the rm may find its blocks still in use.
	 */
	async trim(options?: { minLength?: number }): Promise<number> {
		return this.#run(trimOp(options?.minLength ?? 0));
	}

	// extended attributes -------------------------------------------------------------

	/** An extended attribute's value (ENODATA if it has none by that name). */
	async getxattr(path: PathLike, name: string): Promise<Buffer> {
		return this.#run(getxattrOp(path, name, true));
	}

	/** getxattr on a symlink itself. */
	async lgetxattr(path: PathLike, name: string): Promise<Buffer> {
		return this.#run(getxattrOp(path, name, false));
	}

	/** Sets an extended attribute; flags: XattrFlags.CREATE or REPLACE, or 0. */
	async setxattr(path: PathLike, name: string, value: Uint8Array | string, flags = 0): Promise<void> {
		return this.#run(setxattrOp(path, name, value, flags, true));
	}

	/** setxattr on a symlink itself. */
	async lsetxattr(path: PathLike, name: string, value: Uint8Array | string, flags = 0): Promise<void> {
		return this.#run(setxattrOp(path, name, value, flags, false));
	}

	/** Names of the extended attributes (e.g. "user.comment"). */
	async listxattr(path: PathLike): Promise<string[]> {
		return this.#run(listxattrOp(path, true));
	}

	/** listxattr on a symlink itself. */
	async llistxattr(path: PathLike): Promise<string[]> {
		return this.#run(listxattrOp(path, false));
	}

	/** Removes an extended attribute. */
	async removexattr(path: PathLike, name: string): Promise<void> {
		return this.#run(removexattrOp(path, name, true));
	}

	/** removexattr on a symlink itself. */
	async lremovexattr(path: PathLike, name: string): Promise<void> {
		return this.#run(removexattrOp(path, name, false));
	}

	// streams ---------------------------------------------------------------------------

	/** A readable stream of a file (1 MiB chunks by default; start/end inclusive). */
	createReadStream(path: PathLike, options?: ReadStreamOptions | BufferEncoding): ReadStream {
		const opts = optionsObject<ReadStreamOptions>(options);
		const p = this.#path(path, 'open');
		const flags = opts.flags ?? 'r';
		return new ReadStream(() => this.open(p, flags, opts.mode), p.toString(), opts);
	}

	/** A writable stream into a file (created or truncated unless flags say otherwise). */
	createWriteStream(path: PathLike, options?: WriteStreamOptions | BufferEncoding): WriteStream {
		const opts = optionsObject<WriteStreamOptions>(options);
		const p = this.#path(path, 'open');
		const flags = opts.flags ?? 'w';
		return new WriteStream(() => this.open(p, flags, opts.mode), p.toString(), opts);
	}

	// unmounting ---------------------------------------------------------------------------

	/**
	 * Waits for calls in flight, closes files still open, writes everything
	 * out and unmounts.  Later calls fail with ERR_LKL_UNMOUNTED.
	 */
	unmount(): Promise<void> {
		return this.#unmounting ??= this.#shutdown(unmountedReason(this.path));
	}

	/** @internal Unmounts on behalf of Kernel.halt, refusing later calls with `reason`. */
	shutdown(reason: ClosedReason): Promise<void> {
		return this.#unmounting ??= this.#shutdown(reason);
	}

	async #shutdown(reason: ClosedReason): Promise<void> {
		await this.#gate.close(reason);
		await Promise.allSettled([...this.#handles].map((h) => h[kShut](reason)));
		try {
			await runAsync(sys('umount', [this.path, this.#info.rootFd], 'umount', this.path));
		} finally {
			this.#owner.unmounted(this);
		}
	}
}
