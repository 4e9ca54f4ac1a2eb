/**
 * lkl cptofs: copy host files into a filesystem image, preserving
 * everything (cp -a), or unpack a tar stream into it (--tar).  The image
 * is synced and unmounted cleanly, so it is fsck-clean afterwards.
 * With SOURCE_DATE_EPOCH or --reproducible, copying the same sources into
 * two copies of one image leaves them the same, byte for byte.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import { Command, Option } from 'commander';
import { ClampedSink } from '../copy/clamped-sink.js';
import { copyTree, CopyError, measureTrees } from '../copy/engine.js';
import { HostSource } from '../copy/hostfs-tree.js';
import { ImageSink } from '../copy/image-tree.js';
import { extractTar } from '../copy/tar-source.js';
import { CliError, describe } from '../cli/errors.js';
import { reproducibleFrom, reproducibleMount, seedOf, type Reproducible } from '../cli/reproducible.js';
import { Progress } from '../cli/progress.js';
import { pathArgument } from '../cli/path-argument.js';
import { stopOnSignals } from '../cli/stop-signals.js';
import type { Mount } from '../index.js';
import { fileSource, sizeOf } from '../image/byte-source.js';
import { readPartitionTable } from '../image/partition-table.js';
import { lifetimeWrites, restoreLifetimeWrites } from '../image/ext4-lifetime-writes.js';
import { probe } from '../image/probe.js';
import { addImageOptions, imageOptionValues, openImage } from './image.js';
import { hostSide, imageSide, plan } from './cp.js';

export interface CptofsOptions {
	image: string;
	sources: string[];
	/** Destination inside the image. */
	dest: string;
	/** A tar archive to unpack at dest instead of sources ("-" = stdin). */
	tar?: string;
	fsType?: string;
	partition?: number;
	printk?: boolean;
	memoryMiB?: number;
	/** Wait while another program has the image open, rather than fail. */
	waitLock?: boolean;
	uid?: number;
	gid?: number;
	selinux?: string;
	quiet?: boolean;
	verbose?: boolean;
	log?: (line: string) => void;
	/** After the copy, discard the free blocks: they become holes in the image. */
	trim?: boolean;
	/** Stops the copy at the next entry or chunk, with the signal's reason; the image is still unmounted cleanly. */
	signal?: AbortSignal;
	/** Write the same bytes on every run: every new timestamp this epoch's, the kernel's random numbers seeded. */
	reproducible?: Reproducible;
}

/*
 * A reproducible copy's boot.  The kernel's random numbers (inode
 * generations) follow from the epoch alone: they need not differ between
 * filesystems, and the copy makes no UUIDs.
 */
function reproducibleBoot(r: Reproducible | undefined): { epoch: number; randomSeed: Buffer } | undefined {
	return r && { epoch: r.epoch, randomSeed: seedOf('lkl kernel random seed', String(r.epoch)) };
}

/*
 * Where the filesystem to write starts in the image, and what it is (-t,
 * or else as blkid would name it): a reproducible mount's options depend
 * on it, and must be given at the mount.  Undefined when nothing is
 * known: the mount then says what is wrong.
 */
async function volumeOf(opts: CptofsOptions): Promise<{ offset: number; type?: string } | undefined> {
	let file;
	try {
		file = await open(opts.image, 'r');
		const src = fileSource(file, await sizeOf(file));
		const part = opts.partition ? (await readPartitionTable(src))?.partitions.find((p) => p.number === opts.partition) : undefined;
		if (opts.partition && !part)
			return undefined;
		const offset = part?.start ?? 0;
		return { offset, type: opts.fsType ?? (await probe(src, offset, part?.size ?? src.size))?.type };
	} catch {
		return undefined;
	} finally {
		await file?.close();
	}
}

export interface CopyResult {
	entries: number;
	bytes: number;
}

