/**
 * Unpacking a tar stream into a sink (cptofs --tar).  An archive is read
 * once, front to back, so it cannot be a SourceTree; each entry goes to
 * the sink as it comes, and directories get their metadata at the end so
 * that their children do not change their times.
 */
import type { Readable } from 'node:stream';
import { aclFromText, type IdResolver } from '../tar/acl.js';
import { readTar, type TarReadEntry } from '../tar/reader.js';
import { hostIdResolver } from './hostfs-ids.js';
import { filled } from './sparse.js';
import { CopyError, joinPath } from './engine.js';
import { relativePath } from './names.js';
import type { CopyEvents, NodeKind, NodeMeta, SinkTree } from './tree.js';

const KINDS: Record<string, NodeKind> = {
	'0': 'file', '2': 'symlink', '3': 'charDevice', '4': 'blockDevice', '5': 'directory', '6': 'fifo',
};

function metaOf(e: TarReadEntry, kind: NodeKind): NodeMeta {
	return {
		kind,
		mode: e.mode,
		uid: e.uid,
		gid: e.gid,
		size: e.size,
		mtime: e.mtime,
		atime: e.atime ?? e.mtime,
		ctime: e.ctime ?? e.mtime,
		rdevMajor: e.devMajor,
		rdevMinor: e.devMinor,
		dev: '',
		ino: 0n,
		nlink: 1,
	};
}

/**
 * The entry's xattrs, with its text ACLs in the kernel's binary form.
 * Where an archive has both (fs2tar writes both), the binary xattr is
 * the exact one and wins.
 */
function xattrsOf(e: TarReadEntry, resolve: IdResolver): Map<string, Buffer> {
	const xattrs = new Map(e.xattrs);
	for (const which of ['access', 'default'] as const) {
		const text = e.acls[which];
		const name = `system.posix_acl_${which}`;
		if (text !== undefined && !xattrs.has(name))
			xattrs.set(name, aclFromText(text, resolve));
	}
	return xattrs;
}

export async function extractTar(input: Readable, sink: SinkTree, dest: Buffer, events: CopyEvents = {}): Promise<void> {
	const dirs: { path: Buffer; meta: NodeMeta; xattrs: Map<string, Buffer> }[] = [];
	const made = new Set<string>();
	const resolve = hostIdResolver();
	const now = { sec: BigInt(Math.floor(Date.now() / 1000)), nsec: 0 };
	const implicit: NodeMeta = {
		kind: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0n, mtime: now, atime: now, ctime: now,
		rdevMajor: 0, rdevMinor: 0, dev: '', ino: 0n, nlink: 1,
	};

	// Parents an archive leaves out are made as mkdir -p would.
	async function parents(path: Buffer): Promise<void> {
		const parts = path.toString('latin1').split('/');
		let cur = dest;
		for (let i = 0; i < parts.length - 1; i++) {
			cur = joinPath(cur, Buffer.from(parts[i], 'latin1'));
			const key = cur.toString('latin1');
			if (made.has(key))
				continue;
			made.add(key);
			await sink.mkdir(cur, implicit, new Map());
		}
	}

	// The destination itself, and its parents, as mkdir -p makes them.
	let top: Buffer = Buffer.alloc(0);
	for (const part of dest.length ? dest.toString('latin1').split('/') : []) {
		top = joinPath(top, Buffer.from(part, 'latin1'));
		made.add(top.toString('latin1'));
		try {
			await sink.mkdir(top, implicit, new Map());
		} catch (err) {
			throw new CopyError(top, err);
		}
	}

	for await (const { entry, data } of readTar(input)) {
		try {
			const rel = relativePath(entry.path);
			await unpack(entry, data, rel, rel.length ? joinPath(dest, rel) : dest);
		} catch (err) {
			// Named as in the archive.
			throw err instanceof CopyError ? err : new CopyError(entry.path, err);
		}
	}
	for (const d of dirs.reverse())
		await sink.finish(d.path, d.meta, d.xattrs);
	await sink.close();

	async function unpack(entry: TarReadEntry, data: AsyncIterable<Buffer>, rel: Buffer, to: Buffer): Promise<void> {
		if (rel.length)
			await parents(rel);

		if (entry.type === '1') {
			const target = joinPath(dest, relativePath(entry.linkPath));
			events.entry?.(to, metaOf(entry, 'file'));
			await sink.link(to, target, metaOf(entry, 'file'));
			return;
		}
		const kind = KINDS[entry.type];
		if (!kind)
			throw new Error(`tar entries of type ${JSON.stringify(entry.type)} are not supported`);
		const meta = metaOf(entry, kind);
		const xattrs = xattrsOf(entry, resolve);
		events.entry?.(to, meta);
		switch (kind) {
		case 'directory':
			made.add(to.toString('latin1'));
			await sink.mkdir(to, meta, xattrs);
			dirs.push({ path: to, meta, xattrs });
			return;
		case 'file':
			if (!entry.sparse)
				await sink.file(to, meta, xattrs, counted(data));
			else if (sink.sparseFile)
				await sink.sparseFile(to, meta, xattrs, entry.sparse, counted(data));
			else
				await sink.file(to, meta, xattrs, counted(filled(entry.sparse, meta.size, data)));
			break;
		case 'symlink':
			await sink.symlink(to, entry.linkPath, meta, xattrs);
			break;
		default:
			await sink.special(to, meta, xattrs);
		}
		await sink.finish(to, meta, xattrs);
	}

	async function* counted(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
		for await (const c of chunks) {
			events.bytes?.(c.length);
			yield c;
		}
	}
}
