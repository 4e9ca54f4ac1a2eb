// The list listxattr returns, read once for every caller (Mount's
// listxattr and the copy engine's calls).

/** The names in a listxattr buffer: NUL-terminated, in the kernel's order. */
export function splitXattrNames(list: Buffer): string[] {
	return list.toString('utf8').split('\0').filter((n) => n.length > 0);
}
