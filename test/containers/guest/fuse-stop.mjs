// SPDX-License-Identifier: GPL-2.0
//
// Run inside a container as its command (PID 1), then stopped from
// outside with `podman stop`: a build script that has mounted an image
// with `lkl lklfuse` and written to it when the pipeline is cancelled.
// It writes four files: one fsync()ed, one synced with `sync FILE`
// (which fsyncs it), one followed by a plain `sync` (syncfs of every
// filesystem), one neither; prints "ready" once they are written, and
// waits.
//
// Usage: node fuse-stop.mjs <image> <mountpoint> plain|unmount-on-term
//   plain            does nothing about SIGTERM: as PID 1 without a
//                    handler it never sees it, and podman's SIGKILL after
//                    the grace period ends everything, the server too
//   unmount-on-term  on SIGTERM runs `lkl unmount` and exits 143, as a
//                    script that cleans up after itself does
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

const [image, mnt, mode] = process.argv.slice(2);

function lkl(args) {
	const r = spawnSync('lkl', args, { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
	if (r.status !== 0) {
		process.stderr.write(`lkl ${args.join(' ')}: ${r.status ?? r.signal}: ${r.stderr}`);
		process.exit(1);
	}
}

lkl(['lklfuse', image, mnt]);
const fd = fs.openSync(`${mnt}/fsynced.txt`, 'w');
fs.writeSync(fd, 'fsynced before the stop\n');
fs.fsyncSync(fd);
fs.closeSync(fd);
fs.writeFileSync(`${mnt}/sync-file.txt`, 'synced with sync FILE before the stop\n');
spawnSync('sync', [`${mnt}/sync-file.txt`]);
fs.writeFileSync(`${mnt}/sync-all.txt`, 'followed by a plain sync before the stop\n');
spawnSync('sync');
fs.writeFileSync(`${mnt}/unsynced.txt`, 'neither\n');
if (mode === 'unmount-on-term') {
	process.on('SIGTERM', () => {
		lkl(['unmount', mnt]);
		process.stdout.write('unmounted\n');
		process.exit(143);
	});
}
process.stdout.write('ready\n');
setInterval(() => {}, 1 << 30);
