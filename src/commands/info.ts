/**
 * lkl info: what an image holds (partition table, filesystems, their
 * use, the operating system), as text or as --json.  The work is in
 * src/image/info.ts.
 */
import { Command, Option } from 'commander';
import { CliError, describe } from '../cli/errors.js';
import { imageInfo, type ImageInfo } from '../image/info.js';
import { infoText } from '../image/info-text.js';
import { PartitionTableError } from '../image/partition-table.js';
import { inUse, parsePositive } from './image.js';

export interface InfoCommandOptions {
	json?: boolean;
	memoryMiB?: number;
	printk?: boolean;
	waitLock?: boolean;
}

/** @info as `--json` prints it: the schema in docs/commands.md. */
export function infoJson(info: ImageInfo): string {
	return `${JSON.stringify(info, null, 2)}\n`;
}

async function failure(image: string, err: unknown): Promise<CliError> {
	if (err instanceof PartitionTableError)
		return new CliError(`cannot read the partition table of ${image}: ${err.message}`, 1, { cause: err });
	if ((err as { code?: string }).code === 'EBUSY')
		return inUse({ image, readOnly: true }, err);
	return new CliError(`cannot open ${image}: ${describe(err)}`, 1, { cause: err });
}

/** Prints what @image holds; throws a CliError when there is nothing to show. */
export async function info(image: string, opts: InfoCommandOptions = {}): Promise<ImageInfo> {
	let result: ImageInfo;
	try {
		result = await imageInfo(image, opts);
	} catch (err) {
		throw await failure(image, err);
	}
	// A disk with no table whose one volume cannot be read holds nothing to show.
	const whole = result.volumes[0];
	if (!result.table && !whole?.filesystem)
		throw new CliError(`cannot read ${image}: no partition table, and no filesystem the kernel recognises`);
	if (!result.table && whole?.error)
		throw new CliError(`cannot read ${image}: ${whole.error}`);
	process.stdout.write(opts.json ? infoJson(result) : infoText(result));
	return result;
}

export function register(program: Command): void {
	program
		.command('info')
		.summary('show an image\'s partitions, filesystems and operating system')
		.description('Show what a disk or filesystem image holds: its partition table (GPT or\n' +
			'MBR) and partitions, and for each the filesystem\'s type, label, UUID, size\n' +
			'and use, and the operating system on it (from /etc/os-release).  Each\n' +
			'filesystem is mounted read-only by the kernel; the image is never written.')
		.argument('<image>', 'the disk or filesystem image')
		.option('--json', 'print JSON (the schema is in docs/commands.md)')
		.option('-p, --enable-printk', 'show the kernel\'s console messages')
		.option('--wait-lock', 'if another program is writing the image, wait for it to stop rather than fail')
		.addOption(new Option('-m, --mb <n>', 'kernel memory in MiB').argParser(parsePositive('--mb')).default(64))
		.addHelpText('after', '\nExamples:\n' +
			'  lkl info disk.img\n' +
			'  lkl info --json disk.img | jq -r \'.volumes[].filesystem.uuid\'')
		.action(async (image: string, o: Record<string, unknown>) => {
			await info(image, {
				json: Boolean(o.json),
				memoryMiB: o.mb as number,
				printk: Boolean(o.enablePrintk),
				waitLock: Boolean(o.waitLock),
			});
		});
}
