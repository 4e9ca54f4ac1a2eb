/**
 * User and group names of this machine, for archives that name rather
 * than number the owners in their ACLs (GNU tar --acls without
 * --numeric-owner).  Node has no getpwnam(); the files are read instead,
 * which misses names that only a network directory (NSS) knows: such an
 * entry is refused with its name rather than guessed.
 */
import * as fs from 'node:fs';
import type { IdResolver } from '../tar/acl.js';

function table(path: string): Map<string, number> {
	const ids = new Map<string, number>();
	let text = '';
	try {
		text = fs.readFileSync(path, 'utf8');
	} catch {
		return ids;
	}
	for (const line of text.split('\n')) {
		const [name, , id] = line.split(':');
		if (name && id && /^\d+$/.test(id) && !ids.has(name))
			ids.set(name, Number(id));
	}
	return ids;
}

export function hostIdResolver(): IdResolver {
	const cache: { user?: Map<string, number>; group?: Map<string, number> } = {};
	return (kind, name) => {
		cache[kind] ??= table(kind === 'user' ? '/etc/passwd' : '/etc/group');
		return cache[kind].get(name);
	};
}
