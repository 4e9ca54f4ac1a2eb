/**
 * A path inside an image given on the command line (--root, a cptofs
 * destination, a cpfromfs source), held to the rules of src/copy/names.ts;
 * what they refuse is a usage error.
 */
import { relativePath, UnsafeNameError } from '../copy/names.js';
import { CliError } from './errors.js';

/** @what names the argument in the message, e.g. "--root". */
export function pathArgument(what: string, value: string): Buffer {
	try {
		return relativePath(value);
	} catch (err) {
		if (err instanceof UnsafeNameError)
			throw new CliError(`${what}: ${err.message}`, 2, { cause: err });
		throw err;
	}
}
