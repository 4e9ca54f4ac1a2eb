// addDisk locks its image: two disks of one image in one kernel, one of
// them writing, would write over each other or read what is being
// written, as two processes would.  A writer's lock is exclusive, a
// reader's shared; waitForLock waits for the holder to let go, and its
// signal ends the wait; removeDisk lets go.
import { join } from 'node:path';
import t from 'tap';
import { Kernel, lockHolder } from '../../dist/src/index.js';
import { fsck, run, tempDir } from '../helpers/tree.mjs';

t.setTimeout(120_000);

const dir = tempDir(t, 'lkl-api-lock-');
const img = join(dir, 'a.img');
run('truncate', ['-s', '64M', img]);
run('mkfs.ext4', ['-q', '-F', img]);

const kernel = Kernel.boot({ memoryMiB: 32 });
t.teardown(() => kernel.halt());

const settled = (p) => Promise.race([p.then(() => true, () => true), new Promise((r) => setTimeout(() => r(false), 300))]);

t.test('a writer excludes every other opener, readers share', async (t) => {
	const writer = await kernel.addDisk(img);
	for (const readOnly of [false, true]) {
		await t.rejects(kernel.addDisk(img, { readOnly }), {
			code: 'EBUSY', syscall: 'open', path: img,
		}, `a second disk of the image${readOnly ? ', read-only,' : ''} is refused`);
	}
	t.same(await lockHolder(img), { pid: process.pid, command: 'node', writing: true }, 'lockHolder names this process, writing');
	await kernel.removeDisk(writer);
	t.equal(await lockHolder(img), undefined, 'removeDisk lets go');

	const r1 = await kernel.addDisk(img, { readOnly: true });
	const r2 = await kernel.addDisk(img, { readOnly: true });
	t.pass('two read-only disks of the image');
	t.same(await lockHolder(img), { pid: process.pid, command: 'node', writing: false }, 'held to read');
	await t.rejects(kernel.addDisk(img), { code: 'EBUSY' }, 'a writer is refused beside them');

	const waiting = kernel.addDisk(img, { waitForLock: true });
	t.equal(await settled(waiting), false, 'waitForLock waits while they hold it');
	await kernel.removeDisk(r1);
	t.equal(await settled(waiting), false, 'and while one still does');
	await kernel.removeDisk(r2);
	const disk = await waiting;
	const mount = await kernel.mount(disk);
	await mount.writeFile('after-wait', 'ok\n');
	await mount.unmount();
	await kernel.removeDisk(disk);
	t.ok(fsck('ext4', img).ok, 'e2fsck clean');
});

t.test('a signal ends the wait', async (t) => {
	const holder = await kernel.addDisk(img, { readOnly: true });
	const controller = new AbortController();
	const waiting = kernel.addDisk(img, { waitForLock: true, signal: controller.signal });
	t.equal(await settled(waiting), false, 'it waits');
	controller.abort();
	await t.rejects(waiting, { name: 'AbortError' }, 'abort ends it with an AbortError');
	await t.rejects(kernel.addDisk(img, { signal: AbortSignal.abort() }), { name: 'AbortError' },
		'an aborted signal fails at once');
	await kernel.removeDisk(holder);
	const disk = await kernel.addDisk(img);
	t.equal(kernel.disks.length, 1, 'nothing left behind: the image opens again');
	await kernel.removeDisk(disk);
});
