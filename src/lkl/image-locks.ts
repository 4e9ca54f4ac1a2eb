// The locks on an image, and who holds them, as the host kernel shows them
// in /proc/locks and /proc/PID/fdinfo.
//
// Every opener of an image takes an open file description lock on it
// (native/disk/image_lock.c): shared to read, exclusive to write, until the
// disk is removed or its process ends, which is after its last write to
// the image.  The kernel drops the lock at that exit whatever becomes of
// the process afterwards: unlike a pid, it does not linger as a zombie
// where PID 1 does not reap (a container whose PID 1 is node), and it
// cannot be mistaken for a process that reused the number.
import { promises as fsp } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

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
 * The FileId of the file at `path` as /proc/locks names it: the device of
 * its filesystem (the superblock's, from /proc/self/mountinfo: on btrfs a
 * file's st_dev is its subvolume's, which /proc/locks does not show) and
 * its inode.  The stat's device where that cannot be read.
 */
export async function lockFileId(path: string): Promise<FileId> {
	const st = await fsp.stat(path, { bigint: true });
	let handle: fsp.FileHandle | undefined;
	try {
		handle = await fsp.open(path, 'r');
		const mnt = /^mnt_id:\s*(\d+)/m.exec(await fsp.readFile(`/proc/self/fdinfo/${handle.fd}`, 'utf8'))?.[1];
		const line = (await fsp.readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[0] === mnt);
		const m = line ? /^\S+ \S+ (\d+):(\d+) /.exec(line) : null;
		if (m)
			return { major: Number(m[1]), minor: Number(m[2]), ino: st.ino };
	} catch {
		// Unreadable: the stat's device, right everywhere but on btrfs.
	} finally {
		await handle?.close();
	}
	return fileId(st);
}

/**
 * The lock a line of /proc/locks (or, after "lock:", of a fdinfo file)
 * holds on `file`: whether it is exclusive, or undefined when the line
 * holds none on it.  A line: "1: OFDLCK ADVISORY  WRITE -1 fe:00:1762131 0
 * EOF", the device in hex; a waiter's line has "->" before its class and
 * holds nothing.
 */
export function lockOn(line: string, file: FileId): { writing: boolean } | undefined {
	const m = /^(?:lock:\s*)?\d+:\s+(->\s+)?\S+\s+\S+\s+(\S+)\s+-?\d+\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
	if (!m || m[1] || parseInt(m[3]!, 16) !== file.major || parseInt(m[4]!, 16) !== file.minor ||
	    BigInt(m[5]!) !== file.ino)
		return undefined;
	return { writing: m[2] === 'WRITE' };
}

/** How many locks in `text` (the contents of /proc/locks) are on `file`. */
export function locksOn(text: string, file: FileId): number {
	return text.split('\n').filter((line) => lockOn(line, file)).length;
}

/** The number of locks held on `file` now. */
export async function currentLocks(file: FileId): Promise<number> {
	return locksOn(await fsp.readFile('/proc/locks', 'utf8'), file);
}

/** A process that holds a lock on an image. */
export interface LockHolder {
	pid: number;
	/** Its name (/proc/PID/comm), or '' when it has gone. */
	command: string;
	/** Whether its lock is exclusive: a writer's. */
	writing: boolean;
}

async function readOr(path: string): Promise<string> {
	try {
		return await fsp.readFile(path, 'utf8');
	} catch {
		return '';
	}
}

async function listOr(path: string): Promise<string[]> {
	try {
		return await fsp.readdir(path);
	} catch {
		return [];
	}
}

/**
 * A process holding a lock on the file at `path`, found through
 * /proc/PID/fdinfo, or undefined where none can be seen: another user's
 * processes are hidden from a user without CAP_SYS_PTRACE, and the holder
 * may have just closed it.  It may be this very process.  Slow (it reads
 * every process's descriptors): for the message of a conflict only.
 */
export async function lockHolder(path: string): Promise<LockHolder | undefined> {
	let file: FileId;
	try {
		file = await lockFileId(path);
	} catch {
		return undefined;
	}
	for (const pid of await listOr('/proc')) {
		if (!/^\d+$/.test(pid))
			continue;
		for (const fd of await listOr(`/proc/${pid}/fdinfo`)) {
			for (const line of (await readOr(`/proc/${pid}/fdinfo/${fd}`)).split('\n')) {
				const lock = lockOn(line, file);
				if (lock)
					return { pid: Number(pid), command: (await readOr(`/proc/${pid}/comm`)).trim(), writing: lock.writing };
			}
		}
	}
	return undefined;
}

/**
 * `open()` again while it fails with EBUSY (the image locked by another
 * opener) if `wait`, backing off from 50 ms to a second between tries,
 * until it succeeds, fails otherwise, or `signal` aborts (an AbortError).
 * Polled rather than a blocking lock so that nothing waits inside the
 * addon, where neither a signal nor a halt could end the wait.
 */
export async function openWhileLocked<T>(open: () => Promise<T>, wait: boolean, signal?: AbortSignal): Promise<T> {
	for (let delay = 50; ; delay = Math.min(2 * delay, 1000)) {
		signal?.throwIfAborted();
		try {
			return await open();
		} catch (err) {
			if (!wait || (err as NodeJS.ErrnoException).code !== 'EBUSY')
				throw err;
		}
		await sleep(delay, undefined, { signal });
	}
}
