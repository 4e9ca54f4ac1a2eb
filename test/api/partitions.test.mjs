// Partitions: a GPT disk holding an ext4 and a vfat partition, each made
// as an image of its own and copied into place; both mount with their
// type recognised, and writes stay inside their partition.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { buildGpt, buildImage, fsck, makeTree, run, tempDir } from '../helpers/tree.mjs';

t.setTimeout(120_000);

const dir = tempDir(t);
const tree = makeTree(join(dir, 'tree'), 'vfat').root;
const ext4 = buildImage('ext4', tree, join(dir, 'p1.img'), 32);
const vfat = buildImage('vfat', tree, join(dir, 'p2.img'), 40);
const sizes = [fs.statSync(ext4).size, fs.statSync(vfat).size];
const gpt = join(dir, 'gpt.img');
const offsets = buildGpt(gpt, [ext4, vfat], ['8300', '0700']);

// One partition back out of the disk, for its fsck.
function extract(n, out) {
	run('dd', [`if=${gpt}`, `of=${out}`, 'bs=1M', 'iflag=skip_bytes,count_bytes',
		`skip=${offsets[n - 1]}`, `count=${sizes[n - 1]}`, 'conv=sparse', 'status=none']);
	return out;
}

const kernel = Kernel.boot();
t.teardown(() => kernel.halt());

t.test('both partitions mount with their type recognised', async (t) => {
	const disk = await kernel.addDisk(gpt);
	await t.rejects(kernel.mount(disk), { code: 'ENODEV' }, 'the whole disk holds no filesystem');
	await t.rejects(kernel.mount(disk, { partition: 3 }), { code: 'ENOENT' }, 'there is no third partition');
	const [one, two] = await Promise.all([
		kernel.mount(disk, { partition: 1 }),
		kernel.mount(disk, { partition: 2 }),
	]);
	t.equal(one.fsType, 'ext4');
	t.equal(two.fsType, 'vfat');
	t.equal(one.partition, 1);
	t.equal(two.partition, 2);
	t.not(one.path, two.path);
	for (const m of [one, two]) {
		t.equal(await m.readFile('hello.txt', 'utf8'), 'Hello, world!\n', `${m.fsType}: contents`);
		t.same(await m.readFile('big.bin'), fs.readFileSync(join(tree, 'big.bin')));
		t.same((await m.readdir('dir/sub/deeper')), ['leaf.txt']);
	}
	await t.rejects(kernel.mount(disk, { partition: 1 }), { code: 'EBUSY' });

	await one.writeFile('written-1.txt', 'one\n');
	await two.writeFile('written-2.txt', 'two\n');
	await two.mkdir('new-dir/inner', { recursive: true });
	await one.rm('many', { recursive: true });
	await Promise.all([one.unmount(), two.unmount()]);
	await kernel.removeDisk(disk);

	const e = fsck('ext4', extract(1, join(dir, 'out1.img')));
	t.ok(e.ok, 'partition 1: e2fsck', { output: e.output });
	const v = fsck('vfat', extract(2, join(dir, 'out2.img')));
	t.ok(v.ok, 'partition 2: fsck.vfat', { output: v.output });
	const table = run('sgdisk', ['-v', gpt]);
	t.match(table, /No problems found/, 'the partition table is intact');

	const again = await kernel.addDisk(gpt, { readOnly: true });
	const [r1, r2] = [await kernel.mount(again, { partition: 1 }), await kernel.mount(again, { partition: 2 })];
	t.equal(await r1.readFile('written-1.txt', 'utf8'), 'one\n');
	t.equal(await r2.readFile('written-2.txt', 'utf8'), 'two\n');
	t.ok((await r2.stat('new-dir/inner')).isDirectory());
	await t.rejects(r1.stat('many'), { code: 'ENOENT' });
	t.ok(await r2.stat('many/f000'), 'partition 2 kept what partition 1 lost');
	await r1.unmount();
	await r2.unmount();
});
