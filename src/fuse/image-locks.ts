// Whether anything still holds a lock on an image, from /proc/locks.
//
// lklfuse-server locks its image (an open file description lock) from
// before it mounts until its process ends, which is after its last write
// to the image.  The kernel drops the lock at that exit whatever becomes
// of the process afterwards: unlike a pid, it does not linger as a zombie
// where PID 1 does not reap (a container whose PID 1 is node), and it
// cannot be mistaken for a process that reused the number.
import { promises as fsp } from 'node:fs';

/** A file as /proc/locks names it: its device's major and minor, and inode. */
export interface FileId {
	major: number;
	minor: number;
	ino: bigint;
}

/** The FileId of a stat result (bigint: true), as /proc/locks shows it. */
export function fileId(st: { dev: bigint; ino: bigint }): FileId {
	// glibc's major() and minor() of a 64-bit dev_t.
	const dev = st.dev;
	const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
	const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
	return { major, minor, ino: st.ino };
}

/**
 * How many locks in `text` (the contents of /proc/locks) are on `file`.
 * A line: "1: OFDLCK ADVISORY  WRITE -1 fe:00:1762131 0 EOF", the device
 * in hex; a waiter's line has "->" before its type and is not counted.
 */
export function locksOn(text: string, file: FileId): number {
	let n = 0;
	for (const line of text.split('\n')) {
		const m = /^\d+:\s+(->\s+)?\S+\s+\S+\s+\S+\s+-?\d+\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
		if (m && !m[1] && parseInt(m[2]!, 16) === file.major && parseInt(m[3]!, 16) === file.minor &&
		    BigInt(m[4]!) === file.ino)
			n++;
	}
	return n;
}

/** The number of locks held on `file` now. */
export async function currentLocks(file: FileId): Promise<number> {
	return locksOn(await fsp.readFile('/proc/locks', 'utf8'), file);
}
