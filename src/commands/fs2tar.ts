/**
 * lkl fs2tar: a filesystem image (or one partition of it) to a POSIX pax
 * archive, losing nothing: owners, modes, nanosecond times, every xattr
 * byte for byte, hard links, symlinks, devices and fifos.  Entries are
 * sorted, so one image always gives one archive; with SOURCE_DATE_EPOCH
 * or --reproducible, so do two images of the same files made apart.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Command, Option } from 'commander';
import { minimatch } from 'minimatch';
import { clampTimes } from '../copy/clamped-sink.js';
import { copyTree, measureTree } from '../copy/engine.js';
import { ImageSource } from '../copy/image-tree.js';
import { TarSink } from '../copy/tar-sink.js';
import type { NodeMeta } from '../copy/tree.js';
import { CliError, describe } from '../cli/errors.js';
import { reproducibleFrom, type Reproducible } from '../cli/reproducible.js';
import { Progress } from '../cli/progress.js';
import { pathArgument } from '../cli/path-argument.js';
import { addImageOptions, imageOptionValues, openImage } from './image.js';

export interface Fs2tarOptions {
	image: string;
	/** A path, or "-" for standard output. */
	archive: string;
	fsType?: string;
	partition?: number;
	printk?: boolean;
	memoryMiB?: number;
	/** Wait while another program has the image open, rather than fail. */
	waitLock?: boolean;
	/** Write "path context" lines for every labelled entry here. */
	selinuxContexts?: string;
	/** Archive only this subtree of the filesystem. */
	root?: string;
	exclude?: string[];
	compress?: 'gzip' | 'zstd';
	/** Every entry gets this mtime, and its atime and ctime are recorded as it. */
	mtime?: { sec: bigint; nsec: number };
	/**
	 * What differs between images made apart from the same files is left
	 * out: an mtime later than the epoch becomes the epoch, and each atime
	 * and ctime is recorded as the mtime (clampTimes).
	 */
	reproducible?: Reproducible;
	quiet?: boolean;
	verbose?: boolean;
	/** Where -v lines and warnings go. */
	log?: (line: string) => void;
}

export interface Fs2tarResult {
	entries: number;
	bytes: number;
	skipped: number;
}

/** What no line of the -s file may hold: a newline, or any other control character. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Parses --mtime: "@<seconds>[.frac]", or a date Date.parse reads. */
export function parseMtime(value: string): { sec: bigint; nsec: number } {
	const m = /^@(-?\d+)(?:\.(\d{1,9}))?$/.exec(value);
	if (m)
		return { sec: BigInt(m[1]), nsec: Number((m[2] ?? '').padEnd(9, '0')) };
	const ms = Date.parse(value);
	if (Number.isNaN(ms))
		throw new CliError(`--mtime: cannot read ${JSON.stringify(value)} as a time (try @<seconds> or an ISO date)`, 2);
	return { sec: BigInt(Math.floor(ms / 1000)), nsec: (ms % 1000) * 1e6 };
}

/*
 * The times an entry is archived with: as stored (undefined), every one
 * --mtime's, or, reproducibly, the mtime clamped to the epoch for all
 * three: an image's ctimes are when it was made, and its atimes when its
 * sources were last read, which no rebuild repeats.
 */
function timesOf(opts: Fs2tarOptions): ((m: NodeMeta) => NodeMeta) | undefined {
	const fixed = opts.mtime;
	if (fixed)
		return (m) => ({ ...m, mtime: fixed, atime: fixed, ctime: fixed });
	const epoch = opts.reproducible && BigInt(opts.reproducible.epoch);
	return epoch === undefined ? undefined : (m) => clampTimes(m, epoch);
}

/** The archive file, open (so that a bad path fails here, as one line), or stdout. */
async function openTarget(archive: string): Promise<Writable> {
	if (archive === '-')
		return process.stdout;
	const stream = createWriteStream(archive);
	try {
		await once(stream, 'open');
	} catch (err) {
		throw new CliError(`cannot write ${archive}: ${describe(err)}`, 1, { cause: err });
	}
	return stream;
}

/** Where the archive bytes go, compressed or not; resolves once all is out. */
function openOutput(opts: Fs2tarOptions, target: Writable): { stream: Writable; done: Promise<void> } {
	// The sink writes straight to the target: it refills a buffer once its
	// write has called back, which a PassThrough between them would break.
	if (!opts.compress)
		return { stream: target, done: finished(target) };
	if (opts.compress === 'gzip') {
		const gz = createGzip({ level: 6 });
		return { stream: gz, done: pipeline(gz, target) };
	}
	// Node 20's zlib has no zstd: the zstd program does it.
	const child = spawn('zstd', ['-q', '-c', '-T0'], { stdio: ['pipe', 'pipe', 'inherit'] });
	const exited = new Promise<void>((resolve, reject) => {
		child.on('error', (e) => reject(new CliError(`cannot run zstd: ${describe(e)}`)));
		child.on('close', (code) => (code === 0 ? resolve() : reject(new CliError(`zstd exited with code ${code}`))));
	});
	return { stream: child.stdin, done: Promise.all([pipeline(child.stdout, target), exited]).then(() => undefined) };
}

