/**
 * What lkl mkimage does: a whole disk image (GPT, MBR, or one bare
 * filesystem) made by an ordinary user, with no loop device: the table
 * written here, each filesystem made by its own mkfs, and filled from
 * host directories and tar archives through the kernel with the copy
 * engine.  The image is made as IMAGE.tmp-XXXXXX and renamed once whole,
 * so that a failure leaves nothing behind.  With SOURCE_DATE_EPOCH or
 * --reproducible, the same inputs make the same image, byte for byte
 * (mkimage-ids.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { ClampedSink } from '../copy/clamped-sink.js';
import { copyTree, CopyError } from '../copy/engine.js';
import { HostSource } from '../copy/hostfs-tree.js';
import { ImageSink } from '../copy/image-tree.js';
import { extractTar } from '../copy/tar-source.js';
import type { SinkTree } from '../copy/tree.js';
import { CliError, describe } from '../cli/errors.js';
import { reproducibleMount, type Reproducible } from '../cli/reproducible.js';
import { Progress } from '../cli/progress.js';
import { COPY_MEMORY_MIB } from '../commands/image.js';
import { Kernel } from '../index.js';
import { lifetimeWrites, restoreLifetimeWrites } from './ext4-lifetime-writes.js';
import { humanSize } from './human-size.js';
import { formatFilesystem } from './mkimage-format.js';
import { imageIds, type ImageIds } from './mkimage-ids.js';
import { autoSize, emptyContent, ext4Inodes, measureSource, MIN_BYTES, type Content } from './mkimage-size.js';
import { digestSource, openArchive, sourceKind, type SourceKind } from './mkimage-source.js';
import { SpecError, type ImageAsked, type PartAsked } from './mkimage-spec.js';
import { TOOLS, needFaketime, needTool } from './mkimage-tools.js';
import { buildGpt, buildMbr, type BuiltTable } from './partition-table.js';

const MiB = 1 << 20;

export interface MkimageOptions {
	image: string;
	spec: ImageAsked;
	/** Owner and group of everything written, instead of the sources' own. */
	uid?: number;
	gid?: number;
	/** Replace an existing file. */
	force?: boolean;
	memoryMiB?: number;
	printk?: boolean;
	quiet?: boolean;
	verbose?: boolean;
	signal?: AbortSignal;
	/** Make the same image from the same inputs, every timestamp this epoch's. */
	reproducible?: Reproducible;
}

/** A partition as made. */
export interface MadePartition {
	/** 1, 2…; 0 for the bare filesystem of table "none". */
	readonly number: number;
	readonly part: PartAsked;
	readonly start: number;
	readonly size: number;
	/** What its sources hold, when its size was made to measure. */
	readonly content?: Content;
}

export interface MadeImage {
	readonly size: number;
	readonly partitions: readonly MadePartition[];
}

const roundMiB = (n: number) => Math.ceil(n / MiB) * MiB;

interface Planned {
	readonly part: PartAsked;
	readonly kinds: readonly SourceKind[];
	content?: Content;
	/** Bytes, or undefined for the rest of the disk. */
	size?: number;
}

/** Checks the sources and tools, and measures what is made to measure. */
async function plan(spec: ImageAsked): Promise<Planned[]> {
	const planned: Planned[] = [];
	for (const part of spec.parts) {
		if (part.fs !== 'none')
			needTool(TOOLS[part.fs], `a ${part.fs} filesystem`);
		const kinds: SourceKind[] = [];
		for (const source of part.from)
			kinds.push(await sourceKind(source));
		planned.push({ part, kinds });
	}
	for (const [i, p] of planned.entries()) {
		const auto = p.part.size === 'auto' || (p.part.size === 'rest' && spec.size === 'auto');
		if (p.part.fs === 'none' && auto)
			throw new SpecError(`partition ${i + 1}: an unformatted partition has no content to size it by: give it a size, or the image one`);
		if (p.part.fs === 'none' || !auto) {
			p.size = typeof p.part.size === 'number' ? p.part.size : undefined;
			continue;
		}
		const content = emptyContent();
		for (const [k, source] of p.part.from.entries()) {
			try {
				await measureSource(source, p.kinds[k]!, content);
			} catch (err) {
				throw new SpecError(`${source}: ${describe(err)}`);
			}
		}
		p.content = content;
		p.size = autoSize(p.part.fs, content);
	}
	return planned;
}

/** The IDs of a reproducible image, from the digests of its sources. */
async function idsOf(opts: MkimageOptions, planned: Planned[], epoch: number): Promise<ImageIds> {
	if (planned.some((p) => p.part.fs !== 'none'))
		needFaketime('a reproducible image');
	const digests: Buffer[][] = [];
	for (const p of planned) {
		const list: Buffer[] = [];
		for (const [k, source] of p.part.from.entries()) {
			try {
				list.push(await digestSource(source, p.kinds[k]!));
			} catch (err) {
				throw new SpecError(`${source}: ${describe(err)}`);
			}
		}
		digests.push(list);
	}
	return imageIds(opts.spec, epoch, { uid: opts.uid, gid: opts.gid }, digests);
}

