// Where lklfuse-server is, for the lklfuse command: found beside the addon
// (binaries.ts) without loading it, so that only src/lkl knows that layout.
import { nativeFiles } from './binaries.js';

/** The path of lklfuse-server; throws ERR_LKL_NO_BINARY when none fits. */
export function fuseServerPath(): string {
	return nativeFiles().server;
}
