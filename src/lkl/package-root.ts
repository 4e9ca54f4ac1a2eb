// Where the package is installed, for the files it ships beside the
// JavaScript (the addon, lklfuse-server).  Apart from native.ts so that
// finding the server does not load the addon.
import { fileURLToPath } from 'node:url';

/** The package root: this file is dist/src/lkl/package-root.js. */
export const packageRoot: string = fileURLToPath(new URL('../../../', import.meta.url));
