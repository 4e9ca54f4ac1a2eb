// The FUSE mounts of this mount namespace, from /proc/self/mountinfo:
// which image an lklfuse mount serves.  lklfuse-server names the mount
// after the image's absolute path (FUSE's fsname), unless -o fsname= was
// given.
import { promises as fsp } from 'node:fs';

export interface FuseMount {
	/** Where it is mounted. */
	mountpoint: string;
	/** "fuse.ext4" and so on: fuse.<subtype>. */
	fsType: string;
	/** The mount's source: for lklfuse, the image's absolute path. */
	source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
	return field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * The FUSE mounts in `text` (the contents of a mountinfo file): fields
 * "id parent major:minor root mountpoint options [optional...] - type
 * source superoptions".
 */
export function fuseMounts(text: string): FuseMount[] {
	const mounts: FuseMount[] = [];
	for (const line of text.split('\n')) {
		const fields = line.split(' ');
		const dash = fields.indexOf('-');
		if (dash < 6 || fields.length < dash + 3)
			continue;
		const fsType = fields[dash + 1]!;
		if (fsType !== 'fuse' && !fsType.startsWith('fuse.'))
			continue;
		mounts.push({ mountpoint: unescape(fields[4]!), fsType, source: unescape(fields[dash + 2]!) });
	}
	return mounts;
}

/** The FUSE mount on `mountpoint` (a real path), the last if stacked. */
export async function fuseMountAt(mountpoint: string): Promise<FuseMount | undefined> {
	const text = await fsp.readFile('/proc/self/mountinfo', 'utf8');
	return fuseMounts(text).filter((m) => m.mountpoint === mountpoint).pop();
}
