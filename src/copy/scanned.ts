/**
 * The addon's status and scan results (native/copy/scan.c) as the copy
 * engine's types: the same for an image and for the host.
 */
import type { ScanEntry, ScanStatx } from '../lkl/copy-calls.js';
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

export function metaFromStatx(st: ScanStatx, device: string): NodeMeta {
	return {
		kind: kindOfMode(st.mode),
		mode: st.mode & 0o7777,
		uid: st.uid,
		gid: st.gid,
		size: st.size,
		atime: { sec: BigInt(st.atime[0]), nsec: st.atime[1] },
		mtime: { sec: BigInt(st.mtime[0]), nsec: st.mtime[1] },
		ctime: { sec: BigInt(st.ctime[0]), nsec: st.ctime[1] },
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
			node.contents = data;
		return node;
	});
}
