/**
 * lkl lklfuse: mount an image read-write for an ordinary user with FUSE.
 *
 * The FUSE server is native (native/fuse, on libfuse3's low-level API):
 * its worker threads call the kernel directly, so no request ever waits
 * for this process's event loop.  Here we only check the command line,
 * start the server, wait until the mount serves, and leave it running in
 * the background (or stay in the foreground with -f).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { Command } from 'commander';
import { fuseServerPath } from '../lkl/fuse-server.js';
import { CliError } from '../cli/errors.js';
import { startFailure } from '../fuse/start-failure.js';

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

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function serverArgs(o: LklfuseOptions): string[] {
	// The mount point absolute: the server moves to / once it has
	// mounted, and lkl unmount finds a server by its arguments.
	const args = [o.image, resolve(o.mountpoint)];
	for (const opt of o.options)
		args.push('-o', opt);
	if (o.debug)
		args.push('-d');
	if (o.singleThreaded)
		args.push('-s');
	args.push('-f');	// the server never daemonizes itself: we do
	return args;
}

const EXITED = 'error: the FUSE server exited before the mount was ready';
const LOST = 'error: lost contact with the FUSE server';

/** Reads the readiness line: "ready", or "error: <why>". */
function readiness(pipe: Readable): Promise<string> {
	return new Promise((resolve) => {
		let text = '';
		pipe.setEncoding('utf8');
		pipe.on('data', (d: string) => {
			text += d;
			const nl = text.indexOf('\n');
			if (nl >= 0)
				resolve(text.slice(0, nl));
		});
		pipe.on('end', () => resolve(text.trim() || EXITED));
		pipe.on('error', () => resolve(LOST));
	});
}

/**
 * What the server prints on stderr, kept (the first 16 KiB) to explain a
 * failure, and passed on to ours as it comes if `forward`.
 */
function keepStderr(pipe: Readable, forward: boolean): () => string {
	let text = '';
	pipe.setEncoding('utf8');
	pipe.on('data', (d: string) => {
		if (text.length < 16384)
			text += d;
		if (forward)
			process.stderr.write(d);
	});
	pipe.on('error', () => {});
	return () => text;
}

/**
 * Until the server's stderr has given everything: its end, which a
 * process it started and left running could put off, so not for long.
 */
function drained(pipe: Readable): Promise<void> {
	return new Promise((resolve) => {
		if (pipe.readableEnded || pipe.destroyed)
			return resolve();
		const timer = setTimeout(resolve, 500);
		pipe.once('close', () => {
			clearTimeout(timer);
			resolve();
		});
	});
}

/** The error of a server that did not get its mount ready. */
function notReady(o: LklfuseOptions, line: string, stderr: string): CliError {
	const said = line.startsWith('error: ') && line !== EXITED && line !== LOST ? line.slice(7) : undefined;
	const failure = startFailure(said, stderr);
	const message = failure.advice ? `cannot mount ${o.image} on ${o.mountpoint}: ${failure.cause}` : failure.cause;
	return new CliError(message, 1, { advice: failure.advice });
}

/**
 * Never resolves, and rejects with one line if the server could not be
 * run at all (its file not executable, say): node reports that as an
 * 'error' event, which unheard would crash us with a stack trace.
 */
function spawnFailure(child: ChildProcess, server: string): Promise<never> {
	const failed = new Promise<never>((_resolve, reject) => {
		child.once('error', (err: NodeJS.ErrnoException) =>
			reject(new CliError(`cannot run ${server}: ${err.code ?? err.message}`)));
	});
	// Once the server runs, a later 'error' (a failed kill) is no one's.
	failed.catch(() => {});
	return failed;
}

/** The mount flags a remount may change: the host kernel's, not ours. */
const REMOUNT_FLAGS = new Set([
	'ro', 'rw', 'suid', 'nosuid', 'dev', 'nodev', 'exec', 'noexec', 'sync', 'async',
	'dirsync', 'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime',
	'strictatime', 'nostrictatime', 'lazytime', 'nolazytime',
]);

/**
 * `mount -o remount,ro` of an lklfuse mount runs us (as its mount helper,
 * through mount.fuse3) with "remount" among the options: the mount is
 * there already, served by its server, and only its flags change, which
 * the host kernel does for FUSE (going read-only, it writes back first).
 * So no server: the host's own remount of the mount point, with the
 * flags it knows (mount -i: not through the helper again).
 */
