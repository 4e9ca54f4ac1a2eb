/**
 * What cptofs and cpfromfs share: turning `src... dst` into copies, with
 * cp -a's rules.  A source ending in "/" or "/." copies a directory's
 * contents; a glob in the last component is matched on the source side;
 * several sources, or an existing directory as dst, put each source
 * inside dst; otherwise dst is the copy's name.
 */
import { promises as fsp } from 'node:fs';
import { minimatch } from 'minimatch';
import { CliError, describe } from '../cli/errors.js';
import type { Mount } from '../lkl/mount.js';

/** One copy: the source's directory, the name in it, and where it goes. */
export interface CopyPlan {
	/** Directory on the source side holding the node ("" = the top). */
	dir: string;
	/** The node in it; "" with contentsOnly copies what is inside dir. */
	name: string;
	/** Destination path (relative for an image, as given for the host). */
	to: string;
}

/** How plan() looks at either side. */
export interface Side {
	/** Names in a directory of the source side. */
	list(dir: string): Promise<string[]>;
	/**
	 * Whether a source path exists (without following a final symlink);
	 * throws for a failure other than its absence.
	 */
	exists(path: string): Promise<boolean>;
	/** Whether a destination path is an existing directory. */
	isDirectory(path: string): Promise<boolean>;
	/**
	 * The path whose contents a contents copy of @path ("path/", "path/.")
	 * copies: @path, or where it leads if it is a symlink, as the trailing
	 * slash makes cp -a follow it.
	 */
	followed(path: string): Promise<string>;
}

const GLOB = /[*?[]/;

/** Whether a lookup failed only because the path is not there. */
function isMissing(err: unknown): boolean {
	const code = (err as { code?: unknown })?.code;
	return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Whether @path exists on @side; a lookup that fails for another reason
 * (a damaged image's I/O error) says so, naming @shown.
 */
async function present(side: Side, path: string, shown: string): Promise<boolean> {
	try {
		return await side.exists(path);
	} catch (err) {
		throw new CliError(`${shown}: ${describe(err)}`, 1, { cause: err });
	}
}

function splitLast(path: string): { dir: string; name: string } {
	const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
	const i = trimmed.lastIndexOf('/');
	if (i < 0)
		return { dir: '.', name: trimmed };
	return { dir: trimmed.slice(0, i) || '/', name: trimmed.slice(i + 1) };
}

export function joinDest(dst: string, name: string): string {
	return dst.endsWith('/') ? `${dst}${name}` : `${dst}/${name}`;
}

/** Expands the sources against the source side and pairs them with dst. */
export async function plan(sources: string[], dst: string, source: Side, dest: Side): Promise<CopyPlan[]> {
	if (sources.length === 0)
		throw new CliError('nothing to copy: give at least one source and a destination', 2);

	const expanded: { dir: string; name: string; contents: boolean }[] = [];
	for (const src of sources) {
		if (src === '')
			throw new CliError('an empty source path', 2);
		const contents = /(^|\/)\.$/.test(src) || (src.endsWith('/') && src !== '/');
		const base = contents ? src.replace(/\/\.?$/, '') || '/' : src;
		if (contents) {
			if (!(await present(source, base, src)))
				throw new CliError(`${src}: no such file or directory`);
			let dir: string;
			try {
				dir = await source.followed(base);
			} catch (err) {
				throw new CliError(`${src}: ${describe(err)}`, 1, { cause: err });
			}
			expanded.push({ dir, name: '', contents: true });
			continue;
		}
		const { dir, name } = splitLast(base);
		if (GLOB.test(name)) {
			const matches = (await source.list(dir).catch(() => [])).filter((n) => minimatch(n, name, { dot: false })).sort();
			if (matches.length === 0)
				throw new CliError(`${src}: no match`);
			for (const m of matches)
				expanded.push({ dir, name: m, contents: false });
			continue;
		}
		if (base === '/' || name === '' ) {
			expanded.push({ dir: base, name: '', contents: true });
			continue;
		}
		if (!(await present(source, base, src)))
			throw new CliError(`${src}: no such file or directory`);
		expanded.push({ dir, name, contents: false });
	}

	const destIsDirectory = await dest.isDirectory(dst);
	const into = expanded.length > 1 || destIsDirectory;
	if (expanded.length > 1 && !destIsDirectory)
		throw new CliError(`${dst}: not a directory (several sources need one)`, 2);
	return expanded.map((e) => ({
		dir: e.dir,
		name: e.name,
		to: e.contents || !into ? dst : joinDest(dst, e.name),
	}));
}

/** A mounted image as a Side. */
export function imageSide(mount: Mount): Side {
	return {
		async list(dir) {
			return (await mount.readdir(dir)) as string[];
		},
		async exists(path) {
			return mount.lstat(path).then(() => true, (err: unknown) => {
				if (isMissing(err))
					return false;
				throw err;
			});
		},
		async isDirectory(path) {
			return mount.stat(path).then((s) => s.isDirectory(), () => false);
		},
		async followed(path) {
			return (await mount.lstat(path)).isSymbolicLink() ? await mount.realpath(path) as string : path;
		},
	};
}

/** The host's filesystem as a Side. */
export const hostSide: Side = {
	async list(dir) {
		return fsp.readdir(dir);
	},
	async exists(path) {
		return fsp.lstat(path).then(() => true, (err: unknown) => {
			if (isMissing(err))
				return false;
			throw err;
		});
	},
	async isDirectory(path) {
		return fsp.stat(path).then((s) => s.isDirectory(), () => false);
	},
	async followed(path) {
		return (await fsp.lstat(path)).isSymbolicLink() ? fsp.realpath(path) : path;
	},
};
