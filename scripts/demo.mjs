// Boots the kernel, mounts the image given on the command line read-only
// and prints its tree, as `ls -lR` would show the essentials.
import { Kernel } from '../dist/src/index.js';

const image = process.argv[2];
const started = performance.now();
const kernel = Kernel.boot();
const disk = await kernel.addDisk(image, { readOnly: true });
const mount = await kernel.mount(disk, { readOnly: true });
console.log(`${image}: ${mount.fsType}, kernel booted and mounted in ` +
	`${(performance.now() - started).toFixed(0)} ms`);

async function list(dir, depth) {
	const entries = await mount.readdir(dir, { withFileTypes: true });
	entries.sort((a, b) => a.name.localeCompare(b.name));
	for (const entry of entries) {
		const path = dir === '/' ? `/${entry.name}` : `${dir}/${entry.name}`;
		const st = await mount.lstat(path);
		const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
		let line = `${'  '.repeat(depth)}${mode} ${String(st.size).padStart(8)} ${entry.name}`;
		if (entry.isSymbolicLink())
			line += ` -> ${await mount.readlink(path)}`;
		console.log(line);
		if (entry.isDirectory())
			await list(path, depth + 1);
	}
}

await list('/', 0);
await mount.unmount();
await kernel.halt();