function remount(o: LklfuseOptions, given: string[]): number {
	const flags = given.filter((f) => REMOUNT_FLAGS.has(f));
	const r = spawnSync('mount', ['-i', '-o', ['remount', ...flags].join(','), o.mountpoint], { encoding: 'utf8' });
	if (r.error)
		throw new CliError(`cannot remount ${o.mountpoint}: cannot run mount: ${r.error.message}`);
	if (r.status !== 0) {
		// mount's first line says why; a hint to read dmesg may follow.
		const line = r.stderr.split('\n').map((l) => l.trim()).find((l) => l !== '');
		const why = line?.replace(/^mount: /, '').replace(/^\/[^:]*: /, '') ?? `mount exited with status ${r.status}`;
		throw new CliError(`cannot remount ${o.mountpoint}: ${why}`);
	}
	return 0;
}

/** Mounts; resolves once the mount is live (background) or has ended (-f). */
export async function lklfuse(o: LklfuseOptions): Promise<number> {
	// An escaped comma (\,) belongs to an opts= value, never a flag.
	const given = o.options.flatMap((opt) => opt.split(/(?<!\\),/));
	if (given.includes('remount'))
		return remount(o, given);
	const server = serverPath();
	if (!existsSync(server))
		throw new CliError(`${server} is missing: reinstall lkl, or run npm run build in a clone`);
	if (!existsSync(o.image))
		throw new CliError(`cannot open ${o.image}: no such file or directory`);
	if (!existsSync(o.mountpoint))
		throw new CliError(`cannot mount on ${o.mountpoint}: no such directory`);

	const env = { ...process.env, LKLFUSE_READY_FD: '3' };
	if (o.foreground) {
		// The server's stderr passes through us, so that a failure to
		// start can be explained.
		const child = spawn(server, serverArgs(o), { stdio: ['inherit', 'inherit', 'pipe', 'pipe'], env });
		const failed = spawnFailure(child, server);
		const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
		process.on('SIGINT', forward('SIGINT'));
		process.on('SIGTERM', forward('SIGTERM'));
		const stderr = keepStderr(child.stdio[2] as Readable, true);
		const ready = readiness(child.stdio[3] as Readable);
		// Killed by a signal: 128 + its number, as a shell reports it.
		const code = await Promise.race([failed, new Promise<number>((resolve) => child.on('exit', (c, s) =>
			resolve(c ?? (s ? 128 + (constants.signals[s] ?? 0) : 1))))]);
		const line = await ready;
		await drained(child.stdio[2] as Readable);
		if (code === 0 || !line.startsWith('error: '))
			return code;
		const err = notReady(o, line, stderr());
		// The server has said its error on the stderr it shares with us:
		// once is enough, with the advice, if any, after it.
		if (line !== EXITED && line !== LOST && line !== 'error: exited before the mount was ready') {
			if (err.advice)
				process.stderr.write(`lkl: ${err.advice}\n`);
			return code;
		}
		throw err;
	}

	const child = spawn(server, serverArgs(o), { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env, detached: true });
	const failed = spawnFailure(child, server);
	const stderr = keepStderr(child.stdio[2] as Readable, false);
	// Until it is ready, the server (in a session of its own) is ours to
	// stop: a Ctrl-C during -o wait_lock's wait must not leave it behind
	// to mount later, unasked.
	let stoppedBy: NodeJS.Signals | undefined;
	const stop = (sig: NodeJS.Signals) => {
		stoppedBy ??= sig;
		child.kill('SIGTERM');
	};
	for (const sig of STOP_SIGNALS)
		process.on(sig, stop);
	const line = await Promise.race([failed, readiness(child.stdio[3] as Readable)]);
	for (const sig of STOP_SIGNALS)
		process.off(sig, stop);
	if (stoppedBy && line !== 'ready') {
		await drained(child.stdio[2] as Readable);
		throw new CliError(`stopped by ${stoppedBy} before ${o.mountpoint} was mounted`, 128 + (constants.signals[stoppedBy] ?? 0));
	}
	if (line !== 'ready') {
		child.kill('SIGTERM');
		await drained(child.stdio[2] as Readable);
		if (!line.startsWith('error: '))
			throw new CliError(`the FUSE server said: ${line}`);
		throw notReady(o, line, stderr());
	}
	// From here on the server says nothing worth keeping on stderr (its
	// kernel's messages go to -o log=); it ignores SIGPIPE.
	(child.stdio[2] as Readable).destroy();
	(child.stdio[3] as Readable).destroy();
	child.unref();
	return 0;
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