export async function cptofs(opts: CptofsOptions): Promise<CopyResult> {
	const volume = opts.reproducible && await volumeOf(opts);
	const mount = opts.reproducible && reproducibleMount(volume ? volume.type : opts.fsType);
	const writes = volume && volume.type === 'ext4' ? await lifetimeWrites(opts.image, volume.offset) : undefined;
	const session = await openImage({
		...opts, readOnly: false, boot: reproducibleBoot(opts.reproducible),
		mountFlags: mount ? mount.flags : undefined, mountOptions: mount ? mount.options : undefined,
	});
	const progress = await Progress.open(`copying into ${opts.image}`, { quiet: opts.quiet });
	const log = opts.log ?? ((line: string) => progress.log(line));
	const events = progress.counting({ verbose: opts.verbose, log, signal: opts.signal });
	const image = new ImageSink(session.mount, { uid: opts.uid, gid: opts.gid, selinux: opts.selinux });
	const sink = opts.reproducible ? new ClampedSink(image, BigInt(opts.reproducible.epoch)) : image;
	let failed = false;
	try {
		if (opts.tar !== undefined) {
			const input = opts.tar === '-' ? process.stdin : createReadStream(opts.tar);
			// A stop must also end a wait for input (stdin from a pipe that
			// has not written yet), not only the copy between entries.
			if (opts.signal)
				addAbortSignal(opts.signal, input);
			try {
				await extractTar(input, sink, pathArgument('the destination', opts.dest), events);
			} catch (err) {
				// Failures at an entry name it; the rest are the archive's.
				if (err instanceof CopyError)
					throw err;
				throw new CliError(`${opts.tar === '-' ? 'standard input' : opts.tar}: ${describe(err)}`, 1, { cause: err });
			}
		} else {
			const copies = await plan(opts.sources, opts.dest, hostSide, imageSide(session.mount));
			await progress.measure(() => measureTrees(copies.map((c) => ({ source: new HostSource(c.dir), from: Buffer.from(c.name) }))));
			for (const c of copies) {
				const source = new HostSource(c.dir);
				await copyTree(source, sink, {
					from: Buffer.from(c.name),
					to: pathArgument('the destination', c.to),
					events,
				});
			}
			await sink.close();	// what it still holds back
		}
		if (opts.trim)
			await trim(session.mount, opts.image);
	} catch (err) {
		failed = true;
		// Stopped: the reason, not the entry it happened to stop at.
		throw opts.signal?.aborted ? opts.signal.reason : err;
	} finally {
		progress.stop();
		// Unmounting syncs: even a failed copy leaves a clean filesystem.
		await session.close().catch((err) => {
			if (!failed)
				throw err;
		});
	}
	if (volume && writes !== undefined)
		await restoreLifetimeWrites(opts.image, volume.offset, writes);
	return { entries: progress.entries, bytes: progress.bytes };
}

// Free blocks out of the image file: those of files the copy replaced,
// and any the image held before.
async function trim(mount: Mount, image: string): Promise<void> {
	try {
		await mount.trim();
	} catch (err) {
		throw new CliError(`${image}: copied, but cannot trim: ${describe(err)}`, 1, { cause: err });
	}
}

export function parseId(name: string): (value: string) => number {
	return (value: string) => {
		const n = Number(value);
		if (!Number.isInteger(n) || n < 0 || n > 0xfffffffe)
			throw new CliError(`${name} must be a numeric id, not ${JSON.stringify(value)}`, 2);
		return n;
	};
}

export function register(program: Command): void {
	addImageOptions(program
		.command('cptofs')
		.summary('copy host files into a filesystem image')
		.description('Copy files from the host into a filesystem image, like cp -a: modes, owners,\n' +
			'nanosecond times, xattrs, ACLs, hard links, symlinks, devices and fifos are kept.\n' +
			'A source ending in / or /. copies a directory\'s contents; a glob in the last\n' +
			'component is matched on the host.  With --tar, unpack an archive instead.'), 'write', false)
		.argument('[paths...]', 'host sources, then the destination inside the image')
		.requiredOption('-i, --input <image>', 'the filesystem or disk image to write')
		.addOption(new Option('-o, --owner <uid>', 'owner of everything written').argParser(parseId('--owner')))
		.addOption(new Option('-g, --group <gid>', 'group of everything written').argParser(parseId('--group')))
		.option('-s, --selinux <context>', 'SELinux label for everything written')
		.option('--tar <archive>', 'unpack this tar archive (or - for standard input) at the destination')
		.option('--trim', 'after the copy, punch the filesystem\'s free blocks out of the image file (as fstrim)')
		.option('-q, --quiet', 'no progress line')
		.option('-v, --verbose', 'list entries as they are copied')
		.option('--reproducible', 'write the same bytes on every run: times SOURCE_DATE_EPOCH\'s (default 0) at the latest')
		.addHelpText('after', '\nExamples:\n' +
			'  lkl cptofs -i disk.img build/out/. /opt/app\n' +
			'  lkl cptofs -i disk.img -o 0 -g 0 etc/*.conf /etc\n' +
			'  tar c -C rootfs . | lkl cptofs -i disk.img --tar - /')
		.action(async (paths: string[], o: Record<string, unknown>) => {
			const tar = o.tar as string | undefined;
			if (tar !== undefined && paths.length !== 1)
				throw new CliError('with --tar, give only the destination inside the image', 2);
			if (tar === undefined && paths.length < 2)
				throw new CliError('give one or more sources and a destination inside the image', 2);
			const reproducible = reproducibleFrom(Boolean(o.reproducible));
			await cptofs({
				image: o.input as string,
				sources: paths.slice(0, -1),
				dest: paths[paths.length - 1],
				tar,
				...imageOptionValues(o),
				uid: o.owner as number | undefined,
				gid: o.group as number | undefined,
				selinux: o.selinux as string | undefined,
				trim: Boolean(o.trim),
				quiet: Boolean(o.quiet),
				verbose: Boolean(o.verbose),
				reproducible,
				signal: stopOnSignals(`what was copied so far is written back to ${o.input as string}, which is clean`),
			});
		});
}