/** Where each filesystem goes, and the table's bytes; a SpecError if they do not fit. */
function layout(spec: ImageAsked, planned: Planned[], ids?: ImageIds): { size: number; table?: BuiltTable } {
	if (spec.table === 'none') {
		const size = planned[0]!.size!;
		return { size };
	}
	let size: number;
	if (spec.size === 'auto') {
		// 1 MiB for the table before the first partition, each partition
		// on whole MiB, an EBR's MiB before each logical one, and 1 MiB
		// after the last for the backup GPT.
		const logical = spec.table === 'mbr' && planned.length > 4 ? planned.length - 3 : 0;
		size = MiB + planned.reduce((sum, p) => sum + roundMiB(p.size!), 0) + logical * MiB + (spec.table === 'gpt' ? MiB : 0);
	} else {
		size = spec.size;
	}
	const partitions = planned.map((p, i) => ({
		size: p.size, type: p.part.type, name: p.part.name, guid: ids?.partitionGuid(i) ?? randomUUID(), bootable: p.part.bootable,
	}));
	try {
		const table = spec.table === 'gpt'
			? buildGpt({ diskSize: size, diskGuid: ids?.diskGuid ?? randomUUID(), partitions })
			: buildMbr({ diskSize: size, diskId: ids?.diskId ?? randomBytes(4).readUInt32LE(0), partitions });
		return { size, table };
	} catch (err) {
		if (err instanceof RangeError)
			throw new SpecError(`the partitions do not fit in ${humanSize(size)}: ${err.message}`);
		throw err;
	}
}

/** The partitions as placed, each checked against the smallest its mkfs makes. */
function placed(spec: ImageAsked, planned: Planned[], size: number, table?: BuiltTable): MadePartition[] {
	const made = planned.map((p, i): MadePartition => {
		const at = table ? table.partitions[i]! : { number: 0, start: 0, size };
		return { number: at.number, part: p.part, start: at.start, size: at.size, content: p.content };
	});
	for (const m of made) {
		if (m.part.fs === 'none')
			continue;
		const min = MIN_BYTES[m.part.fs].mkfs;
		if (m.size < min)
			throw new SpecError(`${whatOf(spec, m)}: ${humanSize(m.size)} is smaller than the smallest ${m.part.fs} filesystem (${humanSize(min)})`);
	}
	return made;
}

function whatOf(spec: ImageAsked, m: MadePartition): string {
	return spec.table === 'none' ? `the ${m.part.fs} filesystem` : `partition ${m.number}${m.part.name ? ` (${m.part.name})` : ''}`;
}

/** Fills each filesystem that has sources, through one kernel with the disk added once. */
async function fill(opts: MkimageOptions, path: string, made: MadePartition[], progress: Progress, ids?: ImageIds): Promise<void> {
	const events = progress.counting({ verbose: opts.verbose, log: (line) => progress.log(line), signal: opts.signal });
	const kernel = Kernel.boot({
		memoryMiB: opts.memoryMiB ?? COPY_MEMORY_MIB, printk: opts.printk,
		...(opts.reproducible && ids ? { epoch: opts.reproducible.epoch, randomSeed: ids.kernelSeed } : {}),
	});
	try {
		const disk = await kernel.addDisk(path);
		for (const m of made) {
			if (m.part.from.length === 0)
				continue;
			const what = `${opts.image} ${whatOf(opts.spec, m)}`;
			let mount;
			try {
				mount = await kernel.mount(disk, {
					partition: m.number || undefined, fsType: m.part.fs,
					...(opts.reproducible ? reproducibleMount(m.part.fs) : {}),
				});
			} catch (err) {
				throw new CliError(`${what}: cannot mount the new ${m.part.fs} filesystem: ${describe(err)}`, 1, { cause: err });
			}
			let failed = false;
			try {
				for (const source of m.part.from) {
					const sink = new ImageSink(mount, { uid: opts.uid, gid: opts.gid });
					const clamped = opts.reproducible ? new ClampedSink(sink, BigInt(opts.reproducible.epoch)) : sink;
					await fillFrom(source, await sourceKind(source), clamped, events);
				}
			} catch (err) {
				failed = true;
				if (opts.signal?.aborted)
					throw opts.signal.reason;
				throw new CliError(`${what}: ${err instanceof CliError ? err.message : describe(err)}`, 1, {
					cause: err,
					advice: codeOf(err) === 'ENOSPC' ? `give ${whatOf(opts.spec, m)} more room, or its size as auto` : undefined,
				});
			} finally {
				await mount.unmount().catch((err: unknown) => {
					if (!failed)
						throw new CliError(`${what}: cannot unmount: ${describe(err)}`, 1, { cause: err });
				});
			}
		}
	} finally {
		await kernel.halt();
	}
}

/** The errno code of an error or of the first of its causes that has one. */
function codeOf(err: unknown): string | undefined {
	for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
		if (typeof e.code === 'string')
			return e.code;
	}
	return undefined;
}

