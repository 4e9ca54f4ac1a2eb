/**
 * lkl hijack: run a program with the library kernel's network stack in
 * place of the host's (liblkl-hijack.so through LD_PRELOAD), configured
 * by the classic JSON file.  The wrapper script of old, as a subcommand:
 * it finds the library, checks the configuration file is there, and
 * execs nothing itself: the program runs as a child, and its exit status
 * (or signal) becomes ours.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { CliError, UsageError } from '../cli/errors.js';
import { packageRoot } from '../lkl/package-root.js';

export interface HijackOptions {
	/** The program and its arguments. */
	argv: string[];
	/** The JSON configuration; else LKL_HIJACK_CONFIG_FILE, ./lkl-hijack.json, LKL_HIJACK_*. */
	config?: string;
}

const LIBRARY = 'liblkl-hijack.so';

/**
 * The library: $LKL_HIJACK_LIBRARY, a development build's, or the one
 * shipped for this platform.
 */
export function hijackLibrary(): string {
	const tuple = `${process.platform}-${process.arch}`;
	const candidates = [
		process.env.LKL_HIJACK_LIBRARY,
		join(packageRoot, 'build', 'native', LIBRARY),
		join(packageRoot, 'prebuilds', tuple, LIBRARY),
	].filter((p): p is string => !!p);
	const found = candidates.find((p) => existsSync(p));
	if (!found)
		throw new CliError(`cannot find ${LIBRARY} (looked for ${candidates.join(', ')})`, 1, {
			advice: 'build it in a clone with npm run build (it needs the network kernel: LKL_VARIANT=net bash linux/build.sh)',
		});
	return resolve(found);
}

/** The environment of the program: the library first in LD_PRELOAD. */
export function hijackEnv(o: HijackOptions, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
	const env = { ...base };
	const library = hijackLibrary();
	env.LD_PRELOAD = env.LD_PRELOAD ? `${library}:${env.LD_PRELOAD}` : library;
	if (o.config) {
		const config = resolve(o.config);
		if (!existsSync(config))
			throw new CliError(`${o.config}: no such file or directory`);
		env.LKL_HIJACK_CONFIG_FILE = config;
	}
	return env;
}

/** Runs the program; resolves with the exit status a shell would give. */
export async function hijack(o: HijackOptions): Promise<number> {
	if (!o.argv.length)
		throw new UsageError('no program to run');
	const env = hijackEnv(o);
	const child = spawn(o.argv[0]!, o.argv.slice(1), { stdio: 'inherit', env });
	// The terminal's signals reach the program itself; we only wait.
	const ignore = (): void => {};
	for (const s of ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const)
		process.on(s, ignore);
	return await new Promise<number>((done, fail) => {
		child.on('error', (err: NodeJS.ErrnoException) => {
			fail(new CliError(`cannot run ${o.argv[0]}: ${err.code === 'ENOENT' ? 'no such program' : err.message}`,
				err.code === 'ENOENT' ? 127 : 126, { cause: err }));
		});
		child.on('exit', (code, signal) => {
			done(code ?? 128 + (signal ? constants.signals[signal] : 0));
		});
	});
}

export function register(program: Command): void {
	// The program's own options are its, not ours (lkl hijack ping -c 3):
	// commander passes them through only when the parent parses options
	// by position, which changes nothing for lkl's other commands (lkl has
	// no options of its own but --version and --help).
	program.enablePositionalOptions();
	program
		.command('hijack')
		.summary('run a program on the library kernel\'s network stack')
		.description('Run a program with the network stack of the Linux kernel in this\n' +
			'package in place of the host\'s: its sockets (TCP, UDP, IPv6, netlink,\n' +
			'packet) live in a kernel inside the program, which reaches the outside\n' +
			'through a tap, macvtap or raw interface, with its own addresses, routes,\n' +
			'qdiscs and sysctls.  Files, the terminal and Unix sockets stay the\n' +
			'host\'s.  Configured by the classic JSON file (docs/hijack.md): -c, else\n' +
			'$LKL_HIJACK_CONFIG_FILE, else ./lkl-hijack.json, else LKL_HIJACK_*.')
		.argument('<program...>', 'the program and its arguments (put -- before them if they start with -)')
		.option('-c, --config <file>', 'the JSON configuration file')
		.passThroughOptions()
		.addHelpText('after', '\nExamples:\n' +
			'  lkl hijack -c net.json -- ip addr show     the kernel\'s interfaces, through netlink\n' +
			'  lkl hijack -c net.json -- ping -c 3 10.0.0.1\n' +
			'  lkl hijack -c net.json -- iperf3 -s        a server on the library kernel\'s TCP\n' +
			'\nA minimal net.json, for a tap made beforehand (ip tuntap add dev tap0 mode tap):\n' +
			'  { "interfaces": [ { "type": "tap", "param": "tap0",\n' +
			'                      "ip": "10.0.0.2", "masklen": "24" } ],\n' +
			'    "gateway": "10.0.0.1" }')
		.action(async (argv: string[], opts: { config?: string }) => {
			process.exitCode = await hijack({ argv, config: opts.config });
		});
}
