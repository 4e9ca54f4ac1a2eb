// The kernel's life: one boot per process, halt unmounts everything and
// ends it for good, and a process that forgets to halt still leaves its
// images clean.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { buildImage, fsck, makeTree, tempDir } from '../helpers/tree.mjs';

t.setTimeout(120_000);

const dir = tempDir(t);
const tree = makeTree(join(dir, 'tree'), 'vfat').root;
const img = buildImage('ext4', tree, join(dir, 'a.img'));
const indexUrl = new URL('../../dist/src/index.js', import.meta.url).href;

t.test('one kernel per process', async (t) => {
	t.equal(Kernel.current, undefined);
	const kernel = Kernel.boot({ memoryMiB: 64, printk: false, bootArgs: '' });
	t.equal(Kernel.current, kernel);
	t.equal(kernel.halted, false);
	t.throws(() => Kernel.boot(), { code: 'ERR_LKL_BOOTED', message: /already running/ });

	const disk = await kernel.addDisk(img);
	t.same(kernel.disks, [disk]);
	const mount = await kernel.mount(disk);
	const handle = await mount.open('hello.txt', 'r+');
	await handle.write('HELLO', 0);
	await mount.writeFile('written.txt', 'before halt\n');
	// Settled either way before the halt can reject it unhandled.
	const reading = mount.readFile('big.bin').then((data) => data.length, (e) => e.code);

	await kernel.halt();
	t.equal(kernel.halted, true);
	t.same(kernel.mounts, [], 'halt unmounted everything');
	const read = await reading;
	t.ok(read === 3 << 20 || read === 'EINTR', `a call in flight finished, or ended with EINTR (${read})`);
	t.equal(handle.fd, -1, 'open files were closed');

	await t.rejects(mount.stat('hello.txt'), { code: 'ERR_LKL_HALTED', message: /halted/ });
	t.throws(() => mount.readdirSync('/'), { code: 'ERR_LKL_HALTED' });
	await t.rejects(handle.read(Buffer.alloc(1), 0, 1, 0), { code: 'ERR_LKL_HALTED' });
	await t.rejects(kernel.addDisk(img), { code: 'ERR_LKL_HALTED' });
	await t.rejects(kernel.mount(disk), { code: 'ERR_LKL_HALTED' });
	t.throws(() => Kernel.boot(), { code: 'ERR_LKL_HALTED', message: /cannot boot again/ });
	await kernel.halt();
	t.pass('halting twice is harmless');

	const check = fsck('ext4', img);
	t.ok(check.ok, 'halt left a clean filesystem', { output: check.output });
});

t.test('a process that never halts still leaves a clean image', async (t) => {
	const img2 = buildImage('ext4', tree, join(dir, 'b.img'));
	const script = `
		import { Kernel } from ${JSON.stringify(indexUrl)};
		const k = Kernel.boot();
		const m = await k.mount(await k.addDisk(${JSON.stringify(img2)}));
		await m.writeFile('left-behind.txt', 'no halt\\n');
		await m.mkdir('made');`;
	const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
	t.equal(r.status, 0, r.stderr);
	const check = fsck('ext4', img2);
	t.ok(check.ok, 'the kernel halted on its own before exit', { output: check.output });
	const k = spawnSync(process.execPath, ['--input-type=module', '-e', `
		import { Kernel } from ${JSON.stringify(indexUrl)};
		const k = Kernel.boot();
		const m = await k.mount(await k.addDisk(${JSON.stringify(img2)}, { readOnly: true }));
		console.log(await m.readFile('left-behind.txt', 'utf8'));
		await k.halt();`], { encoding: 'utf8' });
	t.equal(k.stdout, 'no halt\n\n', 'and the data is there');
});
