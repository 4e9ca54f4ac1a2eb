// Where lkl's two native files are: the Node addon, with the kernel
// linked in, and lklfuse-server.  One of three places:
//   - inside the single-file executable, unpacked to a cache on first use;
//   - a development build: build/Release/lkl.node, the server beside it
//     (a link to build/native/lklfuse-server);
//   - the prebuilt binaries the package ships, prebuilds/<platform>-<arch>/,
//     chosen by node-gyp-build, with the server beside the addon.
// Nothing is ever compiled or downloaded here.  When nothing fits this
// machine, the error says in one line what was looked for and what to do,
// as sharp's loader does.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { lklError, type LklError } from './errors.js';
import { packageRoot } from './package-root.js';
import { isSingleExecutable, unpackedFiles } from './single-executable.js';

export interface NativeFiles {
	/** The addon (a shared object), for process.dlopen. */
	readonly addon: string;
	/** lklfuse-server, the FUSE server that `lkl lklfuse` starts. */
	readonly server: string;
}

/** The platforms the package ships binaries for. */
const SHIPPED = ['linux-x64', 'linux-arm64'];

/** `linux-x64 (glibc 2.36)`: the platform as the error messages name it. */
export function platformName(): string {
	const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
	const glibc = report?.header?.glibcVersionRuntime;
	return `${process.platform}-${process.arch} (${glibc ? `glibc ${glibc}` : 'no glibc'})`;
}

function noBinary(what: string, advice: string): LklError {
	return lklError('ERR_LKL_NO_BINARY', `cannot load lkl's native files on ${platformName()}: ${what}; ${advice}`);
}

function packaged(): NativeFiles {
	const tuple = `${process.platform}-${process.arch}`;
	const dir = join(packageRoot, 'prebuilds', tuple);
	let addon: string;
	try {
		const gypBuild = createRequire(import.meta.url)('node-gyp-build') as { path(dir: string): string };
		addon = gypBuild.path(packageRoot);
	} catch {
		const shipped = existsSync(join(packageRoot, 'prebuilds'))
			? readdirSync(join(packageRoot, 'prebuilds')).filter((d) => !d.startsWith('.')).sort() : [];
		const have = shipped.length ? shipped.join(', ') : 'none';
		if (!SHIPPED.includes(tuple))
			throw noBinary(`looked in ${dir} (this package has: ${have})`,
				`lkl runs on ${SHIPPED.join(' and ')} only`);
		if (shipped.includes(tuple))
			throw noBinary(`${dir} holds no build for this C library`,
				'lkl\'s binaries need glibc: use a glibc-based system or container image (Debian, Ubuntu, Fedora), not musl (Alpine)');
		throw noBinary(`looked in ${dir} (this package has: ${have})`,
			'reinstall lkl from the published package, or build it from source (npm run build in a clone)');
	}
	const release = dirname(addon);
	return { addon, server: join(release, 'lklfuse-server') };
}

let found: NativeFiles | undefined;

/** Finds the native files once per process; throws ERR_LKL_NO_BINARY. */
export function nativeFiles(): NativeFiles {
	found ??= isSingleExecutable() ? unpackedFiles() : packaged();
	return found;
}

/** Loads the addon; a library that will not load is named with its cause. */
/*
 * The addon's calls as this code makes them: raised with ADDON_INTERFACE in
 * native/addon/addon.cc whenever they change.
 */
const ADDON_INTERFACE = 6;

export function loadAddon(): unknown {
	const { addon } = nativeFiles();
	const module = { exports: {} as { interface?: unknown } };
	try {
		process.dlopen(module, addon);
	} catch (err) {
		const why = String((err as Error).message).split('\n')[0]!.replace(`${addon}: `, '');
		const glibc = /GLIBC_([0-9.]+)' not found/.exec(why);
		throw noBinary(`${addon} will not load (${why})`,
			glibc ? `it needs glibc ${glibc[1]} or newer: use a newer system or container image`
				: /failed to map segment|operation not permitted/i.test(why)
					? 'its directory may be on a noexec filesystem: set XDG_CACHE_HOME or TMPDIR to another'
					: 'reinstall lkl, or build it from source (npm run build in a clone)');
	}
	if (module.exports.interface !== ADDON_INTERFACE)
		throw noBinary(`${addon} is from another version of lkl (its calls are version ${String(module.exports.interface ?? 1)}, this code's ${ADDON_INTERFACE})`,
			'reinstall lkl, or rebuild it (npm run build in a clone)');
	return module.exports;
}
