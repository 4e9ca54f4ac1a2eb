/**
 * The sources a filesystem of `lkl mkimage` is filled from: host
 * directories, and tar archives, plain or compressed with gzip (node's
 * zlib) or zstd (the zstd program: Node 20's zlib has none), told apart by
 * their first bytes rather than their names.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SpecError } from './mkimage-spec.js';
import { TOOLS, needTool } from './mkimage-tools.js';

export type SourceKind = 'directory' | 'tar' | 'tar.gz' | 'tar.zst';

/** What @path is, checked before anything is written: a SpecError otherwise. */
export async function sourceKind(path: string): Promise<SourceKind> {
	let st;
	try {
		st = await fsp.stat(path);
	} catch (err) {
		const code = (err as { code?: string }).code;
		throw new SpecError(`${path}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
	}
	if (st.isDirectory())
		return 'directory';
	if (!st.isFile())
		throw new SpecError(`${path}: neither a directory nor a tar archive`);
	const head = Buffer.alloc(6);
	let fh;
	try {
		fh = await fsp.open(path, 'r');
		await fh.read(head, 0, head.length, 0);
	} catch (err) {
		throw new SpecError(`${path}: cannot read it: ${(err as Error).message}`);
	} finally {
		await fh?.close();
	}
	if (head[0] === 0x1f && head[1] === 0x8b)
		return 'tar.gz';
	if (head.readUInt32LE(0) === 0xfd2fb528) {
		needTool(TOOLS.zstd, `${path} (zstd)`);
		return 'tar.zst';
	}
	if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
		throw new SpecError(`${path}: xz archives are not supported (plain tar, gzip or zstd)`);
	if (head.subarray(0, 3).toString('latin1') === 'BZh')
		throw new SpecError(`${path}: bzip2 archives are not supported (plain tar, gzip or zstd)`);
	return 'tar';
}

/** A running decompression's end: rejects when the zstd program failed. */
export interface OpenedArchive {
	readonly stream: Readable;
	/** Resolves once the whole archive was read and decompressed without error. */
	done(): Promise<void>;
	/** Stops reading (after a failure elsewhere). */
	close(): void;
}

/** The tar stream of an archive source, decompressed. */
export function openArchive(path: string, kind: Exclude<SourceKind, 'directory'>): OpenedArchive {
	if (kind === 'tar' || kind === 'tar.gz') {
		const file = createReadStream(path);
		const stream = kind === 'tar' ? file : file.pipe(createGunzip());
		if (stream !== file)
			file.on('error', (err) => stream.destroy(err));
		return { stream, done: async () => {}, close: () => { file.destroy(); stream.destroy(); } };
	}
	const child = spawn(needTool(TOOLS.zstd, path), ['-d', '-c', '-q', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
	let errors = '';
	child.stderr.on('data', (d: Buffer) => { errors = (errors + d.toString()).slice(-2000); });
	const exit = new Promise<void>((resolve, reject) => {
		child.on('error', reject);
		child.on('close', (code, signal) => {
			if (code === 0)
				return resolve();
			const last = errors.trim().split('\n').filter(Boolean).slice(-1)[0];
			reject(new Error(`zstd ${signal ? `was killed by ${signal}` : `exited with status ${code}`}${last ? `: ${last}` : ''}`));
		});
	});
	// Seen by done(); not unhandled when close() ended it on purpose.
	exit.catch(() => {});
	return { stream: child.stdout, done: () => exit, close: () => { child.kill(); } };
}

/*
 * What a source holds, as a digest for a reproducible image's IDs: an
 * archive's bytes; a directory's listing, names in byte order with each
 * entry's type, mode, owner, size, mtime, device number and link target
 * (not its files' data, which would be read twice: a change to a file
 * that keeps its size and mtime keeps the IDs).
 */
export async function digestSource(path: string, kind: SourceKind): Promise<Buffer> {
	const hash = createHash('sha256');
	if (kind !== 'directory') {
		for await (const chunk of createReadStream(path))
			hash.update(chunk as Buffer);
		return hash.digest();
	}
	async function walk(rel: Buffer): Promise<void> {
		const full = Buffer.concat([Buffer.from(path), Buffer.from('/'), rel]);
		const st = await fsp.lstat(full, { bigint: true });
		const target = st.isSymbolicLink() ? await fsp.readlink(full, { encoding: 'buffer' }) : Buffer.alloc(0);
		const fields = [st.mode, st.uid, st.gid, st.isDirectory() ? 0n : st.size, st.mtimeNs, st.rdev].join(' ');
		hash.update(`${rel.length} `).update(rel).update(` ${fields} ${target.length} `).update(target);
		if (!st.isDirectory())
			return;
		const names = await fsp.readdir(full, { encoding: 'buffer' });
		names.sort(Buffer.compare);
		for (const name of names)
			await walk(rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name);
	}
	await walk(Buffer.alloc(0));
	return hash.digest();
}
