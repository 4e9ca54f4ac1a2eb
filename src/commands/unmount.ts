/**
 * lkl unmount: fusermount3 -u, then wait for the lklfuse server to finish.
 *
 * FUSE's unmount returns as soon as the kernel has let go of the mount
 * point; the server then still syncs, unmounts the filesystem in its own
 * kernel and writes the image back.  A build step that copies or checks
 * the image right after fusermount3 -u can see it half written.  This
 * command returns only once the server has let go of the image: it waits
 * for the lock the server holds on it until its process ends (see
 * src/lkl/image-locks.ts), never for longer than --timeout.
 */
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { basename, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import { CliError, describe } from '../cli/errors.js';
import { currentLocks, lockFileId, type FileId } from '../lkl/image-locks.js';
import { fuseMountAt } from '../fuse/mounts.js';

export interface UnmountOptions {
	mountpoint: string;
	/** How long to wait for the server to let go of the image; 60 s. */
	timeoutMs?: number;
	/** Called once if the server takes a while, to say what we wait for. */
	onWait?: (what: string) => void;
}

/**
 * The lklfuse-server processes serving @mountpoint (an absolute real
 * path): what is waited for when the image's lock cannot be (a
 * filesystem without such locks, or -o fsname= naming something else).
 */
async function serversOf(mountpoint: string): Promise<number[]> {
	const pids: number[] = [];
	for (const name of await fsp.readdir('/proc')) {
		if (!/^\d+$/.test(name))
			continue;
		try {
			const argv = (await fsp.readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0');
			if (basename(argv[0] ?? '') !== 'lklfuse-server' || !argv[2])
				continue;
			// The server got the mount point as its launcher was given it.
			const cwd = await fsp.readlink(`/proc/${name}/cwd`);
			if (await fsp.realpath(resolve(cwd, argv[2])).catch(() => undefined) === mountpoint)
				pids.push(Number(name));
		} catch {
			// Gone, or not ours to look at.
		}
	}
	return pids;
}

/** Still running: a zombie has let go of everything, the image too. */
async function running(pid: number): Promise<boolean> {
	try {
		const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
		return !/^\S+ \(.*\) [ZX] /s.test(stat);
	} catch {
		return false;
	}
}

/** The image of an lklfuse mount, and how many locks are on it now. */
async function lockedImage(mountpoint: string): Promise<{ path: string; id: FileId; locks: number } | undefined> {
	const mount = await fuseMountAt(mountpoint);
	if (!mount?.source.startsWith('/'))
		return undefined;
	try {
		const id = await lockFileId(mount.source);
		const locks = await currentLocks(id);
		return locks ? { path: mount.source, id, locks } : undefined;
	} catch {
		return undefined;
	}
}

const BUSY_RETRY_MS = 3000;

export async function unmount(o: UnmountOptions): Promise<void> {
	let mountpoint: string;
	try {
		mountpoint = await fsp.realpath(o.mountpoint);
	} catch (err) {
		throw new CliError(`cannot unmount ${o.mountpoint}: ${describe(err)}`, 1, { cause: err });
	}
	const image = await lockedImage(mountpoint);
	const servers = image ? [] : await serversOf(mountpoint);
	const started = Date.now();
	const timeoutMs = o.timeoutMs ?? 60_000;
	// A mount that its last user has just left can still be busy for a
	// moment (seen after a find over it ended: busy, and a second later
	// not): tried again for up to BUSY_RETRY_MS, within the timeout.
	for (;;) {
		const r = spawnSync('fusermount3', ['-u', mountpoint], { encoding: 'utf8' });
		if (r.error)
			throw new CliError(`cannot run fusermount3: ${describe(r.error)}`, 1, { cause: r.error });
		if (r.status === 0)
			break;
		const why = r.stderr.trim().split('\n').pop()?.replace(/^fusermount3: /, '') ?? `status ${r.status}`;
		const waited = Date.now() - started;
		if (!/resource busy/i.test(why) || waited >= Math.min(BUSY_RETRY_MS, timeoutMs))
			throw new CliError(`cannot unmount ${o.mountpoint}: ${why}`);
		await sleep(100);
	}

	const what = image ? `the lklfuse server to let go of ${image.path}` : `the lklfuse server (pid ${servers.join(', ')})`;
	let told = false;
	// A read-only image may have other readers' locks on it too: ours is
	// gone when the count falls (a read-write mount's lock is exclusive).
	const busy = image ? async () => await currentLocks(image.id) >= image.locks
		: async () => (await Promise.all(servers.map(running))).some(Boolean);
	while (await busy()) {
		const waited = Date.now() - started;
		if (waited > timeoutMs)
			throw new CliError(`${o.mountpoint} is unmounted, but after ${Math.round(waited / 1000)} s still waiting for ${what} ` +
				'(it may still be writing the image back: wait longer with --timeout <seconds>)');
		if (!told && waited > 2000) {
			o.onWait?.(what);
			told = true;
		}
		await sleep(5);
	}
}

function parseSeconds(text: string): number {
	const n = Number(text);
	if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0))
		throw new InvalidArgumentError('a number of seconds above 0');
	return n;
}

export function register(program: Command): void {
	program
		.command('unmount')
		.summary('unmount an lklfuse mount and wait until the image is written back')
		.description('Unmount a mount made by lkl lklfuse (fusermount3 -u) and return only once its\n' +
			'server has synced, unmounted the filesystem and exited, so that the image is\n' +
			'complete and can be copied or checked.  fusermount3 -u alone returns earlier.')
		.argument('<mountpoint>', 'where the image is mounted')
		.option('--timeout <seconds>', 'give up waiting for the image after this long, with status 1', parseSeconds, 60)
		.addHelpText('after', '\nExamples:\n' +
			'  lkl lklfuse disk.img ~/mnt && cp -r out/. ~/mnt/ && lkl unmount ~/mnt && e2fsck -fn disk.img')
		.action(async (mountpoint: string, opts: { timeout: number }) => {
			await unmount({
				mountpoint,
				timeoutMs: opts.timeout * 1000,
				// On a terminal only: a script wants silence on success.
				onWait: (what) => process.stderr.isTTY && process.stderr.write(`lkl: waiting for ${what}\n`),
			});
		});
}
