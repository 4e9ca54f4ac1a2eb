/**
 * Small files' contents that a scan read (an image's or the host's), freed
 * as soon as the copy has written them rather than whenever V8 next
 * collects them: in a copy of many small files, V8 collected them late
 * enough that the scans' memory was a fifth of the process's (fs2tar of
 * 67,000 entries: 26 MiB of 167).  Only Buffers a scan made are freed;
 * any other Buffer is left alone.
 */
import { native } from './native.js';

const fromScans = new WeakSet<Buffer>();

/** Marks @contents as a scan's own, which nothing but the copy holds. */
export function scannedContents(contents: Buffer): Buffer {
	fromScans.add(contents);
	return contents;
}

/** Whether @contents is a scan's own (and so read into by nothing again). */
export function isScannedContents(contents: Buffer): boolean {
	return fromScans.has(contents);
}

/**
 * Frees @contents if a scan made it.  The caller must be its last user:
 * it and every view of it have length 0 after.
 */
export function releaseContents(contents: Buffer): void {
	if (fromScans.delete(contents))
		native.releaseContents(contents);
}
