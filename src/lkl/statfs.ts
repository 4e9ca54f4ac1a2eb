// Filesystem usage in node:fs's StatFs shape.
import type { NativeStatfs } from './native.js';

/** What statfs reports about a mounted filesystem, as node:fs's StatFs. */
export class StatFs<T extends number | bigint = number> {
	/** Filesystem magic number (e.g. 0xef53 for ext2/3/4). */
	readonly type: T;
	/** Block size for the counts below. */
	readonly bsize: T;
	/** Total data blocks. */
	readonly blocks: T;
	/** Free blocks. */
	readonly bfree: T;
	/** Free blocks an unprivileged user may use. */
	readonly bavail: T;
	/** Total inodes. */
	readonly files: T;
	/** Free inodes. */
	readonly ffree: T;

	/** @internal Built by Mount.statfs. */
	constructor(st: NativeStatfs, of: (n: number | bigint) => T) {
		this.type = of(st.type);
		this.bsize = of(st.bsize);
		this.blocks = of(st.blocks);
		this.bfree = of(st.bfree);
		this.bavail = of(st.bavail);
		this.files = of(st.files);
		this.ffree = of(st.ffree);
	}
}
