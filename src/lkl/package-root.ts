// Where the package is installed, for the files it ships beside the
// JavaScript (the addon, lklfuse-server), and its version.  Apart from
// native.ts so that finding the server does not load the addon.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSingleExecutable, singleExecutableVersion } from './single-executable.js';

/** The package root: this file is dist/src/lkl/package-root.js. */
export const packageRoot: string = fileURLToPath(new URL('../../../', import.meta.url));

/** The version in package.json, or the one the executable was built from. */
export function packageVersion(): string {
	if (isSingleExecutable())
		return singleExecutableVersion();
	const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
	return pkg.version;
}