export async function fs2tar(opts: Fs2tarOptions): Promise<Fs2tarResult> {
	const from = pathArgument('--root', opts.root ?? '');
	const patterns = opts.exclude ?? [];
	const progress = await Progress.open(`archiving ${opts.image}`, { quiet: opts.quiet });
	const log = opts.log ?? ((line: string) => progress.log(line));
	const session = await openImage({ ...opts, readOnly: true });
	let skipped = 0;
	const contexts: string[] = [];

	try {
		const source = new ImageSource(session.mount);
		await progress.measure(() => measureTree(source, from));
		const out = openOutput(opts, await openTarget(opts.archive));
		// Awaited below; a write failure also stops the copy (the sink's
		// stream is destroyed), so it must not go unhandled meanwhile.
		const done = out.done.catch((err: unknown) => {
			throw err instanceof CliError ? err : new CliError(`cannot write ${opts.archive === '-' ? 'standard output' : opts.archive}: ${describe(err)}`, 1, { cause: err });
		});
		done.catch(() => undefined);
		const sink = new TarSink(out.stream);
		const excluded = (path: Buffer): boolean => {
			const p = path.toString();
			return patterns.some((g) => minimatch(p, g, { dot: true, matchBase: !g.includes('/') }));
		};
		const clamp = timesOf(opts);

		await copyTree(source, sink, {
			from,
			to: Buffer.alloc(0),
			skipSockets: true,
			exclude: (path) => path.length > 0 && excluded(path),
			transform: clamp,
			events: {
				...progress.counting({ verbose: opts.verbose, log }),
				skipped(path, _meta, reason) {
					skipped++;
					log(`lkl: warning: skipped ${path.toString()}: ${reason}`);
				},
				xattrs(path, xattrs) {
					const label = xattrs.get('security.selinux');
					if (!label || opts.selinuxContexts === undefined)
						return;
					const line = `/${path.toString()} ${label.toString().replace(/\0+$/, '')}`;
					// One line per entry: a name or label from a crafted image
					// must not add lines of its own.
					if (CONTROL.test(line))
						log(`lkl: warning: left /${path.toString()} out of ${opts.selinuxContexts}: its name or label holds a control character`);
					else
						contexts.push(line);
				},
			},
		});
		try {
			await sink.close();
		} catch (err) {
			await done;	// the write failure, if that is what it was
			throw err;
		}
		await done;
	} finally {
		progress.stop();
		await session.close();
	}
	if (opts.selinuxContexts !== undefined)
		await writeFile(opts.selinuxContexts, contexts.map((l) => `${l}\n`).join(''));
	return { entries: progress.entries, bytes: progress.bytes, skipped };
}

export function register(program: Command): void {
	addImageOptions(program
		.command('fs2tar')
		.summary('archive a filesystem image as a POSIX tar stream')
		.description('Write every file of a filesystem image (or of one partition of a disk\n' +
			'image) to a POSIX pax archive that GNU tar and bsdtar extract faithfully:\n' +
			'owners, modes, nanosecond times, all xattrs (ACLs, SELinux labels,\n' +
			'capabilities) byte for byte, hard links, symlinks, devices and fifos.  Files\n' +
			'with holes are archived as GNU tar sparse entries (tar -xS keeps the holes).\n' +
			'Entries are sorted, so the same image always gives the same archive.'), 'archive', true)
		.argument('<image>', 'the filesystem or disk image')
		.argument('<archive>', 'the tar file to write, or - for standard output')
		.option('-s, --selinux-contexts <file>', 'also write "path context" lines for SELinux-labelled entries')
		.option('--root <path>', 'archive only this directory of the filesystem')
		.option('--exclude <glob>', 'leave out matching paths (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
		.option('-z, --gzip', 'compress with gzip')
		.option('--zstd', 'compress with zstd')
		.option('--mtime <time>', 'give every entry this mtime (@seconds or a date), for reproducible archives')
		.option('--reproducible', 'clamp mtimes to SOURCE_DATE_EPOCH (default 0), atimes and ctimes as mtimes')
		.option('--numeric-owner', 'numeric owners only (always the case: images carry no user names)')
		.option('-q, --quiet', 'no progress line')
		.option('-v, --verbose', 'list entries as they are archived')
		.addHelpText('after', '\nExamples:\n' +
			'  lkl fs2tar disk.img rootfs.tar\n' +
			'  lkl fs2tar -P 2 --zstd disk.img - > rootfs.tar.zst\n' +
			'  lkl fs2tar --root /etc --exclude "*.bak" --mtime @0 disk.img etc.tar')
		.action(async (image: string, archive: string, o: Record<string, unknown>) => {
			if (o.gzip && o.zstd)
				throw new CliError('choose one of --gzip and --zstd', 2);
			const reproducible = reproducibleFrom(Boolean(o.reproducible));
			await fs2tar({
				image,
				archive,
				...imageOptionValues(o),
				selinuxContexts: o.selinuxContexts as string | undefined,
				root: o.root as string | undefined,
				exclude: o.exclude as string[],
				compress: o.gzip ? 'gzip' : o.zstd ? 'zstd' : undefined,
				mtime: o.mtime === undefined ? undefined : parseMtime(o.mtime as string),
				reproducible,
				quiet: Boolean(o.quiet),
				verbose: Boolean(o.verbose),
			});
		});
}
