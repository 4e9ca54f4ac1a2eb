// A program that opens an image through the API and keeps it until its
// standard input ends: `node hold-image.mjs IMAGE ro|rw [wait]`.  It prints
// "held" once the disk is added, or "error CODE" and exits 1; at the end
// of its input it halts and exits 0.  The image-lock tests use it as a
// holder and as an opener beside the commands.
import { Kernel } from '../../dist/src/index.js';

const [image, mode, wait] = process.argv.slice(2);
const kernel = Kernel.boot({ memoryMiB: 32 });
try {
	await kernel.addDisk(image, { readOnly: mode === 'ro', waitForLock: wait === 'wait' });
} catch (err) {
	process.stdout.write(`error ${err.code}\n`);
	await kernel.halt();
	process.exit(1);
}
process.stdout.write('held\n');
process.stdin.resume();
process.stdin.on('end', async () => {
	await kernel.halt();
	process.exit(0);
});
