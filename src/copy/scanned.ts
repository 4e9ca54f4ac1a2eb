/**
 * The addon's status and scan results (native/copy/scan.c) as the copy
 * engine's types: the same for an image and for the host.
 */
import type { ScanEntry, ScanStatx } from '../lkl/copy-calls.js';
import { scannedContents } from '../lkl/scan-contents.js';
import { kindOfMode, withoutAclAliases, type NodeMeta, type ScannedNode } from './tree.js';

// A scan reads files this small along with their metadata, up to BUDGET
// bytes per directory, so that a tree of small files costs one trip
// through the thread pool per directory rather than several per file.
const INLINE_MAX = 256 << 10;
const INLINE_BUDGET = 8 << 20;

/** The scan's inlineMax and budget arguments, with or without contents. */
export function scanLimits(contents: boolean): [inlineMax: number, budget: number] {
	return contents ? [INLINE_MAX, INLINE_BUDGET] : [0, 0];
}

/** Whether a file of @size is small enough for a sink to write in one call. */
export function isSmall(size: bigint): boolean {
	return size <= BigInt(INLINE_MAX);
}

/**
 * A time as sec and nsec, whole seconds in nsec carried into sec as the
 * kernel's set_normalized_timespec64() would: a damaged inode can hold
 * nanoseconds of a billion or more (ext4's field has 30 bits, btrfs's
 * and XFS's 32), which the kernel hands on unchecked, and which neither
 * utimensat() nor a pax time can take.
 */
function statxTime([sec, nsec]: readonly [number, number]): { sec: bigint; nsec: number } {
	if (nsec >= 0 && nsec < 1e9)
		return { sec: BigInt(sec), nsec };
	return { sec: BigInt(sec) + BigInt(Math.floor(nsec / 1e9)), nsec: ((nsec % 1e9) + 1e9) % 1e9 };
}

export function metaFromStatx(st: ScanStatx, device: string): NodeMeta {
	return {
		kind: kindOfMode(st.mode),
		mode: st.mode & 0o7777,
		uid: st.uid,
		gid: st.gid,
		size: st.size,
		atime: statxTime(st.atime),
		mtime: statxTime(st.mtime),
		ctime: statxTime(st.ctime),
		rdevMajor: st.rdevMajor,
		rdevMinor: st.rdevMinor,
		dev: device,
		ino: st.ino,
		nlink: st.nlink,
		blocks: st.blocks,
	};
}

/** @device names the filesystem of an entry, for hard-link keys. */
export function scannedNodes(entries: ScanEntry[], device: (st: ScanStatx) => string): ScannedNode[] {
	return entries.map(([name, st, xattrs, target, data]) => {
		const node: ScannedNode = { name };
		if (st)
			node.meta = metaFromStatx(st, device(st));
		if (xattrs) {
			const keep = new Set(withoutAclAliases(xattrs.map(([n]) => n)));
			node.xattrs = new Map(xattrs.filter(([n]) => keep.has(n)));
		}
		if (target)
			node.target = target;
		if (data)
			node.contents = scannedContents(data);
		return node;
	});
}
