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

const TAG_OF: Record<string, [obj: number, named: number]> = {
	user: [0x01, 0x02], u: [0x01, 0x02],
	group: [0x04, 0x08], g: [0x04, 0x08],
	mask: [0x10, 0x10], m: [0x10, 0x10],
	other: [0x20, 0x20], o: [0x20, 0x20],
};
const UNDEFINED_ID = 0xffffffff;

/** Looks up a user or group name (for ACL entries that name, not number, their qualifier). */
export type IdResolver = (kind: 'user' | 'group', name: string) => number | undefined;

/**
 * The kernel's binary xattr form of an ACL in text form, as GNU tar and
 * star archive it: comma- or newline-separated "tag:qualifier:perms"
 * entries, qualifiers numeric or names (star adds the number as a fourth
 * field, which wins).  Throws on anything it cannot read exactly.
 */
export function aclFromText(text: string, resolve: IdResolver): Buffer {
	const entries: { tag: number; perm: number; id: number }[] = [];
	for (const raw of text.split(/[,\n]/)) {
		const item = raw.replace(/#.*/, '').trim();
		if (!item)
			continue;
		const fields = item.split(':');
		const tags = TAG_OF[fields[0]];
		if (!tags || fields.length < 3 || fields.length > 4)
			throw new Error(`cannot read the ACL entry ${JSON.stringify(item)}`);
		const qualifier = fields[1];
		const named = qualifier !== '' && tags[0] !== 0x10 && tags[0] !== 0x20;
		let perm = 0;
		for (const c of fields[2]) {
			const bit = { r: 4, w: 2, x: 1, '-': 0 }[c];
			if (bit === undefined)
				throw new Error(`cannot read the permissions in the ACL entry ${JSON.stringify(item)}`);
			perm |= bit;
		}
		let id = UNDEFINED_ID;
		if (named) {
			const kind = tags[0] === 0x01 ? 'user' : 'group';
			const number = fields[3] ?? qualifier;
			id = /^\d+$/.test(number) ? Number(number) : resolve(kind, qualifier) ?? -1;
			if (id < 0 || id >= UNDEFINED_ID)
				throw new Error(`no ${kind} named ${JSON.stringify(qualifier)} on this machine, for the ACL entry ${JSON.stringify(item)}`);
		}
		entries.push({ tag: named ? tags[1] : tags[0], perm, id });
	}
	// The kernel wants them in this order, and refuses duplicates itself.
	entries.sort((a, b) => a.tag - b.tag || a.id - b.id);
	const out = Buffer.alloc(4 + 8 * entries.length);
	out.writeUInt32LE(2, 0);
	entries.forEach((e, i) => {
		out.writeUInt16LE(e.tag, 4 + 8 * i);
		out.writeUInt16LE(e.perm, 6 + 8 * i);
		out.writeUInt32LE(e.id, 8 + 8 * i);
	});
	return out;
}
