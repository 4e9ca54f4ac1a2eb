// lkl as one file (Node's single-executable applications): the addon and
// lklfuse-server travel inside the executable as assets.  A shared object
// can only be loaded, and a program only run, from a file, so the first
// run writes them out to a per-user cache, in a directory named after
// their content; later runs (and other versions) find theirs there.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The `node:sea` module, which exists from Node 20.12. */
interface SeaModule {
	isSea(): boolean;
	getRawAsset(key: string): ArrayBuffer;
}

/** What scripts/build-sea.mjs writes into the asset `manifest.json`. */
interface Manifest {
	/** The package.json version the executable was built from. */
	version: string;
	/** sha256 of the assets below, hex; names the cache directory. */
	hash: string;
	/** Asset names: the addon and the FUSE server. */
	files: { addon: string; server: string };
}

function seaModule(): SeaModule | undefined {
	try {
		const require = createRequire(import.meta.url);
		const sea = require('node:sea') as SeaModule;
		return sea.isSea() ? sea : undefined;
	} catch {
		return undefined;
	}
}

const sea = seaModule();

/** True when this process is the single-file lkl executable. */
export function isSingleExecutable(): boolean {
	return sea !== undefined;
}

function asset(name: string): Buffer {
	return Buffer.from(sea!.getRawAsset(name));
}

let manifestCache: Manifest | undefined;

function manifest(): Manifest {
	manifestCache ??= JSON.parse(asset('manifest.json').toString('utf8')) as Manifest;
	return manifestCache;
}

/** The version of the package the executable was built from. */
export function singleExecutableVersion(): string {
	return manifest().version;
}

/**
 * Directories to unpack into, best first: the user's cache, then a
 * directory of the user's own under the temporary directory, for a home
 * that is read-only or absent (a container run with --read-only and a
 * writable /tmp, a CI user with no home).
 */
function cacheRoots(): string[] {
	const roots: string[] = [];
	const xdg = process.env.XDG_CACHE_HOME;
	if (xdg && xdg.startsWith('/'))
		roots.push(join(xdg, 'lkl', 'bin'));
	else {
		const home = process.env.HOME || safeHomedir();
		if (home)
			roots.push(join(home, '.cache', 'lkl', 'bin'));
	}
	const uid = process.getuid?.() ?? 0;
	roots.push(join(tmpdir(), `lkl-${uid}`, 'bin'));
	return roots;
}

function safeHomedir(): string | undefined {
	try {
		return homedir();
	} catch {
		return undefined;
	}
}

/**
 * A shared directory such as /tmp lets anyone create lkl-<uid> first and
 * put their own lklfuse-server in it: use it only if it is ours alone.
 */
function ownedPrivately(dir: string): boolean {
	const st = fs.lstatSync(dir);
	return st.isDirectory() && st.uid === (process.getuid?.() ?? st.uid) && (st.mode & 0o022) === 0;
}

function unpackInto(root: string, m: Manifest): string {
	const dir = join(root, m.hash);
	const addon = join(dir, m.files.addon);
	const server = join(dir, m.files.server);
	fs.mkdirSync(root, { recursive: true, mode: 0o700 });
	const top = join(root, '..');
	if (top.startsWith(tmpdir()) && !ownedPrivately(top))
		throw new Error(`${top} belongs to another user or is writable by others`);
	if (fs.existsSync(addon) && fs.existsSync(server))
		return dir;
	// Written aside and renamed into place whole, so a run that is cut
	// short, or two first runs at once, never leave a half-written file
	// under the final name.
	const staging = fs.mkdtempSync(join(root, '.unpack-'));
	try {
		const hash = createHash('sha256');
		for (const [name, mode] of [[m.files.addon, 0o644], [m.files.server, 0o755]] as const) {
			const data = asset(name);
			hash.update(data);
			fs.writeFileSync(join(staging, name), data, { mode });
		}
		if (hash.digest('hex') !== m.hash)
			throw new Error('the executable\'s embedded files do not match their checksum (a damaged download?)');
		try {
			fs.renameSync(staging, dir);
		} catch (err) {
			// Another run got there first: its copy is the same bytes.
			if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST')
				throw err;
		}
	} finally {
		fs.rmSync(staging, { recursive: true, force: true });
	}
	return dir;
}

/** Where the executable's addon and server are, unpacked if need be. */
export function unpackedFiles(): { addon: string; server: string } {
	const m = manifest();
	const failures: string[] = [];
	for (const root of cacheRoots()) {
		try {
			const dir = unpackInto(root, m);
			return { addon: join(dir, m.files.addon), server: join(dir, m.files.server) };
		} catch (err) {
			failures.push(`${root}: ${(err as Error).message}`);
		}
	}
	throw new Error(`cannot unpack lkl's native files (${failures.join('; ')}); set XDG_CACHE_HOME to a writable directory`);
}
