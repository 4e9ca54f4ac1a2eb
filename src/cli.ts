/**
 * The lkl command line: commander wiring only.  Each command's work is in
 * its module under src/commands, callable without a terminal.
 */
import { Command, CommanderError } from 'commander';
import { report } from './cli/errors.js';
import { keepYoungGenerationSmall } from './cli/young-generation.js';
import { packageVersion } from './lkl/package-root.js';

// Each command's module, loaded only when it may be the one run: loading
// them all (the copy engine, the addon and the kernel with it) took 0.12 s
// before `lkl lklfuse` could start its server.
const COMMANDS: Record<string, () => Promise<{ register(program: Command): void }>> = {
	fs2tar: () => import('./commands/fs2tar.js'),
	cptofs: () => import('./commands/cptofs.js'),
	cpfromfs: () => import('./commands/cpfromfs.js'),
	lklfuse: () => import('./commands/lklfuse.js'),
	unmount: () => import('./commands/unmount.js'),
	info: () => import('./commands/info.js'),
	mkimage: () => import('./commands/mkimage.js'),
	hijack: () => import('./commands/hijack.js'),
};

// A reader that goes away (lkl --help | head) ends us quietly, as SIGPIPE
// ends tar or cat, rather than with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
	if (err.code === 'EPIPE')
		process.exit(141);
	throw err;
});

// No top-level await: the single-file executable runs this bundled as
// CommonJS, which has none.
async function main(): Promise<void> {
	keepYoungGenerationSmall();
	const program = new Command('lkl')
		.description('Read and write Linux filesystem images without root, through the Linux kernel\n' +
			'itself running inside this process (ext4, btrfs, xfs, vfat and more).')
		.version(packageVersion())
		.exitOverride()
		.configureOutput({ outputError: (str, write) => write(str.startsWith('error: ') ? `lkl: ${str.slice(7)}` : str) })
		.addHelpText('after', '\nExamples:\n' +
			'  lkl fs2tar disk.img rootfs.tar         archive an image\n' +
			'  lkl cptofs -i disk.img out/. /opt      copy host files in\n' +
			'  lkl cpfromfs -i disk.img /etc ./etc    copy files out\n' +
			'  lkl lklfuse disk.img ~/mnt             mount it with FUSE, as any user\n' +
			'  lkl unmount ~/mnt                      unmount it once the image is written back\n' +
			'  lkl info disk.img                      its partitions, filesystems and OS\n' +
			'  lkl mkimage disk.img --part esp:vfat:260M:boot --part root:ext4:auto:rootfs.tar\n' +
			'                                         a whole GPT disk, as any user\n' +
			'  lkl hijack -c net.json -- ip addr      run a program on the library kernel\'s network stack\n' +
			'  lkl <command> --help                   every option of a command');

	// The first argument names the command, or else (help, a mistake)
	// every command is registered, so help and errors stay whole; --version
	// needs none.  Loading a command's module can fail on a machine lkl has
	// no binaries for: that is reported like any other error, in one line.
	const first = process.argv[2] ?? '';
	const names = Object.hasOwn(COMMANDS, first) ? [first]
		: first === '--version' || first === '-V' ? [] : Object.keys(COMMANDS);
	try {
		for (const name of names)
			(await COMMANDS[name]!()).register(program);
		await program.parseAsync(process.argv);
	} catch (err) {
		if (err instanceof CommanderError)
			process.exitCode = err.exitCode === 0 ? 0 : 2;
		else
			process.exitCode = report(err);
	}
}

void main();
