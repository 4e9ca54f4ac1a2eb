/**
 * The copy engine: walks a source tree depth first, in byte order of the
 * names (so the same tree always gives the same archive), and recreates
 * each node in the sink, hard links as links.
 */
import { errnoText } from '../lkl/errors.js';
import { ScanAhead } from './scan-ahead.js';
import type { CopyEvents, DataMap, NodeMeta, ScannedNode, SinkTree, SourceTree } from './tree.js';

export interface CopyOptions {
	/** Where to start in the source ("" for its top). */
	from: Buffer;
	/** Where the first node goes in the sink ("" for its top). */
	to: Buffer;
	/** Leave out a node (and what is below it); paths are source paths. */
	exclude?: (path: Buffer, meta: NodeMeta) => boolean;
	/** Change metadata on the way (forced owner, clamped mtime). */
	transform?: (meta: NodeMeta) => NodeMeta;
	events?: CopyEvents;
	/** Skip sockets with a report instead of passing them to the sink. */
	skipSockets?: boolean;
}

/**
 * What went wrong at @shown: an errno error about a path says what its
 * code means, naming that path unless it is @shown itself (a failure on
 * the other side of the copy names its own path there, as the host's
 * "/home/me/out/x"), not in node's own words ("EIO: i/o error, open
 * '...'"); any other error, its message (ours are written to be read).
 */
function detail(shown: string, cause: unknown): string {
	const about = (cause as { path?: unknown })?.path;
	const text = errnoText(cause);
	if (text !== undefined && (about === shown || about === `/${shown}`))
		return text;
	if (text !== undefined && typeof about === 'string')
		return `${about}: ${text}`;
	return (cause as { message?: string })?.message ?? String(cause);
}

/**
 * How a failure names its node: the path below the copy's top, or for
 * the top itself the path its error names (an image's "/", a host
 * directory), which says more than ".".
 */
function shownPath(path: Buffer, cause: unknown): string {
	if (path.length)
		return path.toString();
	const about = (cause as { path?: unknown })?.path;
	return typeof about === 'string' && about ? about : '.';
}

/** A failure at one node, naming it. */
export class CopyError extends Error {
	readonly path: Buffer;

	constructor(path: Buffer, cause: unknown) {
		const shown = shownPath(path, cause);
		super(`${shown}: ${detail(shown, cause)}`, { cause });
		this.name = 'CopyError';
		this.path = path;
	}
}

/** The largest size a file can have: the kernel's loff_t is signed 64 bits. */
const MAX_FILE_SIZE = (1n << 63n) - 1n;

export function joinPath(dir: Buffer, name: Buffer): Buffer {
	return dir.length === 0 ? name : Buffer.concat([dir, Buffer.from('/'), name]);
}

/** Copies the node at options.from, recursively, into the sink. */
export async function copyTree(source: SourceTree, sink: SinkTree, options: CopyOptions): Promise<void> {
	const links = new Map<string, Buffer>();
	const ahead = new ScanAhead(source, true, source.scanAhead ?? 0);
	const transform = options.transform ?? ((m: NodeMeta) => m);
	const events = options.events ?? {};

	async function visit(from: Buffer, to: Buffer, known?: ScannedNode): Promise<void> {
		try {
			await visitNode(from, to, known);
		} catch (err) {
			throw err instanceof CopyError ? err : new CopyError(from, err);
		}
	}

	async function visitNode(from: Buffer, to: Buffer, known?: ScannedNode): Promise<void> {
		const original = known?.meta ?? await source.meta(from);
		if (options.exclude?.(from, original))
			return;
		// Only a damaged inode says so; no archive or filesystem could take it.
		if (original.kind === 'file' && original.size > MAX_FILE_SIZE)
			throw Object.assign(new Error(`a size of ${original.size} bytes, more than any file can have (a damaged inode?)`), { code: 'EFBIG' });
		const meta = transform(original);
		events.entry?.(to, meta);

		if (meta.kind !== 'directory' && meta.nlink > 1) {
			const key = `${original.dev}:${original.ino}`;
			const first = links.get(key);
			if (first) {
				await sink.link(to, first, meta);
				return;
			}
			links.set(key, to);
		}

		if (meta.kind === 'socket' && options.skipSockets) {
			events.skipped?.(to, meta, 'sockets cannot be archived');
			return;
		}
		const xattrs = known?.xattrs ?? await source.xattrs(from, original);
		events.xattrs?.(to, xattrs);

		switch (meta.kind) {
		case 'directory': {
			await sink.mkdir(to, meta, xattrs);
			const children = await ahead.children(from);
			ahead.plan(subdirectories(from, children, options.exclude));
			for (const child of children)
				await visit(joinPath(from, child.name), joinPath(to, child.name), child);
			break;
		}
		case 'file': {
			if (known?.contents) {
				await sink.file(to, meta, xattrs, counted([known.contents]));
				break;
			}
			const map = await holes(from, original);
			if (map && sink.sparseFile && source.readMap)
				await sink.sparseFile(to, meta, xattrs, map, counted(source.readMap(from, map)));
			else
				await sink.file(to, meta, xattrs, counted(source.read(from, original)));
			break;
		}
		case 'symlink':
			await sink.symlink(to, known?.target ?? await source.readlink(from), meta, xattrs);
			break;
		default:
			await sink.special(to, meta, xattrs);
		}
		await sink.finish(to, meta, xattrs);
	}

	/** A file's data map, asked for only when its blocks say it may have holes. */
	async function holes(path: Buffer, meta: NodeMeta): Promise<DataMap | undefined> {
		if (!sink.sparseFile || !source.dataMap || meta.blocks === undefined || meta.blocks * 512n >= meta.size)
			return undefined;
		return source.dataMap(path, meta);
	}

	async function* counted(data: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncIterable<Buffer> {
		for await (const chunk of data) {
			events.bytes?.(chunk.length);
			yield chunk;
		}
	}

	await visit(options.from, options.to);
	await sink.flush?.();
}

/** The paths of those of @dir's @children that a walk will enter, in its order. */
function subdirectories(dir: Buffer, children: ScannedNode[], exclude?: CopyOptions['exclude']): Buffer[] {
	const dirs: Buffer[] = [];
	for (const child of children) {
		if (child.meta?.kind !== 'directory')
			continue;
		const path = joinPath(dir, child.name);
		if (!exclude?.(path, child.meta))
			dirs.push(path);
	}
	return dirs;
}

/** measureTree of several copies, summed. */
export async function measureTrees(copies: { source: SourceTree; from: Buffer }[]): Promise<{ entries: number; bytes: number }> {
	const sum = { entries: 0, bytes: 0 };
	for (const { source, from } of copies) {
		const m = await measureTree(source, from);
		sum.entries += m.entries;
		sum.bytes += m.bytes;
	}
	return sum;
}

/**
 * Counts the nodes and file bytes below @from, for a progress line's
 * totals: a walk of metadata only, far cheaper than the copy itself.
 */
export async function measureTree(source: SourceTree, from: Buffer): Promise<{ entries: number; bytes: number }> {
	const total = { entries: 0, bytes: 0 };
	const ahead = new ScanAhead(source, false, source.scanAhead ?? 0);
	async function walk(path: Buffer, known?: NodeMeta): Promise<void> {
		const meta = known ?? await source.meta(path);
		total.entries++;
		if (meta.kind === 'file')
			total.bytes += Number(meta.size);
		else if (meta.kind === 'directory') {
			const children = await ahead.children(path);
			ahead.plan(subdirectories(path, children));
			for (const child of children)
				await walk(joinPath(path, child.name), child.meta);
		}
	}
	await walk(from);
	return total;
}
