/**
 * lkl unmount: fusermount3 -u, then wait for the lklfuse server to finish.
 *
 * FUSE's unmount returns as soon as the kernel has let go of the mount
 * point; the server then still syncs, unmounts the filesystem in its own
 * kernel and writes the image back.  A build step that copies or checks
 * the image right after fusermount3 -u can see it half written.  This
 * command returns only once the server has exited.
 */
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { basename, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { CliError, describe } from '../cli/errors.js';

export interface UnmountOptions {
	mountpoint: string;
	/** Called once if the server takes a while, to say what we wait for. */
	onWait?: (pid: number) => void;
}

/** The lklfuse-server processes serving @mountpoint (an absolute real path). */
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

async function running(pid: number): Promise<boolean> {
	try {
		await fsp.access(`/proc/${pid}`);
		return true;
	} catch {
		return false;
	}
}

export async function unmount(o: UnmountOptions): Promise<void> {
	let mountpoint: string;
	try {
		mountpoint = await fsp.realpath(o.mountpoint);
	} catch (err) {
		throw new CliError(`cannot unmount ${o.mountpoint}: ${describe(err)}`, 1, { cause: err });
	}
	const servers = await serversOf(mountpoint);
	const r = spawnSync('fusermount3', ['-u', mountpoint], { encoding: 'utf8' });
	if (r.error)
		throw new CliError(`cannot run fusermount3: ${describe(r.error)}`, 1, { cause: r.error });
	if (r.status !== 0) {
		const why = r.stderr.trim().split('\n').pop()?.replace(/^fusermount3: /, '') ?? `status ${r.status}`;
		throw new CliError(`cannot unmount ${o.mountpoint}: ${why}`);
	}
	const started = Date.now();
	let told = false;
	for (const pid of servers) {
		while (await running(pid)) {
			if (!told && Date.now() - started > 2000) {
				o.onWait?.(pid);
				told = true;
			}
			await sleep(20);
		}
	}
}

export function register(program: Command): void {
	program
		.command('unmount')
		.summary('unmount an lklfuse mount and wait until the image is written back')
		.description('Unmount a mount made by lkl lklfuse (fusermount3 -u) and return only once its\n' +
			'server has synced, unmounted the filesystem and exited, so that the image is\n' +
			'complete and can be copied or checked.  fusermount3 -u alone returns earlier.')
		.argument('<mountpoint>', 'where the image is mounted')
		.addHelpText('after', '\nExamples:\n' +
			'  lkl lklfuse disk.img ~/mnt && cp -r out/. ~/mnt/ && lkl unmount ~/mnt && e2fsck -fn disk.img')
		.action(async (mountpoint: string) => {
			await unmount({
				mountpoint,
				// On a terminal only: a script wants silence on success.
				onWait: (pid) => process.stderr.isTTY && process.stderr.write(`lkl: waiting for the lklfuse server (pid ${pid}) to write the image back\n`),
			});
		});
}
