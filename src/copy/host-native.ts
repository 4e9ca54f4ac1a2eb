/**
 * The addon's calls on the host's own filesystem (native/addon/host.cc):
 * what node:fs lacks for lossless copies.
 */
import { native } from '../lkl/native.js';

export interface HostNative {
	hostListxattr(path: Buffer, follow: boolean): Promise<Buffer>;
	hostGetxattr(path: Buffer, name: string, follow: boolean): Promise<Buffer>;
	hostSetxattr(path: Buffer, name: string, value: Buffer, flags: number, follow: boolean): Promise<void>;
	hostUtimens(path: Buffer, aSec: number, aNsec: number, mSec: number, mNsec: number, follow: boolean): Promise<void>;
	hostMknod(path: Buffer, mode: number, major: number, minor: number): Promise<void>;
}

export const host = native as unknown as HostNative;
