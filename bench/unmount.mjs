#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0
//
// How long `lkl unmount` takes to notice that the lklfuse server is done,
// where nothing reaps it: inside a container whose PID 1 is node (no
// --init), the server adopted by PID 1 stays a zombie after it exits, and
// unmount waits for the lock it held on the image (src/commands/
// unmount.ts), polling /proc/locks.
//
// In the container, each round mounts an ext4 image with `lkl lklfuse`,
// writes 8 MiB through the mount, then runs `lkl unmount` while a worker
// thread reads /proc/<server>/stat in a tight loop and notes when its
// state turns Z (or it vanishes).  Figures per round, on one clock
// (process.hrtime, shared by the threads):
//   exit -> return   from the server's exit to `lkl unmount` returning
//                    (what unmount's wait costs; should be under 100 ms)
//   unmount total    from starting `lkl unmount` to its return
//                    (node start-up, fusermount3 -u, the server's
//                    write-back and halt, the wait)
//
// Usage: node bench/unmount.mjs [--reps N]      (as root, on the host)
// Needs npm run build first, and podman (scripts/container-image.sh makes
// the image; the npm package is installed in it as users do).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (ns) => Number(ns) / 1e6;

/** The worker: polls the server's state until it has exited. */
function watch() {
	const path = `/proc/${workerData.pid}/stat`;
	for (;;) {
		let state = 'gone';
		try {
			state = /^\d+ \(.*\) (\S)/s.exec(fs.readFileSync(path, 'latin1'))[1];
		} catch {}
		if (state === 'Z' || state === 'X' || state === 'gone') {
			parentPort.postMessage({ exited: process.hrtime.bigint(), state });
			return;
		}
	}
}

function serverPid() {
	for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
		try {
			const m = /^\d+ \((.*)\) (\S)/s.exec(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
			if (m[1] === 'lklfuse-server' && m[2] !== 'Z')
				return Number(pid);
		} catch {}
	}
	throw new Error('no running lklfuse-server');
}

function lkl(args) {
	const r = spawnSync('lkl', args, { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
	if (r.status !== 0)
		throw new Error(`lkl ${args.join(' ')}: ${r.status ?? r.signal}: ${r.stderr}`);
}

/** In the container, as PID 1: the rounds; one JSON line per round. */
async function guest(image, mnt, reps) {
	if (process.pid !== 1)
		throw new Error('meant to run as PID 1 in a container');
	const data = Buffer.alloc(8 << 20, 0x5a);
	for (let i = 0; i < reps; i++) {
		lkl(['lklfuse', image, mnt]);
		fs.writeFileSync(join(mnt, `round-${i}`), data);
		const pid = serverPid();
		const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { pid } });
		await new Promise((resolve) => worker.once('online', resolve));
		const started = process.hrtime.bigint();
		lkl(['unmount', mnt]);
		const returned = process.hrtime.bigint();
		const { exited, state } = await new Promise((resolve) => worker.once('message', resolve));
		await worker.terminate();
		process.stdout.write(`${JSON.stringify({ round: i, state, exitToReturnMs: ms(returned - exited), totalMs: ms(returned - started) })}\n`);
	}
}

function run(cmd, argv, options = {}) {
	const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 26, ...options });
	if (r.status !== 0)
		throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
	return r.stdout;
}

/** On the host: image, package, container; the figures. */
function host(reps) {
	const repo = fileURLToPath(new URL('..', import.meta.url));
	const podmanFlags = ['--runtime', 'runc', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];
	const work = fs.mkdtempSync(join(tmpdir(), 'lkl-bench-unmount-'));
	const tag = `localhost/lkl-bench-unmount-${process.pid}`;
	const name = `lkl-bench-unmount-${process.pid}`;
	try {
		const fuse = run('bash', [join(repo, 'scripts/container-image.sh')], { stdio: ['ignore', 'pipe', 'inherit'] })
			.split('\n').find((l) => l.startsWith('lkl-test-fuse '))?.split(' ')[1];
		const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo }))[0].filename;
		// npm for the build only, as test/containers/podman.mjs does it.
		fs.mkdirSync(join(work, 'npm-bin'));
		fs.writeFileSync(join(work, 'npm-bin/npm'), '#!/bin/sh\nexec node /usr/lib/node_modules/npm/bin/npm-cli.js "$@"\n', { mode: 0o755 });
		fs.copyFileSync(join(repo, 'test/containers/Containerfile.npm'), join(work, 'Containerfile'));
		run('podman', ['build', ...podmanFlags, '--pull=never', '--quiet', '--build-arg', `BASE=${fuse}`,
			'--volume', '/usr/lib/node_modules/npm:/usr/lib/node_modules/npm:ro', '--volume', `${work}/npm-bin:/usr/local/bin:ro`,
			'--tag', tag, '--file', join(work, 'Containerfile'), work]);
		fs.mkdirSync(join(work, 'w'));
		run('truncate', ['-s', `${64 + reps * 9}M`, join(work, 'w/disk.img')]);
		run('mkfs.ext4', ['-q', '-F', join(work, 'w/disk.img')]);
		const out = run('podman', ['run', ...podmanFlags, '--rm', '--name', name, '--device', '/dev/fuse', '--cap-add', 'SYS_ADMIN',
			'-v', `${work}/w:/w`, '-v', `${dirname(fileURLToPath(import.meta.url))}:/bench:ro`,
			tag, 'node', '/bench/unmount.mjs', '--guest', '/w/disk.img', '/mnt', String(reps)], { timeout: 1_800_000 });
		const rounds = out.trim().split('\n').map((l) => JSON.parse(l));
		for (const r of rounds)
			console.log(`round ${String(r.round).padStart(2)}: server ${r.state}, exit -> return ${r.exitToReturnMs.toFixed(1)} ms, unmount total ${r.totalMs.toFixed(0)} ms`);
		const e = rounds.map((r) => r.exitToReturnMs);
		const tot = rounds.map((r) => r.totalMs);
		console.log(`exit -> return: median ${median(e).toFixed(1)} ms, min ${Math.min(...e).toFixed(1)}, max ${Math.max(...e).toFixed(1)} (${rounds.length} rounds; PID 1 node, the server a zombie each time: ${rounds.every((r) => r.state === 'Z')})`);
		console.log(`unmount total:  median ${median(tot).toFixed(0)} ms, min ${Math.min(...tot).toFixed(0)}, max ${Math.max(...tot).toFixed(0)}`);
		run('e2fsck', ['-fn', join(work, 'w/disk.img')]);
		console.log('e2fsck -fn: clean');
	} finally {
		spawnSync('podman', ['rm', '-f', '-t', '0', name], { stdio: 'ignore' });
		spawnSync('podman', ['rmi', '-f', tag], { stdio: 'ignore' });
		fs.rmSync(work, { recursive: true, force: true });
	}
}

if (!isMainThread)
	watch();
else if (process.argv[2] === '--guest')
	await guest(process.argv[3], process.argv[4], Number(process.argv[5]));
else {
	const args = process.argv.slice(2);
	host(Number(args[args.indexOf('--reps') + 1] || 15));
}
