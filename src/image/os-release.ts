/**
 * Which operating system a filesystem holds, from os-release(5):
 * /etc/os-release, or /usr/lib/os-release where that is missing.
 */
import type { Mount } from '../lkl/mount.js';

export interface OsRelease {
	/** PRETTY_NAME, else NAME, e.g. "Debian GNU/Linux 12 (bookworm)". */
	readonly prettyName: string;
	/** ID, e.g. "debian" (os-release's default: "linux"). */
	readonly id: string;
	/** VERSION_ID, e.g. "12", when it says. */
	readonly versionId?: string;
}

const PATHS = ['/etc/os-release', '/usr/lib/os-release'];
/** Top-level subvolumes distributions put their root in on btrfs (Ubuntu, Fedora, openSUSE). */
const BTRFS_ROOTS = ['@', 'root', '@rootfs'];
/** More than any real os-release: a crafted one is not read whole. */
const MAX_BYTES = 64 * 1024;

/** The assignments of an os-release file: shell-style, values maybe quoted. */
export function parseOsRelease(text: string): Map<string, string> {
	const vars = new Map<string, string>();
	for (const line of text.split('\n')) {
		const m = /^\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
		if (!m)
			continue;
		let value = m[2]!.trim();
		const q = value[0];
		if ((q === '"' || q === '\'') && value.length >= 2 && value.endsWith(q)) {
			value = value.slice(1, -1);
			if (q === '"')
				value = value.replace(/\\([\\$"`])/g, '$1');
		}
		vars.set(m[1]!, value);
	}
	return vars;
}

/** The contents of @path if it is a regular file of a sane size (a FIFO would block a read). */
async function readRegular(mount: Mount, path: string): Promise<string | undefined> {
	try {
		const st = await mount.stat(path);
		if (!st.isFile() || st.size > MAX_BYTES)
			return undefined;
		return (await mount.readFile(path)).subarray(0, MAX_BYTES).toString('utf8');
	} catch {
		return undefined;
	}
}

/** The os-release of the filesystem in @mount, if it has one. */
export async function readOsRelease(mount: Mount): Promise<OsRelease | undefined> {
	const prefixes = [''];
	if (mount.fsType === 'btrfs')
		prefixes.push(...BTRFS_ROOTS.map((r) => `/${r}`));
	for (const prefix of prefixes) {
		for (const path of PATHS) {
			const text = await readRegular(mount, prefix + path);
			if (text === undefined)
				continue;
			const vars = parseOsRelease(text);
			const prettyName = vars.get('PRETTY_NAME') || vars.get('NAME');
			const id = vars.get('ID');
			if (!prettyName && !id)
				continue;
			const versionId = vars.get('VERSION_ID');
			return { prettyName: prettyName || 'Linux', id: id || 'linux', ...(versionId ? { versionId } : {}) };
		}
	}
	return undefined;
}
