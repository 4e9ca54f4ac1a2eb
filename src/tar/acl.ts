/**
 * POSIX ACLs as the text GNU tar and star keep in SCHILY.acl.access and
 * SCHILY.acl.default ("user::rw-,user:1000:r--,group::r--,mask::r--,
 * other::---", numeric ids), from the kernel's binary xattr form.  The
 * binary form is archived too, as SCHILY.xattr.system.posix_acl_*; GNU
 * tar's --acls only reads the text.
 */
const TAGS: Record<number, string> = { 0x01: 'user', 0x02: 'user', 0x04: 'group', 0x08: 'group', 0x10: 'mask', 0x20: 'other' };
const NAMED = new Set([0x02, 0x08]);

function perms(p: number): string {
	return `${p & 4 ? 'r' : '-'}${p & 2 ? 'w' : '-'}${p & 1 ? 'x' : '-'}`;
}

/** The text form, or undefined if the value is not a version-2 ACL. */
export function aclToText(value: Buffer): string | undefined {
	if (value.length < 4 || (value.length - 4) % 8 !== 0 || value.readUInt32LE(0) !== 2)
		return undefined;
	const entries: string[] = [];
	for (let off = 4; off < value.length; off += 8) {
		const tag = value.readUInt16LE(off);
		const name = TAGS[tag];
		if (!name)
			return undefined;
		const id = NAMED.has(tag) ? String(value.readUInt32LE(off + 4)) : '';
		entries.push(`${name}:${id}:${perms(value.readUInt16LE(off + 2))}`);
	}
	return entries.join(',');
}
