/**
 * The lkl command line: commander wiring only.  Each command's work is in
 * its module under src/commands, callable without a terminal.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { report } from './cli/errors.js';
import { register as fs2tar } from './commands/fs2tar.js';
import { register as cptofs } from './commands/cptofs.js';
import { register as cpfromfs } from './commands/cpfromfs.js';
import { register as lklfuse } from './commands/lklfuse.js';
import { register as unmount } from './commands/unmount.js';

// A reader that goes away (lkl --help | head) ends us quietly, as SIGPIPE
// ends tar or cat, rather than with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
	if (err.code === 'EPIPE')
		process.exit(141);
	throw err;
});

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('lkl')
	.description('Read and write Linux filesystem images without root, through the Linux kernel\n' +
		'itself running inside this process (ext4, btrfs, xfs, vfat).')
	.version(pkg.version)
	.exitOverride()
	.configureOutput({ outputError: (str, write) => write(str.startsWith('error: ') ? `lkl: ${str.slice(7)}` : str) })
	.addHelpText('after', '\nExamples:\n' +
		'  lkl fs2tar disk.img rootfs.tar         archive an image\n' +
		'  lkl cptofs -i disk.img out/. /opt      copy host files in\n' +
		'  lkl cpfromfs -i disk.img /etc ./etc    copy files out\n' +
		'  lkl lklfuse disk.img ~/mnt             mount it with FUSE, as any user\n' +
		'  lkl unmount ~/mnt                      unmount it once the image is written back\n' +
		'  lkl <command> --help                   every option of a command');

fs2tar(program);
cptofs(program);
cpfromfs(program);
lklfuse(program);
unmount(program);

try {
	await program.parseAsync(process.argv);
} catch (err) {
	if (err instanceof CommanderError)
		process.exitCode = err.exitCode === 0 ? 0 : 2;
	else
		process.exitCode = report(err);
}
