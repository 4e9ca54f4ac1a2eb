// Public library entry point of lkl: the kernel, its disks and mounts, and
// node:fs-shaped file access inside them.
export { Kernel, type BootOptions, type MountOptions } from './lkl/kernel.js';
export { Disk, type AddDiskOptions } from './lkl/disk.js';
export { lockHolder, type LockHolder } from './lkl/image-locks.js';
export {
	Mount, type PathLike, type ReaddirOptions, type ReadFileOptions, type WriteFileOptions,
	type MkdirOptions, type EncodingOptions, type StatFsOptions, type RmOptions,
} from './lkl/mount.js';
export {
	FileHandle, type ReadResult, type WriteResult, type ReadOptions, type Position, type FileData,
	type HandleReadFileOptions, type HandleWriteFileOptions,
} from './lkl/file-handle.js';
export { Stats, BigIntStats, StatsBase, type StatOptions } from './lkl/stats.js';
export { StatFs } from './lkl/statfs.js';
export { Dirent } from './lkl/dirent.js';
export {
	ReadStream, WriteStream, DEFAULT_HIGH_WATER_MARK, type ReadStreamOptions, type WriteStreamOptions,
	type HandleReadStreamOptions, type HandleWriteStreamOptions,
} from './lkl/streams.js';
export { MountFlags, XattrFlags } from './lkl/constants.js';
export { COPYFILE_EXCL, COPYFILE_FICLONE, COPYFILE_FICLONE_FORCE } from './lkl/file-ops.js';
export type { OpenFlags } from './lkl/flags.js';
export type { TimeLike } from './lkl/times.js';
export type { DeviceNumber } from './lkl/devices.js';
export type { Encoding } from './lkl/validate.js';
export type { ErrnoError, LklError, LklErrorCode } from './lkl/errors.js';
