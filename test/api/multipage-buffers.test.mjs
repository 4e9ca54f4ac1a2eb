// Buffers of several pages that the kernel must see side by side, which a
// kernel without an MMU could not map (vmap() was BUG(): the process
// died): XFS keeps an extended attribute of more than a block in a buffer
// of several pages.  Written through the API, they must read back whole
// from a fresh kernel, leave xfs_repair nothing to say, and read the same
// through the host kernel's own mount.
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { fsck, pattern, run, tempDir } from '../helpers/tree.mjs';
import { hostCanMount, loopMount } from '../helpers/cli.mjs';

t.setTimeout(240_000);

const dir = tempDir(t);
const img = join(dir, 'xfs.img');
run('truncate', ['-s', '300M', img]);
run('mkfs.xfs', ['-q', '-f', img]);

// Sizes around the page and the block, up to the largest value Linux takes.
const VALUES = [4000, 4096, 8192, 12_345, 65_536].map((size, i) => [`user.v${size}`, pattern(size, i)]);

// One kernel per process: this one writes, a child's reads back.
const kernel = Kernel.boot();
t.teardown(() => kernel.halt());

const READ_BACK = `
import { Kernel } from ${JSON.stringify(new URL('../../dist/src/index.js', import.meta.url).href)};
const kernel = Kernel.boot();
const m = await kernel.mount(await kernel.addDisk(process.argv[1], { readOnly: true }), { readOnly: true });
const out = {};
for (const file of ['/d/a', '/d/b'])
	for (const key of await m.listxattr(file))
		out[file + ' ' + key] = (await m.getxattr(file, key)).toString('base64');
await m.unmount();
await kernel.halt();
process.stdout.write(JSON.stringify(out));
`;

function readBack() {
	const r = spawnSync(process.execPath, ['--input-type=module', '-e', READ_BACK, img], { encoding: 'utf8', maxBuffer: 16 << 20 });
	if (r.status !== 0)
		throw new Error(`reading back failed: ${r.stderr}`);
	return new Map(Object.entries(JSON.parse(r.stdout)).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

t.test('xattrs of several pages are written and read back whole', async (t) => {
	const disk = await kernel.addDisk(img);
	const m = await kernel.mount(disk);
	await m.mkdir('/d');
	for (const name of ['/d/a', '/d/b'])
		await m.writeFile(name, 'x');
	for (const [key, value] of VALUES) {
		await m.setxattr('/d/a', key, value);
		await m.setxattr('/d/b', key, value);
	}
	// Replaced by a value of another size, and removed: the old blocks
	// are given back.
	await m.setxattr('/d/b', 'user.v65536', pattern(20_000, 9));
	await m.removexattr('/d/b', 'user.v8192');
	t.same(await m.getxattr('/d/a', 'user.v65536'), VALUES.at(-1)[1], 'read back by the kernel that wrote it');
	await m.unmount();
	await kernel.removeDisk(disk);

	const check = fsck('xfs', img);
	t.ok(check.ok, 'xfs_repair -n finds nothing', { output: check.output });

	const read = readBack();
	for (const [key, value] of VALUES)
		t.same(read.get(`/d/a ${key}`), value, `${key} read back by a fresh kernel`);
	t.same(read.get('/d/b user.v65536'), pattern(20_000, 9), 'the replaced value');
	t.notOk(read.has('/d/b user.v8192'), 'the removed one is gone');
});

t.test('the host kernel reads the same values', { skip: !hostCanMount('xfs') && 'the host kernel has no xfs' }, async (t) => {
	const mnt = loopMount(t, img, dir);
	for (const [key, value] of VALUES) {
		const r = spawnSync('getfattr', ['--only-values', '-n', key, join(mnt, 'd/a')], { maxBuffer: 1 << 20 });
		t.equal(r.status, 0, `getfattr ${key}`);
		t.ok(r.stdout.equals(value), `${key} as the host reads it`);
	}
});

