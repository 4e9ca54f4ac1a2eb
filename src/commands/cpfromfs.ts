/**
 * lkl cpfromfs: copy files out of a filesystem image to the host, like
 * cp -a.  Every name from the image is treated as hostile: nothing is
 * written outside the destination, and symlinks from the image are made
 * as symlinks and never followed (see HostSink).
 */
import { basename, dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { copyTree, measureTrees } from '../copy/engine.js';
import { HostSink } from '../copy/hostfs-tree.js';
import { ImageSource } from '../copy/image-tree.js';
import { CliError } from '../cli/errors.js';
import { Progress } from '../cli/progress.js';
import { pathArgument } from '../cli/path-argument.js';
import { addImageOptions, imageOptionValues, openImage } from './image.js';
import { hostSide, imageSide, joinDest, plan } from './cp.js';
import type { CopyResult } from './cptofs.js';

export interface CpfromfsOptions {
	image: string;
	/** Paths inside the image. */
	sources: string[];
	/** Destination on the host. */
	dest: string;
	fsType?: string;
	partition?: number;
	printk?: boolean;
	memoryMiB?: number;
	/** Wait while another program has the image open, rather than fail. */
	waitLock?: boolean;
	quiet?: boolean;
	verbose?: boolean;
	log?: (line: string) => void;
}

export interface CpfromfsResult extends CopyResult {
	/** Counts of what a non-root user could not recreate. */
	warnings: { chown: number; mknod: number; xattr: number };
}

export async function cpfromfs(opts: CpfromfsOptions): Promise<CpfromfsResult> {
	const session = await openImage({ ...opts, readOnly: true });
	const progress = await Progress.open(`copying out of ${opts.image}`, { quiet: opts.quiet });
	const log = opts.log ?? ((line: string) => progress.log(line));
	const warnings = { chown: 0, mknod: 0, xattr: 0 };
	const events = progress.counting({ verbose: opts.verbose, log });
	try {
		const copies = await plan(opts.sources, opts.dest, imageSide(session.mount), hostSide);
		const source = new ImageSource(session.mount);
		const froms = copies.map((c) => pathArgument('a source', c.name ? joinDest(c.dir, c.name) : c.dir));
		await progress.measure(() => measureTrees(froms.map((from) => ({ source, from }))));
		for (const [i, c] of copies.entries()) {
			const to = resolve(c.to);
			const sink = new HostSink(dirname(to));
			await copyTree(source, sink, {
				from: froms[i],
				to: Buffer.from(basename(to)),
				events,
			});
			await sink.close();
			warnings.chown += sink.warnings.chown;
			warnings.mknod += sink.warnings.mknod;
			warnings.xattr += sink.warnings.xattr;
		}
	} finally {
		progress.stop();
		await session.close();
	}
	if (warnings.chown)
		log(`lkl: warning: kept your own owner on ${warnings.chown} entries (only root can give files away, and only to ids its user namespace maps)`);
	if (warnings.mknod)
		log(`lkl: warning: skipped ${warnings.mknod} device nodes (only root can create them)`);
	if (warnings.xattr)
		log(`lkl: warning: could not set ${warnings.xattr} extended attributes here (trusted.* needs root; the destination may lack xattrs)`);
	return { entries: progress.entries, bytes: progress.bytes, warnings };
}

export function register(program: Command): void {
	addImageOptions(program
		.command('cpfromfs')
		.summary('copy files out of a filesystem image')
		.description('Copy files from a filesystem image to the host, like cp -a.  Nothing is ever\n' +
			'written outside the destination, whatever the image holds.  As non-root, owners\n' +
			'and device nodes that cannot be recreated are summarised in one warning each.'), 'read', true)
		.argument('[paths...]', 'sources inside the image, then the host destination')
		.requiredOption('-i, --input <image>', 'the filesystem or disk image to read')
		.option('-q, --quiet', 'no progress line')
		.option('-v, --verbose', 'list entries as they are copied')
		.addHelpText('after', '\nExamples:\n' +
			'  lkl cpfromfs -i disk.img /etc/passwd /etc/group ./out/\n' +
			'  lkl cpfromfs -i disk.img -P 1 /var/log/. ./logs\n' +
			'  lkl cpfromfs -i disk.img "/home/*" ./homes')
		.action(async (paths: string[], o: Record<string, unknown>) => {
			if (paths.length < 2)
				throw new CliError('give one or more sources inside the image and a host destination', 2);
			await cpfromfs({
				image: o.input as string,
				sources: paths.slice(0, -1),
				dest: paths[paths.length - 1],
				...imageOptionValues(o),
				quiet: Boolean(o.quiet),
				verbose: Boolean(o.verbose),
			});
		});
}
