/**
 * lkl mkimage: the command line (--table, --size, --part, --spec, and
 * the copy options) of src/image/mkimage-build.ts, which makes the image.
 */
import { Command, Option } from 'commander';
import { CliError } from '../cli/errors.js';
import { notReproducible, reproducibleFrom } from '../cli/reproducible.js';
import { stopOnSignals } from '../cli/stop-signals.js';
import { mkimage, summary } from '../image/mkimage-build.js';
import {
	SpecError, specFromCommandLine, specFromFile, type ImageAsked,
} from '../image/mkimage-spec.js';
import { parseId } from './cptofs.js';
import { COPY_MEMORY_MIB, parsePositive } from './image.js';

export { mkimage, summary, type MadeImage, type MadePartition, type MkimageOptions } from '../image/mkimage-build.js';

function collect(value: string, previous: string[] = []): string[] {
	return [...previous, value];
}

export function register(program: Command): void {
	program
		.command('mkimage')
		.summary('make a disk image with partitions, filesystems and files, as any user')
		.description('Make a disk image: a GPT or MBR partition table (or none), each partition\n' +
			'formatted by its filesystem\'s mkfs and filled from host directories or tar\n' +
			'archives (plain, gzip or zstd) through the kernel, losing nothing.  Owners come\n' +
			'from the sources (an archive\'s as stored), or from --owner and --group.\n' +
			'A partition is [NAME=]TYPE:FS:SIZE[:SOURCE]; with --table none, FS:SIZE[:SOURCE].\n' +
			'TYPE: esp, linux, root, usr, home, swap, xbootldr… or a GUID (MBR: a byte);\n' +
			'FS: ext4, xfs, btrfs, vfat, none; SIZE: 260M, 2G…, auto, or rest (the last).')
		.argument('<image>', 'the image file to make')
		.option('--table <kind>', 'gpt (default), mbr, or none for one bare filesystem')
		.option('--size <size>', 'the image\'s size, or auto (default): what the partitions need')
		.option('--part <spec>', 'a partition, in order (repeat)', collect)
		.option('--spec <file.json>', 'the table, size and partitions from a JSON file')
		.addOption(new Option('-o, --owner <uid>', 'owner of everything written').argParser(parseId('--owner')))
		.addOption(new Option('-g, --group <gid>', 'group of everything written').argParser(parseId('--group')))
		.option('-f, --force', 'replace the image if it exists')
		.option('-p, --enable-printk', 'show the kernel\'s console messages')
		.addOption(new Option('-m, --mb <n>', 'kernel memory in MiB').argParser(parsePositive('--mb')).default(COPY_MEMORY_MIB))
		.option('-q, --quiet', 'no progress line, no summary')
		.option('-v, --verbose', 'list entries as they are copied')
		.option('--reproducible', 'the same inputs make the same image, byte for byte: times SOURCE_DATE_EPOCH\'s (default 0) at the latest')
		.addHelpText('after', '\nExamples:\n' +
			'  lkl mkimage disk.img --part esp:vfat:260M:./boot --part root:ext4:rest:rootfs.tar --size 4G\n' +
			'  SOURCE_DATE_EPOCH=1700000000 lkl mkimage disk.img --part esp:vfat:auto:./boot --part root:ext4:auto:./root\n' +
			'  lkl mkimage disk.img -o 0 -g 0 --part esp:vfat:auto:./boot --part root:xfs:auto:rootfs.tar.zst\n' +
			'  lkl mkimage root.img --table none --part ext4:auto:rootfs.tar.gz\n' +
			'  lkl mkimage disk.img --spec disk.json')
		.action(async (image: string, o: Record<string, unknown>) => {
			const parts = (o.part as string[] | undefined) ?? [];
			const reproducible = reproducibleFrom(Boolean(o.reproducible));
			let spec: ImageAsked;
			try {
				if (o.spec !== undefined) {
					if (parts.length || o.table !== undefined || o.size !== undefined)
						throw new SpecError('--spec: give the table, size and partitions in the file, not also with --table, --size or --part');
					spec = specFromFile(o.spec as string);
				} else {
					spec = specFromCommandLine({ table: o.table as string | undefined, size: o.size as string | undefined, parts });
				}
			} catch (err) {
				if (err instanceof SpecError)
					throw new CliError(err.message, 1, { cause: err });
				throw err;
			}
			for (const fs of new Set(reproducible ? spec.parts.map((p) => p.fs) : [])) {
				const why = notReproducible(fs);
				if (why)
					process.stderr.write(`lkl: warning: ${image}: its ${fs} filesystem will differ from run to run: ${why}\n`);
			}
			const made = await mkimage({
				image,
				spec,
				uid: o.owner as number | undefined,
				gid: o.group as number | undefined,
				force: Boolean(o.force),
				memoryMiB: o.mb as number,
				printk: Boolean(o.enablePrintk),
				quiet: Boolean(o.quiet),
				verbose: Boolean(o.verbose),
				reproducible,
				signal: stopOnSignals(`${image} is not made`),
			});
			if (!o.quiet)
				process.stdout.write(`${summary(image, spec, made).join('\n')}\n`);
		});
}
