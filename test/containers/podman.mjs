// SPDX-License-Identifier: GPL-2.0
//
// Helpers for the container tests: lkl in real containers (podman, root
// or rootless), the way a build pipeline gets it.  The images come from
// scripts/container-image.sh (Debian 12 minbase from debootstrap, with
// node, and one with fuse3; nothing from a registry).  On top of them
// each test file builds its own images with podman build: the npm
// package installed by `npm install -g` from its tarball, as
// test/containers/Containerfile.npm (the Containerfile
// docs/containers.md shows) does, and the single-file executable in an
// image without node.  Everything a file makes (containers, images) is
// named after the file and its pid, since tap runs two files at once, and
// is removed when its test ends, passed or failed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import { REPO } from '../helpers/cli.mjs';
import { tempDir, undoAtEnd } from '../helpers/machine.mjs';

export { REPO };

/**
 * On every podman run and build.  runc: crun refuses this machine's
 * cgroup set-up.  The ulimits: podman's defaults are above this
 * machine's hard limits.  No network: lkl needs none, and the tests must
 * not reach anything.
 */
export const RUN_FLAGS = ['--runtime', 'runc', '--network', 'none',
	'--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];

/** What lklfuse needs in a container: the device and the capability. */
export const FUSE_FLAGS = ['--device', '/dev/fuse', '--cap-add', 'SYS_ADMIN'];

/** This file's name, for the names of what it makes. */
const FILE = basename(process.argv[1] ?? 'test', '.test.mjs').replace(/[^a-z0-9-]/g, '-');
let serial = 0;

/** A name no other test file (or run) uses: lkl-ct-<file>-<pid>-<what>-<n>. */
export function uniqueName(what) {
	return `lkl-ct-${FILE}-${process.pid}-${what}-${++serial}`;
}

/**
 * Runs podman (or `cmd`) to its end: { status, signal, stdout, stderr },
 * as text.  `user` and `env` run it as another user (rootless), with
 * runuser and only that environment.
 */
export function podman(args, { input, timeout = 300_000, user, env, cwd, stdin } = {}) {
	const argv = user ? ['runuser', '-u', user, '--', 'env', '-i', ...Object.entries(env ?? {}).map(([k, v]) => `${k}=${v}`), 'podman', ...args]
		: ['podman', ...args];
	const r = spawnSync(argv[0], argv.slice(1), {
		input, cwd, encoding: 'utf8', timeout, killSignal: 'SIGKILL', maxBuffer: 1 << 28,
		stdio: stdin === undefined ? undefined : [stdin, 'pipe', 'pipe'],
		env: user ? undefined : { ...process.env, NODE_OPTIONS: '' },
	});
	return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Like podman(), but throws with its output unless it exits 0. */
export function podmanOk(args, options) {
	const r = podman(args, options);
	if (r.status !== 0)
		throw new Error(`podman ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}${r.error ?? ''}`);
	return r.stdout;
}

/** Why podman cannot be used here, or undefined. */
export function noPodman() {
	if (process.getuid() !== 0)
		return 'the container tests run as root (podman\'s system store, debootstrap)';
	const r = spawnSync('podman', ['--version'], { encoding: 'utf8' });
	if (r.error || r.status !== 0)
		return `podman does not run: ${r.error ?? r.stderr}`;
	return undefined;
}

let built;

/**
 * The images of scripts/container-image.sh, made or imported if need be:
 * { base, fuse } (references), and { baseTar, fuseTar }, the root
 * tarballs they were imported from.
 */
export function images() {
	if (built)
		return built;
	const r = spawnSync('bash', [join(REPO, 'scripts/container-image.sh'), '--tarballs'], {
		encoding: 'utf8', timeout: 1_800_000, stdio: ['ignore', 'pipe', 'pipe'],
	});
	if (r.status !== 0)
		throw new Error(`scripts/container-image.sh failed (${r.status ?? r.signal}):\n${r.stderr}`);
	const lines = Object.fromEntries(r.stdout.trim().split('\n').map((l) => {
		const [name, ref, tar] = l.split(' ');
		return [name, { ref, tar }];
	}));
	built = {
		base: lines['lkl-test-base'].ref, baseTar: lines['lkl-test-base'].tar,
		fuse: lines['lkl-test-fuse'].ref, fuseTar: lines['lkl-test-fuse'].tar,
	};
	return built;
}

let packed;

/** The npm package, packed from this clone once per file: its path. */
export function npmPackage(t) {
	if (packed)
		return packed;
	const dir = tempDir(t, 'lkl-ct-pack-');
	const r = spawnSync('npm', ['pack', '--json', '--pack-destination', dir], {
		cwd: REPO, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' },
	});
	if (r.status !== 0)
		throw new Error(`npm pack failed:\n${r.stderr}`);
	packed = join(dir, JSON.parse(r.stdout)[0].filename);
	return packed;
}

/** Removes an image when `t` ends. */
export function removeImageAtEnd(t, ref, runner = {}) {
	undoAtEnd(t, `the image ${ref}`, () => {
		const r = podman(['rmi', '-f', ref], { ...runner, timeout: 120_000 });
		if (r.status !== 0 && !/image not known/.test(r.stderr))
			throw new Error(`podman rmi -f ${ref}: ${r.stderr}`);
	});
}

/**
 * podman build of `containerfile` (text) in a context directory holding
 * `files` ({ name: host path }), as `tag`; the image is removed when `t`
 * ends.  `volumes` are bind mounts for its RUN steps.
 */
export function build(t, { tag, containerfile, files = {}, buildArgs = {}, volumes = [], runner = {} }) {
	const ctx = tempDir(t, 'lkl-ct-build-');
	fs.chmodSync(ctx, 0o755);
	for (const [name, path] of Object.entries(files))
		fs.copyFileSync(path, join(ctx, name));
	fs.writeFileSync(join(ctx, 'Containerfile'), containerfile);
	if (runner.user)
		spawnSync('chown', ['-R', runner.user, ctx]);
	removeImageAtEnd(t, tag, runner);
	podmanOk(['build', ...RUN_FLAGS, '--pull=never', '--quiet',
		...Object.entries(buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
		...volumes.flatMap((v) => ['--volume', v]),
		'--tag', tag, '--file', join(ctx, 'Containerfile'), ctx], { ...runner, timeout: 600_000 });
	return tag;
}

/** The Containerfile docs/containers.md shows for the npm package. */
export const NPM_CONTAINERFILE = fs.readFileSync(new URL('Containerfile.npm', import.meta.url), 'utf8');

/**
 * lkl from its npm package, installed by `npm install -g` in an image
 * built FROM `from` (one of images()), as Containerfile.npm does it.
 *
 * Our images have node but no npm (a user's node base image has both):
 * npm comes in for the build only, the host's own, bind-mounted read-only
 * with a two-line `npm` on PATH that runs it.  That is closest to what
 * users do: the package is installed inside the image by npm, which runs
 * there (links its bin, sets modes), as a Containerfile's RUN does; what
 * is left in the image is lkl alone.  Installing on the host and
 * mounting the result in would test less: it would never show what npm
 * does in the image.
 */
export function npmImage(t, from, runner = {}) {
	const tag = uniqueName('npm');
	const npmBin = tempDir(t, 'lkl-ct-npm-bin-');
	fs.writeFileSync(join(npmBin, 'npm'), '#!/bin/sh\nexec node /usr/lib/node_modules/npm/bin/npm-cli.js "$@"\n', { mode: 0o755 });
	fs.chmodSync(npmBin, 0o755);
	return build(t, {
		tag,
		containerfile: NPM_CONTAINERFILE,
		files: { 'lkl-0.1.0.tgz': npmPackage(t) },
		buildArgs: { BASE: from },
		volumes: ['/usr/lib/node_modules/npm:/usr/lib/node_modules/npm:ro', `${npmBin}:/usr/local/bin:ro`],
		runner,
	});
}

/** The single-file executable built for this machine. */
export const SEA = join(REPO, 'build', 'sea', `lkl-linux-${process.arch}`);

/**
 * The single-file executable as /usr/local/bin/lkl in an image FROM
 * `from` with node taken out: a stand-in for debian:bookworm-slim, which
 * has none.
 */
export function seaImage(t, from, runner = {}) {
	return build(t, {
		tag: uniqueName('sea'),
		containerfile: `FROM ${from}\nRUN rm /usr/bin/node\nCOPY lkl /usr/local/bin/lkl\n`,
		files: { lkl: SEA },
		runner,
	});
}

/**
 * podman run, attached, to the container's end: { status, stdout, stderr }
 * (status: the container's exit code).  The container is named and
 * removed when `t` ends, whatever happened.
 */
export function runIn(t, image, cmd, { flags = [], timeout = 300_000, input, runner = {} } = {}) {
	const name = uniqueName('run');
	removeContainerAtEnd(t, name, runner);
	return podman(['run', ...RUN_FLAGS, '--name', name, ...flags, image, ...cmd], { timeout, input, ...runner });
}

/** Removes a container (podman rm -f) when `t` ends. */
export function removeContainerAtEnd(t, name, runner = {}) {
	undoAtEnd(t, `the container ${name}`, () => {
		const r = podman(['rm', '-f', '-t', '0', name], { ...runner, timeout: 120_000 });
		if (r.status !== 0 && !/no such container/i.test(r.stderr))
			throw new Error(`podman rm -f ${name}: ${r.stderr}`);
	});
}

/** A directory for a container to work in (bind-mounted as /w), removed at the end. */
export function workDir(t, prefix = 'lkl-ct-') {
	const dir = tempDir(t, prefix);
	fs.chmodSync(dir, 0o755);
	return dir;
}

/** Asserts a command's result: status 0 and nothing on stderr. */
export function clean(t, r, what) {
	t.equal(r.status, 0, `${what} exits 0${r.status === 0 ? '' : ` (${r.status ?? r.signal}): ${r.error ?? ''}${r.stderr}`}`);
	t.equal(r.stderr, '', `${what} prints nothing on stderr`);
}
