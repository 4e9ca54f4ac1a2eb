/**
 * The addon's calls on the host's own filesystem (native/addon/hostfs.cc):
 * what node:fs lacks for lossless copies.
 */
import { native, type NativePutMeta, type NativeScanEntry } from '../lkl/native.js';

export interface HostNative {
	hostListxattr(path: Buffer, follow: boolean): Promise<Buffer>;
	hostGetxattr(path: Buffer, name: string, follow: boolean): Promise<Buffer>;
	hostSetxattr(path: Buffer, name: string, value: Buffer, flags: number, follow: boolean): Promise<void>;
	hostUtimens(path: Buffer, aSec: number, aNsec: number, mSec: number, mNsec: number, follow: boolean): Promise<void>;
	hostMknod(path: Buffer, mode: number, major: number, minor: number): Promise<void>;
	/** A regular file's data regions, [offset, length] (SEEK_DATA/SEEK_HOLE). */
	hostDataMap(path: Buffer, size: bigint): Promise<[bigint, bigint][]>;
	/** A directory's entries with their details (native/addon/scan.cc). */
	hostScan(path: Buffer, inlineMax: number, budget: number): Promise<NativeScanEntry[]>;
	/**
	 * A small file made whole under @base, never through a symlink
	 * (native/hostfs/put.c); refused xattrs are counted, and so are
	 * refused chowns if lenient.
	 */
	hostPutFile(base: Buffer, rel: Buffer, contents: Buffer, meta: NativePutMeta, lenient: boolean): Promise<{ chown: number; xattrs: number }>;
}

export const host = native as unknown as HostNative;
