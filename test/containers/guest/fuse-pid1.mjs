// SPDX-License-Identifier: GPL-2.0
//
// Run inside a container as its command, so that node is PID 1 and, like
// any program that does not expect to be init, never reaps the children
// it adopts.  A build script of this kind mounts an image with
// `lkl lklfuse`, reads or writes through the mount and unmounts it with
// `lkl unmount`.  The lklfuse server, adopted by PID 1 once its launcher
// has exited, stays a zombie after it exits: `lkl unmount` must return
// anyway.  Prints one JSON line of what happened for the test to check.
//
// Usage: node fuse-pid1.mjs <image> <mountpoint> ro|rw
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

const [image, mnt, mode] = process.argv.slice(2);
const out = { pid: process.pid, steps: [] };

function lkl(args) {
	const started = Date.now();
	// A hung command must not hold the container forever.
	const r = spawnSync('lkl', args, { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
	out.steps.push({ args, status: r.status, signal: r.signal, stderr: r.stderr, ms: Date.now() - started });
	return r.status === 0;
}

/** lklfuse-server processes and their state letters (Z: a zombie). */
function servers() {
	const found = [];
	for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
		try {
			const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
			const m = /^\d+ \((.*)\) (\S) (\d+)/s.exec(stat);
			if (m && m[1] === 'lklfuse-server')
				found.push({ pid: Number(pid), state: m[2], ppid: Number(m[3]) });
		} catch {}
	}
	return found;
}

const text = 'written in a container whose PID 1 is node\n';
if (lkl(['lklfuse', ...(mode === 'ro' ? ['-o', 'ro'] : []), image, mnt])) {
	out.serversMounted = servers();
	try {
		out.read = fs.readFileSync(`${mnt}/hello.txt`, 'utf8');
		if (mode === 'rw') {
			fs.writeFileSync(`${mnt}/from-pid1.txt`, text);
			out.wrote = text;
		}
	} catch (err) {
		out.error = String(err);
	}
	lkl(['unmount', mnt]);
	out.serversAfter = servers();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