type Events = ReturnType<Progress['counting']>;

async function fillFrom(source: string, kind: SourceKind, sink: SinkTree, events: Events): Promise<void> {
	const top = Buffer.alloc(0);
	if (kind === 'directory') {
		try {
			await copyTree(new HostSource(source), sink, { from: top, to: top, events });
			await sink.close();
		} catch (err) {
			throw new CliError(`${source}: ${err instanceof CopyError ? err.message : describe(err)}`, 1, { cause: err });
		}
		return;
	}
	const archive = openArchive(source, kind);
	try {
		await extractTar(archive.stream, sink, top, events);
		await archive.done();
	} catch (err) {
		// A decompressor that failed says why; the tar reader would only see the stream end.
		const why = await archive.done().then(() => undefined, (e: unknown) => e);
		const cause = why ?? err;
		throw new CliError(`${source}: ${cause instanceof CopyError ? cause.message : describe(cause)}`, 1, { cause });
	} finally {
		archive.close();
	}
}

async function exists(path: string): Promise<boolean> {
	try {
		await fsp.lstat(path);
		return true;
	} catch {
		return false;
	}
}

export async function mkimage(opts: MkimageOptions): Promise<MadeImage> {
	const { spec } = opts;
	let made: MadePartition[];
	let size: number;
	let table: BuiltTable | undefined;
	let ids: ImageIds | undefined;
	try {
		if (!opts.force && await exists(opts.image))
			throw new SpecError(`${opts.image}: already exists (--force replaces it)`);
		const planned = await plan(spec);
		if (opts.reproducible)
			ids = await idsOf(opts, planned, opts.reproducible.epoch);
		({ size, table } = layout(spec, planned, ids));
		made = placed(spec, planned, size, table);
	} catch (err) {
		if (err instanceof SpecError)
			throw new CliError(err.message, 1, { cause: err });
		throw err;
	}

	const tmp = `${opts.image}.tmp-${randomBytes(3).toString('hex')}`;
	let file;
	try {
		file = await fsp.open(tmp, 'wx', 0o666);
	} catch (err) {
		throw new CliError(`${opts.image}: cannot create ${tmp}: ${describe(err)}`, 1, { cause: err });
	}
	const progress = await Progress.open(`making ${opts.image}`, { quiet: opts.quiet });
	try {
		try {
			await file.truncate(size);
			for (const w of table?.writes ?? [])
				await file.write(w.data, 0, w.data.length, w.offset);
		} finally {
			await file.close();
		}
		for (const [i, m] of made.entries()) {
			if (m.part.fs === 'none')
				continue;
			try {
				await formatFilesystem({
					image: tmp, offset: m.start, size: m.size, wholeFile: spec.table === 'none', fs: m.part.fs,
					label: m.part.label, mkfsOptions: m.part.mkfsOptions,
					inodes: m.content && m.part.fs === 'ext4' ? ext4Inodes(m.content, m.size) : undefined,
					clusters4k: Boolean(m.content) && m.part.fs === 'vfat',
					ids: ids?.format(i),
				}, `${tmp}.part${m.number}`);
			} catch (err) {
				throw new CliError(`${opts.image} ${whatOf(spec, m)}: cannot format it: ${describe(err)}`, 1, { cause: err });
			}
			if (opts.signal?.aborted)
				throw opts.signal.reason;
		}
		if (made.some((m) => m.part.from.length)) {
			const ext4 = opts.reproducible ? made.filter((m) => m.part.fs === 'ext4' && m.part.from.length) : [];
			const writes = await Promise.all(ext4.map((m) => lifetimeWrites(tmp, m.start)));
			await fill(opts, tmp, made, progress, ids);
			for (const [i, m] of ext4.entries()) {
				if (writes[i] !== undefined)
					await restoreLifetimeWrites(tmp, m.start, writes[i]!);
			}
		}
		const done = await fsp.open(tmp, 'r+');
		try {
			await done.sync();
		} finally {
			await done.close();
		}
		await fsp.rename(tmp, opts.image);
	} catch (err) {
		await fsp.rm(tmp, { force: true });
		throw err;
	} finally {
		progress.stop();
	}
	return { size, partitions: made };
}

/** The summary: the image, then a line per partition (what --size auto counted, too). */
export function summary(image: string, spec: ImageAsked, made: MadeImage): string[] {
	const lines = [`${image}: ${spec.table === 'none' ? 'no partition table' : spec.table.toUpperCase()}, ${humanSize(made.size)}`];
	for (const m of made.partitions) {
		const where = spec.table === 'none' ? '  filesystem' : `  ${m.number}${m.part.name ? ` ${m.part.name}` : ''}`;
		const content = m.content ? ` (made to measure: ${humanSize(m.content.bytes)} of data in ${m.content.entries} entries)` : '';
		lines.push(`${where}: ${m.part.fs}, ${humanSize(m.size)} at ${humanSize(m.start)}${m.part.from.length ? `, from ${m.part.from.join(', ')}` : ''}${content}`);
	}
	return lines;
}
