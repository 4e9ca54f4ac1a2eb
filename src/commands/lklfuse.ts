/**
 * lkl lklfuse: mount an image read-write for an ordinary user with FUSE.
 *
 * lklfuse-server (native/fuse, on libfuse3's low-level API) does the whole
 * job, as the classic lklfuse command (bin/lklfuse) runs it: it checks the
 * command line, starts its server in the background and returns once the
 * mount serves, or says why not in one line, with what to do when that is
 * known; with -f it serves in the foreground.  Here it only runs with the
 * same command line, its exit status passed on, so that both commands
 * behave alike; its worker threads call the kernel directly, so no request
 * ever waits for this process's event loop.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { Command } from 'commander';
import { fuseServerPath } from '../lkl/fuse-server.js';
import { CliError } from '../cli/errors.js';
import { loaderFailure, type StartFailure } from '../fuse/start-failure.js';

export interface LklfuseOptions {
	image: string;
	mountpoint: string;
	/** -o options, classic (type=, part=, ro, mb=, opts=, log=) and FUSE's. */
	options: string[];
	foreground?: boolean;
	debug?: boolean;
	singleThreaded?: boolean;
}

export function serverPath(): string {
	return fuseServerPath();
}

/** Passed on to the server, which stops the mount it is starting. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The classic command line, as bin/lklfuse passes it on. */
function serverArgs(o: LklfuseOptions): string[] {
	// A name that starts with - would be taken for an option.
	const name = (path: string) => (path.startsWith('-') ? `./${path}` : path);
	const args = [name(o.image), name(o.mountpoint)];
	for (const opt of o.options)
		args.push('-o', opt);
	if (o.foreground)
		args.push('-f');
	if (o.debug)
		args.push('-d');
	if (o.singleThreaded)
		args.push('-s');
	return args;
}

/**
 * The server's stderr, passed on to ours as it comes; but its first line
 * is held until whole, and if it is the dynamic loader's refusal to run
 * the server without libfuse3, kept back: the failure it tells of, to say
 * in lkl's words.
 */
function passStderr(child: ReturnType<typeof spawn>): () => StartFailure | undefined {
	let held: Buffer[] | undefined = [];
	let failure: StartFailure | undefined;
	const decide = () => {
		const first = Buffer.concat(held!);
		held = undefined;
		failure = loaderFailure(first.toString('utf8'));
		if (!failure)
			process.stderr.write(first);
	};
	child.stderr!.on('data', (d: Buffer) => {
		if (!held) {
			process.stderr.write(d);
			return;
		}
		held.push(d);
		if (d.includes(0x0a))
			decide();
	});
	child.stderr!.on('end', () => {
		if (held)
			decide();
	});
	child.stderr!.on('error', () => {});
	return () => failure;
}

/** Mounts; resolves once the mount is live (background) or has ended (-f). */
export async function lklfuse(o: LklfuseOptions): Promise<number> {
	const server = serverPath();
	if (!existsSync(server))
		throw new CliError(`${server} is missing: reinstall lkl, or run npm run build in a clone`);
	// The server's protocol with a program that reads its ready line: not ours.
	const env = { ...process.env };
	delete env.LKLFUSE_READY_FD;
	const child = spawn(server, serverArgs(o), { stdio: ['inherit', 'inherit', 'pipe'], env });
	const loader = passStderr(child);
	const forward = (sig: NodeJS.Signals) => {
		child.kill(sig);
	};
	for (const sig of STOP_SIGNALS)
		process.on(sig, forward);
	// 'error': it could not be run; or, later, a signal could not be
	// passed on, which its end says enough about.
	const end = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | Error>((resolve) => {
		child.on('error', resolve);
		child.once('close', (code, signal) => resolve({ code, signal }));
	});
	for (const sig of STOP_SIGNALS)
		process.off(sig, forward);
	if (end instanceof Error)
		throw new CliError(`cannot run ${server}: ${(end as NodeJS.ErrnoException).code ?? end.message}`);
	const failure = loader();
	if (failure)
		throw new CliError(`cannot mount ${o.image} on ${o.mountpoint}: ${failure.cause}`, 1, { advice: failure.advice });
	// Killed by a signal: 128 + its number, as a shell reports it.
	return end.code ?? (end.signal ? 128 + (constants.signals[end.signal] ?? 0) : 1);
}

export function register(program: Command): void {
	program
		.command('lklfuse')
		.summary('mount an image with FUSE, read-write, without root')
		.description('Mount a filesystem image (or one partition of a disk image) on a directory, for\n' +
			'the user running this, through FUSE.  Changes go through the kernel\'s own\n' +
			'filesystem code, journal included.  Unmount with fusermount3 -u <mountpoint>.\n\n' +
			'Options (-o, comma-separated): type=<fs> (default: detected), part=<n>, ro,\n' +
			'wait_lock (wait while another program uses the image), discard (freed blocks\n' +
			'become holes in the image), norecovery (with ro: the journal is not\n' +
			'replayed), mb=<MiB of kernel memory>, opts=<kernel mount\n' +
			'options, \\ escapes , and =>, log=<file for kernel messages>, uid=<n>, gid=<n>,\n' +
			'umask=<octal> (what every file shows, the image unchanged), and FUSE\'s own:\n' +
			'allow_other (implies default_permissions), default_permissions, max_read=...\n' +
			'fusermount3 -u returns before the image is written back: lkl unmount\n' +
			'<mountpoint> returns after, so that the image can be copied or checked at once.')
		.argument('<image>', 'the filesystem or disk image')
		.argument('<mountpoint>', 'an existing directory')
		.option('-o, --options <opts>', 'mount options (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
		.option('-f, --foreground', 'stay in the foreground until unmounted')
		.option('-d, --debug', 'print every FUSE request (implies -f)')
		.option('-s, --single-threaded', 'serve one request at a time')
		.addHelpText('after', '\nExamples:\n' +
			'  lkl lklfuse disk.img ~/mnt && ls ~/mnt && fusermount3 -u ~/mnt\n' +
			'  lkl lklfuse -o part=2,ro disk.img ~/mnt\n' +
			'  lklfuse disk.img ~/mnt -o type=btrfs,opts=subvol=home')
		.action(async (image: string, mountpoint: string, o: Record<string, unknown>) => {
			process.exitCode = await lklfuse({
				image,
				mountpoint,
				options: o.options as string[],
				foreground: Boolean(o.foreground) || Boolean(o.debug),
				debug: Boolean(o.debug),
				singleThreaded: Boolean(o.singleThreaded),
			});
		});
}
